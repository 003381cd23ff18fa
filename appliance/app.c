/* app.c -- PerfLoad's application protocol (see app.h).
 *
 * A socket starts unauthenticated; clientAuth makes it an agent (room
 * 'clients') or a UI (room 'ui', after it has been sent the known
 * machines), or disconnects it. Samples from agents are validated, relayed
 * to the local 'ui' room at once, then written to Redis (live state +
 * PUBLISH for the other workers) and queued for Mongo. An agent's machine
 * goes offline when its last socket here closes (claimed through Redis so
 * that exactly one worker announces it) or when it has been silent for
 * liveness_timeout_ms (every worker sweeps Redis for that). While Redis is
 * down the worker serves from its own table (app_machines.h) and tells
 * Redis what it missed once the link is back. This file handles sockets
 * (auth, samples) and the app's lifetime; app_ui.c what a dashboard is
 * sent; app_liveness.c who is online. */
#include "app.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_internal.h"
#include "config.h"
#include "mongo_store.h"
#include "redis_adapter.h"
#include "redis_loop.h"
#include "redis_state.h"
#include "sio_server.h"

/* -- which app serves which engine ------------------------------------------
 * The engine takes its handlers before the app exists, so the handlers find
 * their app from the socket's server. */
static struct {
    struct sio_server *sio;
    struct app *app;
} app_registry[APP_MAX_PER_PROCESS];

struct app *app_of(const struct sio_socket *s)
{
    struct sio_server *sio = sio_socket_server(s);
    for (size_t i = 0; i < APP_MAX_PER_PROCESS; i++)
        if (app_registry[i].sio == sio && app_registry[i].app != NULL)
            return app_registry[i].app;
    return NULL;
}

static int app_register(struct app *app)
{
    for (size_t i = 0; i < APP_MAX_PER_PROCESS; i++) {
        if (app_registry[i].app == NULL) {
            app_registry[i].sio = app->sio;
            app_registry[i].app = app;
            return 0;
        }
    }
    return -1;
}

static void app_unregister(struct app *app)
{
    for (size_t i = 0; i < APP_MAX_PER_PROCESS; i++) {
        if (app_registry[i].app == app) {
            app_registry[i].app = NULL;
            app_registry[i].sio = NULL;
        }
    }
}

/* -- acks and errors ------------------------------------------------------------- */

/* Answers an event's ack (when one was asked for) with args [obj]; takes obj. */
static void app_ack_object(struct sio_socket *s, long ack_id, cJSON *obj)
{
    if (ack_id < 0 || obj == NULL) {
        cJSON_Delete(obj);   /* obj is ours in every case */
        return;
    }
    cJSON *args = cJSON_CreateArray();
    if (args != NULL && cJSON_AddItemToArray(args, obj)) {
        sio_socket_ack(s, ack_id, args);
        cJSON_Delete(args);
        return;
    }
    cJSON_Delete(args);
    cJSON_Delete(obj);
}

void app_ack_ok(struct sio_socket *s, long ack_id)
{
    if (ack_id < 0)
        return;
    cJSON *ok = cJSON_CreateObject();
    if (ok != NULL)
        cJSON_AddTrueToObject(ok, "ok");
    app_ack_object(s, ack_id, ok);
}

/* Refuses an event without dropping the connection: the ack (if asked)
 * carries {error}, and a `perfload:error` {event, error} tells clients that
 * did not ask for an ack. */
static void app_refuse(struct sio_socket *s, const char *event, long ack_id, const char *msg)
{
    cJSON *e = cJSON_CreateObject();
    if (e == NULL)
        return;
    cJSON_AddStringToObject(e, "event", event);
    cJSON_AddStringToObject(e, "error", msg);
    sio_socket_emit(s, APP_ERROR_EVENT, e);
    cJSON_DeleteItemFromObjectCaseSensitive(e, "event");
    app_ack_object(s, ack_id, e);
}

/* Answers an event's ack (when asked) with {error} only: for refusals that
 * come too often to announce each with a perfload:error. */
