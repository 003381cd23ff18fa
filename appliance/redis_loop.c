/* redis_loop.c -- hiredis async on the libwebsockets loop (see redis_loop.h).
 *
 * Teardown has one path: whatever ends a link (read error, EOF, failed
 * connect, lws closing the fd, redis_loop_reset, destroy) ends in hiredis
 * freeing its context, which calls our cleanup hook (detach the wsi) and
 * then onDisconnect -- or, for a failed connect, onConnect(error) only.
 * Both land in rl_lost(), which logs, counts and schedules the reconnect. */
#include "redis_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "decimal.h"
#include "plog.h"
#include "redis_url.h"
#include "stats.h"

#define RL_BACKOFF_MIN_MS 100
#define RL_BACKOFF_MAX_MS 1000
#define RL_PING_EVERY_MS  1000
#define RL_PING_LATE_MS   5000
#define RL_CONNECT_MS     5000   /* connect + AUTH/SELECT must be done by then */
#define RL_PROBE_BUF      512    /* probe replies kept at a time */
#define RL_OBUF_KEEP      (256u << 10)   /* an output buffer this big is kept for reuse */

struct rl_resolve;

struct redis_loop {
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct redis_url url;
    char who[64];
    char name[32];
    char where[REDIS_URL_HOST_MAX + 32];   /* url without credentials, for logs */
    void (*on_up)(struct redis_loop *, void *);
    void (*on_down)(struct redis_loop *, void *);
    void *user;
    struct worker_stats *stats;
    int log_level;

    redisAsyncContext *ac;    /* hiredis's, NULL when no link; freed by hiredis */
    struct lws *wsi;          /* the adopted dup of ac's fd; NULL when detached */
    int connected;            /* connected and set up (AUTH, SELECT), no loss since */
    unsigned epoch;           /* bumped each time the link comes up; never 0 once up */
    int setup_pending;        /* AUTH/SELECT replies still to come */
    int in_wsi_callback;      /* inside an lws callback of wsi: close by returning -1 */
    int stopping;             /* destroy in progress: no reconnect, no on_down */
    int backoff_ms;
    int down_logged;          /* the outage was logged (once per outage) */
    long long down_since_ms;
    char reset_reason[96];    /* why redis_loop_reset dropped the link */
    lws_sorted_usec_list_t sul_retry;
    int watchdog;
    int quiet;                /* outage lines at debug level (another link logs them) */
    int64_t ping_sent_ms;     /* a PING awaits its reply since then; 0 = none */
    int obuf_full_logged;
    lws_sorted_usec_list_t sul_watchdog;
    lws_sorted_usec_list_t sul_connect;
    struct rl_resolve *resolve;   /* host name lookup in flight, NULL when none */
    lws_sorted_usec_list_t sul_resolve;
    char *fmt;                      /* RESP encoding scratch (redis_loop_command_argv) */
    size_t fmt_cap;
    int write_requested;      /* lws_callback_on_writable() done, WRITEABLE not yet seen */
    int turn_flush;           /* the owner calls redis_loop_flush() every loop turn */
    int flush_pending;        /* commands queued since the last flush */
    /* CLIENT REPLY OFF (redis_loop_command_noreply), per connection: */
    int probing;              /* the probe's replies are read here, not by hiredis */
    char probe_expect[64];    /* what a server honouring CLIENT REPLY answers */
    size_t probe_expect_len;
    char probe_buf[RL_PROBE_BUF];
    size_t probe_len;
    int probe_long;           /* more came than fits: not the honouring answer */
    int reply_off_ok;         /* the probe showed this server honours CLIENT REPLY OFF */
    int replies_off;          /* CLIENT REPLY OFF is the last mode switch queued */
};

