/* prom_text.h -- write the Prometheus text exposition format (0.0.4).
 *
 * A textbuf (textbuf.h) plus the few shapes /metrics needs: a HELP/TYPE
 * header per family, and samples with zero or more labels. Label values and
 * HELP text are escaped as the format requires (\\, \", \n); values print as
 * integers when whole, NaN and +Inf/-Inf spelled the Prometheus way. Pure:
 * no I/O; errors (out of memory, PROM_TEXT_MAX passed) are sticky and read
 * once at the end with prom_failed() rather than after every call. */
#ifndef PERFLOAD_PROM_TEXT_H
#define PERFLOAD_PROM_TEXT_H

#include <stddef.h>

#include "textbuf.h"

/* Most text one exposition may hold. Far above what /metrics can write
 * (100,000 machines, the most it lists, times ten families of lines under
 * 150 bytes is ~150 MB), so it only stops text that grew by mistake. */
#define PROM_TEXT_MAX ((size_t)256 << 20)

struct prom_buf {
    struct textbuf text;    /* the output, owned; prom_free() frees it */
};

struct prom_label {
    const char *name;
    const char *value;
};

void prom_init(struct prom_buf *b);
void prom_free(struct prom_buf *b);
int prom_failed(const struct prom_buf *b);

/* "# HELP name help\n# TYPE name type\n"; type is "gauge", "counter", ... */
void prom_header(struct prom_buf *b, const char *name, const char *type, const char *help);

/* "name{l1="v1",...} value\n"; labels may be NULL when nlabels is 0. */
void prom_sample(struct prom_buf *b, const char *name, const struct prom_label *labels,
                 size_t nlabels, double value);

/* Shorthands for no label and one label. */
void prom_sample0(struct prom_buf *b, const char *name, double value);
void prom_sample1(struct prom_buf *b, const char *name, const char *label, const char *value,
                  double v);

/* Escapes a label value into out (always NUL-terminated). Returns the
 * length it needed (like snprintf): >= outlen means truncated. */
size_t prom_escape_label(const char *in, char *out, size_t outlen);

#endif
