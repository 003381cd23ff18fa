/* collect_mem.h -- memory and swap from /proc/meminfo.
 *
 * Definitions (the sample's contract, see docs/agent.md):
 *   freeMem  = MemAvailable: what new programs can get without swapping.
 *              Kernels before 3.14 lack it; then MemFree+Buffers+Cached.
 *   usedMem  = totalMem - freeMem
 *   memUsage = usedMem / totalMem, rounded to 2 decimals (0-1).
 * All sizes in bytes (the file says kB = 1024 bytes). Pure. */
#ifndef PERFLOAD_COLLECT_MEM_H
#define PERFLOAD_COLLECT_MEM_H

#include <stddef.h>
#include <stdint.h>

struct collect_mem {
    uint64_t total;         /* MemTotal */
    uint64_t free;          /* MemAvailable, or the fallback above */
    uint64_t used;          /* total - free */
    double usage;           /* used / total, 2 decimals */
    int has_available;      /* 1 when MemAvailable was present */
    uint64_t swap_total;    /* SwapTotal */
    uint64_t swap_used;     /* SwapTotal - SwapFree */
};

/* Returns 0, or -1 when MemTotal (or both MemAvailable and MemFree) is
 * missing or MemTotal is 0. */
int collect_mem_parse(const char *text, size_t len, struct collect_mem *out);

/* Rounds x to 2 decimals (half away from zero). */
double collect_round2(double x);

#endif
