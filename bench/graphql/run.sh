#!/usr/bin/env bash
# HTTP benchmark of the GraphQL API on loopback with wrk (apt-get install wrk).
# Same server, same run: { __typename }, the cached dashboard summary, a page of 50 findings with
# 15 fields (cached), and the same page with a varying filter (every request a cache miss).
# Usage: bench/graphql/run.sh [FINDINGS] [DURATION_SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
FINDINGS=${1:-20000}
DURATION=${2:-10}
CONNS=${3:-32}
PORT=${PORT:-18080}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/targets/api}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
python3 tests/graphql/fixtures/make_findings.py --count "$FINDINGS" --accounts 60 --out "$tmp/findings.ndjson" >/dev/null
cargo build -q --release -p gdlens-api --example bench_server
"$CARGO_TARGET_DIR/release/examples/bench_server" "$tmp/findings.ndjson" "127.0.0.1:$PORT" 2>"$tmp/server.log" &
server=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$tmp/server.log"; exit 1; }

run() { # name body script
  BODY="bench/graphql/$2" wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "bench/graphql/$3" "http://127.0.0.1:$PORT/graphql" >"$tmp/$1.txt"
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/$1.txt")
  errs=$(awk '/Non-2xx/ {print $NF}' "$tmp/$1.txt"); errs=${errs:-0}
  printf '| %-28s | %10s | %8s | %8s | %6s |\n' "$1" "$rps" "$p50" "$p99" "$errs"
  eval "RPS_$1=$rps"
}
# Warm the caches once.
for b in summary.json page50.json; do curl -sf -H 'content-type: application/json' --data @"bench/graphql/$b" "http://127.0.0.1:$PORT/graphql" >/dev/null; done

echo "findings: $(grep -c . "$tmp/findings.ndjson"), wrk -t2 -c$CONNS -d${DURATION}s, $(nproc) cores, $(date -u +%FT%TZ)"
echo
echo "| query                        |  req/s     |  p50     |  p99     | non-2xx |"
echo "|------------------------------|-----------:|---------:|---------:|-------:|"
run typename typename.json post.lua
run summary_cached summary.json post.lua
run page50_cached page50.json post.lua
run page50_uncached page50.json post_varying.lua
echo
python3 - "$RPS_typename" "$RPS_summary_cached" "$RPS_page50_cached" "$RPS_page50_uncached" <<'PY'
import sys
t, s, p, u = map(float, sys.argv[1:])
print(f"cached summary / __typename = {s / t:.1%} (goal >= 80%)")
print(f"page of 50 (cached) = {p:,.0f} req/s, uncached = {u:,.0f} req/s (goal >= 3,000)")
PY
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^gdlens_cache_(hits|misses)_total' || true
