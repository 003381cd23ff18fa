/* http_history.c -- GET /api/machines/<mac>/history?since=&until=&step=
 *
 * From Mongo's `samples` when Mongo is configured (a sorted range scan on
 * {macA, ts}), else -- or when Mongo fails -- from the short Redis list
 * `P history:<mac>`. Either way the points stream through lib/downsample
 * into at most HISTORY_POINTS_MAX buckets, oldest first, so a week of 1 Hz
 * samples costs the browser ~1000 points. The Mongo pool is opened on the
 * first history request (most masters never need it). */
#include <errno.h>
#include <hiredis.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "downsample.h"
#include "http_internal.h"
#include "mongo_store.h"
#include "stats.h"

#define HISTORY_POINTS_MAX   1000
#define HISTORY_DEFAULT_MS   (60 * 60 * 1000)   /* since = until - 1 h */
#define HISTORY_MONGO_MAX_MS 5000               /* maxTimeMS of the range scan */
#define HISTORY_REDIS_MAX    100000             /* list entries read at most */
#define HISTORY_MS_MAX       253402300799999LL  /* 9999-12-31T23:59:59.999Z */

/* The fields every history point may carry, in output order. */
static const char *const hist_fields[] = { "cpuLoad", "memUsage", "usedMem", "freeMem" };
#define HIST_NFIELDS ((int)(sizeof(hist_fields) / sizeof(hist_fields[0])))

/* Reads an optional epoch-ms query argument. 0 ok (*out set or untouched
 * when absent), -1 when present but not a non-negative integer. */
static int hist_arg(struct MHD_Connection *conn, const char *name, int64_t *out)
{
    const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* Digits only (strtoll would take " 5", "+5"), and no later than
     * 9999-12-31: beyond that the date maths of Mongo and the buckets
     * stop meaning anything. */
    if (errno || *end || v < 0 || s[strspn(s, "0123456789")] != '\0' || v > HISTORY_MS_MAX)
        return -1;
    *out = v;
    return 0;
}

static mongoc_client_pool_t *hist_mongo_pool(struct http_server *srv)
{
    char err[256];
    pthread_mutex_lock(&srv->mongo_lock);
    if (!srv->mongo && srv->cfg->mongo_url[0]) {
        srv->mongo = mongo_store_pool_new(srv->cfg->mongo_url, "perfload-http", err, sizeof(err));
        if (!srv->mongo)
            fprintf(stderr, "http: history from Mongo unavailable: %s\n", err);
    }
    mongoc_client_pool_t *p = srv->mongo;
    pthread_mutex_unlock(&srv->mongo_lock);
    return p;
}

/* 1 when the workers, which ping Mongo every few seconds, all say it is
 * down: then a history request goes straight to Redis instead of holding
 * an HTTP thread for a server-selection timeout. */
static int hist_mongo_known_down(const struct http_server *srv)
{
    const struct appliance_stats *st = srv->stats;
    int n = st ? (int)st->nworkers : 0, reports = 0;
    if (n > STATS_MAX_WORKERS)
        n = STATS_MAX_WORKERS;
    for (int i = 0; i < n; i++) {
        const struct worker_stats *w = &st->workers[i];
        /* a worker that has not reached Mongo yet (just started) knows nothing */
        if (w->pid <= 0 || w->mongo_up < 0 || !w->mongo_known)
            continue;
        if (w->mongo_up == 1)
            return 0;
        reports++;
    }
    return reports > 0;
}

static int hist_bson_number(const bson_t *doc, const char *key, double *out)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_NUMBER(&it))
        return 0;
    *out = bson_iter_as_double(&it);
    return 1;
}

