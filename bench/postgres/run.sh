#!/usr/bin/env bash
# PostgreSQL (issue 18): bulk import rate into a throwaway cluster, two `gdlens serve` replicas on
# it (ready time, resident memory), and how long a change made through one replica (a triage) or
# by the CLI (an import of 1,000 new findings) takes to show in the other replica's index.
#
# Usage: bench/postgres/run.sh [FINDINGS]
#   env: WORK (default /tmp/gdlens-bench-pg), PG_FSYNC (default on: a durable cluster; off is
#   what the tests use), PG_OPTS (more server settings, e.g. "-c max_wal_size=4GB"), TRIALS (default 20)
# Needs a release build (cargo build --release -p gdlens) and Debian's postgresql.
set -euo pipefail
cd "$(dirname "$0")/../.."
FINDINGS=${1:-1000000}
WORK=${WORK:-/tmp/gdlens-bench-pg}
TRIALS=${TRIALS:-20}
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/gdlens"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p gdlens" >&2; exit 1; }
mkdir -p "$WORK"

pg="$WORK/pg"
scripts/pg.sh stop "$pg"
url=$(PG_FSYNC=${PG_FSYNC:-on} PG_OPTS=${PG_OPTS:-} scripts/pg.sh start "$pg")
servers=()
cleanup() {
  for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/pg.sh stop "$pg"
}
trap cleanup EXIT

input="$WORK/findings-$FINDINGS.ndjson"
[ -f "$input" ] || "$BIN" generate --seed 1 --accounts 80 --regions 4 --findings "$FINDINGS" \
  --now 2026-11-28T00:00:00Z --out "$input"
extra="$WORK/extra-1000.ndjson"
[ -f "$extra" ] || "$BIN" generate --seed 2 --accounts 80 --regions 4 --findings 1000 \
  --now 2026-11-29T00:00:00Z --out "$extra"

echo "findings: $FINDINGS, $(nproc) cores, $(date -u +%FT%TZ), load: $(cut -d" " -f1-3 /proc/loadavg), fsync=${PG_FSYNC:-on} ${PG_OPTS:-}"
start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$WORK/import.rss" "$BIN" import --json --store-url "$url" --data-dir "$WORK/cli" "$input" >"$WORK/import.json"
secs=$(echo "$(date +%s.%N) - $start" | bc)
printf 'import: %.1f s, %.0f findings/s, peak RSS %.0f MB, database %s\n' "$secs" \
  "$(echo "$FINDINGS / $secs" | bc -l)" "$(echo "$(cat "$WORK/import.rss") / 1024" | bc -l)" \
  "$(runuser -u postgres -- psql -h "$pg" -p "$(echo "$url" | sed 's/.*:\([0-9]*\)\/.*/\1/')" -U postgres -Atc "SELECT pg_size_pretty(pg_database_size('postgres'))" 2>/dev/null || echo '?')"

ports=(18121 18122)
for i in 0 1; do
  t0=$(date +%s.%N)
  GDLENS_LOG=warn "$BIN" serve --no-demo --store-url "$url" --data-dir "$WORK/replica-$i" \
    --listen "127.0.0.1:${ports[$i]}" --web-dir /nonexistent 2>"$WORK/replica-$i.log" &
  servers+=($!)
  until curl -sf "http://127.0.0.1:${ports[$i]}/readyz" >/dev/null 2>&1; do
    kill -0 "${servers[$i]}" 2>/dev/null || { cat "$WORK/replica-$i.log"; exit 1; }
    sleep 0.1
  done
  printf 'replica %d ready after %.1f s, resident %s MB\n' "$i" "$(echo "$(date +%s.%N) - $t0" | bc)" \
    "$(awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/${servers[$i]}/status")"
done

python3 bench/postgres/propagation.py "http://127.0.0.1:${ports[0]}/graphql" \
  "http://127.0.0.1:${ports[1]}/graphql" "$TRIALS" "$BIN" "$url" "$extra" "$WORK/cli"
