/* http_server.c -- the MHD daemon on --http-port: per-request state,
 * routing, access control and the response helpers the areas share.
 *
 * Keep-alive: MHD answers "Connection: close" when a response is queued on
 * the first call of the handler for a request, so the handler always
 * returns at once on the first call and answers on the second (the
 * "two-call pattern"). The raw request path is captured by the URI log
 * callback before MHD decodes it, so encoded traversal tricks (%2e%2e,
 * %2f) are judged on what the client actually sent (lib/http_path.h). */
#include "http_server.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <mongoc/mongoc.h>

#include "config.h"
#include "http_internal.h"
#include "mongo_store.h"
#include "stats.h"

#define HTTP_POOL_THREADS   4   /* a slow Redis/Mongo call holds one */
#define HTTP_CONN_LIMIT     1000
#define HTTP_CONN_TIMEOUT_S 60

int64_t http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- responses ---- */

/* The status of the response queued last on this thread: the handler
 * reads it after routing to count and log refusals (the response helpers
 * do not know the request). */
static __thread unsigned http_last_status;

static enum MHD_Result http_queue(struct MHD_Connection *conn, unsigned status,
                                  struct MHD_Response *resp)
{
    http_last_status = status;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result http_send_text(struct MHD_Connection *conn, unsigned status, const char *type,
                               const char *cache_control, const char *text, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
    return http_queue(conn, status, resp);
}

enum MHD_Result http_send_json(struct MHD_Connection *conn, unsigned status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        return http_send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                              "no-store", oom, sizeof(oom) - 1);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"perfload\"");
    return http_queue(conn, status, resp);
}

enum MHD_Result http_send_error(struct MHD_Connection *conn, unsigned status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddStringToObject(o, "error", message);
    return http_send_json(conn, status, o);
}

/* ---- access control ---- */

/* 1 when the request carries "Authorization: Bearer <ui key>". */
static int http_bearer_ok(const struct http_server *srv, struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7))
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    return n > 0 && srv->cfg->ui_key[0] && cfg_key_equal(h, n, srv->cfg->ui_key);
}

static enum MHD_Result http_unauthorized(struct MHD_Connection *conn)
{
    return http_send_error(conn, MHD_HTTP_UNAUTHORIZED,
                           "this endpoint needs the UI key: Authorization: Bearer <key>");
}

/* ---- routing ---- */

static enum MHD_Result http_route(struct http_server *srv, struct MHD_Connection *conn,
                                  struct http_request *req, const char *method)
{
    const char *path = req->path;
    int is_api = req->path_rc == HP_OK && (!strcmp(path, "/api") || !strncmp(path, "/api/", 5));

    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL,
                                                                    MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return http_queue(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    }
    if (req->path_rc == HP_OK && (!strcmp(path, "/healthz") || !strcmp(path, "/metrics"))) {
        if (!srv->cfg->open_metrics && !http_bearer_ok(srv, conn))
            return http_unauthorized(conn);
        return !strcmp(path, "/healthz") ? http_healthz_handle(srv, conn)
                                         : http_metrics_handle(srv, conn);
    }
    if (is_api) {
        /* The dashboard reads /api/config before it has a key. */
        if (strcmp(path, "/api/config") && !srv->cfg->open_dashboard && !http_bearer_ok(srv, conn))
            return http_unauthorized(conn);
        return http_api_handle(srv, conn, path);
    }
    return http_static_handle(srv->files, conn, req);
}

/* A refused request: counted always, logged at most once a second with how
 * many were not. */
static void http_note_rejected(struct http_server *srv, struct MHD_Connection *conn,
                               const char *method, const struct http_request *req, unsigned status)
{
    uint64_t suppressed = 0;
    char ip[64] = "?";

    if (srv->stats)
        atomic_fetch_add(&srv->stats->http_rejected, 1);
    pthread_mutex_lock(&srv->reject_lock);
    int log = rl_log_allow(&srv->reject_log, http_now_ms(), 1000, &suppressed);
    pthread_mutex_unlock(&srv->reject_lock);
    if (!log || srv->cfg->log_level < 2)
        return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                              : sizeof(struct sockaddr_in),
                    ip, sizeof(ip), NULL, 0, NI_NUMERICHOST);
    char more[64] = "";
    if (suppressed)
        snprintf(more, sizeof(more), " (and %llu more not logged)", (unsigned long long)suppressed);
    fprintf(stderr, "http: %u for %.8s %.120s from %s%s\n", status, method,
            req->path_rc == HP_OK ? req->path : "(a path refused by the path check)", ip, more);
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
    struct http_server *srv = cls;
    struct http_request *req = *req_cls;
    if (!req)
        return MHD_NO;      /* out of memory in the URI callback: drop the connection */
    if (!req->seen) {
        req->seen = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;  /* no endpoint takes a body: discard it */
        return MHD_YES;
    }
    http_last_status = 0;
    enum MHD_Result rc = http_route(srv, conn, req, method);
    unsigned st = http_last_status;
    if (st == MHD_HTTP_BAD_REQUEST || st == MHD_HTTP_FORBIDDEN || st == MHD_HTTP_METHOD_NOT_ALLOWED)
        http_note_rejected(srv, conn, method, req, st);
    return rc;
}

