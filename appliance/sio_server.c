/* sio_server.c -- the Socket.IO engine: lws context, Engine.IO endpoint,
 * per-session clients, namespace CONNECT/DISCONNECT, packet dispatch,
 * binary attachments, connect timeout, shutdown. Sockets and rooms are in
 * sio_socket.c. */
#include "sio_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "stats.h"

const char *sio_strerror(int err)
{
    switch (err) {
    case SIO_OK: return "ok";
    case SIO_EINVAL: return "invalid argument";
    case SIO_ENOMEM: return "out of memory";
    case SIO_ECLOSED: return "socket closed";
    case SIO_EQUEUEFULL: return "send queue full (slow client dropped)";
    case SIO_ELWS: return "libwebsockets error";
    case SIO_ETOOBIG: return "packet too big";
    default: return "unknown error";
    }
}

static int nsp_allowed(const struct sio_server *server, const char *nsp)
{
    char *const *n;

    for (n = server->namespaces; *n; n++)
        if (strcmp(*n, nsp) == 0)
            return 1;
    return 0;
}

static struct sio_socket *socket_for(struct sio_client *c, const char *nsp)
{
    struct sio_socket *s;

    for (s = c->sockets; s; s = s->next)
        if (strcmp(s->nsp, nsp) == 0)
            return s;
    return NULL;
}

static void count_in(struct sio_server *server)
{
    server->c.packets_in++;
    if (server->o.stats)
        server->o.stats->messages_in++;
}

/* Malformed input: count it and end the session (what socket.io does). */
static void client_protocol_error(struct sio_client *c, const char *what)
{
    eio_server_count_protocol_error(c->server->eio);
    eio_server_log(c->server->eio, "sio", 2, "sid %s peer %s: %s, closing", eio_session_sid(c->eio),
                   eio_session_peer_ip(c->eio), what);
    eio_session_close(c->eio, "parse error");
}

/* Sends a raw Socket.IO packet (no Engine.IO prefix) on the session. */
static void client_send(struct sio_client *c, const char *pkt, size_t len)
{
    struct eio_buf *b = eio_buf_new(len + 1, 0);

    if (b == NULL)
        return;
    eio_buf_payload(b)[0] = '4';
    memcpy(eio_buf_payload(b) + 1, pkt, len);
    if (eio_session_send_buf(c->eio, b) == 0)
        sio_count_out(c->server);
    eio_buf_unref(b);
}

static int client_v3(const struct sio_client *c)
{
    return eio_session_protocol(c->eio) == 3;
}

/* CONNECT_ERROR: {"message":...} for v5 clients, a bare string for the v4
 * protocol of socket.io-client 2.x (Engine.IO v3). */
static void send_connect_error(struct sio_client *c, const char *nsp, const char *message)
{
    char json[128], pkt[SIO_NSP_MAX + 160];
    int jn = client_v3(c) ? snprintf(json, sizeof(json), "\"%s\"", message)
                          : snprintf(json, sizeof(json), "{\"message\":\"%s\"}", message);
    int n = sio_encode(SIO_CONNECT_ERROR, nsp, 0, -1, json, (size_t)jn, pkt, sizeof(pkt));

    if (n > 0)
        client_send(c, pkt, (size_t)n);
}

/* -- packets ------------------------------------------------------------------ */

/* Connects the client to nsp (auth may be NULL): on_connect decides. */
static void connect_namespace(struct sio_client *c, const char *nsp, const cJSON *auth)
{
    struct sio_server *server = c->server;
    struct sio_socket *s;
    char json[64], pkt[SIO_NSP_MAX + 96];
    int n, jn = 0;

    if (!nsp_allowed(server, nsp) || server->shutting_down) {
        send_connect_error(c, nsp, "Invalid namespace");
        return;
    }
    if (socket_for(c, nsp) != NULL) {
        /* socket.io-client 2.x may repeat the implicit CONNECT to "/" */
        if (!client_v3(c))
            client_protocol_error(c, "CONNECT to a namespace already connected");
        return;
    }
    s = sio_socket_new(c, nsp);
    if (s == NULL) {
        eio_session_close(c->eio, "forced close");
        return;
    }
    if (c->t.q == &server->tq_connect)
        eio_timer_cancel(&c->t);   /* not a pending reap */
    s->connecting = 1;
    if (server->h.on_connect && server->h.on_connect(s, nsp, auth, server->o.user) != 0) {
        sio_socket_free(s, "refused", 0);
        send_connect_error(c, nsp, "Not authorized");
        return;
    }
    server->c.sockets++;
    if (!client_v3(c)) /* v4-protocol clients get a bare CONNECT */
        jn = snprintf(json, sizeof(json), "{\"sid\":\"%s\"}", s->id);
    n = sio_encode(SIO_CONNECT, nsp, 0, -1, json, (size_t)jn, pkt, sizeof(pkt));
    if (n > 0)
        client_send(c, pkt, (size_t)n);
    sio_socket_release_held(s);
}

