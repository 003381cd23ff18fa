/* textbuf.c -- see textbuf.h. */
#include "textbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXTBUF_FIRST_CAP 64     /* first allocation; doubled from there */

void textbuf_init(struct textbuf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    /* Keeps cap doubling and len + n + 1 clear of size_t overflow. */
    b->max = max < SIZE_MAX / 4 ? max : SIZE_MAX / 4;
}

void textbuf_free(struct textbuf *b)
{
    size_t max = b->max;
    free(b->data);
    textbuf_init(b, max);
}

int textbuf_error(const struct textbuf *b)
{
    return b->err;
}

/* Room for n more bytes of text plus the NUL, within b->max. The buffer
 * grows by doubling, clamped to the maximum. */
static int textbuf_reserve(struct textbuf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len)
        return b->err = TEXTBUF_EFULL;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return TEXTBUF_OK;
    size_t cap = b->cap ? b->cap : TEXTBUF_FIRST_CAP;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return b->err = TEXTBUF_ENOMEM;
    b->data = p;
    b->cap = cap;
    return TEXTBUF_OK;
}

int textbuf_append(struct textbuf *b, const void *s, size_t n)
{
    int rc = textbuf_reserve(b, n);
    if (rc != TEXTBUF_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return TEXTBUF_OK;
}

int textbuf_puts(struct textbuf *b, const char *s)
{
    return textbuf_append(b, s, strlen(s));
}

int textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
    if (b->err)
        return b->err;
    /* First try the room already there; most appends fit. */
    size_t room = b->data ? b->cap - b->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
        b->len += (size_t)n;
        return TEXTBUF_OK;
    }
    /* vsnprintf may have overwritten the NUL with a cut-off prefix. */
    if (b->data)
        b->data[b->len] = '\0';
    if (n < 0)
        return b->err = TEXTBUF_EFORMAT;
    int rc = textbuf_reserve(b, (size_t)n);
    if (rc != TEXTBUF_OK)
        return rc;
    va_start(ap, fmt);
    int m = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m != n) {
        /* The same format and arguments printed differently (a locale
         * change between calls?): refuse rather than guess. */
        b->data[b->len] = '\0';
        return b->err = TEXTBUF_EFORMAT;
    }
    b->len += (size_t)n;
    return TEXTBUF_OK;
}

char *textbuf_take(struct textbuf *b, size_t *len)
{
    if (b->err) {
        int err = b->err;
        textbuf_free(b);
        b->err = err;
        return NULL;
    }
    char *text = b->data;
    size_t n = b->len;
    if (!text) {
        text = malloc(1);
        if (!text) {
            b->err = TEXTBUF_ENOMEM;
            return NULL;
        }
        text[0] = '\0';
    } else if (b->cap > n + 1) {
        /* Taken text is often kept (perfload-fs holds a machine's files):
         * give back the growth slack. Failing to shrink is harmless. */
        char *p = realloc(text, n + 1);
        if (p)
            text = p;
    }
    if (len)
        *len = n;
    textbuf_init(b, b->max);
    return text;
}

const char *textbuf_strerror(int err)
{
    switch (err) {
    case TEXTBUF_OK:      return "no error";
    case TEXTBUF_ENOMEM:  return "out of memory";
    case TEXTBUF_EFULL:   return "text longer than its limit";
    case TEXTBUF_EFORMAT: return "format error";
    default:              return "unknown textbuf error";
    }
}