/* Streams the Mongo range into d. 0, or -1 with a reason in err. */
static int hist_from_mongo(struct http_server *srv, const char *mac, int64_t since,
                           int64_t until, struct ds *d, char *err, size_t errlen)
{
    mongoc_client_pool_t *pool = hist_mongo_pool(srv);
    if (!pool) {
        snprintf(err, errlen, "Mongo client unavailable");
        return -1;
    }
    mongoc_client_t *client = mongoc_client_pool_pop(pool);
    const char *db = srv->cfg->mongo_db[0] ? srv->cfg->mongo_db : "perfload";
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, "samples");

    bson_t filter = BSON_INITIALIZER, range, opts = BSON_INITIALIZER, sort, proj;
    BSON_APPEND_UTF8(&filter, "macA", mac);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "ts", &range);
    BSON_APPEND_DATE_TIME(&range, "$gte", since);
    BSON_APPEND_DATE_TIME(&range, "$lte", until);
    bson_append_document_end(&filter, &range);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "ts", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 0);
    BSON_APPEND_INT32(&proj, "ts", 1);
    for (int i = 0; i < HIST_NFIELDS; i++)
        BSON_APPEND_INT32(&proj, hist_fields[i], 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "maxTimeMS", HISTORY_MONGO_MAX_MS);
    BSON_APPEND_INT32(&opts, "batchSize", 5000);

    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        int64_t ts;
        if (!bson_iter_init_find(&it, doc, "ts"))
            continue;
        if (BSON_ITER_HOLDS_DATE_TIME(&it))
            ts = bson_iter_date_time(&it);
        else if (BSON_ITER_HOLDS_NUMBER(&it))
            ts = bson_iter_as_int64(&it);
        else
            continue;
        double v[HIST_NFIELDS];
        unsigned char has[HIST_NFIELDS];
        for (int i = 0; i < HIST_NFIELDS; i++)
            has[i] = (unsigned char)hist_bson_number(doc, hist_fields[i], &v[i]);
        if (ds_add(d, ts, v, has) < 0)
            break;
    }
    bson_error_t error;
    int rc = 0;
    if (mongoc_cursor_error(cur, &error)) {
        snprintf(err, errlen, "%.200s", error.message);
        rc = -1;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(pool, client);
    return rc;
}

struct hist_entry {
    int64_t ts;
    double v[HIST_NFIELDS];
    unsigned char has[HIST_NFIELDS];
};

static int hist_cmp_ts(const void *a, const void *b)
{
    const struct hist_entry *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The Redis list is newest first and written by other processes: parse
 * each entry defensively, sort, then stream into d. 0, or -1 (Redis down). */
static int hist_from_redis(struct http_server *srv, const char *mac, struct ds *d)
{
    redisContext *c = http_redis_acquire(srv->redis);
    if (!c)
        return -1;
    /* The list is trimmed only every REDIS_STATE_TRIM_EVERY samples, so it
     * may hold a few entries more than history_len: read the newest
     * history_len, what the retention promises. */
    int want = srv->cfg->history_len > 0 && srv->cfg->history_len < HISTORY_REDIS_MAX
                   ? srv->cfg->history_len : HISTORY_REDIS_MAX;
    redisReply *list = redisCommand(c, "LRANGE %shistory:%s 0 %d", http_redis_prefix(srv->redis),
                                    mac, want - 1);
    int broken = !list;
    struct hist_entry *e = NULL;
    size_t n = 0;
    if (list && list->type == REDIS_REPLY_ARRAY && list->elements > 0)
        e = calloc(list->elements, sizeof(*e));
    for (size_t i = 0; e && i < list->elements; i++) {
        const redisReply *r = list->element[i];
        if (r->type != REDIS_REPLY_STRING)
            continue;
        cJSON *o = cJSON_ParseWithLength(r->str, r->len);
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
        if (cJSON_IsNumber(ts) && ts->valuedouble >= 0) {
            e[n].ts = (int64_t)ts->valuedouble;
            for (int f = 0; f < HIST_NFIELDS; f++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, hist_fields[f]);
                e[n].has[f] = cJSON_IsNumber(v);
                e[n].v[f] = e[n].has[f] ? v->valuedouble : 0;
            }
            n++;
        }
        cJSON_Delete(o);
    }
    if (list)
        freeReplyObject(list);
    http_redis_release(srv->redis, broken);
    if (broken) {
        free(e);
        return -1;
    }
    if (n > 0)   /* e is NULL for an empty list: qsort must not see it */
        qsort(e, n, sizeof(*e), hist_cmp_ts);
    for (size_t i = 0; i < n; i++)
        if (ds_add(d, e[i].ts, e[i].v, e[i].has) < 0)
            break;
    free(e);
    return 0;
}

