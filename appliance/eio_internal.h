/* eio_internal.h -- what eio_server.c (sessions, queues, timers) and
 * eio_transport.c (the lws callback: polling and WebSocket) share. Not an
 * API: nothing outside appliance/eio_*.c includes this. */
#ifndef PERFLOAD_EIO_INTERNAL_H
#define PERFLOAD_EIO_INTERNAL_H

#include <stdint.h>

#include <libwebsockets.h>

#include "eio_server.h"
#include "eio_timer.h"
#include "ratelimit.h"

#define EIO_SID_LEN 20
#define EIO_SESSION_BUCKETS 4096
/* How long a closing session may take to flush its last packets. */
#define EIO_CLOSE_GRACE_US (2 * LWS_US_PER_SEC)

enum eio_transport_kind { EIO_T_POLLING, EIO_T_WEBSOCKET };

struct eio_endpoint {
    struct eio_endpoint_options o;   /* path points at path_buf */
    char path_buf[128];
    size_t path_len;
    struct eio_endpoint *next;
};

/* Field order and widths keep this small: one lives per connected client
 * (docs/benchmarks.md, memory per agent). */
struct eio_session {
    struct eio_server *srv;
    struct eio_endpoint *ep;
    struct lws *ws_wsi;     /* websocket transport, or NULL */
    struct lws *get_wsi;    /* held polling GET, or NULL */
    struct lws *probe_wsi;  /* websocket being upgraded to, or NULL */
    const char *close_reason;
    /* send queue: a ring of buffer references, allocated while non-empty
     * (an idle agent's queue is empty between pings) */
    struct eio_buf **q;
    size_t q_bytes;
    uint32_t q_head, q_count, q_cap;
    unsigned transport : 1;      /* enum eio_transport_kind */
    unsigned v3 : 1;             /* Engine.IO v3 peer: client pings, "<len>:" payloads */
    unsigned upgrading : 1;      /* a probe websocket answered 3probe, waiting for 5 */
    unsigned probe_reply : 1;    /* the probe wsi owes "3probe" */
    unsigned closing : 1;        /* eio_session_close called: flush, then finish */
    unsigned finished : 1;       /* on_close delivered, out of the table */
    unsigned end_with_noop : 1;  /* the client closed: a held GET gets "6", not "1" */
    unsigned close_flushed : 1;  /* closing, and a last payload went out on a GET */
    unsigned kill_transport : 1; /* drop without flushing (slow client, errors) */
    unsigned refused : 1;        /* on_open refused it: no on_close */
    /* Extra queue allowance in MiB over send_queue_max, for a one-off burst
     * the session was promised (eio_session_allow_backlog); it ends once
     * the queue is back under the bound. In the flags' word: no bytes more. */
    unsigned q_credit_mib : 16;
    /* One timer for whatever the session waits for next: the next ping
     * (srv->tq_ping) or the pong deadline (tq_pong) -- never both: a ping is
     * sent when the first fires, the pong cancels the second -- or, for v3,
     * the traffic deadline (tq_v3); once the session is closing or being
     * dropped (closing, kill_transport), only its end (tq_close_now,
     * tq_close_grace) and heartbeats no longer touch it. */
    struct eio_timer t;
    struct eio_session *hnext;           /* sid hash chain */
    struct eio_session *prev, *next;     /* all sessions */
    void *user;
    char sid[EIO_SID_LEN + 1];
    char peer[];            /* the client's address, as long as it is */
};

struct eio_server {
    struct eio_server_options o;
    char worker_name[64];
    struct lws_context *ctx;
    struct eio_endpoint *endpoints;
    struct eio_session *buckets[EIO_SESSION_BUCKETS];
    struct eio_session *all;
    int shutting_down;
    struct eio_server_counters c;
    struct rl_log info_log;       /* limits peer-triggered info lines (eio_vlog) */
    /* one queue per timeout length (eio_timer.h) */
    struct eio_timerq tq_ping, tq_pong, tq_v3, tq_close_now, tq_close_grace;
    unsigned char *ws_batch;     /* LWS_PRE + EIO_WS_BATCH: coalesced frames (eio_websocket.c) */
};

#include "eio_packet.h"

/* ROLE_REFUSED: a websocket accepted only to be closed cleanly (a second
 * upgrade for a sid, as engine.io does: clients see a close, not an error). */
enum pss_role { ROLE_NONE, ROLE_GET, ROLE_POST, ROLE_WS, ROLE_PROBE, ROLE_REFUSED };

/* Per-connection lws rx buffer (eio_server_fill_protocol). A sample with
 * the original agent's fields (~350 bytes, what perfload-bench sends) fits;
 * perfload-agent's fuller samples (~600 bytes and up: per-core loads,
 * disks, interfaces) are reassembled, which costs a malloc and a copy per
 * message but saves 512 bytes for every connection. */
