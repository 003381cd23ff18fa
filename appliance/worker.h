/* worker.h -- one worker process of the appliance.
 *
 * A worker listens nowhere. It runs one libwebsockets loop holding the
 * Socket.IO engine (sio_server.h) and the application (app.h), adopts its
 * end of the master's socketpair as a RAW_FILE and every client fd that
 * arrives on it (SCM_RIGHTS) into the engine. It names itself "<slot>:<pid>"
 * in the X-PerfLoad-Worker response header and in its log lines.
 *
 * Stops on SIGTERM/SIGINT or when the master goes away (the socketpair reads
 * EOF, or PR_SET_PDEATHSIG fires): every client gets a Socket.IO DISCONNECT,
 * the app flushes, and worker_run returns within ~3 s. */
#ifndef PERFLOAD_WORKER_H
#define PERFLOAD_WORKER_H

struct pl_config;
struct appliance_stats;

/* Runs worker `slot` on master_fd (the worker's end of its socketpair; the
 * worker owns and closes it). Call in a freshly forked child. Returns the
 * exit status for the child: 0 after a clean stop, 1 when the engine or the
 * app cannot be created. */
int worker_run(const struct pl_config *cfg, struct appliance_stats *stats, int slot,
               int master_fd);

#endif