static void rl_log(const struct redis_loop *rl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rl_log(const struct redis_loop *rl, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (level > rl->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    plog(rl->log_level, level, rl->who, "%s: %s", rl->name, msg);
}

static void rl_connect(struct redis_loop *rl);
static int rl_queue(struct redis_loop *rl, redisCallbackFn *fn, void *privdata, int argc,
                    const char **argv, const size_t *argvlen);

static void rl_retry_cb(lws_sorted_usec_list_t *sul)
{
    struct redis_loop *rl = lws_container_of(sul, struct redis_loop, sul_retry);
    if (!rl->stopping && rl->ac == NULL && rl->resolve == NULL)
        rl_connect(rl);
}

static void rl_schedule_retry(struct redis_loop *rl)
{
    if (rl->stopping)
        return;
    lws_sul_schedule(rl->ctx, 0, &rl->sul_retry, rl_retry_cb,
                     (lws_usec_t)rl->backoff_ms * LWS_US_PER_MS);
    rl->backoff_ms *= 2;
    if (rl->backoff_ms > RL_BACKOFF_MAX_MS)
        rl->backoff_ms = RL_BACKOFF_MAX_MS;
}

/* The link is gone (the context is being or has been freed by hiredis). */
static void rl_lost(struct redis_loop *rl, const char *why)
{
    int was_up = rl->connected;

    rl->ac = NULL;
    rl->connected = 0;
    rl->probing = 0;
    rl->reply_off_ok = 0;
    rl->replies_off = 0;
    if (rl->stopping)
        return;
    if (rl->stats != NULL)
        atomic_fetch_add(&rl->stats->redis_errors, 1);
    if (!rl->down_logged) {
        rl_log(rl, rl->quiet ? 3 : 1, "%s %s: %s; retrying in the background",
               was_up ? "lost" : "cannot reach",
               rl->where, rl->reset_reason[0] ? rl->reset_reason : why);
        rl->down_logged = 1;
        rl->down_since_ms = plog_wall_ms();
    }
    rl->reset_reason[0] = '\0';
    if (was_up && rl->on_down != NULL)
        rl->on_down(rl, rl->user);
    rl_schedule_retry(rl);
}

/* -- hiredis event hooks -------------------------------------------------- */

static void rl_ev_nop(void *privdata)
{
    (void)privdata;
}

/* Asks lws for a WRITEABLE: once per loop turn is enough
 * (lws_callback_on_writable is a few hundred instructions, and a POLLOUT
 * toggled on and off is two epoll_ctl calls). */
static void rl_request_writeable(struct redis_loop *rl)
{
    if (rl->wsi != NULL && !rl->write_requested) {
        rl->write_requested = 1;
        lws_callback_on_writable(rl->wsi);
    }
}

/* hiredis asks for this after every command it queues. A turn_flush link
 * once connected leaves it to redis_loop_flush() at the end of the turn:
 * the socket almost always takes the bytes at once, so no POLLOUT, no
 * extra wake-up. */
static void rl_ev_add_write(void *privdata)
{
    struct redis_loop *rl = privdata;
    if (rl->turn_flush && rl->ac != NULL && (rl->ac->c.flags & REDIS_CONNECTED)) {
        rl->flush_pending = 1;
        return;
    }
    rl_request_writeable(rl);
}

/* hiredis is freeing the context: let go of the wsi (lws closes the dup). */
static void rl_ev_cleanup(void *privdata)
{
    struct redis_loop *rl = privdata;
    struct lws *wsi = rl->wsi;

    if (wsi == NULL)
        return;
    rl->wsi = NULL;
    lws_set_opaque_user_data(wsi, NULL);
    if (!rl->in_wsi_callback)
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Connected, authenticated, on the right db and probed: ready for the owner. */
static void rl_ready_finish(struct redis_loop *rl)
{
    lws_sul_cancel(&rl->sul_connect);
    rl->connected = 1;
    if (++rl->epoch == 0)
        rl->epoch = 1;
    rl->backoff_ms = RL_BACKOFF_MIN_MS;
    if (rl->down_logged) {
        rl_log(rl, rl->quiet ? 3 : 2, "connected to %s again after %lld ms", rl->where,
               (long long)(plog_wall_ms() - rl->down_since_ms));
        rl->down_logged = 0;
    } else {
        rl_log(rl, 3, "connected to %s", rl->where);
    }
    if (rl->on_up != NULL)
        rl->on_up(rl, rl->user);
}

/* -- the CLIENT REPLY probe ----------------------------------------------------
 * redis_loop_command_noreply sends commands under CLIENT REPLY OFF, and
 * hiredis 0.14 aborts (assert) on a reply it has no callback for. So before
 * the link is up, OFF is tried on this very connection: CLIENT REPLY OFF,
 * PING, CLIENT REPLY ON, ECHO <token>. A server that honours it answers
 * exactly "+OK" (the ON) and the token; any other answer (an old Redis, a
 * proxy, a look-alike) still ends with the token, so the stream is in step
 * again, and that connection simply never switches replies off. The replies
 * are read here, bypassing hiredis, whose callback queue is empty then. */

static void rl_probe_start(struct redis_loop *rl)
{
    char token[32], cmd[160];
    int tn = snprintf(token, sizeof(token), "perfload-probe-%u", rl->epoch + 1);
    int n = snprintf(cmd, sizeof(cmd),
                     "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n"
                     "*1\r\n$4\r\nPING\r\n"
                     "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n"
                     "*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n", tn, token);
    int en = snprintf(rl->probe_expect, sizeof(rl->probe_expect), "+OK\r\n$%d\r\n%s\r\n", tn,
                      token);
    rl->probe_expect_len = (size_t)en;
    rl->probe_len = 0;
    rl->probe_long = 0;
    rl->probing = 1;
    if (redisAppendFormattedCommand(&rl->ac->c, cmd, (size_t)n) != REDIS_OK) {
        redis_loop_reset(rl, "out of memory");
        return;
    }
    rl_ev_add_write(rl);
}

/* Readable while probing: collect until the answer ends with the ECHO. */
static void rl_probe_read(struct redis_loop *rl)
{
    const char *tail = rl->probe_expect + 5;   /* the ECHO reply, after "+OK\r\n" */
    size_t tail_len = rl->probe_expect_len - 5;
    ssize_t n = recv(rl->ac->c.fd, rl->probe_buf + rl->probe_len,
                     sizeof(rl->probe_buf) - rl->probe_len, 0);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        redis_loop_reset(rl, n == 0 ? "connection closed" : strerror(errno));
        return;
    }
    if (n < 0)
        return;
    rl->probe_len += (size_t)n;
    if (rl->probe_len < tail_len ||
        memcmp(rl->probe_buf + rl->probe_len - tail_len, tail, tail_len) != 0) {
        if (rl->probe_len == sizeof(rl->probe_buf)) {
            /* Long error texts: keep only what may start the ECHO reply. */
            memmove(rl->probe_buf, rl->probe_buf + rl->probe_len - (tail_len - 1), tail_len - 1);
            rl->probe_len = tail_len - 1;
            rl->probe_long = 1;
        }
        return;
    }
    rl->probing = 0;
    rl->reply_off_ok = !rl->probe_long && rl->probe_len == rl->probe_expect_len &&
                       memcmp(rl->probe_buf, rl->probe_expect, rl->probe_len) == 0;
    rl_log(rl, 3, "%s", rl->reply_off_ok ? "CLIENT REPLY OFF available"
                                         : "no CLIENT REPLY OFF: every command is answered");
    rl_ready_finish(rl);
}

static void rl_ready(struct redis_loop *rl)
{
    rl_probe_start(rl);
}

/* AUTH and SELECT replies: an error makes the link useless. */
static void rl_setup_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_loop *rl = ac->data;
    redisReply *reply = r;
    const char *what = privdata;

    if (reply == NULL)
        return;   /* the link went away meanwhile */
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[96];
        snprintf(why, sizeof(why), "%s refused: %.60s", what, reply->str);
        redis_loop_reset(rl, why);
        return;
    }
    if (--rl->setup_pending == 0)
        rl_ready(rl);
}

