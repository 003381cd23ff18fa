/* http_metrics.c -- /metrics (Prometheus text format 0.0.4) and /healthz.
 *
 * Both read the shared stats region the workers write (relaxed atomics, no
 * locks: a scrape may see one counter a tick ahead of another, never a torn
 * value) plus the live machines from Redis. /healthz is 200 when Redis
 * answers and at least one worker is alive, else 503; Mongo being down is
 * reported but is not fatal (the workers' queues hold the samples).
 * docs/metrics.md lists every family written here. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "config.h"
#include "http_internal.h"
#include "prom_text.h"
#include "stats.h"

/* A worker whose loop has not ticked for this long is counted as hung. */
#define METRICS_HEARTBEAT_STALE_MS 10000

static int metrics_nworkers(const struct appliance_stats *st)
{
    uint32_t n = st ? st->nworkers : 0;
    return n > STATS_MAX_WORKERS ? STATS_MAX_WORKERS : (int)n;
}

/* Alive: a pid that exists and a loop that ticked recently (a worker that
 * never set heartbeat_ms is judged by its pid alone). */
static int metrics_worker_alive(const struct worker_stats *w, int64_t now)
{
    int32_t pid = w->pid;
    if (pid <= 0 || kill((pid_t)pid, 0) != 0)
        return 0;
    int64_t hb = w->heartbeat_ms;
    return hb <= 0 || now - hb < METRICS_HEARTBEAT_STALE_MS;
}

/* ---- /metrics ---- */

/* One worker-labelled family: the same field of every worker slot, found
 * by offset and width (the stats fields are 32- or 64-bit atomics). */
enum metrics_kind { MK_I32, MK_I64, MK_U64, MK_MONGO_UP };

struct metrics_family {
    const char *name;
    const char *type;
    const char *help;
    size_t offset;
    enum metrics_kind kind;
};

/* Reads the family's field of w; 0 when it has no sample (Mongo off). */
static int metrics_get(const struct worker_stats *w, const struct metrics_family *f, double *out)
{
    const char *p = (const char *)w + f->offset;
    switch (f->kind) {
    case MK_I32:
        *out = (double)*(const _Atomic int32_t *)p;
        return 1;
    case MK_I64:
        *out = (double)*(const _Atomic int64_t *)p;
        return 1;
    case MK_U64:
        *out = (double)*(const _Atomic uint64_t *)p;
        return 1;
    case MK_MONGO_UP: {
        int32_t v = *(const _Atomic int32_t *)p;   /* -1 = Mongo off */
        *out = v > 0 ? 1 : 0;
        return v >= 0;
    }
    }
    return 0;
}

#define WS(field) offsetof(struct worker_stats, field)
static const struct metrics_family metrics_worker_families[] = {
    { "perfload_worker_connections", "gauge", "Open Engine.IO sessions on the worker.", WS(connections), MK_I64 },
    { "perfload_worker_agents", "gauge", "Sockets in room 'clients' (agents) on the worker.", WS(agents), MK_I64 },
    { "perfload_worker_uis", "gauge", "Sockets in room 'ui' (dashboards) on the worker.", WS(uis), MK_I64 },
    { "perfload_worker_connections_total", "counter", "Engine.IO sessions opened on the worker.", WS(connections_total), MK_U64 },
    { "perfload_messages_in_total", "counter", "Socket.IO packets received.", WS(messages_in), MK_U64 },
    { "perfload_messages_out_total", "counter", "Socket.IO packets sent (one per receiving socket).", WS(messages_out), MK_U64 },
    { "perfload_samples_in_total", "counter", "Valid samples accepted.", WS(samples_in), MK_U64 },
    { "perfload_samples_rejected_total", "counter", "Samples rejected by validation.", WS(samples_rejected), MK_U64 },
    { "perfload_protocol_errors_total", "counter", "Malformed Engine.IO/Socket.IO input.", WS(protocol_errors), MK_U64 },
    { "perfload_auth_failures_total", "counter", "clientAuth with an unknown key.", WS(auth_failures), MK_U64 },
    { "perfload_slow_clients_dropped_total", "counter", "Sockets closed because their send queue overflowed.", WS(slow_clients_dropped), MK_U64 },
    { "perfload_worker_redis_up", "gauge", "1 when the worker's Redis links are connected.", WS(redis_up), MK_I32 },
    { "perfload_redis_errors_total", "counter", "Redis errors seen by the worker.", WS(redis_errors), MK_U64 },
    { "perfload_mongo_up", "gauge", "1 when the worker's last Mongo operation succeeded (absent when Mongo is off).", WS(mongo_up), MK_MONGO_UP },
    { "perfload_mongo_errors_total", "counter", "Failed Mongo operations (each retried batch counts).", WS(mongo_errors), MK_U64 },
    { "perfload_mongo_queue_depth", "gauge", "Writes waiting for Mongo in the worker's queue.", WS(mongo_queue_depth), MK_I64 },
    { "perfload_mongo_written_total", "counter", "Samples written to Mongo.", WS(mongo_written), MK_U64 },
    { "perfload_samples_dropped_total", "counter", "Samples dropped because the Mongo queue was full (oldest first).", WS(samples_dropped), MK_U64 },
    { "perfload_conns_refused_ip_cap_total", "counter", "Sockets disconnected at connect because their address held --max-conns-per-ip.", WS(conns_refused_ip_cap), MK_U64 },
    { "perfload_msgs_rate_limited_total", "counter", "Events dropped because their socket was over --max-msgs-per-sec.", WS(msgs_rate_limited), MK_U64 },
    { "perfload_rate_limit_disconnects_total", "counter", "Sockets disconnected for staying over --max-msgs-per-sec.", WS(rate_limit_disconnects), MK_U64 },
    { "perfload_agents_refused_network_total", "counter", "Agent-key clientAuth refused: address outside --agent-networks.", WS(agents_refused_network), MK_U64 },
    { "perfload_redis_data_rejected_total", "counter", "Samples read back from Redis that failed validation (not relayed).", WS(redis_data_rejected), MK_U64 },
};
#undef WS