static void on_connect_packet(struct sio_client *c, const struct sio_packet *p, char *nsp)
{
    cJSON *auth = NULL;

    if (client_v3(c)) {
        /* v4 protocol: "0/nsp?query," -- the query is not part of the name */
        char *q = strchr(nsp, '?');

        if (q)
            *q = '\0';
    }
    if (sio_decode_data(p, &auth) != 0) {
        client_protocol_error(c, "invalid CONNECT payload");
        return;
    }
    connect_namespace(c, nsp, auth);
    cJSON_Delete(auth);
}

static void deliver_event(struct sio_client *c, struct sio_socket *s, const struct sio_packet *p,
                          cJSON *data)
{
    struct sio_server *server = c->server;
    cJSON *name = cJSON_DetachItemFromArray(data, 0);
    const char *arg0 = NULL;
    size_t arg0_len = 0;

    if (sio_event_arg0(p->data, p->data_len, &arg0, &arg0_len) != 0) {
        arg0 = NULL;
        arg0_len = 0;
    }
    if (server->h.on_event && !s->disconnecting)
        server->h.on_event(s, name->valuestring, data, arg0, arg0_len, p->ack_id, server->o.user);
    cJSON_Delete(name);
}

/* Event names longer than this take the full path (ours are short). */
#define SIO_EVENT_NAME_RAW_MAX 64

/* The hot path of agent samples: no cJSON tree for an event the handler
 * can take from its raw text. 1 when it was handled. */
static int try_event_raw(struct sio_client *c, struct sio_socket *s, const struct sio_packet *p)
{
    struct sio_server *server = c->server;
    char name[SIO_EVENT_NAME_RAW_MAX];
    const char *arg0;
    size_t arg0_len;

    if (server->h.on_event_raw == NULL || s->disconnecting)
        return 0;
    if (sio_event_split(p->data, p->data_len, name, sizeof(name), &arg0, &arg0_len) != 0)
        return 0;
    return server->h.on_event_raw(s, name, arg0, arg0_len, p->ack_id, server->o.user);
}

/* A complete packet (attachments, if any, gathered in c->bin). */
static void dispatch(struct sio_client *c, const struct sio_packet *p)
{
    char nsp[SIO_NSP_MAX + 1];
    struct sio_socket *s;
    cJSON *data = NULL;

    memcpy(nsp, p->nsp, p->nsp_len);
    nsp[p->nsp_len] = '\0';
    if (strlen(nsp) != p->nsp_len) {
        client_protocol_error(c, "NUL in namespace");
        return;
    }
    count_in(c->server);
    if (p->type == SIO_CONNECT) {
        on_connect_packet(c, p, nsp);
        return;
    }
    s = socket_for(c, nsp);
    if (s != NULL && p->type == SIO_EVENT && try_event_raw(c, s, p))
        return;
    if (s == NULL || sio_decode_data(p, &data) != 0) {
        cJSON_Delete(data);
        client_protocol_error(c, s ? "invalid packet data" : "packet for a namespace not connected");
        return;
    }
    switch (p->type) {
    case SIO_DISCONNECT:
        sio_socket_free(s, "client namespace disconnect", 1);
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        c->server->cur_att = c->bin ? c->bin->att : NULL;
        c->server->cur_natt = c->bin ? c->bin->natt : 0;
        deliver_event(c, s, p, data);
        c->server->cur_att = NULL;
        c->server->cur_natt = 0;
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        break; /* the engine sends no acked events; nothing waits */
    default:
        client_protocol_error(c, "unexpected packet type from a client");
        break;
    }
    cJSON_Delete(data);
}

