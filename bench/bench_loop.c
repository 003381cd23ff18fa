/* bench_loop.c -- one generator process: an epoll loop over raw
 * non-blocking sockets speaking just enough WebSocket + Engine.IO v4 +
 * Socket.IO v5 to be an agent (clientAuth, initPerfData, then perfData at a
 * fixed rate) or a dashboard (clientAuth with the UI key, then record every
 * `data`).
 *
 * Pacing: every agent owns one slot of a timer wheel of period_ms 1 ms
 * slots, its phase spread evenly over the period by its global id, so the
 * offered load is exactly agents * rate per second with no bursts, and a
 * late loop turn catches up on the slots it missed.
 *
 * A sample carries three extra fields first in its object -- bseq (per-agent
 * sequence number), bts (send time, CLOCK_MONOTONIC us) and macA
 * "bench-<run>-<id>" -- so a dashboard finds them without parsing JSON.
 * Dashboards keep one bit per (agent, sequence number): loss and duplicates
 * are exact. */
#define _GNU_SOURCE
#include "bench.h"
#include "bench_proc.h"
#include "bench_ws.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_SCRATCH     (2u << 20)   /* one read: more than any frame we accept */
#define BENCH_HS_TIMEOUT  (10 * 1000000ull)
#define BENCH_EVENTS      512

enum bench_state {
    ST_IDLE,           /* not started yet */
    ST_CONNECTING,     /* TCP connect in progress */
    ST_UPGRADING,      /* GET sent, waiting for 101 */
    ST_EIO_OPEN,       /* waiting for the Engine.IO open packet */
    ST_SIO_CONNECT,    /* "40" sent, waiting for the Socket.IO CONNECT reply */
    ST_AUTH,           /* dashboard: clientAuth sent, waiting for its ack */
    ST_READY,
    ST_DONE,           /* closed or failed */
};

struct bench_conn {
    int fd;
    uint8_t state;
    uint8_t is_dash;
    uint8_t want_out;      /* EPOLLOUT registered */
    uint32_t id;           /* agent: global id; dashboard: index */
    uint32_t seq;          /* agent: next sequence number */
    uint64_t started_us;
    char *in;              /* bytes of an incomplete frame, malloc'ed */
    uint32_t in_len;
    char *out;             /* unsent bytes, malloc'ed */
    uint32_t out_len;
};

struct bench_loop {
    struct bench_loop_args *a;
    const struct bench_opts *o;
    int ep;
    struct bench_conn *conns;      /* dashboards first, then agents */
    uint32_t nconns, ndash, nagents;
    uint32_t next_connect;         /* next agent (local index) to connect */
    uint32_t pending;              /* connections not READY nor DONE */
    uint64_t t0, t_window, t_end, t_close;
    uint64_t last_tick;            /* last wheel slot processed, ms since t0, +1 */
    uint32_t *slot_start;          /* wheel: agents of slot s are slot_agents[slot_start[s]..slot_start[s+1]) */
    uint32_t *slot_agents;
    uint64_t *bits;                /* dashboards: [d][agent][seq_cap bits] */
    size_t words_per_agent;
    char *scratch;
    char sample_tail[512];         /* the constant rest of every sample */
    size_t sample_tail_len;
    char req[512];
    int req_len;
};

uint64_t bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

/* -- sockets -------------------------------------------------------------------- */

static void bench_epoll(struct bench_loop *l, struct bench_conn *c, int op, int out)
{
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0) };

    ev.data.u32 = (uint32_t)(c - l->conns);
    c->want_out = (uint8_t)out;
    epoll_ctl(l->ep, op, c->fd, &ev);
}

