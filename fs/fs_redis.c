/* fs_redis.c -- per-thread, timeout-bounded hiredis links. See fs_redis.h. */
#include "fs_redis.h"

#include <errno.h>
#include <hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sample.h"

static struct fs_redis_conf fr_conf;
static char fr_where[REDIS_URL_HOST_MAX + 64];   /* for logs, without credentials */
static pthread_key_t fr_key;
/* 1 while the last operation reached Redis; only used to log transitions
 * once instead of once per failed read. */
static atomic_int fr_up = 1;
/* While Redis is failing, calls fail at once until this time (monotonic
 * ms) instead of each waiting for a timeout: the kernel serialises lookups
 * of one name, so 20 readers of one file would otherwise queue for 20
 * timeouts. Then one caller probes again. */
static atomic_llong fr_retry_at;

static long long fr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fr_context_free(void *p)
{
    if (p)
        redisFree(p);
}

int fs_redis_init(const struct fs_redis_conf *conf)
{
    fr_conf = *conf;
    redis_url_describe(&fr_conf.url, fr_where, sizeof(fr_where));
    if (pthread_key_create(&fr_key, fr_context_free) != 0)
        return -1;
    return 0;
}

static void fr_set_up(int up, const char *why)
{
    if (!up)
        atomic_store(&fr_retry_at, fr_now_ms() + 2LL * fr_conf.timeout_ms);
    if (atomic_exchange(&fr_up, up) == up)
        return;
    if (up)
        fprintf(stderr, "perfload-fs: redis %s reachable again\n", fr_where);
    else
        fprintf(stderr, "perfload-fs: redis %s unreachable (%s); reads fail with EIO until it is back\n",
                fr_where, why);
}

/* Runs one command whose reply must not be an error (AUTH, SELECT). */
static int fr_setup_command(redisContext *c, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    int ok = r && r->type != REDIS_REPLY_ERROR;
    if (r && !ok)
        fprintf(stderr, "perfload-fs: redis %s failed: %.*s\n", argv[0], (int)r->len, r->str);
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

static redisContext *fr_connect(void)
{
    struct timeval tv = { fr_conf.timeout_ms / 1000, (fr_conf.timeout_ms % 1000) * 1000 };
    const struct redis_url *u = &fr_conf.url;
    redisContext *c = u->is_unix ? redisConnectUnixWithTimeout(u->path, tv)
                                 : redisConnectWithTimeout(u->host, u->port, tv);
    if (!c) {
        fr_set_up(0, "out of memory");
        return NULL;
    }
    if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        fr_set_up(0, c->errstr[0] ? c->errstr : "connect failed");
        redisFree(c);
        return NULL;
    }
    if (u->password[0]) {
        const char *a[3] = { "AUTH", u->user, u->password };
        int rc = u->user[0] ? fr_setup_command(c, 3, a)
                                 : fr_setup_command(c, 2, (const char *[]){ "AUTH", u->password });
        if (rc != 0) {
            fr_set_up(0, "AUTH failed");
            redisFree(c);
            return NULL;
        }
    }
    if (u->db > 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", u->db);
        if (fr_setup_command(c, 2, (const char *[]){ "SELECT", db }) != 0) {
            fr_set_up(0, "SELECT failed");
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* This thread's connection, connecting if it has none. *fresh tells the
 * caller whether it was just made (a failure on a fresh link is final; on
 * an old one it may just be Redis having restarted, worth one retry). */
static redisContext *fr_get(int *fresh)
{
    redisContext *c = pthread_getspecific(fr_key);
    *fresh = 0;
    if (!atomic_load(&fr_up) && fr_now_ms() < atomic_load(&fr_retry_at))
        return NULL;
    if (!c) {
        c = fr_connect();
        if (!c)
            return NULL;
        pthread_setspecific(fr_key, c);
        *fresh = 1;
    }
    return c;
}

/* Drops this thread's connection after an error; returns 1 when retrying
 * on a new connection makes sense (the peer closed an old link), 0 when
 * the failure was a timeout or otherwise final. */
static int fr_drop(redisContext *c, int fresh)
{
    int retry = !fresh && (c->err == REDIS_ERR_EOF ||
                           (c->err == REDIS_ERR_IO && errno != EAGAIN && errno != EWOULDBLOCK));
    if (!retry)
        fr_set_up(0, c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
                         ? "timed out" : c->errstr[0] ? c->errstr : "I/O error");
    pthread_setspecific(fr_key, NULL);
    redisFree(c);
    return retry;
}

/* Sends count commands (argv arrays of argc each) in one pipeline and
 * collects their replies into replies[]. Returns 0, or -1 with nothing to
 * free. Reconnects once if an idle link turned out dead. */
static int fr_pipeline(size_t count, int argc, const char **argv, const size_t *argvlen,
                       redisReply **replies)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fresh;
        redisContext *c = fr_get(&fresh);
        if (!c)
            return -1;
        size_t got = 0;
        int ok = 1;
        for (size_t i = 0; i < count && ok; i++)
            ok = redisAppendCommandArgv(c, argc, argv + i * argc, argvlen + i * argc) == REDIS_OK;
        while (ok && got < count) {
            void *r = NULL;
            ok = redisGetReply(c, &r) == REDIS_OK && r;
            if (ok)
                replies[got++] = r;
        }
        if (ok) {
            fr_set_up(1, NULL);
            return 0;
        }
        while (got)
            freeReplyObject(replies[--got]);
        if (!fr_drop(c, fresh))
            return -1;
    }
    return -1;
}

void fs_names_free(struct fs_names *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->names[i]);
    free(n->names);
    n->names = NULL;
    n->count = 0;
}

