/* eio_transport.c -- the lws protocol callback behind every Engine.IO
 * endpoint: HTTP long-polling (handshake, held GET, POST), WebSocket
 * (direct, or the probe of an upgrade) and CORS. Session state lives in
 * eio_server.c; this file only moves bytes between wsis and sessions. */
#define _GNU_SOURCE /* strcasestr */
#include "eio_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eio_packet.h"

/* ROLE_REFUSED: a websocket accepted only to be closed cleanly (a second
 * upgrade for a sid, as engine.io does: clients see a close, not an error). */
enum pss_role { ROLE_NONE, ROLE_GET, ROLE_POST, ROLE_WS, ROLE_PROBE, ROLE_REFUSED };

/* Per-wsi state. A held GET, a websocket and a probe point at their session
 * (and the session points back); a POST only remembers the sid. */
struct eio_pss {
    enum pss_role role;
    struct eio_session *session;
    struct eio_endpoint *ep;
    char sid[EIO_SID_LEN + 1];
    char origin[256];
    int conn_close;         /* the request asked for Connection: close */
    char *buf;              /* POST body or websocket message being reassembled */
    size_t buf_len, buf_cap;
    int over;               /* the body/message went over max_payload */
};

static struct eio_server *server_of(struct lws *wsi)
{
    return (struct eio_server *)lws_get_protocol(wsi)->user;
}

static void pss_reset(struct eio_pss *pss)
{
    free(pss->buf);
    memset(pss, 0, sizeof(*pss));
}

/* Appends to the reassembly buffer, refusing to go past limit. */
static int pss_append(struct eio_pss *pss, const void *in, size_t len, size_t limit)
{
    if (pss->over || pss->buf_len + len > limit) {
        pss->over = 1;
        return -1;
    }
    if (pss->buf_len + len + 1 > pss->buf_cap) {
        size_t ncap = pss->buf_cap ? pss->buf_cap : 1024;
        char *nb;

        while (ncap < pss->buf_len + len + 1)
            ncap *= 2;
        nb = realloc(pss->buf, ncap);
        if (nb == NULL) {
            pss->over = 1;
            return -1;
        }
        pss->buf = nb;
        pss->buf_cap = ncap;
    }
    memcpy(pss->buf + pss->buf_len, in, len);
    pss->buf_len += len;
    return 0;
}

void eio_transport_detach(struct eio_session *s)
{
    struct lws *w[3] = { s->ws_wsi, s->get_wsi, s->probe_wsi };
    int i;

    for (i = 0; i < 3; i++) {
        struct eio_pss *pss = w[i] ? lws_wsi_user(w[i]) : NULL;

        if (pss && pss->session == s)
            pss->session = NULL;
    }
    s->ws_wsi = s->get_wsi = s->probe_wsi = NULL;
}

static void peer_ip(struct lws *wsi, char *out, size_t cap)
{
    char tmp[64];
    const char *p;

    out[0] = '\0';
    if (lws_get_peer_simple(wsi, tmp, sizeof(tmp)) == NULL)
        return;
    p = strncmp(tmp, "::ffff:", 7) == 0 && strchr(tmp + 7, '.') ? tmp + 7 : tmp;
    snprintf(out, cap, "%s", p);
}

/* Query argument name (with its '='), or NULL. */
static const char *query_arg(struct lws *wsi, const char *name, char *buf, int len)
{
    return lws_get_urlarg_by_name(wsi, name, buf, len);
}

/* -- HTTP replies ------------------------------------------------------------ */

