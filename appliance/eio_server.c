/* eio_server.c -- Engine.IO sessions: table, send queues, heartbeats,
 * closing. The lws callback that moves bytes is in eio_transport.c. */
#include "eio_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "eio_packet.h"
#include "ratelimit.h"
#include "stats.h"

_Static_assert(EIO_BUF_PRE >= LWS_PRE, "EIO_BUF_PRE must leave lws its headroom");

/* -- buffers ------------------------------------------------------------- */

struct eio_buf *eio_buf_new(size_t len, int binary)
{
    struct eio_buf *b = malloc(sizeof(*b) + EIO_BUF_PRE + len + 1);

    if (b == NULL)
        return NULL;
    b->refs = 1;
    b->binary = binary;
    b->len = len;
    b->data[EIO_BUF_PRE + len] = '\0';
    return b;
}

void eio_buf_ref(struct eio_buf *b)
{
    b->refs++;
}

void eio_buf_unref(struct eio_buf *b)
{
    if (b != NULL && --b->refs == 0)
        free(b);
}

/* -- server --------------------------------------------------------------- */

/* Info lines are what a peer can trigger at will (malformed packets, ping
 * timeouts, oversized messages): at most one a second, with the number
 * swallowed in between, so a flood of bad input cannot flood the log.
 * Errors, warnings and debug output (asked for explicitly) are not limited. */
static void eio_vlog(struct eio_server *srv, const char *who, int level, const char *fmt, va_list ap)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    uint64_t suppressed = 0;

    if (level > srv->o.log_level)
        return;
    if (level == 2) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (!rl_log_allow(&srv->info_log, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, 1000,
                          &suppressed))
            return;
    }
    fprintf(stderr, "%s %s: ", who, names[level < 0 ? 0 : level > 3 ? 3 : level]);
    vfprintf(stderr, fmt, ap);
    if (suppressed)
        fprintf(stderr, " (%llu similar lines suppressed)", (unsigned long long)suppressed);
    fputc('\n', stderr);
}

void eio_log(struct eio_server *srv, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    eio_vlog(srv, "eio", level, fmt, ap);
    va_end(ap);
}

void eio_server_log(struct eio_server *srv, const char *who, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    eio_vlog(srv, who, level, fmt, ap);
    va_end(ap);
}

void eio_count_error(struct eio_server *srv)
{
    srv->c.protocol_errors++;
    if (srv->o.stats)
        srv->o.stats->protocol_errors++;
}

void eio_server_count_protocol_error(struct eio_server *srv)
{
    eio_count_error(srv);
}

struct eio_server *eio_server_create(const struct eio_server_options *opts)
{
    struct eio_server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL)
        return NULL;
    if (opts)
        srv->o = *opts;
    if (srv->o.worker_name)
        snprintf(srv->worker_name, sizeof(srv->worker_name), "%s", srv->o.worker_name);
    srv->o.worker_name = srv->worker_name[0] ? srv->worker_name : NULL;
    return srv;
}

void eio_server_set_context(struct eio_server *srv, struct lws_context *ctx)
{
    srv->ctx = ctx;
    eio_timerq_set_context(&srv->tq_ping, ctx);
    eio_timerq_set_context(&srv->tq_pong, ctx);
    eio_timerq_set_context(&srv->tq_v3, ctx);
    eio_timerq_set_context(&srv->tq_close_now, ctx);
    eio_timerq_set_context(&srv->tq_close_grace, ctx);
}

struct lws_context *eio_server_context(const struct eio_server *srv)
{
    return srv->ctx;
}

struct eio_endpoint *eio_server_mount(struct eio_server *srv, const struct eio_endpoint_options *opts)
{
    struct eio_endpoint *ep;
    size_t n = opts->path ? strlen(opts->path) : 0;

    if (n == 0 || n >= sizeof(ep->path_buf) - 1 || opts->path[0] != '/')
        return NULL;
    ep = calloc(1, sizeof(*ep));
    if (ep == NULL)
        return NULL;
    ep->o = *opts;
    memcpy(ep->path_buf, opts->path, n);
    /* Match with and without the trailing slash: store it without. */
    while (n > 1 && ep->path_buf[n - 1] == '/')
        ep->path_buf[--n] = '\0';
    ep->path_len = n;
    ep->o.path = ep->path_buf;
    if (ep->o.ping_interval_ms <= 0) ep->o.ping_interval_ms = 25000;
    if (ep->o.ping_timeout_ms <= 0) ep->o.ping_timeout_ms = 20000;
    if (ep->o.max_payload == 0) ep->o.max_payload = 1000000;
    if (ep->o.send_queue_max == 0) ep->o.send_queue_max = 4u << 20;
    ep->next = srv->endpoints;
    srv->endpoints = ep;
    return ep;
}