static void bench_close(struct bench_loop *l, struct bench_conn *c, int failed)
{
    if (c->state == ST_DONE)
        return;
    if (failed && getenv("PERFLOAD_BENCH_DEBUG") != NULL)
        fprintf(stderr, "perfload-bench: %s %u failed in state %d (errno %d)\n",
                c->is_dash ? "dashboard" : "agent", c->id, c->state, errno);
    if (c->is_dash && c->state == ST_READY && failed)
        l->a->dash->dash[c->id].dropped = 1;
    if (c->state != ST_READY) {
        l->pending--;
        if (failed && !c->is_dash)
            l->a->counts.connect_failed++;
    } else if (failed && !c->is_dash) {
        l->a->counts.dropped++;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = ST_DONE;
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
    c->in_len = c->out_len = 0;
}

static void bench_ready(struct bench_loop *l, struct bench_conn *c)
{
    c->state = ST_READY;
    l->pending--;
    if (c->is_dash)
        l->a->dash->dash[c->id].ready = 1;
    else
        l->a->counts.connect_ok++;
}

/* Writes what it can now and keeps the rest for EPOLLOUT. */
static int bench_write(struct bench_loop *l, struct bench_conn *c, const void *buf, size_t len)
{
    size_t done = 0;

    if (c->out_len == 0) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        done = n > 0 ? (size_t)n : 0;
        if (done == len)
            return 0;
    }
    char *nb = realloc(c->out, c->out_len + (len - done));
    if (nb == NULL)
        return -1;
    memcpy(nb + c->out_len, (const char *)buf + done, len - done);
    c->out = nb;
    c->out_len += (uint32_t)(len - done);
    if (!c->want_out)
        bench_epoll(l, c, EPOLL_CTL_MOD, 1);
    return 1;
}

static int bench_flush(struct bench_loop *l, struct bench_conn *c)
{
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (uint32_t)n;
    if (c->out_len == 0) {
        free(c->out);
        c->out = NULL;
        bench_epoll(l, c, EPOLL_CTL_MOD, 0);
    }
    return 0;
}

/* Sends one masked text frame. */
static int bench_send_text(struct bench_loop *l, struct bench_conn *c, const char *text, size_t len)
{
    char frame[BENCH_WS_HDR_MAX + 1024];
    size_t hl = bench_ws_frame_header(BENCH_WS_TEXT, len, (unsigned char *)frame);

    if (hl + len > sizeof(frame))
        return -1;
    memcpy(frame + hl, text, len);
    return bench_write(l, c, frame, hl + len) < 0 ? -1 : 0;
}

static void bench_connect(struct bench_loop *l, struct bench_conn *c, const struct in_addr *src)
{
    const struct bench_opts *o = l->o;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
    int one = 1;

    c->started_us = bench_now_us();
    c->state = ST_CONNECTING;
    l->pending++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        bench_close(l, c, 1);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src != NULL) {
        /* Bind the address only: the port is chosen at connect() per
         * 4-tuple, so 80 source addresses give 80 x 28k ports. */
        struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = *src };
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
            bench_close(l, c, 1);
            return;
        }
    }
    inet_pton(AF_INET, o->host, &sa.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        bench_close(l, c, 1);
        return;
    }
    bench_epoll(l, c, EPOLL_CTL_ADD, 1);
}

/* -- samples ----------------------------------------------------------------------- */

static void bench_send_sample(struct bench_loop *l, struct bench_conn *c, uint64_t now)
{
    char frame[BENCH_WS_HDR_MAX + 1024];
    char *p = frame + 4;          /* room for a 4-byte header (payload < 64 KB) + mask */
    int n = snprintf(p + 4, 200, "42[\"perfData\",{\"bseq\":%u,\"bts\":%llu,\"macA\":\"bench-%s-%u\",",
                     c->seq, (unsigned long long)now, l->o->run_id, c->id);

    memcpy(p + 4 + n, l->sample_tail, l->sample_tail_len);
    size_t len = (size_t)n + l->sample_tail_len;
    /* Payloads here are 126..65535 bytes: a 4-byte length header. */
    unsigned char hdr[BENCH_WS_HDR_MAX];
    size_t hl = bench_ws_frame_header(BENCH_WS_TEXT, len, hdr);
    char *start = p + 4 - hl;
    memcpy(start, hdr, hl);
    int r = bench_write(l, c, start, hl + len);
    if (r < 0) {
        bench_close(l, c, 1);
        return;
    }
    if (r > 0)
        l->a->counts.send_blocked++;
    l->a->sent_per_agent[c->id - l->a->agent_lo]++;
    l->a->counts.sent++;
    if (now >= l->t_window && now < l->t_end)
        l->a->counts.sent_window++;
    c->seq++;
}

