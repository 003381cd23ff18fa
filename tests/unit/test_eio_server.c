/* test_eio_server.c -- Engine.IO session state without a network: the
 * session table, the send queue's ring (freed when it drains unless it
 * grew), per-wsi reassembly limits and the polling-only request state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eio_internal.h"

struct fixture {
    struct eio_server *srv;
    struct eio_endpoint *ep;
};

static int setup(void **state)
{
    static struct fixture f;
    struct eio_endpoint_options o;

    memset(&o, 0, sizeof(o));
    o.path = "/socket.io/";
    f.srv = eio_server_create(NULL);   /* no lws context: timers are no-ops */
    f.ep = f.srv ? eio_server_mount(f.srv, &o) : NULL;
    *state = &f;
    return f.srv && f.ep ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    eio_server_destroy(f->srv);    /* frees whatever a test left open */
    return 0;
}

static void test_session_table_and_peer(void **state)
{
    struct fixture *f = *state;
    const char *v6 = "2001:db8:85a3::8a2e:370:7334";
    struct eio_session *a = eio_session_new(f->srv, f->ep, EIO_T_WEBSOCKET, 0, "127.0.0.2");
    struct eio_session *b = eio_session_new(f->srv, f->ep, EIO_T_POLLING, 1, v6);
    struct eio_session *c = eio_session_new(f->srv, f->ep, EIO_T_POLLING, 0, NULL);

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    /* the address is kept whole, however long, in the session's own block */
    assert_string_equal(eio_session_peer_ip(a), "127.0.0.2");
    assert_string_equal(eio_session_peer_ip(b), v6);
    assert_string_equal(eio_session_peer_ip(c), "");
    assert_int_equal(strlen(eio_session_sid(a)), EIO_SID_LEN);
    assert_string_not_equal(eio_session_sid(a), eio_session_sid(b));
    assert_string_equal(eio_session_transport(a), "websocket");
    assert_string_equal(eio_session_transport(b), "polling");
    assert_int_equal(eio_session_protocol(a), 4);
    assert_int_equal(eio_session_protocol(b), 3);
    assert_ptr_equal(eio_session_find(f->srv, eio_session_sid(b)), b);
    assert_int_equal(eio_server_session_count(f->srv), 3);

    char sid_b[EIO_SID_LEN + 1];

    memcpy(sid_b, eio_session_sid(b), sizeof(sid_b));
    eio_session_finish(b, "test");  /* no wsi refers to it: freed */
    assert_null(eio_session_find(f->srv, sid_b));
    assert_ptr_equal(eio_session_find(f->srv, eio_session_sid(a)), a);
    assert_int_equal(eio_server_session_count(f->srv), 2);
    eio_session_finish(a, "test");
    eio_session_finish(c, "test");
    assert_int_equal(eio_server_session_count(f->srv), 0);
}

static void test_queue_ring_freed_when_drained(void **state)
{
    struct fixture *f = *state;
    struct eio_session *s = eio_session_new(f->srv, f->ep, EIO_T_WEBSOCKET, 0, "10.0.0.1");
    struct eio_buf *b;

    assert_null(s->q);                       /* nothing queued, nothing held */
    assert_int_equal(eio_session_send_text(s, "2", 1), 0);
    assert_non_null(s->q);
    assert_int_equal(s->q_count, 1);
    assert_int_equal(s->q_bytes, 1);
    b = eio_session_pop(s);
    assert_non_null(b);
    assert_memory_equal(eio_buf_payload(b), "2", 1);
    eio_buf_unref(b);
    /* an agent's queue between pings: the ring is handed back */
    assert_null(s->q);
    assert_int_equal(s->q_cap, 0);
    assert_int_equal(s->q_bytes, 0);
    assert_null(eio_session_pop(s));
    assert_null(eio_session_peek(s));
    eio_session_finish(s, "test");
}

static void test_queue_grown_ring_kept_in_order(void **state)
{
    struct fixture *f = *state;
    struct eio_session *s = eio_session_new(f->srv, f->ep, EIO_T_WEBSOCKET, 0, "10.0.0.1");
    char pkt[16];   /* "4" and any int, with room the compiler can see */
    int i, next = 0;

    /* Wrap the head before growing, so the copy has to unwrap the ring. */
    for (i = 0; i < 5; i++) {
        snprintf(pkt, sizeof(pkt), "4%d", i);
        assert_int_equal(eio_session_send_text(s, pkt, strlen(pkt)), 0);
    }
    for (; next < 3; next++) {
        struct eio_buf *b = eio_session_pop(s);

        snprintf(pkt, sizeof(pkt), "4%d", next);
        assert_memory_equal(eio_buf_payload(b), pkt, b->len);
        eio_buf_unref(b);
    }
    for (i = 5; i < 20; i++) {
        snprintf(pkt, sizeof(pkt), "4%d", i);
        assert_int_equal(eio_session_send_text(s, pkt, strlen(pkt)), 0);
    }
    assert_true(s->q_cap > 8);
    assert_int_equal(s->q_count, 17);
    for (; next < 20; next++) {
        struct eio_buf *b = eio_session_pop(s);

        assert_non_null(b);
        snprintf(pkt, sizeof(pkt), "4%d", next);
        assert_int_equal(b->len, strlen(pkt));
        assert_memory_equal(eio_buf_payload(b), pkt, b->len);
        eio_buf_unref(b);
    }
    /* a busy reader keeps the ring it grew (no malloc per burst) */
    assert_non_null(s->q);
    assert_true(s->q_cap > 8);
    assert_int_equal(s->q_count, 0);
    assert_int_equal(s->q_bytes, 0);
    /* still usable after draining */
    assert_int_equal(eio_session_send_text(s, "6", 1), 0);
    assert_int_equal(s->q_count, 1);
    eio_session_finish(s, "test");   /* frees the queued buffer and the ring */
}

