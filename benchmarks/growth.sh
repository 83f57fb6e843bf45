#!/usr/bin/env bash
# Bounded growth (issue #17, docs/pipeline.md): a generated stream of DAYS days ingested, then
# restart, compaction, restart after, compaction of every ended session, restart, rebuild and
# verify, each timed with its peak RSS.
#   cargo build --release --bins && bash benchmarks/growth.sh 90 2026-10-25T00:00:00Z [DIR]
# DAYS is the stream's length (from 2026-08-01), BEFORE the first compaction's time.
set -euo pipefail
days="${1:-30}"
before="${2:-2026-08-25T00:00:00Z}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${3:-$root/target/growth-$days}"
bin="$root/target/release"
challenges="$root/fixtures/challenges"
mkdir -p "$dir"
cd "$dir"
t() { /usr/bin/time -f "   wall %e s, user %U s, sys %S s, max RSS %M KB" "$@"; }
echo "== gen-events --users 2000 --machines 40 --days $days --seed 7 --clean"
t "$bin/gen-events" --users 2000 --machines 40 --days "$days" --seed 7 --clean --out events.jsonl
: > empty.jsonl
rm -f gym.db gym.db-wal gym.db-shm
echo "== ingest"
t "$bin/challenge" pipeline ingest --db gym.db --challenges "$challenges" events.jsonl
echo "== restart (ingest of an empty file), uncompacted"
t "$bin/challenge" pipeline ingest --db gym.db --challenges "$challenges" empty.jsonl
echo "== compact --before $before"
t "$bin/challenge" pipeline compact --db gym.db --before "$before"
echo "== restart after compaction"
t "$bin/challenge" pipeline ingest --db gym.db --challenges "$challenges" empty.jsonl
echo "== compact every ended session"
t "$bin/challenge" pipeline compact --db gym.db --before 9999-01-01T00:00:00Z
echo "== restart after full compaction"
t "$bin/challenge" pipeline ingest --db gym.db --challenges "$challenges" empty.jsonl
echo "== rebuild"
t "$bin/challenge" pipeline rebuild --db gym.db
echo "== verify"
t "$bin/challenge" pipeline verify --db gym.db > /dev/null
ls -la gym.db
