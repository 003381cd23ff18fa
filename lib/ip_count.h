/* ip_count.h -- how many connections each peer address holds, for
 * --max-conns-per-ip.
 *
 * The master routes every connection of one address to one worker, so a
 * worker's table is exact for its addresses. A small chained hash table
 * keyed by the textual address; an entry is freed when its count drops to
 * zero, so memory follows the number of distinct connected addresses. Not
 * thread-safe (one per event loop). */
#ifndef PERFLOAD_IP_COUNT_H
#define PERFLOAD_IP_COUNT_H

#include <stddef.h>

#define IP_COUNT_ADDR_MAX 64     /* longest address text kept (INET6_ADDRSTRLEN fits) */

struct ip_count;

struct ip_count *ip_count_create(void);
void ip_count_destroy(struct ip_count *t);

/* Counts one more connection from ip when it holds fewer than cap (cap <= 0:
 * no cap). 1 when counted, 0 when ip is at its cap (nothing counted), -1 on
 * allocation failure or an over-long address (nothing counted). */
int ip_count_acquire(struct ip_count *t, const char *ip, long cap);
/* Forgets one connection of ip (a no-op for an address with none). */
void ip_count_release(struct ip_count *t, const char *ip);
/* Connections counted for ip. */
long ip_count_get(const struct ip_count *t, const char *ip);
/* Distinct addresses with at least one connection. */
size_t ip_count_addresses(const struct ip_count *t);

#endif