/* Queues AUTH and SELECT; rl_setup_reply reports up after the last one. */
static void rl_setup(struct redis_loop *rl)
{
    const char *argv[3];
    size_t argvlen[3];
    int argc = 0;

    if (rl->url.password[0] != '\0') {
        argv[argc++] = "AUTH";
        if (rl->url.user[0] != '\0')
            argv[argc++] = rl->url.user;
        argv[argc++] = rl->url.password;
        for (int i = 0; i < argc; i++)
            argvlen[i] = strlen(argv[i]);
        redisAsyncCommandArgv(rl->ac, rl_setup_reply, "AUTH", argc, argv, argvlen);
    }
    if (rl->url.db > 0)
        redisAsyncCommand(rl->ac, rl_setup_reply, "SELECT", "SELECT %d", rl->url.db);
}

static void rl_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_loop *rl = ac->data;

    if (status != REDIS_OK) {
        /* hiredis 0.14 frees the context right after this without calling
         * onDisconnect: drop our pointer here. */
        rl_lost(rl, ac->errstr[0] ? ac->errstr : "connect failed");
        return;
    }
    /* Until AUTH and SELECT succeed the link is not up: a refused password
     * then counts as one long outage (one log line), retried with backoff. */
    rl->setup_pending = (rl->url.password[0] != '\0') + (rl->url.db > 0);
    if (rl->setup_pending == 0)
        rl_ready(rl);
    else
        rl_setup(rl);
}

