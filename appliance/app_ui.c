/* app_ui.c -- what a dashboard (a UI socket) is sent when it joins: the
 * snapshot of every known machine, read from Redis once this worker's
 * subscription to the other workers' samples is confirmed, and that
 * subscription's lifetime (from the worker's first UI to a while after its
 * last). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "config.h"
#include "redis_adapter.h"
#include "redis_state.h"
#include "sio_server.h"

/* Bytes a `data` packet adds around its sample on the wire (42["data",...]
 * and the WebSocket header), rounded up. */
#define APP_DATA_OVERHEAD 32

/* A machine the worker knows that the snapshot marked `skip_mark` (0: none)
 * did not already send. */
static int app_local_unsent(const struct app_machine *m, unsigned skip_mark)
{
    return m->json != NULL && (skip_mark == 0 || m->mark != skip_mark);
}

static void app_send_local_machines(struct app *app, struct sio_socket *s, unsigned skip_mark)
{
    size_t bytes = 0;
    for (struct app_machine *m = app_machines_first(app->machines); m != NULL; m = m->next)
        if (app_local_unsent(m, skip_mark))
            bytes += m->len + APP_DATA_OVERHEAD;
    sio_socket_allow_backlog(s, bytes);
    for (struct app_machine *m = app_machines_first(app->machines); m != NULL; m = m->next)
        if (app_local_unsent(m, skip_mark))
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
    /* role: the socket may have re-authenticated as an agent meanwhile. */
    if (app == NULL || app->destroying || conn->role != APP_ROLE_UI)
        return;
    if (status != 0) {
        app_send_local_machines(app, s, 0);
    } else {
        if (++app->snapshot_mark == 0)   /* 0 means "not marked" */
            app->snapshot_mark = 1;
        unsigned mark = app->snapshot_mark;
        /* Every machine goes out in this one turn: 14 MB at 40,000 machines,
         * more than --send-queue-max. The queue may hold it all once; it
         * drains at the reader's pace, and the usual bound applies after. */
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++)
            bytes += ms[i].len + APP_DATA_OVERHEAD;
        sio_socket_allow_backlog(s, bytes);
        for (size_t i = 0; i < n; i++) {
            struct app_machine *m = app_machines_get(app->machines, ms[i].mac);
            /* A sample this worker relayed after the snapshot was asked for
             * is newer than Redis's answer (the UI was not in 'ui' yet). */
            if (m != NULL && m->json != NULL && m->version > conn->snapshot_version) {
                sio_socket_emit_raw(s, "data", m->json, m->len);
                m->mark = mark;
                continue;
            }
            struct sample_view v;
            if (app_stored_sample(app, ms[i].sample, ms[i].len, ms[i].mac, &v, "snapshot") != 0)
                continue;   /* local knowledge of m, if any, follows below */
            sio_socket_emit_raw(s, "data", ms[i].sample, ms[i].len);
            if (m == NULL)
                continue;
            m->mark = mark;
            /* Remember machines we had not heard of: a later resync then
             * sends only what changed. */
            if (m->json == NULL && app_machine_set_json(app->machines, m, ms[i].sample, ms[i].len) == 0)
                m->active = v.active == 1;
        }
        app_send_local_machines(app, s, mark);
    }
    sio_socket_join(s, APP_ROOM_UI);
    app_ack_ok(s, conn->auth_ack_id);
    conn->auth_ack_id = -1;
}

static void app_unlisten(lws_sorted_usec_list_t *sul)
{
    struct app *app = lws_container_of(sul, struct app, sul_unlisten);
    if (app->ui_count == 0)
        redis_adapter_listen(app->adapter, 0);
}

/* Dashboards on this worker: the first makes it subscribe to the other
 * workers' samples, the last lets it stop (redis_adapter_listen). */
