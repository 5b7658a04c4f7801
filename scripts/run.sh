#!/usr/bin/env bash
# Runs the main job: `gdlens serve` on generated demo data in ./.gdlens (no AWS needed).
# Builds the WASM scoring module and the web frontend first, installing what they need.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-web.sh
exec cargo run --release -p gdlens -- serve "$@"
