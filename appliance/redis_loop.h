/* redis_loop.h -- one hiredis async connection driven by the lws loop.
 *
 * hiredis 0.14 has no libwebsockets adapter, so this is one: the hiredis
 * fd is dup()ed and the duplicate adopted into the vhost as a RAW_FILE of
 * protocol "perfload-redis" (redis_loop_protocol()); readable ->
 * redisAsyncHandleRead, writeable -> redisAsyncHandleWrite, hiredis asking
 * to write -> lws_callback_on_writable. Commands issued during one loop
 * turn sit in hiredis's output buffer until the fd is writeable, so they
 * leave in one write(): pipelining comes for free.
 *
 * A link whose Redis stops answering (frozen, half-open TCP) is dropped by
 * the watchdog (if asked for) or TCP keepalive, and one whose output buffer
 * exceeds REDIS_LOOP_OBUF_MAX refuses further commands: memory stays
 * bounded whatever Redis does.
 *
 * The link reconnects by itself with backoff (100 ms doubling to 1 s),
 * sends AUTH and SELECT from the URL first, and logs one line when it goes
 * down and one when it is back (never one per command). Nothing here
 * blocks: a host name is resolved on a short-lived thread before each
 * connect (hiredis itself would call getaddrinfo() on the loop).
 *
 * Before the link is reported up it is probed for CLIENT REPLY OFF (see
 * redis_loop_command_noreply); one round trip, read outside hiredis.
 *
 * Lifetimes: the caller owns struct redis_loop (create/destroy). The
 * redisAsyncContext belongs to hiredis and lives only while the link is
 * up; never keep it. Every command callback is called exactly once, with
 * reply NULL when the link went down before the reply came (free your
 * privdata there too). Call nothing here from another thread. */
#ifndef PERFLOAD_REDIS_LOOP_H
#define PERFLOAD_REDIS_LOOP_H

#include <stddef.h>
#include <hiredis/async.h>

struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct redis_url;
struct worker_stats;
struct redis_loop;

#define REDIS_LOOP_OBUF_MAX (16u << 20)   /* bytes waiting to be written to Redis */

struct redis_loop_options {
    struct lws_context *ctx;         /* the loop (timers) */
    struct lws_vhost *vhost;         /* must include redis_loop_protocol() */
    const struct redis_url *url;     /* copied */
    const char *who;                 /* log tag of the process, e.g. "worker 0 (pid 12)"; copied */
    const char *name;                /* the link's role in log lines, e.g. "redis sub"; copied */
    /* Called when the link is ready for commands (after connect, AUTH and
     * SELECT were queued) and when it went down. May issue commands (up). */
    void (*on_up)(struct redis_loop *rl, void *user);
    void (*on_down)(struct redis_loop *rl, void *user);
    void *user;
    int watchdog;                    /* 1: PING every second, drop the link when a reply is
                                      * 5 s late (a hung Redis); not for a subscriber link */
    int turn_flush;                  /* 1: the owner calls redis_loop_flush() at the end of
                                      * every loop turn, and commands are written then
                                      * without waiting for a WRITEABLE */
    int quiet;                       /* 1: outage/recovery lines at debug level, for a second
                                      * link to the same server whose twin logs them */
    struct worker_stats *stats;      /* redis_errors is counted here; may be NULL */
    int log_level;                   /* 0 error 1 warn 2 info 3 debug */
};

/* The RAW_FILE protocol the vhost needs (one entry, not terminated). */
const struct lws_protocols *redis_loop_protocol(void);

/* Creates the link and starts connecting (failure to connect is not an
 * error: it retries). NULL on allocation failure. */
struct redis_loop *redis_loop_create(const struct redis_loop_options *opts);

/* Writes the commands queued during this loop turn (turn_flush links; a
 * no-op otherwise or when nothing is queued). What the kernel does not take
 * at once is written on the next WRITEABLE. */
void redis_loop_flush(struct redis_loop *rl);

/* 1 when connected (commands are accepted), 0 otherwise. */
int redis_loop_up(const struct redis_loop *rl);

/* Which coming-up of the link this is: changes every time the link comes
 * up (a new connection, so possibly a restarted or emptied Redis), never 0
 * while up; 0 while down. Lets a caller re-send what it writes only once
 * per connection. */
unsigned redis_loop_epoch(const struct redis_loop *rl);

/* The live hiredis context, NULL when down. For subscribe-mode callers
 * that need redisAsyncCommand's own semantics; do not keep it. */
redisAsyncContext *redis_loop_async(struct redis_loop *rl);

/* Queues a command. Returns 0, or -1 when the link is down, its output
 * buffer is full, or hiredis refused (then fn is NOT called: privdata is
 * still the caller's). */
int redis_loop_command_argv(struct redis_loop *rl, redisCallbackFn *fn, void *privdata, int argc,
                            const char **argv, const size_t *argvlen);

/* Queues a command whose reply only matters if it is an error, for the
 * writes of every sample. When this connection honours CLIENT REPLY OFF
 * (probed before the link comes up), the command is sent with replies off:
 * Redis answers nothing, hiredis keeps no callback entry, fn is never called
 * and an error (OOM, WRONGTYPE) goes unseen -- send the same kind of write
 * with redis_loop_command_argv now and then to see those. Otherwise it is
 * exactly redis_loop_command_argv(fn, privdata). Either way privdata must
 * outlive the link (no per-command allocation). Switching between the two
 * modes costs one CLIENT REPLY command, so batch: a loop turn's writes
 * mostly go out under one OFF. 0, or -1 as for redis_loop_command_argv. */
int redis_loop_command_noreply(struct redis_loop *rl, redisCallbackFn *fn, void *privdata, int argc,
                               const char **argv, const size_t *argvlen);

/* Error visibility for redis_loop_command_noreply: a caller keeps one
 * next_ms (0 at start) per kind of write and sends that write answered when
 * this returns 1, at most once per REDIS_LOOP_CHECK_MS (monotonic clock). */
#define REDIS_LOOP_CHECK_MS 1000
int redis_loop_check_due(long long *next_ms);

/* 1 when the link is up and redis_loop_command_noreply sends without replies. */
int redis_loop_replies_off(const struct redis_loop *rl);

/* Drops the connection now (callbacks get NULL replies) and reconnects
 * after the backoff, as after a network failure. Used when a reply shows the
 * link is unusable (AUTH refused, wrong type). */
void redis_loop_reset(struct redis_loop *rl, const char *why);

/* Stops reconnecting and closes the link (pending callbacks get NULL).
 * Then frees. NULL is a no-op. Not from inside a command callback. */
void redis_loop_destroy(struct redis_loop *rl);

#endif
