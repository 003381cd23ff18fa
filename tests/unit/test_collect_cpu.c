/* Unit tests for lib/collect_cpu: /proc/stat parsing and load. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_cpu.h"
#include "test_collect_fixture.h"

static struct collect_cpu_stat a, b;

static void load_pair(const char *name0, const char *name1)
{
    size_t l0, l1;
    const char *t0 = fixture(0, name0, &l0);
    const char *t1 = fixture(1, name1, &l1);
    assert_int_equal(collect_cpu_parse(t0, l0, &a), 0);
    assert_int_equal(collect_cpu_parse(t1, l1, &b), 0);
}

/* 4 cores, 10 fields; designed deltas: cores at 20/0/40/100 %, aggregate
 * 400 busy of 1000 jiffies. The guest columns grow too and must not count. */
static void test_ordinary(void **state)
{
    double per[8];
    load_pair("stat/ordinary.0", "stat/ordinary.1");
    assert_int_equal(a.ncores, 4);
    assert_int_equal(b.ncores, 4);
    assert_int_equal(b.id[3], 3);
    assert_true(b.all.total - a.all.total == 1000);
    assert_near(collect_cpu_load(&a.all, &b.all), 40.0, 1e-9);
    assert_int_equal(collect_cpu_load_per_core(&a, &b, per, 8), 4);
    assert_near(per[0], 20.0, 1e-9);
    assert_near(per[1], 0.0, 1e-9);
    assert_near(per[2], 40.0, 1e-9);
    assert_near(per[3], 100.0, 1e-9);
}

/* One core, an old kernel's 7 counters (no steal, no guest). */
static void test_one_core(void **state)
{
    double per[4];
    load_pair("stat/1core.0", "stat/1core.1");
    assert_int_equal(b.ncores, 1);
    assert_near(collect_cpu_load(&a.all, &b.all), 50.0, 1e-9);
    assert_int_equal(collect_cpu_load_per_core(&a, &b, per, 4), 1);
    assert_near(per[0], 50.0, 1e-9);
}

/* 128 cores: core i moved 1000 jiffies of which 5*i busy -> i/2 %. */
static void test_128_cores(void **state)
{
    static double per[COLLECT_CPU_MAX_CORES];
    double busy = 0;
    load_pair("stat/128core.0", "stat/128core.1");
    assert_int_equal(b.ncores, 128);
    assert_int_equal(collect_cpu_load_per_core(&a, &b, per, COLLECT_CPU_MAX_CORES), 128);
    for (int i = 0; i < 128; i++) {
        assert_int_equal(b.id[i], i);
        assert_near(per[i], i / 2.0, 1e-9);
        busy += 5.0 * i;
    }
    assert_near(collect_cpu_load(&a.all, &b.all), 100.0 * busy / (128 * 1000.0), 1e-9);
    /* a smaller output array is respected */
    assert_int_equal(collect_cpu_load_per_core(&a, &b, per, 10), 10);
}

static void test_counters_backwards_or_still(void **state)
{
    struct collect_cpu_times p = { .busy = 500, .total = 1000 };
    struct collect_cpu_times same = p;
    struct collect_cpu_times back = { .busy = 100, .total = 900 };
    struct collect_cpu_times busy_back = { .busy = 400, .total = 1100 };
    assert_near(collect_cpu_load(&p, &same), 0.0, 0);
    assert_near(collect_cpu_load(&p, &back), 0.0, 0);
    assert_near(collect_cpu_load(&p, &busy_back), 0.0, 0);
}

/* A core going offline between readings (hotplug): loads are matched by
 * cpu number, not by position. */
static void test_hotplug_matches_by_id(void **state)
{
    const char *t0 = "cpu  40 0 0 60 0 0 0 0\ncpu0 10 0 0 90 0 0 0 0\ncpu1 20 0 0 80 0 0 0 0\ncpu2 30 0 0 70 0 0 0 0\n";
    const char *t1 = "cpu  90 0 0 110 0 0 0 0\ncpu0 20 0 0 180 0 0 0 0\ncpu2 90 0 0 110 0 0 0 0\ncpu3 5 0 0 5 0 0 0 0\n";
    double per[4];
    assert_int_equal(collect_cpu_parse(t0, strlen(t0), &a), 0);
    assert_int_equal(collect_cpu_parse(t1, strlen(t1), &b), 0);
    assert_int_equal(collect_cpu_load_per_core(&a, &b, per, 4), 3);
    assert_int_equal(b.id[1], 2);
    assert_near(per[0], 10.0, 1e-9);   /* cpu0: 10 of 100 */
    assert_near(per[1], 60.0, 1e-9);   /* cpu2: 60 of 100 */
    assert_near(per[2], 0.0, 0);       /* cpu3: new, no history */
}

static void test_malformed(void **state)
{
    const char *no_agg = "cpu0 1 2 3 4\nintr 5\n";
    const char *short_agg = "cpu  1 2 3\n";
    const char *garbage_core = "cpu  1 2 3 4 5 6 7 8\ncpuX 1 2 3 4\ncpu1x 5 5 5 5\ncpu7 1 2\ncpu2 1 1 1 1\n";
    const char *no_newline = "cpu  1 2 3 4 5 6 7 8";
    assert_int_equal(collect_cpu_parse(no_agg, strlen(no_agg), &a), -1);
    assert_int_equal(collect_cpu_parse(short_agg, strlen(short_agg), &a), -1);
    assert_int_equal(collect_cpu_parse("", 0, &a), -1);
    assert_int_equal(collect_cpu_parse(garbage_core, strlen(garbage_core), &a), 0);
    assert_int_equal(a.ncores, 1);
    assert_int_equal(a.id[0], 2);
    assert_int_equal(collect_cpu_parse(no_newline, strlen(no_newline), &a), 0);
    assert_true(a.all.total == 36 && a.all.busy == 36 - 4 - 5);
    /* a buffer cut in the middle must not be read past its length */
    assert_int_equal(collect_cpu_parse(no_newline, 9, &a), -1);   /* "cpu  1 2 " */
    assert_int_equal(collect_cpu_parse(no_newline, 12, &a), 0);  /* "cpu  1 2 3 4" */
    assert_true(a.all.total == 1 + 2 + 3 + 4 && a.all.busy == 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary),
        cmocka_unit_test(test_one_core),
        cmocka_unit_test(test_128_cores),
        cmocka_unit_test(test_counters_backwards_or_still),
        cmocka_unit_test(test_hotplug_matches_by_id),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
