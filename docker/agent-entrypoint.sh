#!/bin/sh
# perfload-agent-entrypoint [AGENT ARGS...] -- starts perfload-agent with a
# machine id suited to containers.
#
# A container's MAC is random per container, so the agent's default id (the
# MAC) would make every recreated container a new machine. Instead:
#   PERFLOAD_AGENT_ID    (the agent's own setting) wins: no slot is claimed;
#   AGENT_ID_DIR=dir     claim the lowest free slot N in dir (a volume shared
#                        by the replicas of a scaled service) and use
#                        "${AGENT_ID_PREFIX:-agent}-N". A slot is an flock on
#                        dir/slot-N.lock held by the agent process itself
#                        (fd 9 survives exec), so it is freed the moment the
#                        agent exits: `--scale agent=3` always yields
#                        agent-1..agent-3, across restarts and recreation;
#   neither              the agent's own default (MAC, else machine-id).
set -eu

if [ -n "${PERFLOAD_AGENT_ID:-}" ]; then
    exec perfload-agent "$@"
fi

if [ -n "${AGENT_ID_DIR:-}" ]; then
    prefix=${AGENT_ID_PREFIX:-agent}
    max=${AGENT_ID_MAX:-1024}
    n=1
    while [ "$n" -le "$max" ]; do
        exec 9>>"$AGENT_ID_DIR/slot-$n.lock"
        if flock -n 9; then
            echo "perfload-agent-entrypoint: id $prefix-$n (slot $n in $AGENT_ID_DIR)" >&2
            exec perfload-agent --id "$prefix-$n" "$@"
        fi
        exec 9>&-
        n=$((n + 1))
    done
    echo "perfload-agent-entrypoint: all $max id slots in $AGENT_ID_DIR are taken" >&2
    exit 1
fi

exec perfload-agent "$@"
