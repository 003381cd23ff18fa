/* eio_server.h -- Engine.IO v4 server transports on libwebsockets.
 *
 * Owns Engine.IO sessions: the handshake, HTTP long-polling (one held GET
 * per session, POSTed payloads), WebSocket, the polling -> websocket upgrade,
 * heartbeats and per-session bounded send queues. What a message *means* is
 * the business of the layer above (sio_server.c, or the raw echo endpoint of
 * the conformance server), reached through struct eio_handlers.
 *
 * All calls on the lws service thread. An eio_server serves one or more
 * endpoints (URL paths) of one lws vhost; its lws protocol (filled by
 * eio_server_fill_protocol) must be protocols[0] of that vhost.
 *
 * Session lifetime: created by a handshake, closed by the peer, by a
 * heartbeat timeout, by eio_session_close() or by a protocol error. on_close
 * is called exactly once, after which the session pointer must not be used
 * (the engine may keep the memory a little longer to flush a final packet). */
#ifndef PERFLOAD_EIO_SERVER_H
#define PERFLOAD_EIO_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct lws;
struct lws_context;
struct lws_vhost;
struct worker_stats;

struct eio_server;
struct eio_session;
struct eio_endpoint;

/* A refcounted, immutable outgoing Engine.IO packet with lws headroom:
 * data[EIO_BUF_PRE .. EIO_BUF_PRE+len) is the packet ("4..." text, or raw
 * bytes when binary). One buffer can sit in many sessions' queues (room
 * broadcast): each queue holds one reference. */
#define EIO_BUF_PRE 16   /* >= LWS_PRE on 4.1 (checked at compile time in eio_server.c) */
struct eio_buf {
    int refs;
    int binary;
    size_t len;
    unsigned char data[];
};

/* New buffer with refs = 1 and room for len bytes at eio_buf_payload(). */
struct eio_buf *eio_buf_new(size_t len, int binary);
static inline char *eio_buf_payload(struct eio_buf *b) { return (char *)b->data + EIO_BUF_PRE; }
void eio_buf_ref(struct eio_buf *b);
void eio_buf_unref(struct eio_buf *b);

struct eio_handlers {
    /* A session was opened (handshake sent). Return non-zero to refuse it
     * (it is closed at once, on_close is not called). */
    int (*on_open)(struct eio_session *s, void *user);
    /* One Engine.IO message packet: text (binary 0, data is the text after
     * the '4') or binary (bytes). data is only valid during the call. */
    void (*on_message)(struct eio_session *s, const char *data, size_t len, int binary, void *user);
    /* The session is gone: reason is "transport close", "transport error",
     * "ping timeout", "parse error", "forced close", "server shutting down". */
    void (*on_close)(struct eio_session *s, const char *reason, void *user);
};

struct eio_endpoint_options {
    const char *path;          /* "/engine.io/", "/socket.io/": with trailing '/' */
    int ping_interval_ms;
    int ping_timeout_ms;
    size_t max_payload;
    size_t send_queue_max;
    struct eio_handlers handlers;
    void *user;
    int refuse_eio3;           /* 1: answer EIO=3 (Engine.IO v3) clients with 400; 0: serve them */
};

struct eio_server_options {
    const char *worker_name;   /* X-PerfLoad-Worker header; NULL = none */
    struct worker_stats *stats;/* may be NULL */
    int log_level;             /* 0 error .. 3 debug */
};

struct eio_server *eio_server_create(const struct eio_server_options *opts);
/* Binds the server to the context (for timers); call once the context exists. */
void eio_server_set_context(struct eio_server *srv, struct lws_context *ctx);
/* Adds an endpoint (the options and path are copied). NULL on failure. */
struct eio_endpoint *eio_server_mount(struct eio_server *srv, const struct eio_endpoint_options *opts);
/* Closes every session with "server shutting down" and refuses new ones. */
void eio_server_shutdown(struct eio_server *srv);
size_t eio_server_session_count(const struct eio_server *srv);
/* Calls fn for every open (not yet closed) session; fn may close it. */
void eio_server_foreach(struct eio_server *srv, void (*fn)(struct eio_session *, void *), void *arg);
/* Closes all sessions (on_close called) and frees; the lws context must
 * still exist or already be destroyed with no wsi left referring to us. */
void eio_server_destroy(struct eio_server *srv);

/* Fills the lws protocol that must be protocols[0] of the vhost (HTTP and
 * subprotocol-less WebSocket upgrades both land there). */
struct lws_protocols;
void eio_server_fill_protocol(struct eio_server *srv, struct lws_protocols *p, const char *name);

struct eio_server_counters {
    uint64_t sessions, sessions_total, protocol_errors, slow_dropped, ping_timeouts;
};
void eio_server_counters(const struct eio_server *srv, struct eio_server_counters *out);
/* Counts one malformed input seen by an upper layer (also into stats). */
void eio_server_count_protocol_error(struct eio_server *srv);
/* One log line "<who> <level>: ..." at or below the server's log level;
 * info lines (level 2, the ones a peer can trigger) are limited to one a
 * second with a count of those suppressed. */
void eio_server_log(struct eio_server *srv, const char *who, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* -- sessions ------------------------------------------------------------ */

/* Queues one packet. send_text copies; send_buf takes a new reference on b
 * (the caller keeps its own). Returns 0, -1 when the session is closing, or
 * -2 when the queue went over send_queue_max (the session is being dropped
 * as a slow client: on_close follows from the event loop). */
int eio_session_send_text(struct eio_session *s, const char *pkt, size_t len);
int eio_session_send_binary(struct eio_session *s, const void *data, size_t len);
int eio_session_send_buf(struct eio_session *s, struct eio_buf *b);

/* Lets the queue hold up to `bytes` (rounded up to MiB, at most 64 GiB)
 * beyond send_queue_max for a burst about to be queued at once (a new
 * dashboard's snapshot of every machine), until it is back under the
 * bound; then the usual bound applies again. Allowances add up while the
 * queue is over the bound (a snapshot, then the machines only this worker
 * knows). */
void eio_session_allow_backlog(struct eio_session *s, size_t bytes);

/* Closes the session after what is queued has been flushed (bounded by a
 * short grace period). on_close(reason) follows from the event loop. */
void eio_session_close(struct eio_session *s, const char *reason);

const char *eio_session_sid(const struct eio_session *s);
const char *eio_session_peer_ip(const struct eio_session *s);
const char *eio_session_transport(const struct eio_session *s);
int eio_session_is_closing(const struct eio_session *s);
/* 3 for an Engine.IO v3 client (EIO=3: socket.io-client 2.x), else 4. */
int eio_session_protocol(const struct eio_session *s);
void eio_session_set_user(struct eio_session *s, void *user);
void *eio_session_get_user(const struct eio_session *s);
struct eio_server *eio_session_server(const struct eio_session *s);
struct lws_context *eio_server_context(const struct eio_server *srv);

/* Writes len random URL-safe characters and a NUL (out has len+1 bytes;
 * len <= 64). Used for Engine.IO sids and Socket.IO socket ids. */
void eio_random_id(char *out, size_t len);

#endif