static void app_ack_error(struct sio_socket *s, long ack_id, const char *msg)
{
    if (ack_id < 0)
        return;
    cJSON *e = cJSON_CreateObject();
    if (e != NULL)
        cJSON_AddStringToObject(e, "error", msg);
    app_ack_object(s, ack_id, e);
}

void app_log_limited(struct app *app, struct rl_log *l, int level, const char *fmt, ...)
{
    char line[400];
    uint64_t suppressed = 0;
    va_list ap;

    if (level > app->log_level || !rl_log_allow(l, plog_wall_ms(), APP_LOG_LIMIT_MS, &suppressed))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (suppressed > 0)
        app_log(app, level, "%s (and %llu more like it not logged)", line,
                (unsigned long long)suppressed);
    else
        app_log(app, level, "%s", line);
}

/* -- clientAuth ----------------------------------------------------------------- */

static void app_on_auth(struct app *app, struct app_conn *conn, const cJSON *args, long ack_id)
{
    struct sio_socket *s = conn->socket;
    const cJSON *key = cJSON_GetArrayItem(args, 0);
    const char *k = cJSON_IsString(key) ? key->valuestring : NULL;
    size_t klen = k != NULL ? strlen(k) : 0;

    if (k != NULL && cfg_key_equal(k, klen, app->cfg->agent_key)) {
        /* Outside --agent-networks the right key is refused exactly like a
         * wrong one, so a scan from there learns nothing about the key. */
        if (app->agent_nets.n > 0 && !netmask_list_match(&app->agent_nets, sio_socket_peer_ip(s))) {
            atomic_fetch_add(&app->stats->agents_refused_network, 1);
            app_log_limited(app, &app->log_network, 1,
                            "agent key from %s, outside --agent-networks (sid %s): disconnecting",
                            sio_socket_peer_ip(s), sio_socket_sid(s));
            conn->closing = 1;
            sio_socket_disconnect(s);
            return;
        }
        if (conn->role != APP_ROLE_AGENT) {
            if (conn->role == APP_ROLE_UI) {
                sio_socket_leave(s, APP_ROOM_UI);
                app_ui_left(app, conn);
            }
            conn->role = APP_ROLE_AGENT;
            sio_socket_join(s, APP_ROOM_AGENTS);
            atomic_fetch_add(&app->stats->agents, 1);
        }
        app_ack_ok(s, ack_id);
        return;
    }
    /* An open dashboard (--open-dashboard) needs no key: any other string,
     * the empty one included, makes a UI. */
    if (k != NULL && (app->cfg->open_dashboard || cfg_key_equal(k, klen, app->cfg->ui_key))) {
        if (conn->role != APP_ROLE_UI)
            app_become_ui(app, conn, ack_id);
        else
            app_ack_ok(s, ack_id);
        return;
    }
    atomic_fetch_add(&app->stats->auth_failures, 1);
    app_log_limited(app, &app->log_auth, 2, "clientAuth with a wrong key from %s (sid %s): disconnecting",
                    sio_socket_peer_ip(s), sio_socket_sid(s));
    conn->closing = 1;
    sio_socket_disconnect(s);
}

/* -- samples ------------------------------------------------------------------- */

/* An agent's sample, scanned (r is sample_scan's verdict on raw, v its
 * view): refused with the reason, or relayed to the UIs, written to Redis
 * and Mongo, and acked. */
