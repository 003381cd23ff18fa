/* prom_text.c -- see prom_text.h. */
#include "prom_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prom_init(struct prom_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void prom_free(struct prom_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

int prom_failed(const struct prom_buf *b)
{
    return b->failed;
}

static int prom_reserve(struct prom_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

static void prom_put(struct prom_buf *b, const char *s, size_t n)
{
    if (prom_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void prom_puts(struct prom_buf *b, const char *s)
{
    prom_put(b, s, strlen(s));
}

/* Escapes for a label value (quote too) or HELP text (no quote). */
static void prom_put_escaped(struct prom_buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            prom_put(b, "\\\\", 2);
        else if (*s == '\n')
            prom_put(b, "\\n", 2);
        else if (quote && *s == '"')
            prom_put(b, "\\\"", 2);
        else
            prom_put(b, s, 1);
    }
}

static void prom_put_value(struct prom_buf *b, double v)
{
    char num[40];
    if (isnan(v))
        snprintf(num, sizeof(num), "NaN");
    else if (isinf(v))
        snprintf(num, sizeof(num), v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        snprintf(num, sizeof(num), "%.0f", v);
    else
        snprintf(num, sizeof(num), "%.17g", v);
    prom_puts(b, num);
}

void prom_header(struct prom_buf *b, const char *name, const char *type, const char *help)
{
    prom_puts(b, "# HELP ");
    prom_puts(b, name);
    prom_puts(b, " ");
    prom_put_escaped(b, help, 0);
    prom_puts(b, "\n# TYPE ");
    prom_puts(b, name);
    prom_puts(b, " ");
    prom_puts(b, type);
    prom_puts(b, "\n");
}

void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *labels,
                 size_t nlabels, double value)
{
    prom_puts(b, name);
    if (nlabels > 0) {
        prom_puts(b, "{");
        for (size_t i = 0; i < nlabels; i++) {
            if (i)
                prom_puts(b, ",");
            prom_puts(b, labels[i].name);
            prom_puts(b, "=\"");
            prom_put_escaped(b, labels[i].value ? labels[i].value : "", 1);
            prom_puts(b, "\"");
        }
        prom_puts(b, "}");
    }
    prom_puts(b, " ");
    prom_put_value(b, value);
    prom_puts(b, "\n");
}

void prom_sample0(struct prom_buf *b, const char *name, double value)
{
    prom_sample(b, name, NULL, 0, value);
}

void prom_sample1(struct prom_buf *b, const char *name, const char *label, const char *value,
                  double v)
{
    struct prom_label l = { label, value };
    prom_sample(b, name, &l, 1, v);
}

size_t prom_escape_label(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (; *in; in++) {
        const char *rep = NULL;
        char one[2] = { *in, 0 };
        if (*in == '\\')
            rep = "\\\\";
        else if (*in == '\n')
            rep = "\\n";
        else if (*in == '"')
            rep = "\\\"";
        else
            rep = one;
        for (const char *r = rep; *r; r++, n++)
            if (n + 1 < outlen)
                out[n] = *r;
    }
    if (outlen)
        out[n < outlen ? n : outlen - 1] = '\0';
    return n;
}