static int add_header(struct lws *wsi, const char *name, const char *value,
                      unsigned char **p, unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Sends a complete reply and ends the transaction. Returns what the lws
 * callback should return (-1 closes the connection). */
static int http_reply(struct lws *wsi, struct eio_pss *pss, unsigned status,
                      const char *ctype, const char *body, size_t len)
{
    struct eio_server *srv = server_of(wsi);
    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start;
    unsigned char *end = hdr + sizeof(hdr) - 1;

    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
        return -1;
    if (pss->origin[0]) {
        if (add_header(wsi, "access-control-allow-origin:", pss->origin, &p, end) ||
            add_header(wsi, "access-control-allow-credentials:", "true", &p, end))
            return -1;
    } else if (add_header(wsi, "access-control-allow-origin:", "*", &p, end)) {
        return -1;
    }
    if (srv->o.worker_name && add_header(wsi, "x-perfload-worker:", srv->o.worker_name, &p, end))
        return -1;
    /* lws closes such a connection after the reply but does not say so;
     * Node's keep-alive agent would then reuse a dead socket. */
    if (pss->conn_close && add_header(wsi, "connection:", "close", &p, end))
        return -1;
    if (status == 204) {
        if (add_header(wsi, "access-control-allow-methods:", "GET, POST, OPTIONS", &p, end) ||
            add_header(wsi, "access-control-allow-headers:", "content-type", &p, end) ||
            add_header(wsi, "access-control-max-age:", "86400", &p, end))
            return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (len) {
        unsigned char *b = malloc(LWS_PRE + len);
        int n;

        if (b == NULL)
            return -1;
        memcpy(b + LWS_PRE, body, len);
        n = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
        free(b);
        if (n < 0)
            return -1;
    }
    pss_reset(pss);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_error(struct lws *wsi, struct eio_pss *pss, unsigned status, int code, const char *msg)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, msg);

    eio_count_error(server_of(wsi));
    return http_reply(wsi, pss, status, "application/json", body, (size_t)n);
}

/* Checks EIO and transport; returns -1 when fine (and *v3 set), else an
 * Engine.IO error code (0 = transport unknown) with its message in *msg. */
static int check_query(struct lws *wsi, const struct eio_endpoint *ep, const char *want_transport,
                       int *v3, const char **msg)
{
    char buf[64];
    const char *v = query_arg(wsi, "EIO=", buf, sizeof(buf));

    *v3 = v != NULL && strcmp(v, "3") == 0 && !(ep && ep->o.refuse_eio3);
    if (v == NULL || (strcmp(v, "4") != 0 && !*v3)) {
        *msg = "Unsupported protocol version";
        return 5;
    }
    v = query_arg(wsi, "transport=", buf, sizeof(buf));
    if (v == NULL || (strcmp(v, "polling") != 0 && strcmp(v, "websocket") != 0)) {
        *msg = "Transport unknown";
        return 0;
    }
    if (strcmp(v, want_transport) != 0) {
        *msg = "Bad request";
        return 3;
    }
    return -1;
}

/* -- polling ------------------------------------------------------------------ */

/* Appends one packet to a payload being built: v4 joins packets with the
 * separator, v3 prefixes each with its length in characters. */
static void payload_add(struct eio_session *s, char *out, size_t cap, size_t *used,
                        const char *pkt, size_t len)
{
    if (s->v3)
        eio_payload_v3_append(out, cap, used, pkt, len);
    else
        eio_payload_append(out, cap, used, pkt, len);
}

/* Drains the session's queue into one payload (plus a final packet). */
static char *build_payload(struct eio_session *s, char last, size_t *out_len)
{
    size_t need = 0, i, used = 0;
    char *out, *tmp = NULL;

    for (i = 0; i < s->q_count; i++) {
        struct eio_buf *b = s->q[(s->q_head + i) % s->q_cap];

        /* separator or a v3 length prefix, plus 'b' (and v3's type digit) */
        need += 24 + (b->binary ? 2 + eio_base64_encoded_len(b->len) : b->len);
    }
    need += 32;
    out = malloc(need);
    if (out == NULL)
        return NULL;
    while (s->q_count) {
        struct eio_buf *b = eio_session_pop(s);

        if (b->binary) {
            /* v4: "b<base64>"; v3 text payloads: "b4<base64>" */
            size_t tlen = 2 + eio_base64_encoded_len(b->len);
            int n;

            tmp = malloc(tlen);
            if (tmp) {
                tmp[0] = 'b';
                tmp[1] = '4';
                n = eio_base64_encode(eio_buf_payload(b), b->len, tmp + (s->v3 ? 2 : 1),
                                      tlen - (s->v3 ? 2 : 1));
                if (n >= 0)
                    payload_add(s, out, need, &used, tmp, (size_t)n + (s->v3 ? 2 : 1));
                free(tmp);
            }
        } else {
            payload_add(s, out, need, &used, eio_buf_payload(b), b->len);
        }
        eio_buf_unref(b);
    }
    if (last)
        payload_add(s, out, need, &used, &last, 1);
    *out_len = used;
    return out;
}

/* The held GET may answer now: data, a noop for an upgrade, or the end. */
static int poll_writeable(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_session *s = pss->session;
    char last = 0;
    char *body;
    size_t len = 0;
    int r;

    if (s == NULL || pss->role != ROLE_GET)
        return 0;
    if (s->finished)
        last = s->end_with_noop ? '6' : '1';
    else if (s->q_count == 0) {
        if (s->upgrading || s->transport == EIO_T_WEBSOCKET)
            last = '6';
        else if (s->closing && !s->close_flushed)
            last = '1';
        else
            return 0; /* keep holding (after a last payload: until the client closes or the grace ends) */
    }
    if (s->closing && last == 0)
        s->close_flushed = 1;
    /* A closing session with data left sends the data first, without the
     * close packet: socket.io-client handles a close packet before the
     * messages of the same payload (it defers decoded packets), and would
     * report "transport close" instead of a DISCONNECT. The next GET is then
     * held until the client closes itself (its DISCONNECT handling does) or
     * the close grace period ends the session. */
    body = build_payload(s, last, &len);
    s->get_wsi = NULL;
    pss->session = NULL;
    if (body == NULL) {
        eio_session_release(s);
        return -1;
    }
    r = http_reply(wsi, pss, 200, "text/plain; charset=UTF-8", body, len);
    free(body);
    if (s->closing && !s->finished && last == '1')
        eio_session_finish(s, s->close_reason ? s->close_reason : "forced close");
    else
        eio_session_release(s);
    return r;
}

static int poll_get(struct lws *wsi, struct eio_pss *pss, struct eio_session *s)
{
    if (s->get_wsi) {
        /* One GET at a time: a second one is an error that ends the session. */
        int r = http_error(wsi, pss, 400, 3, "Bad request");

        eio_log(s->srv, 2, "sid %s peer %s: overlapping polling GET", s->sid, s->peer);
        eio_session_finish(s, "transport error");
        return r;
    }
    s->get_wsi = wsi;
    pss->session = s;
    pss->role = ROLE_GET;
    /* A deferred reply would otherwise be killed by lws after ~5 s. */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (s->q_count || s->upgrading || s->closing)
        lws_callback_on_writable(wsi);
    return 0;
}

static int poll_post_done(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_server *srv = server_of(wsi);
    struct eio_session *s = eio_session_find(srv, pss->sid);
    struct eio_packet p;
    size_t pos = 0;
    int r, bad = 0;

    if (s == NULL)
        return http_error(wsi, pss, 400, 1, "Session ID unknown");
    if (s->transport != EIO_T_POLLING)
        return http_error(wsi, pss, 400, 3, "Bad request");
    if (pss->over) {
        r = http_error(wsi, pss, 413, 3, "Payload too large");
        eio_log(srv, 2, "sid %s peer %s: POST over maxPayload", s->sid, s->peer);
        eio_session_finish(s, "transport error");
        return r;
    }
    for (;;) {
        int rc;

        r = s->v3 ? eio_payload_v3_next(pss->buf, pss->buf_len, &pos, &p)
                  : eio_payload_next(pss->buf, pss->buf_len, &pos, &p);
        if (r != 1)
            break;
        if (p.base64 && p.type != EIO_MESSAGE) {
            r = -1;
            break;
        }
        rc = p.base64 ? eio_session_receive(s, p.data, p.len, 1, 1)
                      : eio_session_receive(s, p.data - 1, p.len + 1, 0, 0);
        if (rc != 0)
            return http_reply(wsi, pss, 200, "text/html", "ok", 2); /* session ended by it */
    }
    bad = r < 0;
    if (bad) {
        eio_log(srv, 2, "sid %s peer %s: malformed polling payload", s->sid, s->peer);
        r = http_error(wsi, pss, 400, 3, "Bad request");
        eio_session_finish(s, "parse error");
        return r;
    }
    return http_reply(wsi, pss, 200, "text/html", "ok", 2);
}

static int on_http(struct lws *wsi, struct eio_pss *pss, const char *path, size_t path_len)
{
    struct eio_server *srv = server_of(wsi);
    struct eio_endpoint *ep;
    struct eio_session *s;
    char sidbuf[64], *uri;
    const char *sid, *msg = NULL;
    int method, ulen, code, v3 = 0;

    pss_reset(pss);
    if (lws_hdr_copy(wsi, pss->origin, sizeof(pss->origin), WSI_TOKEN_ORIGIN) < 0)
        pss->origin[0] = '\0';
    {
        char conn[64];
        int n = lws_hdr_copy(wsi, conn, sizeof(conn), WSI_TOKEN_CONNECTION);

        pss->conn_close = n > 0 && strcasestr(conn, "close") != NULL;
    }
    method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    ep = eio_endpoint_match(srv, path, path_len);
    if (ep == NULL)
        return http_reply(wsi, pss, 404, "text/plain", "Not Found", 9);
    pss->ep = ep;
    if (method == LWSHUMETH_OPTIONS)
        return http_reply(wsi, pss, 204, "text/plain", NULL, 0);
    code = check_query(wsi, ep, "polling", &v3, &msg);
    if (code >= 0)
        return http_error(wsi, pss, 400, code, msg);

    sid = query_arg(wsi, "sid=", sidbuf, sizeof(sidbuf));
    if (sid == NULL) {
        char open[256];
        int n;

        if (method != LWSHUMETH_GET)
            return http_error(wsi, pss, 400, 2, "Bad handshake method");
        if (srv->shutting_down)
            return http_error(wsi, pss, 400, 4, "Forbidden");
        {
            char peer[64];

            peer_ip(wsi, peer, sizeof(peer));
            s = eio_session_new(srv, ep, EIO_T_POLLING, v3, peer);
        }
        if (s == NULL)
            return http_reply(wsi, pss, 500, "text/plain", "Out of memory", 13);
        n = eio_session_open_packet(s, open, sizeof(open));
        if (v3) {
            /* a v3 payload even for the lone open packet: "<len>:0{...}" */
            char framed[300];
            size_t used = 0;

            if (eio_payload_v3_append(framed, sizeof(framed), &used, open, (size_t)n) == 0) {
                memcpy(open, framed, used);
                n = (int)used;
            }
        }
        eio_log(srv, 3, "sid %s peer %s: polling handshake (EIO=%d)", s->sid, s->peer, v3 ? 3 : 4);
        /* Heartbeats start before the reply goes out, as engine.io does. */
        if (eio_session_opened(s) != 0)
            return http_error(wsi, pss, 403, 4, "Forbidden");
        return http_reply(wsi, pss, 200, "text/plain; charset=UTF-8", open, (size_t)n);
    }
    s = eio_session_find(srv, sid);
    if (s == NULL || s->ep != ep)
        return http_error(wsi, pss, 400, 1, "Session ID unknown");
    if (s->v3 != v3)
        return http_error(wsi, pss, 400, 3, "Bad request");
    if (s->transport != EIO_T_POLLING)
        return http_error(wsi, pss, 400, 3, "Bad request");
    if (method == LWSHUMETH_GET)
        return poll_get(wsi, pss, s);
    if (method != LWSHUMETH_POST)
        return http_error(wsi, pss, 400, 3, "Bad request");

    pss->role = ROLE_POST;
    snprintf(pss->sid, sizeof(pss->sid), "%s", s->sid);
    {
        char cl[32];
        long long want = -1;

        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
            want = atoll(cl);
        if (want > (long long)ep->o.max_payload) {
            pss->over = 1;
            return poll_post_done(wsi, pss);
        }
        if (want == 0)
            return poll_post_done(wsi, pss); /* empty payload: malformed */
    }
    return 0; /* the body follows */
}

/* -- websocket ---------------------------------------------------------------- */

static struct eio_endpoint *ws_endpoint(struct lws *wsi)
{
    char path[256];
    int n = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);

    if (n <= 0)
        return NULL;
    return eio_endpoint_match(server_of(wsi), path, (size_t)n);
}

