/* Unit tests for lib/collect_text: bounded scanning helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_text.h"
#include "test_collect_fixture.h"

static void test_lines(void **state)
{
    const char *t = "a\n\nbc";
    struct collect_cursor c;
    const char *l, *e;
    collect_cursor_init(&c, t, strlen(t));
    assert_int_equal(collect_next_line(&c, &l, &e), 1);
    assert_int_equal(e - l, 1);
    assert_int_equal(collect_next_line(&c, &l, &e), 1);
    assert_int_equal(e - l, 0);
    assert_int_equal(collect_next_line(&c, &l, &e), 1);
    assert_int_equal(e - l, 2);
    assert_int_equal(collect_next_line(&c, &l, &e), 0);
    collect_cursor_init(&c, NULL, 0);
    assert_int_equal(collect_next_line(&c, &l, &e), 0);
}

static void test_numbers(void **state)
{
    const char *t = " \t18446744073709551615 18446744073709551616 x";
    const char *p = t, *end = t + strlen(t);
    uint64_t v;
    double d;
    assert_int_equal(collect_parse_u64(&p, end, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(collect_parse_u64(&p, end, &v), -1);   /* overflow */
    p = "12.5x"; end = p + 5;
    assert_int_equal(collect_parse_udouble(&p, end, &d), 0);
    assert_near(d, 12.5, 1e-12);
    assert_int_equal(*p, 'x');
    p = "7"; end = p;                                      /* empty range */
    assert_int_equal(collect_parse_u64(&p, end, &v), -1);
}

static void test_keys_and_copy(void **state)
{
    const char *line = "model name\t: Some CPU  ";
    const char *k, *ke, *v, *ve;
    char buf[6];
    assert_int_equal(collect_split_colon(line, line + strlen(line), &k, &ke, &v, &ve), 0);
    assert_true(collect_range_equals(k, ke, "model name"));
    assert_false(collect_range_equals(k, ke, "model"));
    assert_int_equal(ve - v, 8);
    assert_int_equal(collect_copy_trimmed(buf, sizeof buf, v, ve), 5);
    assert_string_equal(buf, "Some ");
    const char *nc = "nocolon";
    assert_int_equal(collect_split_colon(nc, nc + 7, &k, &ke, &v, &ve), -1);
    assert_true(collect_starts_with("cpu12", "cpu12" + 5, "cpu"));
    assert_false(collect_starts_with("cp", "cp" + 2, "cpu"));
}

/* Half away from zero, as round(3) does; huge values and NaN pass through. */
static void test_round(void **state)
{
    assert_near(collect_round(2.5), 3, 0);
    assert_near(collect_round(-2.5), -3, 0);
    assert_near(collect_round(2.4999), 2, 0);
    assert_near(collect_round(0.0), 0, 0);
    assert_near(collect_round(1e19), 1e19, 0);
    assert_true(isnan(collect_round(NAN)));
    assert_near(collect_round(4503599627370497.0), 4503599627370497.0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_keys_and_copy),
        cmocka_unit_test(test_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
