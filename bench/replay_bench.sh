#!/usr/bin/env bash
# Replay benchmark (issue: >= 100k ticks/s on one core, per-tick cost independent of window).
# Generates two 1M-tick streams and replays each with 5-minute and 60-minute windows, the
# correlation matrix of all 20 symbols (190 pairs) recomputed every 2 s of event time.
#   dense:     20 symbols at 7x realistic rates, ~1 hour of event time (a busy feed)
#   realistic: 18 symbols at realistic rates, ~8 hours of event time (event time is compressed
#              ~6000x, so the 2-second matrix refresh dominates: see README Performance)
# Usage: bench/replay_bench.sh [OUTDIR]   (needs the venv: make test or make run first)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/pulse-bench}
mkdir -p "$OUT"
PY=.venv/bin/python
SYMS=stocks:AAPL,stocks:MSFT,stocks:NVDA,stocks:TSLA,stocks:AMZN,stocks:GOOGL,stocks:META,stocks:SPY,stocks:AMD,forex:EURUSD,forex:GBPUSD,forex:USDJPY,forex:AUDUSD,forex:USDCHF,crypto:BTC-USD,crypto:ETH-USD,crypto:SOL-USD,crypto:XRP-USD,crypto:DOGE-USD,crypto:ADA-USD
W5=(--engine-option 'return_horizons=[60,300]' --engine-option vol_window=300
    --engine-option trend_window=300 --corr-window 300)
W60=(--engine-option 'return_horizons=[60,300,900,3600]' --engine-option vol_window=3600
     --engine-option trend_window=3600 --corr-window 3600)

$PY manage.py gen_ticks "$OUT/dense.ndjson.gz" --ticks 1000000 --seed 7 --rate-scale 7 \
    --symbols "$SYMS" --start 2026-01-05T15:00:00Z
$PY manage.py gen_ticks "$OUT/realistic.ndjson.gz" --ticks 1000000 --seed 7 \
    --start 2026-01-05T15:00:00Z

for stream in dense realistic; do
  for w in 5 60; do
    if [ "$w" = 5 ]; then opts=("${W5[@]}"); else opts=("${W60[@]}"); fi
    echo "== $stream stream, $w-minute windows"
    $PY manage.py replay "$OUT/$stream.ndjson.gz" --speed max --no-progress "${opts[@]}" \
        --summary "$OUT/$stream-$w.json"
  done
done
