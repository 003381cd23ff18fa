/* test_ratelimit.c -- token bucket refill and burst, the per-socket
 * drop/kick verdicts (--max-msgs-per-sec), and the log-line limiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

static void test_bucket_burst_then_rate(void **state)
{
    struct rl_bucket b;
    rl_bucket_init(&b, 100, 1000);
    int ok = 0;
    for (int i = 0; i < 150; i++)
        ok += rl_bucket_take(&b, 50, 100, 1000);
    assert_int_equal(ok, 100);                  /* the burst, no more */
    assert_int_equal(rl_bucket_take(&b, 50, 100, 1019), 0); /* 0.95 token */
    assert_int_equal(rl_bucket_take(&b, 50, 100, 1020), 1); /* 1 token after 20 ms at 50/s */
    assert_int_equal(rl_bucket_take(&b, 50, 100, 1020), 0);
    /* A long idle time refills to the burst, not beyond. */
    ok = 0;
    for (int i = 0; i < 200; i++)
        ok += rl_bucket_take(&b, 50, 100, 10 * 3600 * 1000);
    assert_int_equal(ok, 100);
}

static void test_bucket_clock_back(void **state)
{
    struct rl_bucket b;
    rl_bucket_init(&b, 1, 5000);
    assert_int_equal(rl_bucket_take(&b, 1, 1, 5000), 1);
    assert_int_equal(rl_bucket_take(&b, 1, 1, 4000), 0);   /* earlier: no refill */
    assert_int_equal(rl_bucket_take(&b, 1, 1, 5000), 1);   /* 1 s after the reset point */
}

/* Sends `per_sec` messages evenly in each of `seconds` seconds from t0;
 * returns the first second at which the verdict was RL_KICK, or -1. */
static int run(struct rl_socket *s, int per_sec, int seconds, int64_t t0, int *passed, int *first_drops)
{
    for (int sec = 0; sec < seconds; sec++) {
        for (int i = 0; i < per_sec; i++) {
            int first;
            int64_t now = t0 + sec * 1000 + (int64_t)i * 1000 / per_sec;
            enum rl_verdict v = rl_socket_message(s, 50, 100, now, &first);
            if (v == RL_PASS)
                (*passed)++;
            *first_drops += first;
            if (v == RL_KICK)
                return sec;
        }
    }
    return -1;
}

static void test_socket_within_rate_never_dropped(void **state)
{
    struct rl_socket s;
    int passed = 0, first = 0;
    rl_socket_init(&s, 100, 0);
    assert_int_equal(run(&s, 50, 20, 0, &passed, &first), -1);
    assert_int_equal(passed, 50 * 20);
    assert_int_equal(first, 0);
}

static void test_socket_persistently_over_is_kicked(void **state)
{
    struct rl_socket s;
    int passed = 0, first = 0;
    rl_socket_init(&s, 100, 0);
    int kicked_at = run(&s, 200, 20, 0, &passed, &first);
    /* Drops in windows 0..4 make 5 strikes; the first drop of window 5 kicks. */
    assert_int_equal(kicked_at, RL_STRIKES_MAX);
    assert_int_equal(first, RL_STRIKES_MAX + 1);   /* told once per window */
    assert_in_range(passed, 100 + 50 * 5, 100 + 50 * 6 + 1);
}

static void test_socket_burst_then_quiet_is_forgiven(void **state)
{
    struct rl_socket s;
    int passed = 0, first = 0;
    rl_socket_init(&s, 100, 0);
    /* 4 seconds over the rate, 2 quiet seconds, 4 more over: never 5 in a row. */
    assert_int_equal(run(&s, 200, 4, 0, &passed, &first), -1);
    assert_int_equal(run(&s, 200, 4, 6000, &passed, &first), -1);
    assert_int_equal(first, 8);
}

static void test_socket_unlimited(void **state)
{
    struct rl_socket s;
    rl_socket_init(&s, 1, 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(rl_socket_message(&s, 0, 1, 0, NULL), RL_PASS);
}

static void test_log_limiter(void **state)
{
    struct rl_log l = { 0, 0 };
    uint64_t sup = 99;
    assert_true(rl_log_allow(&l, 5000, 1000, &sup));
    assert_int_equal(sup, 0);
    for (int i = 1; i <= 7; i++)
        assert_false(rl_log_allow(&l, 5000 + i * 100, 1000, &sup));
    assert_true(rl_log_allow(&l, 6000, 1000, &sup));
    assert_int_equal(sup, 7);
    assert_true(rl_log_allow(&l, 9000, 1000, &sup));
    assert_int_equal(sup, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_burst_then_rate),
        cmocka_unit_test(test_bucket_clock_back),
        cmocka_unit_test(test_socket_within_rate_never_dropped),
        cmocka_unit_test(test_socket_persistently_over_is_kicked),
        cmocka_unit_test(test_socket_burst_then_quiet_is_forgiven),
        cmocka_unit_test(test_socket_unlimited),
        cmocka_unit_test(test_log_limiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
