/* netmask.h -- lists of IPv4/IPv6 networks in CIDR notation, and matching a
 * peer address against them (--agent-networks).
 *
 * Pure: parsing uses inet_pton only, no I/O, no allocation. A bare address
 * ("10.1.2.3", "::1") is a /32 or /128. An IPv4-mapped IPv6 peer
 * ("::ffff:10.1.2.3", what a dual-stack listener reports) matches the IPv4
 * networks as the IPv4 address it carries. */
#ifndef PERFLOAD_NETMASK_H
#define PERFLOAD_NETMASK_H

#include <stddef.h>

#define NETMASK_LIST_MAX 64      /* networks in one list */

struct netmask {
    int family;                  /* 4 or 6 */
    int bits;                    /* prefix length: 0..32 or 0..128 */
    unsigned char addr[16];      /* network address, host bits cleared */
};

struct netmask_list {
    size_t n;                    /* 0 = empty list */
    struct netmask nets[NETMASK_LIST_MAX];
};

/* Parses one "ADDR[/BITS]" of len bytes. 0, or -1 with a reason in err. */
int netmask_parse(const char *text, size_t len, struct netmask *out, char *err, size_t errlen);

/* Parses "CIDR[,CIDR...]" (spaces around entries allowed; "" = empty list).
 * 0, or -1 with a reason naming the bad entry in err. */
int netmask_parse_list(const char *text, struct netmask_list *out, char *err, size_t errlen);

/* 1 when ip (textual IPv4 or IPv6, NUL-terminated) lies in one of the
 * list's networks; 0 otherwise, also for an unparsable ip or an empty list. */
int netmask_list_match(const struct netmask_list *list, const char *ip);

#endif
