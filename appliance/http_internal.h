/* http_internal.h -- what the http_*.c files share (not for other modules).
 *
 * http_server.c owns the MHD daemon, the per-request state and routing;
 * each other file serves one area and answers through the helpers below.
 * Every handler runs on one of MHD's pool threads, concurrently with the
 * others: shared state is either read-only after start or has its own lock
 * (the Redis client, the static-file cache, the lazily opened Mongo pool). */
#ifndef PERFLOAD_HTTP_INTERNAL_H
#define PERFLOAD_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <cJSON.h>

#include "http_path.h"
#include "ratelimit.h"

struct pl_config;
struct appliance_stats;
struct http_redis;
struct http_static;
struct _mongoc_client_pool_t;

struct http_server {
    struct MHD_Daemon *daemon;
    const struct pl_config *cfg;        /* not owned (the master's) */
    struct appliance_stats *stats;      /* not owned, read-only here */
    struct http_redis *redis;           /* live state, own sync client */
    struct http_static *files;          /* dashboard files + cache */
    pthread_mutex_t mongo_lock;         /* guards mongo */
    struct _mongoc_client_pool_t *mongo;/* history reads; opened on first use, NULL when off */
    pthread_mutex_t reject_lock;        /* guards reject_log */
    struct rl_log reject_log;           /* one line per second about refused requests */
    char *tls_cert_pem;                 /* --tls-cert's contents (MHD keeps pointing at it), or NULL */
    char *tls_key_pem;                  /* --tls-key's contents, or NULL */
};

/* One request, made by MHD's URI log callback (before MHD decodes the URL)
 * and freed when the request completes. */
struct http_request {
    int seen;                   /* the two-call pattern: 0 on the first call */
    int path_rc;                /* hp_normalise() result for the raw path */
    char path[HP_PATH_MAX];     /* normalised, decoded path ("" unless HP_OK) */
};

/* ---- responses (http_server.c); each queues and returns MHD's verdict ---- */

/* body is consumed (freed) in every case. */
enum MHD_Result http_send_json(struct MHD_Connection *conn, unsigned status, cJSON *body);
/* {"error": message} */
enum MHD_Result http_send_error(struct MHD_Connection *conn, unsigned status, const char *message);
/* A copy of text[0..len) with the given Content-Type and Cache-Control. */
enum MHD_Result http_send_text(struct MHD_Connection *conn, unsigned status, const char *type,
                               const char *cache_control, const char *text, size_t len);

int64_t http_now_ms(void);

/* ---- areas ---- */

/* http_api.c: /api/config, /api/machines, /api/machines/<mac>[/history] */
enum MHD_Result http_api_handle(struct http_server *srv, struct MHD_Connection *conn,
                                const char *path);

/* http_api.c: the machines known in Redis, each {macA, <latest sample
 * fields>, isActive, lastSeen, firstSeen}, sorted by macA. NULL when Redis
 * is unreachable. Used by /metrics too. */
cJSON *http_machines_list(struct http_server *srv);

/* http_history.c: GET /api/machines/<mac>/history?since=&until=&step= */
enum MHD_Result http_history_handle(struct http_server *srv, struct MHD_Connection *conn,
                                    const char *mac);

/* http_metrics.c */
enum MHD_Result http_metrics_handle(struct http_server *srv, struct MHD_Connection *conn);
enum MHD_Result http_healthz_handle(struct http_server *srv, struct MHD_Connection *conn);

/* http_static.c: the dashboard's files from www_dir. */
struct http_static *http_static_create(const char *www_dir);
void http_static_destroy(struct http_static *st);
enum MHD_Result http_static_handle(struct http_static *st, struct MHD_Connection *conn,
                                   const struct http_request *req);

/* http_redis.c: one synchronous hiredis connection behind a mutex, short
 * timeouts, reconnects on demand (at most once a second while down). */
struct http_redis *http_redis_create(const char *url, const char *prefix, char *err,
                                     size_t errlen);
void http_redis_destroy(struct http_redis *r);
struct redisContext;
/* Locks and returns a connected context, or NULL (not locked) when Redis is
 * unreachable. Pair with http_redis_release(); broken=1 drops the link. */
struct redisContext *http_redis_acquire(struct http_redis *r);
void http_redis_release(struct http_redis *r, int broken);
/* The key prefix ("perfload:"). */
const char *http_redis_prefix(const struct http_redis *r);
/* 1 when a PING succeeds now. */
int http_redis_ping(struct http_redis *r);

#endif
