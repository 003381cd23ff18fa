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

/* The master starts each worker as fork() + execve("/proc/self/exe") with
 *   argv[0] WORKER_SLOT_FLAG <slot> WORKER_FD_FLAG <fd> WORKER_STATS_FD_FLAG <fd> <master's argv[1..]>
 * (hidden flags, never in --help). main() hands such a command line to
 * worker_main() before anything else. */
#define WORKER_SLOT_FLAG     "--worker-slot"
#define WORKER_FD_FLAG       "--worker-fd"
#define WORKER_STATS_FD_FLAG "--stats-fd"

/* 1 when argv is a worker's command line (argv[1] is WORKER_SLOT_FLAG). */
int worker_exec_requested(int argc, char **argv);

/* The exec'ed worker's main: checks the hidden flags, loads the same
 * configuration as the master from the rest of argv and the environment,
 * attaches the stats memfd and runs worker_run(). Returns the process exit
 * status (2 for a malformed worker command line). */
int worker_main(int argc, char **argv);

/* Runs worker `slot` on master_fd (the worker's end of its socketpair; the
 * worker owns and closes it). Called by worker_main() (and unit tests in a
 * forked child). Returns the
 * exit status for the child: 0 after a clean stop, 1 when the engine or the
 * app cannot be created. */
int worker_run(const struct pl_config *cfg, struct appliance_stats *stats, int slot,
               int master_fd);

#endif
