/* textbuf.h -- a growable, NUL-terminated text buffer with a hard size limit.
 *
 * The one way lib/ builds text of unknown length (Prometheus output, the
 * files perfload-fs shows): append bytes or printf-style, then either take
 * the finished string or free it. Pure: no I/O.
 *
 * Every buffer has a maximum chosen by its owner, so text built from hostile
 * input (a Redis value, an agent's sample) cannot grow without bound.
 *
 * Errors are sticky, as in a stdio stream: an append that fails (out of
 * memory, or it would pass the maximum) appends nothing, records the error,
 * and every later append fails with that same error. A caller may therefore
 * check each call or only once at the end (textbuf_error / textbuf_take);
 * either way a failed buffer never hands out text, so a truncated result
 * cannot be mistaken for a complete one. */
#ifndef PERFLOAD_TEXTBUF_H
#define PERFLOAD_TEXTBUF_H

#include <stddef.h>

#define TEXTBUF_OK        0
#define TEXTBUF_ENOMEM   -1      /* an allocation failed */
#define TEXTBUF_EFULL    -2      /* the text would pass the buffer's maximum */
#define TEXTBUF_EFORMAT  -3      /* vsnprintf refused the format */

/* Fields are readable (data/len are the text so far); change them only
 * through the functions below. */
struct textbuf {
    char *data;     /* NUL-terminated text, owned; NULL until the first append */
    size_t len;     /* bytes of text, the NUL excluded */
    size_t cap;     /* bytes allocated at data */
    size_t max;     /* most bytes of text it may hold, the NUL excluded */
    int err;        /* TEXTBUF_OK, or the first error (sticky) */
};

/* An empty buffer that will hold at most max bytes of text. Allocates
 * nothing, so it cannot fail. */
void textbuf_init(struct textbuf *b, size_t max);

/* Frees the text and leaves b empty with its error cleared (same max). */
void textbuf_free(struct textbuf *b);

/* Appends n bytes (which may include NULs) / a C string / printf output.
 * Return TEXTBUF_OK or a negative TEXTBUF_E* code; on error nothing of this
 * call is appended and b->err is set. */
int textbuf_append(struct textbuf *b, const void *s, size_t n);
int textbuf_puts(struct textbuf *b, const char *s);
int textbuf_printf(struct textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* TEXTBUF_OK, or the first error an append met. */
int textbuf_error(const struct textbuf *b);

/* Hands the text over: returns a NUL-terminated string the caller frees
 * with free() (and its length in *len when len is not NULL), and leaves b
 * empty. An empty buffer gives "". Returns NULL, freeing the text, when an
 * append had failed or memory runs out; b->err then says why. */
char *textbuf_take(struct textbuf *b, size_t *len);

/* A short English description of a TEXTBUF_* code. */
const char *textbuf_strerror(int err);

#endif