static void metrics_workers(struct prom_buf *b, const struct appliance_stats *st, int64_t now)
{
    int n = metrics_nworkers(st);
    char slot[16];

    prom_header(b, "perfload_worker_up", "gauge", "1 when the worker slot has a live, ticking worker.");
    for (int i = 0; i < n; i++) {
        snprintf(slot, sizeof(slot), "%d", i);
        prom_sample1(b, "perfload_worker_up", "worker", slot,
                     metrics_worker_alive(&st->workers[i], now));
    }
    for (size_t f = 0; f < sizeof(metrics_worker_families) / sizeof(metrics_worker_families[0]); f++) {
        const struct metrics_family *fam = &metrics_worker_families[f];
        int header = 0;
        for (int i = 0; i < n; i++) {
            double v;
            if (!metrics_get(&st->workers[i], fam, &v))
                continue;
            if (!header) {
                prom_header(b, fam->name, fam->type, fam->help);
                header = 1;
            }
            snprintf(slot, sizeof(slot), "%d", i);
            prom_sample1(b, fam->name, "worker", slot, v);
        }
    }
}

/* One machine-labelled gauge family from a numeric sample field. */
static void metrics_machine_family(struct prom_buf *b, const cJSON *machines, const char *name,
                                   const char *help, const char *field, double scale)
{
    int header = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, machines) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, field);
        const cJSON *mac = cJSON_GetObjectItemCaseSensitive(m, "macA");
        if (!cJSON_IsNumber(v) || !cJSON_IsString(mac))
            continue;
        if (!header) {
            prom_header(b, name, "gauge", help);
            header = 1;
        }
        prom_sample1(b, name, "mac", mac->valuestring, v->valuedouble * scale);
    }
}

static void metrics_machines(struct prom_buf *b, const cJSON *machines)
{
    const cJSON *m;
    prom_header(b, "perfload_machines", "gauge", "Machines known in Redis.");
    prom_sample0(b, "perfload_machines", cJSON_GetArraySize(machines));
    prom_header(b, "perfload_machine_up", "gauge", "1 when the machine's agent is connected and sending.");
    cJSON_ArrayForEach(m, machines) {
        const cJSON *mac = cJSON_GetObjectItemCaseSensitive(m, "macA");
        if (cJSON_IsString(mac))
            prom_sample1(b, "perfload_machine_up", "mac", mac->valuestring,
                         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "isActive")));
    }
    metrics_machine_family(b, machines, "perfload_machine_cpu_load",
                           "CPU load over the agent's last interval, percent 0-100.", "cpuLoad", 1);
    metrics_machine_family(b, machines, "perfload_machine_memory_used_bytes",
                           "Memory in use, bytes.", "usedMem", 1);
    metrics_machine_family(b, machines, "perfload_machine_memory_free_bytes",
                           "Free memory, bytes.", "freeMem", 1);
    metrics_machine_family(b, machines, "perfload_machine_memory_total_bytes",
                           "Total memory, bytes.", "totalMem", 1);
    metrics_machine_family(b, machines, "perfload_machine_memory_usage_ratio",
                           "Memory in use as a fraction 0-1.", "memUsage", 1);
    metrics_machine_family(b, machines, "perfload_machine_uptime_seconds",
                           "Machine uptime, seconds.", "upTime", 1);
    metrics_machine_family(b, machines, "perfload_machine_cpu_cores",
                           "Logical CPU cores.", "numCores", 1);
    metrics_machine_family(b, machines, "perfload_machine_cpu_speed_mhz",
                           "CPU clock, MHz.", "cpuSpeed", 1);
    metrics_machine_family(b, machines, "perfload_machine_last_seen_timestamp_seconds",
                           "When the machine's last sample arrived, Unix seconds.", "lastSeen",
                           0.001);
}

enum MHD_Result http_metrics_handle(struct http_server *srv, struct MHD_Connection *conn)
{
    const struct appliance_stats *st = srv->stats;
    int64_t now = http_now_ms();
    struct prom_buf b;
    prom_init(&b);