static void bin_reset(struct sio_client *c)
{
    struct sio_binary *b = c->bin;
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->natt; i++)
        free((void *)b->att[i].data);
    free(b->att);
    free(b->packet);
    free(b);
    c->bin = NULL;
}

static void eio_on_message(struct eio_session *e, const char *data, size_t len, int binary, void *user)
{
    struct sio_client *c = eio_session_get_user(e);
    struct sio_packet p;

    (void)user;
    if (c == NULL)
        return;
    if (binary) {
        struct sio_binary *b = c->bin;
        void *copy;

        if (b == NULL) {
            client_protocol_error(c, "unexpected binary message");
            return;
        }
        copy = malloc(len ? len : 1);
        if (copy == NULL) {
            eio_session_close(e, "forced close");
            return;
        }
        memcpy(copy, data, len);
        b->att[b->natt].data = copy;
        b->att[b->natt].len = len;
        b->natt++;
        if ((long)b->natt == b->expected) {
            if (sio_decode(b->packet, b->packet_len, &p) == 0)
                dispatch(c, &p);
            bin_reset(c);
        }
        return;
    }
    if (c->bin) {
        client_protocol_error(c, "text packet while attachments are pending");
        return;
    }
    if (sio_decode(data, len, &p) != 0) {
        client_protocol_error(c, "invalid Socket.IO packet");
        return;
    }
    if ((p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK) && p.attachments > 0) {
        struct sio_binary *b = calloc(1, sizeof(*b));

        c->bin = b;
        if (b != NULL) {
            b->packet = malloc(len);
            b->att = calloc((size_t)p.attachments, sizeof(*b->att));
        }
        if (b == NULL || b->packet == NULL || b->att == NULL) {
            bin_reset(c);
            eio_session_close(e, "forced close");
            return;
        }
        memcpy(b->packet, data, len);
        b->packet_len = len;
        b->expected = p.attachments;
        return;
    }
    dispatch(c, &p);
}

/* -- sessions --------------------------------------------------------------------- */

static void connect_timeout(struct eio_timer *t)
{
    struct sio_client *c = lws_container_of(t, struct sio_client, t);

    if (c->sockets == NULL) {
        eio_server_log(c->server->eio, "sio", 2, "sid %s peer %s: no CONNECT in time, closing",
                       eio_session_sid(c->eio), eio_session_peer_ip(c->eio));
        eio_session_close(c->eio, "forced close");
    }
}

static int eio_on_open(struct eio_session *e, void *user)
{
    struct sio_server *server = user;
    struct sio_client *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return -1;
    c->server = server;
    c->eio = e;
    eio_session_set_user(e, c);
    eio_timer_schedule(&server->tq_connect, &c->t, connect_timeout,
                       (lws_usec_t)server->o.connect_timeout_ms * 1000);
    /* socket.io-client 2.x never sends CONNECT for "/": it is implied by
     * the Engine.IO session (what socket.io's allowEIO3 does). */
    if (client_v3(c))
        connect_namespace(c, "/", NULL);
    return 0;
}

static void eio_on_close(struct eio_session *e, const char *reason, void *user)
{
    struct sio_client *c = eio_session_get_user(e);

    (void)user;
    if (c == NULL)
        return;
    eio_timer_cancel(&c->t);
    while (c->sockets)
        sio_socket_free(c->sockets, reason, !c->sockets->connecting);
    bin_reset(c);
    eio_session_set_user(e, NULL);
    free(c);
}

/* Frees sockets that sio_socket_disconnect marked, outside the caller's stack. */
static void reap_disconnected(struct eio_timer *t)
{
    struct sio_client *c = lws_container_of(t, struct sio_client, t);
    struct sio_socket *s, *next;

    for (s = c->sockets; s; s = next) {
        next = s->next;
        if (s->disconnecting)
            sio_socket_free(s, "server namespace disconnect", 1);
    }
}

