/* http_static.c -- the dashboard's files from www_dir (Vite's dist).
 *
 * Safety: the path was normalised from the raw request (lib/http_path.h:
 * no "..", no encoded separators); here it is resolved with realpath() and
 * must stay under the root's realpath, so a symlink out of the root is
 * refused too. Dotfiles are never served.
 *
 * Caching: a file is read once into memory with its gzip form (when it is
 * text and compresses well) and a strong ETag (FNV-1a of the content); the
 * entry is reused while the file's inode, size and mtime are unchanged.
 * Vite's hashed files under /assets/ are immutable for a year; everything
 * else (index.html first) is "no-cache": revalidated with If-None-Match,
 * answered 304 when unchanged.
 *
 * SPA: a missing path without an extension ("/machines/aa:bb") gets
 * index.html so client-side routes survive a reload; a missing "/x.js" is
 * a real 404. A missing or unbuilt www_dir gets a page saying how to build
 * it, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "http_internal.h"

#define STATIC_CACHE_FILE_MAX  (8 * 1024 * 1024)  /* larger files stream from disk */
#define STATIC_CACHE_TOTAL_MAX (64 * 1024 * 1024) /* then new files are not cached */
#define STATIC_GZIP_MIN        256                /* smaller files are sent as is */

#define CC_IMMUTABLE "public, max-age=31536000, immutable"
#define CC_REVALIDATE "no-cache"

/* One cached file; immutable once in the list (replaced, never edited). */
struct static_entry {
    struct static_entry *next;
    char *path;             /* realpath */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char *data;
    size_t len;
    char *gz;               /* NULL when not worth it */
    size_t gz_len;
    char etag[24];          /* "\"<16 hex>\"" */
    char etag_gz[28];       /* "\"<16 hex>-gz\"" */
    const char *mime;
};

struct http_static {
    char root[PATH_MAX];        /* as configured */
    pthread_mutex_t lock;       /* guards entries and total */
    struct static_entry *entries;
    size_t total;
};

static const char static_missing_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>PerfLoad: dashboard not built</title>"
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42em;margin:3em auto;padding:0 1em}"
    "code{background:#eee;padding:.1em .3em}</style></head><body>\n"
    "<h1>The PerfLoad dashboard has not been built</h1>\n"
    "<p>The appliance is running, but it found no <code>index.html</code> in its dashboard "
    "directory:</p>\n<p><code>%s</code></p>\n"
    "<p>Build the dashboard in the source tree with <code>make www</code> (or plain "
    "<code>make</code>, which builds everything), then reload this page. To serve a dashboard "
    "built elsewhere, start the appliance with <code>--www DIR</code> or set "
    "<code>PERFLOAD_WWW_DIR</code>.</p>\n"
    "<p>Meanwhile the API works: <a href=\"/api/config\">/api/config</a>, "
    "<a href=\"/healthz\">/healthz</a>, <a href=\"/metrics\">/metrics</a>.</p>\n"
    "</body></html>\n";

static void static_entry_free(struct static_entry *e)
{
    if (!e)
        return;
    free(e->path);
    free(e->data);
    free(e->gz);
    free(e);
}

struct http_static *http_static_create(const char *www_dir)
{
    struct http_static *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    snprintf(st->root, sizeof(st->root), "%s", www_dir ? www_dir : "");
    pthread_mutex_init(&st->lock, NULL);
    return st;
}

void http_static_destroy(struct http_static *st)
{
    if (!st)
        return;
    struct static_entry *e = st->entries, *next;
    for (; e; e = next) {
        next = e->next;
        static_entry_free(e);
    }
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static uint64_t static_fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* gzip of data, or NULL when zlib fails or it does not save >= 10%. */
static char *static_gzip(const char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, len);
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || *out_len >= len - len / 10) {
        free(out);
        return NULL;
    }
    return out;
}