    prom_header(&b, "perfload_build_info", "gauge", "Always 1; the version is a label.");
    prom_sample1(&b, "perfload_build_info", "version", PERFLOAD_VERSION, 1);
    if (st) {
        prom_header(&b, "perfload_start_time_seconds", "gauge", "When the appliance started, Unix seconds.");
        prom_sample0(&b, "perfload_start_time_seconds", (double)st->started_ms / 1000.0);
        prom_header(&b, "perfload_workers", "gauge", "Worker slots configured.");
        prom_sample0(&b, "perfload_workers", metrics_nworkers(st));
        prom_header(&b, "perfload_accepted_total", "counter", "TCP connections accepted on the Socket.IO port.");
        prom_sample0(&b, "perfload_accepted_total", (double)st->accepted);
        prom_header(&b, "perfload_handoff_failed_total", "counter", "Connections closed because their worker slot was down.");
        prom_sample0(&b, "perfload_handoff_failed_total", (double)st->handoff_failed);
        prom_header(&b, "perfload_worker_respawns_total", "counter", "Workers restarted after exiting.");
        prom_sample0(&b, "perfload_worker_respawns_total", (double)st->respawns);
        prom_header(&b, "perfload_http_rejected_total", "counter", "HTTP requests refused as malformed: 400, 403 or 405.");
        prom_sample0(&b, "perfload_http_rejected_total", (double)st->http_rejected);
        metrics_workers(&b, st, now);
    }
    prom_header(&b, "perfload_mongo_enabled", "gauge", "1 when a Mongo URL is configured.");
    prom_sample0(&b, "perfload_mongo_enabled", srv->cfg->mongo_url[0] ? 1 : 0);

    cJSON *machines = http_machines_list(srv);
    prom_header(&b, "perfload_redis_up", "gauge", "1 when the HTTP server could read Redis for this scrape.");
    prom_sample0(&b, "perfload_redis_up", machines ? 1 : 0);
    if (machines)
        metrics_machines(&b, machines);
    cJSON_Delete(machines);

    enum MHD_Result rc;
    if (prom_failed(&b))
        rc = http_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    else
        rc = http_send_text(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                            "no-store", b.text.data ? b.text.data : "", b.text.len);
    prom_free(&b);
    return rc;
}

/* ---- /healthz ---- */

enum MHD_Result http_healthz_handle(struct http_server *srv, struct MHD_Connection *conn)
{
    const struct appliance_stats *st = srv->stats;
    int64_t now = http_now_ms();
    int redis_up = http_redis_ping(srv->redis);
    int n = metrics_nworkers(st), alive = 0, mongo_up = 0, mongo_reports = 0;
    cJSON *o = cJSON_CreateObject();
    cJSON *workers = cJSON_CreateArray();
    if (!o || !workers) {
        cJSON_Delete(o);
        cJSON_Delete(workers);
        return http_send_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }
    for (int i = 0; i < n; i++) {
        const struct worker_stats *w = &st->workers[i];
        int ok = metrics_worker_alive(w, now);
        cJSON *j = cJSON_CreateObject();
        if (!j)
            continue;
        alive += ok;
        if (ok && w->mongo_up >= 0) {
            mongo_reports++;
            mongo_up |= w->mongo_up == 1;
        }
        cJSON_AddNumberToObject(j, "slot", i);
        cJSON_AddNumberToObject(j, "pid", (double)w->pid);
        cJSON_AddBoolToObject(j, "alive", ok);
        cJSON_AddNumberToObject(j, "connections", (double)w->connections);
        cJSON_AddNumberToObject(j, "agents", (double)w->agents);
        cJSON_AddNumberToObject(j, "uis", (double)w->uis);
        if (w->heartbeat_ms > 0)
            cJSON_AddNumberToObject(j, "heartbeatAgeMs", (double)(now - w->heartbeat_ms));
        cJSON_AddBoolToObject(j, "redisUp", w->redis_up == 1);
        cJSON_AddNumberToObject(j, "mongoQueueDepth", (double)w->mongo_queue_depth);
        cJSON_AddItemToArray(workers, j);
    }
    int healthy = redis_up && alive > 0;
    int mongo_on = srv->cfg->mongo_url[0] != '\0';
    cJSON_AddStringToObject(o, "status", !healthy ? "fail" : (mongo_on && !mongo_up) ? "degraded" : "ok");
    cJSON_AddStringToObject(o, "version", PERFLOAD_VERSION);
    if (st)
        cJSON_AddNumberToObject(o, "uptimeS", (double)((now - st->started_ms) / 1000));
    cJSON *redis = cJSON_AddObjectToObject(o, "redis");
    if (redis)
        cJSON_AddBoolToObject(redis, "up", redis_up);
    cJSON *mongo = cJSON_AddObjectToObject(o, "mongo");
    if (mongo) {
        cJSON_AddBoolToObject(mongo, "enabled", mongo_on);
        if (mongo_on && mongo_reports > 0)
            cJSON_AddBoolToObject(mongo, "up", mongo_up);
        else
            cJSON_AddNullToObject(mongo, "up");
    }
    cJSON_AddNumberToObject(o, "workersAlive", alive);
    cJSON_AddItemToObject(o, "workers", workers);
    return http_send_json(conn, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}
