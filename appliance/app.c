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
 * Redis what it missed once the link is back. */
#include "app.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "app_machines.h"
#include "config.h"
#include "mongo_store.h"
#include "plog.h"
#include "redis_adapter.h"
#include "redis_loop.h"
#include "redis_state.h"
#include "redis_url.h"
#include "sample.h"
#include "sio_server.h"
#include "stats.h"

#define APP_SWEEP_MS   500              /* liveness sweep period */
#define APP_ROOM_UI     "ui"
#define APP_ROOM_AGENTS "clients"
#define APP_ERROR_EVENT "perfload:error"

enum app_role { APP_ROLE_NONE = 0, APP_ROLE_AGENT, APP_ROLE_UI };

/* Per socket (sio_socket_set_user). Owned by the app until on_disconnect,
 * except that a UI waiting for its Redis snapshot is freed by the snapshot
 * callback (socket is then NULL). */
struct app_conn {
    struct sio_socket *socket;  /* NULL once the socket is gone */
    enum app_role role;
    int snapshot_pending;
    long auth_ack_id;           /* a UI's clientAuth ack, sent after its snapshot; -1 none */
    int machine_upserted;       /* Mongo machine doc written for this connection */
    char mac[SAMPLE_MAC_MAX + 1]; /* machine this agent reports; "" before its first sample */
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
    lws_sorted_usec_list_t sul_sweep;
    int shutting_down;
    int destroying;
};

#define app_log(app, level, ...) plog((app)->log_level, (level), (app)->who, __VA_ARGS__)

/* -- which app serves which engine ------------------------------------------
 * The engine takes its handlers before the app exists, so the handlers find
 * their app from the socket's server. */
static struct {
    struct sio_server *sio;
    struct app *app;
} app_registry[APP_MAX_PER_PROCESS];

static struct app *app_of(const struct sio_socket *s)
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
    for (size_t i = 0; i < APP_MAX_PER_PROCESS; i++)
        if (app_registry[i].app == app)
            app_registry[i].app = NULL, app_registry[i].sio = NULL;
}

/* -- small helpers ------------------------------------------------------------ */

static int app_redis_up(const struct app *app)
{
    return app->redis_enabled && redis_loop_up(app->cmd);
}

static void app_update_redis_stat(struct app *app)
{
    int32_t v = !app->redis_enabled ? -1
                : (redis_loop_up(app->cmd) && redis_adapter_subscribed(app->adapter)) ? 1 : 0;
    atomic_store(&app->stats->redis_up, v);
}

/* Answers an event's ack (when one was asked for) with args [obj]. */
static void app_ack_object(struct sio_socket *s, long ack_id, cJSON *obj)
{
    if (ack_id < 0 || obj == NULL)
        return;
    cJSON *args = cJSON_CreateArray();
    if (args != NULL && cJSON_AddItemToArray(args, obj)) {
        sio_socket_ack(s, ack_id, args);
        cJSON_Delete(args);
        return;
    }
    cJSON_Delete(args);
    cJSON_Delete(obj);
}

static void app_ack_ok(struct sio_socket *s, long ack_id)
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

/* The same sample text with isActive set to `active`; NULL on failure.
 * Caller frees with cJSON_free. */
static char *app_with_active(const char *json, size_t len, int active)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    char *out = NULL;
    if (o != NULL && cJSON_IsObject(o) && sample_set_active(o, active) == 0)
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

/* isActive of a sample text (0 when unreadable). */
static int app_sample_active(const char *json, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    int active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive"));
    cJSON_Delete(o);
    return active;
}

static void app_emit_ui(struct app *app, const char *json, size_t len)
{
    sio_server_room_emit_raw(app->sio, APP_ROOM_UI, "data", json, len);
}

/* -- going offline ------------------------------------------------------------ */

/* Announces m offline from this worker's knowledge only (Redis down or the
 * claim failed): local UIs now, Redis and the other workers when the link
 * is back (offline_pending). */
static void app_offline_local(struct app *app, struct app_machine *m, int64_t now)
{
    if (!m->active || m->json == NULL)
        return;
    char *off = app_with_active(m->json, m->len, 0);
    if (off == NULL)
        return;
    app_machine_set_json(m, off, strlen(off));
    cJSON_free(off);
    m->active = 0;
    m->offline_pending = app->redis_enabled;
    app_emit_ui(app, m->json, m->len);
    if (app->mongo != NULL)
        mongo_store_machine_active(app->mongo, m->mac, 0, now);
}

