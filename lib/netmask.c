/* netmask.c -- CIDR lists and address matching (see netmask.h). */
#include "netmask.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char netmask_v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parses text as an address: family 4 (4 bytes) or 6 (16 bytes), 0 if neither. */
static int netmask_addr(const char *text, unsigned char out[16])
{
    if (inet_pton(AF_INET, text, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, text, out) == 1)
        return 6;
    return 0;
}

/* 1 when the first bits of a and b agree. */
static int netmask_prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int netmask_parse(const char *text, size_t len, struct netmask *out, char *err, size_t errlen)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf)) {
        snprintf(err, errlen, "'%.*s' is not an address or CIDR network", (int)(len < 64 ? len : 64), text);
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(out, 0, sizeof(*out));
    out->family = netmask_addr(buf, out->addr);
    if (out->family == 0) {
        snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", buf);
        return -1;
    }
    int max = out->family == 4 ? 32 : 128;
    out->bits = max;
    if (slash) {
        const char *b = slash + 1;
        char *end;
        errno = 0;
        long v = strtol(b, &end, 10);
        /* digits only: no sign, no spaces, no hex */
        if (!*b || b[strspn(b, "0123456789")] != '\0' || errno || *end || v < 0 || v > max) {
            snprintf(err, errlen, "'%.*s': prefix length must be 0..%d", (int)len, text, max);
            return -1;
        }
        out->bits = (int)v;
    }
    /* Clear the host bits so matching can compare prefixes directly. */
    int bytes = out->family == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++) {
        int keep = out->bits - i * 8;
        if (keep <= 0)
            out->addr[i] = 0;
        else if (keep < 8)
            out->addr[i] &= (unsigned char)(0xff << (8 - keep));
    }
    return 0;
}

int netmask_parse_list(const char *text, struct netmask_list *out, char *err, size_t errlen)
{
    out->n = 0;
    const char *p = text ? text : "";
    while (*p) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed == 0) {
            snprintf(err, errlen, "empty entry in the network list");
            return -1;
        }
        if (out->n == NETMASK_LIST_MAX) {
            snprintf(err, errlen, "more than %d networks", NETMASK_LIST_MAX);
            return -1;
        }
        if (netmask_parse(p, trimmed, &out->nets[out->n], err, errlen) < 0)
            return -1;
        out->n++;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p) {
                snprintf(err, errlen, "empty entry in the network list");
                return -1;
            }
        }
    }
    return 0;
}

int netmask_list_match(const struct netmask_list *list, const char *ip)
{
    unsigned char a[16];
    if (list == NULL || ip == NULL || list->n == 0)
        return 0;
    int family = netmask_addr(ip, a);
    if (family == 0)
        return 0;
    for (size_t i = 0; i < list->n; i++) {
        const struct netmask *m = &list->nets[i];
        if (m->family == family && netmask_prefix_equal(a, m->addr, m->bits))
            return 1;
        if (m->family == 4 && family == 6 && memcmp(a, netmask_v4_mapped, 12) == 0 &&
            netmask_prefix_equal(a + 12, m->addr, m->bits))
            return 1;
    }
    return 0;
}
