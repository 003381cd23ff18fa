/* bench_main.c -- perfload-bench: options, generator processes, the report.
 *
 *   perfload-bench --url http://127.0.0.1:8000 --agent-key K --ui-key U \
 *       --agents 1000 --dashboards 2 --rate 1 --duration 30 --ramp 10 \
 *       [--source-ips 127.0.0.2-127.0.0.81] [--server-pid P] [--redis-pid P] \
 *       [--procs K] [--drain S] [--json]
 *
 * Timeline: dashboards connect and authenticate; t0; agents connect evenly
 * over --ramp seconds and send from the moment they are authenticated; the
 * steady-state window is [t0 + ramp, t0 + ramp + duration): offered load,
 * latency and CPU per message are measured over it; agents stop sending at
 * its end and everything stays connected --drain seconds more so loss counts
 * only what never arrived. Loss and duplicates cover every sample sent. */
#include "bench.h"
#include "bench_plan.h"
#include "bench_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: perfload-bench --agent-key KEY --ui-key KEY [options]\n"
            "  --url URL          server (http://IPv4:port), default http://127.0.0.1:8000\n"
            "  --agents N         simulated agents (default 100)\n"
            "  --dashboards M     dashboards recording every data (default 2, max %d)\n"
            "  --rate R           samples per second per agent (default 1; period in whole ms)\n"
            "  --duration S       steady-state window, seconds (default 10)\n"
            "  --ramp S           agents connect evenly over S seconds (default 5)\n"
            "  --drain S          wait after the window for in-flight samples (default 3)\n"
            "  --source-ips A-B   bind agents to loopback addresses A..B round-robin\n"
            "  --server-pid P     report CPU and RSS of P's process tree\n"
            "  --redis-pid P      same for Redis (separate column)\n"
            "  --procs K          fork K agent processes (dashboards stay in the parent)\n"
            "  --json             one JSON object on stdout instead of the table\n"
            "  --plan-workers C   print the fewest appliance workers (>= 2) none of which gets\n"
            "                     more than C of these connections, and the split; then exit\n",
            BENCH_DASH_MAX);
}

static int bench_parse_url(const char *url, struct bench_opts *o)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncmp(p, "ws://", 5) == 0)
        p += 5;
    const char *colon = strchr(p, ':');
    size_t hl = colon ? (size_t)(colon - p) : strcspn(p, "/");
    if (hl == 0 || hl >= sizeof(o->host))
        return -1;
    memcpy(o->host, p, hl);
    o->host[hl] = '\0';
    if (strcmp(o->host, "localhost") == 0)
        strcpy(o->host, "127.0.0.1");
    struct in_addr a;
    if (inet_pton(AF_INET, o->host, &a) != 1)
        return -1;
    o->port = colon ? atoi(colon + 1) : 80;
    return o->port > 0 && o->port < 65536 ? 0 : -1;
}

/* "A-B" (inclusive range), "A,B,C" or "A". */
static int bench_parse_ips(const char *s, struct bench_opts *o)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", s);
    char *dash = strchr(buf, '-');
    if (dash != NULL) {
        struct in_addr lo, hi;
        *dash = '\0';
        if (inet_pton(AF_INET, buf, &lo) != 1 || inet_pton(AF_INET, dash + 1, &hi) != 1)
            return -1;
        uint32_t a = ntohl(lo.s_addr), b = ntohl(hi.s_addr);
        if (b < a || b - a >= BENCH_IPS_MAX)
            return -1;
        for (uint32_t x = a; x <= b; x++)
            o->ips[o->nips++].s_addr = htonl(x);
        return 0;
    }
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        if (o->nips >= BENCH_IPS_MAX || inet_pton(AF_INET, tok, &o->ips[o->nips]) != 1)
            return -1;
        o->nips++;
    }
    return o->nips > 0 ? 0 : -1;
}

