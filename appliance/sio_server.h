/* sio_server.h -- a Socket.IO v5 server (over Engine.IO v4) on libwebsockets.
 *
 * One engine per process/event loop. Everything here runs on the lws service
 * thread: call no function from another thread. The engine either creates
 * the lws context itself (sio_server_create) with its own protocol as
 * protocols[0] -- socket.io-client sends no WebSocket subprotocol, so HTTP
 * long-polling and WebSocket must both land on protocols[0] -- followed by
 * the caller's extra protocols (RAW_FILE for a master socketpair, Redis fds,
 * ...), all in the one default vhost.
 *
 * Two ways in for clients:
 *   - listen_port > 0: the vhost listens on bind_address:listen_port;
 *   - sio_server_adopt_fd(): an fd accepted elsewhere (the master) is
 *     adopted into the vhost (lws_adopt_socket_vhost) and served the same way.
 *
 * Lifetimes (who owns what):
 *   - struct sio_server: created by sio_server_create, freed by
 *     sio_server_destroy (which also destroys the lws context it created).
 *   - struct sio_socket: one per connected namespace socket, owned by the
 *     engine. Valid from on_connect until on_disconnect returns; never keep a
 *     pointer past on_disconnect. on_disconnect is called exactly once for
 *     every socket whose on_connect accepted it, also at shutdown/destroy.
 *   - cJSON arguments passed to handlers are owned by the engine and freed
 *     when the handler returns: copy (cJSON_Duplicate) what you keep.
 *   - Arguments passed to sio_socket_emit* are only read: the engine
 *     serialises them before returning.
 *
 * Errors: functions returning int give 0 on success and a negative
 * SIO_E* code on failure (sio_strerror() names it). A failed send never
 * frees the socket under the caller: a socket that must be dropped (send
 * queue over send_queue_max, closed transport) is closed later from the
 * event loop and on_disconnect follows. */
#ifndef PERFLOAD_SIO_SERVER_H
#define PERFLOAD_SIO_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

struct lws_context;
struct lws_vhost;
struct lws_protocols;
struct worker_stats;
struct eio_server;

#define SIO_OK          0
#define SIO_EINVAL     -1   /* bad argument (NULL, empty event name, ...) */
#define SIO_ENOMEM     -2   /* allocation failed */
#define SIO_ECLOSED    -3   /* socket is closing/closed: nothing was sent */
#define SIO_EQUEUEFULL -4   /* send queue over send_queue_max: socket is being dropped */
#define SIO_ELWS       -5   /* libwebsockets refused (context, listen, adopt) */
#define SIO_ETOOBIG    -6   /* encoded packet larger than the peer's maxPayload */

const char *sio_strerror(int err);

struct sio_server;
struct sio_socket;

/* Every field may be left 0/NULL for its default (shown after the field). */
struct sio_server_options {
    int ping_interval_ms;         /* 25000: server sends Engine.IO ping this often */
    int ping_timeout_ms;          /* 20000: peer must answer a ping within this */
    int connect_timeout_ms;       /* 45000: Engine.IO session without Socket.IO CONNECT is closed */
    size_t max_payload;           /* 1000000: largest packet/payload accepted from a peer (bytes) */
    size_t send_queue_max;        /* 4 MiB: bytes queued per session before it is dropped as slow */
    const char *path;             /* "/socket.io/": URL path of the endpoint (with trailing '/') */
    const char *const *namespaces;/* NULL-terminated allowed namespaces; NULL = only "/" */
    int listen_port;              /* 0 = no listener (fds come via sio_server_adopt_fd) */
    const char *bind_address;     /* NULL = all interfaces; e.g. "127.0.0.1" */
    const char *worker_name;      /* sent as "X-PerfLoad-Worker: <name>" on HTTP replies; NULL = none */
    struct worker_stats *stats;   /* may be NULL: connections, connections_total, messages_in/out,
                                   * protocol_errors, slow_clients_dropped are updated */
    void *user;                   /* passed to every handler */
    int log_level;                /* 0 error 1 warn 2 info 3 debug (one line per event, to stderr) */
    int refuse_eio3;              /* 0: also serve Engine.IO v3 / socket.io-client 2.x (EIO=3:
                                   * implicit CONNECT to "/", client pings, "<len>:" payloads);
                                   * 1: answer EIO=3 with 400 */
    const char *tls_cert_path;    /* NULL/"" = plain TCP; else a PEM certificate (chain) file: the
                                   * listener and every adopted fd speak TLS (https/wss) only */
    const char *tls_key_path;     /* the PEM private key of tls_cert_path */
};

