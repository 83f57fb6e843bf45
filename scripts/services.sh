#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and RabbitMQ for the scale-out tests and for trying `challenge worker`
# by hand (docs/scale-out.md). Everything lives under $CHALLENGE_SERVICES_DIR (default
# /tmp/challenge-services) and listens on 127.0.0.1 only.
#
#   scripts/services.sh start      installs what is missing (apt), starts both, prints the URLs
#   scripts/services.sh env        prints `export CHALLENGE_TEST_PG=... CHALLENGE_TEST_AMQP=...`
#   scripts/services.sh status     says what runs
#   scripts/services.sh stop       stops both and removes their files
#   scripts/services.sh rabbitmqctl ARGS...   rabbitmqctl against this broker (fault tests)
#
# Idempotent: `start` on running services only prints the URLs again.
set -euo pipefail

DIR=${CHALLENGE_SERVICES_DIR:-/tmp/challenge-services}
PG_PORT=${CHALLENGE_PG_PORT:-55432}
AMQP_PORT=${CHALLENGE_AMQP_PORT:-55672}
DIST_PORT=$((AMQP_PORT + 10))
EPMD_PORT=${CHALLENGE_EPMD_PORT:-54369}
PG_BIN=/usr/lib/postgresql/15/bin
PG_URL="postgres://postgres@127.0.0.1:${PG_PORT}/challenge"
AMQP_URL="amqp://guest:guest@127.0.0.1:${AMQP_PORT}/%2f"
NODE="challenge-test@localhost"

log() { echo "services: $*" >&2; }

install_missing() {
    local need=()
    [ -x "$PG_BIN/initdb" ] || need+=(postgresql-15)
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        # Debian starts services on install where it can; ours are started below, on our ports.
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        apt-get install -y -qq "${need[@]}" >&2
        rm -f /usr/sbin/policy-rc.d
    fi
}

# RabbitMQ's environment: its own node name, ports, cookie and files under $DIR/rabbitmq.
rabbit_env() {
    export HOME="$DIR/rabbitmq"
    export RABBITMQ_NODENAME="$NODE"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$AMQP_PORT"
    export RABBITMQ_DIST_PORT="$DIST_PORT"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_EPMD_PORT="$EPMD_PORT"
    export RABBITMQ_MNESIA_BASE="$DIR/rabbitmq/mnesia"
    export RABBITMQ_LOG_BASE="$DIR/rabbitmq/log"
    export RABBITMQ_PID_FILE="$DIR/rabbitmq/pid"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/rabbitmq/enabled_plugins"
    export RABBITMQ_CONFIG_FILE="$DIR/rabbitmq/rabbitmq"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/rabbitmq/advanced.config"
    export RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq/rabbitmq-env.conf"
    # Two cores shared with other work: schedulers do not spin waiting for work.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}"
}

pg_running() { [ -f "$DIR/pg/data/postmaster.pid" ] && su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$DIR/pg/data' status" >/dev/null 2>&1; }

start_pg() {
    if pg_running; then return; fi
    mkdir -p "$DIR/pg"
    chown postgres: "$DIR/pg"
    if [ ! -f "$DIR/pg/data/PG_VERSION" ]; then
        su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$DIR/pg/data' -U postgres -A trust -E UTF8 --locale=C.UTF-8 >'$DIR/pg/initdb.log' 2>&1"
    fi
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$DIR/pg/data' -l '$DIR/pg/server.log' -w -t 60 \
        -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$DIR/pg' -c fsync=on -c max_connections=500\" start" >&2
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'challenge'" | grep -q 1; then
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE challenge" >&2
    fi
}

rabbit_running() { rabbit_env; [ -f "$RABBITMQ_PID_FILE" ] && /usr/lib/rabbitmq/bin/rabbitmqctl -q status >/dev/null 2>&1; }

start_rabbit() {
    if rabbit_running; then return; fi
    rabbit_env
    mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    [ -f "$HOME/.erlang.cookie" ] || { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$HOME/.erlang.cookie"; chmod 600 "$HOME/.erlang.cookie"; }
    # Streams are a queue type of the broker itself, used over AMQP 0.9.1: no plugin needed
    # (rabbitmq_stream would add the stream protocol on port 5552, which nothing here uses).
    echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    : > "$RABBITMQ_CONF_ENV_FILE"
    cat > "$RABBITMQ_CONFIG_FILE.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
loopback_users = none
log.console = false
log.file.level = warning
CONF
    echo '[].' > "$RABBITMQ_ADVANCED_CONFIG_FILE"
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached >"$RABBITMQ_LOG_BASE/startup.log" 2>&1 || true
    /usr/lib/rabbitmq/bin/rabbitmqctl -q wait --timeout 120 "$RABBITMQ_PID_FILE" >&2 || { log "RabbitMQ did not start; see $RABBITMQ_LOG_BASE"; exit 1; }
    # Up to two minutes for the AMQP listener (the node starts its apps after the pid file).
    for _ in $(seq 240); do
        if /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup >/dev/null 2>&1; then return; fi
        sleep 0.5
    done
    log "RabbitMQ did not start; see $RABBITMQ_LOG_BASE"
    exit 1
}

print_env() {
    echo "export CHALLENGE_TEST_PG='$PG_URL'"
    echo "export CHALLENGE_TEST_AMQP='$AMQP_URL'"
}

case "${1:-}" in
start)
    install_missing
    mkdir -p "$DIR"
    start_pg
    start_rabbit
    log "PostgreSQL: $PG_URL"
    log "RabbitMQ:   $AMQP_URL"
    print_env
    ;;
env)
    print_env
    ;;
status)
    if pg_running; then echo "postgres: running ($PG_URL)"; else echo "postgres: stopped"; fi
    if rabbit_running; then echo "rabbitmq: running ($AMQP_URL)"; else echo "rabbitmq: stopped"; fi
    ;;
stop)
    if [ -d "$DIR/rabbitmq" ]; then
        rabbit_env
        /usr/lib/rabbitmq/bin/rabbitmqctl -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || true
        # The node's own epmd, on our port.
        epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
    fi
    if [ -f "$DIR/pg/data/postmaster.pid" ]; then
        su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$DIR/pg/data' -m fast -w stop" >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    log "stopped"
    ;;
rabbitmqctl)
    shift
    rabbit_env
    exec /usr/lib/rabbitmq/bin/rabbitmqctl "$@"
    ;;
*)
    echo "usage: $0 start|env|status|stop|rabbitmqctl ARGS..." >&2
    exit 2
    ;;
esac
