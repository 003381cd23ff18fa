/* conformance_server.c -- the engine behaving as the official
 * socketio/socket.io-protocol and socketio/engine.io-protocol test suites
 * expect (their README "test suite" servers):
 *
 *   /socket.io/  namespaces "/" and "/custom"; on connect emit "auth" with
 *                the handshake auth; "message" -> "message-back" with the
 *                same arguments (binary attachments too); "message-with-ack"
 *                -> ack with the same arguments.
 *   /engine.io/  raw Engine.IO: every message echoed back as is.
 *
 * Defaults are the suites': pingInterval 300, pingTimeout 200, maxPayload
 * 1000000, connectTimeout 1000, port 3000. Extra events for PerfLoad's own
 * integration tests (tests/integration/protocol.test.mjs):
 *   "join" room / "leave" room, "broadcast" [room, event, arg],
 *   "flood" {count, size} (emits that much at once), "kick" (server
 *   disconnect), "stats" (ack with the engine's counters). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "eio_server.h"
#include "sio_server.h"

static volatile sig_atomic_t stop_requested;
static struct lws_context *signal_ctx;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (signal_ctx)
        lws_cancel_service(signal_ctx);
}

/* The "auth" emit is sent a few milliseconds after the CONNECT reply. The
 * suites read with ws 8.5, which dispatches every frame of one TCP read
 * synchronously, and they attach their next listener only after an await:
 * two frames arriving together lose the second. Node's engine.io happens to
 * flush each packet in its own tick; a short timer gives the same spacing. */
struct pending_auth {
    lws_sorted_usec_list_t sul;
    struct sio_socket *socket;
    char *json;
};

static void send_auth(lws_sorted_usec_list_t *sul)
{
    struct pending_auth *p = lws_container_of(sul, struct pending_auth, sul);

    sio_socket_emit_raw(p->socket, "auth", p->json, strlen(p->json));
    sio_socket_set_user(p->socket, NULL);
    free(p->json);
    free(p);
}

static int on_connect(struct sio_socket *s, const char *nsp, const cJSON *auth, void *user)
{
    struct pending_auth *p = calloc(1, sizeof(*p));

    (void)nsp;
    (void)user;
    if (p == NULL)
        return -1;
    p->socket = s;
    p->json = auth ? cJSON_PrintUnformatted(auth) : strdup("{}");
    if (p->json == NULL) {
        free(p);
        return -1;
    }
    sio_socket_set_user(s, p);
    lws_sul_schedule(sio_server_context(sio_socket_server(s)), 0, &p->sul, send_auth, 5 * LWS_US_PER_MS);
    return 0;
}

/* ["message-back", ...args] keeping binary attachments. */
static void echo_event(struct sio_socket *s, const char *name, const cJSON *args)
{
    cJSON *data = cJSON_Duplicate(args, 1);
    const struct sio_attachment *att;
    size_t natt;

    if (data == NULL)
        return;
    cJSON_InsertItemInArray(data, 0, cJSON_CreateString(name));
    att = sio_socket_attachments(s, &natt);
    sio_socket_send_packet(s, 0, -1, data, att, natt);
    cJSON_Delete(data);
}

static void flood(struct sio_socket *s, const cJSON *spec)
{
    int count = cJSON_GetNumberValue(cJSON_GetObjectItem(spec, "count"));
    int size = cJSON_GetNumberValue(cJSON_GetObjectItem(spec, "size"));
    char *json;
    int i;

    if (count <= 0 || count > 100000 || size <= 0 || size > 1000000)
        return;
    json = malloc((size_t)size + 3);
    if (json == NULL)
        return;
    json[0] = '"';
    memset(json + 1, 'x', (size_t)size);
    json[size + 1] = '"';
    for (i = 0; i < count; i++)
        if (sio_socket_emit_raw(s, "flood", json, (size_t)size + 2) != SIO_OK)
            break;
    free(json);
}

