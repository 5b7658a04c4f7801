#!/usr/bin/env bash
# Browser tests of the web frontend: builds it (npm ci, the WASM scoring package, vite), starts
# `gdlens serve` on generated demo data in a fresh data dir on a free loopback port, runs
# web/e2e/*.test.mjs in Debian's headless Chromium (playwright-core), then stops the server.
# web/e2e/auth.test.mjs runs a second server with authentication on (OIDC against a local test
# issuer it starts) to test sign-in.
# Screenshots land in tests/artifacts/web/. Env: GDLENS_BIN (default target/debug/gdlens),
# WEB_TEST_SKIP_BUILD=1 to reuse an existing web/dist.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GDLENS_BIN=${GDLENS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/gdlens}

./scripts/ensure-chromium.sh
if [ "${WEB_TEST_SKIP_BUILD:-0}" != 1 ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  if [ -x scripts/build-wasm.sh ]; then ./scripts/build-wasm.sh; fi
  (cd web && npm run build)
fi
if [ ! -x "$GDLENS_BIN" ]; then
  echo "web-test: no gdlens binary at $GDLENS_BIN (build it with: cargo build -p gdlens)" >&2
  exit 1
fi

DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gdlens-web-test.XXXXXX")
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
URL="http://127.0.0.1:$PORT"
LOG="$DATA_DIR/serve.log"
mkdir -p tests/artifacts/web

"$GDLENS_BIN" serve --data-dir "$DATA_DIR" --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  cp "$LOG" "$ROOT/tests/artifacts/web/serve.log" 2>/dev/null || true
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

# Demo data is generated and imported at first start: allow it time, fail fast if the server dies.
for _ in $(seq 1 600); do
  if curl -fsS "$URL/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null || grep -q "start-up build failed" "$LOG"; then
    echo "web-test: gdlens serve failed before it was ready; its log:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "$URL/readyz" >/dev/null || { echo "web-test: $URL/readyz not ready after 300 s" >&2; tail -50 "$LOG" >&2; exit 1; }

cd web
# auth.test.mjs starts its own server (OIDC on, against a test issuer it runs) with this binary.
GDLENS_BIN="$(realpath "$GDLENS_BIN")" GDLENS_URL="$URL" GDLENS_ARTIFACTS="$ROOT/tests/artifacts/web" node --test --test-concurrency=1 e2e/*.test.mjs