struct eio_endpoint *eio_endpoint_match(struct eio_server *srv, const char *path, size_t len)
{
    struct eio_endpoint *ep;

    while (len > 1 && path[len - 1] == '/')
        len--;
    for (ep = srv->endpoints; ep; ep = ep->next)
        if (ep->path_len == len && memcmp(ep->path_buf, path, len) == 0)
            return ep;
    return NULL;
}

size_t eio_server_session_count(const struct eio_server *srv)
{
    return (size_t)srv->c.sessions;
}

void eio_server_foreach(struct eio_server *srv, void (*fn)(struct eio_session *, void *), void *arg)
{
    struct eio_session *s, *next;

    for (s = srv->all; s; s = next) {
        next = s->next;
        if (!s->finished)
            fn(s, arg);
    }
}

void eio_server_counters(const struct eio_server *srv, struct eio_server_counters *out)
{
    *out = srv->c;
}

void eio_server_shutdown(struct eio_server *srv)
{
    struct eio_session *s, *next;

    srv->shutting_down = 1;
    for (s = srv->all; s; s = next) {
        next = s->next;
        if (!s->finished)
            eio_session_close(s, "server shutting down");
    }
}

void eio_server_destroy(struct eio_server *srv)
{
    struct eio_endpoint *ep, *enext;

    if (srv == NULL)
        return;
    while (srv->all) {
        struct eio_session *s = srv->all;

        /* Whatever wsi still points at s is going away with the context. */
        eio_transport_detach(s);
        if (!s->finished)
            eio_session_finish(s, "server shutting down");
        else
            eio_session_release(s);
    }
    for (ep = srv->endpoints; ep; ep = enext) {
        enext = ep->next;
        free(ep);
    }
    eio_timerq_destroy(&srv->tq_ping);
    eio_timerq_destroy(&srv->tq_pong);
    eio_timerq_destroy(&srv->tq_v3);
    eio_timerq_destroy(&srv->tq_close_now);
    eio_timerq_destroy(&srv->tq_close_grace);
    free(srv->ws_batch);
    free(srv);
}

/* -- session table ---------------------------------------------------------- */

static unsigned sid_hash(const char *sid)
{
    unsigned h = 2166136261u;

    while (*sid)
        h = (h ^ (unsigned char)*sid++) * 16777619u;
    return h % EIO_SESSION_BUCKETS;
}

struct eio_session *eio_session_find(struct eio_server *srv, const char *sid)
{
    struct eio_session *s;

    for (s = srv->buckets[sid_hash(sid)]; s; s = s->hnext)
        if (strcmp(s->sid, sid) == 0)
            return s;
    return NULL;
}

void eio_random_id(char *out, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char rnd[64];
    size_t i;

    if (len > sizeof(rnd))
        len = sizeof(rnd);
    if (getrandom(rnd, len, 0) != (ssize_t)len) {
        /* getrandom does not fail for small reads after boot; fall back anyway */
        for (i = 0; i < len; i++)
            rnd[i] = (unsigned char)rand();
    }
    for (i = 0; i < len; i++)
        out[i] = alphabet[rnd[i] & 63];
    out[len] = '\0';
}

static void session_unlink(struct eio_session *s)
{
    struct eio_session **pp = &s->srv->buckets[sid_hash(s->sid)];

    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
    s->hnext = NULL;
}

struct eio_session *eio_session_new(struct eio_server *srv, struct eio_endpoint *ep,
                                    enum eio_transport_kind t, int v3, const char *peer)
{
    size_t plen = peer ? strlen(peer) : 0;
    struct eio_session *s = calloc(1, sizeof(*s) + plen + 1);
    unsigned h;

    if (s == NULL)
        return NULL;
    s->srv = srv;
    s->ep = ep;
    s->transport = t == EIO_T_WEBSOCKET ? EIO_T_WEBSOCKET : EIO_T_POLLING;
    s->v3 = v3 != 0;
    do
        eio_random_id(s->sid, EIO_SID_LEN);
    while (eio_session_find(srv, s->sid) != NULL);
    memcpy(s->peer, plen ? peer : "", plen + 1);
    h = sid_hash(s->sid);
    s->hnext = srv->buckets[h];
    srv->buckets[h] = s;
    s->next = srv->all;
    if (srv->all)
        srv->all->prev = s;
    srv->all = s;
    srv->c.sessions++;
    srv->c.sessions_total++;
    if (srv->o.stats) {
        srv->o.stats->connections++;
        srv->o.stats->connections_total++;
    }
    return s;
}

