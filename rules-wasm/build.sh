#!/usr/bin/env bash
# Builds the rules-wasm package:
#   rules-wasm/pkg/       ES module for browsers and bundlers (wasm-bindgen --target web)
#   rules-wasm/pkg-node/  CommonJS module for Node            (wasm-bindgen --target nodejs)
#   rules-wasm/web/dist/  the editor page's bundle and samples (when web/node_modules exists;
#                         `--no-web` skips it)
# and prints the .wasm's raw and gzipped sizes (budget: 350 KB gzipped).
#
# Compiler route: `rustup`'s wasm32-unknown-unknown target when it is installed; otherwise
# Debian's rustc-web with -Zbuild-std (../shared/notes/wasm-toolchain.md). Needs wasm-bindgen-cli
# at the exact wasm-bindgen version of Cargo.lock; runs `wasm-opt -Oz` when binaryen is there.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

web=1
for arg in "$@"; do
    case "$arg" in
        --no-web) web=0 ;;
        *) echo "usage: rules-wasm/build.sh [--no-web]" >&2; exit 2 ;;
    esac
done

target=wasm32-unknown-unknown
target_dir="$root/target/wasm"
profile=wasm
# WebAssembly 1.0 features only: Debian's binaryen (wasm-opt 108) mistypes the externref table
# that wasm-bindgen makes with reference types, and the size is the same either way.
mvp="-Ctarget-cpu=mvp"

# ---- compile -------------------------------------------------------------------------------
if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "== cargo build ($target via rustup)"
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$mvp" \
        cargo build --locked -p rules-wasm --lib --target "$target" --profile "$profile" \
        --target-dir "$target_dir"
elif [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
    echo "== cargo build ($target via Debian rustc-web and -Zbuild-std)"
    lld=""
    if command -v rustc >/dev/null 2>&1; then
        lld="$(find "$(rustc --print sysroot)" -name rust-lld -type f 2>/dev/null | head -n1 || true)"
    fi
    if [ -z "$lld" ] && command -v wasm-ld >/dev/null 2>&1; then
        lld="$(command -v wasm-ld)"
    fi
    if [ -z "$lld" ]; then
        echo "error: no rust-lld or wasm-ld found to link wasm32" >&2
        exit 1
    fi
    # Building std from source also lets it be built for size: panics abort at once (no
    # formatting machinery) and core/alloc use their small sorts (`optimize_for_size`).
    # rustup's proxies must not pick the toolchain for the Debian compiler.
    env -u RUSTUP_TOOLCHAIN -u RUSTC_WRAPPER \
        RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld" \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$mvp -Zunstable-options -Cpanic=immediate-abort" \
        /usr/bin/cargo build --locked -p rules-wasm --lib --target "$target" --profile "$profile" \
        --target-dir "$target_dir" -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
else
    cat >&2 <<'EOF'
error: no way to build wasm32 here. Either
  rustup target add wasm32-unknown-unknown
or (Debian)
  apt-get install -y rustc-web cargo-web rust-web-src
EOF
    exit 1
fi
wasm="$target_dir/$target/$profile/rules_wasm.wasm"

# ---- bind ----------------------------------------------------------------------------------
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ "$have" != "$want" ]; then
    echo "error: wasm-bindgen-cli $want is needed (found: ${have:-none}):" >&2
    echo "  cargo install wasm-bindgen-cli --version $want" >&2
    exit 1
fi

version="$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)"

bind() { # bind OUT_DIR TARGET
    local out="$1" kind="$2"
    rm -rf "$out"
    wasm-bindgen --target "$kind" --out-dir "$out" --out-name rules_wasm "$wasm"
    if command -v wasm-opt >/dev/null 2>&1; then
        wasm-opt -Oz --enable-mutable-globals \
            "$out/rules_wasm_bg.wasm" -o "$out/rules_wasm_bg.wasm"
    fi
    local type_line=""
    if [ "$kind" = web ]; then
        type_line='"type": "module",'
    fi
    cat >"$out/package.json" <<EOF
{
  "name": "rules-wasm$( [ "$kind" = nodejs ] && echo "-node" )",
  "version": "$version",
  "description": "The challenge rule engine in WebAssembly: parse, check, format, decompile, evaluate, live sessions",
  "license": "Apache-2.0",
  $type_line
  "main": "rules_wasm.js",
  "types": "rules_wasm.d.ts",
  "files": ["rules_wasm.js", "rules_wasm.d.ts", "rules_wasm_bg.wasm", "rules_wasm_bg.wasm.d.ts"],
  "sideEffects": false
}
EOF
}

echo "== wasm-bindgen $want (web, nodejs)"
bind "$here/pkg" web
bind "$here/pkg-node" nodejs
command -v wasm-opt >/dev/null 2>&1 || echo "note: wasm-opt not found (apt-get install binaryen); sizes are unoptimized"

raw=$(wc -c <"$here/pkg/rules_wasm_bg.wasm")
gz=$(gzip -9 -c "$here/pkg/rules_wasm_bg.wasm" | wc -c)
echo "== size: rules_wasm_bg.wasm $raw bytes raw, $gz bytes gzipped (budget 358400)"
if [ "$gz" -gt 358400 ]; then
    echo "warning: the .wasm is over the 350 KB gzipped budget" >&2
    if [ "${WASM_SIZE_STRICT:-0}" = 1 ]; then exit 1; fi
fi

# ---- the editor page -------------------------------------------------------------------------
if [ "$web" = 1 ]; then
    if [ -d "$here/web/node_modules" ]; then
        echo "== web/dist (esbuild)"
        (cd "$here/web" && node build.mjs)
    else
        echo "note: web/node_modules missing; run \`npm ci\` in rules-wasm/web to build the editor page"
    fi
fi
