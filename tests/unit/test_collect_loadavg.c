/* Unit tests for lib/collect_loadavg. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_loadavg.h"
#include "test_collect_fixture.h"

static void test_loadavg(void **state)
{
    double la[3] = { -1, -1, -1 };
    const char *t = "0.52 1.58 12.09 2/1234 5678\n";
    assert_int_equal(collect_loadavg_parse(t, strlen(t), la), 0);
    assert_near(la[0], 0.52, 1e-12);
    assert_near(la[1], 1.58, 1e-12);
    assert_near(la[2], 12.09, 1e-12);
}

static void test_loadavg_malformed_leaves_output(void **state)
{
    double la[3] = { 7, 7, 7 };
    const char *two = "0.52 1.58\n";
    const char *word = "high 1 2\n";
    assert_int_equal(collect_loadavg_parse(two, strlen(two), la), -1);
    assert_int_equal(collect_loadavg_parse(word, strlen(word), la), -1);
    assert_int_equal(collect_loadavg_parse("", 0, la), -1);
    assert_near(la[0], 7, 0);
    /* the length bounds the parse even when more text follows */
    assert_int_equal(collect_loadavg_parse("1.0 2.0 3.0", 7, la), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loadavg),
        cmocka_unit_test(test_loadavg_malformed_leaves_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
