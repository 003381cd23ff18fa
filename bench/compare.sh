#!/usr/bin/env bash
# compare.sh -- the benchmark ladder: PerfLoad and the Node.js reference of
# the original design, driven by the same perfload-bench, each with its own
# redis-server, on loopback. Every step starts a fresh server + Redis, runs
# one bench, stops them; a ladder stops at the first step that breaks
# (loss > 0, p99 > 1 s, or failed connects).
#
#   bench/compare.sh                 full ladder (1k 5k 10k 20k 40k agents), writes docs/benchmarks.md
#   bench/compare.sh --quick         1k and 5k agents, short windows, prints the table (make bench)
#   options: --only perfload|node    --steps "1000 5000"   --duration S   --out FILE
#
# The Node reference is copied from ../shared/peer (or $PEER_SRC) to
# /tmp/perfload-peer and `npm ci`'d there; it is never part of this repo.
# Limits are raised in this script only (ulimit -n up to the hard limit).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PERFLOAD_BUILD:-$ROOT/build}
BENCH=$BUILD/perfload-bench
APPLIANCE=$BUILD/perfload-appliance
PEER_SRC=${PEER_SRC:-$ROOT/../shared/peer}
PEER_DIR=${PEER_DIR:-/tmp/perfload-peer}
WORK=$(mktemp -d /tmp/perfload-compare.XXXXXX)
STEPS="1000 5000 10000 20000 40000"
DURATION=30
DASHBOARDS=2
RATE=1
ONLY=""
QUICK=0
OUT=""
SOURCE_IPS=127.0.0.2-127.0.0.81
# A dashboard here receives every sample: 17 MB/s at 40,000 agents, so the
# default 4 MB slow-reader bound is a quarter second of it; on a box shared
# with the generator a scheduling hiccup that long is normal. 64 MB (~4 s).
SEND_QUEUE_MAX=$((64 * 1024 * 1024))
AGENT_KEY=bench-agent-key
UI_KEY=bench-ui-key

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1; STEPS="1000 5000"; DURATION=10 ;;
    --only) ONLY=$2; shift ;;
    --steps) STEPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
if [ -z "$OUT" ]; then
    if [ $QUICK = 1 ]; then OUT=$BUILD/bench-quick.md; else OUT=$ROOT/docs/benchmarks.md; fi
fi

ulimit -n "$(ulimit -Hn)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "compare.sh: $*" >&2; }

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_port() {        # PORT SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

stop_pid() {         # PID: SIGTERM, then wait up to 5 s, then SIGKILL
    local p=$1 i
    kill "$p" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
}

start_redis() {      # PORT -> REDIS_PID
    redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --maxclients 1000 --logfile "$WORK/redis-$1.log" &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_port "$1" 10 || { log "redis-server did not start"; return 1; }
}

# Both systems get the same number of workers: the fewest (at least 2) such
# that no worker is routed more connections than a process may hold fds,
# less 2,000 for Redis, lws and pipes. The split is computed by
# perfload-bench with the appliance's own sticky hash over the source
# addresses (80 addresses do not spread evenly: 40,000 agents over 3 workers
# are 12,500 / 12,500 / 15,000). Prints "W c1,c2,...".
workers_for() {
    "$BENCH" --agents "$1" --dashboards "$DASHBOARDS" --source-ips "$SOURCE_IPS" \
        --plan-workers $(( $(ulimit -Hn) - 2000 ))
}

# Generator processes: each holds at most 15,000 agent connections (and
# never more than its fd limit allows).
procs_for() {
    local per=$(( $(ulimit -Hn) - 2000 ))
    [ "$per" -gt 15000 ] && per=15000
    echo $(( ($1 + per - 1) / per ))
}

start_perfload() {   # PORT REDIS_PORT WORKERS -> SERVER_PID, HTTP_PORT
    HTTP_PORT=$(free_port)
    "$APPLIANCE" --bind 127.0.0.1 --port "$1" --http-port "$HTTP_PORT" --workers "$3" \
        --redis "redis://127.0.0.1:$2" --agent-key "$AGENT_KEY" --ui-key "$UI_KEY" \
        --state-dir "$WORK/state" --log-level 1 --send-queue-max $SEND_QUEUE_MAX \
        > "$WORK/perfload-$1.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$1" 15
}

setup_node() {
    if [ ! -d "$PEER_DIR/node_modules" ]; then
        log "copying the Node reference to $PEER_DIR and running npm ci"
        rm -rf "$PEER_DIR"
        cp -r "$PEER_SRC" "$PEER_DIR"
        (cd "$PEER_DIR" && npm ci --no-audit --no-fund >/dev/null)
    fi
}

start_node() {       # PORT REDIS_PORT WORKERS -> SERVER_PID
    (cd "$PEER_DIR" && REDIS_URL="redis://127.0.0.1:$2" WORKERS="$3" PORT="$1" HOST=127.0.0.1 \
        AGENT_KEY="$AGENT_KEY" UI_KEY="$UI_KEY" exec node server.js) > "$WORK/node-$1.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$1" 20 && sleep 2           # workers connect to Redis after the master listens
}

count() {           # PATTERN FILE: matching lines (0 when none or no file)
    local n
    n=$(grep -c -e "$1" "$2" 2>/dev/null) || true
    echo "${n:-0}"
}

# What a step's server and Redis reported about overload, as a JSON object
# for the report: connections the master closed un-handed (metrics), times a
# worker's Redis link passed its bound and dropped commands, dashboards
# dropped as slow readers, subscriber links Redis closed for their pubsub
# output buffer (client-output-buffer-limit pubsub). Read before the server stops.
step_notes() {       # SYSTEM PORT REDIS_PORT
    local slog="$WORK/$1-$2.log" rlog="$WORK/redis-$3.log" handoff=null
    if [ "$1" = perfload ]; then
        handoff=$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
            sed -n 's/^perfload_handoff_failed_total \([0-9]*\).*/\1/p')
        [ -n "$handoff" ] || handoff=null
    fi
    printf '{"handoff_failed":%s,"redis_link_full":%s,"slow_dashboards":%s,"redis_closed_subscribers":%s}' \
        "$handoff" "$(count 'more than .* MB waiting' "$slog")" "$(count 'dropping slow client' "$slog")" \
        "$(count 'output buffer limits' "$rlog")"
}

