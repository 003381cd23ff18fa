/* eio_polling.c -- Engine.IO HTTP long-polling: handshake, the held GET,
 * POSTed payloads, error replies and CORS headers. */
#include "eio_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eio_packet.h"

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
    struct eio_server *srv = eio_server_of(wsi);
    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start;
    unsigned char *end = hdr + sizeof(hdr) - 1;

    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
        return -1;
    if (pss->http && pss->http->origin[0]) {
        if (add_header(wsi, "access-control-allow-origin:", pss->http->origin, &p, end) ||
            add_header(wsi, "access-control-allow-credentials:", "true", &p, end))
            return -1;
    } else if (add_header(wsi, "access-control-allow-origin:", "*", &p, end)) {
        return -1;
    }
    if (srv->o.worker_name && add_header(wsi, "x-perfload-worker:", srv->o.worker_name, &p, end))
        return -1;
    /* lws closes such a connection after the reply but does not say so;
     * Node's keep-alive agent would then reuse a dead socket. */
    if (pss->http && pss->http->conn_close && add_header(wsi, "connection:", "close", &p, end))
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
    eio_pss_reset(pss);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_error(struct lws *wsi, struct eio_pss *pss, unsigned status, int code, const char *msg)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, msg);

    eio_count_error(eio_server_of(wsi));
    return http_reply(wsi, pss, status, "application/json", body, (size_t)n);
}

/* Checks EIO and transport; returns -1 when fine (and *v3 set), else an
 * Engine.IO error code (0 = transport unknown) with its message in *msg. */
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
int eio_poll_writeable(struct lws *wsi, struct eio_pss *pss)
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

int eio_poll_post_done(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_server *srv = eio_server_of(wsi);
    struct eio_session *s = pss->http ? eio_session_find(srv, pss->http->sid) : NULL;
    struct eio_packet p;
    size_t pos = 0;
    int r, bad = 0;

    if (s == NULL && srv->shutting_down)
        return http_reply(wsi, pss, 200, "text/html", "ok", 2);
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

int eio_poll_http(struct lws *wsi, struct eio_pss *pss, const char *path, size_t path_len)
{
    struct eio_server *srv = eio_server_of(wsi);
    struct eio_endpoint *ep;
    struct eio_session *s;
    char sidbuf[64], *uri;
    const char *sid, *msg = NULL;
    int method, ulen, code, v3 = 0;

    if (eio_pss_http_begin(wsi, pss) != 0)
        return -1;
    method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    ep = eio_endpoint_match(srv, path, path_len);
    if (ep == NULL)
        return http_reply(wsi, pss, 404, "text/plain", "Not Found", 9);
    pss->http->ep = ep;
    if (method == LWSHUMETH_OPTIONS)
        return http_reply(wsi, pss, 204, "text/plain", NULL, 0);
    code = eio_check_query(wsi, ep, "polling", &v3, &msg);
    if (code >= 0)
        return http_error(wsi, pss, 400, code, msg);

    sid = eio_query_arg(wsi, "sid=", sidbuf, sizeof(sidbuf));
    if (sid == NULL) {
        char open[256];
        int n;

        if (method != LWSHUMETH_GET)
            return http_error(wsi, pss, 400, 2, "Bad handshake method");
        if (srv->shutting_down)
            return http_error(wsi, pss, 400, 4, "Forbidden");
        {
            char peer[64];

            eio_peer_ip(wsi, peer, sizeof(peer));
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
    if ((s == NULL || s->ep != ep) && method == LWSHUMETH_POST && srv->shutting_down) {
        /* A client's last POST (usually a pong) racing our shutdown: its
         * session is gone because we closed it. Answer "ok" once the body is
         * in: a 400 can reach the client before the DISCONNECT its pending
         * GET carries, and it would report a transport error instead of the
         * server's disconnect (and retry against a stopping server). */
        pss->role = ROLE_POST;
        snprintf(pss->http->sid, sizeof(pss->http->sid), "%s", sid);
        return 0;
    }
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
    snprintf(pss->http->sid, sizeof(pss->http->sid), "%s", s->sid);
    {
        char cl[32];
        long long want = -1;

        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
            want = atoll(cl);
        if (want > (long long)ep->o.max_payload) {
            pss->over = 1;
            return eio_poll_post_done(wsi, pss);
        }
        if (want == 0)
            return eio_poll_post_done(wsi, pss); /* empty payload: malformed */
    }
    return 0; /* the body follows */
}