struct sio_handlers {
    /* A client sent CONNECT for an allowed namespace. auth is the CONNECT
     * payload (an object) or NULL when none was sent. Return 0 to accept
     * (the engine replies CONNECT {"sid"}), non-zero to refuse (the engine
     * replies CONNECT_ERROR {"message":"Not authorized"} and on_disconnect is
     * NOT called for this socket). May emit on s before returning 0. */
    int (*on_connect)(struct sio_socket *s, const char *nsp, const cJSON *auth, void *user);

    /* An EVENT (or BINARY_EVENT with placeholders left in place) arrived.
     * args: array of the arguments after the event name (never NULL, maybe
     * empty). arg0_raw/arg0_len: the exact JSON text of the first argument as
     * received, for pass-through without re-serialising; NULL when there is
     * no argument. ack_id: the id to answer with sio_socket_ack, or -1. */
    void (*on_event)(struct sio_socket *s, const char *event, const cJSON *args,
                     const char *arg0_raw, size_t arg0_len, long ack_id, void *user);

    /* The socket is gone. reason is one of the Socket.IO reasons:
     * "client namespace disconnect", "server namespace disconnect",
     * "transport close", "transport error", "ping timeout", "parse error",
     * "forced close", "server shutting down". After return s is freed. */
    void (*on_disconnect)(struct sio_socket *s, const char *reason, void *user);

    /* Optional hot path, tried before on_event for an EVENT of the shape
     * ["<plain name>"] or ["<plain name>",<arg0>] (see sio_event_split):
     * the engine builds no tree. arg0_raw is only delimited, not validated:
     * the handler must validate it before use. Return 1 when handled; 0 to
     * have the engine parse the packet fully and call on_event (so a
     * handler that finds arg0 malformed gets the engine's usual protocol
     * error for invalid JSON). */
    int (*on_event_raw)(struct sio_socket *s, const char *event, const char *arg0_raw,
                        size_t arg0_len, long ack_id, void *user);
};

/* Creates the lws context (protocols[0] = the engine, then extra_protocols,
 * a NULL-terminated array that may be NULL; the engine copies the array, the
 * caller keeps the strings/user data alive), the vhost and, if
 * listen_port > 0, the listener. handlers is copied. Returns NULL and a
 * one-line reason in err on failure. */
struct sio_server *sio_server_create(const struct sio_server_options *opts,
                                     const struct sio_handlers *handlers,
                                     const struct lws_protocols *extra_protocols,
                                     char *err, size_t errlen);

struct lws_context *sio_server_context(struct sio_server *server);
struct lws_vhost *sio_server_vhost(struct sio_server *server);
/* The Engine.IO layer, for mounting a raw Engine.IO endpoint (see eio_server.h). */
struct eio_server *sio_server_eio(struct sio_server *server);

/* Runs one lws_service() round, returning after at most about timeout_ms
 * (lws 4.1 itself ignores the timeout and sleeps until its next timer, up to
 * ~30 s when idle; the engine arms a timer of its own). Returns <0 when the
 * context is done. Callers may also call lws_service() themselves. */
int sio_server_service(struct sio_server *server, int timeout_ms);

/* Adopts an accepted, connected TCP fd (blocking or not) into the engine's
 * vhost: HTTP polling or WebSocket upgrade follows as on a listener. On
 * failure the fd is closed and SIO_ELWS returned. */
int sio_server_adopt_fd(struct sio_server *server, int fd);

/* Graceful stop (SIGTERM): sends Socket.IO DISCONNECT on every socket,
 * Engine.IO close on every session, completes pending polls, calls
 * on_disconnect(..., "server shutting down") for every socket and refuses
 * new sessions. Keep servicing the loop briefly afterwards so the bytes go
 * out (sio_server_idle() tells when every session is gone). */
void sio_server_shutdown(struct sio_server *server);
/* 1 when no Engine.IO session is left (after shutdown: safe to destroy). */
int sio_server_idle(struct sio_server *server);

/* Frees everything, calling on_disconnect for sockets still connected, and
 * destroys the lws context. server may be NULL. */
void sio_server_destroy(struct sio_server *server);