int sio_socket_disconnect(struct sio_socket *s)
{
    struct sio_client *c;
    struct sio_socket *o;
    char pkt[SIO_NSP_MAX + 8];
    int n, others = 0;

    if (s == NULL)
        return SIO_EINVAL;
    if (s->disconnecting)
        return SIO_OK;
    c = s->client;
    n = sio_encode(SIO_DISCONNECT, s->nsp, 0, -1, NULL, 0, pkt, sizeof(pkt));
    if (n > 0)
        client_send(c, pkt, (size_t)n);
    s->disconnecting = 1;
    for (o = c->sockets; o; o = o->next)
        if (!o->disconnecting)
            others++;
    if (others == 0) {
        /* Its last namespace: end the session once the packet is out; the
         * sockets go with it (on_close, "server namespace disconnect"). */
        eio_session_close(c->eio, "server namespace disconnect");
    } else {
        eio_timer_schedule(&c->server->tq_reap, &c->t, reap_disconnected, 1);
    }
    return SIO_OK;
}

/* -- server ---------------------------------------------------------------------- */

static const lws_retry_bo_t sio_no_validity_checks = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

static void service_turn_end(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ONE);
}

struct sio_server *sio_server_create(const struct sio_server_options *opts,
                                     const struct sio_handlers *handlers,
                                     const struct lws_protocols *extra_protocols,
                                     char *err, size_t errlen)
{
    struct sio_server *server = calloc(1, sizeof(*server));
    struct lws_context_creation_info info;
    struct eio_server_options eo;
    struct eio_endpoint_options ep;
    size_t nextra = 0, nns = 0, i;

    if (server == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (opts)
        server->o = *opts;
    if (handlers)
        server->h = *handlers;
    if (server->o.ping_interval_ms <= 0) server->o.ping_interval_ms = 25000;
    if (server->o.ping_timeout_ms <= 0) server->o.ping_timeout_ms = 20000;
    if (server->o.connect_timeout_ms <= 0) server->o.connect_timeout_ms = 45000;
    if (server->o.max_payload == 0) server->o.max_payload = 1000000;
    if (server->o.send_queue_max == 0) server->o.send_queue_max = 4u << 20;
    snprintf(server->path, sizeof(server->path), "%s", server->o.path ? server->o.path : "/socket.io/");
    server->o.path = server->path;
    if (server->o.worker_name)
        snprintf(server->worker_name, sizeof(server->worker_name), "%s", server->o.worker_name);
    if (server->o.bind_address)
        snprintf(server->bind_address, sizeof(server->bind_address), "%s", server->o.bind_address);

    if (server->o.namespaces)
        while (server->o.namespaces[nns])
            nns++;
    server->namespaces = calloc(nns + 2, sizeof(char *));
    if (server->namespaces == NULL)
        goto oom;
    if (nns == 0)
        server->namespaces[0] = strdup("/");
    for (i = 0; i < nns; i++)
        if ((server->namespaces[i] = strdup(server->o.namespaces[i])) == NULL)
            goto oom;
    if (server->namespaces[0] == NULL)
        goto oom;
    server->o.namespaces = NULL;

    memset(&eo, 0, sizeof(eo));
    eo.worker_name = server->worker_name[0] ? server->worker_name : NULL;
    eo.stats = server->o.stats;
    eo.log_level = server->o.log_level;
    server->eio = eio_server_create(&eo);
    if (server->eio == NULL)
        goto oom;
    memset(&ep, 0, sizeof(ep));
    ep.path = server->path;
    ep.ping_interval_ms = server->o.ping_interval_ms;
    ep.ping_timeout_ms = server->o.ping_timeout_ms;
    ep.max_payload = server->o.max_payload;
    ep.send_queue_max = server->o.send_queue_max;
    ep.handlers.on_open = eio_on_open;
    ep.handlers.on_message = eio_on_message;
    ep.handlers.on_close = eio_on_close;
    ep.user = server;
    ep.refuse_eio3 = server->o.refuse_eio3;
    if (eio_server_mount(server->eio, &ep) == NULL) {
        snprintf(err, errlen, "invalid path '%s'", server->path);
        sio_server_destroy(server);
        return NULL;
    }

    if (extra_protocols)
        while (extra_protocols[nextra].name || extra_protocols[nextra].callback)
            nextra++;
    server->protocols = calloc(nextra + 2, sizeof(*server->protocols));
    if (server->protocols == NULL)
        goto oom;
    eio_server_fill_protocol(server->eio, &server->protocols[0], "perfload-eio");
    for (i = 0; i < nextra; i++)
        server->protocols[i + 1] = extra_protocols[i];

    /* lws's default loop is poll(): every turn walks every fd, so a worker
     * with 20,000 idle agents spends its time in sock_poll (measured with
     * perf, docs/benchmarks.md). libev on epoll costs per ready fd. The
     * loop is ours (a foreign loop) so a check watcher can end ev_run()
     * after each turn: lws_service() then returns like the poll() loop
     * did, and callers keep their `while (!done) lws_service()`. */
    server->loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
    if (server->loop == NULL) {
        snprintf(err, errlen, "libev: no epoll loop");
        sio_server_destroy(server);
        return NULL;
    }
    ev_check_init(&server->turn_end, service_turn_end);
    ev_check_start(server->loop, &server->turn_end);
    server->foreign_loops[0] = server->loop;

    /* lws logs NOTICEs by default, and its libev glue writes one for every
     * event on a raw fd (each Redis reply): errors and warnings only,
     * unless debugging. */
    lws_set_log_level(server->o.log_level >= 3 ? LLL_ERR | LLL_WARN | LLL_NOTICE : LLL_ERR | LLL_WARN, NULL);

    memset(&info, 0, sizeof(info));
    /* No lws "validity" timers: Engine.IO's ping/pong already ends dead
     * sessions, and lws's default policy (ping after 300 s) puts a sul per
     * connection at the far end of lws's sorted timer list, so every
     * connect walked the whole list (perf: lws_dll2_add_sorted 48 % of a
     * worker at 20,000 agents). A zero hangup time turns them off. */
    info.retry_and_idle_policy = &sio_no_validity_checks;
    info.options = LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = server->foreign_loops;
    info.port = server->o.listen_port > 0 ? server->o.listen_port : CONTEXT_PORT_NO_LISTEN_SERVER;
    info.iface = server->bind_address[0] ? server->bind_address : NULL;
    info.protocols = server->protocols;
    info.user = server;
    /* Held polling GETs keep their header table: allow many at once. */
    info.max_http_header_pool = 4096;
    info.keepalive_timeout = 30;
    /* A connection that never completes its first HTTP request holds a
     * header table and is closed after this long (lws's default too; set
     * so the half-open bound in docs/reliability.md cannot drift). */
    info.timeout_secs_ah_idle = 10;
    /* TLS on the default vhost: lws loads the files here (a bad file fails
     * the create) and adopted fds handshake because of LWS_ADOPT_ALLOW_SSL. */
    if (server->o.tls_cert_path && server->o.tls_cert_path[0]) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = server->o.tls_cert_path;
        info.ssl_private_key_filepath = server->o.tls_key_path;
    }
    server->ctx = lws_create_context(&info);
    if (server->ctx == NULL) {
        /* No libev plugin (libwebsockets-evlib-ev) installed: poll() still
         * works, it only scales worse. */
        fprintf(stderr, "sio warn: libwebsockets' libev plugin unavailable, using poll()\n");
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = NULL;
        server->ctx = lws_create_context(&info);
    }
    if (server->ctx == NULL) {
        snprintf(err, errlen, "lws_create_context failed (port %d in use?)", server->o.listen_port);
        sio_server_destroy(server);
        return NULL;
    }
    server->vhost = lws_get_vhost_by_name(server->ctx, "default");
    eio_server_set_context(server->eio, server->ctx);
    eio_timerq_set_context(&server->tq_connect, server->ctx);
    eio_timerq_set_context(&server->tq_reap, server->ctx);
    return server;

oom:
    snprintf(err, errlen, "out of memory");
    sio_server_destroy(server);
    return NULL;
}