static void app_ui_count(struct app *app, int delta)
{
    atomic_fetch_add(&app->stats->uis, delta);
    app->ui_count += delta;
    if (app->adapter == NULL)
        return;
    if (delta > 0 && app->ui_count == 1) {
        lws_sul_cancel(&app->sul_unlisten);
        redis_adapter_listen(app->adapter, 1);
    } else if (delta < 0 && app->ui_count == 0 && !app->shutting_down) {
        /* Not at once: a dashboard that reloads comes back within
         * --unsubscribe-after, and each new subscription costs a read of
         * the whole live state (the resync). */
        lws_sul_schedule(app->ctx, 0, &app->sul_unlisten, app_unlisten,
                         (lws_usec_t)app->cfg->unsubscribe_after_ms * LWS_US_PER_MS);
    }
}

/* Starts a UI's snapshot: its clientAuth ack is sent once it has the known
 * machines and is in room 'ui', so a client that waits for it misses
 * nothing afterwards. */
static void app_ui_start(struct app *app, struct app_conn *conn)
{
    struct sio_socket *s = conn->socket;
    long ack_id = conn->auth_ack_id;

    if (app_redis_up(app) && redis_state_snapshot(app->state, app_on_snapshot, conn) == 0) {
        conn->snapshot_pending = 1;
        conn->snapshot_version = app_machines_version(app->machines);
        return;
    }
    conn->auth_ack_id = -1;
    app_send_local_machines(app, s, 0);
    sio_socket_join(s, APP_ROOM_UI);
    app_ack_ok(s, ack_id);
}

/* Longest a new UI waits for this worker's subscription before its
 * snapshot is read anyway (a resync follows the subscription then). */
#define APP_AWAIT_SUB_MS 2000

static void app_await_timeout(lws_sorted_usec_list_t *sul)
{
    struct app *app = lws_container_of(sul, struct app, sul_await);
    /* Read before the subscription: what is published in between reaches
     * these UIs through the resync that follows it. */
    if (!redis_adapter_subscribed(app->adapter))
        app->resync_needed = 1;
    app_ui_start_waiting(app);
}

void app_ui_start_waiting(struct app *app)
{
    struct app_conn *list = app->awaiting_sub;

    app->awaiting_sub = NULL;
    lws_sul_cancel(&app->sul_await);
    while (list != NULL) {
        struct app_conn *conn = list;
        list = conn->await_next;
        conn->await_next = NULL;
        app_ui_start(app, conn);
    }
}

static void app_await_remove(struct app *app, struct app_conn *conn)
{
    for (struct app_conn **pp = &app->awaiting_sub; *pp != NULL; pp = &(*pp)->await_next) {
        if (*pp == conn) {
            *pp = conn->await_next;
            conn->await_next = NULL;
            return;
        }
    }
}

void app_become_ui(struct app *app, struct app_conn *conn, long ack_id)
{
    struct sio_socket *s = conn->socket;

    if (conn->role == APP_ROLE_AGENT) {
        sio_socket_leave(s, APP_ROOM_AGENTS);
        atomic_fetch_add(&app->stats->agents, -1);
        /* No longer reporting its machine. */
        struct app_machine *m = conn->machine;
        conn->machine = NULL;
        if (m != NULL)
            app_machine_left(app, m);
    }
    conn->role = APP_ROLE_UI;
    conn->auth_ack_id = ack_id;
    app_ui_count(app, 1);
    /* The snapshot is read once the other workers' samples flow here:
     * whatever is published after the read then reaches this UI too. */
    if (app_redis_up(app) && !redis_adapter_subscribed(app->adapter)) {
        conn->await_next = app->awaiting_sub;
        app->awaiting_sub = conn;
        if (conn->await_next == NULL)   /* the first to wait arms the deadline */
            lws_sul_schedule(app->ctx, 0, &app->sul_await, app_await_timeout,
                             (lws_usec_t)APP_AWAIT_SUB_MS * LWS_US_PER_MS);
        return;
    }
    app_ui_start(app, conn);
}

void app_ui_left(struct app *app, struct app_conn *conn)
{
    app_await_remove(app, conn);
    app_ui_count(app, -1);
}
