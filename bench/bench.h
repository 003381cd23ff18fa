/* bench.h -- perfload-bench: what the option parser, the event loop and the
 * report share.
 *
 * One generator process (bench_loop.c) runs an epoll loop over its share of
 * simulated agents and, in the first process only, the dashboards. With
 * --procs K the agents are split over K forked children and the parent
 * keeps the dashboards; children send their counters back over a pipe and
 * bench_main.c merges and reports them. Every timestamp is CLOCK_MONOTONIC
 * in microseconds, which all processes on the box share, so a dashboard in
 * one process can time a sample sent by another. */
#ifndef PERFLOAD_BENCH_H
#define PERFLOAD_BENCH_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench_hist.h"

#define BENCH_DASH_MAX 64
#define BENCH_IPS_MAX  1024

struct bench_opts {
    char host[256];              /* from --url */
    int port;
    char agent_key[256], ui_key[256];
    uint32_t agents, dashboards;
    double rate;                 /* samples per second per agent */
    double duration_s, ramp_s, drain_s;
    uint32_t period_ms;          /* 1000 / rate, whole milliseconds */
    struct in_addr ips[BENCH_IPS_MAX];
    int nips;                    /* 0: let the kernel pick 127.0.0.1 */
    pid_t server_pid, redis_pid;
    int procs;
    int json;
    int quiet;
    uint32_t plan_max;           /* --plan-workers: print the worker split and exit */
    char run_id[9];              /* in every macA: other runs' machines are ignored */
    uint32_t seq_cap;            /* most samples one agent can send (bitmap width) */
};

/* What one process measured; children send it to the parent as is, followed
 * by their per-agent sent counts. */
struct bench_counts {
    uint64_t connect_ok, connect_failed, dropped;
    uint64_t sent, sent_window;
    uint64_t send_blocked;        /* samples that had to wait for EPOLLOUT */
    double cpu_window_s;          /* this process's CPU over the window */
    double window_s;
};

struct bench_dash_result {
    uint64_t received, received_window, duplicates, distinct, foreign;
    int ready;
    int dropped;                  /* the server closed it during the run */
};

/* Filled by the process running the dashboards. */
struct bench_dash_report {
    struct bench_dash_result dash[BENCH_DASH_MAX];
    struct bench_hist hist;       /* latency over the window, every dashboard */
    uint64_t *distinct_per_agent; /* [agent * dashboards + d], allocated by the loop */
};

/* Window boundaries and /proc readings the parent takes at them. */
struct bench_probe {
    double server_cpu0, server_cpu1, redis_cpu0, redis_cpu1;
    long server_rss_base, server_rss_end, server_rss_max, redis_rss_end;
    int server_found, redis_found;
};

struct bench_loop_args {
    const struct bench_opts *o;
    uint32_t agent_lo, agent_hi;   /* global agent ids this process simulates */
    int with_dashboards;
    int go_fd;                     /* >= 0: children wait for t0 here */
    const int *child_go_fds;       /* parent: where to send t0 */
    int nchildren;
    uint32_t *sent_per_agent;      /* [agent_hi - agent_lo] */
    struct bench_counts counts;
    struct bench_dash_report *dash;
    struct bench_probe probe;
};

/* Runs one process's share of the benchmark. 0, or -1 with a message on
 * stderr (dashboards could not connect, epoll failed). */
int bench_loop_run(struct bench_loop_args *a);

uint64_t bench_now_us(void);

#endif
