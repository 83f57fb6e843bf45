#!/usr/bin/env bash
# CI for the fuzz targets: they build (so they never rot) and every committed corpus input
# runs once without a crash. Needs the nightly toolchain; installs cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "no nightly toolchain on this machine: fuzz targets not built"
    exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
cargo +nightly fuzz build
mkdir -p ../target
for t in dsl json_tree records template eval_invariants sensor wasm_api import_fit import_gpx import_tcx; do
    mkdir -p "corpus/$t"
    log="../target/fuzz-replay-$t.log"
    # -runs=0 executes every corpus input once; a crash or a failed assertion exits non-zero.
    if ! cargo +nightly fuzz run "$t" "corpus/$t" -- -runs=0 -rss_limit_mb=2048 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz target $t failed on its corpus"
        exit 1
    fi
    echo "$t: $(ls "corpus/$t" | wc -l) corpus inputs replayed, no crash"
done