static void app_on_sample(struct app *app, struct app_conn *conn, const char *event,
                          const char *raw, size_t raw_len, const struct sample_view *v, int r,
                          const char *why, long ack_id)
{
    struct sio_socket *s = conn->socket;
    char msg[SAMPLE_ERR_MAX + 64];

    if (r < 0) {
        atomic_fetch_add(&app->stats->samples_rejected, 1);
        snprintf(msg, sizeof(msg), "%s rejected: %s", event, why);
        app_log_limited(app, &app->log_sample, 2, "%s from %s (sid %s)", msg, sio_socket_peer_ip(s),
                        sio_socket_sid(s));
        app_refuse(s, event, ack_id, msg);
        return;
    }

    /* Relay the bytes as received unless normalising changes them. */
    const char *json = raw;
    size_t len = raw_len;
    if (r == SAMPLE_NORMALISED) {
        int n = sample_rewrite(raw, raw_len, v, 1, app->rewrite, sizeof(app->rewrite));
        if (n < 0) {   /* cannot happen: raw_len <= SAMPLE_TEXT_MAX */
            app_refuse(s, event, ack_id, "sample too large to normalise");
            return;
        }
        json = app->rewrite;
        len = (size_t)n;
    }
    const char *mac = v->mac;
    int64_t now = plog_wall_ms();

    /* The machine this socket reports, kept from its last sample: no
     * lookup (a few cache misses in a table of 40,000) per sample. */
    struct app_machine *m = conn->machine;
    if (m == NULL || strcmp(m->mac, mac) != 0) {
        /* An agent socket that starts reporting another machine leaves the old one. */
        if (m != NULL) {
            conn->machine = NULL;
            conn->machine_upserted = 0;
            app_machine_left(app, m);
        }
        m = app_machines_get(app->machines, mac);   /* NULL: the table is full */
        if (m != NULL) {
            m->local_agents++;
            conn->machine = m;
        }
    }
    int was_active = m != NULL && m->active;
    if (m != NULL) {
        app_machine_set_json(app->machines, m, json, len);
        m->last_seen_ms = now;
        m->active = 1;
        m->offline_pending = 0;
    }

    app_emit_ui(app, json, len);
    if (app_redis_up(app)) {
        char hist[SAMPLE_HISTORY_MAX];
        int hlen = sample_history_entry(raw, v, now, hist, sizeof(hist));
        /* State before PUBLISH on the same link: whoever hears the message
         * finds the state already written. */
        if (hlen > 0) {
            struct redis_state_mark none = { 0, 0 };
            struct redis_state_mark *mk = m != NULL ? &m->redis : &none;
            unsigned flags = redis_state_next_flags(app->state, mk);
            if (redis_state_sample_flags(app->state, mac, json, len, hist, (size_t)hlen, now, flags) != 0)
                redis_state_mark_failed(mk);
        }
        redis_adapter_publish(app->adapter, json, len);
    }
    if (app->mongo != NULL) {
        if (strcmp(event, "initPerfData") == 0 || !conn->machine_upserted) {
            mongo_store_machine_json(app->mongo, json, len, 1, now);
            conn->machine_upserted = 1;
        } else if (!was_active) {
            mongo_store_machine_active(app->mongo, mac, 1, now);
        }
        mongo_store_sample_json(app->mongo, json, len, now);
    }
    atomic_fetch_add(&app->stats->samples_in, 1);
    app_ack_ok(s, ack_id);
}

static int app_is_sample_event(const char *event)
{
    return strcmp(event, "perfData") == 0 || strcmp(event, "initPerfData") == 0;
}

/* sample_scan of an event's first argument; a missing one is invalid. */
static int app_scan_arg0(const char *arg0_raw, size_t arg0_len, struct sample_view *v, char *why,
                         size_t whylen)
{
    if (arg0_raw == NULL) {
        snprintf(why, whylen, "sample missing");
        return SAMPLE_INVALID;
    }
    return sample_scan(arg0_raw, arg0_len, v, why, whylen);
}

/* -- engine handlers --------------------------------------------------------------- */

static void app_kick(lws_sorted_usec_list_t *sul)
{
    struct app_conn *conn = lws_container_of(sul, struct app_conn, sul_kick);
    if (conn->socket != NULL)
        sio_socket_disconnect(conn->socket);
}

/* --max-msgs-per-sec: 0 when the event may be handled; otherwise it was
 * dropped (and counted), and a socket that stays over the rate is
 * disconnected. */