static void stats_ack(struct sio_socket *s, long ack_id)
{
    struct sio_server_counters c;
    cJSON *args = cJSON_CreateArray(), *o = cJSON_CreateObject();

    sio_server_counters(sio_socket_server(s), &c);
    cJSON_AddNumberToObject(o, "sessions", (double)c.sessions);
    cJSON_AddNumberToObject(o, "sockets", (double)c.sockets);
    cJSON_AddNumberToObject(o, "protocolErrors", (double)c.protocol_errors);
    cJSON_AddNumberToObject(o, "slowDropped", (double)c.slow_dropped);
    cJSON_AddNumberToObject(o, "pingTimeouts", (double)c.ping_timeouts);
    cJSON_AddStringToObject(o, "transport", sio_socket_transport(s));
    cJSON_AddStringToObject(o, "peer", sio_socket_peer_ip(s));
    cJSON_AddItemToArray(args, o);
    sio_socket_ack(s, ack_id, args);
    cJSON_Delete(args);
}

static void on_event(struct sio_socket *s, const char *event, const cJSON *args,
                     const char *arg0_raw, size_t arg0_len, long ack_id, void *user)
{
    const cJSON *a0 = cJSON_GetArrayItem(args, 0);

    (void)user;
    if (strcmp(event, "message") == 0) {
        echo_event(s, "message-back", args);
    } else if (strcmp(event, "message-with-ack") == 0 && ack_id >= 0) {
        const struct sio_attachment *att;
        size_t natt;

        att = sio_socket_attachments(s, &natt);
        sio_socket_send_packet(s, 1, ack_id, args, att, natt);
    } else if (strcmp(event, "join") == 0 && cJSON_IsString(a0)) {
        sio_socket_join(s, a0->valuestring);
        if (ack_id >= 0)
            sio_socket_ack(s, ack_id, NULL);
    } else if (strcmp(event, "leave") == 0 && cJSON_IsString(a0)) {
        sio_socket_leave(s, a0->valuestring);
        if (ack_id >= 0)
            sio_socket_ack(s, ack_id, NULL);
    } else if (strcmp(event, "broadcast") == 0 && cJSON_IsObject(a0)) {
        const cJSON *room = cJSON_GetObjectItem(a0, "room");
        const cJSON *ev = cJSON_GetObjectItem(a0, "event");
        const cJSON *arg = cJSON_GetObjectItem(a0, "arg");
        char *json = arg ? cJSON_PrintUnformatted(arg) : NULL;
        int n = -1;

        if (cJSON_IsString(room) && cJSON_IsString(ev))
            n = sio_server_room_emit_raw(sio_socket_server(s), room->valuestring, ev->valuestring,
                                         json, json ? strlen(json) : 0);
        free(json);
        if (ack_id >= 0) {
            cJSON *r = cJSON_CreateArray();

            cJSON_AddItemToArray(r, cJSON_CreateNumber(n));
            sio_socket_ack(s, ack_id, r);
            cJSON_Delete(r);
        }
    } else if (strcmp(event, "flood") == 0) {
        flood(s, a0);
    } else if (strcmp(event, "kick") == 0) {
        sio_socket_disconnect(s);
    } else if (strcmp(event, "stats") == 0 && ack_id >= 0) {
        stats_ack(s, ack_id);
    } else if (strcmp(event, "raw-echo") == 0 && arg0_raw) {
        /* pass-through of the first argument's exact text */
        sio_socket_emit_raw(s, "raw-echo", arg0_raw, arg0_len);
    }
}

static void on_disconnect(struct sio_socket *s, const char *reason, void *user)
{
    struct pending_auth *p = sio_socket_get_user(s);

    (void)reason;
    (void)user;
    if (p) {
        lws_sul_cancel(&p->sul);
        free(p->json);
        free(p);
    }
}

/* -- raw Engine.IO echo ----------------------------------------------------------- */

static void raw_message(struct eio_session *e, const char *data, size_t len, int binary, void *user)
{
    (void)user;
    if (binary) {
        eio_session_send_binary(e, data, len);
    } else {
        char *pkt = malloc(len + 1);

        if (pkt == NULL)
            return;
        pkt[0] = '4';
        memcpy(pkt + 1, data, len);
        eio_session_send_text(e, pkt, len + 1);
        free(pkt);
    }
}

static long arg_long(const char *v, long min, long max, const char *name)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        fprintf(stderr, "conformance-server: bad %s '%s'\n", name, v);
        return -1;
    }
    return n;
}

