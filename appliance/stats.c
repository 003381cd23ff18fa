/* stats.c -- the shared counters region (see stats.h). */
#include "stats.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/time.h>

static int64_t stats_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Anonymous MAP_SHARED memory is inherited by fork() and stays shared, so
 * workers' writes are visible to the master without any IPC. The mapping
 * starts zeroed. */
struct appliance_stats *stats_create(uint32_t nworkers)
{
    if (nworkers > STATS_MAX_WORKERS)
        nworkers = STATS_MAX_WORKERS;
    void *p = mmap(NULL, sizeof(struct appliance_stats), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct appliance_stats *st = p;
    atomic_store_explicit(&st->started_ms, stats_now_ms(), memory_order_relaxed);
    atomic_store_explicit(&st->nworkers, nworkers, memory_order_relaxed);
    return st;
}

void stats_destroy(struct appliance_stats *st)
{
    if (st)
        munmap(st, sizeof(*st));
}