# One step: fresh Redis + server, one bench run, JSON appended to $RESULTS.
run_step() {         # SYSTEM AGENTS
    local sys=$1 n=$2 port rport w split plan procs ramp json notes rc=0
    port=$(free_port)
    rport=$(free_port)
    plan=$(workers_for "$n") || { log "no worker count fits $n agents"; return 1; }
    w=${plan%% *}
    split=${plan#* }
    procs=$(procs_for "$n")
    # 1,000 connects/s: at this pace a 40,000-agent ramp connects every
    # agent when the samples leave CPU to spare (measured at 0.1 and 0.5 Hz);
    # at 1 Hz the load grows with the ramp, so its end is the heaviest moment.
    ramp=$(( n / 1000 )); [ $ramp -lt 5 ] && ramp=5
    start_redis "$rport" || return 1
    if [ "$sys" = perfload ]; then start_perfload "$port" "$rport" "$w"; else start_node "$port" "$rport" "$w"; fi || {
        log "$sys did not start"; stop_pid "$REDIS_PID"; return 1; }
    log "$sys: $n agents x ${RATE}/s, $DASHBOARDS dashboards, $w workers (PerfLoad routes $split), $procs generator processes, ramp ${ramp}s, window ${DURATION}s"
    CMD="perfload-bench --url http://127.0.0.1:$port --agent-key K --ui-key U --agents $n --dashboards $DASHBOARDS --rate $RATE --duration $DURATION --ramp $ramp --source-ips $SOURCE_IPS --procs $procs --server-pid SERVER --redis-pid REDIS --json"
    json=$("$BENCH" --url "http://127.0.0.1:$port" --agent-key "$AGENT_KEY" --ui-key "$UI_KEY" \
        --agents "$n" --dashboards "$DASHBOARDS" --rate "$RATE" --duration "$DURATION" --ramp "$ramp" \
        --source-ips "$SOURCE_IPS" --procs "$procs" \
        --server-pid "$SERVER_PID" --redis-pid "$REDIS_PID" --json) || rc=$?
    notes=$(step_notes "$sys" "$port" "$rport")
    stop_pid "$SERVER_PID"
    stop_pid "$REDIS_PID"
    if [ $rc != 0 ] || [ -z "$json" ]; then
        log "$sys: perfload-bench failed (exit $rc) at $n agents"
        json="{\"agents\":$n,\"failed\":true}"
    fi
    echo "{\"system\":\"$sys\",\"workers\":$w,\"split\":\"$split\",\"procs\":$procs,\"ramp\":$ramp,\"notes\":$notes,\"command\":\"$CMD\",\"result\":$json}" >> "$RESULTS"
    echo "$json" | node -e '
        const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const bad = r.failed || r.connect.failed > 0 || r.lost > 0 || r.latency_ms.p99 > 1000 ||
            r.per_dashboard.some((d) => d.dropped);
        process.exit(bad ? 1 : 0);'
}

run_ladder() {       # SYSTEM
    local n
    for n in $STEPS; do
        if ! run_step "$1" "$n"; then
            log "$1 broke at $n agents: ladder stops"
            break
        fi
    done
}

[ -x "$BENCH" ] && [ -x "$APPLIANCE" ] || { log "build first: make bins"; exit 1; }
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
if [ "$ONLY" != node ]; then run_ladder perfload; fi
if [ "$ONLY" != perfload ]; then
    if [ -d "$PEER_SRC" ] || [ -d "$PEER_DIR/node_modules" ]; then
        setup_node && run_ladder node
    else
        log "no Node reference at $PEER_SRC: PerfLoad only"
    fi
fi

MACHINE="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), Linux $(uname -r)"
node "$ROOT/bench/compare-report.mjs" "$RESULTS" "$OUT" "$MACHINE" "$DURATION" "$QUICK"
log "wrote $OUT"