static int ws_filter(struct lws *wsi)
{
    struct eio_server *srv = server_of(wsi);
    struct eio_endpoint *ep = ws_endpoint(wsi);
    const char *msg;
    int v3;

    if (ep == NULL || check_query(wsi, ep, "websocket", &v3, &msg) >= 0 || srv->shutting_down) {
        eio_count_error(srv);
        return 1;
    }
    return 0; /* a bad sid is refused after the handshake (ws_established) */
}

static int ws_established(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_server *srv = server_of(wsi);
    struct eio_endpoint *ep = ws_endpoint(wsi);
    char sidbuf[64], peer[64], open[256];
    const char *sid, *msg;
    struct eio_session *s;
    int n, v3 = 0;

    memset(pss, 0, sizeof(*pss));
    if (ep == NULL || check_query(wsi, ep, "websocket", &v3, &msg) >= 0)
        return -1;
    pss->ep = ep;
    sid = query_arg(wsi, "sid=", sidbuf, sizeof(sidbuf));
    if (sid) {
        s = eio_session_find(srv, sid);
        if (s == NULL || s->transport != EIO_T_POLLING || s->probe_wsi || s->closing || s->v3 != v3) {
            eio_count_error(srv);
            pss->role = ROLE_REFUSED;
            lws_callback_on_writable(wsi);
            return 0;
        }
        s->probe_wsi = wsi;
        pss->session = s;
        pss->role = ROLE_PROBE;
        return 0;
    }
    peer_ip(wsi, peer, sizeof(peer));
    s = eio_session_new(srv, ep, EIO_T_WEBSOCKET, v3, peer);
    if (s == NULL)
        return -1;
    s->ws_wsi = wsi;
    pss->session = s;
    pss->role = ROLE_WS;
    n = eio_session_open_packet(s, open, sizeof(open));
    eio_session_send_text(s, open, (size_t)n);
    eio_log(srv, 3, "sid %s peer %s: websocket handshake", s->sid, s->peer);
    eio_session_opened(s);
    return 0;
}