/* A liveness claim's outcome (an agent left here, or any sweep). */
static void app_on_claim(int status, const char *mac, const char *sample, size_t len,
                         int64_t last_seen_ms, void *user)
{
    struct app *app = user;
    struct app_machine *m = app_machines_find(app->machines, mac);
    int64_t now = plog_wall_ms();

    if (app->destroying)
        return;
    if (status == REDIS_STATE_FAILED) {
        if (m != NULL && m->local_agents == 0)
            app_offline_local(app, m, now);
        return;
    }
    if (status != REDIS_STATE_CLAIMED)
        return;

    /* We won the claim: we tell everyone, once. */
    const char *base = sample;
    size_t base_len = len;
    if (base == NULL && m != NULL && m->json != NULL)
        base = m->json, base_len = m->len;
    if (base == NULL)
        return;
    /* One of our agents sent a newer sample than the one Redis timed out:
     * the machine is back, do not announce it offline. */
    if (m != NULL && m->local_agents > 0 && m->last_seen_ms > last_seen_ms)
        return;
    char *off = app_with_active(base, base_len, 0);
    if (off == NULL)
        return;
    size_t off_len = strlen(off);
    redis_state_store_offline(app->state, mac, off, off_len, last_seen_ms);
    redis_adapter_publish(app->adapter, off, off_len);
    app_emit_ui(app, off, off_len);
    if (app->mongo != NULL)
        mongo_store_machine_active(app->mongo, mac, 0, now);
    app_log(app, 3, "machine %s offline", mac);

    if (m == NULL)
        m = app_machines_get(app->machines, mac);
    if (m != NULL) {
        app_machine_set_json(m, off, off_len);
        m->active = 0;
        m->offline_pending = 0;
    }
    cJSON_free(off);
}

/* The last socket of this worker reporting m went away. */
static void app_machine_left(struct app *app, struct app_machine *m)
{
    if (m->local_agents > 0 && --m->local_agents > 0)
        return;
    if (!m->active)
        return;
    if (app_redis_up(app) && redis_state_claim(app->state, m->mac, app_on_claim, app) == 0)
        return;
    app_offline_local(app, m, plog_wall_ms());
}

/* Every APP_SWEEP_MS: claim silent machines cluster-wide through Redis; with
 * Redis down, time out this worker's own silent agents locally. */
static void app_sweep(lws_sorted_usec_list_t *sul)
{
    struct app *app = lws_container_of(sul, struct app, sul_sweep);
    int64_t now = plog_wall_ms();
    int64_t cutoff = now - app->cfg->liveness_timeout_ms;

    if (app->shutting_down)
        return;
    if (app_redis_up(app)) {
        redis_state_sweep(app->state, cutoff, app_on_claim, app);
    } else {
        for (struct app_machine *m = app_machines_first(app->machines); m != NULL; m = m->next)
            if (m->local_agents > 0 && m->active && m->last_seen_ms < cutoff)
                app_offline_local(app, m, now);
    }
    lws_sul_schedule(app->ctx, 0, &app->sul_sweep, app_sweep, APP_SWEEP_MS * LWS_US_PER_MS);
}

/* -- Redis link events ---------------------------------------------------------- */

/* After an outage, the local UIs missed what the other workers published
 * meanwhile. Once both links are up again (subscribed first, so nothing
 * published after the snapshot is lost), read the live state and send the
 * local UIs every machine whose stored sample differs from what this worker
 * last relayed. Machines with an agent here are skipped: this worker's own
 * view of them is the newest. */
static void app_on_resync(int status, const struct redis_state_machine *ms, size_t n, void *user)
{
    struct app *app = user;
    int64_t now = plog_wall_ms();

    if (app->destroying)
        return;
    if (status != 0) {
        app->resync_needed = 1;   /* try again when the link is back */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct app_machine *m = app_machines_get(app->machines, ms[i].mac);
        if (m == NULL || m->local_agents > 0)
            continue;
        if (m->json != NULL && m->len == ms[i].len && memcmp(m->json, ms[i].sample, m->len) == 0)
            continue;
        app_machine_set_json(m, ms[i].sample, ms[i].len);
        m->active = app_sample_active(ms[i].sample, ms[i].len);
        m->last_seen_ms = now;
        app_emit_ui(app, ms[i].sample, ms[i].len);
    }
}

