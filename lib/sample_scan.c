/* sample_scan.c -- one pass over a sample's JSON text: strict RFC 8259 +
 * UTF-8 syntax and the sample schema together, no tree, no allocation (see
 * sample.h). What is built from the text and its view afterwards is in
 * sample_rewrite.c.
 *
 * Errors: a syntax error stops the scan at once (SAMPLE_SYNTAX). A schema
 * error is recorded (the first one wins) and the scan goes on checking the
 * syntax only, so that broken JSON is always SAMPLE_SYNTAX whatever else is
 * wrong with it, as it was when cJSON parsed first. */
#include "sample.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number token longer than this is refused (SAMPLE_INVALID): cJSON, which
 * still reads stored samples in places, copies at most 63 characters of a
 * number and then fails on the rest, so a longer one could be accepted here
 * and be unreadable there. No real sample comes close. */
#define SCAN_NUMBER_MAX 63

/* Nesting the syntax-only walk follows (inside a value already refused, or a
 * top-level non-object): cJSON's own limit is 1000, beyond it the text is
 * not something the rest of the system could parse anyway. */
#define SCAN_NEST_MAX 1024

/* Largest byte count we accept: beyond 2^53 a double no longer holds an
 * integer exactly, and no machine has that much memory. */
#define SAMPLE_BYTES_MAX 9007199254740992.0

/* A numeric field's rule: name, range, and whether it must be an integer. */
struct sample_number_rule {
    const char *name;
    size_t name_len;
    double min, max;
    int integer;
};

/* Indexed by enum sample_number. */
static const struct sample_number_rule sample_number_rules[SAMPLE_NUMBERS] = {
    [SAMPLE_CPU_LOAD]   = { "cpuLoad", 7, 0, 100, 0 },
    [SAMPLE_MEM_USAGE]  = { "memUsage", 8, 0, 1, 0 },
    [SAMPLE_MEM_USEAGE] = { "memUseage", 9, 0, 1, 0 },
    [SAMPLE_FREE_MEM]   = { "freeMem", 7, 0, SAMPLE_BYTES_MAX, 0 },
    [SAMPLE_TOTAL_MEM]  = { "totalMem", 8, 0, SAMPLE_BYTES_MAX, 0 },
    [SAMPLE_USED_MEM]   = { "usedMem", 7, 0, SAMPLE_BYTES_MAX, 0 },
    [SAMPLE_UP_TIME]    = { "upTime", 6, 0, SAMPLE_BYTES_MAX, 0 },
    [SAMPLE_CPU_SPEED]  = { "cpuSpeed", 8, 0, 1e6, 0 },
    [SAMPLE_NUM_CORES]  = { "numCores", 8, 1, 4096, 1 },
};

/* Top-level names the schema knows beyond the numbers. */
enum scan_field {
    SCAN_MAC_A = SAMPLE_NUMBERS,
    SCAN_OS_TYPE,
    SCAN_CPU_MODEL,
    SCAN_IS_ACTIVE,
    SCAN_EXTRA
};

/* The scanner's state: the text, the position, the first schema error. */
struct scan {
    const char *t;
    size_t len;
    size_t i;
    char *err;
    size_t errlen;
    int invalid;        /* a schema error is recorded in err */
    int nodes;          /* values inside extra fields so far */
    const char *field;  /* the top-level name being scanned (not NUL-terminated) */
    size_t field_len;
};

/* A string token: t[start..end) between the quotes, its decoded length. */
struct scan_str {
    size_t start, end;
    size_t dlen;
    int escaped;        /* has a backslash: decode before comparing */
};

static int scan_syntax(struct scan *s, const char *what)
{
    if (s->err != NULL && s->errlen > 0)
        snprintf(s->err, s->errlen, "invalid JSON at byte %zu: %s", s->i, what);
    return SAMPLE_SYNTAX;
}

static void scan_invalid(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a schema error unless one is already there; the scan goes on. */
static void scan_invalid(struct scan *s, const char *fmt, ...)
{
    if (s->invalid)
        return;
    s->invalid = 1;
    if (s->err != NULL && s->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err, s->errlen, fmt, ap);
        va_end(ap);
    }
}

/* A field name fit for a one-line ASCII error message: at most 64 bytes,
 * control and non-ASCII bytes shown as '?'. */
