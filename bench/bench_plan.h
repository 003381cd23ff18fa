/* bench_plan.h -- how many appliance workers a run needs so that no worker
 * holds more connections than one process may have fds.
 *
 * The appliance routes a connection by its source address (lib/worker_pick),
 * so with a few dozen --source-ips the split over workers is uneven (80
 * addresses over 3 workers: 25/25/30). This computes the real split with the
 * same hash, for agents and dashboards placed exactly as the generator
 * places them. */
#ifndef PERFLOAD_BENCH_PLAN_H
#define PERFLOAD_BENCH_PLAN_H

#include <stdint.h>

#include "bench.h"

#define BENCH_PLAN_WMAX 16

/* Connections each of w workers would hold (counts[0..w)). Returns the
 * largest count. */
uint32_t bench_plan_split(const struct bench_opts *o, uint32_t w, uint32_t counts[BENCH_PLAN_WMAX]);

/* The fewest workers, from wmin up to BENCH_PLAN_WMAX, whose busiest one
 * holds at most max_conns connections; counts[] is that split. 0 when even
 * BENCH_PLAN_WMAX workers do not fit. */
uint32_t bench_plan_workers(const struct bench_opts *o, uint32_t wmin, uint32_t max_conns,
                            uint32_t counts[BENCH_PLAN_WMAX]);

#endif
