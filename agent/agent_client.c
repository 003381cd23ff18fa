/* agent_client.c -- Socket.IO over WebSocket to the appliance, on lws. */
#include "agent_client.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <libwebsockets.h>

#include "collect_sample.h"
#include "eio_packet.h"
#include "sio_packet.h"

#define RX_MAX 16384                    /* largest server message we keep */
#define SAMPLE_JSON_MAX (96 * 1024)     /* 1000 per-core values + disks + net fit */
#define TX_MAX (SAMPLE_JSON_MAX + 64)   /* 42["initPerfData", ... ] */
#define HANDSHAKE_TIMEOUT_S 20.0        /* connect + Engine.IO OPEN */

enum client_state {
    CL_IDLE,            /* no connection; maybe a retry is scheduled */
    CL_CONNECTING,      /* TCP/TLS/WebSocket handshake under way */
    CL_OPEN,            /* Engine.IO OPEN received, Socket.IO CONNECT sent */
    CL_READY,           /* Socket.IO connected to "/" */
};

struct agent_client {
    const struct agent_options *opt;
    struct agent_proc *proc;
    struct lws_context *ctx;
    struct lws *wsi;                /* NULL while CL_IDLE */
    enum client_state state;
    int exit_code;
    int stopping;                   /* SIGINT/SIGTERM seen: say goodbye and leave */
    int done;                       /* the loop may end */
    unsigned attempt;               /* failed connections since the last READY */
    double auth_sent_at;            /* agent_now() when clientAuth went out, 0 before */
    int auth_acked;                 /* the server acknowledged clientAuth: key accepted */
    int refusals;                   /* consecutive connections refused right after clientAuth */
    int quick_retry;                /* reconnect at once (to confirm a refusal), no backoff */
    long ping_interval_ms, ping_timeout_ms;

    /* what the next WRITEABLE callbacks must send, in this order */
    int want_connect, want_auth, want_pongs, want_disconnect, want_close;
    const char *pending_event;      /* "initPerfData" / "perfData" / NULL */
    int init_sent;                  /* initPerfData written on this connection */
    size_t json_len;

    double start, next_tick;        /* drift-free schedule: start + k * interval */
    unsigned long samples_sent;
    int sample_error_logged;        /* a local read failure was reported */
    int server_error_logged;        /* a perfload:error from the server was reported */

    lws_sorted_usec_list_t sul_tick, sul_retry, sul_alive, sul_init, sul_grace;

    size_t rx_len;
    int rx_overflow;
};

/* Buffers owned by this module (one client per process). */
static struct collect_sample sample;
static char sample_json[SAMPLE_JSON_MAX];
static unsigned char tx[LWS_PRE + TX_MAX];
static char rx[RX_MAX];
static struct agent_client *the_client;       /* for the signal handler */
static volatile sig_atomic_t got_signal;

#define CLIENT_OF(sul, member) \
    ((struct agent_client *)((char *)(sul) - offsetof(struct agent_client, member)))

