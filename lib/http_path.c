/* http_path.c -- see http_path.h. */
#include "http_path.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int hp_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Appends the decoded segment seg[0..n) to out at *o, or applies "."/"..". */
static int hp_segment(const char *seg, size_t n, char *out, size_t outlen, size_t *o)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return HP_OK;
    if (n == 2 && seg[0] == '.' && seg[1] == '.')
        return HP_FORBIDDEN;
    if (*o + 1 + n + 1 > outlen)
        return HP_BAD;
    out[(*o)++] = '/';
    memcpy(out + *o, seg, n);
    *o += n;
    return HP_OK;
}

static int hp_normalise_into(const char *raw, size_t len, char *out, size_t outlen)
{
    char seg[HP_PATH_MAX];
    size_t s = 0, o = 0;
    int rc = HP_OK;

    if (outlen == 0)
        return HP_BAD;
    out[0] = '\0';
    if (!raw || len == 0 || raw[0] != '/' || len >= HP_PATH_MAX * 3)
        return HP_BAD;
    for (size_t i = 1; i <= len && rc == HP_OK; i++) {
        int c;
        if (i == len || raw[i] == '/') {
            rc = hp_segment(seg, s, out, outlen, &o);
            s = 0;
            continue;
        }
        c = (unsigned char)raw[i];
        if (c == '%') {
            if (i + 2 >= len)
                return HP_BAD;
            int hi = hp_hex(raw[i + 1]), lo = hp_hex(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return HP_BAD;
            c = hi * 16 + lo;
            i += 2;
            if (c == '/' || c == '\\' || c == 0)
                return HP_FORBIDDEN;
        }
        if (c == '\\')
            return HP_FORBIDDEN;
        if (c < 0x20 || c == 0x7f)
            return HP_BAD;
        if (s + 1 >= sizeof(seg))
            return HP_BAD;
        seg[s++] = (char)c;
    }
    if (rc != HP_OK)
        return rc;
    if (o == 0)
        out[o++] = '/';
    if (o >= outlen)
        return HP_BAD;
    out[o] = '\0';
    return HP_OK;
}

int hp_normalise(const char *raw, size_t len, char *out, size_t outlen)
{
    int rc = hp_normalise_into(raw, len, out, outlen);
    if (rc != HP_OK && outlen > 0)
        out[0] = '\0';
    return rc;
}

int hp_has_hidden_segment(const char *path)
{
    for (const char *p = path; *p; p++)
        if (*p == '/' && p[1] == '.')
            return 1;
    return path[0] == '.';
}

int hp_has_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *last = slash ? slash + 1 : path;
    return strchr(last, '.') != NULL;
}

static const struct {
    const char *ext;
    const char *mime;
} hp_types[] = {
    { "html", "text/html; charset=utf-8" },
    { "htm", "text/html; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "json", "application/json; charset=utf-8" },
    { "map", "application/json; charset=utf-8" },
    { "webmanifest", "application/manifest+json; charset=utf-8" },
    { "txt", "text/plain; charset=utf-8" },
    { "xml", "application/xml; charset=utf-8" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" },
    { "gif", "image/gif" },
    { "webp", "image/webp" },
    { "avif", "image/avif" },
    { "ico", "image/x-icon" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { "ttf", "font/ttf" },
    { "otf", "font/otf" },
    { "wasm", "application/wasm" },
    { "pdf", "application/pdf" },
};

const char *hp_mime_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot && dot[1]) {
        for (size_t i = 0; i < sizeof(hp_types) / sizeof(hp_types[0]); i++)
            if (!strcasecmp(dot + 1, hp_types[i].ext))
                return hp_types[i].mime;
    }
    return "application/octet-stream";
}

int hp_mime_compressible(const char *mime)
{
    return !strncmp(mime, "text/", 5) || !strncmp(mime, "application/json", 16)
        || !strncmp(mime, "application/manifest+json", 25)
        || !strncmp(mime, "application/xml", 15) || !strncmp(mime, "image/svg+xml", 13)
        || !strncmp(mime, "application/wasm", 16);
}

/* One token of an Accept-Encoding list: "gzip", "gzip;q=0.5", " * ;q=0". */
static int hp_token_allows(const char *tok, size_t n, const char *name)
{
    size_t i = 0, nl = strlen(name);
    while (i < n && (tok[i] == ' ' || tok[i] == '\t'))
        i++;
    if (n - i < nl || strncasecmp(tok + i, name, nl))
        return 0;
    i += nl;
    while (i < n && (tok[i] == ' ' || tok[i] == '\t'))
        i++;
    if (i == n)
        return 1;
    if (tok[i] != ';')
        return 0;
    /* q=0, q=0.0, q=0.000 refuse; anything else allows. */
    const char *q = tok + i;
    const char *end = tok + n;
    for (; q < end; q++) {
        if ((*q == 'q' || *q == 'Q') && q + 1 < end && q[1] == '=') {
            q += 2;
            if (q < end && *q == '0') {
                q++;
                if (q < end && *q == '.')
                    q++;
                while (q < end && *q == '0')
                    q++;
                return !(q == end || *q == ' ' || *q == ';' || *q == '\t');
            }
            return 1;
        }
    }
    return 1;
}

int hp_accepts_gzip(const char *accept_encoding)
{
    int gzip = -1, star = -1;
    if (!accept_encoding)
        return 0;
    const char *p = accept_encoding;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *next = comma ? comma + 1 : p + n;
        const char *t = p;
        while (n && (*t == ' ' || *t == '\t')) {
            t++;
            n--;
        }
        if (n >= 4 && !strncasecmp(t, "gzip", 4) && (n == 4 || t[4] == ';' || t[4] == ' '))
            gzip = hp_token_allows(t, n, "gzip");
        else if (n >= 1 && t[0] == '*' && (n == 1 || t[1] == ';' || t[1] == ' '))
            star = hp_token_allows(t, n, "*");
        p = next;
    }
    if (gzip >= 0)
        return gzip;
    return star > 0;
}
