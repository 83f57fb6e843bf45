#!/usr/bin/env bash
# Events/s of the scale-out (gateways + workers over PostgreSQL and RabbitMQ) beside the
# embedded `pipeline ingest` and `serve`, on one generated stream, with the CPU each process
# spent per 1,000 events (broker and database included). Needs the services
# (`eval "$(scripts/services.sh start)"`) and a release build
# (`cargo build --release --bin challenge --bin gen-events`). Prints a Markdown table.
#
#   scripts/bench-scale.sh [USERS] [DAYS]      (default 300 users, 14 days)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CHALLENGE_TEST_PG:?run: eval \"\$(scripts/services.sh start)\"}"
: "${CHALLENGE_TEST_AMQP:?run: eval \"\$(scripts/services.sh start)\"}"
USERS=${1:-300}
DAYS=${2:-14}
BIN=target/release/challenge
WORK=$(mktemp -d /tmp/bench-scale.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
EVENTS="$WORK/events.jsonl"
target/release/gen-events --users "$USERS" --days "$DAYS" --seed 7 --clean --out "$EVENTS" 2>/dev/null
N=$(grep -c . "$EVENTS")
split -l 5000 -d -a 4 "$EVENTS" "$WORK/chunk."
CHUNKS=("$WORK"/chunk.*)
BASE=${CHALLENGE_TEST_PG%/*}
TICKS=$(getconf CLK_TCK)

now() { date +%s.%N; }
# CPU seconds (user + system) of the processes given as pids.
cpu() {
    local total=0
    for pid in "$@"; do
        if [ -r "/proc/$pid/stat" ]; then
            total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
        fi
    done
    echo "$total"
}
pg_pids() { pgrep -u postgres -d ' ' postgres || true; }
rabbit_pid() { pgrep -d ' ' beam.smp || true; }
per_k() { python3 -c "print(f'{$1 / $TICKS * 1000 * 1000 / $N:.1f}')"; }
rate() { python3 -c "print(f'{$N / ($2 - $1):,.0f}')"; }

echo "| setup | events | wall s | events/s | CPU ms per 1,000 events (processes; database; broker) |"
echo "|---|---|---|---|---|"

# Embedded `pipeline ingest`.
t0=$(now)
"$BIN" pipeline ingest --db "$WORK/ingest.db" --challenges fixtures/challenges "$EVENTS" 2>/dev/null
t1=$(now)
echo "| pipeline ingest (SQLite) | $N | $(python3 -c "print(f'{$t1 - $t0:.2f}')") | $(rate "$t0" "$t1") | — |"

# Embedded `serve`, posted in requests of 5,000 lines.
PORT=18190
"$BIN" serve --db "$WORK/serve.db" --challenges fixtures/challenges --listen 127.0.0.1:$PORT 2>/dev/null &
SERVE=$!
until curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null; do sleep 0.1; done
c0=$(cpu $SERVE)
t0=$(now)
for c in "${CHUNKS[@]}"; do
    curl -sf -X POST --data-binary @"$c" -H 'Content-Type: application/x-ndjson' "http://127.0.0.1:$PORT/v1/events" >/dev/null
done
t1=$(now)
c1=$(cpu $SERVE)
kill $SERVE; wait $SERVE 2>/dev/null || true
echo "| serve --db (SQLite) | $N | $(python3 -c "print(f'{$t1 - $t0:.2f}')") | $(rate "$t0" "$t1") | $(per_k $((c1 - c0))) |"

# Scale-out: 2 gateways, W workers sharing the 64 partitions (one of them also the reducer).
for W in ${WORKER_COUNTS:-1 2 3}; do
    DB="bench_$W"
    psql "$CHALLENGE_TEST_PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null 2>&1
    STORE="$BASE/$DB"
    STREAMS="bench-$$-$W"
    ARGS=(--store "$STORE" --broker "$CHALLENGE_TEST_AMQP" --streams "$STREAMS" --partitions 64)
    WORKERS=()
    for _ in $(seq "$W"); do
        "$BIN" worker "${ARGS[@]}" --challenges fixtures/challenges 2>>"$WORK/workers.log" &
        WORKERS+=($!)
    done
    GATEWAYS=()
    for g in 0 1; do
        "$BIN" serve "${ARGS[@]}" --listen 127.0.0.1:$((PORT + 1 + g)) 2>>"$WORK/gateways.log" &
        GATEWAYS+=($!)
        until curl -sf "http://127.0.0.1:$((PORT + 1 + g))/v1/health" >/dev/null; do sleep 0.1; done
    done
    # Every partition is owned (the workers have taken their shares) and the challenges are set.
    until [ "$(psql "$STORE" -tAc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = 1667785068 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" 2>/dev/null)" = 64 ]; do sleep 0.1; done
    until psql "$STORE" -tAc "SELECT count(*) FROM challenges" 2>/dev/null | grep -qv '^0$'; do sleep 0.1; done
    sleep 2
    cw0=$(cpu "${WORKERS[@]}"); cg0=$(cpu "${GATEWAYS[@]}"); cp0=$(cpu $(pg_pids)); cr0=$(cpu $(rabbit_pid))
    t0=$(now)
    i=0
    POSTS=()
    for c in "${CHUNKS[@]}"; do
        curl -sf -X POST --data-binary @"$c" -H 'Content-Type: application/x-ndjson' \
            "http://127.0.0.1:$((PORT + 1 + i % 2))/v1/events" >/dev/null &
        POSTS+=($!)
        i=$((i + 1))
        # Two requests in flight, one per gateway.
        if [ $((i % 2)) -eq 0 ]; then wait "${POSTS[@]}"; POSTS=(); fi
    done
    [ "${#POSTS[@]}" -eq 0 ] || wait "${POSTS[@]}"
    t_posted=$(now)
    until [ "$(psql "$STORE" -tAc "SELECT coalesce(sum(value), 0) FROM counters WHERE name = 'read' OR name LIKE 'read.p%'")" -ge "$N" ]; do sleep 0.05; done
    t1=$(now)
    cw1=$(cpu "${WORKERS[@]}"); cg1=$(cpu "${GATEWAYS[@]}"); cp1=$(cpu $(pg_pids)); cr1=$(cpu $(rabbit_pid))
    kill "${WORKERS[@]}" "${GATEWAYS[@]}" 2>/dev/null || true
    wait "${WORKERS[@]}" "${GATEWAYS[@]}" 2>/dev/null || true
    echo "| 2 gateways + $W worker(s) (PostgreSQL, RabbitMQ) | $N | $(python3 -c "print(f'{$t1 - $t0:.2f}')") | $(rate "$t0" "$t1") | workers $(per_k $((cw1 - cw0))), gateways $(per_k $((cg1 - cg0))); $(per_k $((cp1 - cp0))); $(per_k $((cr1 - cr0))) |"
    echo "  (posting took $(python3 -c "print(f'{$t_posted - $t0:.2f}')") s: $(rate "$t0" "$t_posted") events/s accepted by the gateways)" >&2
done
