#!/usr/bin/env bash
# The serving core at scale: `gdlens serve --no-demo` on a store of N generated findings.
# Records the time to ready, resident memory (idle, after each load, peak), and req/s of every
# uncached query (the filter changes on every request: bench/graphql/varying.lua) next to a bare
# `{ __typename }` in the same run. Optional soak: SOAK_SECONDS of the varying scripts in turn,
# sampling RSS every 10 s (the memory-bounded-under-load check).
#
# Usage: bench/serve/run.sh [FINDINGS] [DURATION_SECONDS] [CONNECTIONS]
#   env: WORK (default /tmp/gdlens-bench), SOAK_SECONDS (default 0), PORT (default 18090),
#        VISIBILITY_ROUNDS (default 0: rounds of bench/serve/visibility.py, 1,000 findings each)
# Needs wrk (apt-get install wrk) and a release build (cargo build --release -p gdlens).
set -euo pipefail
cd "$(dirname "$0")/../.."
FINDINGS=${1:-1000000}
DURATION=${2:-10}
CONNS=${3:-16}
PORT=${PORT:-18090}
WORK=${WORK:-/tmp/gdlens-bench}
SOAK_SECONDS=${SOAK_SECONDS:-0}
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/gdlens"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "build first: cargo build --release -p gdlens" >&2; exit 1; }
mkdir -p "$WORK"

data="$WORK/store-$FINDINGS"
input="$WORK/findings-$FINDINGS.ndjson"
if [ ! -f "$data/gdlens.db" ]; then
  if [ -f "$input" ]; then
    "$BIN" import --json --data-dir "$data" "$input" >/dev/null
  else
    # Piped: 10M findings are ~24 GB of NDJSON, never written to disk.
    "$BIN" generate --seed 1 --accounts 80 --regions 4 --findings "$FINDINGS" \
      --now 2026-11-28T00:00:00Z --out - | "$BIN" import --json --data-dir "$data" - >/dev/null
  fi
fi

log="$WORK/server-$FINDINGS.log"
start=$(date +%s.%N)
GDLENS_LOG=warn "$BIN" serve --no-demo --data-dir "$data" --listen "127.0.0.1:$PORT" --web-dir /nonexistent 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
ready=$(echo "$(date +%s.%N) - $start" | bc)
rss() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }
hwm() { awk '/^VmHWM/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }
# Once ready, the server computes the all-accounts view (scores, priority order) ahead of the first
# dashboard request: idle memory is taken after it, and after the allocator has returned the
# start-up's transient buffers (IDLE_SETTLE seconds, default 5).
for _ in $(seq 600); do
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^gdlens_all_view_bytes [1-9]' && break
  sleep 0.1
done
sleep "${IDLE_SETTLE:-5}"
idle=$(rss)

echo "findings: $FINDINGS, wrk -t2 -c$CONNS -d${DURATION}s, $(nproc) cores, $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ready after start: ${ready} s; resident memory idle: ${idle} MB (peak during start ${start_hwm:-$(hwm)} MB)"
echo
echo "| query (uncached unless noted)      |  req/s   |  p50     |  p99     | non-2xx | RSS after |"
echo "|------------------------------------|---------:|---------:|---------:|--------:|----------:|"
run() { # name body script
  BODY="bench/serve/$2" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "bench/graphql/$3" \
    "http://127.0.0.1:$PORT/graphql" >"$WORK/$1.txt" 2>&1
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$WORK/$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$1.txt")
  errs=$(awk '/Non-2xx/ {print $NF}' "$WORK/$1.txt"); errs=${errs:-0}
  printf '| %-34s | %8s | %8s | %8s | %7s | %6s MB |\n' "$1" "$rps" "$p50" "$p99" "$errs" "$(rss)"
}
run "typename (cached)" typename.json post.lua
run summary summary_varying.json varying.lua
run "page 50 by PRIORITY" page_priority_varying.json varying.lua
run "page 50 by UPDATED_AT" page_updated_varying.json varying.lua
run "search page 50" search_varying.json varying.lua
run "findingGroups(first: 20)" groups_varying.json varying.lua
echo
echo "single requests (ms, curl total time, uncached):"
for b in summary_varying page_priority_varying search_varying groups_varying; do
  body=$(sed "s/@SEV@/1.$RANDOM/" "bench/serve/$b.json")
  t=$(curl -s -o /dev/null -w '%{time_total}' -H 'content-type: application/json' --data "$body" "http://127.0.0.1:$PORT/graphql")
  printf '  %-24s %6.1f ms\n' "$b" "$(echo "$t * 1000" | bc)"
done
echo "resident memory after the runs: $(rss) MB, peak $(hwm) MB"

VISIBILITY_ROUNDS=${VISIBILITY_ROUNDS:-0}
if [ "$VISIBILITY_ROUNDS" -gt 0 ]; then
  echo
  echo "a batch of 1,000 changed findings (setTriage), then the dashboard's reads:"
  python3 bench/serve/visibility.py "http://127.0.0.1:$PORT/graphql" "$VISIBILITY_ROUNDS" 1000 | sed 's/^/  /'
fi

if [ "$SOAK_SECONDS" -gt 0 ]; then
  echo
  echo "soak: ${SOAK_SECONDS} s of the varying scripts in turn; RSS every 10 s (MB):"
  end=$(( $(date +%s) + SOAK_SECONDS ))
  bodies=(summary_varying.json page_priority_varying.json page_updated_varying.json search_varying.json groups_varying.json)
  i=0
  curve="$(rss)"
  while [ "$(date +%s)" -lt "$end" ]; do
    BODY="bench/serve/${bodies[$((i % 5))]}" wrk -t2 -c"$CONNS" -d10s -s bench/graphql/varying.lua \
      "http://127.0.0.1:$PORT/graphql" >/dev/null 2>&1
    curve="$curve $(rss)"
    i=$((i + 1))
  done
  echo "  $curve"
  echo "  idle $idle MB, end $(rss) MB, peak $(hwm) MB"
fi
