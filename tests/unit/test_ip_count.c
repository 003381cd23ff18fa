/* test_ip_count.c -- per-address connection counting for
 * --max-conns-per-ip: the cap, release, entries freed at zero, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ip_count.h"

static void test_cap(void **state)
{
    struct ip_count *t = ip_count_create();
    assert_non_null(t);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ip_count_acquire(t, "127.0.0.2", 3), 1);
    assert_int_equal(ip_count_acquire(t, "127.0.0.2", 3), 0);
    assert_int_equal(ip_count_get(t, "127.0.0.2"), 3);
    assert_int_equal(ip_count_acquire(t, "127.0.0.3", 3), 1);   /* another address */
    ip_count_release(t, "127.0.0.2");
    assert_int_equal(ip_count_acquire(t, "127.0.0.2", 3), 1);
    assert_int_equal(ip_count_acquire(t, "127.0.0.2", 0), 1);   /* no cap */
    assert_int_equal(ip_count_get(t, "127.0.0.2"), 4);
    ip_count_destroy(t);
}

static void test_release_frees_entries(void **state)
{
    struct ip_count *t = ip_count_create();
    assert_int_equal(ip_count_acquire(t, "::1", 1), 1);
    assert_int_equal(ip_count_addresses(t), 1);
    ip_count_release(t, "::1");
    assert_int_equal(ip_count_addresses(t), 0);
    assert_int_equal(ip_count_get(t, "::1"), 0);
    ip_count_release(t, "::1");                 /* unknown: no-op */
    ip_count_release(t, "10.9.9.9");
    assert_int_equal(ip_count_addresses(t), 0);
    ip_count_destroy(t);
}

static void test_many_addresses(void **state)
{
    struct ip_count *t = ip_count_create();
    char ip[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
        assert_int_equal(ip_count_acquire(t, ip, 2), 1);
        assert_int_equal(ip_count_acquire(t, ip, 2), 1);
    }
    assert_int_equal(ip_count_addresses(t), 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
        assert_int_equal(ip_count_acquire(t, ip, 2), 0);
        assert_int_equal(ip_count_get(t, ip), 2);
        ip_count_release(t, ip);
        ip_count_release(t, ip);
    }
    assert_int_equal(ip_count_addresses(t), 0);
    ip_count_destroy(t);
}

static void test_bad_input(void **state)
{
    struct ip_count *t = ip_count_create();
    char longip[128];
    memset(longip, 'a', sizeof(longip) - 1);
    longip[sizeof(longip) - 1] = '\0';
    assert_int_equal(ip_count_acquire(t, longip, 5), -1);
    assert_int_equal(ip_count_acquire(t, NULL, 5), -1);
    assert_int_equal(ip_count_acquire(NULL, "1.2.3.4", 5), -1);
    assert_int_equal(ip_count_get(t, longip), 0);
    ip_count_destroy(t);
    ip_count_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_release_frees_entries),
        cmocka_unit_test(test_many_addresses),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
