/* redis_url.h -- parse a Redis URL (--redis / PERFLOAD_REDIS_URL).
 *
 * Accepted forms:
 *   redis://[[user]:password@]host[:port][/db]    host may be [IPv6]
 *   unix:///path/to/redis.sock[?db=N][&password=P]
 * user and password may be percent-encoded (%40 for '@'). Defaults: port
 * 6379, db 0, no user, no password. rediss:// (TLS) is refused: the
 * hiredis on Debian bookworm has no TLS. Pure: no I/O, no allocation. */
#ifndef PERFLOAD_REDIS_URL_H
#define PERFLOAD_REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_HOST_MAX 256
#define REDIS_URL_PATH_MAX 108   /* sun_path */
#define REDIS_URL_CRED_MAX 256

struct redis_url {
    int is_unix;                      /* 1: path is set, host/port are not */
    char host[REDIS_URL_HOST_MAX];    /* without the [] of an IPv6 literal */
    int port;                         /* 1..65535 */
    char path[REDIS_URL_PATH_MAX];    /* unix socket path */
    char user[REDIS_URL_CRED_MAX];    /* "" = none (AUTH password only) */
    char password[REDIS_URL_CRED_MAX];/* "" = no AUTH */
    int db;                           /* SELECT db when > 0; 0..100000 */
};

/* Parses url into *out. Returns 0, or -1 with a one-line reason in err
 * (the reason never contains the password). */
int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen);

/* Writes a loggable description without credentials, e.g.
 * "127.0.0.1:6379 db 2" or "unix:/run/redis.sock db 0". Returns buf. */
const char *redis_url_describe(const struct redis_url *u, char *buf, size_t buflen);

#endif
