#!/usr/bin/env bash
# Scaled-mode load benchmark: a private redis-server, a throwaway PostgreSQL database, one
# ingest process (simulator) and two daphne processes; `manage.py loadtest` opens CLIENTS
# WebSocket clients split across both daphnes, then everything is stopped and dropped.
#
#   bench/scaled_bench.sh [CLIENTS] [DURATION_S]        (defaults 1000 and 30)
#
# Env: PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/test), SHARDS (default 1),
# RATE_SCALE (simulator tick rate multiplier, default 1), EVENT_COOLDOWN (seconds between two
# stress events of one symbol and kind, default 10), OUT (JSON report path); any
# PULSE_* setting (e.g. PULSE_FLUSH_INTERVAL=1) is passed through to every process;
# ASGI_APP (default pulse_site.asgi:application) lets an experiment wrap the app.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-1000}
DURATION=${2:-30}
SHARDS=${SHARDS:-1}
PY=.venv/bin/python
PG_ADMIN_URL=${PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/test}
DB=test_pulse_bench_$$
LOGS=$(mktemp -d /tmp/pulse-bench.XXXX)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 || true
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port); WEB1=$(free_port); WEB2=$(free_port); MET=$(free_port)

export DATABASE_URL="${PG_ADMIN_URL%/*}/$DB" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DEBUG=0 SECRET_KEY="bench-$(openssl rand -hex 16 2>/dev/null || echo $$)" \
  ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0 SIMULATOR_HISTORY=120 \
  SIMULATOR_RATE_SCALE=${RATE_SCALE:-1} LOG_LEVEL=WARNING
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  $PY -c "import psycopg; c=psycopg.connect('$PG_ADMIN_URL', autocommit=True); c.execute('DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)')" || true
  echo "logs: $LOGS"
}
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no >"$LOGS/redis.log" 2>&1 & PIDS+=($!)
$PY -c "import psycopg; c=psycopg.connect('$PG_ADMIN_URL', autocommit=True); c.execute('CREATE DATABASE \"$DB\"')"
$PY manage.py migrate --noinput >"$LOGS/migrate.log"
# Stress events every few seconds: percent thresholds far below the defaults, so the
# benchmark measures event delivery, not just snapshots (engine options, see README Metrics).
EVENTS='{"crypto":{"move_1m":[0.01,0.02],"move_5m":[0.02,0.04]},"stocks":{"move_1m":[0.01,0.02],"move_5m":[0.02,0.04]},"forex":{"move_1m":[0.005,0.01],"move_5m":[0.01,0.02]}}'
for ((i = 0; i < SHARDS; i++)); do
  $PY manage.py runpulse --shard "$i/$SHARDS" --metrics "127.0.0.1:$((MET + i))" \
    --engine-option 'threshold_mode="percent"' --engine-option "move_pct=$EVENTS" \
    --engine-option "cooldown=${EVENT_COOLDOWN:-10}" \
    >"$LOGS/ingest-$i.log" 2>&1 & PIDS+=($!)
done
for port in "$WEB1" "$WEB2"; do
  .venv/bin/daphne -b 127.0.0.1 -p "$port" "${ASGI_APP:-pulse_site.asgi:application}" \
    >"$LOGS/daphne-$port.log" 2>&1 & PIDS+=($!)
done
for port in "$WEB1" "$WEB2"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || {
    echo "daphne on port $port did not start:"; tail -5 "$LOGS/daphne-$port.log"; exit 1; }
done
sleep 3  # first snapshots and keyframes
echo "processes: ${PIDS[*]} (redis, ingest x$SHARDS, daphne x2)"
$PY manage.py loadtest --clients "$CLIENTS" --duration "$DURATION" --users 20 \
  --url "ws://127.0.0.1:$WEB1/ws/pulse/,ws://127.0.0.1:$WEB2/ws/pulse/" \
  --pids "$(IFS=,; echo "${PIDS[*]}")" ${OUT:+--json "$OUT"}
curl -s "http://127.0.0.1:$MET/metrics" | grep -E '^pulse_(ingest_ticks|events|engine_lag|broadcast|queue_depth|snapshot)' || true