static void bench_send_init(struct bench_loop *l, struct bench_conn *c)
{
    char text[1024];
    int n = snprintf(text, sizeof(text), "42[\"initPerfData\",{\"macA\":\"bench-%s-%u\",%.*s",
                     l->o->run_id, c->id, (int)l->sample_tail_len, l->sample_tail);

    if (n <= 0 || (size_t)n >= sizeof(text) || bench_send_text(l, c, text, (size_t)n) != 0)
        bench_close(l, c, 1);
}

/* A dashboard's `data`: find the three fields the agents put first. */
static void bench_on_data(struct bench_loop *l, struct bench_conn *c, const char *p, size_t len, uint64_t now)
{
    struct bench_dash_result *r = &l->a->dash->dash[c->id];
    const char *seqp = memmem(p, len, "\"bseq\":", 7);

    r->received++;
    if (seqp == NULL)
        return;                                   /* an initPerfData relay */
    if (memmem(p, len, "\"isActive\":false", 16) != NULL)
        return;                                   /* an agent left: its last sample */
    const char *tsp = memmem(p, len, "\"bts\":", 6);
    const char *macp = memmem(p, len, "\"macA\":\"bench-", 14);
    if (tsp == NULL || macp == NULL)
        return;
    macp += 14;
    if ((size_t)(p + len - macp) < 10 || memcmp(macp, l->o->run_id, 8) != 0 || macp[8] != '-') {
        r->foreign++;
        return;
    }
    unsigned long agent = strtoul(macp + 9, NULL, 10);
    unsigned long seq = strtoul(seqp + 7, NULL, 10);
    unsigned long long ts = strtoull(tsp + 6, NULL, 10);
    if (agent >= l->o->agents || seq >= l->o->seq_cap) {
        r->foreign++;
        return;
    }
    uint64_t *w = &l->bits[((size_t)c->id * l->o->agents + agent) * l->words_per_agent + seq / 64];
    uint64_t bit = 1ull << (seq % 64);
    if (*w & bit) {
        r->duplicates++;
        return;
    }
    *w |= bit;
    r->distinct++;
    l->a->dash->distinct_per_agent[(size_t)agent * l->o->dashboards + c->id]++;
    if (ts >= l->t_window && ts < l->t_end) {
        r->received_window++;
        bench_hist_record(&l->a->dash->hist, now > ts ? now - ts : 0);
    }
}

/* -- protocol --------------------------------------------------------------------- */

