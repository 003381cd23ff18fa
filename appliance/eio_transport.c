/* eio_transport.c -- the lws protocol callback behind every Engine.IO
 * endpoint, and what its two transports share: per-wsi state, query
 * checks, peer addresses. HTTP long-polling is in eio_polling.c, WebSocket
 * in eio_websocket.c; session state lives in eio_server.c. */
#define _GNU_SOURCE /* strcasestr */
#include "eio_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eio_server *eio_server_of(struct lws *wsi)
{
    return (struct eio_server *)lws_get_protocol(wsi)->user;
}

void eio_pss_reset(struct eio_pss *pss)
{
    free(pss->buf);
    free(pss->http);
    memset(pss, 0, sizeof(*pss));
}

/* Origins longer than this are not echoed (the reply then allows "*"). */
#define EIO_ORIGIN_MAX 255

int eio_pss_http_begin(struct lws *wsi, struct eio_pss *pss)
{
    int olen = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    char conn[64];
    int n;

    eio_pss_reset(pss);
    if (olen < 0 || olen > EIO_ORIGIN_MAX)
        olen = 0;
    pss->http = calloc(1, sizeof(*pss->http) + (size_t)olen + 1);
    if (pss->http == NULL)
        return -1;
    if (olen > 0 && lws_hdr_copy(wsi, pss->http->origin, olen + 1, WSI_TOKEN_ORIGIN) < 0)
        pss->http->origin[0] = '\0';
    n = lws_hdr_copy(wsi, conn, sizeof(conn), WSI_TOKEN_CONNECTION);
    pss->http->conn_close = n > 0 && strcasestr(conn, "close") != NULL;
    return 0;
}

/* Appends to the reassembly buffer, refusing to go past limit. */
int eio_pss_append(struct eio_pss *pss, const void *in, size_t len, size_t limit)
{
    if (limit > UINT32_MAX - 1)
        limit = UINT32_MAX - 1;    /* buf_len is 32 bits */
    if (pss->over || len > limit || pss->buf_len + len > limit) {
        pss->over = 1;
        return -1;
    }
    if (pss->buf_len + len + 1 > pss->buf_cap) {
        size_t ncap = pss->buf_cap ? pss->buf_cap : 1024;
        char *nb;

        while (ncap < pss->buf_len + len + 1)
            ncap *= 2;
        if (ncap > UINT32_MAX)
            ncap = UINT32_MAX;
        nb = realloc(pss->buf, ncap);
        if (nb == NULL) {
            pss->over = 1;
            return -1;
        }
        pss->buf = nb;
        pss->buf_cap = (uint32_t)ncap;
    }
    memcpy(pss->buf + pss->buf_len, in, len);
    pss->buf_len += (uint32_t)len;
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

void eio_peer_ip(struct lws *wsi, char *out, size_t cap)
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
const char *eio_query_arg(struct lws *wsi, const char *name, char *buf, int len)
{
    return lws_get_urlarg_by_name(wsi, name, buf, len);
}

int eio_check_query(struct lws *wsi, const struct eio_endpoint *ep, const char *want_transport,
                       int *v3, const char **msg)
{
    char buf[64];
    const char *v = eio_query_arg(wsi, "EIO=", buf, sizeof(buf));

    *v3 = v != NULL && strcmp(v, "3") == 0 && !(ep && ep->o.refuse_eio3);
    if (v == NULL || (strcmp(v, "4") != 0 && !*v3)) {
        *msg = "Unsupported protocol version";
        return 5;
    }
    v = eio_query_arg(wsi, "transport=", buf, sizeof(buf));
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
    free(pss->http);
    pss->buf = NULL;
    pss->http = NULL;
    pss->buf_len = pss->buf_cap = 0;
}

static int eio_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                        void *in, size_t len)
{
    struct eio_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return eio_poll_http(wsi, pss, in, strlen(in));
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->role == ROLE_POST && pss->http && pss->http->ep)
            eio_pss_append(pss, in, len, pss->http->ep->o.max_payload);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->role != ROLE_POST)
            return -1;
        return eio_poll_post_done(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return eio_poll_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss)
            wsi_gone(wsi, pss);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return eio_ws_filter(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return eio_ws_established(wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return eio_ws_receive(wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return eio_ws_writeable(wsi, pss);
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
    /* lws gives every WebSocket connection an rx buffer of this size (0
     * means pt_serv_buf_size, 4 KB) for as long as it is open: with tens
     * of thousands of agents it is the largest per-connection cost we
     * choose. A message that fits is passed on from it without a copy;
     * a bigger one arrives in pieces and is reassembled (eio_ws_receive:
     * one malloc, freed when the message is complete). */
    p->rx_buffer_size = EIO_WS_RX_BUFFER;
    p->user = srv;
}

