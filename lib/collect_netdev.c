/* collect_netdev.c -- /proc/net/dev parsing and rates. */
#include "collect_netdev.h"
#include "collect_text.h"

#include <string.h>

int collect_netdev_parse(const char *text, size_t len, struct collect_netdev *out)
{
    struct collect_cursor c;
    const char *line, *end;
    int any = 0;

    out->n = 0;
    collect_cursor_init(&c, text, len);
    while (collect_next_line(&c, &line, &end)) {
        /* "  eth0: 123 4 0 0 0 0 0 0 567 8 ..."; the header lines have '|'
         * before any ':' or no ':' at all */
        const char *colon = memchr(line, ':', (size_t)(end - line));
        if (!colon || memchr(line, '|', (size_t)(colon - line))) continue;
        char name[COLLECT_IFNAME_MAX];
        if (collect_copy_trimmed(name, sizeof name, line, colon) == 0) continue;

        const char *p = colon + 1;
        uint64_t v[9];
        int ok = 1;
        for (int i = 0; i < 9 && ok; i++) ok = collect_parse_u64(&p, end, &v[i]) == 0;
        if (!ok) continue;
        any = 1;
        if (strcmp(name, "lo") == 0 || out->n >= COLLECT_NET_MAX) continue;
        struct collect_net_counters *ifc = &out->iface[out->n++];
        memcpy(ifc->name, name, sizeof ifc->name);
        ifc->rx_bytes = v[0];
        ifc->tx_bytes = v[8];
    }
    return any ? 0 : -1;
}

uint64_t collect_counter_delta(uint64_t prev, uint64_t cur)
{
    if (cur >= prev) return cur - prev;
    if (prev >= (UINT64_C(1) << 31) && prev <= UINT32_MAX)
        return (UINT64_C(1) << 32) - prev + cur;
    return cur;
}

unsigned collect_netdev_rates(const struct collect_netdev *prev, const struct collect_netdev *cur,
                              double seconds, struct collect_net_rate *out, unsigned cap)
{
    unsigned n = 0;
    if (seconds <= 0) return 0;
    for (unsigned i = 0; i < cur->n && n < cap; i++) {
        const struct collect_net_counters *now = &cur->iface[i], *before = NULL;
        if (i < prev->n && strcmp(prev->iface[i].name, now->name) == 0) {
            before = &prev->iface[i];
        } else {
            for (unsigned j = 0; j < prev->n; j++)
                if (strcmp(prev->iface[j].name, now->name) == 0) { before = &prev->iface[j]; break; }
        }
        if (!before) continue;
        struct collect_net_rate *r = &out[n++];
        memcpy(r->name, now->name, sizeof r->name);
        r->rx_bps = (double)collect_counter_delta(before->rx_bytes, now->rx_bytes) / seconds;
        r->tx_bps = (double)collect_counter_delta(before->tx_bytes, now->tx_bytes) / seconds;
    }
    return n;
}