static void app_maybe_resync(struct app *app)
{
    if (!app->resync_needed || !app_redis_up(app) || !redis_adapter_subscribed(app->adapter))
        return;
    if (redis_state_snapshot(app->state, app_on_resync, app) == 0)
        app->resync_needed = 0;
}

/* The command link is back: tell Redis and the others about machines that
 * went offline meanwhile. Active machines are re-written by their next
 * sample. */
static void app_redis_cmd_up(struct redis_loop *rl, void *user)
{
    struct app *app = user;
    if (app->destroying)
        return;
    for (struct app_machine *m = app_machines_first(app->machines); m != NULL; m = m->next) {
        if (!m->offline_pending || m->json == NULL)
            continue;
        if (redis_state_store_offline(app->state, m->mac, m->json, m->len, m->last_seen_ms) == 0) {
            redis_adapter_publish(app->adapter, m->json, m->len);
            m->offline_pending = 0;
        }
    }
    app_update_redis_stat(app);
    app_maybe_resync(app);
}

static void app_redis_cmd_down(struct redis_loop *rl, void *user)
{
    struct app *app = user;
    if (app->destroying)
        return;
    app->resync_needed = 1;
    app_update_redis_stat(app);
}

static void app_redis_sub_state(int up, void *user)
{
    struct app *app = user;
    if (app->destroying)
        return;
    if (!up)
        app->resync_needed = 1;
    app_update_redis_stat(app);
    app_maybe_resync(app);
}

/* A `data` from another worker: to the local UIs, and remembered. */
static void app_redis_deliver(const char *json, size_t len, void *user)
{
    struct app *app = user;
    if (app->destroying)
        return;
    app_emit_ui(app, json, len);

    cJSON *o = cJSON_ParseWithLength(json, len);
    const char *mac = sample_mac(o);
    if (mac != NULL && sample_mac_valid(mac, strlen(mac))) {
        struct app_machine *m = app_machines_get(app->machines, mac);
        /* Our own agents' samples are ours to keep. */
        if (m != NULL && m->local_agents == 0) {
            app_machine_set_json(m, json, len);
            m->active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive"));
            m->last_seen_ms = plog_wall_ms();
            m->offline_pending = 0;
        }
    }
    cJSON_Delete(o);
}

/* -- clientAuth ----------------------------------------------------------------- */

static void app_send_local_machines(struct app *app, struct sio_socket *s, unsigned skip_mark)
{
    for (struct app_machine *m = app_machines_first(app->machines); m != NULL; m = m->next)
        if (m->json != NULL && (skip_mark == 0 || m->mark != skip_mark))
            sio_socket_emit_raw(s, "data", m->json, m->len);
}

/* The Redis snapshot for a UI arrived: send it (plus machines only this
 * worker knows, e.g. after Redis lost its data), then join 'ui' so live
 * data follows it. */
static void app_on_snapshot(int status, const struct redis_state_machine *ms, size_t n, void *user)
{
    struct app_conn *conn = user;
    struct sio_socket *s = conn->socket;

    conn->snapshot_pending = 0;
    if (s == NULL) {              /* the UI left meanwhile */
        free(conn);
        return;
    }
    struct app *app = app_of(s);
    if (app == NULL || app->destroying)
        return;
    if (status != 0) {
        app_send_local_machines(app, s, 0);
    } else {
        unsigned mark = ++app->snapshot_mark ? app->snapshot_mark : ++app->snapshot_mark;
        for (size_t i = 0; i < n; i++) {
            sio_socket_emit_raw(s, "data", ms[i].sample, ms[i].len);
            /* Remember machines we had not heard of: a later resync then
             * sends only what changed. */
            struct app_machine *m = app_machines_get(app->machines, ms[i].mac);
            if (m == NULL)
                continue;
            m->mark = mark;
            if (m->json == NULL && app_machine_set_json(m, ms[i].sample, ms[i].len) == 0)
                m->active = app_sample_active(ms[i].sample, ms[i].len);
        }
        app_send_local_machines(app, s, mark);
    }
    if (conn->role != APP_ROLE_UI)   /* re-authenticated as an agent meanwhile */
        return;
    sio_socket_join(s, APP_ROOM_UI);
    app_ack_ok(s, conn->auth_ack_id);
    conn->auth_ack_id = -1;
}