#define EIO_WS_RX_BUFFER 512
/* Most bytes of queued packets written in one send (eio_ws_writeable). */
#define EIO_WS_BATCH (256 * 1024)
/* Most such sends in one WRITEABLE (2 MB), while the kernel takes each whole. */
#define EIO_WS_BATCHES_PER_TURN 8

/* What only an HTTP (polling) request needs, allocated when one starts and
 * freed with its reply, so a websocket's per-wsi state stays small. */
struct eio_http {
    struct eio_endpoint *ep;
    char sid[EIO_SID_LEN + 1];   /* a POST's session */
    unsigned char conn_close;    /* the request asked for Connection: close */
    char origin[];               /* Origin header ("" when none), echoed in CORS replies */
};

/* Per-wsi state, one per connection (lws allocates per_session_data_size).
 * A held GET, a websocket and a probe point at their session (and the
 * session points back); a POST only remembers the sid (in http). */
struct eio_pss {
    struct eio_session *session;
    char *buf;              /* POST body or websocket message being reassembled */
    struct eio_http *http;  /* the polling request being served, or NULL */
    uint32_t buf_len, buf_cap;
    unsigned char role;     /* enum pss_role */
    unsigned char over;     /* the body/message went over max_payload */
};

/* eio_transport.c: helpers shared by the transports */
struct eio_server *eio_server_of(struct lws *wsi);
void eio_pss_reset(struct eio_pss *pss);
/* Starts a polling request's state (pss->http); -1 when out of memory. */
int eio_pss_http_begin(struct lws *wsi, struct eio_pss *pss);
/* Appends to the reassembly buffer; -1 (and pss->over) past limit. */
int eio_pss_append(struct eio_pss *pss, const void *in, size_t len, size_t limit);
void eio_peer_ip(struct lws *wsi, char *out, size_t cap);
const char *eio_query_arg(struct lws *wsi, const char *name, char *buf, int len);
int eio_check_query(struct lws *wsi, const struct eio_endpoint *ep, const char *want_transport,
                    int *v3, const char **msg);

/* eio_polling.c */
int eio_poll_http(struct lws *wsi, struct eio_pss *pss, const char *path, size_t path_len);
int eio_poll_post_done(struct lws *wsi, struct eio_pss *pss);
int eio_poll_writeable(struct lws *wsi, struct eio_pss *pss);

/* eio_websocket.c */
int eio_ws_filter(struct lws *wsi);
int eio_ws_established(struct lws *wsi, struct eio_pss *pss);
int eio_ws_receive(struct lws *wsi, struct eio_pss *pss, const void *in, size_t len);
int eio_ws_writeable(struct lws *wsi, struct eio_pss *pss);

/* eio_server.c */
struct eio_endpoint *eio_endpoint_match(struct eio_server *srv, const char *path, size_t len);
struct eio_session *eio_session_find(struct eio_server *srv, const char *sid);
struct eio_session *eio_session_new(struct eio_server *srv, struct eio_endpoint *ep,
                                    enum eio_transport_kind t, int v3, const char *peer);
/* Builds the "0{...}" open packet into out; returns its length. */
int eio_session_open_packet(const struct eio_session *s, char *out, size_t cap);
/* Starts heartbeats and delivers on_open; returns non-zero (and the session
 * is finished and possibly freed) when the upper layer refused it. */
int eio_session_opened(struct eio_session *s);
/* A packet from the peer (any transport). Returns 0, or -1 when the session
 * was finished by it (do not touch s afterwards). */
int eio_session_receive(struct eio_session *s, const char *data, size_t len, int binary, int base64);
/* Finishes now: out of the table, on_close, transports told to end; frees
 * the memory when no wsi refers to it any more. Do not touch s afterwards
 * unless a wsi still refers to it (eio_session_release then). */
void eio_session_finish(struct eio_session *s, const char *reason);
/* A wsi stopped referring to s: frees it when finished and unreferenced. */
void eio_session_release(struct eio_session *s);
/* Pops the next queued buffer (the caller owns the reference). */
struct eio_buf *eio_session_pop(struct eio_session *s);
/* The next buffer eio_session_pop would return, left queued (NULL: empty). */
struct eio_buf *eio_session_peek(struct eio_session *s);
/* Wakes whichever transport should write next. */
void eio_session_kick(struct eio_session *s);
void eio_count_error(struct eio_server *srv);
/* eio_transport.c: makes every wsi of s forget it (server teardown). */
void eio_transport_detach(struct eio_session *s);
void eio_log(struct eio_server *srv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
