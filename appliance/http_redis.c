/* http_redis.c -- the HTTP side's own synchronous Redis link.
 *
 * The workers' Redis links live on their event loops; the master's HTTP
 * threads need something simpler: one blocking hiredis context behind a
 * mutex, with short connect and command timeouts so a dead Redis costs a
 * request about a second, never a hang. While Redis is down, a reconnect
 * is tried at most once per HTTP_REDIS_RETRY_MS; other requests fail at
 * once (the API answers 503, /healthz reports it). */
#include <hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "http_internal.h"
#include "redis_url.h"

#define HTTP_REDIS_CONNECT_MS 500
#define HTTP_REDIS_COMMAND_MS 1500
#define HTTP_REDIS_RETRY_MS   1000

struct http_redis {
    pthread_mutex_t lock;       /* held from acquire to release */
    struct redis_url url;
    char prefix[64];
    redisContext *ctx;          /* NULL while disconnected */
    int64_t last_attempt_ms;    /* monotonic, of the last failed connect */
    int logged_down;            /* one log line per outage */
};

static int64_t hr_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval hr_tv(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return tv;
}

/* Runs one command that must answer +OK (AUTH, SELECT). */
static int hr_expect_ok(redisContext *c, redisReply *reply)
{
    int ok = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply)
        freeReplyObject(reply);
    return ok && !c->err ? 0 : -1;
}

/* Called with the lock held. */
static int hr_connect(struct http_redis *r)
{
    char desc[320];
    redisContext *c;
    if (r->url.is_unix)
        c = redisConnectUnixWithTimeout(r->url.path, hr_tv(HTTP_REDIS_CONNECT_MS));
    else
        c = redisConnectWithTimeout(r->url.host, r->url.port, hr_tv(HTTP_REDIS_CONNECT_MS));
    if (!c || c->err)
        goto fail;
    if (redisSetTimeout(c, hr_tv(HTTP_REDIS_COMMAND_MS)) != REDIS_OK)
        goto fail;
    if (r->url.password[0]) {
        redisReply *rep = r->url.user[0]
            ? redisCommand(c, "AUTH %s %s", r->url.user, r->url.password)
            : redisCommand(c, "AUTH %s", r->url.password);
        if (hr_expect_ok(c, rep) < 0)
            goto fail;
    }
    if (r->url.db > 0 && hr_expect_ok(c, redisCommand(c, "SELECT %d", r->url.db)) < 0)
        goto fail;
    r->ctx = c;
    if (r->logged_down)
        fprintf(stderr, "http: Redis %s is back\n", redis_url_describe(&r->url, desc, sizeof(desc)));
    r->logged_down = 0;
    return 0;

fail:
    if (!r->logged_down)
        fprintf(stderr, "http: Redis %s unreachable: %s\n",
                redis_url_describe(&r->url, desc, sizeof(desc)),
                c && c->errstr[0] ? c->errstr : "cannot connect");
    r->logged_down = 1;
    if (c)
        redisFree(c);
    r->last_attempt_ms = hr_mono_ms();
    return -1;
}

struct http_redis *http_redis_create(const char *url, const char *prefix, char *err, size_t errlen)
{
    struct http_redis *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "http: out of memory");
        return NULL;
    }
    if (redis_url_parse(url, &r->url, err, errlen) < 0) {
        free(r);
        return NULL;
    }
    snprintf(r->prefix, sizeof(r->prefix), "%s", prefix ? prefix : "");
    pthread_mutex_init(&r->lock, NULL);
    r->last_attempt_ms = hr_mono_ms() - HTTP_REDIS_RETRY_MS;
    return r;
}

void http_redis_destroy(struct http_redis *r)
{
    if (!r)
        return;
    if (r->ctx)
        redisFree(r->ctx);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

const char *http_redis_prefix(const struct http_redis *r)
{
    return r->prefix;
}

struct redisContext *http_redis_acquire(struct http_redis *r)
{
    pthread_mutex_lock(&r->lock);
    if (!r->ctx) {
        if (hr_mono_ms() - r->last_attempt_ms < HTTP_REDIS_RETRY_MS || hr_connect(r) < 0) {
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
    }
    return r->ctx;
}

void http_redis_release(struct http_redis *r, int broken)
{
    if (broken || (r->ctx && r->ctx->err)) {
        if (r->ctx)
            redisFree(r->ctx);
        r->ctx = NULL;
        /* Let the very next request try again: a broken link is often just
         * a Redis restart, and the reconnect is cheap when it is back. */
        r->last_attempt_ms = hr_mono_ms() - HTTP_REDIS_RETRY_MS;
    }
    pthread_mutex_unlock(&r->lock);
}

int http_redis_ping(struct http_redis *r)
{
    redisContext *c = http_redis_acquire(r);
    if (!c)
        return 0;
    redisReply *rep = redisCommand(c, "PING");
    int ok = rep && rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "PONG");
    if (rep)
        freeReplyObject(rep);
    http_redis_release(r, !ok);
    return ok;
}