/* The UI's clientAuth ack is sent once it has the known machines and is in
 * room 'ui': a client that waits for it misses nothing afterwards. */
static void app_become_ui(struct app *app, struct app_conn *conn, long ack_id)
{
    struct sio_socket *s = conn->socket;

    if (conn->role == APP_ROLE_AGENT) {
        sio_socket_leave(s, APP_ROOM_AGENTS);
        atomic_fetch_add(&app->stats->agents, -1);
        /* No longer reporting its machine. */
        struct app_machine *m = conn->mac[0] ? app_machines_find(app->machines, conn->mac) : NULL;
        conn->mac[0] = '\0';
        if (m != NULL)
            app_machine_left(app, m);
    }
    conn->role = APP_ROLE_UI;
    atomic_fetch_add(&app->stats->uis, 1);
    if (app_redis_up(app) && redis_state_snapshot(app->state, app_on_snapshot, conn) == 0) {
        conn->snapshot_pending = 1;
        conn->auth_ack_id = ack_id;
        return;
    }
    app_send_local_machines(app, s, 0);
    sio_socket_join(s, APP_ROOM_UI);
    app_ack_ok(s, ack_id);
}

static void app_on_auth(struct app *app, struct app_conn *conn, const cJSON *args, long ack_id)
{
    struct sio_socket *s = conn->socket;
    const cJSON *key = cJSON_GetArrayItem(args, 0);
    const char *k = cJSON_IsString(key) ? key->valuestring : NULL;
    size_t klen = k != NULL ? strlen(k) : 0;

    if (k != NULL && cfg_key_equal(k, klen, app->cfg->agent_key)) {
        if (conn->role != APP_ROLE_AGENT) {
            if (conn->role == APP_ROLE_UI) {
                sio_socket_leave(s, APP_ROOM_UI);
                atomic_fetch_add(&app->stats->uis, -1);
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
    app_log(app, 2, "clientAuth with a wrong key from %s (sid %s): disconnecting",
            sio_socket_peer_ip(s), sio_socket_sid(s));
    sio_socket_disconnect(s);
}

/* -- samples ------------------------------------------------------------------- */

static void app_on_sample(struct app *app, struct app_conn *conn, const char *event,
                          const cJSON *args, const char *raw, size_t raw_len, long ack_id)
{
    struct sio_socket *s = conn->socket;
    char why[SAMPLE_ERR_MAX], msg[SAMPLE_ERR_MAX + 64];
    cJSON *sample = NULL;
    char *printed = NULL;
    int r;

    const cJSON *arg0 = cJSON_GetArrayItem(args, 0);
    if (arg0 == NULL || raw == NULL) {
        snprintf(why, sizeof(why), "sample missing");
        r = SAMPLE_INVALID;
    } else if ((r = sample_raw_check(raw, raw_len, why, sizeof(why))) == 0) {
        sample = cJSON_Duplicate(arg0, 1);
        if (sample == NULL) {
            snprintf(why, sizeof(why), "out of memory");
            r = SAMPLE_INVALID;
        } else {
            r = sample_check(sample, why, sizeof(why));
        }
    }
    if (r == SAMPLE_INVALID) {
        atomic_fetch_add(&app->stats->samples_rejected, 1);
        snprintf(msg, sizeof(msg), "%s rejected: %s", event, why);
        app_log(app, 3, "%s from %s (sid %s)", msg, sio_socket_peer_ip(s), sio_socket_sid(s));
        app_refuse(s, event, ack_id, msg);
        cJSON_Delete(sample);
        return;
    }

    /* Relay the bytes as received unless normalising changed them. */
    const char *json = raw;
    size_t len = raw_len;
    if (r == SAMPLE_NORMALISED) {
        printed = cJSON_PrintUnformatted(sample);
        if (printed == NULL) {
            app_refuse(s, event, ack_id, "out of memory");
            cJSON_Delete(sample);
            return;
        }
        json = printed;
        len = strlen(printed);
    }
    const char *mac = sample_mac(sample);
    int64_t now = plog_wall_ms();

    /* An agent socket that starts reporting another machine leaves the old one. */
    if (conn->mac[0] != '\0' && strcmp(conn->mac, mac) != 0) {
        struct app_machine *old = app_machines_find(app->machines, conn->mac);
        conn->mac[0] = '\0';
        conn->machine_upserted = 0;
        if (old != NULL)
            app_machine_left(app, old);
    }
    struct app_machine *m = app_machines_get(app->machines, mac);
    int was_active = m != NULL && m->active;
    if (m != NULL) {
        if (conn->mac[0] == '\0')
            m->local_agents++;
        app_machine_set_json(m, json, len);
        m->last_seen_ms = now;
        m->active = 1;
        m->offline_pending = 0;
    }
    if (conn->mac[0] == '\0')
        memcpy(conn->mac, mac, strlen(mac) + 1);

    app_emit_ui(app, json, len);
    if (app_redis_up(app)) {
        char hist[SAMPLE_HISTORY_MAX];
        int hlen = sample_history_entry(sample, now, hist, sizeof(hist));
        /* State before PUBLISH on the same link: whoever hears the message
         * finds the state already written. */
        if (hlen > 0)
            redis_state_sample(app->state, mac, json, len, hist, (size_t)hlen, now);
        redis_adapter_publish(app->adapter, json, len);
    }
    if (app->mongo != NULL) {
        if (strcmp(event, "initPerfData") == 0 || !conn->machine_upserted) {
            mongo_store_machine(app->mongo, sample, 1, now);
            conn->machine_upserted = 1;
        } else if (!was_active) {
            mongo_store_machine_active(app->mongo, mac, 1, now);
        }
        mongo_store_sample(app->mongo, sample, now);
    }
    atomic_fetch_add(&app->stats->samples_in, 1);
    app_ack_ok(s, ack_id);
    cJSON_free(printed);
    cJSON_Delete(sample);
}

/* -- engine handlers --------------------------------------------------------------- */

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
    sio_socket_set_user(s, conn);
    return 0;
}

static void app_on_event(struct sio_socket *s, const char *event, const cJSON *args,
                         const char *arg0_raw, size_t arg0_len, long ack_id, void *user)
{
    struct app *app = app_of(s);
    struct app_conn *conn = sio_socket_get_user(s);
    if (app == NULL || conn == NULL)
        return;

    if (strcmp(event, "clientAuth") == 0) {
        app_on_auth(app, conn, args, ack_id);
        return;
    }
    int is_sample = strcmp(event, "perfData") == 0 || strcmp(event, "initPerfData") == 0;
    if (is_sample && conn->role == APP_ROLE_AGENT) {
        app_on_sample(app, conn, event, args, arg0_raw, arg0_len, ack_id);
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
    if (app != NULL && !app->destroying) {
        if (conn->role == APP_ROLE_AGENT) {
            atomic_fetch_add(&app->stats->agents, -1);
            struct app_machine *m = conn->mac[0] ? app_machines_find(app->machines, conn->mac) : NULL;
            if (m != NULL)
                app_machine_left(app, m);
        } else if (conn->role == APP_ROLE_UI) {
            atomic_fetch_add(&app->stats->uis, -1);
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
    app->machines = app_machines_create();
    if (app->machines == NULL || app_register(app) != 0) {
        snprintf(err, errlen, app->machines == NULL ? "out of memory" : "too many apps in one process");
        app_machines_destroy(app->machines);
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

void app_shutdown(struct app *app)
{
    if (app == NULL || app->shutting_down)
        return;
    app->shutting_down = 1;
    lws_sul_cancel(&app->sul_sweep);
}

void app_destroy(struct app *app)
{
    if (app == NULL)
        return;
    app->shutting_down = 1;
    app->destroying = 1;
    lws_sul_cancel(&app->sul_sweep);
    /* The command link first: its pending callbacks (claims, snapshots) run
     * with a failure while everything they touch still exists. */
    redis_loop_destroy(app->cmd);
    redis_adapter_destroy(app->adapter);
    redis_state_destroy(app->state);
    mongo_store_destroy(app->mongo);
    app_machines_destroy(app->machines);
    app_unregister(app);
    free(app);
}
