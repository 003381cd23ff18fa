#!/usr/bin/env bash
# memprofile.sh -- where a connected agent's bytes go in a worker.
#
#   bench/memprofile.sh [AGENTS] [SECONDS]        default 3000 agents, 20 s window
#
# One worker, its own redis-server, perfload-bench with AGENTS WebSocket
# agents at 1/s and 1 dashboard, from 40 loopback addresses. Prints:
#   - perfload-bench's memory per agent (server process tree RSS at the end
#     of the window minus RSS with only the dashboard, divided by agents:
#     the figure docs/benchmarks.md reports);
#   - the worker's own /proc/PID/smaps_rollup (Rss, Anonymous) and glibc
#     heap figures (malloc_info: in use, free in the arenas) before
#     the agents connect and in the middle of the window, as bytes per agent.
# MEMPROFILE_MI=0 skips the malloc_info snapshots (their watcher thread
# adds a fixed ~130 kB arena, nothing per agent). Extra appliance flags:
# MEMPROFILE_ARGS="...", another build: PERFLOAD_BUILD=DIR. Which
# allocations make up the figure: heaptrack the worker (see the final
# report of issue 10 / docs/benchmarks.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PERFLOAD_BUILD:-$ROOT/build}
AGENTS=${1:-3000}
WINDOW=${2:-20}
RAMP=${MEMPROFILE_RAMP:-5}
MI=${MEMPROFILE_MI:-1}
WORK=$(mktemp -d /tmp/perfload-memprofile.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# "kB" figures of /proc/PID/smaps_rollup: Rss Anonymous
rollup() { awk '/^Rss:/{r=$2} /^Anonymous:/{a=$2} END{print r, a}' "/proc/$1/smaps_rollup"; }

# glibc's own view (all arenas) from malloc_info(): bytes handed out and
# bytes free inside the heap. A preloaded shim runs a thread in each
# appliance process that writes malloc_info when asked through a file (gdb
# cannot call into the worker on this kind of VM: ptrace's xstate fails).
cat > "$WORK/mishim.c" <<'SHIM'
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void *mi_watch(void *arg)
{
    const char *dir = arg;
    char req[512], out[512], tag[32];
    for (;;) {
        usleep(100000);
        snprintf(req, sizeof(req), "%s/req.%d", dir, (int)getpid());
        FILE *r = fopen(req, "r");
        if (r == NULL)
            continue;
        if (fscanf(r, "%31s", tag) != 1)
            tag[0] = 0;
        fclose(r);
        snprintf(out, sizeof(out), "%s/mi.%d.%s.xml", dir, (int)getpid(), tag);
        FILE *o = fopen(out, "w");
        if (o) {
            malloc_info(0, o);
            fclose(o);
        }
        unlink(req);
    }
    return NULL;
}
__attribute__((constructor)) static void mi_start(void)
{
    const char *dir = getenv("MEMPROFILE_DIR");
    pthread_t t;
    if (dir && pthread_create(&t, NULL, mi_watch, (void *)dir) == 0)
        pthread_detach(t);
}
SHIM
cc -shared -fPIC -O2 -o "$WORK/mishim.so" "$WORK/mishim.c" -lpthread

heap() {
    local out=$WORK/mi.$1.$2.xml
    [ "$MI" = 1 ] || { echo "- -"; return; }
    echo "$2" > "$WORK/req.$1"
    for _ in $(seq 50); do [ -e "$WORK/req.$1" ] || break; sleep 0.1; done
    [ -s "$out" ] || { echo "- -"; return; }
    # The totals come last: in use = system current - free chunks (fast
    # bins and the rest), plus mmapped chunks.
    awk '/<total type="fast"/{match($0,/size="[0-9]+"/); fast=substr($0,RSTART+6,RLENGTH-7)}
         /<total type="rest"/{match($0,/size="[0-9]+"/); rest=substr($0,RSTART+6,RLENGTH-7)}
         /<total type="mmap"/{match($0,/size="[0-9]+"/); mm=substr($0,RSTART+6,RLENGTH-7)}
         /<system type="current"/{match($0,/size="[0-9]+"/); cur=substr($0,RSTART+6,RLENGTH-7)}
         END{print cur - fast - rest + mm, fast + rest}' "$out"
}

RP=$(port); P=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --logfile "$WORK/redis.log" &
REDIS=$!
PIDS+=($REDIS)
# shellcheck disable=SC2086
MEMPROFILE_DIR=$WORK LD_PRELOAD=$WORK/mishim.so \
    "$BUILD/perfload-appliance" --bind 127.0.0.1 --port "$P" --http-port "$(port)" --workers 1 \
    --redis "redis://127.0.0.1:$RP" --agent-key AK --ui-key UK --state-dir "$WORK/state" \
    --log-level 1 ${MEMPROFILE_ARGS:-} > "$WORK/appliance.log" 2>&1 &
APP=$!
PIDS+=($APP)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null && break; sleep 0.2; done
sleep 2
WORKER=$(pgrep -P "$APP" | head -1)
read -r RSS0 ANON0 < <(rollup "$WORKER")
read -r MRSS0 _ < <(rollup "$APP")
read -r USED0 FREE0 < <(heap "$WORKER" 0)
read -r MUSED0 MFREE0 < <(heap "$APP" 0)

"$BUILD/perfload-bench" --url "http://127.0.0.1:$P" --agent-key AK --ui-key UK --agents "$AGENTS" \
    --dashboards 1 --rate 1 --duration "$WINDOW" --ramp "$RAMP" --drain 2 \
    --source-ips 127.0.0.2-127.0.0.41 --server-pid "$APP" --redis-pid "$REDIS" --json \
    > "$WORK/bench.json" &
BENCH=$!
sleep $((RAMP + 1 + WINDOW / 2))
read -r RSS1 ANON1 < <(rollup "$WORKER")
read -r USED1 FREE1 < <(heap "$WORKER" 1)
read -r MUSED1 MFREE1 < <(heap "$APP" 1)
read -r MRSS1 _ < <(rollup "$APP")
wait $BENCH
CONNECTED=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(j.connect.ok)' "$WORK/bench.json" 2>/dev/null || true)
[ -n "$CONNECTED" ] || CONNECTED=$AGENTS
PER=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(j.server.bytes_per_agent)' "$WORK/bench.json")
per() { awk -v a="$1" -v b="$2" -v n="$CONNECTED" -v k="$3" 'BEGIN{ if (a=="-"||b=="-") print "-"; else printf "%.0f", (b-a)*k/n }'; }
echo "memprofile: $AGENTS agents ($CONNECTED connected), 1 worker, window ${WINDOW} s"
echo "  bench (process tree RSS, docs/benchmarks.md figure): $PER bytes per agent"
echo "  worker Rss       $RSS0 -> $RSS1 kB: $(per "$RSS0" "$RSS1" 1024) bytes per agent"
echo "  worker Anonymous $ANON0 -> $ANON1 kB: $(per "$ANON0" "$ANON1" 1024) bytes per agent"
echo "  malloc in use    $USED0 -> $USED1 B: $(per "$USED0" "$USED1" 1) bytes per agent"
echo "  malloc free      $FREE0 -> $FREE1 B: $(per "$FREE0" "$FREE1" 1) bytes per agent"
echo "  master Rss       $MRSS0 -> $MRSS1 kB: $(per "$MRSS0" "$MRSS1" 1024) bytes per agent; malloc in use $(per "$MUSED0" "$MUSED1" 1), free $(per "$MFREE0" "$MFREE1" 1)"
echo "(files: $WORK)"
