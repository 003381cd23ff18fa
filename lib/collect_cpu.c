/* collect_cpu.c -- /proc/stat parsing and load over an interval. */
#include "collect_cpu.h"
#include "collect_text.h"

#include <string.h>

/* Parses the counters after "cpu"/"cpuN". At least user..idle (4 fields)
 * must be there: kernels before 2.6 had no iowait/irq/softirq/steal. */
static int parse_times(const char *p, const char *end, struct collect_cpu_times *t)
{
    uint64_t v[8] = { 0 };
    int n = 0;
    while (n < 8 && collect_parse_u64(&p, end, &v[n]) == 0) n++;
    if (n < 4) return -1;
    uint64_t idle = v[3] + v[4];
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) total += v[i];
    t->total = total;
    t->busy = total - idle;
    return 0;
}

int collect_cpu_parse(const char *text, size_t len, struct collect_cpu_stat *out)
{
    struct collect_cursor c;
    const char *line, *end;
    int have_all = 0;

    out->ncores = 0;
    memset(&out->all, 0, sizeof out->all);
    collect_cursor_init(&c, text, len);
    while (collect_next_line(&c, &line, &end)) {
        if (!collect_starts_with(line, end, "cpu")) {
            /* the cpu lines come first; stop at the first other line once
             * we have them (the "intr" line after them can be huge) */
            if (have_all) break;
            continue;
        }
        const char *p = line + 3;
        if (p < end && (*p == ' ' || *p == '\t')) {
            if (parse_times(p, end, &out->all) == 0) have_all = 1;
            continue;
        }
        uint64_t id;
        if (collect_parse_u64(&p, end, &id) != 0 || id > UINT32_MAX) continue;
        if (p >= end || (*p != ' ' && *p != '\t')) continue;
        if (out->ncores >= COLLECT_CPU_MAX_CORES) continue;
        if (parse_times(p, end, &out->core[out->ncores]) != 0) continue;
        out->id[out->ncores] = (uint32_t)id;
        out->ncores++;
    }
    return have_all ? 0 : -1;
}

double collect_cpu_load(const struct collect_cpu_times *prev, const struct collect_cpu_times *cur)
{
    if (cur->total <= prev->total || cur->busy < prev->busy) return 0.0;
    double dt = (double)(cur->total - prev->total);
    double db = (double)(cur->busy - prev->busy);
    double load = 100.0 * db / dt;
    return load > 100.0 ? 100.0 : load;
}

unsigned collect_cpu_load_per_core(const struct collect_cpu_stat *prev, const struct collect_cpu_stat *cur,
                                   double *out, unsigned cap)
{
    unsigned n = cur->ncores < cap ? cur->ncores : cap;
    for (unsigned i = 0; i < n; i++) {
        const struct collect_cpu_times *before = NULL;
        /* same position is the usual case; search only after hotplug */
        if (i < prev->ncores && prev->id[i] == cur->id[i]) {
            before = &prev->core[i];
        } else {
            for (unsigned j = 0; j < prev->ncores; j++)
                if (prev->id[j] == cur->id[i]) { before = &prev->core[j]; break; }
        }
        out[i] = before ? collect_cpu_load(before, &cur->core[i]) : 0.0;
    }
    return n;
}
