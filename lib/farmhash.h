/* farmhash.h -- FarmHash Fingerprint32 in C.
 *
 * The master routes each connection by fh_fingerprint32(ip_text) % nworkers,
 * the same function the Node `farmhash` package (5.0.1) exports as
 * `fingerprint32` (Google's farmhashmk::Hash32). It must stay bit-exact with
 * that package on every platform: tests/unit/test_farmhash.c holds vectors
 * generated from it. Pure, no allocation, any byte values, any length. */
#ifndef PERFLOAD_FARMHASH_H
#define PERFLOAD_FARMHASH_H

#include <stddef.h>
#include <stdint.h>

/* Fingerprint of len bytes at s (s may be NULL when len is 0). Stable across
 * platforms and releases: it is a routing contract, never change it. */
uint32_t fh_fingerprint32(const char *s, size_t len);

#endif