static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longopts[] = {
        { "url", required_argument, NULL, 'u' },
        { "agent-key", required_argument, NULL, 'a' },
        { "ui-key", required_argument, NULL, 'k' },
        { "agents", required_argument, NULL, 'n' },
        { "dashboards", required_argument, NULL, 'm' },
        { "rate", required_argument, NULL, 'r' },
        { "duration", required_argument, NULL, 'd' },
        { "ramp", required_argument, NULL, 'R' },
        { "drain", required_argument, NULL, 'D' },
        { "source-ips", required_argument, NULL, 's' },
        { "server-pid", required_argument, NULL, 'p' },
        { "redis-pid", required_argument, NULL, 'P' },
        { "procs", required_argument, NULL, 'K' },
        { "json", no_argument, NULL, 'j' },
        { "plan-workers", required_argument, NULL, 'W' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof(*o));
    bench_parse_url("http://127.0.0.1:8000", o);
    o->agents = 100;
    o->dashboards = 2;
    o->rate = 1;
    o->duration_s = 10;
    o->ramp_s = 5;
    o->drain_s = 3;
    o->procs = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (bench_parse_url(optarg, o) != 0) {
                fprintf(stderr, "perfload-bench: --url wants http://IPv4:port, got %s\n", optarg);
                return -1;
            }
            break;
        case 'a': snprintf(o->agent_key, sizeof(o->agent_key), "%s", optarg); break;
        case 'k': snprintf(o->ui_key, sizeof(o->ui_key), "%s", optarg); break;
        case 'n': o->agents = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'm': o->dashboards = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'r': o->rate = atof(optarg); break;
        case 'd': o->duration_s = atof(optarg); break;
        case 'R': o->ramp_s = atof(optarg); break;
        case 'D': o->drain_s = atof(optarg); break;
        case 's':
            if (bench_parse_ips(optarg, o) != 0) {
                fprintf(stderr, "perfload-bench: bad --source-ips %s\n", optarg);
                return -1;
            }
            break;
        case 'p': o->server_pid = (pid_t)atoi(optarg); break;
        case 'P': o->redis_pid = (pid_t)atoi(optarg); break;
        case 'K': o->procs = atoi(optarg); break;
        case 'j': o->json = 1; break;
        case 'W': o->plan_max = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'h': bench_usage(stdout); return 1;
        default: bench_usage(stderr); return -1;
        }
    }
    if ((o->plan_max == 0 && (o->agent_key[0] == '\0' || o->ui_key[0] == '\0')) ||
        strchr(o->agent_key, '"') || strchr(o->ui_key, '"') || strchr(o->agent_key, '\\') ||
        strchr(o->ui_key, '\\')) {
        fprintf(stderr, "perfload-bench: --agent-key and --ui-key are required (no quotes or backslashes)\n");
        return -1;
    }
    if (o->dashboards > BENCH_DASH_MAX || o->rate <= 0 || o->rate > 1000 || o->duration_s <= 0 ||
        o->ramp_s < 0 || o->drain_s < 0 || o->procs < 1 || o->procs > 64 || o->agents == 0) {
        fprintf(stderr, "perfload-bench: out of range: --dashboards <= %d, 0 < --rate <= 1000, "
                        "--duration > 0, --agents > 0, 1 <= --procs <= 64\n", BENCH_DASH_MAX);
        return -1;
    }
    o->period_ms = (uint32_t)lround(1000.0 / o->rate);
    if (o->period_ms == 0)
        o->period_ms = 1;
    o->seq_cap = (uint32_t)ceil((o->ramp_s + o->duration_s) * 1000.0 / o->period_ms) + 2;
    snprintf(o->run_id, sizeof(o->run_id), "%08x", (unsigned)(bench_now_us() ^ (uint64_t)getpid() << 16));
    return 0;
}

/* Each process needs one fd per connection; the hard limit is the ceiling. */
static void bench_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int bench_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int bench_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* -- the report -------------------------------------------------------------------- */

static void bench_json_number(char *out, size_t cap, double v, int decimals)
{
    if (isfinite(v))
        snprintf(out, cap, "%.*f", decimals, v);
    else
        snprintf(out, cap, "null");
}

