/* Unit tests for lib/collect_mem: /proc/meminfo and the memUsage definition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_mem.h"
#include "test_collect_fixture.h"

static void test_ordinary_uses_memavailable(void **state)
{
    struct collect_mem m;
    size_t len;
    const char *t = fixture(0, "meminfo/ordinary", &len);
    assert_int_equal(collect_mem_parse(t, len, &m), 0);
    assert_true(m.has_available);
    assert_true(m.total == 16303412ULL * 1024);
    assert_true(m.free == 9821372ULL * 1024);           /* MemAvailable, not MemFree */
    assert_true(m.used == (16303412ULL - 9821372ULL) * 1024);
    assert_near(m.usage, 0.40, 1e-12);                  /* 6482040 / 16303412 = 0.3976 */
    assert_true(m.swap_total == 2097148ULL * 1024);
    assert_true(m.swap_used == (2097148ULL - 1572860ULL) * 1024);
}

/* Kernels before 3.14: free = MemFree + Buffers + Cached. */
static void test_without_memavailable(void **state)
{
    struct collect_mem m;
    size_t len;
    const char *t = fixture(0, "meminfo/no_available", &len);
    assert_int_equal(collect_mem_parse(t, len, &m), 0);
    assert_false(m.has_available);
    assert_true(m.total == 3921160ULL * 1024);
    assert_true(m.free == (523412ULL + 102400 + 1310720) * 1024);
    assert_true(m.used == m.total - m.free);
    assert_near(m.usage, 0.51, 1e-12);                  /* 1984628 / 3921160 = 0.5061 */
    assert_true(m.swap_total == 0 && m.swap_used == 0);
}

static void test_usage_rounding_and_bounds(void **state)
{
    struct collect_mem m;
    const char *half = "MemTotal: 200 kB\nMemAvailable: 101 kB\n";   /* 0.495 -> 0.50 */
    const char *over = "MemTotal: 100 kB\nMemAvailable: 150 kB\n";   /* clamp: never negative used */
    const char *full = "MemTotal: 100 kB\nMemFree: 0 kB\n";
    assert_int_equal(collect_mem_parse(half, strlen(half), &m), 0);
    assert_near(m.usage, 0.50, 1e-12);
    assert_int_equal(collect_mem_parse(over, strlen(over), &m), 0);
    assert_true(m.used == 0 && m.free == m.total);
    assert_near(m.usage, 0.0, 0);
    assert_int_equal(collect_mem_parse(full, strlen(full), &m), 0);
    assert_near(m.usage, 1.0, 0);
    assert_near(collect_round2(0.125), 0.13, 1e-12);
    assert_near(collect_round2(0.994), 0.99, 1e-12);
}

static void test_malformed(void **state)
{
    struct collect_mem m;
    const char *no_total = "MemFree: 10 kB\nMemAvailable: 10 kB\n";
    const char *zero_total = "MemTotal: 0 kB\nMemAvailable: 0 kB\n";
    const char *no_free = "MemTotal: 100 kB\nBuffers: 1 kB\n";
    const char *prefix_only = "MemTotalX: 100 kB\nMemAvailable: 10 kB\n";
    const char *overflow = "MemTotal: 99999999999999999999 kB\nMemAvailable: 1 kB\n";
    assert_int_equal(collect_mem_parse(no_total, strlen(no_total), &m), -1);
    assert_int_equal(collect_mem_parse(zero_total, strlen(zero_total), &m), -1);
    assert_int_equal(collect_mem_parse(no_free, strlen(no_free), &m), -1);
    assert_int_equal(collect_mem_parse(prefix_only, strlen(prefix_only), &m), -1);
    assert_int_equal(collect_mem_parse(overflow, strlen(overflow), &m), -1);
    assert_int_equal(collect_mem_parse("", 0, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_uses_memavailable),
        cmocka_unit_test(test_without_memavailable),
        cmocka_unit_test(test_usage_rounding_and_bounds),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
