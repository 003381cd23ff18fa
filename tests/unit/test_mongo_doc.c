/* test_mongo_doc.c -- the shape of what PerfLoad writes to Mongo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mongo_doc.h"

static cJSON *sample(void)
{
    cJSON *s = cJSON_Parse("{\"macA\":\"aa:bb:cc\",\"cpuLoad\":12.5,\"memUsage\":0.5,"
                           "\"freeMem\":4000000000,\"totalMem\":8000000000,\"usedMem\":4000000000,"
                           "\"upTime\":99,\"osType\":\"Linux\",\"cpuModel\":\"X\",\"numCores\":4,"
                           "\"cpuSpeed\":2400.5,\"isActive\":true,\"loadAvg\":[1,2,3],"
                           "\"$where\":1,\"a.b\":2,\"_id\":3,\"ts\":4,\"hasGpu\":false}");
    assert_non_null(s);
    return s;
}

static const bson_t *sub(const bson_t *doc, const char *key, bson_t *out)
{
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;
    assert_true(bson_iter_init_find(&it, doc, key));
    assert_true(BSON_ITER_HOLDS_DOCUMENT(&it));
    bson_iter_document(&it, &len, &data);
    assert_true(bson_init_static(out, data, len));
    return out;
}

static int has(const bson_t *doc, const char *key)
{
    return bson_has_field(doc, key);
}

static void test_sample_doc(void **state)
{
    (void)state;
    cJSON *s = sample();
    bson_t *d = mongo_doc_sample(s, 1700000000123LL);
    assert_non_null(d);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, d, "_id") && BSON_ITER_HOLDS_OID(&it));
    assert_true(bson_iter_init_find(&it, d, "ts") && BSON_ITER_HOLDS_DATE_TIME(&it));
    assert_int_equal(bson_iter_date_time(&it), 1700000000123LL);
    assert_true(bson_iter_init_find(&it, d, "macA"));
    assert_string_equal(bson_iter_utf8(&it, NULL), "aa:bb:cc");
    assert_true(bson_iter_init_find(&it, d, "totalMem") && BSON_ITER_HOLDS_INT64(&it));
    assert_int_equal(bson_iter_int64(&it), 8000000000LL);
    assert_true(bson_iter_init_find(&it, d, "cpuLoad") && BSON_ITER_HOLDS_DOUBLE(&it));
    assert_true(bson_iter_double(&it) == 12.5);
    assert_true(has(d, "cpuSpeed") && has(d, "numCores") && has(d, "upTime"));
    /* numbers only; never a key Mongo refuses or one we own */
    assert_false(has(d, "osType") || has(d, "isActive") || has(d, "loadAvg") || has(d, "hasGpu"));
    assert_false(has(d, "$where") || has(d, "a.b"));
    assert_true(bson_iter_init_find(&it, d, "ts") && BSON_ITER_HOLDS_DATE_TIME(&it));
    bson_destroy(d);

    /* two documents of one sample get different ids */
    bson_t *d1 = mongo_doc_sample(s, 1), *d2 = mongo_doc_sample(s, 1);
    bson_iter_t i1, i2;
    assert_true(bson_iter_init_find(&i1, d1, "_id") && bson_iter_init_find(&i2, d2, "_id"));
    assert_int_not_equal(bson_oid_compare(bson_iter_oid(&i1), bson_iter_oid(&i2)), 0);
    bson_destroy(d1);
    bson_destroy(d2);
    cJSON_Delete(s);
}

static void test_machine_doc(void **state)
{
    (void)state;
    cJSON *s = sample();
    bson_t *sel, *upd, set, ins;
    assert_int_equal(mongo_doc_machine(s, 1, 42, &sel, &upd), 0);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, sel, "macA"));
    assert_string_equal(bson_iter_utf8(&it, NULL), "aa:bb:cc");
    assert_int_equal(bson_count_keys(sel), 1);
    sub(upd, "$set", &set);
    assert_true(has(&set, "osType") && has(&set, "cpuModel") && has(&set, "numCores"));
    assert_true(has(&set, "totalMem") && has(&set, "cpuSpeed") && has(&set, "hasGpu"));
    assert_false(has(&set, "cpuLoad") || has(&set, "memUsage") || has(&set, "freeMem")
                 || has(&set, "usedMem") || has(&set, "upTime"));
    assert_false(has(&set, "$where") || has(&set, "a.b") || has(&set, "_id") || has(&set, "ts"));
    assert_true(bson_iter_init_find(&it, &set, "isActive") && bson_iter_as_bool(&it));
    assert_true(bson_iter_init_find(&it, &set, "lastSeen") && BSON_ITER_HOLDS_DATE_TIME(&it));
    sub(upd, "$setOnInsert", &ins);
    assert_true(bson_iter_init_find(&it, &ins, "firstSeen") && BSON_ITER_HOLDS_DATE_TIME(&it));
    assert_int_equal(bson_iter_date_time(&it), 42);
    bson_destroy(sel);
    bson_destroy(upd);
    cJSON_Delete(s);
}

static void test_active_doc(void **state)
{
    (void)state;
    bson_t *sel, *upd, set;
    assert_int_equal(mongo_doc_active("aa:bb", 0, 7, &sel, &upd), 0);
    sub(upd, "$set", &set);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, &set, "isActive") && !bson_iter_as_bool(&it));
    assert_int_equal(bson_count_keys(&set), 2);
    bson_destroy(sel);
    bson_destroy(upd);
    sel = upd = (bson_t *)1;
    assert_int_equal(mongo_doc_active("", 0, 7, &sel, &upd), -1);
    assert_int_equal(mongo_doc_active("..", 0, 7, &sel, &upd), -1);
    assert_int_equal(mongo_doc_active(NULL, 0, 7, &sel, &upd), -1);
    assert_int_equal(mongo_doc_active("a/b", 0, 7, &sel, &upd), -1);
}

static void test_refuses_bad_samples(void **state)
{
    (void)state;
    bson_t *sel, *upd;
    const char *bad[] = { "{}", "{\"macA\":3}", "{\"macA\":\"\"}", "{\"macA\":\"a b\"}",
                          "{\"macA\":\"..\"}", NULL };
    for (int i = 0; bad[i]; i++) {
        cJSON *s = cJSON_Parse(bad[i]);
        assert_null(mongo_doc_sample(s, 1));
        assert_int_equal(mongo_doc_machine(s, 1, 1, &sel, &upd), -1);
        cJSON_Delete(s);
    }
    assert_false(mongo_doc_key_ok("$x"));
    assert_false(mongo_doc_key_ok(""));
    assert_false(mongo_doc_key_ok("a.b"));
    assert_true(mongo_doc_key_ok("swapUsed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_doc),
        cmocka_unit_test(test_machine_doc),
        cmocka_unit_test(test_active_doc),
        cmocka_unit_test(test_refuses_bad_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