struct bench_total {
    struct bench_counts c;
    double gen_cpu_max_pct;       /* the busiest generator process, % of one core */
    uint64_t lost[BENCH_DASH_MAX];
    uint64_t delivered_window, lost_all, dup_all;
};

static void bench_report(const struct bench_opts *o, const struct bench_total *t,
                         const struct bench_dash_report *dr, const struct bench_probe *pr)
{
    const struct bench_hist *h = &dr->hist;
    double win = t->c.window_s > 0 ? t->c.window_s : o->duration_s;
    double scpu = pr->server_cpu1 - pr->server_cpu0, rcpu = pr->redis_cpu1 - pr->redis_cpu0;
    double dw = t->delivered_window > 0 ? (double)t->delivered_window : NAN;
    double s_us = pr->server_found ? scpu * 1e6 / dw : NAN;
    double r_us = pr->redis_found ? rcpu * 1e6 / dw : NAN;
    double per_agent = pr->server_found && t->c.connect_ok > 0
                           ? (double)(pr->server_rss_end - pr->server_rss_base) * 1024.0 / (double)t->c.connect_ok
                           : NAN;
    double p50 = bench_hist_percentile(h, 50) / 1000.0, p90 = bench_hist_percentile(h, 90) / 1000.0;
    double p99 = bench_hist_percentile(h, 99) / 1000.0, p999 = bench_hist_percentile(h, 99.9) / 1000.0;
    double pmax = h->max / 1000.0, mean = h->count ? (double)h->sum / h->count / 1000.0 : 0;

    if (o->json) {
        /* JSON has no NaN: a figure with nothing to divide by is null. */
        char js_us[32], jr_us[32], jper[32];
        bench_json_number(js_us, sizeof(js_us), s_us, 3);
        bench_json_number(jr_us, sizeof(jr_us), r_us, 3);
        bench_json_number(jper, sizeof(jper), per_agent, 0);
        printf("{\"agents\":%u,\"dashboards\":%u,\"rate\":%g,\"duration_s\":%g,\"ramp_s\":%g,\"procs\":%d,",
               o->agents, o->dashboards, o->rate, o->duration_s, o->ramp_s, o->procs);
        printf("\"connect\":{\"ok\":%llu,\"failed\":%llu,\"dropped\":%llu},",
               (unsigned long long)t->c.connect_ok, (unsigned long long)t->c.connect_failed,
               (unsigned long long)t->c.dropped);
        printf("\"window_s\":%.3f,\"sent\":%llu,\"offered_window\":%llu,\"offered_per_s\":%.1f,\"send_blocked\":%llu,",
               win, (unsigned long long)t->c.sent, (unsigned long long)t->c.sent_window,
               t->c.sent_window / win, (unsigned long long)t->c.send_blocked);
        printf("\"per_dashboard\":[");
        for (uint32_t d = 0; d < o->dashboards; d++) {
            const struct bench_dash_result *r = &dr->dash[d];
            printf("%s{\"delivered\":%llu,\"delivered_window\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
                   "\"foreign\":%llu,\"dropped\":%s}",
                   d ? "," : "", (unsigned long long)r->distinct, (unsigned long long)r->received_window,
                   (unsigned long long)t->lost[d], (unsigned long long)r->duplicates,
                   (unsigned long long)r->foreign, r->dropped ? "true" : "false");
        }
        printf("],\"delivered_window\":%llu,\"lost\":%llu,\"duplicates\":%llu,",
               (unsigned long long)t->delivered_window, (unsigned long long)t->lost_all,
               (unsigned long long)t->dup_all);
        printf("\"latency_ms\":{\"count\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f},",
               (unsigned long long)h->count, p50, p90, p99, p999, pmax, mean);
        if (pr->server_found)
            printf("\"server\":{\"cpu_s\":%.3f,\"cpu_pct\":%.1f,\"cpu_us_per_delivered\":%s,\"rss_kb\":%ld,"
                   "\"rss_max_kb\":%ld,\"rss_base_kb\":%ld,\"bytes_per_agent\":%s},",
                   scpu, scpu / win * 100, js_us, pr->server_rss_end,
                   pr->server_rss_max > pr->server_rss_end ? pr->server_rss_max : pr->server_rss_end,
                   pr->server_rss_base, jper);
        else
            printf("\"server\":null,");
        if (pr->redis_found)
            printf("\"redis\":{\"cpu_s\":%.3f,\"cpu_pct\":%.1f,\"cpu_us_per_delivered\":%s,\"rss_kb\":%ld},",
                   rcpu, rcpu / win * 100, jr_us, pr->redis_rss_end);
        else
            printf("\"redis\":null,");
        printf("\"generator\":{\"cpu_s\":%.3f,\"busiest_process_pct\":%.1f}}\n",
               t->c.cpu_window_s, t->gen_cpu_max_pct);
        return;
    }
    printf("perfload-bench: %u agents x %g/s, %u dashboards, %d process(es), window %.1f s after a %.0f s ramp\n",
           o->agents, o->rate, o->dashboards, o->procs, win, o->ramp_s);
    printf("  connect        %llu ok, %llu failed, %llu dropped later\n",
           (unsigned long long)t->c.connect_ok, (unsigned long long)t->c.connect_failed,
           (unsigned long long)t->c.dropped);
    printf("  offered        %llu in window (%.1f/s), %llu sent in all\n",
           (unsigned long long)t->c.sent_window, t->c.sent_window / win, (unsigned long long)t->c.sent);
    for (uint32_t d = 0; d < o->dashboards; d++)
        printf("  dashboard %-4u delivered %llu (window %llu), lost %llu, duplicates %llu%s\n", d,
               (unsigned long long)dr->dash[d].distinct, (unsigned long long)dr->dash[d].received_window,
               (unsigned long long)t->lost[d], (unsigned long long)dr->dash[d].duplicates,
               dr->dash[d].dropped ? ", DROPPED by the server" : "");
    printf("  latency ms     p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (n=%llu)\n",
           p50, p90, p99, p999, pmax, (unsigned long long)h->count);
    if (pr->server_found)
        printf("  server         %.2f CPU s (%.0f %% of a core), %.2f us per delivered message, RSS %ld kB "
               "(base %ld kB, %.0f B per agent)\n",
               scpu, scpu / win * 100, s_us, pr->server_rss_end, pr->server_rss_base, per_agent);
    if (pr->redis_found)
        printf("  redis          %.2f CPU s (%.0f %%), %.2f us per delivered message, RSS %ld kB\n",
               rcpu, rcpu / win * 100, r_us, pr->redis_rss_end);
    printf("  generator      %.2f CPU s, busiest process %.0f %% of a core%s\n", t->c.cpu_window_s,
           t->gen_cpu_max_pct, t->gen_cpu_max_pct > 85 ? "  (SATURATED: add --procs)" : "");
}

