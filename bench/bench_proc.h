/* bench_proc.h -- CPU time and RSS of a process and all its descendants,
 * read from /proc (the appliance's master + workers, Node's cluster, a
 * redis-server). A descendant that exits between two readings takes its CPU
 * with it (its parent's cutime only counts it once reaped), so read over a
 * window in which the tree is stable. */
#ifndef PERFLOAD_BENCH_PROC_H
#define PERFLOAD_BENCH_PROC_H

#include <sys/types.h>

struct bench_proc_usage {
    double cpu_s;        /* utime + stime of every process in the tree, seconds */
    long rss_kb;         /* sum of VmRSS */
    int nprocs;          /* processes found (0: the pid is gone) */
};

/* Fills u for pid's tree. Returns 0, or -1 when pid does not exist. */
int bench_proc_tree(pid_t pid, struct bench_proc_usage *u);

/* This process's own CPU seconds (user + system). */
double bench_proc_self_cpu(void);

#endif
