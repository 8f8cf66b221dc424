#!/usr/bin/env bash
# Before/after scaled-mode load: runs bench/scaled_bench.sh with revision BASE (exported to a
# temporary directory) and with this tree in alternation (base, tree, base, tree, ...),
# ROUNDS times, and prints each run's figures and, per figure, the median, min and max of
# the paired ratios tree/base. Pairing keeps a ratio meaningful on a shared, noisy machine;
# each side runs its own load generator, so the ratio covers the whole path (ingest,
# broadcast, daphne, consumer, generator).
# Usage: bench/scaled_ab.sh [BASE] [ROUNDS] [CLIENTS] [DURATION_S]
#        (defaults e6f4ff2, 3, 1000, 30; needs the venv, PostgreSQL and redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-e6f4ff2}
ROUNDS=${2:-3}
CLIENTS=${3:-1000}
DURATION=${4:-30}
BASEDIR=$(mktemp -d)
RESULTS=$(mktemp -d)
trap 'rm -rf "$BASEDIR" "$RESULTS"' EXIT
git archive "$BASE" | tar -x -C "$BASEDIR"
ln -s "$PWD/.venv" "$BASEDIR/.venv"

run() {  # run DIR NAME -> writes $RESULTS/NAME.json
  (cd "$1" && OUT="$RESULTS/$2.json" bench/scaled_bench.sh "$CLIENTS" "$DURATION" >/dev/null 2>&1)
}

figures() {  # figures JSON -> "event_p99 snapshot_p99 msg_per_s behind missing daphne_cpu"
  .venv/bin/python - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency"]
web = sum(p["cpu_pct"] for p in r["processes"] if "daphne" in p["cmd"])
print(lat.get("event", {}).get("p99_ms"), lat.get("snapshot", {}).get("p99_ms"),
      r["messages_per_s"], r["clients_behind"], r["events_missing"], round(web, 1))
EOF
}

echo "base $BASE vs tree $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty):" \
  "$ROUNDS rounds of $CLIENTS clients for $DURATION s"
echo "run          event_p99_ms snapshot_p99_ms msg_per_s behind missing daphne_cpu_pct"
for i in $(seq "$ROUNDS"); do
  run "$BASEDIR" "base-$i"
  echo "base  $i      $(figures "$RESULTS/base-$i.json")"
  run "$PWD" "tree-$i"
  echo "tree  $i      $(figures "$RESULTS/tree-$i.json")"
done
.venv/bin/python - "$RESULTS" "$ROUNDS" <<'EOF'
import json, statistics, sys
from pathlib import Path
results, rounds = Path(sys.argv[1]), int(sys.argv[2])
def load(name):
    r = json.loads((results / f"{name}.json").read_text())
    return {"event p99": r["latency"].get("event", {}).get("p99_ms"),
            "snapshot p99": r["latency"].get("snapshot", {}).get("p99_ms"),
            "messages/s": r["messages_per_s"],
            "daphne CPU %": sum(p["cpu_pct"] for p in r["processes"] if "daphne" in p["cmd"])}
pairs = [(load(f"base-{i}"), load(f"tree-{i}")) for i in range(1, rounds + 1)]
for key in ("event p99", "snapshot p99", "messages/s", "daphne CPU %"):
    ratios = sorted(t[key] / b[key] for b, t in pairs if b[key] and t[key])
    if ratios:
        print(f"  {key} tree/base: median {statistics.median(ratios):.3f} "
              f"(min {ratios[0]:.3f}, max {ratios[-1]:.3f})")
EOF