static const char *scan_printable(char out[SAMPLE_KEY_MAX + 1], const char *name, size_t len)
{
    if (len > SAMPLE_KEY_MAX)
        len = SAMPLE_KEY_MAX;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)name[k];
        out[k] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    out[len] = '\0';
    return out;
}

/* The current field's name for an error message. */
static const char *scan_field_shown(const struct scan *s, char out[SAMPLE_KEY_MAX + 1])
{
    return scan_printable(out, s->field, s->field_len);
}

static inline void scan_ws(struct scan *s)
{
    /* Most tokens follow each other with no whitespace at all. */
    if (s->i < s->len && (unsigned char)s->t[s->i] > ' ')
        return;
    while (s->i < s->len) {
        char c = s->t[s->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        s->i++;
    }
}

/* 1 for the bytes a string's fast loop must stop at: '"', '\\', control
 * characters and the start of any non-ASCII sequence. */
static const unsigned char scan_string_stop[256] = {
    [0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

/* The offset of the first byte at or after i that scan_string_stop flags
 * (or len). Eight bytes at a time where the text allows: a word with no
 * '"', '\\', control or non-ASCII byte is skipped in a few instructions
 * (the has-zero-byte / has-less-than tricks: exact for "is there any"). */
static inline size_t scan_string_run(const char *t, size_t i, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (i + 8 <= len) {
        uint64_t x, q, b;
        memcpy(&x, t + i, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        uint64_t stop = (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & highs;
        if (stop != 0)
            return i + ((size_t)__builtin_ctzll(stop) >> 3);
        i += 8;
    }
#endif
    while (i < len && !scan_string_stop[(unsigned char)t[i]])
        i++;
    return i;
}

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 when it
 * is not one: overlongs, UTF-16 surrogates and code points above U+10FFFF
 * are refused (Unicode Table 3-7). */
static size_t scan_utf8(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t need;

    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < need; k++)
        if (p[k] < 0x80 || p[k] > 0xbf)
            return 0;
    return need;
}

static int scan_hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Scans the string at s->i (its opening quote) and leaves s->i after the
 * closing one. \u0000 is a schema error (recorded), anything malformed a
 * syntax error. Inlined (as scan_number is): most strings are short names,
 * where a call's overhead costs as much as the scan (callgrind: -17 % per
 * sample). */
static inline __attribute__((always_inline)) int scan_string(struct scan *s, struct scan_str *str)
{
    const char *t = s->t;
    size_t len = s->len, i = s->i + 1, dlen = 0;

    str->start = i;
    str->escaped = 0;
    for (;;) {
        size_t from = i;
        i = scan_string_run(t, i, len);
        dlen += i - from;
        if (i >= len) {
            s->i = i;
            return scan_syntax(s, "unterminated string");
        }
        unsigned char c = (unsigned char)t[i];
        if (c == '"')
            break;
        if (c >= 0x80) {
            size_t n = scan_utf8((const unsigned char *)t + i, len - i);
            if (n == 0) {
                s->i = i;
                return scan_syntax(s, "invalid UTF-8 in a string");
            }
            i += n;
            dlen += n;
            continue;
        }
        if (c < 0x20) {
            s->i = i;
            return scan_syntax(s, "control character in a string");
        }
        /* A backslash. */
        str->escaped = 1;
        if (i + 1 >= len) {
            s->i = i;
            return scan_syntax(s, "unterminated string");
        }
        switch (t[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            i += 2;
            dlen++;
            continue;
        case 'u':
            break;
        default:
            s->i = i;
            return scan_syntax(s, "invalid escape in a string");
        }
        int cp = i + 6 <= len ? scan_hex4(t + i + 2) : -1;
        if (cp < 0) {
            s->i = i;
            return scan_syntax(s, "invalid \\u escape");
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            s->i = i;
            return scan_syntax(s, "lone UTF-16 low surrogate");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int lo = (i + 12 <= len && t[i + 6] == '\\' && t[i + 7] == 'u') ? scan_hex4(t + i + 8) : -1;
            if (lo < 0xdc00 || lo > 0xdfff) {
                s->i = i;
                return scan_syntax(s, "UTF-16 high surrogate without its low half");
            }
            i += 12;
            dlen += 4;
            continue;
        }
        if (cp == 0)
            scan_invalid(s, "strings must not contain NUL (\\u0000)");
        i += 6;
        dlen += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
    }
    str->end = i;
    str->dlen = dlen;
    s->i = i + 1;
    return 0;
}

/* Decodes a scanned (so well-formed) string into out, at most cap bytes;
 * returns the bytes written. */
static size_t scan_decode(const char *t, const struct scan_str *str, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = str->start; i < str->end && o < cap;) {
        if (t[i] != '\\') {
            out[o++] = t[i++];
            continue;
        }
        char e = t[i + 1];
        if (e != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            out[o++] = to[strchr(from, e) - from];
            i += 2;
            continue;
        }
        unsigned cp = (unsigned)scan_hex4(t + i + 2);
        i += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned)scan_hex4(t + i + 2) - 0xdc00);
            i += 6;
        }
        unsigned char b[4];
        size_t n;
        if (cp < 0x80) {
            b[0] = (unsigned char)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (unsigned char)(0xc0 | (cp >> 6));
            b[1] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xe0 | (cp >> 12));
            b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            b[2] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            b[0] = (unsigned char)(0xf0 | (cp >> 18));
            b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
            b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            b[3] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 4;
        }
        for (size_t k = 0; k < n && o < cap; k++)
            out[o++] = (char)b[k];
    }
    return o;
}