static int fr_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fs_redis_members(struct fs_names *out)
{
    char key[128];
    snprintf(key, sizeof(key), "%smachines", fr_conf.prefix);
    const char *argv[2] = { "SMEMBERS", key };
    size_t argvlen[2] = { 8, strlen(key) };
    redisReply *r;
    memset(out, 0, sizeof(*out));
    if (fr_pipeline(1, 2, argv, argvlen, &r) != 0)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY) {
        /* WRONGTYPE and friends: someone else's data under our key. */
        freeReplyObject(r);
        return -1;
    }
    out->names = calloc(r->elements ? r->elements : 1, sizeof(char *));
    if (!out->names) {
        freeReplyObject(r);
        return -1;
    }
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        /* ids spelled like the top-level files would be shadowed by them */
        if (e->type != REDIS_REPLY_STRING || !sample_mac_valid(e->str, e->len) ||
            strcmp(e->str, "README") == 0 || strcmp(e->str, "machines") == 0)
            continue;
        out->names[out->count] = strndup(e->str, e->len);
        if (!out->names[out->count]) {
            freeReplyObject(r);
            fs_names_free(out);
            return -1;
        }
        out->count++;
    }
    freeReplyObject(r);
    qsort(out->names, out->count, sizeof(char *), fr_name_cmp);
    return 0;
}

/* Renders one HGETALL reply. Field values are copied out NUL-terminated
 * because the renderer parses them as C strings. */
static int fr_render_hash(const redisReply *r, struct fs_machine *out)
{
    struct fs_hash_fields h = { 0 };
    const redisReply *last_seen = NULL, *first_seen = NULL, *active = NULL;
    /* A key of the wrong type (WRONGTYPE error) renders as an empty hash:
     * one odd machine must not make the whole tree fail. */
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (k->len == 6 && memcmp(k->str, "sample", 6) == 0) {
            h.sample = v->str;
            h.sample_len = v->len;
        } else if (k->len == 8 && memcmp(k->str, "lastSeen", 8) == 0) {
            last_seen = v;
        } else if (k->len == 9 && memcmp(k->str, "firstSeen", 9) == 0) {
            first_seen = v;
        } else if (k->len == 6 && memcmp(k->str, "active", 6) == 0) {
            active = v;
        }
    }
    /* hiredis NUL-terminates string replies, but a value may hold an
     * embedded NUL; a short read of it is then merely garbage, not unsafe. */
    h.last_seen = last_seen ? last_seen->str : NULL;
    h.first_seen = first_seen ? first_seen->str : NULL;
    h.active = active ? active->str : NULL;
    return fs_render_machine(out, &h);
}

int fs_redis_machines(const char *const *macs, size_t count, struct fs_machine *out)
{
    char (*keys)[FS_NAME_MAX + 80] = calloc(count ? count : 1, sizeof(*keys));
    const char **argv = calloc(2 * (count ? count : 1), sizeof(char *));
    size_t *argvlen = calloc(2 * (count ? count : 1), sizeof(size_t));
    redisReply **replies = calloc(count ? count : 1, sizeof(redisReply *));
    int rc = -1;
    memset(out, 0, count * sizeof(*out));
    if (!keys || !argv || !argvlen || !replies)
        goto done;
    for (size_t i = 0; i < count; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%smachine:%s", fr_conf.prefix, macs[i]);
        argv[2 * i] = "HGETALL";
        argvlen[2 * i] = 7;
        argv[2 * i + 1] = keys[i];
        argvlen[2 * i + 1] = strlen(keys[i]);
    }
    if (fr_pipeline(count, 2, argv, argvlen, replies) != 0)
        goto done;
    rc = 0;
    for (size_t i = 0; i < count; i++) {
        if (rc == 0 && fr_render_hash(replies[i], &out[i]) != 0)
            rc = -1;
        freeReplyObject(replies[i]);
    }
    if (rc != 0)
        for (size_t i = 0; i < count; i++)
            fs_machine_free(&out[i]);
done:
    free(keys);
    free(argv);
    free(argvlen);
    free(replies);
    return rc;
}
