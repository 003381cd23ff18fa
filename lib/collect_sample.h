/* collect_sample.h -- one agent sample and its JSON text.
 *
 * The agent fills a struct collect_sample from the collectors and writes it
 * with collect_sample_json() into a buffer it owns; nothing here allocates,
 * so sending a sample every second churns no heap. The field names and
 * units are the wire contract (DESIGN.md §3); everything after isActive is
 * an addition the server passes through. Pure. */
#ifndef PERFLOAD_COLLECT_SAMPLE_H
#define PERFLOAD_COLLECT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "collect_cpu.h"
#include "collect_cpuinfo.h"
#include "collect_disk.h"
#include "collect_mac.h"
#include "collect_netdev.h"

/* The server bounds the values inside extra fields (lib/sample.h:
 * SAMPLE_EXTRA_NODES = 1024); the writer keeps the extras under this many,
 * trimming the per-core list last. */
#define COLLECT_SAMPLE_NODE_BUDGET 1000
#define COLLECT_SAMPLE_DISKS_MAX 16
#define COLLECT_SAMPLE_NET_MAX 16

struct collect_disk_usage {
    char mount[COLLECT_MOUNT_PATH_MAX];
    uint64_t total;     /* bytes: f_blocks * f_frsize */
    uint64_t used;      /* bytes: (f_blocks - f_bfree) * f_frsize */
    uint64_t avail;     /* bytes free for unprivileged users: f_bavail * f_frsize */
};

struct collect_sample {
    /* DESIGN.md §3 */
    char macA[COLLECT_MACA_MAX];
    uint64_t freeMem, totalMem, usedMem;    /* bytes */
    double memUsage;                        /* 0-1, 2 decimals */
    char osType[32];                        /* uname sysname: "Linux" */
    double upTime;                          /* seconds since boot (written whole) */
    char cpuModel[COLLECT_CPU_MODEL_MAX];
    unsigned numCores;
    double cpuSpeed;                        /* MHz (written whole) */
    double cpuLoad;                         /* percent 0-100 over the interval */
    int isActive;                           /* always 1 from an agent */

    /* additions */
    unsigned ncores_load;                   /* entries in cpuLoadPerCore */
    double cpuLoadPerCore[COLLECT_CPU_MAX_CORES];
    int has_loadavg;
    double loadAvg[3];                      /* 1, 5, 15 min */
    uint64_t swapTotal, swapUsed;           /* bytes */
    unsigned ndisks;
    struct collect_disk_usage disks[COLLECT_SAMPLE_DISKS_MAX];
    unsigned nnet;
    struct collect_net_rate net[COLLECT_SAMPLE_NET_MAX];
    char kernel[64];                        /* uname release */
    char hostname[65];                      /* uname nodename: what people call the machine */
};

/* Writes s as one compact JSON object (NUL-terminated) into buf. Strings
 * are escaped and invalid UTF-8 bytes replaced by '?'. Returns the length,
 * or -1 when buf is too small. */
int collect_sample_json(const struct collect_sample *s, char *buf, size_t cap);

#endif