static int static_same_file(const struct static_entry *e, const struct stat *sb)
{
    return e->dev == sb->st_dev && e->ino == sb->st_ino && e->size == sb->st_size
        && e->mtime.tv_sec == sb->st_mtim.tv_sec && e->mtime.tv_nsec == sb->st_mtim.tv_nsec;
}

/* Reads fd (size bytes) into a new entry. NULL on a read error or OOM. */
static struct static_entry *static_load(const char *real, int fd, const struct stat *sb)
{
    struct static_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->path = strdup(real);
    e->data = malloc(sb->st_size > 0 ? (size_t)sb->st_size : 1);
    if (!e->path || !e->data)
        goto fail;
    size_t got = 0;
    while (got < (size_t)sb->st_size) {
        ssize_t r = read(fd, e->data + got, (size_t)sb->st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto fail;      /* error, or the file shrank under us */
        got += (size_t)r;
    }
    e->len = got;
    e->dev = sb->st_dev;
    e->ino = sb->st_ino;
    e->size = sb->st_size;
    e->mtime = sb->st_mtim;
    e->mime = hp_mime_type(real);
    uint64_t h = static_fnv1a(e->data, e->len);
    snprintf(e->etag, sizeof(e->etag), "\"%016llx\"", (unsigned long long)h);
    snprintf(e->etag_gz, sizeof(e->etag_gz), "\"%016llx-gz\"", (unsigned long long)h);
    if (e->len >= STATIC_GZIP_MIN && hp_mime_compressible(e->mime))
        e->gz = static_gzip(e->data, e->len, &e->gz_len);
    return e;
fail:
    static_entry_free(e);
    return NULL;
}

/* 1 when If-None-Match lists etag (or is "*"); weak validators match too. */
static int static_not_modified(struct MHD_Connection *conn, const char *etag)
{
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (!inm)
        return 0;
    size_t el = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!strncmp(p, "W/", 2))
            p += 2;
        if (*p == '*')
            return 1;
        if (!strncmp(p, etag, el) && (p[el] == '\0' || p[el] == ',' || p[el] == ' '))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

/* Answers from a cached entry: 304, gzip or identity. */
static enum MHD_Result static_reply(struct MHD_Connection *conn, const struct static_entry *e,
                                    const char *cache_control)
{
    const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_ACCEPT_ENCODING);
    int gz = e->gz && hp_accepts_gzip(ae);
    const char *etag = gz ? e->etag_gz : e->etag;
    unsigned status = MHD_HTTP_OK;
    struct MHD_Response *resp;

    if (static_not_modified(conn, etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(gz ? e->gz_len : e->len, gz ? e->gz : e->data,
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp)
        return MHD_NO;
    if (status == MHD_HTTP_OK) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, e->mime);
        if (gz)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
    if (e->gz)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Serves a file too large to cache straight from its fd (takes fd). */
static enum MHD_Result static_stream(struct MHD_Connection *conn, int fd, const struct stat *sb,
                                     const char *real, const char *cache_control)
{
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)sb->st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, hp_mime_type(real));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum static_found { SF_OK, SF_MISSING, SF_FORBIDDEN, SF_ERROR };

/* Serves the file at real (already checked to be under the root). */
static enum MHD_Result static_serve_real(struct http_static *st, struct MHD_Connection *conn,
                                         const char *real, const char *cache_control)
{
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return http_send_text(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", NULL,
                              "not found\n", 10);
    }
    if (sb.st_size > STATIC_CACHE_FILE_MAX)
        return static_stream(conn, fd, &sb, real, cache_control);