static void rl_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_loop *rl = ac->data;
    rl_lost(rl, status == REDIS_OK ? "connection closed" : (ac->errstr[0] ? ac->errstr : "I/O error"));
}

/* -- watchdog ------------------------------------------------------------------ */

static void rl_on_pong(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_loop *rl = privdata;
    rl->ping_sent_ms = 0;
}

/* A Redis that accepts bytes but never answers (SIGSTOP, a half-open
 * connection) would hold the link "up" forever while commands pile up. */
static void rl_watchdog_cb(lws_sorted_usec_list_t *sul)
{
    struct redis_loop *rl = lws_container_of(sul, struct redis_loop, sul_watchdog);
    int64_t now = plog_wall_ms();

    if (rl->stopping)
        return;
    if (rl->connected && rl->ac != NULL) {
        if (rl->ping_sent_ms != 0 && now - rl->ping_sent_ms > RL_PING_LATE_MS) {
            rl->ping_sent_ms = 0;
            redis_loop_reset(rl, "no reply for 5 s");
        } else if (rl->ping_sent_ms == 0) {
            /* Not bounded by the obuf limit: a full buffer is what a hung
             * Redis causes, and the PING is what notices it. */
            const char *argv[1] = { "PING" };
            const size_t argvlen[1] = { 4 };
            if (rl_queue(rl, rl_on_pong, rl, 1, argv, argvlen) == 0)
                rl->ping_sent_ms = now;
        }
    }
    lws_sul_schedule(rl->ctx, 0, &rl->sul_watchdog, rl_watchdog_cb,
                     (lws_usec_t)RL_PING_EVERY_MS * LWS_US_PER_MS);
}

/* -- the lws side ---------------------------------------------------------- */

/* Writeable. hiredis 0.14 frees its output buffer after each complete
 * write and grows a new one from empty with the next commands: a realloc
 * or two per loop turn, ~2,500 instructions per sample in callgrind. Once
 * connected, the buffer is written here and kept (up to RL_OBUF_KEEP). */
static void rl_write(struct redis_loop *rl)
{
    redisContext *c = &rl->ac->c;

    if (!(c->flags & REDIS_CONNECTED) || c->err) {
        redisAsyncHandleWrite(rl->ac);   /* the connect completing, or an error to report */
        return;
    }
    size_t len = sdslen(c->obuf);
    if (len == 0)
        return;
    ssize_t n = write(c->fd, c->obuf, len);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            redis_loop_reset(rl, strerror(errno));
        return;
    }
    if ((size_t)n < len) {
        sdsrange(c->obuf, n, -1);
    } else if (sdsalloc(c->obuf) > RL_OBUF_KEEP) {
        sds fresh = sdsempty();
        if (fresh != NULL) {
            sdsfree(c->obuf);
            c->obuf = fresh;
        } else {
            sdsclear(c->obuf);
        }
    } else {
        sdsclear(c->obuf);
    }
}

static int rl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct redis_loop *rl = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        if (rl == NULL || rl->wsi != wsi)
            return -1;
        rl->in_wsi_callback = 1;
        if (reason == LWS_CALLBACK_RAW_WRITEABLE_FILE) {
            /* A request made while lws runs this callback may be lost, so
             * the flag is settled after it: ask again while bytes remain. */
            rl->write_requested = 1;
            rl_write(rl);
            rl->write_requested = 0;
            if (rl->wsi == wsi && rl->ac != NULL && rl->ac->c.obuf != NULL &&
                sdslen(rl->ac->c.obuf) > 0)
                rl_request_writeable(rl);
        } else if (rl->probing) {
            rl_probe_read(rl);
        } else {
            redisAsyncHandleRead(rl->ac);
        }
        /* hiredis may have freed the link (and detached wsi) meanwhile:
         * rl itself is still valid, it is never freed from a callback. */
        rl->in_wsi_callback = 0;
        return rl->wsi == wsi ? 0 : -1;

    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* lws closed the fd on its own (hangup/error) while hiredis still
         * has the link: free it so callbacks and reconnect follow. */
        if (rl != NULL && rl->wsi == wsi) {
            rl->wsi = NULL;
            lws_set_opaque_user_data(wsi, NULL);
            if (rl->ac != NULL) {
                snprintf(rl->reset_reason, sizeof(rl->reset_reason), "connection hung up");
                redisAsyncFree(rl->ac);
            }
        }
        return 0;

    default:
        return 0;
    }
}

