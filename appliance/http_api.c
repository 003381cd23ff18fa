/* http_api.c -- the JSON API: /api/config and the machines in Redis.
 *
 * Live state comes from the Redis keys of docs/architecture.md: the set
 * `P machines` and a hash `P machine:<mac>` each (sample, lastSeen,
 * firstSeen, active). Anyone with Redis access may have written those, so
 * every value is checked: a mac that fails sample_mac_valid() is skipped, a
 * sample that fails the sample schema (lib/sample.h) is replaced by {},
 * numbers are parsed strictly. Never trusted, never fatal. */
#include <errno.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http_internal.h"
#include "sample.h"

#define API_MACHINES_MAX  100000    /* machines listed at most */

/* Strict decimal epoch ms; -1 when absent or not a number. */
static int64_t api_parse_ms(const char *s, size_t len)
{
    char buf[32];
    if (!s || len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    return (int64_t)v;
}

/* Builds the machine object from HGETALL's flat [field, value, ...] reply. */
static cJSON *api_machine_from_hash(const char *mac, const redisReply *h)
{
    const redisReply *sample = NULL, *last = NULL, *first = NULL, *active = NULL;
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (!strcmp(k->str, "sample"))
            sample = v;
        else if (!strcmp(k->str, "lastSeen"))
            last = v;
        else if (!strcmp(k->str, "firstSeen"))
            first = v;
        else if (!strcmp(k->str, "active"))
            active = v;
    }
    /* Only a sample that passes the agents' schema is shown; anything else
     * leaves just the id and liveness fields below. */
    cJSON *m = NULL;
    struct sample_view v;
    char why[SAMPLE_ERR_MAX];
    if (sample && sample_scan(sample->str, sample->len, &v, why, sizeof(why)) >= 0
        && strcmp(v.mac, mac) == 0)
        m = cJSON_ParseWithLength(sample->str, sample->len);
    if (!m)
        m = cJSON_CreateObject();
    if (!m)
        return NULL;
    /* The key is authoritative for the id; the hash for liveness. */
    cJSON_DeleteItemFromObjectCaseSensitive(m, "macA");
    cJSON_AddStringToObject(m, "macA", mac);
    int is_active;
    if (active)
        is_active = active->len == 1 && active->str[0] == '1';
    else
        is_active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "isActive"));
    cJSON_DeleteItemFromObjectCaseSensitive(m, "isActive");
    cJSON_AddBoolToObject(m, "isActive", is_active);
    int64_t l = last ? api_parse_ms(last->str, last->len) : -1;
    int64_t f = first ? api_parse_ms(first->str, first->len) : -1;
    cJSON_DeleteItemFromObjectCaseSensitive(m, "lastSeen");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "firstSeen");
    if (l >= 0)
        cJSON_AddNumberToObject(m, "lastSeen", (double)l);
    else
        cJSON_AddNullToObject(m, "lastSeen");
    if (f >= 0)
        cJSON_AddNumberToObject(m, "firstSeen", (double)f);
    else
        cJSON_AddNullToObject(m, "firstSeen");
    return m;
}

static int api_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

cJSON *http_machines_list(struct http_server *srv)
{
    redisContext *c = http_redis_acquire(srv->redis);
    if (!c)
        return NULL;
    const char *p = http_redis_prefix(srv->redis);
    int broken = 0;
    cJSON *list = NULL;
    const char **macs = NULL;
    size_t n = 0;

    redisReply *set = redisCommand(c, "SMEMBERS %smachines", p);
    if (!set || set->type != REDIS_REPLY_ARRAY) {
        broken = !set || c->err;
        goto out;
    }
    macs = calloc(set->elements ? set->elements : 1, sizeof(*macs));
    if (!macs)
        goto out;
    for (size_t i = 0; i < set->elements && n < API_MACHINES_MAX; i++) {
        const redisReply *e = set->element[i];
        if (e->type == REDIS_REPLY_STRING && sample_mac_valid(e->str, e->len))
            macs[n++] = e->str;
    }
    qsort(macs, n, sizeof(*macs), api_cmp_str);
    /* Pipelined: one round trip for all the hashes. */
    for (size_t i = 0; i < n; i++)
        redisAppendCommand(c, "HGETALL %smachine:%s", p, macs[i]);
    list = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        redisReply *h = NULL;
        if (redisGetReply(c, (void **)&h) != REDIS_OK) {
            broken = 1;
            cJSON_Delete(list);
            list = NULL;
            break;
        }
        cJSON *m = list ? api_machine_from_hash(macs[i], h) : NULL;
        if (m)
            cJSON_AddItemToArray(list, m);
        freeReplyObject(h);
    }
out:
    free(macs);
    if (set)
        freeReplyObject(set);
    http_redis_release(srv->redis, broken);
    return list;
}

