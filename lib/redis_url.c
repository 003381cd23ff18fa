/* redis_url.c -- parse redis:// and unix:// URLs (see redis_url.h). */
#include "redis_url.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ru_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ru_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int ru_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies src[0..len) into dst (size dstlen) decoding %XX. -1 when it does
 * not fit, a %-escape is malformed or decodes to NUL. */
static int ru_decode(const char *src, size_t len, char *dst, size_t dstlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = ru_hex(src[i + 1]), lo = ru_hex(src[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= dstlen)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

/* Parses a decimal integer in [min, max] from s[0..len). */
static int ru_int(const char *s, size_t len, long min, long max, int *out)
{
    long v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* user:password before '@' (user may be empty, ":password" is the usual). */
static int ru_credentials(const char *s, size_t len, struct redis_url *u, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', len);
    if (colon == NULL) {
        /* "redis://password@host" is what some tools write; treat as password. */
        if (ru_decode(s, len, u->password, sizeof(u->password)) != 0)
            return ru_fail(err, errlen, "redis URL: bad or too long password");
        return 0;
    }
    if (ru_decode(s, (size_t)(colon - s), u->user, sizeof(u->user)) != 0)
        return ru_fail(err, errlen, "redis URL: bad or too long user name");
    if (ru_decode(colon + 1, len - (size_t)(colon - s) - 1, u->password, sizeof(u->password)) != 0)
        return ru_fail(err, errlen, "redis URL: bad or too long password");
    return 0;
}

static int ru_parse_tcp(const char *p, struct redis_url *u, char *err, size_t errlen)
{
    const char *end = p + strcspn(p, "/?#");
    const char *at = NULL;

    /* The last '@' before the path ends the credentials: a password may
     * contain '@' only percent-encoded, but be lenient. */
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (at != NULL) {
        if (ru_credentials(p, (size_t)(at - p), u, err, errlen) != 0)
            return -1;
        p = at + 1;
    }

    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL)
            return ru_fail(err, errlen, "redis URL: unterminated [IPv6] host");
        if (host_end + 1 < end) {
            if (host_end[1] != ':')
                return ru_fail(err, errlen, "redis URL: junk after [IPv6] host");
            port = host_end + 2;
        }
    } else {
        host_end = memchr(host, ':', (size_t)(end - host));
        if (host_end != NULL)
            port = host_end + 1;
        else
            host_end = end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return ru_fail(err, errlen, "redis URL: host missing");
    if (hlen >= sizeof(u->host))
        return ru_fail(err, errlen, "redis URL: host too long");
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= ' ' || c >= 0x7f || c == '@' || c == '[' || c == ']' || c == '%')
            return ru_fail(err, errlen, "redis URL: bad character in host");
    }
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';

    if (port != NULL && ru_int(port, (size_t)(end - port), 1, 65535, &u->port) != 0)
        return ru_fail(err, errlen, "redis URL: port must be 1-65535");

    if (*end == '/') {
        const char *db = end + 1;
        size_t dblen = strcspn(db, "?#");
        if (dblen > 0 && ru_int(db, dblen, 0, 100000, &u->db) != 0)
            return ru_fail(err, errlen, "redis URL: db must be a number 0-100000");
        end = db + dblen;
    }
    if (*end != '\0')
        return ru_fail(err, errlen, "redis URL: unexpected '%.20s'", end);
    return 0;
}

/* unix:///path[?db=N][&password=P] (also unix:/path). */
static int ru_parse_unix(const char *p, struct redis_url *u, char *err, size_t errlen)
{
    if (strncmp(p, "//", 2) == 0)
        p += 2;
    if (*p != '/')
        return ru_fail(err, errlen, "redis URL: unix socket path must be absolute (unix:///path)");
    size_t plen = strcspn(p, "?#");
    if (plen >= sizeof(u->path))
        return ru_fail(err, errlen, "redis URL: unix socket path too long");
    memcpy(u->path, p, plen);
    u->path[plen] = '\0';
    p += plen;
    if (*p == '?') {
        p++;
        while (*p != '\0' && *p != '#') {
            size_t n = strcspn(p, "&#");
            if (n > 3 && strncmp(p, "db=", 3) == 0) {
                if (ru_int(p + 3, n - 3, 0, 100000, &u->db) != 0)
                    return ru_fail(err, errlen, "redis URL: db must be a number 0-100000");
            } else if (n > 9 && strncmp(p, "password=", 9) == 0) {
                if (ru_decode(p + 9, n - 9, u->password, sizeof(u->password)) != 0)
                    return ru_fail(err, errlen, "redis URL: bad or too long password");
            } else {
                return ru_fail(err, errlen, "redis URL: unknown parameter (db=, password=)");
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    if (*p != '\0')
        return ru_fail(err, errlen, "redis URL: unexpected fragment");
    u->is_unix = 1;
    return 0;
}

int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (url == NULL || out == NULL)
        return ru_fail(err, errlen, "redis URL: missing");
    memset(out, 0, sizeof(*out));
    out->port = 6379;

    if (strncmp(url, "redis://", 8) == 0)
        return ru_parse_tcp(url + 8, out, err, errlen);
    if (strncmp(url, "unix:", 5) == 0)
        return ru_parse_unix(url + 5, out, err, errlen);
    if (strncmp(url, "rediss://", 9) == 0)
        return ru_fail(err, errlen, "redis URL: rediss:// (TLS) is not supported by this build");
    return ru_fail(err, errlen, "redis URL must start with redis:// or unix://");
}

const char *redis_url_describe(const struct redis_url *u, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return "";
    if (u->is_unix)
        snprintf(buf, buflen, "unix:%s db %d", u->path, u->db);
    else if (strchr(u->host, ':') != NULL)
        snprintf(buf, buflen, "[%s]:%d db %d", u->host, u->port, u->db);
    else
        snprintf(buf, buflen, "%s:%d db %d", u->host, u->port, u->db);
    return buf;
}