static const struct lws_protocols rl_protocol = {
    .name = "perfload-redis",
    .callback = rl_callback,
};

const struct lws_protocols *redis_loop_protocol(void)
{
    return &rl_protocol;
}

/* hiredis 0.14 has no connect timeout: a SYN into the void, or a Redis
 * that accepts but never answers AUTH, would leave the link connecting
 * forever. */
static void rl_connect_timeout_cb(lws_sorted_usec_list_t *sul)
{
    struct redis_loop *rl = lws_container_of(sul, struct redis_loop, sul_connect);
    if (!rl->stopping && rl->ac != NULL && !rl->connected)
        redis_loop_reset(rl, "connect timed out after 5 s");
}

/* Starts one connection attempt to the unix socket, or to `ip` (an
 * address literal: hiredis then does no DNS); on any failure schedules the
 * next attempt. */
static void rl_connect_to(struct redis_loop *rl, const char *ip)
{
    redisAsyncContext *ac;

    if (rl->url.is_unix)
        ac = redisAsyncConnectUnix(rl->url.path);
    else
        ac = redisAsyncConnect(ip, rl->url.port);
    if (ac == NULL) {
        rl_lost(rl, "out of memory");
        return;
    }
    if (ac->err) {
        char why[128];
        snprintf(why, sizeof(why), "%s", ac->errstr);
        redisAsyncFree(ac);
        rl_lost(rl, why);
        return;
    }

    int dupfd = fcntl(ac->c.fd, F_DUPFD_CLOEXEC, 0);
    lws_sock_file_fd_type fd;
    fd.filefd = dupfd;
    struct lws *wsi = dupfd < 0 ? NULL
                                : lws_adopt_descriptor_vhost(rl->vhost, LWS_ADOPT_RAW_FILE_DESC, fd,
                                                             rl_protocol.name, NULL);
    if (wsi == NULL) {
        /* lws closes the fd itself when adoption fails. */
        char why[96];
        snprintf(why, sizeof(why), "cannot add the fd to the event loop (%s)",
                 dupfd < 0 ? strerror(errno) : "lws refused");
        redisAsyncFree(ac);
        rl_lost(rl, why);
        return;
    }
    lws_set_opaque_user_data(wsi, rl);
    /* Notices a peer that vanished without a FIN (host down, cable cut).
     * TCP only: on a unix socket it fails and hiredis then marks the
     * context as errored. */
    if (!rl->url.is_unix)
        redisEnableKeepAlive(&ac->c);

    rl->ac = ac;
    rl->ping_sent_ms = 0;
    rl->wsi = wsi;
    rl->write_requested = 1;   /* just below */
    ac->data = rl;
    ac->ev.data = rl;
    ac->ev.addRead = rl_ev_nop;   /* lws always polls a RAW_FILE for input */
    ac->ev.delRead = rl_ev_nop;
    ac->ev.addWrite = rl_ev_add_write;
    ac->ev.delWrite = rl_ev_nop;  /* lws asks for writeable once per request */
    ac->ev.cleanup = rl_ev_cleanup;
    redisAsyncSetConnectCallback(ac, rl_on_connect);
    redisAsyncSetDisconnectCallback(ac, rl_on_disconnect);
    /* The connect completes when the socket is writeable. */
    lws_callback_on_writable(wsi);
    lws_sul_schedule(rl->ctx, 0, &rl->sul_connect, rl_connect_timeout_cb,
                     (lws_usec_t)RL_CONNECT_MS * LWS_US_PER_MS);
}

