/* test_eio_timer.c -- the engine's timer queues on a real lws context:
 * deadline order, cancel, reschedule, out-of-order inserts, callbacks that
 * schedule, destroy with timers pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <libwebsockets.h>

#include "eio_timer.h"

struct tick {
    struct eio_timer t;
    int id;
};

static int fired[16];
static int nfired;
static struct eio_timerq *requeue_q;   /* when set, the first callback schedules id 99 */
static struct tick requeued = { .id = 99 };

static void on_fire(struct eio_timer *t)
{
    struct tick *k = lws_container_of(t, struct tick, t);

    if (nfired < 16)
        fired[nfired++] = k->id;
    if (requeue_q != NULL && k->id != 99) {
        eio_timer_schedule(requeue_q, &requeued.t, on_fire, 1000);
        requeue_q = NULL;
    }
}

static struct lws_context *ctx_new(void)
{
    struct lws_context_creation_info info;

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    lws_set_log_level(LLL_ERR, NULL);
    return lws_create_context(&info);
}

static void wake(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* only there to end lws_service()'s poll() */
}

/* Services the context until want callbacks ran or ~2 s passed. lws 4.1
 * ignores lws_service()'s timeout and sleeps until its next timer, so a
 * wake-up timer of our own bounds every turn: a queue that failed to arm
 * its timer then fails the test's assertions instead of hanging it. */
static void run_until(struct lws_context *ctx, int want)
{
    lws_sorted_usec_list_t tick;
    lws_usec_t end = lws_now_usecs() + 2 * LWS_US_PER_SEC;

    memset(&tick, 0, sizeof(tick));
    while (nfired < want && lws_now_usecs() < end) {
        lws_sul_schedule(ctx, 0, &tick, wake, 10 * LWS_US_PER_MS);
        lws_service(ctx, 10);
    }
    lws_sul_cancel(&tick);
}

/* Services the context for about ms milliseconds, whatever fires. */
static void serve_for(struct lws_context *ctx, int ms)
{
    lws_sorted_usec_list_t tick;
    lws_usec_t end = lws_now_usecs() + (lws_usec_t)ms * LWS_US_PER_MS;

    memset(&tick, 0, sizeof(tick));
    while (lws_now_usecs() < end) {
        lws_sul_schedule(ctx, 0, &tick, wake, 10 * LWS_US_PER_MS);
        lws_service(ctx, 10);
    }
    lws_sul_cancel(&tick);
}

static int setup(void **state)
{
    memset(fired, 0, sizeof(fired));
    nfired = 0;
    requeue_q = NULL;
    *state = ctx_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    lws_context_destroy(*state);
    return 0;
}

static void test_same_length_fire_in_order_once(void **state)
{
    struct eio_timerq q;
    struct tick k[4];

    memset(&q, 0, sizeof(q));
    eio_timerq_set_context(&q, *state);
    for (int i = 0; i < 4; i++) {
        memset(&k[i], 0, sizeof(k[i]));
        k[i].id = i;
        eio_timer_schedule(&q, &k[i].t, on_fire, 20000);
    }
    run_until(*state, 4);
    serve_for(*state, 100);                        /* nothing fires twice */
    assert_int_equal(nfired, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(fired[i], i);
    assert_null(q.head);
    assert_null(q.tail);
    eio_timerq_destroy(&q);
}

static void test_cancel_and_reschedule(void **state)
{
    struct eio_timerq q;
    struct tick a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

    memset(&q, 0, sizeof(q));
    eio_timerq_set_context(&q, *state);
    eio_timer_schedule(&q, &a.t, on_fire, 10000);
    eio_timer_schedule(&q, &b.t, on_fire, 20000);
    eio_timer_schedule(&q, &c.t, on_fire, 30000);
    eio_timer_cancel(&a.t);                         /* the head: the queue re-arms for b */
    eio_timer_cancel(&a.t);                         /* twice is harmless */
    eio_timer_schedule(&q, &b.t, on_fire, 60000);   /* b moves behind c */
    run_until(*state, 2);
    assert_int_equal(nfired, 2);
    assert_int_equal(fired[0], 3);
    assert_int_equal(fired[1], 2);
    assert_null(a.t.q);
    eio_timerq_destroy(&q);
}

static void test_shorter_timeout_after_longer_fires_first(void **state)
{
    struct eio_timerq q;
    struct tick late = { .id = 1 }, early = { .id = 2 };

    memset(&q, 0, sizeof(q));
    eio_timerq_set_context(&q, *state);
    eio_timer_schedule(&q, &late.t, on_fire, 80000);
    eio_timer_schedule(&q, &early.t, on_fire, 10000);
    assert_ptr_equal(q.head, &early.t);
    assert_ptr_equal(q.tail, &late.t);
    run_until(*state, 2);
    assert_int_equal(fired[0], 2);
    assert_int_equal(fired[1], 1);
    eio_timerq_destroy(&q);
}

static void test_callback_may_schedule_into_its_queue(void **state)
{
    struct eio_timerq q;
    struct tick a = { .id = 1 };

    memset(&q, 0, sizeof(q));
    eio_timerq_set_context(&q, *state);
    memset(&requeued.t, 0, sizeof(requeued.t));
    requeue_q = &q;
    eio_timer_schedule(&q, &a.t, on_fire, 5000);
    run_until(*state, 2);
    assert_int_equal(nfired, 2);
    assert_int_equal(fired[0], 1);
    assert_int_equal(fired[1], 99);
    eio_timerq_destroy(&q);
}

static void test_destroy_drops_pending_and_no_context_is_a_noop(void **state)
{
    struct eio_timerq q, off;
    struct tick a = { .id = 1 }, b = { .id = 2 };

    memset(&q, 0, sizeof(q));
    memset(&off, 0, sizeof(off));
    eio_timerq_set_context(&q, *state);
    eio_timer_schedule(&q, &a.t, on_fire, 5000);
    eio_timerq_destroy(&q);
    assert_null(a.t.q);
    eio_timer_schedule(&off, &b.t, on_fire, 1000);  /* no context yet: not queued */
    assert_null(b.t.q);
    serve_for(*state, 60);
    assert_int_equal(nfired, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_length_fire_in_order_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_reschedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shorter_timeout_after_longer_fires_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_may_schedule_into_its_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_drops_pending_and_no_context_is_a_noop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
