#!/usr/bin/env bash
# CI for rules-wasm on a Debian machine: installs what is missing (idempotent, quick when all is
# there), builds the package and the editor page, then runs the TypeScript check, the Node tests
# of every export, the parity test against the native CLI, and the browser tests.
#   bash rules-wasm/ci.sh        (from anywhere; needs root for apt-get on a fresh machine)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

# ---- install ---------------------------------------------------------------------------------
pkgs=()
# rustup can build wasm32 itself when it has the target; else Debian's compiler and std source.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] || pkgs+=(rustc-web cargo-web rust-web-src)
fi
command -v wasm-opt >/dev/null 2>&1 || pkgs+=(binaryen)
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
if [ "${#pkgs[@]}" -gt 0 ]; then
    echo "== apt-get install ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${pkgs[@]}"
fi

want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ "$have" != "$want" ]; then
    echo "== cargo install wasm-bindgen-cli $want"
    cargo install wasm-bindgen-cli --version "$want"
fi

if [ ! -d "$here/web/node_modules" ] || [ "$here/web/package-lock.json" -nt "$here/web/node_modules/.package-lock.json" ]; then
    echo "== npm ci (rules-wasm/web)"
    (cd "$here/web" && npm ci --no-audit --no-fund)
fi

# ---- build -----------------------------------------------------------------------------------
echo "== native tests of the JSON API"
cargo test --locked -p rules-front -p rules-wasm
echo "== the native CLI (parity reference; challenge serve for the console tests)"
cargo build --locked --release --bin challenge
echo "== rules-wasm/build.sh"
WASM_SIZE_STRICT=1 bash "$here/build.sh"   # fails over the 350 KB gzipped budget

# ---- tests -----------------------------------------------------------------------------------
cd "$here/web"
echo "== tsc (types against generated fixtures and an example)"
node ts/gen-fixtures.mjs
node_modules/.bin/tsc -p ts/tsconfig.json
echo "== node --test: exports, parity, browser (the editor; the console on a real challenge serve)"
node --test test/api.test.mjs test/parity.test.mjs test/e2e.test.mjs test/console.test.mjs
