#!/usr/bin/env bash
# callgrind.sh -- instructions per message on the appliance's hot path,
# repeatable on a noisy machine (instruction counts do not depend on load).
#
#   bench/callgrind.sh [AGENTS] [SECONDS]     default 200 agents, 10 s window
#
# One worker under valgrind --tool=callgrind, its own redis-server,
# perfload-bench with AGENTS agents at 1/s and 1 dashboard. Counters are
# zeroed when the window starts and dumped when it ends (callgrind_control),
# so connects and set-up are left out; the report divides the worker's
# instruction count by the samples received in the window (each one relayed
# to one dashboard and written to Redis) and lists the top functions.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PERFLOAD_BUILD:-$ROOT/build}
AGENTS=${1:-200}
SECONDS_WINDOW=${2:-10}
WORK=$(mktemp -d /tmp/perfload-callgrind.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# The master re-executes itself for each worker via /proc/self/exe. A
# preloaded execve() turns that exec into "valgrind --tool=callgrind
# <appliance> <worker args>": the master runs natively, the worker under
# callgrind (valgrind following the exec from a valgrind'ed master loses the
# worker's argv).
cat > "$WORK/selfexe.c" <<'SHIM'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
int execve(const char *path, char *const argv[], char *const envp[])
{
    int (*real)(const char *, char *const[], char *const[]) =
        (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    const char *self = getenv("PERFLOAD_SELF_EXE"), *out = getenv("PERFLOAD_CG_OUT");
    if (self == NULL || out == NULL || strcmp(path, "/proc/self/exe") != 0)
        return real(path, argv, envp);
    char *nargv[256];
    int n = 0;
    nargv[n++] = (char *)"valgrind";
    nargv[n++] = (char *)"--tool=callgrind";
    nargv[n++] = (char *)out;
    nargv[n++] = (char *)self;
    for (int i = 1; argv[i] != NULL && n < 255; i++)
        nargv[n++] = argv[i];
    nargv[n] = NULL;
    return real("/usr/bin/valgrind", nargv, envp);
}
SHIM
cc -shared -fPIC -O2 -o "$WORK/selfexe.so" "$WORK/selfexe.c" -ldl

RP=$(port); P=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --logfile "$WORK/redis.log" &
PIDS+=($!)
PERFLOAD_SELF_EXE=$(readlink -f "$BUILD/perfload-appliance") LD_PRELOAD="$WORK/selfexe.so" \
PERFLOAD_CG_OUT="--callgrind-out-file=$WORK/cg.%p" \
    "$BUILD/perfload-appliance" --bind 127.0.0.1 --port "$P" --http-port "$(port)" --workers 1 \
    --redis "redis://127.0.0.1:$RP" --agent-key AK --ui-key UK --state-dir "$WORK/state" \
    --log-level 1 --worker-timeout 0 > "$WORK/appliance.log" 2>&1 &
APP=$!
PIDS+=($APP)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null && break; sleep 0.2; done
sleep 3
WORKER=$(pgrep -P "$APP" | head -1)
RAMP=5
"$BUILD/perfload-bench" --url "http://127.0.0.1:$P" --agent-key AK --ui-key UK --agents "$AGENTS" \
    --dashboards 1 --duration "$SECONDS_WINDOW" --ramp "$RAMP" --drain 2 --json > "$WORK/bench.json" &
BENCH=$!
sleep $((RAMP + 1))
callgrind_control -z "$WORKER" >/dev/null
sleep "$SECONDS_WINDOW"
callgrind_control -d "$WORKER" >/dev/null
wait $BENCH
kill "$APP"; wait "$APP" 2>/dev/null || true
DUMP=$WORK/cg.$WORKER.1                 # the window (callgrind_control -d)
MSGS=$(( AGENTS * SECONDS_WINDOW ))
IR=$(callgrind_annotate "$DUMP" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "callgrind: worker $WORKER, $AGENTS agents x 1/s for ${SECONDS_WINDOW} s = ~$MSGS samples in, each relayed to 1 dashboard"
echo "callgrind: $IR instructions = $(( IR / MSGS )) per sample"
# Self cost per function (the frames every call goes through show 100 %).
callgrind_annotate --inclusive=no --threshold=100 "$DUMP" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | grep -v '(100.0%)' | head -30
echo "(dump: $DUMP)"
