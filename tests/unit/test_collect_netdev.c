/* Unit tests for lib/collect_netdev: /proc/net/dev, wrap and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_netdev.h"
#include "test_collect_fixture.h"

static struct collect_netdev a, b;

static void test_parse_skips_lo_and_headers(void **state)
{
    size_t len;
    const char *t = fixture(0, "netdev/0", &len);
    assert_int_equal(collect_netdev_parse(t, len, &a), 0);
    assert_int_equal(a.n, 3);
    assert_string_equal(a.iface[0].name, "eth0");
    assert_true(a.iface[0].rx_bytes == 4294966296ULL);
    assert_true(a.iface[0].tx_bytes == 1000000000ULL);
    assert_string_equal(a.iface[1].name, "wlan0");
    /* "docker0:   10000" -- a name that fills the column has no blank before ':' */
    assert_string_equal(a.iface[2].name, "docker0");
    assert_true(a.iface[2].rx_bytes == 10000 && a.iface[2].tx_bytes == 20000);
}

/* netdev/0 -> netdev/1 over 2 s: eth0's rx wrapped at 2^32 (1000 below it
 * -> 1000 above 0), wlan0 was reset (counters far below the old ones),
 * docker0 idle, tun0 new. */
static void test_rates_wrap_reset_new(void **state)
{
    struct collect_net_rate r[8];
    size_t l0, l1;
    const char *t0 = fixture(0, "netdev/0", &l0);
    const char *t1 = fixture(1, "netdev/1", &l1);
    assert_int_equal(collect_netdev_parse(t0, l0, &a), 0);
    assert_int_equal(collect_netdev_parse(t1, l1, &b), 0);
    assert_int_equal(b.n, 4);
    assert_int_equal(collect_netdev_rates(&a, &b, 2.0, r, 8), 3);
    assert_string_equal(r[0].name, "eth0");
    assert_near(r[0].rx_bps, 2000 / 2.0, 1e-9);
    assert_near(r[0].tx_bps, 4000 / 2.0, 1e-9);
    assert_string_equal(r[1].name, "wlan0");
    assert_near(r[1].rx_bps, 2500 / 2.0, 1e-9);
    assert_near(r[1].tx_bps, 500 / 2.0, 1e-9);
    assert_string_equal(r[2].name, "docker0");
    assert_near(r[2].rx_bps, 0, 0);
    /* cap and bad interval */
    assert_int_equal(collect_netdev_rates(&a, &b, 2.0, r, 1), 1);
    assert_int_equal(collect_netdev_rates(&a, &b, 0, r, 8), 0);
}

static void test_counter_delta(void **state)
{
    assert_true(collect_counter_delta(10, 25) == 15);
    assert_true(collect_counter_delta(UINT32_MAX, 4) == 5);                 /* 32-bit wrap */
    assert_true(collect_counter_delta(UINT64_C(1) << 31, 0) == UINT64_C(1) << 31);
    assert_true(collect_counter_delta(1000000, 300) == 300);                /* reset, low counter */
    assert_true(collect_counter_delta(UINT64_C(1) << 40, 7) == 7);          /* reset, 64-bit counter */
    assert_true(collect_counter_delta(5, 5) == 0);
}

static void test_malformed(void **state)
{
    const char *headers_only = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n";
    const char *short_line = "  eth0: 1 2 3\n  eth1: 1 2 3 4 5 6 7 8 9\n";
    const char *long_name = "  averyveryverylongname0: 1 2 3 4 5 6 7 8 9\n";
    assert_int_equal(collect_netdev_parse(headers_only, strlen(headers_only), &a), -1);
    assert_int_equal(collect_netdev_parse("", 0, &a), -1);
    assert_int_equal(collect_netdev_parse(short_line, strlen(short_line), &a), 0);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.iface[0].name, "eth1");
    assert_true(a.iface[0].tx_bytes == 9);
    assert_int_equal(collect_netdev_parse(long_name, strlen(long_name), &a), 0);
    assert_int_equal(strlen(a.iface[0].name), COLLECT_IFNAME_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_skips_lo_and_headers),
        cmocka_unit_test(test_rates_wrap_reset_new),
        cmocka_unit_test(test_counter_delta),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
