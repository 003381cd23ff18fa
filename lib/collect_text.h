/* collect_text.h -- tiny scanning helpers shared by the /proc parsers.
 *
 * Every collector gets a file's bytes as (text, len), not a C string: the
 * text need not be NUL-terminated and may end without a newline. These
 * helpers never read past `end` and never allocate. */
#ifndef PERFLOAD_COLLECT_TEXT_H
#define PERFLOAD_COLLECT_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct collect_cursor {
    const char *p;      /* next unread byte */
    const char *end;    /* one past the last byte */
};

void collect_cursor_init(struct collect_cursor *c, const char *text, size_t len);

/* Sets [*line, *line_end) to the next line without its '\n'. Returns 1, or 0
 * when the text is exhausted. */
int collect_next_line(struct collect_cursor *c, const char **line, const char **line_end);

/* Advances *p over spaces and tabs (never past end). */
void collect_skip_blanks(const char **p, const char *end);

/* Skips blanks, then parses a decimal unsigned integer. Returns 0, or -1
 * when there is no digit or the value overflows 64 bits. */
int collect_parse_u64(const char **p, const char *end, uint64_t *out);

/* Skips blanks, then parses "digits[.digits]" (no sign, no exponent: the
 * only shapes /proc uses). Returns 0 or -1. */
int collect_parse_udouble(const char **p, const char *end, double *out);

/* 1 when [s, e) begins with the NUL-terminated prefix. */
int collect_starts_with(const char *s, const char *e, const char *prefix);

/* Copies [s, e) without leading/trailing whitespace into dst (capacity cap,
 * always NUL-terminated, truncated if needed). Returns the copied length. */
size_t collect_copy_trimmed(char *dst, size_t cap, const char *s, const char *e);

/* Splits a "key : value" line (cpuinfo style). Sets the trimmed key and
 * value ranges; returns 0, or -1 when the line has no ':'. */
int collect_split_colon(const char *line, const char *line_end,
                        const char **key, const char **key_end,
                        const char **val, const char **val_end);

/* Rounds half away from zero, like round(3), without libm (the agent
 * links no libm: every shared library costs resident memory). Values
 * beyond +-2^52 are returned as they are (already whole), NaN too. */
double collect_round(double x);

/* 1 when the trimmed range [s, e) equals the NUL-terminated word. */
int collect_range_equals(const char *s, const char *e, const char *word);

#endif
