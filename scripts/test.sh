#!/usr/bin/env bash
# Runs every test. Installs what it needs itself (wasm32 target, wasm-bindgen-cli, npm packages,
# Debian's chromium and postgresql). Exit status non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==> %s\n' "$*"; }

step "Rust: formatting and lints (cargo fmt --check, cargo clippy -D warnings)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "PostgreSQL: a throwaway server for the store suite and the replica tests (scripts/pg.sh)"
# Debian's postgresql is installed when missing; initdb into a temporary directory, a free port
# on 127.0.0.1, removed when this script ends (whatever the outcome). Tests that stop PostgreSQL
# start a cluster of their own (gdlens_store::testing).
PG_DIR="$(mktemp -d /tmp/gdlens-test-pg.XXXXXX)"
trap './scripts/pg.sh stop "$PG_DIR"' EXIT
GDLENS_TEST_PG_URL="$(./scripts/pg.sh start "$PG_DIR")"
export GDLENS_TEST_PG_URL

step "Rust: unit, property, snapshot and end-to-end tests (cargo test --workspace), fuzz corpus replay included"
cargo test --workspace --locked

step "WASM: build the scoring package and check native/WASM parity under Node"
./scripts/build-wasm.sh
# The Arrow IPC parity test decodes with web's pinned apache-arrow.
(cd web && npm ci --no-audit --no-fund --loglevel=error)
node --test tests/wasm/

step "Web: build the frontend and test it in headless Chromium against a real server"
./scripts/ensure-chromium.sh
cargo build -p gdlens --locked
# The WASM package was built above; the Vite bundle picks it up.
(cd web && npm run build)
GDLENS_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/gdlens" WEB_TEST_SKIP_BUILD=1 ./scripts/web-test.sh
