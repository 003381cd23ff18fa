/* farmhash.c -- farmhashmk::Hash32 (= Fingerprint32), written from the
 * published algorithm. Little-endian loads are done byte by byte so the
 * result is the same on any host byte order and alignment. */
#include "farmhash.h"

/* Murmur3's magic numbers and mixers, as FarmHash uses them. */
#define FH_C1 0xcc9e2d51u
#define FH_C2 0x1b873593u

static uint32_t fh_fetch(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | ((uint32_t)u[1] << 8) | ((uint32_t)u[2] << 16) |
           ((uint32_t)u[3] << 24);
}

/* Rotate right; every caller passes 0 < shift < 32. */
static uint32_t fh_rotate(uint32_t v, int shift)
{
    return (v >> shift) | (v << (32 - shift));
}

static uint32_t fh_fmix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t fh_mur(uint32_t a, uint32_t h)
{
    a *= FH_C1;
    a = fh_rotate(a, 17);
    a *= FH_C2;
    h ^= a;
    h = fh_rotate(h, 19);
    return h * 5 + 0xe6546b64u;
}

static uint32_t fh_len0to4(const char *s, size_t len)
{
    uint32_t b = 0, c = 9;
    for (size_t i = 0; i < len; i++) {
        /* The reference reads `signed char`: bytes >= 0x80 are negative. */
        int32_t v = (signed char)s[i];
        b = b * FH_C1 + (uint32_t)v;
        c ^= b;
    }
    return fh_fmix(fh_mur(b, fh_mur((uint32_t)len, c)));
}

static uint32_t fh_len5to12(const char *s, size_t len)
{
    uint32_t a = (uint32_t)len, b = (uint32_t)len * 5, c = 9, d = b;
    a += fh_fetch(s);
    b += fh_fetch(s + len - 4);
    c += fh_fetch(s + ((len >> 1) & 4));
    return fh_fmix(fh_mur(c, fh_mur(b, fh_mur(a, d))));
}

static uint32_t fh_len13to24(const char *s, size_t len)
{
    uint32_t a = fh_fetch(s - 4 + (len >> 1));
    uint32_t b = fh_fetch(s + 4);
    uint32_t c = fh_fetch(s + len - 8);
    uint32_t d = fh_fetch(s + (len >> 1));
    uint32_t e = fh_fetch(s);
    uint32_t f = fh_fetch(s + len - 4);
    uint32_t h = d * FH_C1 + (uint32_t)len;
    a = fh_rotate(a, 12) + f;
    h = fh_mur(c, h) + a;
    a = fh_rotate(a, 3) + c;
    h = fh_mur(e, h) + a;
    a = fh_rotate(a + f, 12) + d;
    h = fh_mur(b, h) + a;
    return fh_fmix(h);
}

/* One step of the long-input mixer: h = rot(h ^ x, 19) * 5 + const. */
static uint32_t fh_step(uint32_t h, uint32_t x)
{
    h ^= x;
    h = fh_rotate(h, 19);
    return h * 5 + 0xe6546b64u;
}

static uint32_t fh_scramble(uint32_t v)
{
    return fh_rotate(v * FH_C1, 17) * FH_C2;
}

uint32_t fh_fingerprint32(const char *s, size_t len)
{
    if (len <= 4)
        return fh_len0to4(s, len);
    if (len <= 12)
        return fh_len5to12(s, len);
    if (len <= 24)
        return fh_len13to24(s, len);

    uint32_t h = (uint32_t)len, g = FH_C1 * (uint32_t)len, f = g;
    uint32_t a0 = fh_scramble(fh_fetch(s + len - 4));
    uint32_t a1 = fh_scramble(fh_fetch(s + len - 8));
    uint32_t a2 = fh_scramble(fh_fetch(s + len - 16));
    uint32_t a3 = fh_scramble(fh_fetch(s + len - 12));
    uint32_t a4 = fh_scramble(fh_fetch(s + len - 20));
    h = fh_step(fh_step(h, a0), a2);
    g = fh_step(fh_step(g, a1), a3);
    f += a4;
    f = fh_rotate(f, 19) + 113;

    /* 20-byte blocks from the start; the tail was folded in above. */
    size_t iters = (len - 1) / 20;
    do {
        uint32_t a = fh_fetch(s);
        uint32_t b = fh_fetch(s + 4);
        uint32_t c = fh_fetch(s + 8);
        uint32_t d = fh_fetch(s + 12);
        uint32_t e = fh_fetch(s + 16);
        h += a;
        g += b;
        f += c;
        h = fh_mur(d, h) + e;
        g = fh_mur(c, g) + a;
        f = fh_mur(b + e * FH_C1, f) + d;
        f += g;
        g += f;
        s += 20;
    } while (--iters != 0);

    g = fh_rotate(g, 11) * FH_C1;
    g = fh_rotate(g, 17) * FH_C1;
    f = fh_rotate(f, 11) * FH_C1;
    f = fh_rotate(f, 17) * FH_C1;
    h = fh_rotate(h + g, 19);
    h = h * 5 + 0xe6546b64u;
    h = fh_rotate(h, 17) * FH_C1;
    h = fh_rotate(h + f, 19);
    h = h * 5 + 0xe6546b64u;
    h = fh_rotate(h, 17) * FH_C1;
    return h;
}