/* -- host names ----------------------------------------------------------------
 * getaddrinfo() blocks (a DNS server away, seconds when it is down), and
 * hiredis calls it on every connect. A name is therefore resolved on a
 * short-lived thread, and the loop connects to the address it found. The
 * job is shared: whoever of the thread and the loop comes second frees it. */

#define RL_RESOLVE_RUNNING   0
#define RL_RESOLVE_DONE      1
#define RL_RESOLVE_ABANDONED 2
#define RL_RESOLVE_POLL_MS   20

struct rl_resolve {
    _Atomic int state;
    char host[REDIS_URL_HOST_MAX];
    char ip[INET6_ADDRSTRLEN];   /* "" when the lookup failed */
    char err[128];
};

static void *rl_resolve_main(void *arg)
{
    struct rl_resolve *job = arg;
    struct addrinfo hints, *res = NULL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(job->host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(job->err, sizeof(job->err), "cannot resolve %.60s: %s", job->host, gai_strerror(rc));
    } else {
        /* IPv4 first when there is one: what a container network offers. */
        const struct addrinfo *pick = res;
        for (const struct addrinfo *a = res; a != NULL; a = a->ai_next)
            if (a->ai_family == AF_INET) {
                pick = a;
                break;
            }
        const void *addr = pick->ai_family == AF_INET
                               ? (const void *)&((const struct sockaddr_in *)pick->ai_addr)->sin_addr
                               : (const void *)&((const struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
        if (inet_ntop(pick->ai_family, addr, job->ip, sizeof(job->ip)) == NULL)
            snprintf(job->err, sizeof(job->err), "cannot resolve %.60s: %s", job->host, strerror(errno));
        freeaddrinfo(res);
    }
    int expected = RL_RESOLVE_RUNNING;
    if (!atomic_compare_exchange_strong(&job->state, &expected, RL_RESOLVE_DONE))
        free(job);   /* the loop let go of it */
    return NULL;
}

/* Lets go of a lookup in flight (destroy); the thread frees it if running. */
static void rl_resolve_abandon(struct redis_loop *rl)
{
    struct rl_resolve *job = rl->resolve;
    if (job == NULL)
        return;
    rl->resolve = NULL;
    lws_sul_cancel(&rl->sul_resolve);
    int expected = RL_RESOLVE_RUNNING;
    if (!atomic_compare_exchange_strong(&job->state, &expected, RL_RESOLVE_ABANDONED))
        free(job);   /* already done: ours to free */
}

static void rl_resolve_poll_cb(lws_sorted_usec_list_t *sul)
{
    struct redis_loop *rl = lws_container_of(sul, struct redis_loop, sul_resolve);
    struct rl_resolve *job = rl->resolve;

    if (job == NULL || rl->stopping)
        return;
    if (atomic_load(&job->state) != RL_RESOLVE_DONE) {
        lws_sul_schedule(rl->ctx, 0, &rl->sul_resolve, rl_resolve_poll_cb,
                         (lws_usec_t)RL_RESOLVE_POLL_MS * LWS_US_PER_MS);
        return;
    }
    rl->resolve = NULL;
    char ip[INET6_ADDRSTRLEN], err[128];
    snprintf(ip, sizeof(ip), "%s", job->ip);
    snprintf(err, sizeof(err), "%s", job->err);
    free(job);
    if (ip[0] == '\0')
        rl_lost(rl, err);
    else
        rl_connect_to(rl, ip);
}

/* 1 when host is an IPv4 or IPv6 literal (no lookup needed). */
static int rl_is_address(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void rl_connect(struct redis_loop *rl)
{
    if (rl->url.is_unix || rl_is_address(rl->url.host)) {
        rl_connect_to(rl, rl->url.host);
        return;
    }
    struct rl_resolve *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        rl_lost(rl, "out of memory");
        return;
    }
    snprintf(job->host, sizeof(job->host), "%s", rl->url.host);
    pthread_attr_t attr;
    pthread_t tid;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&tid, &attr, rl_resolve_main, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(job);
        rl_lost(rl, "cannot start the name lookup thread");
        return;
    }
    rl->resolve = job;
    lws_sul_schedule(rl->ctx, 0, &rl->sul_resolve, rl_resolve_poll_cb,
                     (lws_usec_t)RL_RESOLVE_POLL_MS * LWS_US_PER_MS);
}

struct redis_loop *redis_loop_create(const struct redis_loop_options *opts)
{
    struct redis_loop *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->ctx = opts->ctx;
    rl->vhost = opts->vhost;
    rl->url = *opts->url;
    snprintf(rl->who, sizeof(rl->who), "%s", opts->who ? opts->who : "perfload");
    snprintf(rl->name, sizeof(rl->name), "%s", opts->name ? opts->name : "redis");
    redis_url_describe(&rl->url, rl->where, sizeof(rl->where));
    rl->on_up = opts->on_up;
    rl->on_down = opts->on_down;
    rl->user = opts->user;
    rl->stats = opts->stats;
    rl->log_level = opts->log_level;
    rl->backoff_ms = RL_BACKOFF_MIN_MS;
    rl->watchdog = opts->watchdog;
    rl->quiet = opts->quiet;
    rl->turn_flush = opts->turn_flush;
    rl_connect(rl);
    if (rl->watchdog)
        lws_sul_schedule(rl->ctx, 0, &rl->sul_watchdog, rl_watchdog_cb,
                         (lws_usec_t)RL_PING_EVERY_MS * LWS_US_PER_MS);
    return rl;
}

int redis_loop_up(const struct redis_loop *rl)
{
    return rl != NULL && rl->ac != NULL && rl->connected;
}

unsigned redis_loop_epoch(const struct redis_loop *rl)
{
    return redis_loop_up(rl) ? rl->epoch : 0;
}

redisAsyncContext *redis_loop_async(struct redis_loop *rl)
{
    return redis_loop_up(rl) ? rl->ac : NULL;
}

/* Writes "<c><v>\r\n" (a RESP array or bulk-string header); returns its length.
 * Counts and lengths are mostly 1-3 digits: those are written directly. */
static size_t rl_resp_count(char *out, char c, size_t v)
{
    size_t n = 0;

    out[n++] = c;
    if (v < 10) {
        out[n++] = (char)('0' + v);
    } else if (v < 100) {
        out[n++] = (char)('0' + v / 10);
        out[n++] = (char)('0' + v % 10);
    } else if (v < 1000) {
        out[n++] = (char)('0' + v / 100);
        out[n++] = (char)('0' + v / 10 % 10);
        out[n++] = (char)('0' + v % 10);
    } else {
        n += decimal_u64(out + n, v);
    }
    out[n++] = '\r';
    out[n++] = '\n';
    return n;
}

/* The obuf bound of every command but the watchdog's PING: 0, or -1 (full). */
static int rl_obuf_ok(struct redis_loop *rl)
{
    if (rl->ac->c.obuf != NULL && sdslen(rl->ac->c.obuf) > REDIS_LOOP_OBUF_MAX) {
        if (rl->stats != NULL)
            atomic_fetch_add(&rl->stats->redis_errors, 1);
        if (!rl->obuf_full_logged) {
            rl_log(rl, 1, "more than %u MB waiting for %s: dropping commands until it drains",
                   REDIS_LOOP_OBUF_MAX >> 20, rl->where);
            rl->obuf_full_logged = 1;
        }
        return -1;
    }
    rl->obuf_full_logged = 0;
    return 0;
}

/* Encodes the command as RESP into rl->fmt; its length in *n. 0, or -1 (memory).
 * hiredis 0.14 builds each command with sdscatfmt, about 5,000
 * instructions for a 6-argument HSET (a third of a sample's cost in
 * callgrind, docs/benchmarks.md); RESP is simple enough to write here into a
 * reused buffer. hiredis parses the result the same way either way
 * (SUBSCRIBE and friends included). */
static int rl_format(struct redis_loop *rl, int argc, const char **argv, const size_t *argvlen,
                     size_t *n_out)
{
    /* +1: hiredis scans the command with strchr() (nextArgument, for
     * SUBSCRIBE and friends), so the buffer must be NUL-terminated. */
    size_t need = 17;
    for (int i = 0; i < argc; i++)
        need += argvlen[i] + 24;
    if (need > rl->fmt_cap) {
        char *nb = realloc(rl->fmt, need);
        if (nb == NULL)
            return -1;
        rl->fmt = nb;
        rl->fmt_cap = need;
    }
    size_t n = rl_resp_count(rl->fmt, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        n += rl_resp_count(rl->fmt + n, '$', argvlen[i]);
        memcpy(rl->fmt + n, argv[i], argvlen[i]);
        n += argvlen[i];
        rl->fmt[n++] = '\r';
        rl->fmt[n++] = '\n';
    }
    rl->fmt[n] = '\0';
    *n_out = n;
    return 0;
}

static const char rl_reply_on[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n";
static const char rl_reply_off[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n";

/* Queues an answered command, switching replies back on first if needed
 * (its +OK goes to a callback entry of its own, so hiredis's queue stays in
 * step: one entry per reply). */
static int rl_queue(struct redis_loop *rl, redisCallbackFn *fn, void *privdata, int argc,
                    const char **argv, const size_t *argvlen)
{
    size_t n;

    if (rl->replies_off) {
        if (redisAsyncFormattedCommand(rl->ac, NULL, NULL, rl_reply_on, sizeof(rl_reply_on) - 1) !=
            REDIS_OK)
            return -1;
        rl->replies_off = 0;
    }
    if (rl_format(rl, argc, argv, argvlen, &n) != 0)
        return -1;
    return redisAsyncFormattedCommand(rl->ac, fn, privdata, rl->fmt, n) == REDIS_OK ? 0 : -1;
}

int redis_loop_command_argv(struct redis_loop *rl, redisCallbackFn *fn, void *privdata, int argc,
                            const char **argv, const size_t *argvlen)
{
    if (!redis_loop_up(rl) || rl_obuf_ok(rl) != 0)
        return -1;
    return rl_queue(rl, fn, privdata, argc, argv, argvlen);
}

int redis_loop_command_noreply(struct redis_loop *rl, redisCallbackFn *fn, void *privdata, int argc,
                               const char **argv, const size_t *argvlen)
{
    size_t n;

    if (!redis_loop_up(rl) || rl_obuf_ok(rl) != 0)
        return -1;
    if (!rl->reply_off_ok)
        return rl_queue(rl, fn, privdata, argc, argv, argvlen);
    if (rl_format(rl, argc, argv, argvlen, &n) != 0)
        return -1;
    /* No callback entry: Redis answers nothing while replies are off. */
    if (!rl->replies_off) {
        if (redisAppendFormattedCommand(&rl->ac->c, rl_reply_off, sizeof(rl_reply_off) - 1) !=
            REDIS_OK)
            return -1;
        rl->replies_off = 1;
    }
    if (redisAppendFormattedCommand(&rl->ac->c, rl->fmt, n) != REDIS_OK)
        return -1;
    rl_ev_add_write(rl);
    return 0;
}

void redis_loop_flush(struct redis_loop *rl)
{
    if (rl == NULL || !rl->flush_pending)
        return;
    rl->flush_pending = 0;
    if (rl->ac == NULL || rl->wsi == NULL || rl->write_requested)
        return;   /* gone, or a WRITEABLE is coming anyway */
    rl_write(rl);
    if (rl->ac != NULL && rl->ac->c.obuf != NULL && sdslen(rl->ac->c.obuf) > 0)
        rl_request_writeable(rl);   /* the kernel took part: the rest on WRITEABLE */
}

int redis_loop_check_due(long long *next_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now < *next_ms)
        return 0;
    *next_ms = now + REDIS_LOOP_CHECK_MS;
    return 1;
}

int redis_loop_replies_off(const struct redis_loop *rl)
{
    return redis_loop_up(rl) && rl->reply_off_ok;
}

void redis_loop_reset(struct redis_loop *rl, const char *why)
{
    if (rl == NULL || rl->ac == NULL)
        return;
    snprintf(rl->reset_reason, sizeof(rl->reset_reason), "%s", why);
    redisAsyncFree(rl->ac);
}

void redis_loop_destroy(struct redis_loop *rl)
{
    if (rl == NULL)
        return;
    rl->stopping = 1;
    lws_sul_cancel(&rl->sul_retry);
    lws_sul_cancel(&rl->sul_watchdog);
    lws_sul_cancel(&rl->sul_connect);
    rl_resolve_abandon(rl);
    if (rl->ac != NULL)
        redisAsyncFree(rl->ac);
    rl->ac = NULL;
    free(rl->fmt);
    free(rl);
}
