/* collect_netdev.h -- network rates from two readings of /proc/net/dev.
 *
 * The file holds cumulative byte counters per interface. A counter that
 * goes backwards either wrapped (32-bit kernels wrap at 2^32) or was reset
 * (driver reload, interface recreated); collect_counter_delta() tells them
 * apart so one reading never produces an absurd spike. Pure. */
#ifndef PERFLOAD_COLLECT_NETDEV_H
#define PERFLOAD_COLLECT_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#define COLLECT_NET_MAX 64
#define COLLECT_IFNAME_MAX 16   /* IFNAMSIZ, NUL included */

struct collect_net_counters {
    char name[COLLECT_IFNAME_MAX];
    uint64_t rx_bytes;
    uint64_t tx_bytes;
};

struct collect_netdev {
    unsigned n;                                 /* interfaces kept */
    struct collect_net_counters iface[COLLECT_NET_MAX];
};

struct collect_net_rate {
    char name[COLLECT_IFNAME_MAX];
    double rx_bps;      /* received bytes per second */
    double tx_bps;      /* transmitted bytes per second */
};

/* Parses /proc/net/dev, skipping the two header lines and "lo". Keeps at
 * most COLLECT_NET_MAX interfaces in file order. Returns 0, or -1 when the
 * text has no interface line at all (lo included). */
int collect_netdev_parse(const char *text, size_t len, struct collect_netdev *out);

/* Bytes counted between two readings of one counter:
 *   cur >= prev                  -> cur - prev
 *   prev in [2^31, 2^32) > cur   -> 32-bit wrap: 2^32 - prev + cur
 *   otherwise                    -> reset: cur (traffic since the reset) */
uint64_t collect_counter_delta(uint64_t prev, uint64_t cur);

/* Rates for the interfaces present in both readings, in cur's order, over
 * `seconds` (> 0). Interfaces new in cur are left out until the next
 * reading. Returns the number written to out[0..cap). */
unsigned collect_netdev_rates(const struct collect_netdev *prev, const struct collect_netdev *cur,
                              double seconds, struct collect_net_rate *out, unsigned cap);

#endif
