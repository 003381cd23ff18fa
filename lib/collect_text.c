/* collect_text.c -- bounded scanning helpers for the /proc parsers. */
#include "collect_text.h"

#include <string.h>

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }
static int is_space(char ch) { return is_blank(ch) || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'; }

void collect_cursor_init(struct collect_cursor *c, const char *text, size_t len)
{
    c->p = text;
    c->end = text ? text + len : text;
}

int collect_next_line(struct collect_cursor *c, const char **line, const char **line_end)
{
    if (c->p == NULL || c->p >= c->end) return 0;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    *line = c->p;
    *line_end = nl ? nl : c->end;
    c->p = nl ? nl + 1 : c->end;
    return 1;
}

void collect_skip_blanks(const char **p, const char *end)
{
    while (*p < end && is_blank(**p)) (*p)++;
}

int collect_parse_u64(const char **p, const char *end, uint64_t *out)
{
    collect_skip_blanks(p, end);
    const char *s = *p;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
        s++;
    }
    if (s == *p) return -1;
    *p = s;
    *out = v;
    return 0;
}

int collect_parse_udouble(const char **p, const char *end, double *out)
{
    collect_skip_blanks(p, end);
    const char *s = *p;
    double v = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9') { v = v * 10 + (*s - '0'); s++; digits++; }
    if (s < end && *s == '.') {
        double scale = 0.1;
        s++;
        while (s < end && *s >= '0' && *s <= '9') { v += (*s - '0') * scale; scale /= 10; s++; digits++; }
    }
    if (digits == 0) return -1;
    *p = s;
    *out = v;
    return 0;
}

double collect_round(double x)
{
    /* from 2^52 on every double is whole (and x + 0.5 would round up) */
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x;   /* also NaN */
    return (double)(long long)(x >= 0 ? x + 0.5 : x - 0.5);
}

int collect_starts_with(const char *s, const char *e, const char *prefix)
{
    size_t n = strlen(prefix);
    return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s)) (*s)++;
    while (*e > *s && is_space((*e)[-1])) (*e)--;
}

size_t collect_copy_trimmed(char *dst, size_t cap, const char *s, const char *e)
{
    if (cap == 0) return 0;
    trim(&s, &e);
    size_t n = (size_t)(e - s);
    if (n >= cap) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return n;
}

int collect_split_colon(const char *line, const char *line_end,
                        const char **key, const char **key_end,
                        const char **val, const char **val_end)
{
    const char *colon = memchr(line, ':', (size_t)(line_end - line));
    if (!colon) return -1;
    *key = line; *key_end = colon;
    *val = colon + 1; *val_end = line_end;
    trim(key, key_end);
    trim(val, val_end);
    return 0;
}

int collect_range_equals(const char *s, const char *e, const char *word)
{
    trim(&s, &e);
    size_t n = strlen(word);
    return (size_t)(e - s) == n && memcmp(s, word, n) == 0;
}
