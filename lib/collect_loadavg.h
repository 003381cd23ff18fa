/* collect_loadavg.h -- /proc/loadavg and /proc/uptime. Pure. */
#ifndef PERFLOAD_COLLECT_LOADAVG_H
#define PERFLOAD_COLLECT_LOADAVG_H

#include <stddef.h>

/* "0.52 0.58 0.59 2/1234 5678" -> out = {0.52, 0.58, 0.59} (1, 5, 15 min).
 * Returns 0 or -1. */
int collect_loadavg_parse(const char *text, size_t len, double out[3]);

#endif
