/* Unit tests for lib/collect_mac: choosing macA. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_mac.h"
#include "test_collect_fixture.h"

static struct collect_netif nif(const char *name, const char *addr, int type, int has_device)
{
    struct collect_netif f;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "%s", name);
    snprintf(f.address, sizeof f.address, "%s", addr);
    f.type = type;
    f.has_device = has_device;
    return f;
}

static void test_physical_first_then_sorted(void **state)
{
    char out[COLLECT_MACA_MAX];
    struct collect_netif ifs[] = {
        nif("lo", "00:00:00:00:00:00\n", 772, 0),
        nif("docker0", "02:42:ac:11:00:01\n", 1, 0),
        nif("wlp2s0", "AA:BB:CC:DD:EE:02\n", 1, 1),
        nif("enp3s0", "aa:bb:cc:dd:ee:01\n", 1, 1),
        nif("br-1234", "02:42:00:00:00:09\n", 1, 0),
    };
    assert_int_equal(collect_mac_pick(ifs, 5, NULL, 0, out, sizeof out), 1);
    assert_string_equal(out, "aa:bb:cc:dd:ee:01");
    /* same set in another order: same answer (stable) */
    struct collect_netif rev[] = { ifs[4], ifs[3], ifs[2], ifs[1], ifs[0] };
    assert_int_equal(collect_mac_pick(rev, 5, NULL, 0, out, sizeof out), 1);
    assert_string_equal(out, "aa:bb:cc:dd:ee:01");
    /* without the physical NICs, the lowest-named virtual one; lower-cased */
    struct collect_netif virt[] = { ifs[1], ifs[4], nif("veth0", "0A:0B:0C:0D:0E:0F", 1, 0) };
    assert_int_equal(collect_mac_pick(virt, 3, NULL, 0, out, sizeof out), 1);
    assert_string_equal(out, "02:42:00:00:00:09");
}

static void test_skips_loopback_zero_and_malformed(void **state)
{
    char out[COLLECT_MACA_MAX];
    struct collect_netif ifs[] = {
        nif("a0", "00:00:00:00:00:00\n", 1, 1),       /* zero MAC (tun, some VMs) */
        nif("a1", "", 65534, 1),                       /* no address at all (tun) */
        nif("a2", "not-a-mac\n", 1, 1),
        nif("a3", "12:34:56:78:9a:bc\n", 772, 1),     /* loopback by type */
        nif("a4", "1:2:3\n", 1, 0),                    /* short octets are hex too */
    };
    assert_int_equal(collect_mac_pick(ifs, 5, NULL, 0, out, sizeof out), 1);
    assert_string_equal(out, "1:2:3");
    assert_false(collect_mac_valid("12:34:56:78:9a:bcd", 18));
    assert_false(collect_mac_valid("12::56", 6));
    assert_false(collect_mac_valid("12:34:", 6));
    assert_true(collect_mac_valid("80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:2f:62:a1", 59));
}

/* A container with only lo (fixture tree tests/fixtures/proc/container):
 * /etc/machine-id. */
static void test_container_without_mac_uses_machine_id(void **state)
{
    char out[COLLECT_MACA_MAX];
    size_t al, tl, ml;
    const char *addr = fixture(0, "container/sys/class/net/lo/address", &al);
    const char *type = fixture(1, "container/sys/class/net/lo/type", &tl);
    const char *mid = fixture(2, "container/etc/machine-id", &ml);
    struct collect_netif lo = nif("lo", "", atoi(type), 0);
    memcpy(lo.address, addr, al < sizeof lo.address - 1 ? al : sizeof lo.address - 1);
    assert_int_equal(lo.type, 772);
    assert_int_equal(collect_mac_pick(&lo, 1, mid, ml, out, sizeof out), 2);
    assert_string_equal(out, "c0ffee00c0ffee00c0ffee00c0ffee00");
    /* a loopback is recognised by its type even when renamed and given an
     * address */
    snprintf(lo.name, sizeof lo.name, "lo0");
    snprintf(lo.address, sizeof lo.address, "12:34:56:78:9a:bc\n");
    assert_int_equal(collect_mac_pick(&lo, 1, mid, ml, out, sizeof out), 2);
    assert_int_equal(collect_mac_pick(NULL, 0, mid, ml, out, sizeof out), 2);
}

static void test_nothing_usable(void **state)
{
    char out[COLLECT_MACA_MAX];
    char too_long[80];
    memset(too_long, 'a', sizeof too_long);
    assert_int_equal(collect_mac_pick(NULL, 0, NULL, 0, out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(collect_mac_pick(NULL, 0, "uninitialized\n", 14, out, sizeof out), -1);
    assert_int_equal(collect_mac_pick(NULL, 0, "../etc\n", 7, out, sizeof out), -1);
    assert_int_equal(collect_mac_pick(NULL, 0, "\n", 1, out, sizeof out), -1);
    assert_int_equal(collect_mac_pick(NULL, 0, too_long, 65, out, sizeof out), -1);
    assert_int_equal(collect_mac_pick(NULL, 0, too_long, 64, out, sizeof out), 2);
    assert_int_equal(strlen(out), 64);
    assert_int_equal(collect_mac_pick(NULL, 0, too_long, 64, out, 10), -1);   /* buffer too small */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_physical_first_then_sorted),
        cmocka_unit_test(test_skips_loopback_zero_and_malformed),
        cmocka_unit_test(test_container_without_mac_uses_machine_id),
        cmocka_unit_test(test_nothing_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