static void bench_on_packet(struct bench_loop *l, struct bench_conn *c, const char *p, size_t len, uint64_t now)
{
    if (len == 0)
        return;
    switch (p[0]) {
    case '0':                                     /* Engine.IO open */
        if (c->state == ST_EIO_OPEN) {
            c->state = ST_SIO_CONNECT;
            if (bench_send_text(l, c, "40", 2) != 0)
                bench_close(l, c, 1);
        }
        return;
    case '2':                                     /* ping: pong with the same data */
        if (len < 64) {
            char pong[64];
            memcpy(pong, p, len);
            pong[0] = '3';
            if (bench_send_text(l, c, pong, len) != 0)
                bench_close(l, c, 1);
        }
        return;
    case '1':
        bench_close(l, c, 1);
        return;
    case '4':
        break;
    default:
        return;
    }
    if (len < 2)
        return;
    switch (p[1]) {
    case '0':                                     /* Socket.IO CONNECT accepted */
        if (c->state != ST_SIO_CONNECT)
            return;
        if (c->is_dash) {
            char auth[300];
            int n = snprintf(auth, sizeof(auth), "420[\"clientAuth\",\"%s\"]", l->o->ui_key);
            c->state = ST_AUTH;
            c->started_us = bench_now_us();       /* when the ack wait began */
            if (bench_send_text(l, c, auth, (size_t)n) != 0)
                bench_close(l, c, 1);
        } else {
            char auth[300];
            int n = snprintf(auth, sizeof(auth), "42[\"clientAuth\",\"%s\"]", l->o->agent_key);
            if (bench_send_text(l, c, auth, (size_t)n) != 0) {
                bench_close(l, c, 1);
                return;
            }
            bench_send_init(l, c);
            if (c->state != ST_DONE)
                bench_ready(l, c);
        }
        return;
    case '3':                                     /* ack: the dashboard's clientAuth */
        if (c->is_dash && c->state == ST_AUTH)
            bench_ready(l, c);
        return;
    case '2':
        if (c->is_dash && len > 9 && memcmp(p + 2, "[\"data\",", 8) == 0)
            bench_on_data(l, c, p + 10, len - 10, now);
        return;
    case '1':                                     /* DISCONNECT, CONNECT_ERROR */
    case '4':
        bench_close(l, c, 1);
        return;
    default:
        return;
    }
}

/* Consumes complete frames from buf; returns bytes consumed or -1. */
static long bench_on_bytes(struct bench_loop *l, struct bench_conn *c, char *buf, size_t len, uint64_t now)
{
    size_t off = 0;

    if (c->state == ST_UPGRADING) {
        int h = bench_ws_response(buf, len);
        if (h <= 0)
            return h == 0 ? 0 : -1;
        c->state = ST_EIO_OPEN;
        off = (size_t)h;
    }
    while (off < len && c->state != ST_DONE) {
        struct bench_ws_frame f;
        int r = bench_ws_parse((unsigned char *)buf + off, len - off, &f);
        if (r < 0)
            return -1;
        if (r == 0 || f.header_len + f.payload_len > len - off)
            break;
        char *payload = buf + off + f.header_len;
        size_t plen = (size_t)f.payload_len;
        off += f.header_len + plen;
        if (f.opcode == BENCH_WS_CLOSE)
            return -1;
        if (f.opcode == BENCH_WS_PING) {
            unsigned char hdr[BENCH_WS_HDR_MAX];
            size_t hl = bench_ws_frame_header(BENCH_WS_PONG, plen, hdr);
            if (bench_write(l, c, hdr, hl) < 0 || bench_write(l, c, payload, plen) < 0)
                return -1;
            continue;
        }
        /* The server never fragments what we care about. */
        if (f.opcode == BENCH_WS_TEXT && f.fin)
            bench_on_packet(l, c, payload, plen, now);
    }
    return (long)off;
}

static void bench_on_readable(struct bench_loop *l, struct bench_conn *c, uint64_t now)
{
    /* Bounded per event so one busy dashboard cannot starve the agents. */
    for (int rounds = 0; rounds < 4 && c->state != ST_DONE; rounds++) {
        size_t have = c->in_len;
        if (have)
            memcpy(l->scratch, c->in, have);
        ssize_t n = recv(c->fd, l->scratch + have, BENCH_SCRATCH - have, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            bench_close(l, c, 1);
            return;
        }
        if (n < 0)
            return;
        size_t total = have + (size_t)n;
        long used = bench_on_bytes(l, c, l->scratch, total, now);
        if (used < 0) {
            bench_close(l, c, 1);
            return;
        }
        if (c->state == ST_DONE)
            return;
        size_t rest = total - (size_t)used;
        if (rest >= BENCH_SCRATCH / 2) {          /* a frame bigger than we accept */
            bench_close(l, c, 1);
            return;
        }
        if (rest == 0) {
            free(c->in);
            c->in = NULL;
        } else {
            char *nb = realloc(c->in, rest);
            if (nb == NULL) {
                bench_close(l, c, 1);
                return;
            }
            memcpy(nb, l->scratch + used, rest);
            c->in = nb;
        }
        c->in_len = (uint32_t)rest;
        if ((size_t)n < BENCH_SCRATCH - have)
            return;                               /* drained */
    }
}

