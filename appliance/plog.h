/* plog.h -- the master's and workers' log lines.
 *
 * One line per event on stderr, written with a single fprintf so lines of
 * several processes sharing stderr never interleave:
 *   2026-11-27T19:18:37.471Z warn master: worker 1 (pid 21356) killed by signal 9 ...
 * Levels follow --log-level: 0 error, 1 warn, 2 info, 3 debug. */
#ifndef PERFLOAD_PLOG_H
#define PERFLOAD_PLOG_H

#include <stdint.h>

/* Logs when level <= max_level; who names the process ("master",
 * "worker 0 (pid 123)"). */
void plog(int max_level, int level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Wall-clock epoch milliseconds (for stats and log stamps). */
int64_t plog_wall_ms(void);

#endif
