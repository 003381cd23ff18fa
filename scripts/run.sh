#!/usr/bin/env bash
# make run: a local Redis, the appliance and one agent, until Ctrl-C.
#
#   scripts/run.sh [extra perfload-appliance options]
#
# Environment:
#   PERFLOAD_PORT / PERFLOAD_HTTP_PORT  preferred ports (8000 / 8001); busy -> the next free ones
#   PERFLOAD_REDIS_URL                  use this Redis instead of starting one
#   PERFLOAD_RUN_REUSE_REDIS=1          use a Redis already answering on 127.0.0.1:6379
#   PERFLOAD_STATE_DIR                  where the generated keys live (default as the appliance)
#   PERFLOAD_BUILD                      build directory (default build/)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PERFLOAD_BUILD:-$ROOT/build}
APPLIANCE=$BUILD/perfload-appliance
AGENT=$BUILD/perfload-agent
FS=$BUILD/perfload-fs

say() { printf 'run: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$APPLIANCE" ] || die "$APPLIANCE is missing: run 'make' first"

pids=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/perfload-run.XXXXXX")
stopping=0
stop_all() {
    [ $stopping -eq 1 ] && return
    stopping=1
    trap - INT TERM
    say "stopping..."
    # Reverse start order, each waited for: the appliance marks its agents
    # offline in Redis as it stops, so Redis goes last. Only what we started.
    for ((i=${#pids[@]}-1; i>=0; i--)); do
        kill -TERM "${pids[$i]}" 2>/dev/null || true
        wait "${pids[$i]}" 2>/dev/null || true
    done
    rm -rf "$tmp"
    say "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port_from() {
    local p=$1
    while port_busy "$p"; do p=$((p + 1)); done
    echo "$p"
}
wait_port() {   # port pid what
    for _ in $(seq 1 100); do
        port_busy "$1" && return 0
        kill -0 "$2" 2>/dev/null || die "$3 exited; see the lines above"
        sleep 0.1
    done
    die "$3 did not open port $1 within 10 s"
}

# -- Redis -------------------------------------------------------------------
if [ -n "${PERFLOAD_REDIS_URL:-}" ]; then
    REDIS_URL=$PERFLOAD_REDIS_URL
    say "using Redis $REDIS_URL (PERFLOAD_REDIS_URL)"
elif [ "${PERFLOAD_RUN_REUSE_REDIS:-0}" = 1 ] && port_busy 6379; then
    REDIS_URL=redis://127.0.0.1:6379
    say "reusing the Redis already on 127.0.0.1:6379"
else
    command -v redis-server >/dev/null || die "redis-server not found: run scripts/install-deps.sh"
    rport=$(free_port_from 6380)
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
        --logfile "$tmp/redis.log" &
    pids+=($!)
    wait_port "$rport" "$!" redis-server
    REDIS_URL=redis://127.0.0.1:$rport
    say "started redis-server on 127.0.0.1:$rport (data in $tmp, discarded on exit)"
fi

# -- appliance ---------------------------------------------------------------
want_port=${PERFLOAD_PORT:-8000}
want_http=${PERFLOAD_HTTP_PORT:-8001}
port=$(free_port_from "$want_port")
http_port=$(free_port_from "$want_http")
[ "$http_port" = "$port" ] && http_port=$(free_port_from $((port + 1)))
[ "$port" != "$want_port" ] && say "port $want_port is busy: Socket.IO on $port instead"
[ "$http_port" != "$want_http" ] && say "port $want_http is busy: HTTP on $http_port instead"

if [ -n "${PERFLOAD_STATE_DIR:-}" ]; then
    state=$PERFLOAD_STATE_DIR
elif [ "$(id -u)" = 0 ]; then
    state=/var/lib/perfload
elif [ -n "${XDG_STATE_HOME:-}" ]; then
    state=$XDG_STATE_HOME/perfload
else
    state=$HOME/.local/state/perfload
fi

"$APPLIANCE" --port "$port" --http-port "$http_port" --redis "$REDIS_URL" \
    --state-dir "$state" "$@" &
appliance_pid=$!
pids+=($appliance_pid)
wait_port "$port" $appliance_pid perfload-appliance
wait_port "$http_port" $appliance_pid perfload-appliance

# -- agent -------------------------------------------------------------------
if [ ! -x "$AGENT" ]; then
    say "no $AGENT yet: no agent started"
elif [ -n "${PERFLOAD_AGENT_KEY:-}" ]; then
    "$AGENT" --server "http://127.0.0.1:$port" &
    pids+=($!)
    say "started perfload-agent (pid $!) reporting this machine"
elif [ -r "$state/agent.key" ]; then
    "$AGENT" --server "http://127.0.0.1:$port" --key-file "$state/agent.key" &
    pids+=($!)
    say "started perfload-agent (pid $!) reporting this machine"
else
    say "no agent key readable in $state: no agent started"
fi

ui_key_where="$state/ui.key"
[ -n "${PERFLOAD_UI_KEY:-}" ] && ui_key_where="PERFLOAD_UI_KEY"
cat >&2 <<EOF

  Dashboard:  http://127.0.0.1:$http_port/
  UI key:     $ui_key_where
  Agent key:  $state/agent.key
  Another machine:  perfload-agent --server http://<this-host>:$port --key-file agent.key
EOF
if [ -x "$FS" ] && [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
    cat >&2 <<EOF
  Files:      mkdir -p /tmp/perf && $FS --redis $REDIS_URL /tmp/perf && cat /tmp/perf/*/cpu_load
EOF
fi
printf '\n  Ctrl-C stops everything.\n\n' >&2

# Returns when the appliance exits (or Ctrl-C runs the traps).
wait "$appliance_pid" || true