struct lws_context *sio_server_context(struct sio_server *server) { return server->ctx; }
struct lws_vhost *sio_server_vhost(struct sio_server *server) { return server->vhost; }
struct eio_server *sio_server_eio(struct sio_server *server) { return server->eio; }

static void service_wakeup(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* only there to end the poll() of lws_service */
}

int sio_server_service(struct sio_server *server, int timeout_ms)
{
    /* lws 4.1 ignores lws_service()'s timeout and sleeps until its next
     * timer (up to ~30 s when idle): a timer of our own bounds the wait. */
    if (timeout_ms >= 0)
        lws_sul_schedule(server->ctx, 0, &server->service_sul, service_wakeup,
                         (lws_usec_t)timeout_ms * LWS_US_PER_MS);
    return lws_service(server->ctx, timeout_ms);
}

int sio_server_adopt_fd(struct sio_server *server, int fd)
{
    if (server->shutting_down || server->vhost == NULL) {
        close(fd);
        return SIO_ECLOSED;
    }
    /* Engine.IO packets are small writes: without TCP_NODELAY, Nagle holds
     * one back until the previous is acknowledged, and the peer may delay
     * that ACK by up to 40 ms. lws sets it only on sockets it accepts
     * itself. Not TCP (a socketpair in tests): the option is refused. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* lws closes the fd itself when adoption fails. ALLOW_SSL: TLS when
     * the vhost has a certificate, plain otherwise. */
    lws_sock_file_fd_type sock;
    sock.sockfd = fd;
    return lws_adopt_descriptor_vhost(server->vhost,
                                      LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | LWS_ADOPT_ALLOW_SSL,
                                      sock, NULL, NULL) ? SIO_OK : SIO_ELWS;
}