enum MHD_Result http_history_handle(struct http_server *srv, struct MHD_Connection *conn,
                                    const char *mac)
{
    int64_t until = http_now_ms(), since = -1, step = 0;
    if (hist_arg(conn, "until", &until) < 0 || hist_arg(conn, "since", &since) < 0
        || hist_arg(conn, "step", &step) < 0)
        return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
                               "since, until and step are epoch milliseconds "
                               "(integers 0..253402300799999)");
    if (since < 0)
        since = until > HISTORY_DEFAULT_MS ? until - HISTORY_DEFAULT_MS : 0;
    if (since > until)
        return http_send_error(conn, MHD_HTTP_BAD_REQUEST, "since is after until");

    struct ds_point *pts = calloc(HISTORY_POINTS_MAX, sizeof(*pts));
    if (!pts)
        return http_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    int64_t bucket = ds_bucket_ms(since, until, step, HISTORY_POINTS_MAX);
    struct ds d;
    const char *source = "redis";
    char mongo_err[256] = "";

    ds_init(&d, since, bucket, HIST_NFIELDS, pts, HISTORY_POINTS_MAX);
    if (srv->cfg->mongo_url[0] && !hist_mongo_known_down(srv)) {
        source = "mongo";
        if (hist_from_mongo(srv, mac, since, until, &d, mongo_err, sizeof(mongo_err)) < 0) {
            source = "redis";
            ds_init(&d, since, bucket, HIST_NFIELDS, pts, HISTORY_POINTS_MAX);
        }
    }
    if (srv->cfg->mongo_url[0] && !strcmp(source, "redis") && !mongo_err[0])
        snprintf(mongo_err, sizeof(mongo_err), "Mongo is down (the workers cannot reach it)");
    if (!strcmp(source, "redis") && hist_from_redis(srv, mac, &d) < 0) {
        free(pts);
        return http_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                               mongo_err[0] ? "Mongo and Redis are both unreachable"
                                            : "Redis is unreachable");
    }
    size_t n = ds_finish(&d);

    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    if (!o || !arr) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        free(pts);
        return http_send_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }
    cJSON_AddStringToObject(o, "macA", mac);
    cJSON_AddNumberToObject(o, "since", (double)since);
    cJSON_AddNumberToObject(o, "until", (double)until);
    cJSON_AddNumberToObject(o, "step", (double)bucket);
    cJSON_AddStringToObject(o, "source", source);
    if (mongo_err[0])
        cJSON_AddStringToObject(o, "mongoError", mongo_err);
    for (size_t i = 0; i < n; i++) {
        cJSON *p = cJSON_CreateObject();
        if (!p)
            break;
        cJSON_AddNumberToObject(p, "ts", (double)pts[i].ts);
        for (int f = 0; f < HIST_NFIELDS; f++)
            if (pts[i].has[f])
                cJSON_AddNumberToObject(p, hist_fields[f], pts[i].v[f]);
        if (pts[i].count > 1)
            cJSON_AddNumberToObject(p, "n", pts[i].count);
        cJSON_AddItemToArray(arr, p);
    }
    cJSON_AddItemToObject(o, "points", arr);
    free(pts);
    return http_send_json(conn, MHD_HTTP_OK, o);
}
