/* prom_text.c -- see prom_text.h. */
#include "prom_text.h"

#include <math.h>
#include <string.h>

void prom_init(struct prom_buf *b)
{
    textbuf_init(&b->text, PROM_TEXT_MAX);
}

void prom_free(struct prom_buf *b)
{
    textbuf_free(&b->text);
}

int prom_failed(const struct prom_buf *b)
{
    return textbuf_error(&b->text) != TEXTBUF_OK;
}

/* Every write below may fail; the error is sticky in the textbuf and read
 * once by prom_failed(), so the return values are not checked here. */
static void prom_put(struct prom_buf *b, const char *s, size_t n)
{
    textbuf_append(&b->text, s, n);
}

static void prom_puts(struct prom_buf *b, const char *s)
{
    textbuf_puts(&b->text, s);
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
    if (isnan(v))
        prom_puts(b, "NaN");
    else if (isinf(v))
        prom_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        textbuf_printf(&b->text, "%.0f", v);
    else
        textbuf_printf(&b->text, "%.17g", v);
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