int eio_session_open_packet(const struct eio_session *s, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%d,"
                     "\"pingTimeout\":%d,\"maxPayload\":%zu}",
                     s->sid, s->transport == EIO_T_POLLING ? "\"websocket\"" : "",
                     s->ep->o.ping_interval_ms, s->ep->o.ping_timeout_ms, s->ep->o.max_payload);

    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* -- heartbeats ----------------------------------------------------------- */

static void ping_due(struct eio_timer *t);
static void pong_overdue(struct eio_timer *t);

static void ping_due(struct eio_timer *t)
{
    struct eio_session *s = lws_container_of(t, struct eio_session, t);

    lws_usec_t late, wait = (lws_usec_t)s->ep->o.ping_timeout_ms * 1000;

    if (s->finished || s->closing || s->kill_transport)
        return;
    eio_session_send_text(s, "2", 1);
    /* The deadline counts from when the ping was due, not from when this
     * timer happened to run: a peer is given exactly interval + timeout. */
    late = lws_now_usecs() - t->due;    /* t->due: when the ping was due */
    if (late > 0)
        wait = late < wait ? wait - late : 1;
    eio_timer_schedule(&s->srv->tq_pong, &s->t, pong_overdue, wait);
}

/* Engine.IO v3 peers ping us: any packet from them proves liveness, and
 * silence for interval + timeout ends the session. */
static void v3_expect_traffic(struct eio_session *s)
{
    eio_timer_schedule(&s->srv->tq_v3, &s->t, pong_overdue,
                       (lws_usec_t)(s->ep->o.ping_interval_ms + s->ep->o.ping_timeout_ms) * 1000);
}

static void schedule_ping(struct eio_session *s)
{
    if (s->v3) {
        v3_expect_traffic(s);
        return;
    }
    eio_timer_schedule(&s->srv->tq_ping, &s->t, ping_due, (lws_usec_t)s->ep->o.ping_interval_ms * 1000);
}

static void pong_overdue(struct eio_timer *t)
{
    struct eio_session *s = lws_container_of(t, struct eio_session, t);

    if (s->finished)
        return;
    s->srv->c.ping_timeouts++;
    eio_log(s->srv, 2, "sid %s peer %s: ping timeout", s->sid, s->peer);
    eio_session_finish(s, "ping timeout");
}

int eio_session_opened(struct eio_session *s)
{
    const struct eio_handlers *h = &s->ep->o.handlers;

    schedule_ping(s);
    if (h->on_open && h->on_open(s, s->ep->o.user) != 0) {
        /* Refused: no on_close for a session the upper layer never took. */
        s->refused = 1;
        eio_session_finish(s, "forced close");
        return -1;
    }
    return 0;
}

/* -- queue ---------------------------------------------------------------- */

/* First ring size; a ring this small is freed whenever it drains. */
#define EIO_QUEUE_MIN 8

static void close_due(struct eio_timer *t)
{
    struct eio_session *s = lws_container_of(t, struct eio_session, t);

    if (!s->finished)
        eio_session_finish(s, s->close_reason ? s->close_reason : "forced close");
}

static int queue_push(struct eio_session *s, struct eio_buf *b)
{
    if (s->finished || s->kill_transport)
        return -1;
    if (s->q_bytes + b->len > s->ep->o.send_queue_max + ((size_t)s->q_credit_mib << 20)) {
        /* A reader that cannot keep up: drop it rather than grow memory. */
        s->kill_transport = 1;
        s->close_reason = "transport error";
        s->srv->c.slow_dropped++;
        if (s->srv->o.stats)
            s->srv->o.stats->slow_clients_dropped++;
        eio_log(s->srv, 1, "sid %s peer %s: send queue over %zu bytes, dropping slow client",
                s->sid, s->peer, s->ep->o.send_queue_max);
        eio_timer_schedule(&s->srv->tq_close_now, &s->t, close_due, 1);
        return -2;
    }
    if (s->q_count == s->q_cap) {
        size_t ncap = s->q_cap ? (size_t)s->q_cap * 2 : EIO_QUEUE_MIN, i;
        struct eio_buf **nq = ncap <= UINT32_MAX ? malloc(ncap * sizeof(*nq)) : NULL;

        if (nq == NULL)
            return -1;
        for (i = 0; i < s->q_count; i++)
            nq[i] = s->q[(s->q_head + i) % s->q_cap];
        free(s->q);
        s->q = nq;
        s->q_cap = (uint32_t)ncap;
        s->q_head = 0;
    }
    eio_buf_ref(b);
    s->q[(s->q_head + s->q_count) % s->q_cap] = b;
    s->q_count++;
    s->q_bytes += b->len;
    eio_session_kick(s);
    return 0;
}