static int app_rate_limited(struct app *app, struct app_conn *conn, const char *event, long ack_id)
{
    struct sio_socket *s = conn->socket;
    const struct pl_config *cfg = app->cfg;
    char msg[160];
    int first;

    enum rl_verdict v = rl_socket_message(&conn->rate, cfg->max_msgs_per_sec, cfg->max_msgs_burst,
                                          lws_now_usecs() / 1000, &first);
    if (v == RL_PASS)
        return 0;
    atomic_fetch_add(&app->stats->msgs_rate_limited, 1);
    if (v == RL_KICK) {
        atomic_fetch_add(&app->stats->rate_limit_disconnects, 1);
        app_log_limited(app, &app->log_rate, 1,
                        "%s (sid %s) stayed over %d messages/s for %d s: disconnecting",
                        sio_socket_peer_ip(s), sio_socket_sid(s), cfg->max_msgs_per_sec, RL_STRIKES_MAX);
        conn->closing = 1;
        sio_socket_disconnect(s);
        return 1;
    }
    snprintf(msg, sizeof(msg), "rate limit: more than %d messages/s (burst %d); dropped",
             cfg->max_msgs_per_sec, cfg->max_msgs_burst);
    if (first) {
        app_log_limited(app, &app->log_rate, 2, "%s (sid %s): over %d messages/s, dropping",
                        sio_socket_peer_ip(s), sio_socket_sid(s), cfg->max_msgs_per_sec);
        app_refuse(s, event, ack_id, msg);
    } else {
        app_ack_error(s, ack_id, msg);
    }
    return 1;
}

static int app_on_connect(struct sio_socket *s, const char *nsp, const cJSON *auth, void *user)
{
    struct app *app = app_of(s);
    if (app == NULL || app->shutting_down)
        return -1;
    struct app_conn *conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        return -1;
    conn->socket = s;
    conn->auth_ack_id = -1;
    rl_socket_init(&conn->rate, app->cfg->max_msgs_burst, lws_now_usecs() / 1000);
    sio_socket_set_user(s, conn);
    /* The session keeps the address for the socket's life: released from
     * the same text in on_disconnect. */
    const char *ip = sio_socket_peer_ip(s);
    /* An address that fails to be counted (out of memory) is let in. */
    int r = ip_count_acquire(app->ips, ip, app->cfg->max_conns_per_ip);
    conn->ip_counted = r == 1;
    if (r == 0) {
        char msg[160];
        atomic_fetch_add(&app->stats->conns_refused_ip_cap, 1);
        app_log_limited(app, &app->log_ip_cap, 1,
                        "%s holds %d connections (--max-conns-per-ip): disconnecting a new one (sid %s)",
                        ip, app->cfg->max_conns_per_ip, sio_socket_sid(s));
        snprintf(msg, sizeof(msg), "too many connections from %s (at most %d per address)", ip,
                 app->cfg->max_conns_per_ip);
        cJSON *e = cJSON_CreateObject();
        if (e != NULL) {
            cJSON_AddStringToObject(e, "error", msg);
            sio_socket_emit(s, APP_ERROR_EVENT, e);   /* held until CONNECT is out */
            cJSON_Delete(e);
        }
        /* The DISCONNECT must follow the CONNECT the engine sends after we
         * return: do it from the loop. */
        conn->closing = 1;
        lws_sul_schedule(app->ctx, 0, &conn->sul_kick, app_kick, 1);
    }
    return 0;
}

/* The hot path: an agent's sample, taken from the event's raw text with
 * no tree built (sio_handlers.on_event_raw). Anything else, and a sample
 * that is not well-formed JSON, goes to the engine's full parse and
 * app_on_event, which treat it as before. */
static int app_on_event_raw(struct sio_socket *s, const char *event, const char *arg0_raw,
                            size_t arg0_len, long ack_id, void *user)
{
    struct app *app = app_of(s);
    struct app_conn *conn = sio_socket_get_user(s);
    struct sample_view v;
    char why[SAMPLE_ERR_MAX];

    if (app == NULL || conn == NULL || conn->closing || conn->role != APP_ROLE_AGENT ||
        !app_is_sample_event(event))
        return 0;
    int r = app_scan_arg0(arg0_raw, arg0_len, &v, why, sizeof(why));
    if (r == SAMPLE_SYNTAX)
        return 0;
    if (!app_rate_limited(app, conn, event, ack_id))
        app_on_sample(app, conn, event, arg0_raw, arg0_len, &v, r, why, ack_id);
    return 1;
}

