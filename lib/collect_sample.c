/* collect_sample.c -- allocation-free JSON writer for agent samples. */
#include "collect_sample.h"
#include "collect_mem.h"
#include "collect_text.h"

#include <math.h>             /* isfinite: a macro, no libm */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An append-only window over the caller's buffer; `failed` sticks once
 * anything did not fit, so callers check once at the end. */
struct jw {
    char *buf;
    size_t cap, len;
    int failed;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->failed || w->len + n >= w->cap) { w->failed = 1; return; }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void jw_lit(struct jw *w, const char *s) { jw_raw(w, s, strlen(s)); }

static void jw_fmt(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jw_fmt(struct jw *w, const char *fmt, ...)
{
    if (w->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) { w->failed = 1; return; }
    w->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    size_t n;
    unsigned cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) { n = 2; cp = s[0] & 0x1F; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; cp = s[0] & 0x0F; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    if (n > left) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* reject overlong forms, surrogates and values past U+10FFFF */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
    return n;
}

static void jw_str(struct jw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    jw_raw(w, "\"", 1);
    while (left > 0) {
        unsigned char ch = *p;
        if (ch == '"' || ch == '\\') {
            char esc[2] = { '\\', (char)ch };
            jw_raw(w, esc, 2);
        } else if (ch < 0x20 || ch == 0x7F) {
            jw_fmt(w, "\\u%04x", ch);
        } else if (ch >= 0x80) {
            size_t n = utf8_len(p, left);
            if (n == 0) { jw_raw(w, "?", 1); n = 1; }
            else jw_raw(w, (const char *)p, n);
            p += n; left -= n;
            continue;
        } else {
            jw_raw(w, (const char *)p, 1);
        }
        p++; left--;
    }
    jw_raw(w, "\"", 1);
}

/* Every field but the first (macA, written by hand) follows a comma. */
static void jw_key(struct jw *w, const char *key)
{
    jw_raw(w, ",\"", 2);
    jw_lit(w, key);
    jw_raw(w, "\":", 2);
}

static void jw_u64(struct jw *w, uint64_t v) { jw_fmt(w, "%llu", (unsigned long long)v); }

/* Numbers: whole numbers without a fraction, others with 2 decimals; NaN
 * and infinities (which JSON cannot carry) become 0. */
static void jw_num2(struct jw *w, double v)
{
    if (!isfinite(v)) v = 0;
    double r = collect_round2(v);
    if (r == collect_round(r) && r < 1e15 && r > -1e15) jw_fmt(w, "%.0f", r);
    else jw_fmt(w, "%.2f", r);
}

static void jw_whole(struct jw *w, double v)
{
    if (!isfinite(v) || v < 0) v = 0;
    jw_u64(w, v < 1.8e19 ? (uint64_t)v : UINT64_MAX);   /* truncates: whole units */
}


int collect_sample_json(const struct collect_sample *s, char *buf, size_t cap)
{
    struct jw w = { buf, cap, 0, 0 };
    if (cap == 0) return -1;

    jw_raw(&w, "{\"macA\":", 8);
    jw_str(&w, s->macA);
    jw_key(&w, "freeMem");  jw_u64(&w, s->freeMem);
    jw_key(&w, "totalMem"); jw_u64(&w, s->totalMem);
    jw_key(&w, "usedMem");  jw_u64(&w, s->usedMem);
    jw_key(&w, "memUsage"); jw_num2(&w, s->memUsage);
    jw_key(&w, "osType");   jw_str(&w, s->osType);
    jw_key(&w, "upTime");   jw_whole(&w, s->upTime);
    jw_key(&w, "cpuModel"); jw_str(&w, s->cpuModel);
    jw_key(&w, "numCores"); jw_fmt(&w, "%u", s->numCores);
    jw_key(&w, "cpuSpeed"); jw_whole(&w, collect_round(s->cpuSpeed));
    jw_key(&w, "cpuLoad");  jw_num2(&w, s->cpuLoad);
    jw_key(&w, "isActive"); jw_lit(&w, s->isActive ? "true" : "false");

    /* extras; count values as the server does (every JSON value) */
    unsigned ndisks = s->ndisks < COLLECT_SAMPLE_DISKS_MAX ? s->ndisks : COLLECT_SAMPLE_DISKS_MAX;
    unsigned nnet = s->nnet < COLLECT_SAMPLE_NET_MAX ? s->nnet : COLLECT_SAMPLE_NET_MAX;
    unsigned nodes = 4 /* swapTotal swapUsed kernel hostname */ + (s->has_loadavg ? 4 : 0) +
                     1 + 5 * ndisks + 1 + 4 * nnet + 1 /* cpuLoadPerCore array */;
    unsigned ncores = s->ncores_load < COLLECT_CPU_MAX_CORES ? s->ncores_load : COLLECT_CPU_MAX_CORES;
    if (nodes + ncores > COLLECT_SAMPLE_NODE_BUDGET) ncores = COLLECT_SAMPLE_NODE_BUDGET - nodes;

    jw_key(&w, "cpuLoadPerCore");
    jw_raw(&w, "[", 1);
    for (unsigned i = 0; i < ncores; i++) {
        if (i) jw_raw(&w, ",", 1);
        jw_num2(&w, s->cpuLoadPerCore[i]);
    }
    jw_raw(&w, "]", 1);
    if (s->has_loadavg) {
        jw_key(&w, "loadAvg");
        jw_raw(&w, "[", 1);
        for (int i = 0; i < 3; i++) {
            if (i) jw_raw(&w, ",", 1);
            jw_num2(&w, s->loadAvg[i]);
        }
        jw_raw(&w, "]", 1);
    }
    jw_key(&w, "swapTotal"); jw_u64(&w, s->swapTotal);
    jw_key(&w, "swapUsed");  jw_u64(&w, s->swapUsed);
    jw_key(&w, "disks");
    jw_raw(&w, "[", 1);
    for (unsigned i = 0; i < ndisks; i++) {
        const struct collect_disk_usage *d = &s->disks[i];
        jw_raw(&w, i ? ",{\"mount\":" : "{\"mount\":", i ? 10 : 9);
        jw_str(&w, d->mount);
        jw_lit(&w, ",\"total\":"); jw_u64(&w, d->total);
        jw_lit(&w, ",\"used\":");  jw_u64(&w, d->used);
        jw_lit(&w, ",\"avail\":"); jw_u64(&w, d->avail);
        jw_raw(&w, "}", 1);
    }
    jw_raw(&w, "]", 1);
    jw_key(&w, "net");
    jw_raw(&w, "[", 1);
    for (unsigned i = 0; i < nnet; i++) {
        const struct collect_net_rate *r = &s->net[i];
        jw_raw(&w, i ? ",{\"iface\":" : "{\"iface\":", i ? 10 : 9);
        jw_str(&w, r->name);
        jw_lit(&w, ",\"rxBps\":"); jw_whole(&w, collect_round(r->rx_bps));
        jw_lit(&w, ",\"txBps\":"); jw_whole(&w, collect_round(r->tx_bps));
        jw_raw(&w, "}", 1);
    }
    jw_raw(&w, "]", 1);
    jw_key(&w, "kernel"); jw_str(&w, s->kernel);
    jw_key(&w, "hostname"); jw_str(&w, s->hostname);
    jw_raw(&w, "}", 1);

    if (w.failed) return -1;
    buf[w.len] = '\0';
    return (int)w.len;
}