/* Called by MHD with the request target exactly as received; the return
 * value becomes the request's *req_cls. */
static void *http_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    size_t n = strcspn(uri ? uri : "", "?#");
    req->path_rc = hp_normalise(uri ? uri : "", n, req->path, sizeof(req->path));
    return req;
}

static void http_completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    free(*req_cls);
    *req_cls = NULL;
}

static void http_log_cb(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    fprintf(stderr, "http: %s\n", line);
}

/* ---- lifecycle ---- */

#define HTTP_PEM_MAX (1 << 20)

/* Reads a PEM file (at most HTTP_PEM_MAX bytes) into a NUL-terminated heap
 * string: MHD takes the certificate and key from memory. NULL with a
 * reason in err. */
static char *http_read_pem(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "http: cannot read %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(HTTP_PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, HTTP_PEM_MAX + 1, f) : 0;
    int bad = !buf || ferror(f) || n == 0 || n > HTTP_PEM_MAX;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "http: %s %s is %s", what, path,
                 !buf ? "too big for memory" : n == 0 ? "empty or unreadable" : "over 1 MB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

struct http_server *http_server_start(const struct pl_config *cfg, struct appliance_stats *stats,
                                      char *err, size_t errlen)
{
    struct addrinfo hints, *ai = NULL;
    char port[16];
    int grc;

    if (errlen)
        err[0] = '\0';
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errlen, "http: out of memory");
        return NULL;
    }
    srv->cfg = cfg;
    srv->stats = stats;
    pthread_mutex_init(&srv->mongo_lock, NULL);
    pthread_mutex_init(&srv->reject_lock, NULL);

    srv->redis = http_redis_create(cfg->redis_url, cfg->redis_prefix, err, errlen);
    if (!srv->redis)
        goto fail;
    srv->files = http_static_create(cfg->www_dir);
    if (!srv->files) {
        snprintf(err, errlen, "http: out of memory");
        goto fail;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(port, sizeof(port), "%d", cfg->http_port);
    grc = getaddrinfo(cfg->bind_host[0] ? cfg->bind_host : NULL, port, &hints, &ai);
    if (grc != 0 || !ai) {
        snprintf(err, errlen, "http: cannot resolve bind address %s: %s", cfg->bind_host,
                 gai_strerror(grc));
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_DUAL_STACK;
    /* TLS options go in an array so the plain daemon needs no second call. */
    struct MHD_OptionItem tls_opts[3] = { { MHD_OPTION_END, 0, NULL } };
    if (cfg->tls_cert[0]) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "http: this libmicrohttpd was built without TLS: "
                     "--tls-cert cannot be served on --http-port");
            freeaddrinfo(ai);
            goto fail;
        }
        srv->tls_cert_pem = http_read_pem(cfg->tls_cert, "certificate", err, errlen);
        srv->tls_key_pem = srv->tls_cert_pem ? http_read_pem(cfg->tls_key, "key", err, errlen) : NULL;
        if (!srv->tls_key_pem) {
            freeaddrinfo(ai);
            goto fail;
        }
        flags |= MHD_USE_TLS;
        tls_opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem };
        tls_opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem };
        tls_opts[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    }
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->http_port, NULL, NULL, http_handler, srv,
        MHD_OPTION_EXTERNAL_LOGGER, http_log_cb, srv,   /* must come first */
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_POOL_THREADS,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_URI_LOG_CALLBACK, http_uri_cb, srv,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed_cb, srv,
        MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!srv->daemon) {
        snprintf(err, errlen, "http: cannot listen on %s:%d (port in use%s?)", cfg->bind_host,
                 cfg->http_port, cfg->tls_cert[0] ? ", or a certificate/key MHD cannot load" : "");
        goto fail;
    }
    fprintf(stderr, "http: dashboard and API on %s://%s:%d/ (files from %s)\n",
            cfg->tls_cert[0] ? "https" : "http", cfg->bind_host[0] ? cfg->bind_host : "*",
            cfg->http_port, cfg->www_dir);
    return srv;

fail:
    http_server_stop(srv);
    return NULL;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    http_static_destroy(srv->files);
    http_redis_destroy(srv->redis);
    if (srv->mongo)
        mongoc_client_pool_destroy(srv->mongo);
    pthread_mutex_destroy(&srv->mongo_lock);
    pthread_mutex_destroy(&srv->reject_lock);
    free(srv->tls_cert_pem);
    if (srv->tls_key_pem)
        explicit_bzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
    free(srv->tls_key_pem);
    free(srv);
}