static void logf_(const struct agent_client *c, int verbose_only, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const struct agent_client *c, int verbose_only, const char *fmt, ...)
{
    if (verbose_only && !c->opt->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("perfload-agent: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

double agent_backoff_delay(unsigned attempt, double r)
{
    double step = AGENT_BACKOFF_BASE_S * (double)(1u << (attempt > 16 ? 16 : attempt));
    if (step > AGENT_BACKOFF_CAP_S) step = AGENT_BACKOFF_CAP_S;
    return step * (0.5 + 0.5 * r);
}

static void schedule(struct agent_client *c, lws_sorted_usec_list_t *sul, sul_cb_t cb, double seconds)
{
    if (seconds < 0) seconds = 0;
    lws_sul_schedule(c->ctx, 0, sul, cb, (lws_usec_t)(seconds * 1e6));
}

static void request_write(struct agent_client *c)
{
    if (c->wsi) lws_callback_on_writable(c->wsi);
}

/* -- connection lifecycle ------------------------------------------------- */

static void connect_now(struct agent_client *c);

static void on_retry(lws_sorted_usec_list_t *sul)
{
    connect_now(CLIENT_OF(sul, sul_retry));
}

static void schedule_retry(struct agent_client *c, const char *why)
{
    if (c->quick_retry) {
        c->quick_retry = 0;
        schedule(c, &c->sul_retry, on_retry, 0.2);
        return;
    }
    double delay = agent_backoff_delay(c->attempt++, (double)random() / ((double)RAND_MAX + 1.0));
    logf_(c, 0, "%s; reconnecting in %.1f s", why, delay);
    schedule(c, &c->sul_retry, on_retry, delay);
}

/* Nothing heard from the server for too long: drop the connection. */
static void on_alive_timeout(lws_sorted_usec_list_t *sul)
{
    struct agent_client *c = CLIENT_OF(sul, sul_alive);
    if (!c->wsi) return;
    logf_(c, 0, "server silent (no ping) for too long; dropping the connection");
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void arm_alive(struct agent_client *c, double seconds)
{
    schedule(c, &c->sul_alive, on_alive_timeout, seconds);
}

static void connect_now(struct agent_client *c)
{
    static char path[AGENT_STR_MAX + 64], host_header[300];
    struct lws_client_connect_info i;

    if (c->stopping || c->wsi) return;
    snprintf(path, sizeof path, "%s/socket.io/?EIO=4&transport=websocket", c->opt->path);
    if ((c->opt->tls && c->opt->port == 443) || (!c->opt->tls && c->opt->port == 80))
        snprintf(host_header, sizeof host_header, strchr(c->opt->host, ':') ? "[%s]" : "%s", c->opt->host);
    else
        snprintf(host_header, sizeof host_header, strchr(c->opt->host, ':') ? "[%s]:%d" : "%s:%d",
                 c->opt->host, c->opt->port);

    memset(&i, 0, sizeof i);
    i.context = c->ctx;
    i.address = c->opt->host;
    i.port = c->opt->port;
    i.path = path;
    i.host = host_header;
    i.ietf_version_or_minus_one = -1;
    i.pwsi = &c->wsi;
    if (c->opt->tls) {
        i.ssl_connection = LCCSCF_USE_SSL;
        if (c->opt->insecure)
            i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
    c->state = CL_CONNECTING;
    c->want_connect = c->want_auth = c->want_pongs = c->want_disconnect = c->want_close = 0;
    c->pending_event = NULL;
    c->init_sent = 0;
    c->auth_sent_at = 0;
    c->auth_acked = 0;
    c->rx_len = 0;
    c->rx_overflow = 0;
    logf_(c, 1, "connecting to %s://%s%s", c->opt->tls ? "wss" : "ws", host_header, path);
    if (!lws_client_connect_via_info(&i)) {
        /* the failure was already reported through CONNECTION_ERROR, or
         * happened before a wsi existed */
        c->wsi = NULL;
        c->state = CL_IDLE;
        if (!lws_dll2_is_detached(&c->sul_retry.list)) return;
        char why[AGENT_STR_MAX + 64];
        snprintf(why, sizeof why, "cannot connect to %s: name lookup or socket failed", c->opt->server);
        schedule_retry(c, why);
        return;
    }
    arm_alive(c, HANDSHAKE_TIMEOUT_S);
}

/* The connection is gone (error or close). Decide what happens next. */
static void connection_gone(struct agent_client *c, const char *why)
{
    int was_ready = c->state == CL_READY;
    c->wsi = NULL;
    c->state = CL_IDLE;
    lws_sul_cancel(&c->sul_alive);
    lws_sul_cancel(&c->sul_init);
    if (c->stopping || c->exit_code == AGENT_EXIT_KEY_REFUSED) {
        c->done = 1;
        return;
    }
    if (was_ready && !c->quick_retry) logf_(c, 0, "connection to the server lost (%s)", why);
    schedule_retry(c, was_ready ? "connection lost" : why);
}

/* -- samples -------------------------------------------------------------- */

/* Collects a sample and makes it the pending event. 0 or -1. */
static int prepare_sample(struct agent_client *c, const char *event, int commit)
{
    char err[256];
    if (agent_proc_sample(c->proc, &sample, commit, err, sizeof err) != 0) {
        if (!c->sample_error_logged) logf_(c, 0, "cannot read a sample: %s", err);
        c->sample_error_logged = 1;
        return -1;
    }
    c->sample_error_logged = 0;
    int n = collect_sample_json(&sample, sample_json, sizeof sample_json);
    if (n < 0) {
        logf_(c, 0, "sample does not fit %d bytes; not sent", SAMPLE_JSON_MAX);
        return -1;
    }
    c->json_len = (size_t)n;
    c->pending_event = event;
    return 0;
}

static void on_init(lws_sorted_usec_list_t *sul)
{
    struct agent_client *c = CLIENT_OF(sul, sul_init);
    if (c->state != CL_READY) return;
    if (prepare_sample(c, "initPerfData", 0) == 0) request_write(c);
}

/* initPerfData right after connecting; when the last reading is very
 * recent (we just started), wait until it is 100 ms old so cpuLoad spans a
 * measurable interval (the original client waited 100 ms too). */
static void schedule_init(struct agent_client *c)
{
    double age = agent_proc_age(c->proc);
    schedule(c, &c->sul_init, on_init, age >= 0.1 ? 0 : 0.1 - age);
}

/* The periodic tick: deadlines are start + k * interval, so the schedule
 * never drifts; ticks missed (suspend, a stalled loop) are skipped. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct agent_client *c = CLIENT_OF(sul, sul_tick);
    double now = agent_now(), interval = c->opt->interval;
    c->next_tick += interval;
    if (c->next_tick <= now)
        c->next_tick = c->start + ((double)(long long)((now - c->start) / interval) + 1) * interval;
    schedule(c, &c->sul_tick, on_tick, c->next_tick - now);

    /* a connection that outlived the refusal window was not refused */
    if (c->state == CL_READY && c->auth_sent_at > 0 && now - c->auth_sent_at > AGENT_AUTH_WINDOW_S)
        c->refusals = 0;

    /* before initPerfData went out, perfData would overtake it */
    int sendable = c->state == CL_READY && c->init_sent && c->pending_event == NULL;
    if (!sendable) {
        /* keep the baseline fresh so the next initPerfData spans ~1 interval */
        if (c->state != CL_READY) {
            char err[256];
            agent_proc_sample(c->proc, &sample, 1, err, sizeof err);
        }
        return;
    }
    if (prepare_sample(c, "perfData", 1) == 0) request_write(c);
}

/* -- receiving ------------------------------------------------------------ */

static void handle_open(struct agent_client *c, const char *data, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(data, len);
    const cJSON *pi = o ? cJSON_GetObjectItemCaseSensitive(o, "pingInterval") : NULL;
    const cJSON *pt = o ? cJSON_GetObjectItemCaseSensitive(o, "pingTimeout") : NULL;
    const cJSON *sid = o ? cJSON_GetObjectItemCaseSensitive(o, "sid") : NULL;
    c->ping_interval_ms = cJSON_IsNumber(pi) && pi->valuedouble > 0 ? (long)pi->valuedouble : 25000;
    c->ping_timeout_ms = cJSON_IsNumber(pt) && pt->valuedouble > 0 ? (long)pt->valuedouble : 20000;
    logf_(c, 1, "engine.io open (sid %s, pingInterval %ld ms, pingTimeout %ld ms)",
          cJSON_IsString(sid) ? sid->valuestring : "?", c->ping_interval_ms, c->ping_timeout_ms);
    cJSON_Delete(o);
    c->state = CL_OPEN;
    c->want_connect = 1;
    request_write(c);
}

static void handle_sio(struct agent_client *c, const char *data, size_t len)
{
    struct sio_packet p;
    if (sio_decode(data, len, &p) != 0) {
        logf_(c, 1, "ignoring a malformed socket.io packet");
        return;
    }
    if (p.nsp_len != 1 || p.nsp[0] != '/') return;
    switch (p.type) {
    case SIO_CONNECT:
        if (c->state == CL_READY) return;
        c->state = CL_READY;
        c->attempt = 0;
        logf_(c, 0, "connected to %s, sending samples as %s", c->opt->server, c->proc->macA);
        c->want_auth = 1;
        request_write(c);
        schedule_init(c);
        break;
    case SIO_ACK:
        /* clientAuth is sent with ack id 0; PerfLoad's appliance acks a
         * good key (the original server never acks: then only the time
         * window below tells) */
        if (p.ack_id == 0 && !c->auth_acked) {
            c->auth_acked = 1;
            c->refusals = 0;
            logf_(c, 1, "agent key accepted");
        }
        break;
    case SIO_DISCONNECT:
        if (!c->auth_acked && c->auth_sent_at > 0 && agent_now() - c->auth_sent_at < AGENT_AUTH_WINDOW_S) {
            /* A server that stops sends DISCONNECT too; a refusal must
             * happen twice in a row before we believe it. */
            if (++c->refusals >= 2) {
                fprintf(stderr, "perfload-agent: agent key refused by server %s "
                                "(check --key / PERFLOAD_AGENT_KEY against the appliance's agent key)\n",
                        c->opt->server);
                c->exit_code = AGENT_EXIT_KEY_REFUSED;
            } else {
                logf_(c, 1, "disconnected right after clientAuth; trying once more to tell a refused key "
                            "from a stopping server");
                c->quick_retry = 1;
            }
        } else {
            c->refusals = 0;
            logf_(c, 0, "the server ended our session");
        }
        c->want_close = 1;
        request_write(c);
        break;
    case SIO_EVENT: {
        /* the appliance explains refused samples with a perfload:error event */
        const char *name = p.data, *end = p.data + p.data_len;
        if (p.data_len > 18 && memcmp(name, "[\"perfload:error\"", 17) == 0) {
            if (!c->server_error_logged || c->opt->verbose)
                logf_(c, 0, "the server refused a message: %.*s", (int)(end - name), name);
            c->server_error_logged = 1;
        }
        break;
    }
    case SIO_CONNECT_ERROR:
        logf_(c, 0, "the server refused the namespace connection: %.*s", (int)p.data_len, p.data);
        c->want_close = 1;
        request_write(c);
        break;
    default:
        break;
    }
}

static void handle_text(struct agent_client *c, const char *buf, size_t len)
{
    struct eio_packet p;
    if (eio_decode_text(buf, len, 0, &p) != 0) {
        logf_(c, 1, "ignoring a malformed engine.io packet");
        return;
    }
    if (c->state >= CL_OPEN)
        arm_alive(c, (double)(c->ping_interval_ms + c->ping_timeout_ms) / 1000.0);
    switch (p.type) {
    case EIO_OPEN:
        handle_open(c, p.data, p.len);
        arm_alive(c, (double)(c->ping_interval_ms + c->ping_timeout_ms) / 1000.0);
        break;
    case EIO_PING:
        c->want_pongs++;
        request_write(c);
        break;
    case EIO_CLOSE:
        c->want_close = 1;
        request_write(c);
        break;
    case EIO_MESSAGE:
        if (c->state >= CL_OPEN) handle_sio(c, p.data, p.len);
        break;
    default:
        break;
    }
}

/* -- sending -------------------------------------------------------------- */

static int write_text(struct agent_client *c, size_t len)
{
    if (lws_write(c->wsi, tx + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
        logf_(c, 0, "write failed; dropping the connection");
        return -1;
    }
    return 0;
}

/* Writes the most urgent pending frame. Returns -1 to close the wsi. */
static int on_writeable(struct agent_client *c)
{
    char *out = (char *)tx + LWS_PRE;
    int n;

    if (c->want_close) return -1;
    if (c->want_disconnect) {
        memcpy(out, "41", 2);
        c->want_disconnect = 0;
        c->want_close = 1;
        if (write_text(c, 2)) return -1;
    } else if (c->want_connect) {
        memcpy(out, "40", 2);
        c->want_connect = 0;
        if (write_text(c, 2)) return -1;
    } else if (c->want_auth) {
        char quoted[2 * AGENT_STR_MAX + 8];
        int q = sio_json_quote(c->opt->key, strlen(c->opt->key), quoted, sizeof quoted);
        if (q < 0) return -1;
        n = sio_encode_event_raw("/", "clientAuth", quoted, (size_t)q, 0, 1, out, TX_MAX);
        if (n < 0) return -1;
        c->want_auth = 0;
        c->auth_sent_at = agent_now();
        if (write_text(c, (size_t)n)) return -1;
    } else if (c->want_pongs) {
        out[0] = '3';
        c->want_pongs--;
        if (write_text(c, 1)) return -1;
    } else if (c->pending_event) {
        n = sio_encode_event_raw("/", c->pending_event, sample_json, c->json_len, -1, 1, out, TX_MAX);
        if (n < 0) return -1;
        if (!strcmp(c->pending_event, "initPerfData")) c->init_sent = 1;
        else c->samples_sent++;
        if (c->opt->verbose && c->samples_sent <= 1)
            logf_(c, 1, "sent %s (%d bytes)", c->pending_event, n);
        c->pending_event = NULL;
        if (write_text(c, (size_t)n)) return -1;
    }
    if (c->want_close || c->want_disconnect || c->want_connect || c->want_auth || c->want_pongs ||
        c->pending_event)
        request_write(c);
    return 0;
}

/* -- lws glue ------------------------------------------------------------- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct agent_client *c = the_client;
    if (!c) return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[AGENT_STR_MAX + 400];
        const char *msg = in ? (const char *)in : "unknown error";
        /* OpenSSL's own words are cryptic; say what usually causes them */
        int tls_failed = c->opt->tls && (strstr(msg, "SSL") || strstr(msg, "tls") || strstr(msg, "cert"));
        snprintf(why, sizeof why, "cannot connect to %s: %.200s%s", c->opt->server, msg,
                 tls_failed ? " (TLS: certificate not trusted, host name mismatch or expired; "
                              "see --ca-file, --insecure)" : "");
        connection_gone(c, why);
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        logf_(c, 1, "websocket established");
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_frame_is_binary(wsi)) break;
        if (lws_is_first_fragment(wsi)) { c->rx_len = 0; c->rx_overflow = 0; }
        if (c->rx_len + len > sizeof rx) c->rx_overflow = 1;
        else { memcpy(rx + c->rx_len, in, len); c->rx_len += len; }
        if (lws_is_final_fragment(wsi)) {
            if (c->rx_overflow) logf_(c, 1, "dropped a server message over %d bytes", RX_MAX);
            else handle_text(c, rx, c->rx_len);
            c->rx_len = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(c);
    case LWS_CALLBACK_CLIENT_CLOSED:
        connection_gone(c, "closed");
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        break;                      /* a signal woke the loop; agent_client_run looks */
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "perfload-agent", callback, 0, 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void on_signal(int sig)
{
    got_signal = sig;
    if (the_client && the_client->ctx) lws_cancel_service(the_client->ctx);
}

/* After a signal, give the goodbye at most this long. */
static void on_grace(lws_sorted_usec_list_t *sul)
{
    CLIENT_OF(sul, sul_grace)->done = 1;
}

/* SIGINT/SIGTERM: a Socket.IO DISCONNECT and a WebSocket close, so the
 * dashboard shows the machine offline at once, then leave. */
static void begin_stop(struct agent_client *c)
{
    c->stopping = 1;
    logf_(c, 1, "stopping");
    lws_sul_cancel(&c->sul_retry);
    if (c->wsi && c->state == CL_READY) {
        c->want_disconnect = 1;
        request_write(c);
    } else if (c->wsi) {
        c->want_close = 1;
        request_write(c);
    } else {
        c->done = 1;
    }
    schedule(c, &c->sul_grace, on_grace, 1.0);
}

int agent_client_run(const struct agent_options *opt, struct agent_proc *proc)
{
    static struct agent_client client;
    struct agent_client *c = &client;
    struct lws_context_creation_info info;
    struct sigaction sa;

    memset(c, 0, sizeof *c);
    c->opt = opt;
    c->proc = proc;
    c->exit_code = AGENT_EXIT_OK;
    c->ping_interval_ms = 25000;
    c->ping_timeout_ms = 20000;
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    lws_set_log_level(opt->verbose ? (LLL_ERR | LLL_WARN) : 0, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    /* one connection: keep lws's per-fd tables and buffers tiny */
    info.fd_limit_per_thread = 8;
    info.pt_serv_buf_size = 4096;
    info.max_http_header_pool = 1;
    info.max_http_header_data = 2048;
    if (opt->tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = opt->ca_file[0] ? opt->ca_file : NULL;
    }
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        fprintf(stderr, "perfload-agent: cannot create the libwebsockets context\n");
        return AGENT_EXIT_ERROR;
    }
    the_client = c;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    c->start = c->next_tick = agent_now();
    c->next_tick += opt->interval;
    schedule(c, &c->sul_tick, on_tick, opt->interval);
    connect_now(c);

    while (!c->done) {
        if (got_signal && !c->stopping) begin_stop(c);
        if (c->done || lws_service(c->ctx, 0) < 0) break;
    }
    lws_sul_cancel(&c->sul_tick);
    lws_sul_cancel(&c->sul_retry);
    lws_sul_cancel(&c->sul_alive);
    lws_sul_cancel(&c->sul_init);
    lws_sul_cancel(&c->sul_grace);
    lws_context_destroy(c->ctx);
    the_client = NULL;
    return c->exit_code;
}
