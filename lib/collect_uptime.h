/* collect_uptime.h -- /proc/uptime: "seconds-up idle-seconds". Pure. */
#ifndef PERFLOAD_COLLECT_UPTIME_H
#define PERFLOAD_COLLECT_UPTIME_H

#include <stddef.h>

/* Sets *seconds to the first number (seconds since boot). Returns 0 or -1. */
int collect_uptime_parse(const char *text, size_t len, double *seconds);

#endif