void eio_session_allow_backlog(struct eio_session *s, size_t bytes)
{
    size_t mib = (bytes + ((size_t)1 << 20) - 1) >> 20;

    if (s == NULL || s->finished)
        return;
    mib += s->q_credit_mib;
    if (mib > 0xFFFF)
        mib = 0xFFFF;
    s->q_credit_mib = (unsigned)mib;
}

struct eio_buf *eio_session_pop(struct eio_session *s)
{
    struct eio_buf *b;

    if (s->q_count == 0)
        return NULL;
    b = s->q[s->q_head];
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_count--;
    s->q_bytes -= b->len;
    if (s->q_credit_mib && s->q_bytes <= s->ep->o.send_queue_max)
        s->q_credit_mib = 0;   /* the burst is out: the usual bound again */
    if (s->q_count == 0 && s->q_cap <= EIO_QUEUE_MIN) {
        /* Drained, and never needed more than the minimum (an agent, which
         * gets a ping every interval): hand the ring back rather than hold
         * it idle. A ring that grew (a busy reader) is kept. */
        free(s->q);
        s->q = NULL;
        s->q_cap = s->q_head = 0;
    }
    return b;
}

struct eio_buf *eio_session_peek(struct eio_session *s)
{
    return s->q_count ? s->q[s->q_head] : NULL;
}

int eio_session_send_buf(struct eio_session *s, struct eio_buf *b)
{
    return queue_push(s, b);
}

int eio_session_send_text(struct eio_session *s, const char *pkt, size_t len)
{
    struct eio_buf *b = eio_buf_new(len, 0);
    int r;

    if (b == NULL)
        return -1;
    memcpy(eio_buf_payload(b), pkt, len);
    r = queue_push(s, b);
    eio_buf_unref(b);
    return r;
}

int eio_session_send_binary(struct eio_session *s, const void *data, size_t len)
{
    struct eio_buf *b = eio_buf_new(len, 1);
    int r;

    if (b == NULL)
        return -1;
    memcpy(eio_buf_payload(b), data, len);
    r = queue_push(s, b);
    eio_buf_unref(b);
    return r;
}

void eio_session_kick(struct eio_session *s)
{
    if (s->transport == EIO_T_WEBSOCKET && s->ws_wsi)
        lws_callback_on_writable(s->ws_wsi);
    else if (s->transport == EIO_T_POLLING && s->get_wsi)
        lws_callback_on_writable(s->get_wsi);
}

/* -- receiving -------------------------------------------------------------- */

int eio_session_receive(struct eio_session *s, const char *data, size_t len, int binary, int base64)
{
    const struct eio_handlers *h = &s->ep->o.handlers;
    struct eio_packet p;

    if (s->finished)
        return -1;
    if (s->v3 && !s->closing && !s->kill_transport)
        v3_expect_traffic(s);
    if (binary && !base64) {
        if (h->on_message)
            h->on_message(s, data, len, 1, s->ep->o.user);
        return 0;
    }
    if (base64) {
        unsigned char *bin = malloc(eio_base64_decoded_max(len) + 1);
        int n = bin ? eio_base64_decode(data, len, bin, eio_base64_decoded_max(len) + 1) : -1;

        if (n < 0) {
            free(bin);
            eio_count_error(s->srv);
            eio_session_finish(s, "parse error");
            return -1;
        }
        if (h->on_message)
            h->on_message(s, (const char *)bin, (size_t)n, 1, s->ep->o.user);
        free(bin);
        return 0;
    }
    if (eio_decode_text(data, len, 0, &p) != 0) {
        eio_count_error(s->srv);
        eio_log(s->srv, 2, "sid %s peer %s: invalid Engine.IO packet", s->sid, s->peer);
        eio_session_finish(s, "parse error");
        return -1;
    }
    switch (p.type) {
    case EIO_PONG:
        /* s->t is the session's end once it is closing or being dropped. */
        if (s->v3 || s->closing || s->kill_transport)
            return 0;
        /* Cancels the pong deadline (or, for a pong nobody asked for, the
         * ping due: it is rescheduled a full interval later either way). */
        eio_timer_cancel(&s->t);
        schedule_ping(s);
        return 0;
    case EIO_MESSAGE:
        if (h->on_message && !s->closing)
            h->on_message(s, p.data, p.len, 0, s->ep->o.user);
        return 0;
    case EIO_CLOSE:
        s->end_with_noop = 1;
        eio_session_finish(s, "transport close");
        return -1;
    case EIO_PING:
        /* v3 clients ping and expect the data back in a pong ("2probe" is
         * answered on the probe websocket, not here); v4 clients never ping. */
        if (s->v3) {
            char pong[64];

            if (p.len < sizeof(pong) - 1) {
                pong[0] = '3';
                memcpy(pong + 1, p.data, p.len);
                eio_session_send_text(s, pong, p.len + 1);
            }
        }
        return 0;
    case EIO_NOOP:
        return 0;
    default:
        /* OPEN or UPGRADE outside an upgrade */
        eio_count_error(s->srv);
        eio_session_finish(s, "parse error");
        return -1;
    }
}

