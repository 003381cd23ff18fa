/* master.h -- the appliance's master process.
 *
 * Listens on cfg->bind_host:cfg->port, starts cfg->workers workers (each
 * with its own AF_UNIX socketpair; fork + exec, see worker.h), and hands every accepted connection to the
 * worker worker_pick(client address, workers) with SCM_RIGHTS: all the TCP
 * connections of one client reach one worker, which long-polling needs. It
 * never reads from a client socket and never blocks on a worker: a slot
 * whose worker is down or busy holds the fd briefly, then closes it.
 *
 * Supervises the workers (respawn into the same slot, exponential backoff
 * when one crash-loops), runs the HTTP server (http_server.h) in-process
 * after the workers exist, and stops everything on SIGTERM/SIGINT: stop
 * accepting, SIGTERM the workers, SIGKILL what is left after 4 s. */
#ifndef PERFLOAD_MASTER_H
#define PERFLOAD_MASTER_H

struct pl_config;

/* Runs until SIGTERM/SIGINT. Returns the process exit status: 0 after a
 * clean stop, 1 when the ports cannot be bound or no worker can be started.
 * Workers are separate images (fork + execve of /proc/self/exe with the
 * hidden flags of worker.h), so this returns only in the master. cfg must
 * have its keys set. */
int master_run(const struct pl_config *cfg);

#endif
