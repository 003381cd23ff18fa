/* stats.c -- the shared counters region (see stats.h). */
#define _GNU_SOURCE
#include "stats.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

static int64_t stats_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static struct appliance_stats *stats_map(int fd)
{
    void *p = mmap(NULL, sizeof(struct appliance_stats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* A memfd rather than anonymous memory: workers are exec'ed, and an exec
 * drops every mapping, but an fd survives it and maps the same pages. A new
 * memfd reads as zeroes. */
struct appliance_stats *stats_create(uint32_t nworkers, int *fd_out)
{
    if (nworkers > STATS_MAX_WORKERS)
        nworkers = STATS_MAX_WORKERS;
    int fd = memfd_create("perfload-stats", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct appliance_stats *st = NULL;
    if (ftruncate(fd, (off_t)sizeof(struct appliance_stats)) == 0)
        st = stats_map(fd);
    if (!st) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    atomic_store_explicit(&st->started_ms, stats_now_ms(), memory_order_relaxed);
    atomic_store_explicit(&st->nworkers, nworkers, memory_order_relaxed);
    *fd_out = fd;
    return st;
}

/* The size check refuses an fd that is not our region (a wrong --stats-fd)
 * before anything is written through the mapping. */
struct appliance_stats *stats_attach(int fd)
{
    off_t size = lseek(fd, 0, SEEK_END);
    if (size != (off_t)sizeof(struct appliance_stats)) {
        errno = size < 0 ? errno : EINVAL;
        return NULL;
    }
    return stats_map(fd);
}

void stats_destroy(struct appliance_stats *st)
{
    if (st)
        munmap(st, sizeof(*st));
}
