/* eio_websocket.c -- Engine.IO over WebSocket: direct sessions, the probe
 * of a polling -> websocket upgrade, message reassembly and writes. */
#include "eio_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- websocket ---------------------------------------------------------------- */

static struct eio_endpoint *ws_endpoint(struct lws *wsi)
{
    char path[256];
    int n = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);

    if (n <= 0)
        return NULL;
    return eio_endpoint_match(eio_server_of(wsi), path, (size_t)n);
}

int eio_ws_filter(struct lws *wsi)
{
    struct eio_server *srv = eio_server_of(wsi);
    struct eio_endpoint *ep = ws_endpoint(wsi);
    const char *msg;
    int v3;

    if (ep == NULL || eio_check_query(wsi, ep, "websocket", &v3, &msg) >= 0 || srv->shutting_down) {
        eio_count_error(srv);
        return 1;
    }
    return 0; /* a bad sid is refused after the handshake (ws_established) */
}

int eio_ws_established(struct lws *wsi, struct eio_pss *pss)
{
    struct eio_server *srv = eio_server_of(wsi);
    struct eio_endpoint *ep = ws_endpoint(wsi);
    char sidbuf[64], peer[64], open[256];
    const char *sid, *msg;
    struct eio_session *s;
    int n, v3 = 0;

    eio_pss_reset(pss);
    if (ep == NULL || eio_check_query(wsi, ep, "websocket", &v3, &msg) >= 0)
        return -1;
    sid = eio_query_arg(wsi, "sid=", sidbuf, sizeof(sidbuf));
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
    eio_peer_ip(wsi, peer, sizeof(peer));
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

/* A whole message in one RECEIVE (the usual case: a sample is well under
 * the rx buffer) is handed on straight from lws's buffer; only a message
 * lws delivers in pieces is reassembled in pss->buf, which is freed once it
 * is complete so an idle connection holds no buffer of its own. */
int eio_ws_receive(struct lws *wsi, struct eio_pss *pss, const void *in, size_t len)
{
    struct eio_session *s = pss->session;
    size_t limit;
    int whole = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    const char *msg = in;
    size_t msg_len = len;
    int binary, r = 0;

    if (s == NULL || s->finished || pss->role == ROLE_REFUSED)
        return -1;
    limit = s->ep->o.max_payload;
    if (!whole || pss->buf_len > 0) {
        if (eio_pss_append(pss, in, len, limit) != 0)
            goto too_big;
        if (!whole)
            return 0;
        msg = pss->buf;
        msg_len = pss->buf_len;
    } else if (len > limit) {
        goto too_big;
    }
    binary = lws_frame_is_binary(wsi);
    if (pss->role == ROLE_PROBE)
        r = binary ? -1 : probe_message(wsi, pss, msg, msg_len);
    else
        eio_session_receive(s, msg, msg_len, binary, 0);
    if (pss->buf != NULL) {
        free(pss->buf);
        pss->buf = NULL;
        pss->buf_len = pss->buf_cap = 0;
    }
    return r;

too_big:
    eio_count_error(s->srv);
    eio_log(s->srv, 2, "sid %s peer %s: websocket message over maxPayload", s->sid, s->peer);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
    if (pss->role == ROLE_WS) {
        s->kill_transport = 1;
        eio_session_finish(s, "transport error");
    }
    return -1;
}

/* Several packets queued: frame them here, back to back, and hand lws one
 * buffer to send as is (LWS_WRITE_RAW = LWS_WRITE_HTTP, which the ws role
 * passes to lws_issue_raw untouched). lws calls WRITEABLE once per loop
 * turn, so one packet per callback caps a socket at one packet per turn: a
 * dashboard receiving every sample of 20,000 agents fell behind by more
 * than the loop's turns per second and was dropped as a slow reader. Server
 * frames are unmasked and no extension is negotiated, so a frame is a
 * 2..10-byte header and the payload. Returns packets written (0: the first
 * one alone is bigger than the batch; let lws frame it), or -1. */
static int ws_write_batch(struct lws *wsi, struct eio_session *s)
{
    struct eio_server *srv = s->srv;
    struct eio_buf *b;
    size_t used = 0;
    int count = 0;

    if (srv->ws_batch == NULL && (srv->ws_batch = malloc(LWS_PRE + EIO_WS_BATCH)) == NULL)
        return 0;
    unsigned char *out = srv->ws_batch + LWS_PRE;
    while ((b = eio_session_peek(s)) != NULL) {
        size_t hl = b->len < 126 ? 2 : b->len < 65536 ? 4 : 10;
        if (used + hl + b->len > EIO_WS_BATCH)
            break;
        unsigned char *h = out + used;
        h[0] = (unsigned char)(0x80 | (b->binary ? 0x2 : 0x1));     /* FIN + opcode */
        if (hl == 2) {
            h[1] = (unsigned char)b->len;
        } else if (hl == 4) {
            h[1] = 126;
            h[2] = (unsigned char)(b->len >> 8);
            h[3] = (unsigned char)b->len;
        } else {
            h[1] = 127;
            for (int i = 0; i < 8; i++)
                h[2 + i] = (unsigned char)((uint64_t)b->len >> (56 - 8 * i));
        }
        memcpy(h + hl, eio_buf_payload(b), b->len);
        used += hl + b->len;
        eio_buf_unref(eio_session_pop(s));
        count++;
    }
    if (count == 0)
        return 0;
    return lws_write(wsi, out, used, LWS_WRITE_RAW) < 0 ? -1 : count;
}

int eio_ws_writeable(struct lws *wsi, struct eio_pss *pss)
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
    if (s->q_count > 1) {
        /* Batch after batch while the kernel takes them whole: a dashboard
         * of 40,000 agents needs ~17 MB/s, more than one batch per loop
         * turn on a loaded loop. A batch the kernel took only in part is
         * kept by lws, and we stop there until the next WRITEABLE. */
        int batches = 0;
        while ((n = ws_write_batch(wsi, s)) > 0 && ++batches < EIO_WS_BATCHES_PER_TURN &&
               s->q_count > 1 && !lws_send_pipe_choked(wsi))
            ;
        if (n < 0)
            return -1;
        if (batches > 0) {
            if (s->q_count || s->closing || s->finished)
                lws_callback_on_writable(wsi);
            return 0;
        }
    }
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