static inline int scan_digit(char c)
{
    return (unsigned char)(c - '0') <= 9;
}

static const double scan_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Scans the number at s->i into *d, exactly as strtod would read it.
 * *too_long is set (and *d left 0) for a token over SCAN_NUMBER_MAX. Why
 * the fast path is exact: a mantissa m <= 2^53 and 10^k for k <= 22 are
 * both doubles exactly, so m * 10^k and m / 10^k are one correctly rounded
 * IEEE operation each -- the same result strtod's correct rounding gives
 * (Clinger's fast path). Anything else goes to strtod itself. */
static inline __attribute__((always_inline)) int scan_number(struct scan *s, double *d,
                                                              int *too_long)
{
    const char *t = s->t;
    size_t len = s->len, i = s->i, start = s->i;
    uint64_t m = 0;
    int sig = 0, frac = 0, neg = 0;
    long expo = 0;

    *too_long = 0;
    *d = 0;
    if (t[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= len || t[i] < '0' || t[i] > '9') {
        s->i = i;
        return scan_syntax(s, "invalid number");
    }
    /* Up to 19 digits go into m; one more means strtod. */
    if (t[i] == '0') {
        i++;
    } else {
        size_t from = i, lim = i + 19 < len ? i + 19 : len;
        for (; i < lim && scan_digit(t[i]); i++)
            m = m * 10 + (uint64_t)(t[i] - '0');
        sig = (int)(i - from);
        if (i < len && scan_digit(t[i])) {
            sig = 99;
            while (i < len && scan_digit(t[i]))
                i++;
        }
    }
    if (i < len && t[i] == '.') {
        i++;
        if (i >= len || !scan_digit(t[i])) {
            s->i = i;
            return scan_syntax(s, "invalid number (digit expected after '.')");
        }
        /* Leading zeros of a fraction (0.000123) add no significant digit. */
        if (m == 0)
            for (; i < len && t[i] == '0'; i++)
                frac++;
        size_t from = i, lim = sig < 19 ? (i + (size_t)(19 - sig) < len ? i + (size_t)(19 - sig) : len) : i;
        for (; i < lim && scan_digit(t[i]); i++)
            m = m * 10 + (uint64_t)(t[i] - '0');
        frac += (int)(i - from);
        sig += (int)(i - from);
        if (i < len && scan_digit(t[i])) {
            sig = 99;
            while (i < len && scan_digit(t[i]))
                i++;
        }
    }
    if (i < len && (t[i] == 'e' || t[i] == 'E')) {
        int eneg = 0;
        i++;
        if (i < len && (t[i] == '+' || t[i] == '-'))
            eneg = t[i++] == '-';
        if (i >= len || t[i] < '0' || t[i] > '9') {
            s->i = i;
            return scan_syntax(s, "invalid number (digit expected in the exponent)");
        }
        for (; i < len && scan_digit(t[i]); i++)
            if (expo < 100000)
                expo = expo * 10 + (t[i] - '0');
        if (eneg)
            expo = -expo;
    }
    s->i = i;
    if (i - start > SCAN_NUMBER_MAX) {
        *too_long = 1;
        return 0;
    }
    long e10 = expo - frac;
    if (m == 0 && sig < 99) {
        *d = neg ? -0.0 : 0.0;
        return 0;
    }
#if FLT_EVAL_METHOD == 0   /* no extended precision (x87) to round twice */
    if (sig <= 19 && m <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
        double v = (double)m;
        v = e10 >= 0 ? v * scan_pow10[e10] : v / scan_pow10[-e10];
        *d = neg ? -v : v;
        return 0;
    }
#endif
    char buf[SCAN_NUMBER_MAX + 1];
    memcpy(buf, t + start, i - start);
    buf[i - start] = '\0';
    *d = strtod(buf, NULL);
    return 0;
}

static int scan_literal(struct scan *s, int *value)
{
    const char *p = s->t + s->i;
    size_t left = s->len - s->i;

    if (left >= 4 && memcmp(p, "true", 4) == 0) {
        *value = 1;
        s->i += 4;
    } else if (left >= 5 && memcmp(p, "false", 5) == 0) {
        *value = 0;
        s->i += 5;
    } else if (left >= 4 && memcmp(p, "null", 4) == 0) {
        *value = -1;
        s->i += 4;
    } else {
        return scan_syntax(s, "unexpected character (value expected)");
    }
    return 0;
}

/* The name and ':' of an object member inside a value, s->i at its quote. */
static int scan_member_name(struct scan *s, int extra)
{
    struct scan_str str;
    char shown[SAMPLE_KEY_MAX + 1];
    int r;

    if (s->i >= s->len || s->t[s->i] != '"')
        return scan_syntax(s, "name expected");
    if ((r = scan_string(s, &str)) != 0)
        return r;
    if (extra && str.dlen > SAMPLE_EXTRA_STR)
        scan_invalid(s, "extra field '%s' has a name too long", scan_field_shown(s, shown));
    scan_ws(s);
    if (s->i >= s->len || s->t[s->i] != ':')
        return scan_syntax(s, "':' expected");
    s->i++;
    return 0;
}

/* Scans one JSON value at s->i. extra: the value of the extra field
 * s->field, bounded by nodes, depth, string length and finite
 * numbers; otherwise only its syntax is checked (a value already refused).
 * Iterative with a bit stack, so hostile nesting costs no C stack. */
static int scan_value(struct scan *s, int extra)
{
    uint64_t is_object[SCAN_NEST_MAX / 64];
    char shown[SAMPLE_KEY_MAX + 1];
    int depth = 0, r;

    for (;;) {
        scan_ws(s);
        if (extra) {
            if (++s->nodes > SAMPLE_EXTRA_NODES)
                scan_invalid(s, "extra fields too large (at '%s')", scan_field_shown(s, shown));
            else if (depth + 1 > SAMPLE_EXTRA_DEPTH)
                scan_invalid(s, "extra field '%s' nested too deeply", scan_field_shown(s, shown));
        }
        if (s->i >= s->len)
            return scan_syntax(s, "value expected");
        char c = s->t[s->i];
        if (c == '{' || c == '[') {
            if (depth == SCAN_NEST_MAX)
                return scan_syntax(s, "nested too deeply");
            uint64_t bit = 1ULL << (depth % 64);
            if (c == '{')
                is_object[depth / 64] |= bit;
            else
                is_object[depth / 64] &= ~bit;
            depth++;
            s->i++;
            scan_ws(s);
            if (s->i < s->len && s->t[s->i] == (c == '{' ? '}' : ']')) {
                s->i++;
                depth--;
            } else {
                if (c == '{' && (r = scan_member_name(s, extra)) != 0)
                    return r;
                continue;
            }
        } else if (c == '"') {
            struct scan_str str;
            if ((r = scan_string(s, &str)) != 0)
                return r;
            if (extra && str.dlen > SAMPLE_EXTRA_STR)
                scan_invalid(s, "extra field '%s' has a string too long", scan_field_shown(s, shown));
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            double d;
            int too_long;
            if ((r = scan_number(s, &d, &too_long)) != 0)
                return r;
            if (too_long)
                scan_invalid(s, "field '%s' has a number too long (max %d characters)", scan_field_shown(s, shown),
                             SCAN_NUMBER_MAX);
            else if (extra && !isfinite(d))
                scan_invalid(s, "extra field '%s' is not a finite number", scan_field_shown(s, shown));
        } else {
            int b;
            if ((r = scan_literal(s, &b)) != 0)
                return r;
        }
        /* After a value: close containers, or a ',' and the next one. */
        for (;;) {
            if (depth == 0)
                return 0;
            scan_ws(s);
            if (s->i >= s->len)
                return scan_syntax(s, "unterminated array or object");
            int obj = (int)((is_object[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1);
            c = s->t[s->i];
            if (c == (obj ? '}' : ']')) {
                s->i++;
                depth--;
                continue;
            }
            if (c != ',')
                return scan_syntax(s, obj ? "',' or '}' expected" : "',' or ']' expected");
            s->i++;
            if (obj) {
                scan_ws(s);
                if ((r = scan_member_name(s, extra)) != 0)
                    return r;
            }
            break;
        }
    }
}

/* Which top-level field a decoded name is: by length, then memcmp. */
static int scan_field_id(const char *n, size_t len)
{
    switch (len) {
    case 4:
        return memcmp(n, "macA", 4) == 0 ? SCAN_MAC_A : SCAN_EXTRA;
    case 6:
        if (memcmp(n, "upTime", 6) == 0)
            return SAMPLE_UP_TIME;
        return memcmp(n, "osType", 6) == 0 ? SCAN_OS_TYPE : SCAN_EXTRA;
    case 7:
        if (memcmp(n, "cpuLoad", 7) == 0)
            return SAMPLE_CPU_LOAD;
        if (memcmp(n, "freeMem", 7) == 0)
            return SAMPLE_FREE_MEM;
        return memcmp(n, "usedMem", 7) == 0 ? SAMPLE_USED_MEM : SCAN_EXTRA;
    case 8:
        switch (n[0]) {
        case 'm': return memcmp(n, "memUsage", 8) == 0 ? SAMPLE_MEM_USAGE : SCAN_EXTRA;
        case 't': return memcmp(n, "totalMem", 8) == 0 ? SAMPLE_TOTAL_MEM : SCAN_EXTRA;
        case 'n': return memcmp(n, "numCores", 8) == 0 ? SAMPLE_NUM_CORES : SCAN_EXTRA;
        case 'i': return memcmp(n, "isActive", 8) == 0 ? SCAN_IS_ACTIVE : SCAN_EXTRA;
        case 'c':
            if (memcmp(n, "cpuSpeed", 8) == 0)
                return SAMPLE_CPU_SPEED;
            return memcmp(n, "cpuModel", 8) == 0 ? SCAN_CPU_MODEL : SCAN_EXTRA;
        }
        return SCAN_EXTRA;
    case 9:
        return memcmp(n, "memUseage", 9) == 0 ? SAMPLE_MEM_USEAGE : SCAN_EXTRA;
    }
    return SCAN_EXTRA;
}

/* One known numeric field's value at s->i. */
static int scan_known_number(struct scan *s, enum sample_number id, struct sample_view *v)
{
    const struct sample_number_rule *rule = &sample_number_rules[id];
    char c = s->i < s->len ? s->t[s->i] : '\0';

    if (c != '-' && (c < '0' || c > '9')) {
        scan_invalid(s, "%s must be a number", rule->name);
        return scan_value(s, 0);
    }
    size_t off = s->i;
    double d;
    int too_long, r;
    if ((r = scan_number(s, &d, &too_long)) != 0)
        return r;
    if (too_long)
        scan_invalid(s, "%s has a number too long (max %d characters)", rule->name, SCAN_NUMBER_MAX);
    else if (!isfinite(d))
        scan_invalid(s, "%s must be a finite number", rule->name);
    else if (d < rule->min || d > rule->max)
        scan_invalid(s, "%s out of range (%g..%g)", rule->name, rule->min, rule->max);
    else if (rule->integer && d != floor(d))
        scan_invalid(s, "%s must be an integer", rule->name);
    v->present |= 1u << id;
    v->num[id] = d;
    v->num_off[id] = off;
    v->num_len[id] = s->i - off;
    return 0;
}

/* macA, osType or cpuModel at s->i: a string, measured (and macA checked)
 * once decoded. */
static int scan_known_string(struct scan *s, int id, struct sample_view *v)
{
    const char *name = id == SCAN_MAC_A ? "macA" : id == SCAN_OS_TYPE ? "osType" : "cpuModel";
    struct scan_str str;
    int r;

    if (s->i >= s->len || s->t[s->i] != '"') {
        scan_invalid(s, "%s must be a string", name);
        return scan_value(s, 0);
    }
    if ((r = scan_string(s, &str)) != 0)
        return r;
    if (id != SCAN_MAC_A) {
        if (str.dlen > SAMPLE_STR_MAX)
            scan_invalid(s, "%s too long (max %d bytes)", name, SAMPLE_STR_MAX);
        return 0;
    }
    size_t n = str.dlen <= SAMPLE_MAC_MAX ? str.dlen : 0;
    if (str.escaped)
        scan_decode(s->t, &str, v->mac, n);
    else
        memcpy(v->mac, s->t + str.start, n);
    v->mac[n] = '\0';
    v->mac_len = n;
    if (!sample_mac_valid(v->mac, n))
        scan_invalid(s, "macA must be 1-64 characters of [0-9A-Za-z:._-], not '.' or '..'");
    return 0;
}

/* Top-level names of the extra fields seen so far, decoded, to catch a
 * duplicate. */
struct scan_extras {
    int n;
    unsigned char len[SAMPLE_FIELDS_MAX];
    char name[SAMPLE_FIELDS_MAX][SAMPLE_KEY_MAX];
};

static double scan_round2(double d)
{
    return round(d * 100.0) / 100.0;
}

/* The checks that need the whole object: required fields, memUsage. */
static void scan_finish(struct scan *s, struct sample_view *v)
{
    const double *num = v->num;
    unsigned p = v->present;

    if (v->mac_len == 0) {
        scan_invalid(s, "macA missing");
        return;
    }
    if (!(p & (1u << SAMPLE_CPU_LOAD))) {
        scan_invalid(s, "cpuLoad missing");
        return;
    }
    v->add_mem_usage = 0;
    if (p & (1u << SAMPLE_MEM_USAGE)) {
        v->mem_usage = num[SAMPLE_MEM_USAGE];
        return;
    }
    v->add_mem_usage = 1;
    if (p & (1u << SAMPLE_MEM_USEAGE)) {
        v->mem_usage = num[SAMPLE_MEM_USEAGE];
        return;
    }
    if (!(p & (1u << SAMPLE_TOTAL_MEM)) || num[SAMPLE_TOTAL_MEM] <= 0 ||
        !(p & ((1u << SAMPLE_USED_MEM) | (1u << SAMPLE_FREE_MEM)))) {
        scan_invalid(s, "memUsage missing (send memUsage, or totalMem with usedMem or freeMem)");
        return;
    }
    double total = num[SAMPLE_TOTAL_MEM];
    double used = (p & (1u << SAMPLE_USED_MEM)) ? num[SAMPLE_USED_MEM] : total - num[SAMPLE_FREE_MEM];
    double usage = scan_round2(used / total);
    v->mem_usage = usage < 0 ? 0 : usage > 1 ? 1 : usage;
}

/* The top-level object's members, s->i just after its '{'. */
static int scan_object(struct scan *s, struct sample_view *v)
{
    struct scan_extras extras;
    unsigned seen = 0;
    int nfields = 0, r;

    extras.n = 0;
    scan_ws(s);
    if (s->i < s->len && s->t[s->i] == '}') {
        v->close_off = s->i++;
        return 0;
    }
    for (;;) {
        struct scan_str str;
        char decoded[SAMPLE_KEY_MAX];
        char shown[SAMPLE_KEY_MAX + 1];

        if (s->i >= s->len || s->t[s->i] != '"')
            return scan_syntax(s, "field name expected");
        if ((r = scan_string(s, &str)) != 0)
            return r;
        const char *name = s->t + str.start;
        size_t nlen = str.dlen;
        s->field = name;
        s->field_len = str.end - str.start;
        int id = SCAN_EXTRA;
        if (++nfields > SAMPLE_FIELDS_MAX) {
            scan_invalid(s, "too many fields (more than %d)", SAMPLE_FIELDS_MAX);
        } else if (nlen == 0 || nlen > SAMPLE_KEY_MAX) {
            scan_invalid(s, "field name empty or too long");
        } else {
            if (str.escaped) {
                scan_decode(s->t, &str, decoded, nlen);
                s->field = name = decoded;
                s->field_len = nlen;
            }
            id = scan_field_id(name, nlen);
            /* A duplicate would let the relayed text say something other
             * than what was validated (JSON.parse keeps the last). */
            int twice = 0;
            if (id != SCAN_EXTRA) {
                twice = (seen >> id) & 1;
                seen |= 1u << id;
            } else {
                for (int k = 0; k < extras.n && !twice; k++)
                    twice = extras.len[k] == nlen && memcmp(extras.name[k], name, nlen) == 0;
                if (!twice) {
                    extras.len[extras.n] = (unsigned char)nlen;
                    memcpy(extras.name[extras.n++], name, nlen);
                }
            }
            if (twice)
                scan_invalid(s, "field '%s' appears twice", scan_printable(shown, name, nlen));
        }
        scan_ws(s);
        if (s->i >= s->len || s->t[s->i] != ':')
            return scan_syntax(s, "':' expected");
        s->i++;
        scan_ws(s);
        if (id < SAMPLE_NUMBERS) {
            r = scan_known_number(s, (enum sample_number)id, v);
        } else if (id == SCAN_MAC_A || id == SCAN_OS_TYPE || id == SCAN_CPU_MODEL) {
            r = scan_known_string(s, id, v);
        } else if (id == SCAN_IS_ACTIVE) {
            size_t off = s->i;
            int b = -1;
            char c = off < s->len ? s->t[off] : '\0';
            if ((c == 't' || c == 'f') && (r = scan_literal(s, &b)) != 0)
                return r;
            if (b < 0) {
                scan_invalid(s, "isActive must be a boolean");
                r = scan_value(s, 0);
            } else {
                v->active = b;
                v->active_off = off;
                v->active_len = s->i - off;
            }
        } else {
            r = scan_value(s, 1);
        }
        if (r != 0)
            return r;
        scan_ws(s);
        if (s->i < s->len && s->t[s->i] == ',') {
            s->i++;
            scan_ws(s);
            continue;
        }
        if (s->i < s->len && s->t[s->i] == '}') {
            v->close_off = s->i++;
            return 0;
        }
        return scan_syntax(s, "',' or '}' expected");
    }
}

int sample_scan(const char *json, size_t len, struct sample_view *v, char *err, size_t errlen)
{
    struct scan s = { json, len, 0, err, errlen, 0, 0, "", 0 };
    int r;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len > SAMPLE_TEXT_MAX) {
        scan_invalid(&s, "sample too large (%zu bytes, max %d)", len, SAMPLE_TEXT_MAX);
        return SAMPLE_INVALID;
    }
    v->mac[0] = '\0';
    v->mac_len = 0;
    v->active = -1;
    v->present = 0;
    v->add_mem_usage = 0;
    v->mem_usage = 0;
    v->close_off = 0;
    v->active_off = v->active_len = 0;

    scan_ws(&s);
    if (s.i < len && json[s.i] == '{') {
        s.i++;
        r = scan_object(&s, v);
    } else {
        scan_invalid(&s, "sample must be a JSON object");
        r = scan_value(&s, 0);
    }
    if (r != 0)
        return r;
    scan_ws(&s);
    if (s.i != len)
        return scan_syntax(&s, "text after the JSON value");
    if (!s.invalid)
        scan_finish(&s, v);
    int normalise = v->add_mem_usage || v->active != 1;
    /* Every accepted text stays acceptable once rewritten (it is stored,
     * then scanned again when read back). */
    if (!s.invalid && normalise && len + SAMPLE_REWRITE_EXTRA > SAMPLE_TEXT_MAX)
        scan_invalid(&s, "sample too large to normalise (%zu bytes, max %d)", len,
                     SAMPLE_TEXT_MAX - SAMPLE_REWRITE_EXTRA);
    if (s.invalid)
        return SAMPLE_INVALID;
    return normalise ? SAMPLE_NORMALISED : SAMPLE_VALID;
}
