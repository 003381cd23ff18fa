/* collect_mem.c -- /proc/meminfo parsing. */
#include "collect_mem.h"
#include "collect_text.h"

#include <string.h>

double collect_round2(double x)
{
    return collect_round(x * 100.0) / 100.0;
}

enum { MI_TOTAL, MI_FREE, MI_AVAILABLE, MI_BUFFERS, MI_CACHED, MI_SWAP_TOTAL, MI_SWAP_FREE, MI_COUNT };
static const char *const mi_names[MI_COUNT] = {
    "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree",
};

int collect_mem_parse(const char *text, size_t len, struct collect_mem *out)
{
    uint64_t v[MI_COUNT] = { 0 };
    int seen[MI_COUNT] = { 0 };
    struct collect_cursor c;
    const char *line, *end;

    memset(out, 0, sizeof *out);
    collect_cursor_init(&c, text, len);
    while (collect_next_line(&c, &line, &end)) {
        const char *colon = memchr(line, ':', (size_t)(end - line));
        if (!colon) continue;
        for (int i = 0; i < MI_COUNT; i++) {
            if (!seen[i] && collect_range_equals(line, colon, mi_names[i])) {
                const char *p = colon + 1;
                uint64_t kb;
                if (collect_parse_u64(&p, end, &kb) == 0 && kb <= UINT64_MAX / 1024) {
                    v[i] = kb * 1024;
                    seen[i] = 1;
                }
                break;
            }
        }
    }
    if (!seen[MI_TOTAL] || v[MI_TOTAL] == 0) return -1;
    if (!seen[MI_AVAILABLE] && !seen[MI_FREE]) return -1;

    out->total = v[MI_TOTAL];
    out->has_available = seen[MI_AVAILABLE];
    out->free = seen[MI_AVAILABLE] ? v[MI_AVAILABLE] : v[MI_FREE] + v[MI_BUFFERS] + v[MI_CACHED];
    if (out->free > out->total) out->free = out->total;
    out->used = out->total - out->free;
    out->usage = collect_round2((double)out->used / (double)out->total);
    out->swap_total = v[MI_SWAP_TOTAL];
    out->swap_used = v[MI_SWAP_FREE] <= v[MI_SWAP_TOTAL] ? v[MI_SWAP_TOTAL] - v[MI_SWAP_FREE] : 0;
    return 0;
}
