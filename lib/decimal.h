/* decimal.h -- integers as decimal text without printf: the hot paths
 * (Redis command headers and values, history entries, Socket.IO and
 * Engine.IO headers) write many small numbers. Pure. */
#ifndef PERFLOAD_DECIMAL_H
#define PERFLOAD_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* Most bytes either function writes ("-9223372036854775808"); no NUL. */
#define DECIMAL_MAX 20

/* Writes v in decimal at out (no NUL) and returns the length, 1..20. */
size_t decimal_u64(char *out, uint64_t v);

/* The same for a signed value, '-' first when negative (1..20 bytes). */
size_t decimal_i64(char *out, int64_t v);

#endif