static void bench_on_event(struct bench_loop *l, struct bench_conn *c, uint32_t events, uint64_t now)
{
    if (c->state == ST_DONE)
        return;
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
            errno = err;
            bench_close(l, c, 1);
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLIN)))
            return;
        c->state = ST_UPGRADING;
        bench_epoll(l, c, EPOLL_CTL_MOD, 0);
        if (bench_write(l, c, l->req, (size_t)l->req_len) < 0)
            bench_close(l, c, 1);
        return;
    }
    if ((events & EPOLLOUT) && c->out_len > 0 && bench_flush(l, c) != 0) {
        bench_close(l, c, 1);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        bench_on_readable(l, c, now);
}

/* -- set-up ----------------------------------------------------------------------------- */

static int bench_loop_init(struct bench_loop *l, struct bench_loop_args *a)
{
    const struct bench_opts *o = a->o;

    memset(l, 0, sizeof(*l));
    l->a = a;
    l->o = o;
    l->ndash = a->with_dashboards ? o->dashboards : 0;
    l->nagents = a->agent_hi - a->agent_lo;
    l->nconns = l->ndash + l->nagents;
    l->conns = calloc(l->nconns ? l->nconns : 1, sizeof(*l->conns));
    l->scratch = malloc(BENCH_SCRATCH);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->conns == NULL || l->scratch == NULL || l->ep < 0)
        return -1;
    for (uint32_t i = 0; i < l->nconns; i++) {
        l->conns[i].fd = -1;
        l->conns[i].is_dash = i < l->ndash;
        l->conns[i].id = i < l->ndash ? i : a->agent_lo + (i - l->ndash);
    }
    char host[300];
    snprintf(host, sizeof(host), "%s:%d", o->host, o->port);
    l->req_len = bench_ws_request(host, "/socket.io/?EIO=4&transport=websocket", l->req, sizeof(l->req));
    /* A realistic sample (~330 bytes): the original agent's fields. */
    int n = snprintf(l->sample_tail, sizeof(l->sample_tail),
                     "\"isActive\":true,\"cpuLoad\":37.5,\"memUsage\":0.42,\"freeMem\":4831838208,"
                     "\"totalMem\":8330117120,\"usedMem\":3498278912,\"osType\":\"Linux\","
                     "\"upTime\":123456,\"cpuModel\":\"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\","
                     "\"numCores\":2,\"cpuSpeed\":2400}]");
    if (l->req_len < 0 || n <= 0)
        return -1;
    l->sample_tail_len = (size_t)n;

    /* The wheel: agents sorted by slot (counting sort). */
    uint32_t P = o->period_ms;
    l->slot_start = calloc(P + 1, sizeof(uint32_t));
    l->slot_agents = calloc(l->nagents ? l->nagents : 1, sizeof(uint32_t));
    if (l->slot_start == NULL || l->slot_agents == NULL)
        return -1;
    for (uint32_t i = 0; i < l->nagents; i++) {
        uint32_t gid = a->agent_lo + i;
        uint32_t slot = (uint32_t)(((uint64_t)gid * P) / o->agents);
        l->slot_start[slot + 1]++;
    }
    for (uint32_t s = 0; s < P; s++)
        l->slot_start[s + 1] += l->slot_start[s];
    uint32_t *fill = calloc(P, sizeof(uint32_t));
    if (fill == NULL)
        return -1;
    for (uint32_t i = 0; i < l->nagents; i++) {
        uint32_t gid = a->agent_lo + i;
        uint32_t slot = (uint32_t)(((uint64_t)gid * P) / o->agents);
        l->slot_agents[l->slot_start[slot] + fill[slot]++] = l->ndash + i;
    }
    free(fill);

    if (l->ndash) {
        l->words_per_agent = (o->seq_cap + 63) / 64;
        l->bits = calloc((size_t)l->ndash * o->agents * l->words_per_agent, sizeof(uint64_t));
        a->dash->distinct_per_agent = calloc((size_t)o->agents * o->dashboards, sizeof(uint64_t));
        if (l->bits == NULL || a->dash->distinct_per_agent == NULL)
            return -1;
    }
    return 0;
}

