/* fdpass.h -- passing client fds from the master to a worker (SCM_RIGHTS).
 *
 * Fds travel as 1-byte messages on an AF_UNIX SOCK_STREAM socketpair, up
 * to FDPASS_MAX attached to one message. The socketpair's send buffer
 * counts messages, not fds (~768 bytes each), so batching is what lets a
 * burst of connects wait in the kernel instead of overflowing. All calls
 * are non-blocking. */
#ifndef PERFLOAD_FDPASS_H
#define PERFLOAD_FDPASS_H

#include <stddef.h>

/* Most fds one message carries, and one fdpass_recv() returns. */
#define FDPASS_MAX 16

/* Sends fd over sock. Returns 0, or -1 with errno (EAGAIN: the socketpair
 * is full; EPIPE: nobody holds the other end). The caller still owns fd
 * (the receiver gets its own copy) and closes it. */
int fdpass_send(int sock, int fd);

/* Sends fds[0..n) as one message, 1 <= n <= FDPASS_MAX: all or none.
 * Returns 0, or -1 with errno as fdpass_send (EINVAL for a bad n). The
 * caller still owns the fds. */
int fdpass_send_many(int sock, const int *fds, size_t n);

/* Receives what is queued on sock, up to FDPASS_MAX fds, into fds[] (owned
 * by the caller, close-on-exec). Returns 1 with *nfds set (possibly 0), 0 at
 * EOF (the sender is gone), -1 with errno (EAGAIN: nothing queued). */
int fdpass_recv(int sock, int fds[FDPASS_MAX], size_t *nfds);

#endif