/* A promised burst (a dashboard's snapshot) may go over send_queue_max
 * once; when the queue is back under the bound the bound holds again. */
static void test_backlog_allowance(void **state)
{
    struct fixture *f = *state;
    struct eio_endpoint_options o;
    char pkt[900];

    memset(&o, 0, sizeof(o));
    o.path = "/small/";
    o.send_queue_max = 1000;
    struct eio_endpoint *ep = eio_server_mount(f->srv, &o);
    assert_non_null(ep);
    memset(pkt, 'x', sizeof(pkt));

    /* Without an allowance the second packet is one too many. */
    struct eio_session *plain = eio_session_new(f->srv, ep, EIO_T_WEBSOCKET, 0, "10.0.0.2");
    assert_int_equal(eio_session_send_text(plain, pkt, sizeof(pkt)), 0);
    assert_int_equal(eio_session_send_text(plain, pkt, sizeof(pkt)), -2);
    eio_session_finish(plain, "test");

    struct eio_session *s = eio_session_new(f->srv, ep, EIO_T_WEBSOCKET, 0, "10.0.0.3");
    eio_session_allow_backlog(s, 2000);          /* rounded up to 1 MiB */
    for (int i = 0; i < 3; i++)
        assert_int_equal(eio_session_send_text(s, pkt, sizeof(pkt)), 0);
    assert_int_equal(s->q_bytes, 2700);
    eio_buf_unref(eio_session_pop(s));
    assert_true(s->q_credit_mib > 0);            /* 1800 queued: still over the bound */
    eio_buf_unref(eio_session_pop(s));
    assert_int_equal(s->q_credit_mib, 0);        /* 900: back under it, the burst is over */
    assert_int_equal(eio_session_send_text(s, pkt, sizeof(pkt)), -2);
    eio_session_finish(s, "test");
}

static void test_pss_append_limits(void **state)
{
    struct eio_pss pss;
    char big[3000];

    (void)state;
    memset(&pss, 0, sizeof(pss));
    memset(big, 'x', sizeof(big));
    assert_int_equal(eio_pss_append(&pss, "ab", 2, 10), 0);
    assert_int_equal(eio_pss_append(&pss, "cdefgh", 6, 10), 0);
    assert_int_equal(pss.buf_len, 8);
    assert_memory_equal(pss.buf, "abcdefgh", 8);
    assert_true(pss.buf_cap > pss.buf_len);   /* room for a NUL */
    /* over the limit: refused, and stays refused */
    assert_int_equal(eio_pss_append(&pss, "ijk", 3, 10), -1);
    assert_int_equal(pss.over, 1);
    assert_int_equal(eio_pss_append(&pss, "i", 1, 10), -1);
    eio_pss_reset(&pss);
    assert_null(pss.buf);
    assert_int_equal(pss.over, 0);
    /* growth past the first 1 KB */
    assert_int_equal(eio_pss_append(&pss, big, sizeof(big), 1000000), 0);
    assert_int_equal(eio_pss_append(&pss, big, sizeof(big), 1000000), 0);
    assert_int_equal(pss.buf_len, 2 * sizeof(big));
    assert_true(pss.buf_cap >= 2 * sizeof(big) + 1);
    /* a single piece bigger than the limit */
    eio_pss_reset(&pss);
    assert_int_equal(eio_pss_append(&pss, big, sizeof(big), 100), -1);
    assert_null(pss.buf);
    /* polling-only state is freed with the rest */
    pss.http = calloc(1, sizeof(*pss.http) + 20);
    assert_non_null(pss.http);
    strcpy(pss.http->origin, "http://a.example");
    eio_pss_reset(&pss);
    assert_null(pss.http);
}

static void test_structs_stay_small(void **state)
{
    (void)state;
    /* One of each per connected agent (docs/benchmarks.md): a guard against
     * a field added without thought; raise with a reason. */
    assert_true(sizeof(struct eio_pss) <= 40);
    assert_true(sizeof(struct eio_session) <= 176);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_table_and_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_ring_freed_when_drained, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_grown_ring_kept_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_allowance, setup, teardown),
        cmocka_unit_test(test_pss_append_limits),
        cmocka_unit_test(test_structs_stay_small),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