/* -- closing -------------------------------------------------------------- */

void eio_session_close(struct eio_session *s, const char *reason)
{
    if (s->finished || s->closing)
        return;
    s->closing = 1;
    s->close_reason = reason;
    if (s->q_count == 0 || (s->transport == EIO_T_WEBSOCKET && s->ws_wsi == NULL)) {
        eio_timer_schedule(&s->srv->tq_close_now, &s->t, close_due, 1);
        return;
    }
    /* Let the queue drain (the transport finishes the session once it is
     * empty), but never wait longer than the grace period. */
    eio_timer_schedule(&s->srv->tq_close_grace, &s->t, close_due, EIO_CLOSE_GRACE_US);
    eio_session_kick(s);
}

void eio_session_finish(struct eio_session *s, const char *reason)
{
    struct eio_server *srv = s->srv;
    void (*on_close)(struct eio_session *, const char *, void *) =
        s->refused ? NULL : s->ep->o.handlers.on_close;

    if (s->finished)
        return;
    s->finished = 1;
    s->close_reason = reason;
    eio_timer_cancel(&s->t);
    session_unlink(s);
    srv->c.sessions--;
    if (srv->o.stats)
        srv->o.stats->connections--;
    eio_log(srv, 3, "sid %s peer %s: closed (%s)", s->sid, s->peer, reason);
    /* A dropped slow reader gets nothing more: its backlog is freed now. */
    if (s->kill_transport)
        while (s->q_count)
            eio_buf_unref(eio_session_pop(s));
    /* Transports: a held GET gets its last payload ("1", or "6" when the
     * client itself closed); websockets are closed after a flush unless the
     * session is being killed. */
    if (s->get_wsi)
        lws_callback_on_writable(s->get_wsi);
    if (s->ws_wsi) {
        if (s->kill_transport)
            lws_set_timeout(s->ws_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        else {
            lws_set_timeout(s->ws_wsi, PENDING_TIMEOUT_USER_OK, 2);
            lws_callback_on_writable(s->ws_wsi);
        }
    }
    if (s->probe_wsi)
        lws_set_timeout(s->probe_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    if (on_close)
        on_close(s, reason, s->ep->o.user);
    eio_session_release(s);
}

void eio_session_release(struct eio_session *s)
{
    struct eio_server *srv = s->srv;

    if (!s->finished || s->ws_wsi || s->get_wsi || s->probe_wsi)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else if (srv->all == s)
        srv->all = s->next;
    if (s->next)
        s->next->prev = s->prev;
    while (s->q_count)
        eio_buf_unref(eio_session_pop(s));
    free(s->q);
    eio_timer_cancel(&s->t);
    free(s);
}

/* -- accessors -------------------------------------------------------------- */

const char *eio_session_sid(const struct eio_session *s) { return s->sid; }
const char *eio_session_peer_ip(const struct eio_session *s) { return s->peer; }
const char *eio_session_transport(const struct eio_session *s)
{
    return s->transport == EIO_T_WEBSOCKET ? "websocket" : "polling";
}
int eio_session_is_closing(const struct eio_session *s) { return s->closing || s->finished; }
int eio_session_protocol(const struct eio_session *s) { return s->v3 ? 3 : 4; }
void eio_session_set_user(struct eio_session *s, void *user) { s->user = user; }
void *eio_session_get_user(const struct eio_session *s) { return s->user; }
struct eio_server *eio_session_server(const struct eio_session *s) { return s->srv; }
