/* sample.c -- the machine-id rule every component shares (see sample.h);
 * the sample itself is scanned in sample_scan.c and rewritten in
 * sample_rewrite.c. */
#include "sample.h"

/* 1 for the bytes a machine id may hold: [0-9A-Za-z:._-]. */
static const unsigned char sample_mac_chars[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
    [':'] = 1, ['.'] = 1, ['_'] = 1, ['-'] = 1,
};

int sample_mac_valid(const char *mac, size_t len)
{
    if (mac == NULL || len == 0 || len > SAMPLE_MAC_MAX)
        return 0;
    /* "." and ".." would be path traversal as a directory name. */
    if ((len == 1 && mac[0] == '.') || (len == 2 && mac[0] == '.' && mac[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!sample_mac_chars[(unsigned char)mac[i]])
            return 0;
    return 1;
}
