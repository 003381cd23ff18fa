/* app_internal.h -- what app.c (sockets: auth, samples, lifetime), app_ui.c
 * (what a dashboard is sent, the pub/sub subscription) and app_liveness.c
 * (who is online: claims, sweeps, Redis link events) share.
 * Not an API: only the app*.c files include it. */
#ifndef PERFLOAD_APP_INTERNAL_H
#define PERFLOAD_APP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "app_machines.h"
#include "ip_count.h"
#include "netmask.h"
#include "plog.h"
#include "ratelimit.h"
#include "redis_url.h"
#include "sample.h"
#include "stats.h"

struct redis_loop;
struct redis_adapter;
struct redis_state;
struct mongo_store;
struct sio_server;
struct sio_socket;

#define APP_SWEEP_MS   500              /* liveness sweep period */
#define APP_ROOM_UI     "ui"
#define APP_ROOM_AGENTS "clients"
#define APP_ERROR_EVENT "perfload:error"
#define APP_LOG_LIMIT_MS 1000           /* at most one line per kind of refusal per second */

enum app_role { APP_ROLE_NONE = 0, APP_ROLE_AGENT, APP_ROLE_UI };

/* Per socket (sio_socket_set_user). Owned by the app until on_disconnect,
 * except that a UI waiting for its Redis snapshot is freed by the snapshot
 * callback (socket is then NULL). */
struct app_conn {
    struct sio_socket *socket;  /* NULL once the socket is gone */
    enum app_role role;
    int snapshot_pending;
    uint64_t snapshot_version;  /* app_machines_version when the snapshot was asked for */
    long auth_ack_id;           /* a UI's clientAuth ack, sent after its snapshot; -1 none */
    int machine_upserted;       /* Mongo machine doc written for this connection */
    /* The machine this agent reports; NULL before its first sample (entries
     * of app_machines are never freed while the app lives). */
    struct app_machine *machine;
    int ip_counted;             /* holds one count in app->ips */
    int closing;                /* disconnect asked for: ignore its further events */
    struct rl_socket rate;      /* --max-msgs-per-sec */
    lws_sorted_usec_list_t sul_kick; /* deferred disconnect of a socket over the per-IP cap */
    struct app_conn *await_next; /* next UI waiting for the subscription (app->awaiting_sub) */
};

struct app {
    const struct pl_config *cfg;
    struct sio_server *sio;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct worker_stats *stats;    /* the worker's slot, or own_stats (never NULL) */
    struct worker_stats own_stats; /* when the caller gave no stats (tests) */
    int slot;
    char who[48];
    int log_level;

    int redis_enabled;
    struct redis_url redis_url;
    struct redis_loop *cmd;        /* commands: state writes, PUBLISH, scripts */
    struct redis_adapter *adapter; /* owns the subscriber link */
    struct redis_state *state;
    struct mongo_store *mongo;     /* NULL when Mongo is off */

    struct app_machines *machines;
    unsigned snapshot_mark;
    int resync_needed;             /* a link was down: re-read the state when both are up */
    uint64_t resync_version;       /* app_machines_version when the resync read was asked for */
    lws_sorted_usec_list_t sul_sweep;
    int ui_count;                  /* UI sockets on this worker */
    struct app_conn *awaiting_sub; /* new UIs whose snapshot waits for the subscription */
    lws_sorted_usec_list_t sul_await; /* ... at most APP_AWAIT_SUB_MS */
    lws_sorted_usec_list_t sul_unlisten; /* leave pub/sub a while after the last UI left */
    struct netmask_list agent_nets;/* --agent-networks; n == 0: any */
    struct ip_count *ips;          /* sockets per peer address (--max-conns-per-ip) */
    /* one limiter per kind of log line about hostile or broken input */
    struct rl_log log_auth, log_network, log_ip_cap, log_rate, log_sample, log_redis;
    int shutting_down;
    int destroying;
    /* A normalised sample's text, rewritten here rather than allocated per sample. */
    char rewrite[SAMPLE_TEXT_MAX + SAMPLE_REWRITE_EXTRA];
};

/* app_log(app, level, fmt, ...): one line tagged "worker <slot> (pid <pid>)". */
#define app_log(app, level, ...) plog((app)->log_level, (level), (app)->who, __VA_ARGS__)

/* One line like app_log, but at most one per APP_LOG_LIMIT_MS for limiter l;
 * the next line that gets through says how many were swallowed (app.c). */
void app_log_limited(struct app *app, struct rl_log *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A sample read back from Redis (snapshot, claim, pub/sub): anyone with
 * Redis access may have written it, so it is scanned like an agent's
 * (sample_scan) and, when mac is non-NULL, its macA must be mac. Returns 0
 * with *v filled (v->active: isActive as stored), or -1 when unusable
 * (counted in redis_data_rejected, logged at most once a second). where
 * names the source for the log (app_liveness.c). */
int app_stored_sample(struct app *app, const char *json, size_t len, const char *mac,
                      struct sample_view *v, const char *where);

/* The app serving the engine of socket s, or NULL (app.c). */
struct app *app_of(const struct sio_socket *s);
/* Answers an event's ack with {ok: true} (nothing when ack_id < 0) (app.c). */
void app_ack_ok(struct sio_socket *s, long ack_id);

/* -- app_ui.c ------------------------------------------------------------------ */

/* conn authenticated as a UI: it is sent the known machines, joins room
 * 'ui', and its clientAuth (ack_id) is answered after that. */
void app_become_ui(struct app *app, struct app_conn *conn, long ack_id);
/* A UI socket left (closed, or became an agent). */
void app_ui_left(struct app *app, struct app_conn *conn);
/* Reads the snapshot of every UI waiting for the subscription (it is
 * confirmed, or took too long). */
void app_ui_start_waiting(struct app *app);

/* -- app_liveness.c ------------------------------------------------------------ */

/* 1 when the command link is up (Redis enabled and connected). */
int app_redis_up(const struct app *app);
/* Mirrors the links' state into stats->redis_up (1 up, 0 down, -1 off). */
void app_update_redis_stat(struct app *app);
/* The sample text with isActive set (and memUsage ensured); NULL when it
 * is not a valid sample or out of memory; the caller frees it with free(). */
char *app_with_active(const char *json, size_t len, int active);
/* `data` to this worker's room 'ui'. */
void app_emit_ui(struct app *app, const char *json, size_t len);
/* The last socket of this worker reporting m went away: m goes offline
 * (claimed through Redis, or locally while Redis is down). */
void app_machine_left(struct app *app, struct app_machine *m);
/* The liveness sweep timer callback (schedules itself every APP_SWEEP_MS). */
void app_sweep(lws_sorted_usec_list_t *sul);
/* Redis link callbacks (redis_loop / redis_adapter options). */
void app_redis_cmd_up(struct redis_loop *rl, void *user);
void app_redis_cmd_down(struct redis_loop *rl, void *user);
void app_redis_sub_state(int up, void *user);
void app_redis_deliver(const char *json, size_t len, void *user);

#endif
