/* app_liveness.c -- which machines are online, across the cluster.
 *
 * An agent's machine goes offline when its last socket on this worker
 * closes or when it has been silent for liveness_timeout_ms. Both are
 * claimed through Redis (redis_state.h) so that exactly one worker of the
 * cluster announces it. While Redis is down each worker times out its own
 * agents, tells its own UIs, and tells Redis and the others once the link
 * is back; after an outage it also re-reads the state for its UIs. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "config.h"
#include "mongo_store.h"
#include "redis_adapter.h"
#include "redis_loop.h"
#include "redis_state.h"
#include "sio_server.h"

int app_redis_up(const struct app *app)
{
    return app->redis_enabled && redis_loop_up(app->cmd);
}

void app_update_redis_stat(struct app *app)
{
    int32_t v = !app->redis_enabled ? -1
                : (redis_loop_up(app->cmd) && redis_adapter_link_up(app->adapter)) ? 1 : 0;
    atomic_store(&app->stats->redis_up, v);
}

char *app_with_active(const char *json, size_t len, int active)
{
    struct sample_view v;
    char why[SAMPLE_ERR_MAX];
    int r = sample_scan(json, len, &v, why, sizeof(why));
    if (r != SAMPLE_VALID && r != SAMPLE_NORMALISED)
        return NULL;
    char *out = malloc(len + SAMPLE_REWRITE_EXTRA);
    if (out != NULL && sample_rewrite(json, len, &v, active, out, len + SAMPLE_REWRITE_EXTRA) < 0) {
        free(out);
        out = NULL;
    }
    return out;
}

int app_stored_sample(struct app *app, const char *json, size_t len, const char *mac,
                      struct sample_view *v, const char *where)
{
    char why[SAMPLE_ERR_MAX];
    int r = SAMPLE_INVALID;

    if (json == NULL)
        snprintf(why, sizeof(why), "missing");
    else
        r = sample_scan(json, len, v, why, sizeof(why));
    if (r >= 0 && mac != NULL && strcmp(v->mac, mac) != 0) {
        snprintf(why, sizeof(why), "macA is not the machine's id");
        r = SAMPLE_INVALID;
    }
    if (r < 0) {
        atomic_fetch_add(&app->stats->redis_data_rejected, 1);
        app_log_limited(app, &app->log_redis, 1, "ignoring a sample read from Redis (%s%s%s): %s",
                        where, mac != NULL ? ", machine " : "", mac != NULL ? mac : "", why);
        return -1;
    }
    return 0;
}

void app_emit_ui(struct app *app, const char *json, size_t len)
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
    app_machine_set_json(app->machines, m, off, strlen(off));
    free(off);
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
    if (base != NULL) {
        /* What Redis holds may not be ours: never relay it unchecked. */
        struct sample_view v;
        if (app_stored_sample(app, base, base_len, mac, &v, "liveness claim") != 0)
            base = NULL;
    }
    if (base == NULL && m != NULL && m->json != NULL) {
        base = m->json;
        base_len = m->len;
    }
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
        app_machine_set_json(app->machines, m, off, off_len);
        m->active = 0;
        m->offline_pending = 0;
    }
    free(off);
}

/* The last socket of this worker reporting m went away. */
void app_machine_left(struct app *app, struct app_machine *m)
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
void app_sweep(lws_sorted_usec_list_t *sul)
{
    struct app *app = lws_container_of(sul, struct app, sul_sweep);
    int64_t now = plog_wall_ms();
    int64_t cutoff = now - app->cfg->liveness_timeout_ms;

    if (app->shutting_down)
        return;
    /* The subscriber link reports only its subscription's changes, and a
     * worker without dashboards has none: its health is read here. */
    app_update_redis_stat(app);
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
        /* Skip our own agents' machines, and any this worker heard about
         * after asking (a message on the other link can overtake the reply). */
        if (m == NULL || m->local_agents > 0 || (m->json != NULL && m->version > app->resync_version))
            continue;
        if (m->json != NULL && m->len == ms[i].len && memcmp(m->json, ms[i].sample, m->len) == 0)
            continue;
        struct sample_view v;
        if (app_stored_sample(app, ms[i].sample, ms[i].len, ms[i].mac, &v, "resync") != 0)
            continue;
        app_machine_set_json(app->machines, m, ms[i].sample, ms[i].len);
        m->active = v.active == 1;
        m->last_seen_ms = now;
        app_emit_ui(app, ms[i].sample, ms[i].len);
    }
}

static void app_maybe_resync(struct app *app)
{
    if (!app->resync_needed || !app_redis_up(app) || !redis_adapter_subscribed(app->adapter))
        return;
    app->resync_version = app_machines_version(app->machines);
    if (redis_state_snapshot(app->state, app_on_resync, app) == 0)
        app->resync_needed = 0;
}

/* The command link is back: tell Redis and the others about machines that
 * went offline meanwhile. Active machines are re-written by their next
 * sample. */
void app_redis_cmd_up(struct redis_loop *rl, void *user)
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

void app_redis_cmd_down(struct redis_loop *rl, void *user)
{
    struct app *app = user;
    if (app->destroying)
        return;
    app->resync_needed = 1;
    app_update_redis_stat(app);
}

void app_redis_sub_state(int up, void *user)
{
    struct app *app = user;
    if (app->destroying)
        return;
    if (!up)
        app->resync_needed = 1;
    app_update_redis_stat(app);
    if (up)
        app_ui_start_waiting(app);
    app_maybe_resync(app);
}

/* A `data` from another worker: to the local UIs, and remembered. */
void app_redis_deliver(const char *json, size_t len, void *user)
{
    struct app *app = user;
    struct sample_view v;
    if (app->destroying)
        return;
    /* Anyone who can PUBLISH on the channel reaches every dashboard through
     * here: only valid samples pass. */
    if (app_stored_sample(app, json, len, NULL, &v, "pub/sub") != 0)
        return;
    app_emit_ui(app, json, len);

    struct app_machine *m = app_machines_get(app->machines, v.mac);
    /* Our own agents' samples are ours to keep. */
    if (m != NULL && m->local_agents == 0) {
        app_machine_set_json(app->machines, m, json, len);
        m->active = v.active == 1;
        m->last_seen_ms = plog_wall_ms();
        m->offline_pending = 0;
    }
}
