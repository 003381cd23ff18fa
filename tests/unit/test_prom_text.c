/* test_prom_text.c -- Prometheus text format: headers, labels, escaping, values. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prom_text.h"

static void test_family(void **state)
{
    (void)state;
    struct prom_buf b;
    prom_init(&b);
    prom_header(&b, "perfload_machine_up", "gauge", "1 when the machine is active.");
    prom_sample1(&b, "perfload_machine_up", "mac", "aa:bb", 1);
    prom_sample0(&b, "perfload_x", 12.5);
    assert_false(prom_failed(&b));
    assert_string_equal(b.text.data,
                        "# HELP perfload_machine_up 1 when the machine is active.\n"
                        "# TYPE perfload_machine_up gauge\n"
                        "perfload_machine_up{mac=\"aa:bb\"} 1\n"
                        "perfload_x 12.5\n");
    assert_int_equal(b.text.len, strlen(b.text.data));
    prom_free(&b);
    assert_null(b.text.data);
}

static void test_escaping(void **state)
{
    (void)state;
    struct prom_buf b;
    prom_init(&b);
    prom_header(&b, "m", "counter", "back\\slash\nnew \"quoted\"");
    struct prom_label l[2] = { { "a", "q\"uo\\te\nx" }, { "b", NULL } };
    prom_sample(&b, "m", l, 2, 3);
    assert_string_equal(b.text.data,
                        "# HELP m back\\\\slash\\nnew \"quoted\"\n"
                        "# TYPE m counter\n"
                        "m{a=\"q\\\"uo\\\\te\\nx\",b=\"\"} 3\n");
    prom_free(&b);

    char out[16];
    assert_int_equal(prom_escape_label("a\"b", out, sizeof(out)), 4);
    assert_string_equal(out, "a\\\"b");
    assert_int_equal(prom_escape_label("0123456789\n\n\n", out, sizeof(out)), 16);
    assert_int_equal(strlen(out), 15);    /* truncated, still terminated */
}

static void test_values(void **state)
{
    (void)state;
    struct prom_buf b;
    prom_init(&b);
    prom_sample0(&b, "a", 8e9);
    prom_sample0(&b, "b", -2);
    prom_sample0(&b, "c", NAN);
    prom_sample0(&b, "d", INFINITY);
    prom_sample0(&b, "e", -INFINITY);
    prom_sample0(&b, "f", 0.1);
    prom_sample0(&b, "g", 1e300);
    assert_string_equal(b.text.data, "a 8000000000\nb -2\nc NaN\nd +Inf\ne -Inf\nf 0.10000000000000001\n"
                                "g 1.0000000000000001e+300\n");
    prom_free(&b);
}

static void test_grows(void **state)
{
    (void)state;
    struct prom_buf b;
    prom_init(&b);
    for (int i = 0; i < 5000; i++)
        prom_sample1(&b, "perfload_machine_cpu_load", "mac", "00:11:22:33:44:55", i);
    assert_false(prom_failed(&b));
    assert_true(b.text.len > 5000 * 40);
    assert_non_null(strstr(b.text.data, "{mac=\"00:11:22:33:44:55\"} 4999\n"));
    prom_free(&b);
}

/* The buffer is a textbuf with PROM_TEXT_MAX as its limit. Past the limit prom_failed() says so and
 * stays so, whatever is written after. */
static void test_limit(void **state)
{
    (void)state;
    struct prom_buf b;
    prom_init(&b);
    assert_int_equal(b.text.max, PROM_TEXT_MAX);
    prom_sample0(&b, "a", 1);
    assert_string_equal(b.text.data, "a 1\n");
    prom_free(&b);
    assert_null(b.text.data);
    assert_int_equal(b.text.len, 0);

    /* A small limit stands in for PROM_TEXT_MAX (256 MiB is too big to fill
     * in a unit test); the path through prom_* is the same. */
    textbuf_init(&b.text, 40);
    prom_sample1(&b, "perfload_x", "mac", "aa:bb", 1);     /* 29 bytes */
    assert_false(prom_failed(&b));
    prom_sample1(&b, "perfload_x", "mac", "cc:dd", 2);     /* passes 40 */
    assert_true(prom_failed(&b));
    prom_sample0(&b, "y", 3);                              /* would fit, still failed */
    assert_true(prom_failed(&b));
    assert_int_equal(textbuf_error(&b.text), TEXTBUF_EFULL);
    assert_true(b.text.len <= 40);
    assert_null(strstr(b.text.data, "y 3"));
    prom_free(&b);
    assert_false(prom_failed(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_grows),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
