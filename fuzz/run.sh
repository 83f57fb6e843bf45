#!/usr/bin/env bash
# Runs every fuzz target for a while and reports executions and coverage.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 300 s, every target)
#
# Seeds come from fixtures/ (DSL files, JSON trees compiled from them, records); what the
# fuzzer finds interesting is kept in fuzz/corpus/<target>/ (committed: CI replays it).
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dsl json_tree records template eval_invariants sensor wasm_api import_fit import_gpx import_tcx)

./seed.sh
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    dict=()
    case $t in dsl|template|wasm_api) dict=(-dict=dsl.dict) ;; esac
    echo "== $t: ${seconds}s"
    cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=8192 \
        -timeout=10 -rss_limit_mb=2048 "${dict[@]}" 2>&1 | tee "../target/fuzz-$t.log" \
        | grep -E '^#[0-9]+.*(DONE|pulse)|==ERROR|panicked' | tail -n 3
    grep -E '^#[0-9]+\s+DONE' "../target/fuzz-$t.log" | tail -n 1 \
        | sed -E "s/^#([0-9]+).*cov: ([0-9]+) ft: ([0-9]+).*/$t: \1 executions, coverage \2 edges, \3 features/"
done