/* Sends `event` with one already-serialised JSON argument (json/len must be
 * valid JSON text; json NULL = no argument) to every local socket in room
 * (in the "/" namespace and any other). The frame is encoded once and shared
 * (refcounted) by every member's send queue. Returns the number of sockets it
 * was queued to (>= 0) or a negative SIO_E*. A member whose queue overflows
 * is dropped as a slow client; the others still get the frame. */
int sio_server_room_emit_raw(struct sio_server *server, const char *room,
                             const char *event, const char *json, size_t len);
/* Local members of room (0 for an unknown room). */
size_t sio_server_room_size(struct sio_server *server, const char *room);

/* Counters of this engine (also mirrored into opts.stats when given). */
struct sio_server_counters {
    uint64_t sessions;            /* gauge: open Engine.IO sessions */
    uint64_t sockets;             /* gauge: connected Socket.IO sockets */
    uint64_t sessions_total;
    uint64_t packets_in;          /* Socket.IO packets received */
    uint64_t packets_out;         /* Socket.IO packets queued (one per receiving socket) */
    uint64_t protocol_errors;     /* malformed input of any layer */
    uint64_t slow_dropped;        /* sessions dropped for a full send queue */
    uint64_t ping_timeouts;
};
void sio_server_counters(struct sio_server *server, struct sio_server_counters *out);

/* -- sockets ------------------------------------------------------------- */

/* Emits event with one argument (arg NULL = no argument). */
int sio_socket_emit(struct sio_socket *s, const char *event, const cJSON *arg);
/* Same with the argument already serialised as JSON text (json NULL = none):
 * builds 42["event",<json>] without cJSON. */
int sio_socket_emit_raw(struct sio_socket *s, const char *event, const char *json, size_t len);
/* Before emitting a burst of about `bytes` at once (a snapshot): the
 * socket's send queue may exceed send_queue_max by that much until it has
 * drained below it again, instead of the socket being dropped as a slow
 * reader (eio_session_allow_backlog). */
void sio_socket_allow_backlog(struct sio_socket *s, size_t bytes);
/* Answers an event's ack_id; args is a JSON array (NULL = empty array). */
int sio_socket_ack(struct sio_socket *s, long ack_id, const cJSON *args);

/* Binary attachments (BINARY_EVENT / BINARY_ACK). */
struct sio_attachment {
    const void *data;
    size_t len;
};
/* During on_event only: the binary attachments that came with the event
 * (the args hold {"_placeholder":true,"num":i} for each). NULL/0 otherwise. */
const struct sio_attachment *sio_socket_attachments(const struct sio_socket *s, size_t *count);
/* Low-level send: EVENT (ack_id -1) or ACK, with data (a JSON array: for an
 * event, the name first) and optional binary attachments; with natt > 0 the
 * packet becomes BINARY_EVENT / BINARY_ACK followed by the attachments. */
int sio_socket_send_packet(struct sio_socket *s, int is_ack, long ack_id, const cJSON *data,
                           const struct sio_attachment *att, size_t natt);

/* Rooms: a socket may be in any number of rooms; they are left
 * automatically on disconnect. join of a room already joined is a no-op. */
int sio_socket_join(struct sio_socket *s, const char *room);
int sio_socket_leave(struct sio_socket *s, const char *room);
int sio_socket_in_room(const struct sio_socket *s, const char *room);

/* Sends a Socket.IO DISCONNECT for the socket's namespace, then closes the
 * Engine.IO session once it has been flushed: socket.io-client sees
 * "io server disconnect" and does not reconnect. on_disconnect follows (with
 * "server namespace disconnect") from the event loop, not from inside this call. */
int sio_socket_disconnect(struct sio_socket *s);

void sio_socket_set_user(struct sio_socket *s, void *user);
void *sio_socket_get_user(const struct sio_socket *s);
/* The Socket.IO socket id (random, URL-safe, NUL-terminated). */
const char *sio_socket_id(const struct sio_socket *s);
/* The Engine.IO session id. */
const char *sio_socket_sid(const struct sio_socket *s);
const char *sio_socket_nsp(const struct sio_socket *s);
/* Peer address in text form ("127.0.0.1", "::1"); "" when unknown. */
const char *sio_socket_peer_ip(const struct sio_socket *s);
/* "polling" or "websocket" (the current transport). */
const char *sio_socket_transport(const struct sio_socket *s);
struct sio_server *sio_socket_server(const struct sio_socket *s);

#endif
