/* sample_rewrite.c -- what is built from a text sample_scan accepted and
 * its view, without parsing it again: the normalised text to relay
 * (sample_rewrite) and the compact history entry (sample_history_entry).
 * Numbers are copied as their tokens where short, so what a dashboard reads
 * is what the agent sent. */
#include "sample.h"
#include "decimal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes d as the shortest of %.15g / %.17g that reads back as d. */
static size_t rw_format_double(char *out, double d)
{
    int n = snprintf(out, 32, "%.15g", d);
    if (strtod(out, NULL) != d)
        n = snprintf(out, 32, "%.17g", d);
    return (size_t)n;
}

/* memUsage as relayed: its own token, memUseage's, or the derived value
 * formatted. Short tokens are copied; *tok is set to the bytes to write. */
static size_t rw_number_text(const char *json, const struct sample_view *v, enum sample_number id,
                               double value, char tmp[32], const char **tok)
{
    if ((v->present >> id) & 1 && v->num_len[id] <= 24) {
        *tok = json + v->num_off[id];
        return v->num_len[id];
    }
    *tok = tmp;
    return rw_format_double(tmp, value);
}

static size_t rw_mem_usage_text(const char *json, const struct sample_view *v, char tmp[32],
                                  const char **tok)
{
    if ((v->present >> SAMPLE_MEM_USAGE) & 1)
        return rw_number_text(json, v, SAMPLE_MEM_USAGE, v->mem_usage, tmp, tok);
    if ((v->present >> SAMPLE_MEM_USEAGE) & 1)
        return rw_number_text(json, v, SAMPLE_MEM_USEAGE, v->mem_usage, tmp, tok);
    *tok = tmp;
    return rw_format_double(tmp, v->mem_usage);
}

int sample_rewrite(const char *json, size_t len, const struct sample_view *v, int active,
                   char *out, size_t cap)
{
    const char *lit = active ? "true" : "false";
    size_t litlen = active ? 4 : 5, o = 0, from = 0;

    if (out == NULL || cap < len + SAMPLE_REWRITE_EXTRA)
        return -1;
    if (v->active >= 0) {
        memcpy(out, json, v->active_off);
        o = v->active_off;
        memcpy(out + o, lit, litlen);
        o += litlen;
        from = v->active_off + v->active_len;
    }
    memcpy(out + o, json + from, v->close_off - from);
    o += v->close_off - from;
    if (v->add_mem_usage) {
        char tmp[32];
        const char *tok;
        size_t n = rw_mem_usage_text(json, v, tmp, &tok);
        memcpy(out + o, ",\"memUsage\":", 12);
        o += 12;
        memcpy(out + o, tok, n);
        o += n;
    }
    if (v->active < 0) {
        memcpy(out + o, ",\"isActive\":", 12);
        o += 12;
        memcpy(out + o, lit, litlen);
        o += litlen;
    }
    memcpy(out + o, json + v->close_off, len - v->close_off);
    o += len - v->close_off;
    out[o] = '\0';
    return (int)o;
}

int sample_history_entry(const char *json, const struct sample_view *v, int64_t ts_ms,
                         char *buf, size_t buflen)
{
    static const struct {
        const char *key;
        size_t len;
        int id;
    } fields[] = {
        { ",\"cpuLoad\":", 11, SAMPLE_CPU_LOAD },
        { ",\"memUsage\":", 12, SAMPLE_MEM_USAGE },
        { ",\"usedMem\":", 11, SAMPLE_USED_MEM },
        { ",\"freeMem\":", 11, SAMPLE_FREE_MEM },
    };
    char tmp[SAMPLE_HISTORY_MAX];
    size_t o;

    if (buf == NULL)
        return -1;
    memcpy(tmp, "{\"ts\":", 6);
    o = 6 + decimal_i64(tmp + 6, ts_ms);
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
        char num[32];
        const char *tok;
        size_t n;
        int id = fields[k].id;
        if (id == SAMPLE_MEM_USAGE)
            n = rw_mem_usage_text(json, v, num, &tok);
        else if ((v->present >> id) & 1)
            n = rw_number_text(json, v, (enum sample_number)id, v->num[id], num, &tok);
        else
            continue;
        memcpy(tmp + o, fields[k].key, fields[k].len);
        o += fields[k].len;
        memcpy(tmp + o, tok, n);
        o += n;
    }
    tmp[o++] = '}';
    if (o + 1 > buflen)
        return -1;
    memcpy(buf, tmp, o);
    buf[o] = '\0';
    return (int)o;
}
