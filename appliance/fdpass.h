/* fdpass.h -- passing client fds from the master to a worker (SCM_RIGHTS).
 *
 * Each fd travels as one 1-byte message on an AF_UNIX SOCK_STREAM
 * socketpair with the fd attached. Both calls are non-blocking. */
#ifndef PERFLOAD_FDPASS_H
#define PERFLOAD_FDPASS_H

#include <stddef.h>

/* Most fds one fdpass_recv() returns. */
#define FDPASS_MAX 16

/* Sends fd over sock. Returns 0, or -1 with errno (EAGAIN: the socketpair
 * is full; EPIPE: nobody holds the other end). The caller still owns fd
 * (the receiver gets its own copy) and closes it. */
int fdpass_send(int sock, int fd);

/* Receives what is queued on sock, up to FDPASS_MAX fds, into fds[] (owned
 * by the caller, close-on-exec). Returns 1 with *nfds set (possibly 0), 0 at
 * EOF (the sender is gone), -1 with errno (EAGAIN: nothing queued). */
int fdpass_recv(int sock, int fds[FDPASS_MAX], size_t *nfds);

#endif
