#!/usr/bin/env bash
# Builds the WASM scoring package (crates/gdlens-scoring-wasm) into
#   web/src/wasm/     --target web     (imported by the frontend)
#   tests/wasm/pkg/   --target nodejs  (native/WASM parity tests: node --test tests/wasm/)
# Idempotent; installs what it needs: the wasm32 target, wasm-bindgen-cli at exactly the version
# pinned in Cargo.toml, and wasm-opt (npm's binaryen, pinned). Generated files are not
# committed (each output folder carries a .gitignore).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

log() { printf 'build-wasm: %s\n' "$*" >&2; }

# 1. The wasm32 target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen CLI = the pinned crate version (the JS glue and the .wasm must agree).
WB_VERSION="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' Cargo.toml)"
if [ -z "$WB_VERSION" ]; then
  log "cannot find the exact wasm-bindgen pin (wasm-bindgen = \"=X.Y.Z\") in Cargo.toml"
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  log "installing wasm-bindgen-cli $WB_VERSION (takes a few minutes once)"
  # --locked first; if the registry no longer serves one of the CLI's locked dependencies,
  # resolve them afresh (the CLI version itself stays exact).
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked \
    || cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# 3. wasm-opt for the size target: npm's binaryen at a pinned version (Debian bookworm's binaryen
# 108 cannot parse the reference-types/bulk-memory instructions today's rustc emits).
BINARYEN_VERSION=132.0.0
TOOLS="$ROOT/target/wasm-tools"
WASM_OPT="$TOOLS/node_modules/.bin/wasm-opt"
if [ "$("$WASM_OPT" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  log "installing binaryen@$BINARYEN_VERSION (npm) for wasm-opt into $TOOLS"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error --no-save "binaryen@$BINARYEN_VERSION" >/dev/null
fi

# 4. Compile (profile `wasm` in Cargo.toml: opt-level s, fat LTO, panic=abort).
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
log "cargo build -p gdlens-scoring-wasm --target wasm32-unknown-unknown --profile wasm"
cargo build -p gdlens-scoring-wasm --target wasm32-unknown-unknown --profile wasm
WASM="$TARGET_DIR/wasm32-unknown-unknown/wasm/gdlens_scoring_wasm.wasm"

# 5. Bind and optimize, for the browser and for Node.
emit() { # $1 = --target, $2 = out dir
  mkdir -p "$2"
  wasm-bindgen --target "$1" --out-dir "$2" --typescript "$WASM"
  # No fast-math: wasm-opt keeps IEEE semantics, so the optimized module stays bit-exact
  # (the parity tests run against this optimized file).
  "$WASM_OPT" -Oz --strip-debug --strip-producers "$2/gdlens_scoring_wasm_bg.wasm" \
    -o "$2/gdlens_scoring_wasm_bg.wasm.opt"
  mv "$2/gdlens_scoring_wasm_bg.wasm.opt" "$2/gdlens_scoring_wasm_bg.wasm"
  printf '*\n!.gitignore\n' > "$2/.gitignore"
}
emit web web/src/wasm
emit nodejs tests/wasm/pkg

SIZE=$(wc -c < web/src/wasm/gdlens_scoring_wasm_bg.wasm)
log "web/src/wasm/gdlens_scoring_wasm_bg.wasm: $SIZE bytes ($(( SIZE / 1024 )) KiB); wasm-opt: $("$WASM_OPT" --version)"