/* A whole message arrived on a probe websocket. */
static int probe_message(struct lws *wsi, struct eio_pss *pss, const char *m, size_t len)
{
    struct eio_session *s = pss->session;

    if (s == NULL || s->finished)
        return -1;
    if (len == 6 && memcmp(m, "2probe", 6) == 0) {
        s->upgrading = 1;
        s->probe_reply = 1;
        lws_callback_on_writable(wsi);
        if (s->get_wsi)
            lws_callback_on_writable(s->get_wsi); /* release the held GET with a noop */
        return 0;
    }
    if (len == 1 && m[0] == '5' && s->upgrading) {
        s->upgrading = 0;
        s->probe_wsi = NULL;
        s->ws_wsi = wsi;
        s->transport = EIO_T_WEBSOCKET;
        pss->role = ROLE_WS;
        if (s->get_wsi)
            lws_callback_on_writable(s->get_wsi);
        eio_session_kick(s);
        eio_log(s->srv, 3, "sid %s peer %s: upgraded to websocket", s->sid, s->peer);
        return 0;
    }
    eio_count_error(s->srv);
    return -1;
}

static int ws_receive(struct lws *wsi, struct eio_pss *pss, const void *in, size_t len)
{
    struct eio_session *s = pss->session;
    size_t limit = pss->ep ? pss->ep->o.max_payload : 1000000;
    int binary, r = 0;

    if (s == NULL || s->finished || pss->role == ROLE_REFUSED)
        return -1;
    if (pss_append(pss, in, len, limit) != 0) {
        eio_count_error(s->srv);
        eio_log(s->srv, 2, "sid %s peer %s: websocket message over maxPayload", s->sid, s->peer);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        if (pss->role == ROLE_WS) {
            s->kill_transport = 1;
            eio_session_finish(s, "transport error");
        }
        return -1;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    binary = lws_frame_is_binary(wsi);
    if (pss->role == ROLE_PROBE)
        r = binary ? -1 : probe_message(wsi, pss, pss->buf, pss->buf_len);
    else
        eio_session_receive(s, pss->buf, pss->buf_len, binary, 0);
    pss->buf_len = 0;
    return r;
}

static int ws_writeable(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_session *s = pss->session;
    struct eio_buf *b;
    int n;

    if (pss->role == ROLE_REFUSED)
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
    if (s == NULL)
        return -1;
    if (pss->role == ROLE_PROBE) {
        unsigned char m[LWS_PRE + 8];

        if (!s->probe_reply)
            return 0;
        s->probe_reply = 0;
        memcpy(m + LWS_PRE, "3probe", 6);
        return lws_write(wsi, m + LWS_PRE, 6, LWS_WRITE_TEXT) < 0 ? -1 : 0;
    }
    if (s->kill_transport)
        return -1;
    b = eio_session_pop(s);
    if (b) {
        n = lws_write(wsi, (unsigned char *)eio_buf_payload(b), b->len,
                      b->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        eio_buf_unref(b);
        if (n < 0)
            return -1;
        if (s->q_count || s->closing || s->finished)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (s->closing && !s->finished)
        eio_session_finish(s, s->close_reason ? s->close_reason : "forced close");
    if (s->finished) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1;
    }
    return 0;
}

/* A wsi is going away: its session forgets it (and may end with it). */
static void wsi_gone(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_session *s = pss->session;

    pss->session = NULL;
    if (s) {
        int was_transport = (s->ws_wsi == wsi || s->get_wsi == wsi);

        if (s->ws_wsi == wsi)
            s->ws_wsi = NULL;
        if (s->get_wsi == wsi)
            s->get_wsi = NULL;
        if (s->probe_wsi == wsi) {
            s->probe_wsi = NULL;
            s->upgrading = 0;
            s->probe_reply = 0;
        }
        if (was_transport && !s->finished)
            eio_session_finish(s, "transport close");
        else
            eio_session_release(s);
    }
    free(pss->buf);
    pss->buf = NULL;
    pss->buf_len = pss->buf_cap = 0;
}

static int eio_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                        void *in, size_t len)
{
    struct eio_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, pss, in, strlen(in));
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->role == ROLE_POST && pss->ep)
            pss_append(pss, in, len, pss->ep->o.max_payload);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->role != ROLE_POST)
            return -1;
        return poll_post_done(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return poll_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss)
            wsi_gone(wsi, pss);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED:
        if (pss)
            wsi_gone(wsi, pss);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void eio_server_fill_protocol(struct eio_server *srv, struct lws_protocols *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->callback = eio_callback;
    p->per_session_data_size = sizeof(struct eio_pss);
    p->rx_buffer_size = 0;
    p->user = srv;
}
