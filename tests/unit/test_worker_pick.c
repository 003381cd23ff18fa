/* test_worker_pick.c -- address normalisation and sticky routing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "farmhash.h"
#include "worker_pick.h"

static void expect_norm(const char *in, const char *want)
{
    char out[WORKER_IP_TEXT_MAX];
    int n = worker_ip_normalise(in, out, sizeof(out));
    if (!want) {
        assert_int_equal(n, -1);
        assert_string_equal(out, "");
        return;
    }
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(out, want);
}

static void test_normalise(void **state)
{
    (void)state;
    expect_norm("127.0.0.1", "127.0.0.1");
    expect_norm("::ffff:127.0.0.1", "127.0.0.1");
    expect_norm("::FFFF:10.0.0.1", "10.0.0.1");
    expect_norm("::ffff:7f00:2", "127.0.0.2");
    expect_norm("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    expect_norm("2001:DB8::A", "2001:db8::a");
    expect_norm("::1", "::1");
    expect_norm("fe80:0:0:0:1:0:0:1", "fe80::1:0:0:1");
    expect_norm("", NULL);
    expect_norm("localhost", NULL);
    expect_norm("1.2.3", NULL);
    expect_norm("127.0.0.1:8000", NULL);
}

static void test_normalise_small_buffer(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(worker_ip_normalise("1.2.3.4", out, sizeof(out)), -1);
}

static void test_sockaddr_v4(void **state)
{
    (void)state;
    struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_port = htons(1234) };
    char out[WORKER_IP_TEXT_MAX];
    inet_pton(AF_INET, "127.0.0.7", &in4.sin_addr);
    assert_int_equal(worker_ip_text((struct sockaddr *)&in4, sizeof(in4), out, sizeof(out)), 9);
    assert_string_equal(out, "127.0.0.7");
    /* A truncated sockaddr is refused, not read past. */
    assert_int_equal(worker_ip_text((struct sockaddr *)&in4, 4, out, sizeof(out)), -1);
}

static void test_sockaddr_v6_and_mapped(void **state)
{
    (void)state;
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    char out[WORKER_IP_TEXT_MAX];
    inet_pton(AF_INET6, "::ffff:192.168.1.77", &in6.sin6_addr);
    assert_true(worker_ip_text((struct sockaddr *)&in6, sizeof(in6), out, sizeof(out)) > 0);
    assert_string_equal(out, "192.168.1.77");
    inet_pton(AF_INET6, "2001:db8:0:0:0:0:2:1", &in6.sin6_addr);
    assert_true(worker_ip_text((struct sockaddr *)&in6, sizeof(in6), out, sizeof(out)) > 0);
    assert_string_equal(out, "2001:db8::2:1");

    struct sockaddr un = { .sa_family = AF_UNIX };
    assert_int_equal(worker_ip_text(&un, sizeof(un), out, sizeof(out)), -1);
}

static void test_pick_is_fingerprint_mod_n(void **state)
{
    (void)state;
    /* 1211160241 % 2 = 1, % 3 = 1, % 4 = 1, % 7 = 4 (issue's vector). */
    assert_int_equal(worker_pick("127.0.0.1", 2), 1211160241u % 2);
    assert_int_equal(worker_pick("127.0.0.1", 7), 1211160241u % 7);
    assert_int_equal(worker_pick("::1", 5), 3686423519u % 5);
    assert_int_equal(worker_pick("anything", 1), 0);
    assert_int_equal(worker_pick("anything", 0), 0);
}

/* A mapped and a plain IPv4 client land on the same slot. */
static void test_mapped_routes_like_v4(void **state)
{
    (void)state;
    char a[WORKER_IP_TEXT_MAX], b[WORKER_IP_TEXT_MAX];
    for (int i = 1; i < 255; i++) {
        char v4[32], mapped[40];
        snprintf(v4, sizeof(v4), "10.1.2.%d", i);
        snprintf(mapped, sizeof(mapped), "::ffff:10.1.2.%d", i);
        assert_true(worker_ip_normalise(v4, a, sizeof(a)) > 0);
        assert_true(worker_ip_normalise(mapped, b, sizeof(b)) > 0);
        assert_int_equal(worker_pick(a, 4), worker_pick(b, 4));
    }
}

/* Why stickiness matters: one long-polling session opens many connections
 * (handshake, each GET, each POST). Model 19 clients (127.0.0.2..20) each
 * making 6 requests to 2 workers, interleaved. With worker_pick every request
 * of a session reaches the worker that created it; with round-robin (what a
 * plain SO_REUSEPORT/accept-race does) most sessions see a worker that does
 * not know their sid, which Engine.IO answers with 400 "Session ID unknown". */
static void test_sticky_vs_round_robin(void **state)
{
    (void)state;
    enum { CLIENTS = 19, REQS = 6, N = 2 };
    int owner_sticky[CLIENTS], owner_rr[CLIENTS];
    int broken_sticky = 0, broken_rr = 0, used[N] = { 0, 0 };
    uint32_t rr = 0;

    for (int r = 0; r < REQS; r++) {
        for (int c = 0; c < CLIENTS; c++) {
            char ip[32];
            snprintf(ip, sizeof(ip), "127.0.0.%d", c + 2);
            int s = (int)worker_pick(ip, N);
            int q = (int)(rr++ % N);
            if (r == 0) {
                owner_sticky[c] = s;
                owner_rr[c] = q;
                used[s]++;
            } else {
                broken_sticky += s != owner_sticky[c];
                broken_rr += q != owner_rr[c];
            }
        }
    }
    assert_int_equal(broken_sticky, 0);
    assert_true(broken_rr > 0);
    /* Different addresses spread over both workers. */
    assert_true(used[0] > 0 && used[1] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_normalise_small_buffer),
        cmocka_unit_test(test_sockaddr_v4),
        cmocka_unit_test(test_sockaddr_v6_and_mapped),
        cmocka_unit_test(test_pick_is_fingerprint_mod_n),
        cmocka_unit_test(test_mapped_routes_like_v4),
        cmocka_unit_test(test_sticky_vs_round_robin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