/* The machine or NULL; *status is 200, 404 (unknown) or 503 (Redis down). */
static cJSON *api_machine_get(struct http_server *srv, const char *mac, unsigned *status)
{
    redisContext *c = http_redis_acquire(srv->redis);
    *status = MHD_HTTP_SERVICE_UNAVAILABLE;
    if (!c)
        return NULL;
    const char *p = http_redis_prefix(srv->redis);
    cJSON *m = NULL;
    redisReply *member = redisCommand(c, "SISMEMBER %smachines %s", p, mac);
    redisReply *h = member ? redisCommand(c, "HGETALL %smachine:%s", p, mac) : NULL;
    int broken = !member || !h;
    if (!broken) {
        int known = (member->type == REDIS_REPLY_INTEGER && member->integer == 1)
                 || (h->type == REDIS_REPLY_ARRAY && h->elements > 0);
        *status = known ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND;
        if (known) {
            m = api_machine_from_hash(mac, h);
            if (!m)
                *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (member)
        freeReplyObject(member);
    if (h)
        freeReplyObject(h);
    http_redis_release(srv->redis, broken);
    return m;
}

/* The host name part of the request's Host header ("h", "1.2.3.4",
 * "[::1]") when it is made of host-name characters only; 0 otherwise. */
static int api_request_host(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!h || !*h)
        return 0;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
    if (n >= outlen || (h[0] == '[' && h[n - 1] != ']'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:[]", h[i]))
            return 0;
    memcpy(out, h, n);
    out[n] = '\0';
    return 1;
}

static enum MHD_Result api_config(struct http_server *srv, struct MHD_Connection *conn)
{
    const struct pl_config *cfg = srv->cfg;
    char host[128], url[192];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return http_send_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
    /* With TLS the socket URL is spelled out as https:// (the host the
     * browser used, --port), so no client has to guess the scheme. */
    if (cfg->public_url[0])
        cJSON_AddStringToObject(o, "socketUrl", cfg->public_url);
    else if (cfg->tls_cert[0] && api_request_host(conn, host, sizeof(host))
             && snprintf(url, sizeof(url), "https://%s:%d", host, cfg->port) < (int)sizeof(url))
        cJSON_AddStringToObject(o, "socketUrl", url);
    else
        cJSON_AddNullToObject(o, "socketUrl");
    cJSON_AddNumberToObject(o, "socketPort", cfg->port);
    cJSON_AddBoolToObject(o, "uiKeyRequired", !cfg->open_dashboard);
    cJSON_AddBoolToObject(o, "history", cfg->mongo_url[0] != '\0');
    cJSON_AddStringToObject(o, "version", PERFLOAD_VERSION);
    return http_send_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result api_machines(struct http_server *srv, struct MHD_Connection *conn)
{
    cJSON *list = http_machines_list(srv);
    if (!list)
        return http_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Redis is unreachable");
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(list);
        return http_send_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
    }
    cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(list));
    cJSON_AddItemToObject(o, "machines", list);
    return http_send_json(conn, MHD_HTTP_OK, o);
}

enum MHD_Result http_api_handle(struct http_server *srv, struct MHD_Connection *conn,
                                const char *path)
{
    static const char machines[] = "/api/machines";
    if (!strcmp(path, "/api/config"))
        return api_config(srv, conn);
    if (!strcmp(path, machines))
        return api_machines(srv, conn);
    if (strncmp(path, machines, sizeof(machines) - 1) || path[sizeof(machines) - 1] != '/')
        return http_send_error(conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");

    /* /api/machines/<mac> or /api/machines/<mac>/history */
    const char *mac = path + sizeof(machines);
    const char *slash = strchr(mac, '/');
    size_t len = slash ? (size_t)(slash - mac) : strlen(mac);
    if (slash && strcmp(slash, "/history"))
        return http_send_error(conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
    if (!sample_mac_valid(mac, len))
        return http_send_error(conn, MHD_HTTP_BAD_REQUEST,
                               "invalid machine id: 1-64 characters of [0-9A-Za-z:._-]");
    char id[SAMPLE_MAC_MAX + 1];
    memcpy(id, mac, len);
    id[len] = '\0';
    if (slash)
        return http_history_handle(srv, conn, id);

    unsigned status;
    cJSON *m = api_machine_get(srv, id, &status);
    if (status == MHD_HTTP_OK)
        return http_send_json(conn, status, m);
    cJSON_Delete(m);
    return http_send_error(conn, status,
                           status == MHD_HTTP_NOT_FOUND ? "unknown machine"
                           : status == MHD_HTTP_SERVICE_UNAVAILABLE ? "Redis is unreachable"
                                                                    : "internal error");
}