    pthread_mutex_lock(&st->lock);
    struct static_entry **pp = &st->entries, *e;
    for (e = st->entries; e; pp = &e->next, e = e->next)
        if (!strcmp(e->path, real))
            break;
    if (e && static_same_file(e, &sb)) {
        enum MHD_Result rc = static_reply(conn, e, cache_control);  /* copies: safe under lock */
        pthread_mutex_unlock(&st->lock);
        close(fd);
        return rc;
    }
    if (e) {                    /* changed on disk: drop the stale copy */
        *pp = e->next;
        st->total -= e->len + e->gz_len;
        static_entry_free(e);
    }
    struct static_entry *fresh = static_load(real, fd, &sb);
    close(fd);
    if (!fresh) {
        pthread_mutex_unlock(&st->lock);
        return http_send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
                              NULL, "cannot read file\n", 17);
    }
    enum MHD_Result rc = static_reply(conn, fresh, cache_control);
    if (st->total + fresh->len + fresh->gz_len <= STATIC_CACHE_TOTAL_MAX) {
        fresh->next = st->entries;
        st->entries = fresh;
        st->total += fresh->len + fresh->gz_len;
    } else {
        static_entry_free(fresh);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* Resolves root + rel into real and checks it stays under root_real. */
static enum static_found static_resolve(const char *root_real, const char *rel, char *real)
{
    char joined[PATH_MAX + HP_PATH_MAX];
    snprintf(joined, sizeof(joined), "%s%s", root_real, rel);
    if (!realpath(joined, real))
        return errno == ENOENT || errno == ENOTDIR ? SF_MISSING : SF_ERROR;
    size_t rl = strlen(root_real);
    if (strncmp(real, root_real, rl) || (real[rl] != '/' && real[rl] != '\0'))
        return SF_FORBIDDEN;
    return SF_OK;
}

enum MHD_Result http_static_handle(struct http_static *st, struct MHD_Connection *conn,
                                   const struct http_request *req)
{
    static const char text[] = "text/plain; charset=utf-8";
    char root_real[PATH_MAX], real[PATH_MAX], index[PATH_MAX];

    if (req->path_rc == HP_FORBIDDEN)
        return http_send_text(conn, MHD_HTTP_FORBIDDEN, text, NULL, "forbidden\n", 10);
    if (req->path_rc != HP_OK)
        return http_send_text(conn, MHD_HTTP_BAD_REQUEST, text, NULL, "bad request path\n", 17);

    /* Resolved per request: the dashboard may be built after we start. */
    int have_root = realpath(st->root, root_real) != NULL;
    if (have_root && !strcmp(root_real, "/"))
        root_real[0] = '\0';    /* "/" as root: "" + "/x" below */
    if (!have_root || static_resolve(root_real, "/index.html", index) != SF_OK) {
        char page[sizeof(static_missing_page) + PATH_MAX];
        int n = snprintf(page, sizeof(page), static_missing_page, st->root);
        return http_send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/html; charset=utf-8",
                              CC_REVALIDATE, page, (size_t)n < sizeof(page) ? (size_t)n : 0);
    }

    const char *path = req->path;
    if (!strcmp(path, "/") || !strcmp(path, "/index.html"))
        return static_serve_real(st, conn, index, CC_REVALIDATE);
    if (hp_has_hidden_segment(path))
        return http_send_text(conn, MHD_HTTP_NOT_FOUND, text, NULL, "not found\n", 10);

    enum static_found f = static_resolve(root_real, path, real);
    struct stat sb;
    if (f == SF_FORBIDDEN)
        return http_send_text(conn, MHD_HTTP_FORBIDDEN, text, NULL, "forbidden\n", 10);
    if (f == SF_OK && stat(real, &sb) == 0 && S_ISREG(sb.st_mode)) {
        int hashed = !strncmp(path, "/assets/", 8);
        return static_serve_real(st, conn, real, hashed ? CC_IMMUTABLE : CC_REVALIDATE);
    }
    /* Missing (or a directory): client-side routes get the app. */
    if (!hp_has_extension(path) && strncmp(path, "/assets/", 8))
        return static_serve_real(st, conn, index, CC_REVALIDATE);
    return http_send_text(conn, MHD_HTTP_NOT_FOUND, text, NULL, "not found\n", 10);
}
