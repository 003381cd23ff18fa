/* collect_cpu.h -- CPU load from two readings of /proc/stat.
 *
 * /proc/stat holds cumulative jiffies per state since boot: one "cpu" line
 * for all cores, then one "cpuN" line per online core. Load over an
 * interval is the share of non-idle time between two readings:
 *
 *   total = user+nice+system+idle+iowait+irq+softirq+steal
 *   idle  = idle+iowait                  busy = total - idle
 *   load% = 100 * (busy1 - busy0) / (total1 - total0)
 *
 * guest/guest_nice are left out: the kernel already counts them in
 * user/nice. Pure: text in, struct out. */
#ifndef PERFLOAD_COLLECT_CPU_H
#define PERFLOAD_COLLECT_CPU_H

#include <stddef.h>
#include <stdint.h>

#define COLLECT_CPU_MAX_CORES 1024

struct collect_cpu_times {
    uint64_t busy;      /* non-idle jiffies since boot */
    uint64_t total;     /* all jiffies since boot (steal included) */
};

struct collect_cpu_stat {
    struct collect_cpu_times all;                  /* the aggregate "cpu" line */
    unsigned ncores;                               /* cpuN lines kept (<= MAX) */
    uint32_t id[COLLECT_CPU_MAX_CORES];            /* N of each cpuN line, file order */
    struct collect_cpu_times core[COLLECT_CPU_MAX_CORES];
};

/* Parses /proc/stat. Returns 0, or -1 when there is no well-formed
 * aggregate "cpu" line. Malformed cpuN lines are skipped; cores beyond
 * COLLECT_CPU_MAX_CORES are ignored. */
int collect_cpu_parse(const char *text, size_t len, struct collect_cpu_stat *out);

/* Load in percent (0-100) between two readings of one line. A counter that
 * went backwards or did not move gives 0. */
double collect_cpu_load(const struct collect_cpu_times *prev, const struct collect_cpu_times *cur);

/* Per-core loads, in cur's core order, into out[0..cap). A core missing from
 * prev (hot-plugged in between) gets 0. Returns the number written. */
unsigned collect_cpu_load_per_core(const struct collect_cpu_stat *prev, const struct collect_cpu_stat *cur,
                                   double *out, unsigned cap);

#endif
