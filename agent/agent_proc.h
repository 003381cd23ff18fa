/* agent_proc.h -- the agent's I/O shell around the pure collectors.
 *
 * Reads /proc, /sys, /etc/machine-id and statvfs() under a root directory
 * ("" for the real one; --proc-root DIR for a container that mounts the
 * host's / at DIR) and turns them into a struct collect_sample.
 *
 * Rates (cpuLoad, net) need two readings: the struct keeps the previous
 * one. All buffers live in the struct or in this module's static scratch
 * space, so sampling never allocates. Not thread-safe (one loop thread). */
#ifndef PERFLOAD_AGENT_PROC_H
#define PERFLOAD_AGENT_PROC_H

#include <stddef.h>

#include "collect_cpu.h"
#include "collect_cpuinfo.h"
#include "collect_disk.h"
#include "collect_netdev.h"
#include "collect_sample.h"

struct agent_proc {
    char root[512];                 /* prefix for every path, "" = / */
    int host_mode;                  /* root given: per-namespace files of pid 1 */
    int verbose;

    /* previous reading (rates are measured against it) */
    int have_prev;
    double prev_time;               /* monotonic seconds */
    struct collect_cpu_stat cpu_prev, cpu_cur;
    struct collect_netdev net_prev, net_cur;

    /* slow-changing facts, refreshed now and then */
    struct collect_cpuinfo info;
    double info_refresh_at;         /* when to re-read cpuinfo for its MHz */
    unsigned cpufreq_cpu;           /* first online cpu, for its cpufreq files */
    struct collect_mounts mounts;
    double mounts_refresh_at;
    unsigned long root_dev;         /* st_dev of the agent's own "/" (host mode guard) */

    char macA[COLLECT_MACA_MAX];
    char osType[32];
    char kernel[64];
    char hostname[65];
};

/* Reads the static facts (macA unless id is given, OS, CPU model) and a
 * first reading of the counters. Returns 0, or -1 with a reason in err. */
int agent_proc_init(struct agent_proc *ap, const char *root, const char *id, int verbose,
                    char *err, size_t errlen);

/* Reads everything and fills s. Rates cover the time since the previous
 * reading. commit = 1 makes this reading the new previous one (the
 * periodic sample); commit = 0 leaves it (an extra sample such as
 * initPerfData, so the next periodic one still spans a whole interval).
 * Returns 0, or -1 with a reason in err (then s is incomplete). */
int agent_proc_sample(struct agent_proc *ap, struct collect_sample *s, int commit,
                      char *err, size_t errlen);

/* Seconds since the previous reading (the rates' interval). */
double agent_proc_age(const struct agent_proc *ap);

/* Monotonic clock in seconds. */
double agent_now(void);

#endif