static void app_on_event(struct sio_socket *s, const char *event, const cJSON *args,
                         const char *arg0_raw, size_t arg0_len, long ack_id, void *user)
{
    struct app *app = app_of(s);
    struct app_conn *conn = sio_socket_get_user(s);
    if (app == NULL || conn == NULL || conn->closing)
        return;
    if (app_rate_limited(app, conn, event, ack_id))
        return;

    if (strcmp(event, "clientAuth") == 0) {
        app_on_auth(app, conn, args, ack_id);
        return;
    }
    int is_sample = app_is_sample_event(event);
    if (is_sample && conn->role == APP_ROLE_AGENT) {
        struct sample_view v;
        char why[SAMPLE_ERR_MAX];
        int r = app_scan_arg0(arg0_raw, arg0_len, &v, why, sizeof(why));
        app_on_sample(app, conn, event, arg0_raw, arg0_len, &v, r, why, ack_id);
        return;
    }
    if (conn->role == APP_ROLE_NONE) {
        /* The original server relayed these; we refuse and keep the socket. */
        atomic_fetch_add(is_sample ? &app->stats->samples_rejected : &app->stats->protocol_errors, 1);
        app_refuse(s, event, ack_id, "not authenticated: send clientAuth with your key first");
        return;
    }
    if (is_sample) {
        atomic_fetch_add(&app->stats->samples_rejected, 1);
        app_refuse(s, event, ack_id, "only agents (agent key) may send samples");
        return;
    }
    if (ack_id >= 0)
        app_refuse(s, event, ack_id, "unknown event");
}

static void app_on_disconnect(struct sio_socket *s, const char *reason, void *user)
{
    struct app *app = app_of(s);
    struct app_conn *conn = sio_socket_get_user(s);

    sio_socket_set_user(s, NULL);
    if (conn == NULL)
        return;
    conn->socket = NULL;
    lws_sul_cancel(&conn->sul_kick);
    if (app != NULL && conn->ip_counted)
        ip_count_release(app->ips, sio_socket_peer_ip(s));
    if (app != NULL && !app->destroying) {
        if (conn->role == APP_ROLE_AGENT) {
            atomic_fetch_add(&app->stats->agents, -1);
            struct app_machine *m = conn->machine;
            conn->machine = NULL;
            if (m != NULL)
                app_machine_left(app, m);
        } else if (conn->role == APP_ROLE_UI) {
            app_ui_left(app, conn);
        }
    }
    /* A pending snapshot callback owns conn now and frees it. */
    if (!conn->snapshot_pending)
        free(conn);
}

static const struct sio_handlers app_handlers = {
    .on_connect = app_on_connect,
    .on_event = app_on_event,
    .on_disconnect = app_on_disconnect,
    .on_event_raw = app_on_event_raw,
};

const struct sio_handlers *app_sio_handlers(void)
{
    return &app_handlers;
}

static struct lws_protocols app_protocols[2];

const struct lws_protocols *app_lws_protocols(void)
{
    /* Filled at first use: a static initialiser cannot copy another
     * file's struct. The terminator stays all-zero. */
    app_protocols[0] = *redis_loop_protocol();
    return app_protocols;
}

/* -- lifetime -------------------------------------------------------------------- */

