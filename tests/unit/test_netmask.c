/* test_netmask.c -- CIDR parsing (IPv4, IPv6, bare addresses, bad input)
 * and matching peers, IPv4-mapped IPv6 included (--agent-networks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netmask.h"

static struct netmask_list list_ok(const char *text)
{
    struct netmask_list l;
    char err[128];
    if (netmask_parse_list(text, &l, err, sizeof(err)) != 0)
        fail_msg("'%s' refused: %s", text, err);
    return l;
}

static void list_bad(const char *text, const char *reason_part)
{
    struct netmask_list l;
    char err[128] = "";
    if (netmask_parse_list(text, &l, err, sizeof(err)) == 0)
        fail_msg("'%s' accepted", text);
    if (strstr(err, reason_part) == NULL)
        fail_msg("'%s': reason '%s' lacks '%s'", text, err, reason_part);
}

static void test_ipv4(void **state)
{
    struct netmask_list l = list_ok("10.0.0.0/8, 192.168.1.0/24,127.0.0.2");
    assert_int_equal(l.n, 3);
    assert_true(netmask_list_match(&l, "10.255.1.2"));
    assert_false(netmask_list_match(&l, "11.0.0.1"));
    assert_true(netmask_list_match(&l, "192.168.1.200"));
    assert_false(netmask_list_match(&l, "192.168.2.1"));
    assert_true(netmask_list_match(&l, "127.0.0.2"));       /* bare = /32 */
    assert_false(netmask_list_match(&l, "127.0.0.3"));
    assert_false(netmask_list_match(&l, "::1"));            /* other family */
}

static void test_host_bits_and_odd_prefixes(void **state)
{
    /* Host bits in the network are ignored: 10.1.2.3/16 is 10.1.0.0/16. */
    struct netmask_list l = list_ok("10.1.2.3/16,172.16.0.0/12,0.0.0.0/0");
    assert_int_equal(l.nets[0].addr[2], 0);
    assert_true(netmask_list_match(&l, "10.1.200.9"));
    l = list_ok("172.16.0.0/12");
    assert_true(netmask_list_match(&l, "172.31.255.255"));
    assert_false(netmask_list_match(&l, "172.32.0.0"));
    l = list_ok("0.0.0.0/0");
    assert_true(netmask_list_match(&l, "8.8.8.8"));
    l = list_ok("10.0.0.1/31");
    assert_true(netmask_list_match(&l, "10.0.0.0"));
    assert_false(netmask_list_match(&l, "10.0.0.2"));
}

static void test_ipv6(void **state)
{
    struct netmask_list l = list_ok("fd00::/8,::1,2001:db8:abcd::/48");
    assert_true(netmask_list_match(&l, "fd12:3456::1"));
    assert_false(netmask_list_match(&l, "fe80::1"));
    assert_true(netmask_list_match(&l, "::1"));
    assert_false(netmask_list_match(&l, "::2"));
    assert_true(netmask_list_match(&l, "2001:db8:abcd:ffff::7"));
    assert_false(netmask_list_match(&l, "2001:db8:abce::7"));
    assert_false(netmask_list_match(&l, "127.0.0.1"));
}

static void test_v4_mapped_peer(void **state)
{
    /* A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d. */
    struct netmask_list l = list_ok("127.0.0.2/32");
    assert_true(netmask_list_match(&l, "::ffff:127.0.0.2"));
    assert_false(netmask_list_match(&l, "::ffff:127.0.0.3"));
    assert_false(netmask_list_match(&l, "::127.0.0.2"));    /* not a mapped address */
}

static void test_empty_and_garbage(void **state)
{
    struct netmask_list l = list_ok("");
    assert_int_equal(l.n, 0);
    assert_false(netmask_list_match(&l, "127.0.0.1"));     /* caller decides "any" */
    l = list_ok("10.0.0.0/8");
    assert_false(netmask_list_match(&l, "not-an-ip"));
    assert_false(netmask_list_match(&l, ""));
    assert_false(netmask_list_match(NULL, "10.0.0.1"));
    list_bad("10.0.0.0/33", "prefix length");
    list_bad("::/129", "prefix length");
    list_bad("10.0.0.0/-1", "prefix length");
    list_bad("10.0.0.0/+8", "prefix length");
    list_bad("10.0.0.0/", "prefix length");
    list_bad("10.0.0.0/8x", "prefix length");
    list_bad("10.0.0/8", "not an IPv4 or IPv6");
    list_bad("example.com", "not an IPv4 or IPv6");
    list_bad("10.0.0.0/8,,10.1.0.0/16", "empty entry");
    list_bad("10.0.0.0/8,", "empty entry");
    list_bad(" , ", "empty entry");
}

static void test_list_bound(void **state)
{
    char text[NETMASK_LIST_MAX * 16 + 32] = "";
    for (int i = 0; i <= NETMASK_LIST_MAX; i++) {
        char one[24];
        snprintf(one, sizeof(one), "%s10.%d.0.0/16", i ? "," : "", i);
        strcat(text, one);
    }
    list_bad(text, "more than");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_host_bits_and_odd_prefixes),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_v4_mapped_peer),
        cmocka_unit_test(test_empty_and_garbage),
        cmocka_unit_test(test_list_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