static void disconnect_sockets(struct eio_session *e, void *arg)
{
    struct sio_client *c = eio_session_get_user(e);
    struct sio_socket *s;
    char pkt[SIO_NSP_MAX + 8];
    int n;

    (void)arg;
    if (c == NULL)
        return;
    for (s = c->sockets; s; s = s->next) {
        if (s->connecting || s->disconnecting)
            continue;
        n = sio_encode(SIO_DISCONNECT, s->nsp, 0, -1, NULL, 0, pkt, sizeof(pkt));
        if (n > 0)
            client_send(c, pkt, (size_t)n);
        s->disconnecting = 1;
    }
}

void sio_server_shutdown(struct sio_server *server)
{
    server->shutting_down = 1;
    /* Each socket gets a DISCONNECT first, so clients see "io server
     * disconnect" and do not retry against a stopping server; then every
     * session is flushed and closed (on_disconnect: "server shutting down"). */
    eio_server_foreach(server->eio, disconnect_sockets, NULL);
    eio_server_shutdown(server->eio);
}

int sio_server_idle(struct sio_server *server)
{
    return eio_server_session_count(server->eio) == 0;
}

void sio_server_destroy(struct sio_server *server)
{
    char **n;

    if (server == NULL)
        return;
    /* Sessions first (on_disconnect for every socket), while the context
     * still exists for the timers they cancel; then the context. */
    if (server->ctx)
        lws_sul_cancel(&server->service_sul);
    if (server->eio)
        eio_server_destroy(server->eio);
    eio_timerq_destroy(&server->tq_connect);
    eio_timerq_destroy(&server->tq_reap);
    if (server->ctx)
        lws_context_destroy(server->ctx);
    if (server->loop) {
        ev_check_stop(server->loop, &server->turn_end);
        ev_loop_destroy(server->loop);
    }
    sio_rooms_free(server);
    if (server->namespaces) {
        for (n = server->namespaces; *n; n++)
            free(*n);
        free(server->namespaces);
    }
    free(server->protocols);
    free(server);
}

void sio_server_counters(struct sio_server *server, struct sio_server_counters *out)
{
    struct eio_server_counters ec;

    eio_server_counters(server->eio, &ec);
    *out = server->c;
    out->sessions = ec.sessions;
    out->sessions_total = ec.sessions_total;
    out->protocol_errors = ec.protocol_errors;
    out->slow_dropped = ec.slow_dropped;
    out->ping_timeouts = ec.ping_timeouts;
}