static int app_start_redis(struct app *app, char *err, size_t errlen)
{
    const struct pl_config *cfg = app->cfg;
    char why[128];

    if (cfg->redis_url[0] == '\0') {
        app_log(app, 2, "Redis disabled (empty --redis): serving this worker's clients only");
        return 0;
    }
    if (redis_url_parse(cfg->redis_url, &app->redis_url, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    app->redis_enabled = 1;
    struct redis_loop_options lo = {
        .ctx = app->ctx,
        .vhost = app->vhost,
        .url = &app->redis_url,
        .who = app->who,
        .name = "redis",
        .on_up = app_redis_cmd_up,
        .on_down = app_redis_cmd_down,
        .user = app,
        .watchdog = 1,
        .turn_flush = 1,   /* app_turn_end */
        .stats = app->stats,
        .log_level = app->log_level,
    };
    app->cmd = redis_loop_create(&lo);
    struct redis_adapter_options ao = {
        .ctx = app->ctx,
        .vhost = app->vhost,
        .url = &app->redis_url,
        .pub = app->cmd,
        .prefix = cfg->redis_prefix,
        .who = app->who,
        .deliver = app_redis_deliver,
        .on_state = app_redis_sub_state,
        .user = app,
        .stats = app->stats,
        .log_level = app->log_level,
    };
    app->adapter = app->cmd != NULL ? redis_adapter_create(&ao) : NULL;
    struct redis_state_options so = {
        .link = app->cmd,
        .prefix = cfg->redis_prefix,
        .history_len = cfg->history_len,
        .who = app->who,
        .stats = app->stats,
        .log_level = app->log_level,
    };
    app->state = app->adapter != NULL ? redis_state_create(&so) : NULL;
    if (app->state == NULL) {
        snprintf(err, errlen, "out of memory creating the Redis links");
        return -1;
    }
    return 0;
}

struct app *app_create(const struct app_deps *deps, char *err, size_t errlen)
{
    char why[256];
    struct app *app = calloc(1, sizeof(*app));

    if (app == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    app->cfg = deps->cfg;
    app->sio = deps->sio;
    app->ctx = deps->ctx;
    app->vhost = deps->vhost;
    app->stats = deps->stats != NULL ? deps->stats : &app->own_stats;
    app->slot = deps->worker_slot;
    app->log_level = deps->cfg->log_level;
    snprintf(app->who, sizeof(app->who), "worker %d (pid %d)", deps->worker_slot, (int)getpid());
    if (netmask_parse_list(deps->cfg->agent_networks, &app->agent_nets, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--agent-networks: %s", why);
        free(app);
        return NULL;
    }
    app->machines = app_machines_create();
    app->ips = ip_count_create();
    if (app->machines == NULL || app->ips == NULL || app_register(app) != 0) {
        snprintf(err, errlen, app->machines == NULL || app->ips == NULL ? "out of memory"
                                                                        : "too many apps in one process");
        app_machines_destroy(app->machines);
        ip_count_destroy(app->ips);
        free(app);
        return NULL;
    }
    if (app_start_redis(app, err, errlen) != 0) {
        app_destroy(app);
        return NULL;
    }
    why[0] = '\0';
    app->mongo = mongo_store_create(app->cfg, app->stats, why, sizeof(why));
    if (app->mongo == NULL && why[0] != '\0') {
        snprintf(err, errlen, "MongoDB: %s", why);
        app_destroy(app);
        return NULL;
    }
    app_update_redis_stat(app);
    lws_sul_schedule(app->ctx, 0, &app->sul_sweep, app_sweep, APP_SWEEP_MS * LWS_US_PER_MS);
    return app;
}

void app_turn_end(struct app *app)
{
    if (app != NULL)
        redis_loop_flush(app->cmd);
}

void app_shutdown(struct app *app)
{
    if (app == NULL || app->shutting_down)
        return;
    app->shutting_down = 1;
    lws_sul_cancel(&app->sul_sweep);
    lws_sul_cancel(&app->sul_unlisten);
    lws_sul_cancel(&app->sul_await);
}

void app_destroy(struct app *app)
{
    if (app == NULL)
        return;
    app->shutting_down = 1;
    app->destroying = 1;
    lws_sul_cancel(&app->sul_sweep);
    lws_sul_cancel(&app->sul_unlisten);
    lws_sul_cancel(&app->sul_await);
    /* The command link first: its pending callbacks (claims, snapshots) run
     * with a failure while everything they touch still exists. */
    redis_loop_destroy(app->cmd);
    redis_adapter_destroy(app->adapter);
    redis_state_destroy(app->state);
    mongo_store_destroy(app->mongo);
    app_machines_destroy(app->machines);
    ip_count_destroy(app->ips);
    app_unregister(app);
    free(app);
}
