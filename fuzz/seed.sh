#!/usr/bin/env bash
# Seeds the corpora from fixtures/ (idempotent: files are named by content hash).
set -euo pipefail
cd "$(dirname "$0")"
seed() { # target file
    mkdir -p "corpus/$1"
    cp -f "$2" "corpus/$1/seed-$(sha1sum "$2" | cut -c1-16)" 2>/dev/null || true
}
for f in ../fixtures/challenges/*.chal ../fixtures/invalid/*.chal ../fixtures/multi.chal; do seed dsl "$f"; done
for f in ../fixtures/templates/*.chal ../fixtures/multi.chal; do seed template "$f"; done
for f in ../fixtures/invalid/*.json; do seed json_tree "$f"; done
bin=../target/release/challenge
if [ -x "$bin" ]; then
    tmp=$(mktemp)
    for f in ../fixtures/challenges/*.chal; do
        "$bin" compile "$f" > "$tmp" 2>/dev/null && seed json_tree "$tmp"
    done
    rm -f "$tmp"
fi
head -n 40 ../fixtures/workouts.jsonl > /tmp/seed-workouts.jsonl && seed records /tmp/seed-workouts.jsonl
seed records ../fixtures/users.jsonl
head -n 300 ../fixtures/events.jsonl > /tmp/seed-events.jsonl && seed sensor /tmp/seed-events.jsonl
# The importers: the small device files (the large FIT files make slow inputs).
for f in ../fixtures/import/Activity.fit ../fixtures/import/strength.fit ../fixtures/import/Settings.fit ../fixtures/import/garmin-fenix-5-bike.fit; do seed import_fit "$f"; done
for f in ../fixtures/import/*.gpx; do seed import_gpx "$f"; done
for f in ../fixtures/import/*.tcx; do seed import_tcx "$f"; done

# wasm_api: `[selector][challenge] \0 workouts \0 users \0 asOf \0 event \0 ...` (see the target):
# '@' = DSL text and JSON Lines records, 'A' = the challenge as a JSON value, 'B' = workouts as
# a JSON array; the events are one live session of the fixtures.
session=$(grep -m1 '"type":"session_start"' ../fixtures/events.jsonl | sed -E 's/.*"session":"([^"]*)".*/\1/')
{
    grep "\"session\":\"$session\"" ../fixtures/events.jsonl | grep -v session_end | head -n 14 || true
    grep "\"session\":\"$session\"" ../fixtures/events.jsonl | grep session_end
} | tr '\n' '\0' > /tmp/seed-session
head -n 5 ../fixtures/users.jsonl > /tmp/seed-users.jsonl
wasm_seed() { # selector challenge-file workouts-file
    {
        printf '%s' "$1"; cat "$2"; printf '\0'; cat "$3"; printf '\0'
        cat /tmp/seed-users.jsonl; printf '\0%s\0' 2026-08-20T12:00:00+08:00; cat /tmp/seed-session
    } > /tmp/seed-wasm
    seed wasm_api /tmp/seed-wasm
}
head -n 8 ../fixtures/workouts.jsonl > /tmp/seed-wasm-workouts.jsonl
printf '[%s]' "$(paste -sd, /tmp/seed-wasm-workouts.jsonl)" > /tmp/seed-workouts.json
for f in ../fixtures/challenges/*.chal; do
    wasm_seed @ "$f" /tmp/seed-wasm-workouts.jsonl
    if [ -x "$bin" ]; then
        "$bin" compile "$f" > /tmp/seed-tree.json 2>/dev/null && wasm_seed A /tmp/seed-tree.json /tmp/seed-workouts.json
    fi
done
wasm_seed B ../fixtures/multi.chal /tmp/seed-workouts.json
