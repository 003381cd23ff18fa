/* decimal.c -- see decimal.h. */
#include "decimal.h"

size_t decimal_u64(char *out, uint64_t v)
{
    char rev[DECIMAL_MAX];
    size_t n = 0, o = 0;

    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        out[o++] = rev[--n];
    return o;
}

size_t decimal_i64(char *out, int64_t v)
{
    if (v >= 0)
        return decimal_u64(out, (uint64_t)v);
    out[0] = '-';
    /* 0 - (uint64_t)v is |v| even for INT64_MIN. */
    return 1 + decimal_u64(out + 1, (uint64_t)0 - (uint64_t)v);
}
