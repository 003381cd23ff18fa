/* test_decimal.c -- integers as decimal text, checked against printf at
 * the edges and over a spread of values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "decimal.h"

static void check_u64(uint64_t v)
{
    char got[DECIMAL_MAX + 1], want[32];
    size_t n = decimal_u64(got, v);
    got[n] = '\0';
    snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
    assert_string_equal(got, want);
}

static void check_i64(int64_t v)
{
    char got[DECIMAL_MAX + 1], want[32];
    size_t n = decimal_i64(got, v);
    got[n] = '\0';
    snprintf(want, sizeof(want), "%lld", (long long)v);
    assert_string_equal(got, want);
}

static void test_edges(void **state)
{
    (void)state;
    check_u64(0);
    check_u64(9);
    check_u64(10);
    check_u64(UINT64_MAX);
    check_i64(0);
    check_i64(-1);
    check_i64(INT64_MAX);
    check_i64(INT64_MIN);   /* the longest: 20 bytes */
    char buf[DECIMAL_MAX];
    assert_int_equal(decimal_i64(buf, INT64_MIN), DECIMAL_MAX);
    assert_int_equal(decimal_u64(buf, UINT64_MAX), DECIMAL_MAX);
}

static void test_spread(void **state)
{
    (void)state;
    uint64_t v = 1;
    for (int i = 0; i < 64; i++, v = v * 3 + 7) {
        check_u64(v);
        check_i64((int64_t)v);
        check_i64(-(int64_t)(v >> 1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
