/* test_sample.c -- sample_mac_valid: the machine-id rule (the sample
 * itself: test_sample_scan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sample.h"

static void test_mac_valid(void **state)
{
    (void)state;
    assert_true(sample_mac_valid("aa:bb:cc:dd:ee:ff", 17));
    assert_true(sample_mac_valid("host-1.example_2", 16));
    assert_true(sample_mac_valid("a", 1));
    assert_true(sample_mac_valid("...", 3));
    assert_true(sample_mac_valid(".hidden", 7));
    char m64[65];
    memset(m64, 'x', 64);
    m64[64] = '\0';
    assert_true(sample_mac_valid(m64, 64));
}

static void test_mac_hostile(void **state)
{
    (void)state;
    char m65[66];
    memset(m65, 'x', 65);
    m65[65] = '\0';
    assert_false(sample_mac_valid(m65, 65));
    assert_false(sample_mac_valid("", 0));
    assert_false(sample_mac_valid(NULL, 3));
    assert_false(sample_mac_valid(".", 1));
    assert_false(sample_mac_valid("..", 2));
    assert_false(sample_mac_valid("../x", 4));
    assert_false(sample_mac_valid("a/b", 3));
    assert_false(sample_mac_valid("a\\b", 3));
    assert_false(sample_mac_valid("a b", 3));
    assert_false(sample_mac_valid("a\nb", 3));
    assert_false(sample_mac_valid("a\x01" "b", 3));
    assert_false(sample_mac_valid("a\x7f", 2));
    assert_false(sample_mac_valid("caf\xc3\xa9", 5));
    assert_false(sample_mac_valid("a*", 2));
    /* An embedded NUL is inside the length: refused. */
    assert_false(sample_mac_valid("ab\0cd", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_valid),
        cmocka_unit_test(test_mac_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
