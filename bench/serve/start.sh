#!/usr/bin/env bash
# Start-up of `gdlens serve --no-demo` on an existing data directory: time to /readyz, resident
# memory one second after ready, then SIGTERM (a graceful stop writes the start-up snapshot when
# the store moved). Run it twice on a fresh store: the first start builds from the store, the
# second reads the start-up snapshot (ARCHITECTURE.md "Start-up").
#
# Usage: bench/serve/start.sh BIN DATA_DIR [PORT]
set -euo pipefail
BIN=${1:?usage: start.sh BIN DATA_DIR [PORT]}
DATA=${2:?usage: start.sh BIN DATA_DIR [PORT]}
PORT=${3:-18095}
log="$DATA/../start-$PORT.log"
start=$(date +%s.%N)
GDLENS_LOG=info "$BIN" serve --no-demo --data-dir "$DATA" --listen "127.0.0.1:$PORT" --web-dir /nonexistent 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.05
done
ready=$(echo "$(date +%s.%N) - $start" | bc)
sleep 1
rss=$(awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$server/status")
hwm=$(awk '/^VmHWM/ {printf "%.0f", $2/1024}' "/proc/$server/status")
echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg): ready after ${ready} s, resident ${rss} MB one second later (peak ${hwm} MB)"
grep -o 'start-up snapshot [a-z]*[^"]*' "$log" | head -3 || true
kill -TERM $server
wait $server 2>/dev/null || true
trap - EXIT