static void bench_loop_free(struct bench_loop *l)
{
    for (uint32_t i = 0; i < l->nconns; i++)
        bench_close(l, &l->conns[i], 0);
    if (l->ep >= 0)
        close(l->ep);
    free(l->conns);
    free(l->scratch);
    free(l->slot_start);
    free(l->slot_agents);
    free(l->bits);
}

static void bench_poll_once(struct bench_loop *l, int timeout_ms)
{
    struct epoll_event ev[BENCH_EVENTS];
    int n = epoll_wait(l->ep, ev, BENCH_EVENTS, timeout_ms);
    uint64_t now = bench_now_us();

    for (int i = 0; i < n; i++)
        bench_on_event(l, &l->conns[ev[i].data.u32], ev[i].events, now);
}

static void bench_check_timeouts(struct bench_loop *l, uint64_t now)
{
    for (uint32_t i = 0; i < l->nconns && l->pending; i++) {
        struct bench_conn *c = &l->conns[i];
        if (c->state != ST_IDLE && c->state != ST_READY && c->state != ST_DONE &&
            now > c->started_us + BENCH_HS_TIMEOUT)
            bench_close(l, c, 1);
    }
}

/* Parent only: the dashboards connect and are in room 'ui' before any
 * agent exists, so they miss nothing. */
static int bench_connect_dashboards(struct bench_loop *l)
{
    uint64_t deadline = bench_now_us() + BENCH_HS_TIMEOUT;

    /* Dashboards come from their own source addresses too, so sticky
     * routing spreads them over the workers like real browsers. */
    for (uint32_t d = 0; d < l->ndash; d++)
        bench_connect(l, &l->conns[d], l->o->nips ? &l->o->ips[(l->o->nips - 1 - d % l->o->nips)] : NULL);
    while (l->pending > 0 && bench_now_us() < deadline) {
        bench_poll_once(l, 10);
        /* The Node.js reference joins 'ui' at once but never acks
         * clientAuth: one second without an ack counts as ready. */
        uint64_t now = bench_now_us();
        for (uint32_t d = 0; d < l->ndash; d++)
            if (l->conns[d].state == ST_AUTH && now > l->conns[d].started_us + 1000000)
                bench_ready(l, &l->conns[d]);
    }
    for (uint32_t d = 0; d < l->ndash; d++)
        if (l->conns[d].state != ST_READY) {
            fprintf(stderr, "perfload-bench: dashboard %u could not connect and authenticate to %s:%d\n",
                    d, l->o->host, l->o->port);
            return -1;
        }
    return 0;
}

static void bench_probe_take(const struct bench_opts *o, double *cpu, long *rss, int *found, pid_t pid)
{
    struct bench_proc_usage u;

    if (pid <= 0 || bench_proc_tree(pid, &u) != 0)
        return;
    *cpu = u.cpu_s;
    *rss = u.rss_kb;
    *found = 1;
}

