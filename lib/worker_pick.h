/* worker_pick.h -- which worker slot serves a client address.
 *
 * Stickiness: every TCP connection of one Engine.IO session (long-polling
 * opens many) must reach the worker holding the session, so the master
 * routes by the client's address text, never by connection. The text is
 * what a user would write: "127.0.0.1" for IPv4 (also when it arrives
 * IPv4-mapped as "::ffff:127.0.0.1"), the RFC 5952 compressed form for
 * IPv6 ("2001:db8::1"). Pure: no I/O, no allocation. */
#ifndef PERFLOAD_WORKER_PICK_H
#define PERFLOAD_WORKER_PICK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Big enough for any IPv6 text (INET6_ADDRSTRLEN) plus a NUL. */
#define WORKER_IP_TEXT_MAX 48

/* Writes the normalised address text of sa (AF_INET or AF_INET6) into out.
 * Returns the text length, or -1 for another family, a short sa, or an out
 * buffer smaller than WORKER_IP_TEXT_MAX. */
int worker_ip_text(const struct sockaddr *sa, socklen_t salen, char *out, size_t outlen);

/* Normalises address text the same way ("::FFFF:10.0.0.1" -> "10.0.0.1",
 * "2001:0db8:0:0::1" -> "2001:db8::1"). Returns the length, or -1 when in
 * is not an IPv4/IPv6 address (out is then left empty). */
int worker_ip_normalise(const char *in, char *out, size_t outlen);

/* The slot for an already normalised address text: fingerprint32 % n.
 * n must be >= 1. */
uint32_t worker_pick(const char *ip_text, uint32_t nworkers);

#endif
