#!/usr/bin/env bash
# Before/after replay throughput on the README's streams (issue #12: the whole dirty-data work
# may cost at most 15%). Exports revision BASE (default: the commit before issue #12's work)
# into a temporary directory and replays each stream with both trees in alternation
# (base, tree, base, tree, ...), ROUNDS times, with bench/replay_bench.sh's options, printing
# every run's ticks/s and, per configuration, the median, min and max of the paired ratios
# tree/base. Pairing keeps the ratio meaningful on a shared, noisy machine.
# Usage: bench/replay_ab.sh [BASE] [ROUNDS] [STREAMDIR]   (needs the venv and the streams of
#        bench/replay_bench.sh in STREAMDIR, default /tmp/pulse-bench; they are made if absent)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-d3203a6}
ROUNDS=${2:-5}
OUT=${3:-/tmp/pulse-bench}
PY=$PWD/.venv/bin/python
BASEDIR=$(mktemp -d)
trap 'rm -rf "$BASEDIR"' EXIT
git archive "$BASE" | tar -x -C "$BASEDIR"
if [ ! -f "$OUT/dense.ndjson.gz" ] || [ ! -f "$OUT/realistic.ndjson.gz" ]; then
  bench/replay_bench.sh "$OUT" >/dev/null
fi
W5=(--engine-option 'return_horizons=[60,300]' --engine-option vol_window=300
    --engine-option trend_window=300 --corr-window 300)
W60=(--engine-option 'return_horizons=[60,300,900,3600]' --engine-option vol_window=3600
     --engine-option trend_window=3600 --corr-window 3600)

rate() {  # rate DIR STREAM WINDOW -> ticks/s of one replay run
  local dir=$1 stream=$2 w=$3 opts
  if [ "$w" = 5 ]; then opts=("${W5[@]}"); else opts=("${W60[@]}"); fi
  (cd "$dir" && "$PY" manage.py replay "$OUT/$stream.ndjson.gz" --speed max --no-progress \
      "${opts[@]}" --summary /dev/null 2>/dev/null) \
    | awk '/ticks per second:/ {print $NF}'
}

echo "base $BASE vs tree $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty), $ROUNDS rounds"
for stream in dense realistic; do
  for w in 5 60; do
    ratios=()
    line="$stream $w-min: "
    for _ in $(seq "$ROUNDS"); do
      b=$(rate "$BASEDIR" "$stream" "$w")
      t=$(rate "$PWD" "$stream" "$w")
      ratios+=("$(awk -v t="$t" -v b="$b" 'BEGIN {printf "%.3f", t / b}')")
      line+="$b->$t "
    done
    echo "$line"
    printf '%s\n' "${ratios[@]}" | sort -n | awk -v name="$stream $w-min" '
      {r[NR] = $1} END {m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2;
        printf "  %s tree/base ticks/s: median %.3f (min %.3f, max %.3f)\n", name, m, r[1], r[NR]}'
  done
done