int bench_loop_run(struct bench_loop_args *a)
{
    const struct bench_opts *o = a->o;
    struct bench_loop l;
    int rc = -1;

    if (bench_loop_init(&l, a) != 0) {
        fprintf(stderr, "perfload-bench: out of memory or epoll failed\n");
        bench_loop_free(&l);
        return -1;
    }
    uint64_t t0;
    if (a->go_fd >= 0) {
        /* A child: wait for the parent's start time. */
        if (read(a->go_fd, &t0, sizeof(t0)) != (ssize_t)sizeof(t0)) {
            bench_loop_free(&l);
            return -1;
        }
    } else {
        if (bench_connect_dashboards(&l) != 0)
            goto out;
        long dummy_rss = 0;
        double dummy_cpu = 0;
        bench_probe_take(o, &dummy_cpu, &a->probe.server_rss_base, &a->probe.server_found, o->server_pid);
        t0 = bench_now_us() + 50000;
        for (int k = 0; k < a->nchildren; k++)
            if (write(a->child_go_fds[k], &t0, sizeof(t0)) != (ssize_t)sizeof(t0))
                fprintf(stderr, "perfload-bench: child %d did not take its start time\n", k);
        (void)dummy_rss;
    }
    l.t0 = t0;
    l.t_window = t0 + (uint64_t)(o->ramp_s * 1e6);
    l.t_end = l.t_window + (uint64_t)(o->duration_s * 1e6);
    l.t_close = l.t_end + (uint64_t)(o->drain_s * 1e6);

    int window_started = 0, window_ended = 0;
    double cpu0 = 0;
    uint64_t last_timeout_check = 0;
    uint32_t P = o->period_ms;

    for (;;) {
        uint64_t now = bench_now_us();
        if (now >= l.t_close)
            break;
        /* Connect on schedule: local agent j at t0 + ramp * j / n. */
        while (l.next_connect < l.nagents && now >= t0) {
            uint64_t due = t0 + (uint64_t)(o->ramp_s * 1e6 * l.next_connect / l.nagents);
            if (due > now)
                break;
            struct bench_conn *c = &l.conns[l.ndash + l.next_connect];
            const struct in_addr *src = o->nips ? &o->ips[c->id % (uint32_t)o->nips] : NULL;
            bench_connect(&l, c, src);
            l.next_connect++;
        }
        /* Timer wheel: every slot from the last one processed up to now. */
        if (now >= t0 && now < l.t_end) {
            uint64_t tick = (now - t0) / 1000;
            for (; l.last_tick <= tick; l.last_tick++) {
                uint32_t s = (uint32_t)(l.last_tick % P);
                for (uint32_t k = l.slot_start[s]; k < l.slot_start[s + 1]; k++) {
                    struct bench_conn *c = &l.conns[l.slot_agents[k]];
                    if (c->state == ST_READY && c->seq < o->seq_cap)
                        bench_send_sample(&l, c, now);
                }
            }
        }
        if (!window_started && now >= l.t_window) {
            window_started = 1;
            cpu0 = bench_proc_self_cpu();
            if (a->with_dashboards) {
                bench_probe_take(o, &a->probe.server_cpu0, &a->probe.server_rss_end,
                                 &a->probe.server_found, o->server_pid);
                bench_probe_take(o, &a->probe.redis_cpu0, &a->probe.redis_rss_end,
                                 &a->probe.redis_found, o->redis_pid);
            }
        }
        if (window_started && !window_ended && now >= l.t_end) {
            window_ended = 1;
            a->counts.cpu_window_s = bench_proc_self_cpu() - cpu0;
            a->counts.window_s = (double)(now - l.t_window) / 1e6;
            if (a->with_dashboards) {
                bench_probe_take(o, &a->probe.server_cpu1, &a->probe.server_rss_end,
                                 &a->probe.server_found, o->server_pid);
                bench_probe_take(o, &a->probe.redis_cpu1, &a->probe.redis_rss_end,
                                 &a->probe.redis_found, o->redis_pid);
            }
        }
        if (now - last_timeout_check > 1000000) {
            last_timeout_check = now;
            bench_check_timeouts(&l, now);
            if (a->with_dashboards && window_started && !window_ended && o->server_pid > 0) {
                struct bench_proc_usage u;
                if (bench_proc_tree(o->server_pid, &u) == 0 && u.rss_kb > a->probe.server_rss_max)
                    a->probe.server_rss_max = u.rss_kb;
            }
        }
        bench_poll_once(&l, 1);
    }
    rc = 0;
out:
    bench_loop_free(&l);
    return rc;
}
