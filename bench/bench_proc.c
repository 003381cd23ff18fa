/* bench_proc.c -- process-tree CPU and RSS from /proc (see bench_proc.h). */
#include "bench_proc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define BENCH_PROC_MAX 4096

struct bench_proc_entry {
    pid_t pid, ppid;
    double cpu_s;
    long rss_kb;
};

/* /proc/PID/stat: the command name is in parentheses and may contain
 * spaces, so fields are counted from the last ')'. */
static int bench_proc_read(pid_t pid, struct bench_proc_entry *e)
{
    char path[64], buf[1024];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    char state;
    int ppid;
    unsigned long ut, st;
    long rss_pages;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime priority nice threads
     * itrealvalue starttime vsize rss */
    if (sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
               &state, &ppid, &ut, &st, &rss_pages) != 5)
        return -1;
    long tck = sysconf(_SC_CLK_TCK);
    long pg = sysconf(_SC_PAGESIZE);
    e->pid = pid;
    e->ppid = ppid;
    e->cpu_s = (double)(ut + st) / (double)(tck > 0 ? tck : 100);
    e->rss_kb = rss_pages * (pg / 1024);
    return 0;
}

int bench_proc_tree(pid_t root, struct bench_proc_usage *u)
{
    static struct bench_proc_entry all[BENCH_PROC_MAX];
    size_t n = 0;
    DIR *d = opendir("/proc");

    memset(u, 0, sizeof(*u));
    if (d == NULL)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < BENCH_PROC_MAX) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        if (bench_proc_read((pid_t)pid, &all[n]) == 0)
            n++;
    }
    closedir(d);

    /* Mark the root, then sweep until no new descendant is found (the
     * listing order is not parent-before-child). */
    char in[BENCH_PROC_MAX] = { 0 };
    int found = 0, grew = 1;
    for (size_t i = 0; i < n; i++)
        if (all[i].pid == root) {
            in[i] = 1;
            found = 1;
        }
    if (!found)
        return -1;
    while (grew) {
        grew = 0;
        for (size_t i = 0; i < n; i++) {
            if (in[i])
                continue;
            for (size_t j = 0; j < n; j++)
                if (in[j] && all[j].pid == all[i].ppid) {
                    in[i] = 1;
                    grew = 1;
                    break;
                }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (in[i]) {
            u->cpu_s += all[i].cpu_s;
            u->rss_kb += all[i].rss_kb;
            u->nprocs++;
        }
    return 0;
}

double bench_proc_self_cpu(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
