/* Unit tests for lib/collect_uptime. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_uptime.h"
#include "test_collect_fixture.h"

static void test_uptime(void **state)
{
    double up = -1;
    const char *t = "350735.47 234388.90\n";
    assert_int_equal(collect_uptime_parse(t, strlen(t), &up), 0);
    assert_near(up, 350735.47, 1e-6);
    assert_int_equal(collect_uptime_parse("12", 2, &up), 0);
    assert_near(up, 12, 0);
}

static void test_uptime_malformed(void **state)
{
    double up = 5;
    assert_int_equal(collect_uptime_parse("", 0, &up), -1);
    assert_int_equal(collect_uptime_parse("-3 4\n", 5, &up), -1);
    assert_int_equal(collect_uptime_parse(".\n", 2, &up), -1);
    assert_near(up, 5, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uptime),
        cmocka_unit_test(test_uptime_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