/* -- processes ---------------------------------------------------------------------- */

static void bench_add_counts(struct bench_total *t, const struct bench_counts *c)
{
    t->c.connect_ok += c->connect_ok;
    t->c.connect_failed += c->connect_failed;
    t->c.dropped += c->dropped;
    t->c.sent += c->sent;
    t->c.sent_window += c->sent_window;
    t->c.send_blocked += c->send_blocked;
    t->c.cpu_window_s += c->cpu_window_s;
    if (c->window_s > t->c.window_s)
        t->c.window_s = c->window_s;
    double pct = c->window_s > 0 ? c->cpu_window_s / c->window_s * 100 : 0;
    if (pct > t->gen_cpu_max_pct)
        t->gen_cpu_max_pct = pct;
}

/* A child simulates agents [lo, hi), then sends its counters and each
 * agent's sent count up the result pipe. */
static int bench_child(const struct bench_opts *o, uint32_t lo, uint32_t hi, int go_fd, int res_fd)
{
    struct bench_loop_args a = { .o = o, .agent_lo = lo, .agent_hi = hi, .go_fd = go_fd };

    a.sent_per_agent = calloc(hi - lo + 1, sizeof(uint32_t));
    if (a.sent_per_agent == NULL || bench_loop_run(&a) != 0)
        return 1;
    if (bench_write_full(res_fd, &a.counts, sizeof(a.counts)) != 0 ||
        bench_write_full(res_fd, a.sent_per_agent, (hi - lo) * sizeof(uint32_t)) != 0)
        return 1;
    free(a.sent_per_agent);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    int r = bench_parse(argc, argv, &o);
    if (r != 0)
        return r > 0 ? 0 : 64;
    if (o.plan_max > 0) {
        uint32_t counts[BENCH_PLAN_WMAX];
        uint32_t w = bench_plan_workers(&o, 2, o.plan_max, counts);
        if (w == 0) {
            fprintf(stderr, "perfload-bench: %d workers are not enough for at most %u connections each\n",
                    BENCH_PLAN_WMAX, o.plan_max);
            return 1;
        }
        printf("%u", w);
        for (uint32_t i = 0; i < w; i++)
            printf("%c%u", i ? ',' : ' ', counts[i]);
        printf("\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    bench_raise_nofile();

    int K = o.procs > 1 ? o.procs : 0;           /* children; 0: all in this process */
    pid_t kids[64];
    int go[64], res[64];
    for (int k = 0; k < K; k++) {
        int gp[2], rp[2];
        if (pipe(gp) != 0 || pipe(rp) != 0) {
            perror("perfload-bench: pipe");
            return 70;
        }
        uint32_t lo = (uint32_t)((uint64_t)o.agents * k / K), hi = (uint32_t)((uint64_t)o.agents * (k + 1) / K);
        pid_t pid = fork();
        if (pid < 0) {
            perror("perfload-bench: fork");
            return 70;
        }
        if (pid == 0) {
            close(gp[1]);
            close(rp[0]);
            for (int j = 0; j < k; j++) {
                close(go[j]);
                close(res[j]);
            }
            return bench_child(&o, lo, hi, gp[0], rp[1]);
        }
        close(gp[0]);
        close(rp[1]);
        kids[k] = pid;
        go[k] = gp[1];
        res[k] = rp[0];
    }

    static struct bench_dash_report dr;
    struct bench_loop_args a = {
        .o = &o, .agent_lo = 0, .agent_hi = K ? 0 : o.agents, .with_dashboards = 1,
        .go_fd = -1, .child_go_fds = go, .nchildren = K, .dash = &dr,
    };
    uint32_t *sent = calloc(o.agents, sizeof(uint32_t));
    a.sent_per_agent = sent;
    if (sent == NULL)
        return 70;
    int rc = bench_loop_run(&a);

    struct bench_total t;
    memset(&t, 0, sizeof(t));
    bench_add_counts(&t, &a.counts);
    for (int k = 0; k < K; k++) {
        struct bench_counts c;
        uint32_t lo = (uint32_t)((uint64_t)o.agents * k / K), hi = (uint32_t)((uint64_t)o.agents * (k + 1) / K);
        close(go[k]);                                /* a child still waiting for t0 gives up */
        if (bench_read_full(res[k], &c, sizeof(c)) != 0 ||
            bench_read_full(res[k], sent + lo, (hi - lo) * sizeof(uint32_t)) != 0) {
            fprintf(stderr, "perfload-bench: generator process %d reported nothing\n", k);
            rc = -1;
        } else {
            bench_add_counts(&t, &c);
        }
        close(res[k]);
        waitpid(kids[k], NULL, 0);
    }
    if (rc != 0)
        return 2;

    for (uint32_t d = 0; d < o.dashboards; d++) {
        for (uint32_t i = 0; i < o.agents; i++) {
            uint64_t got = dr.distinct_per_agent[(size_t)i * o.dashboards + d];
            if (sent[i] > got)
                t.lost[d] += sent[i] - got;
        }
        t.lost_all += t.lost[d];
        t.dup_all += dr.dash[d].duplicates;
        t.delivered_window += dr.dash[d].received_window;
    }
    bench_report(&o, &t, &dr, &a.probe);
    free(sent);
    free(dr.distinct_per_agent);
    return 0;
}
