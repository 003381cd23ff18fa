/* collect_mac.h -- choosing the machine id (macA).
 *
 * macA is the MAC address of the first suitable network interface: not
 * loopback (name "lo" or ARPHRD_LOOPBACK type 772), with a well-formed,
 * non-zero hardware address. Interfaces backed by a device (those with a
 * /sys/class/net/<if>/device link: real NICs) come before virtual ones
 * (bridges, veth, docker0), and within each group the lowest name wins,
 * so the choice is stable across reboots. With no such interface (a
 * container with only lo), /etc/machine-id is used. Pure: the agent reads
 * sysfs and passes what it found. */
#ifndef PERFLOAD_COLLECT_MAC_H
#define PERFLOAD_COLLECT_MAC_H

#include <stddef.h>

#define COLLECT_MACA_MAX 65     /* 64 chars (DESIGN.md §3) + NUL */

struct collect_netif {
    char name[16];          /* interface name */
    char address[64];       /* content of .../address, e.g. "52:54:00:12:34:56\n" */
    int type;               /* content of .../type (ARPHRD_*), -1 if unknown */
    int has_device;         /* 1 when .../device exists */
};

/* 1 when text is a colon-separated hex hardware address that is not all
 * zeros (length 1..64, e.g. 6 octets for Ethernet, 20 for InfiniBand). */
int collect_mac_valid(const char *text, size_t len);

/* Writes the chosen macA (lower-case MAC, or the machine-id) into out
 * (capacity >= COLLECT_MACA_MAX). machine_id may be NULL. Returns 1 when a
 * MAC was chosen, 2 when the machine-id was, -1 when neither is usable. */
int collect_mac_pick(const struct collect_netif *ifs, unsigned n,
                     const char *machine_id, size_t machine_id_len,
                     char *out, size_t cap);

#endif