int main(int argc, char **argv)
{
    static const char *const namespaces[] = { "/", "/custom", NULL };
    struct sio_server_options o;
    struct sio_handlers h = { .on_connect = on_connect, .on_event = on_event, .on_disconnect = on_disconnect };
    struct eio_endpoint_options raw;
    struct sio_server *server;
    struct sigaction sa;
    char err[256];
    int i, quiet = 0;
    long waited;

    memset(&o, 0, sizeof(o));
    o.listen_port = 3000;
    o.ping_interval_ms = 300;
    o.ping_timeout_ms = 200;
    o.max_payload = 1000000;
    o.connect_timeout_ms = 1000;
    o.namespaces = namespaces;
    o.log_level = 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: conformance-server [--port N] [--bind ADDR] [--ping-interval MS] "
                   "[--ping-timeout MS]\n       [--connect-timeout MS] [--max-payload BYTES] "
                   "[--send-queue-max BYTES] [--worker-name NAME] [--log-level 0-3] [--quiet]\n");
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "conformance-server: %s needs a value (see --help)\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--bind") == 0) {
            o.bind_address = v;
            continue;
        }
        if (strcmp(a, "--worker-name") == 0) {
            o.worker_name = v;
            continue;
        }
        if (strcmp(a, "--port") == 0 && (n = arg_long(v, 1, 65535, a)) > 0)
            o.listen_port = (int)n;
        else if (strcmp(a, "--ping-interval") == 0 && (n = arg_long(v, 1, 3600000, a)) > 0)
            o.ping_interval_ms = (int)n;
        else if (strcmp(a, "--ping-timeout") == 0 && (n = arg_long(v, 1, 3600000, a)) > 0)
            o.ping_timeout_ms = (int)n;
        else if (strcmp(a, "--connect-timeout") == 0 && (n = arg_long(v, 1, 3600000, a)) > 0)
            o.connect_timeout_ms = (int)n;
        else if (strcmp(a, "--max-payload") == 0 && (n = arg_long(v, 1, 1L << 30, a)) > 0)
            o.max_payload = (size_t)n;
        else if (strcmp(a, "--send-queue-max") == 0 && (n = arg_long(v, 1, 1L << 30, a)) > 0)
            o.send_queue_max = (size_t)n;
        else if (strcmp(a, "--log-level") == 0 && (n = arg_long(v, 0, 3, a)) >= 0)
            o.log_level = (int)n;
        else {
            if (n == 0)
                fprintf(stderr, "conformance-server: unknown option %s (see --help)\n", a);
            return 2;
        }
    }

    lws_set_log_level(o.log_level >= 3 ? LLL_ERR | LLL_WARN | LLL_NOTICE : LLL_ERR, NULL);
    server = sio_server_create(&o, &h, NULL, err, sizeof(err));
    if (server == NULL) {
        fprintf(stderr, "conformance-server: %s\n", err);
        return 1;
    }
    memset(&raw, 0, sizeof(raw));
    raw.path = "/engine.io/";
    raw.ping_interval_ms = o.ping_interval_ms;
    raw.ping_timeout_ms = o.ping_timeout_ms;
    raw.max_payload = o.max_payload;
    raw.send_queue_max = o.send_queue_max;
    raw.handlers.on_message = raw_message;
    if (eio_server_mount(sio_server_eio(server), &raw) == NULL) {
        fprintf(stderr, "conformance-server: cannot mount /engine.io/\n");
        sio_server_destroy(server);
        return 1;
    }

    signal_ctx = sio_server_context(server);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!quiet)
        printf("conformance-server listening on port %d\n", o.listen_port);
    fflush(stdout);
    while (!stop_requested)
        if (sio_server_service(server, 1000) < 0)
            break;

    /* Graceful stop: DISCONNECT everyone, let the bytes go out (<= 2 s). */
    sio_server_shutdown(server);
    for (waited = 0; waited < 2000 && !sio_server_idle(server); waited += 50)
        if (sio_server_service(server, 50) < 0)
            break;
    /* Requests already on the wire (a pong POST racing the DISCONNECT) still
     * get their answer instead of a reset. */
    for (waited = 0; waited < 200; waited += 50)
        if (sio_server_service(server, 50) < 0)
            break;
    sio_server_destroy(server);
    return 0;
}
