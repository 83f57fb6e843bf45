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
