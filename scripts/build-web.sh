#!/usr/bin/env bash
# Builds web/dist: the WASM scoring package (scripts/build-wasm.sh) and the Vite bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-wasm.sh
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
