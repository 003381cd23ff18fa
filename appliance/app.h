/* app.h -- PerfLoad's application protocol on the Socket.IO engine.
 *
 * One app per worker process. Its event handlers (app_sio_handlers) run on
 * the engine (appliance/sio_server.h); it owns everything PerfLoad-specific:
 *   - clientAuth: agent key -> room 'clients', UI key -> room 'ui' plus one
 *     `data` per known machine, any other key -> disconnect;
 *   - initPerfData / perfData: validated (lib/sample.h), relayed to 'ui' as
 *     `data`, written to the live state in Redis and to Mongo;
 *   - liveness: an agent that leaves or goes silent -> its last sample with
 *     isActive:false to 'ui', claimed once across the cluster;
 *   - the Redis links (appliance/redis_*.h) and the Mongo writer
 *     (appliance/mongo_store.h).
 * Everything runs on the worker's lws loop; nothing here blocks. */
#ifndef PERFLOAD_APP_H
#define PERFLOAD_APP_H

#include <stddef.h>

struct pl_config;
struct sio_server;
struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct sio_handlers;
struct worker_stats;
struct app;

#define APP_MAX_PER_PROCESS 8

struct app_deps {
    const struct pl_config *cfg;  /* must outlive the app */
    struct sio_server *sio;       /* the engine running app_sio_handlers() */
    struct lws_context *ctx;      /* the worker's loop (timers) */
    struct lws_vhost *vhost;      /* where the Redis fds are adopted (needs app_lws_protocols()) */
    struct worker_stats *stats;   /* this worker's slot; may be NULL (tests) */
    int worker_slot;              /* for logs only */
};

/* The lws protocols the app needs in the vhost the Redis fds are adopted
 * into (a RAW_FILE protocol named "perfload-redis"). A list terminated by
 * an all-zero entry; the caller copies the entries into its own protocol
 * array before creating the vhost. Static storage: never freed. */
const struct lws_protocols *app_lws_protocols(void);

/* The engine handlers of the app: pass them to sio_server_create() (the
 * engine takes its handlers at creation, before the app exists). They find
 * their app from the socket's server (sio_socket_server), so opts.user is
 * not used by them. Until app_create() has run for that server they refuse
 * every connection. Static storage: never freed. */
const struct sio_handlers *app_sio_handlers(void);

/* Creates the app for deps->sio (at most APP_MAX_PER_PROCESS apps per
 * process: one per worker, a few in tests) and starts connecting to Redis
 * (and Mongo when configured) in the background: an unreachable Redis is
 * not an error (the app serves local clients and keeps retrying). An empty
 * cfg->redis_url turns Redis off (one worker serving its own clients).
 * Returns NULL with a one-line reason in err on failure (bad Redis URL, out
 * of memory, Mongo URL invalid). */
struct app *app_create(const struct app_deps *deps, char *err, size_t errlen);

/* Call after every loop turn (lws_service returning): the Redis commands
 * the turn queued are written now, in one write(), rather than after a
 * POLLOUT round trip. */
void app_turn_end(struct app *app);

/* Begins a graceful stop: marks this worker's agents offline (best effort,
 * queued to Redis/Mongo), stops timers and reconnects. The loop must keep
 * running a little (~1 s) for the queued writes to leave. Idempotent. */
void app_shutdown(struct app *app);

/* Frees everything. Call after app_shutdown and before the lws context is
 * destroyed. NULL is a no-op. */
void app_destroy(struct app *app);

#endif
