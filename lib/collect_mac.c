/* collect_mac.c -- macA selection. */
#include "collect_mac.h"
#include "collect_text.h"

#include <ctype.h>
#include <string.h>

#define ARPHRD_LOOPBACK_TYPE 772

/* Trims and returns the address text length, 0 when not a valid MAC. */
static size_t mac_trimmed(const char *text, size_t len, char *buf, size_t cap)
{
    size_t n = collect_copy_trimmed(buf, cap, text, text + len);
    return collect_mac_valid(buf, n) ? n : 0;
}

int collect_mac_valid(const char *text, size_t len)
{
    int nonzero = 0, digits = 0;
    if (len == 0 || len > 64) return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == ':') {
            if (digits == 0) return 0;
            digits = 0;
        } else if (isxdigit((unsigned char)ch)) {
            if (++digits > 2) return 0;
            if (ch != '0') nonzero = 1;
        } else {
            return 0;
        }
    }
    return digits > 0 && nonzero;
}

static int eligible(const struct collect_netif *f)
{
    char buf[COLLECT_MACA_MAX];
    if (strcmp(f->name, "lo") == 0 || f->type == ARPHRD_LOOPBACK_TYPE) return 0;
    return mac_trimmed(f->address, strnlen(f->address, sizeof f->address), buf, sizeof buf) > 0;
}

/* 1 when a should be chosen before b. */
static int better(const struct collect_netif *a, const struct collect_netif *b)
{
    if (a->has_device != b->has_device) return a->has_device > b->has_device;
    return strncmp(a->name, b->name, sizeof a->name) < 0;
}

/* A machine-id is 32 hex digits; accept what macA allows anyway, but not
 * systemd's early-boot placeholder "uninitialized". */
static int machine_id_usable(const char *s, size_t n)
{
    if (n == 0 || n > 64 || (n == 13 && memcmp(s, "uninitialized", 13) == 0)) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return 0;
    return 1;
}

int collect_mac_pick(const struct collect_netif *ifs, unsigned n,
                     const char *machine_id, size_t machine_id_len,
                     char *out, size_t cap)
{
    const struct collect_netif *best = NULL;
    if (cap < COLLECT_MACA_MAX) return -1;
    for (unsigned i = 0; i < n; i++)
        if (eligible(&ifs[i]) && (!best || better(&ifs[i], best))) best = &ifs[i];
    if (best) {
        size_t len = mac_trimmed(best->address, strnlen(best->address, sizeof best->address), out, cap);
        for (size_t i = 0; i < len; i++) out[i] = (char)tolower((unsigned char)out[i]);
        return 1;
    }
    if (machine_id) {
        /* one byte more than a valid id can have, so a longer one is seen
         * as too long rather than silently cut */
        char id[COLLECT_MACA_MAX + 1];
        size_t len = collect_copy_trimmed(id, sizeof id, machine_id, machine_id + machine_id_len);
        if (machine_id_usable(id, len)) {
            memcpy(out, id, len + 1);
            return 2;
        }
    }
    out[0] = '\0';
    return -1;
}
