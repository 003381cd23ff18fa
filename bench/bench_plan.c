/* bench_plan.c -- the per-worker split of a run's connections (see bench_plan.h). */
#include "bench_plan.h"

#include <arpa/inet.h>
#include <string.h>

#include "worker_pick.h"

uint32_t bench_plan_split(const struct bench_opts *o, uint32_t w, uint32_t counts[BENCH_PLAN_WMAX])
{
    uint32_t slot[BENCH_IPS_MAX], loopback = 0, max = 0;
    char text[INET_ADDRSTRLEN];

    memset(counts, 0, sizeof(uint32_t) * BENCH_PLAN_WMAX);
    for (int i = 0; i < o->nips; i++) {
        inet_ntop(AF_INET, &o->ips[i], text, sizeof(text));
        slot[i] = worker_pick(text, w);
    }
    if (o->nips == 0)
        loopback = worker_pick("127.0.0.1", w);
    /* Agent id k leaves from ips[k % nips]; dashboard d from ips[nips-1-d % nips]
     * (bench_loop.c). */
    for (uint32_t k = 0; k < o->agents; k++)
        counts[o->nips ? slot[k % (uint32_t)o->nips] : loopback]++;
    for (uint32_t d = 0; d < o->dashboards; d++)
        counts[o->nips ? slot[o->nips - 1 - (int)(d % (uint32_t)o->nips)] : loopback]++;
    for (uint32_t i = 0; i < w; i++)
        if (counts[i] > max)
            max = counts[i];
    return max;
}

uint32_t bench_plan_workers(const struct bench_opts *o, uint32_t wmin, uint32_t max_conns,
                            uint32_t counts[BENCH_PLAN_WMAX])
{
    for (uint32_t w = wmin < 1 ? 1 : wmin; w <= BENCH_PLAN_WMAX; w++)
        if (bench_plan_split(o, w, counts) <= max_conns)
            return w;
    return 0;
}
