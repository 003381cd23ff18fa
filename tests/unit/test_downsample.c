/* test_downsample.c -- at most N points, in order, means per bucket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "downsample.h"

static void test_bucket_width(void **state)
{
    (void)state;
    /* 10 s at 1 Hz, no step asked: 10 ms buckets, one sample each. */
    assert_int_equal(ds_bucket_ms(0, 9999, 0, 1000), 10);
    /* A week into 1000 points: at least 604.8 s per bucket. */
    assert_int_equal(ds_bucket_ms(0, 7 * 86400000LL - 1, 5000, 1000), 604800);
    /* A larger step wins. */
    assert_int_equal(ds_bucket_ms(0, 9999, 5000, 1000), 5000);
    /* Degenerate ranges still give a positive width. */
    assert_int_equal(ds_bucket_ms(5, 5, 0, 1000), 1);
    assert_int_equal(ds_bucket_ms(10, 5, 0, 1000), 1);
    assert_int_equal(ds_bucket_ms(0, 100, -3, 0), 101);
}

static void test_identity_when_sparse(void **state)
{
    (void)state;
    struct ds_point out[20];
    struct ds d;
    ds_init(&d, 1000, ds_bucket_ms(1000, 10999, 0, 1000), 2, out, 20);
    for (int i = 0; i < 10; i++) {
        double v[2] = { i * 10.0, i / 10.0 };
        assert_int_equal(ds_add(&d, 1000 + i * 1000, v, NULL), 0);
    }
    assert_int_equal(ds_finish(&d), 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(out[i].ts, 1000 + i * 1000);
        assert_true(out[i].v[0] == i * 10.0);
        assert_int_equal(out[i].count, 1);
        assert_true(out[i].has[0] && out[i].has[1]);
    }
}

static void test_averages_and_bounds(void **state)
{
    (void)state;
    /* One day at 1 Hz into <= 1000 points. */
    static struct ds_point out[1000];
    struct ds d;
    int64_t since = 1700000000000LL, until = since + 86400000LL - 1;
    int64_t bucket = ds_bucket_ms(since, until, 0, 1000);
    ds_init(&d, since, bucket, 1, out, 1000);
    for (int64_t t = since; t <= until; t += 1000) {
        double v = (double)((t - since) / 1000 % 2);    /* 0,1,0,1... */
        assert_int_equal(ds_add(&d, t, &v, NULL), 0);
    }
    size_t n = ds_finish(&d);
    assert_true(n <= 1000);
    assert_true(n >= 990);
    for (size_t i = 1; i < n; i++)
        assert_true(out[i].ts > out[i - 1].ts);        /* time order */
    assert_true(out[0].v[0] > 0.4 && out[0].v[0] < 0.6);
    assert_true(out[0].count >= 86);
    assert_true(out[0].ts >= since && out[n - 1].ts <= until);
}

static void test_missing_fields_and_disorder(void **state)
{
    (void)state;
    struct ds_point out[4];
    struct ds d;
    ds_init(&d, 0, 100, 2, out, 4);
    double a[2] = { 10, 99 }, b[2] = { 20, 0 };
    unsigned char only0[2] = { 1, 0 };
    ds_add(&d, 10, a, NULL);
    ds_add(&d, 30, b, only0);       /* field 1 missing: not averaged in */
    ds_add(&d, 5, a, NULL);         /* same bucket, earlier: still counted */
    ds_add(&d, -5, a, NULL);        /* before since: ignored */
    ds_add(&d, 250, a, NULL);
    ds_add(&d, 120, a, NULL);       /* a bucket already closed: ignored */
    assert_int_equal(ds_finish(&d), 2);
    assert_true(out[0].v[0] == (10 + 20 + 10) / 3.0);
    assert_true(out[0].v[1] == 99);
    assert_int_equal(out[0].count, 3);
    assert_int_equal(out[0].ts, 15);
    assert_int_equal(out[1].ts, 250);

    /* A full output refuses more points instead of overflowing. */
    struct ds_point one[1];
    ds_init(&d, 0, 10, 1, one, 1);
    assert_int_equal(ds_add(&d, 0, a, NULL), 0);
    assert_int_equal(ds_add(&d, 50, a, NULL), -1);
    assert_int_equal(ds_finish(&d), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_width),
        cmocka_unit_test(test_identity_when_sparse),
        cmocka_unit_test(test_averages_and_bounds),
        cmocka_unit_test(test_missing_fields_and_disorder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
