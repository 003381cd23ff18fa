/* test_mongo_doc.c -- the shape of what PerfLoad writes to Mongo, and
 * that the writer thread's text path (mongo_doc_*_json) builds exactly the
 * documents the event loop used to build from the cJSON tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
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

/* Canonical extended JSON of doc without its _id (a fresh ObjectId each
 * time): types show, so int64 vs double vs Date differences fail. */
static char *canon(const bson_t *doc)
{
    bson_t copy = BSON_INITIALIZER;
    bson_copy_to_excluding_noinit(doc, &copy, "_id", NULL);
    char *s = bson_as_canonical_extended_json(&copy, NULL);
    bson_destroy(&copy);
    assert_non_null(s);
    return s;
}

static void assert_same_doc(const bson_t *a, const bson_t *b)
{
    char *sa = canon(a), *sb = canon(b);
    assert_string_equal(sa, sb);
    bson_free(sa);
    bson_free(sb);
}

/* The machines upsert from the tree and from the text are the same. */
static void assert_same_machine(const cJSON *tree, const char *text, int active, int64_t ts)
{
    bson_t *osel, *oupd, *nsel, *nupd;
    assert_int_equal(mongo_doc_machine(tree, active, ts, &osel, &oupd), 0);
    assert_int_equal(mongo_doc_machine_json(text, strlen(text), active, ts, &nsel, &nupd), 0);
    assert_same_doc(osel, nsel);
    assert_same_doc(oupd, nupd);
    bson_destroy(osel);
    bson_destroy(oupd);
    bson_destroy(nsel);
    bson_destroy(nupd);
}

/* The texts a worker relays (all pass sample_scan): an agent's real sample, the test sample with
 * hostile keys, numbers at the int64/double boundary in every spelling,
 * escaped keys and strings, nested extras, whitespace. */
static const char *const texts[] = {
    "{\"macA\":\"02:fc:00:00:00:01\",\"freeMem\":24319696896,\"totalMem\":25276510208,"
    "\"usedMem\":956813312,\"memUsage\":0.04,\"osType\":\"Linux\",\"upTime\":10853,"
    "\"cpuModel\":\"Intel(R) Xeon(R) Processor\",\"numCores\":2,\"cpuSpeed\":2100,"
    "\"cpuLoad\":100,\"isActive\":true,\"cpuLoadPerCore\":[100,96.15],"
    "\"loadAvg\":[2.98,1.01,0.77],\"swapTotal\":0,\"swapUsed\":0,\"disks\":[{\"mount\":\"/\","
    "\"total\":270553174016,\"used\":19688615936,\"avail\":83056664576}],\"net\":[{\"iface\":"
    "\"eth0\",\"rxBps\":0,\"txBps\":0}],\"kernel\":\"6.18.44\",\"hostname\":\"vm\"}",
    "{\"macA\":\"aa:bb:cc\",\"cpuLoad\":12.5,\"memUsage\":0.5,\"freeMem\":4000000000,"
    "\"totalMem\":8000000000,\"usedMem\":4000000000,\"upTime\":99,\"osType\":\"Linux\","
    "\"cpuModel\":\"X\",\"numCores\":4,\"cpuSpeed\":2400.5,\"isActive\":true,\"loadAvg\":[1,2,3],"
    "\"$where\":1,\"a.b\":2,\"_id\":3,\"ts\":4,\"hasGpu\":false}",
    " {\"macA\" : \"m-1.x_Y\", \"cpuLoad\":1.0, \"memUsage\":1E0, \"a\":8e9, \"b\":-0,"
    " \"c\":0.1, \"d\":9007199254740991, \"e\":9007199254740993, \"f\":-9007199254740992,"
    " \"g\":1e308, \"h\":2.5e-7, \"i\":123456789012345678901234567890, \"j\":-17,"
    " \"k\":1.5E+3, \"isActive\":false} \n",
    "{\"macA\":\"aa\",\"cpuLoad\":5,\"memUseage\":0.25,\"osType\":\"Caf\\u00e9 \\ud83d\\ude00\","
    "\"cpuModel\":\"tab\\there \\\"q\\\" \\\\ \\/\",\"n\\u00e9\":7,\"x\\u002ey\":1,"
    "\"nested\":{\"a\":{\"b\":[1,null]}},\"nul\":null,\"s\":\"\",\"t\":true}",
    NULL
};

static void test_json_path_matches_tree_path(void **state)
{
    (void)state;
    for (int i = 0; texts[i]; i++) {
        cJSON *tree = cJSON_Parse(texts[i]);
        assert_non_null(tree);
        size_t len = strlen(texts[i]);

        bson_t *old = mongo_doc_sample(tree, 1700000000123LL);
        bson_t *new = mongo_doc_sample_json(texts[i], len, 1700000000123LL);
        assert_non_null(old);
        assert_non_null(new);
        assert_same_doc(old, new);
        bson_iter_t it;
        assert_true(bson_iter_init_find(&it, new, "_id") && BSON_ITER_HOLDS_OID(&it));
        bson_destroy(old);
        bson_destroy(new);

        assert_same_machine(tree, texts[i], 0, 42);
        assert_same_machine(tree, texts[i], 1, 42);
        cJSON_Delete(tree);
    }
}

/* The event loop used to store the tree sample_check had normalised
 * (memUsage derived, isActive set true); now it queues the relayed text,
 * which carries the same two fields appended by sample_rewrite. */
static void test_normalised_text_matches_normalised_tree(void **state)
{
    (void)state;
    const char *raw = "{\"macA\":\"aa:01\",\"cpuLoad\":3,\"totalMem\":300,\"usedMem\":171}";
    cJSON *tree = cJSON_Parse(raw);
    assert_non_null(tree);
    cJSON_AddNumberToObject(tree, "memUsage", 0.57);
    cJSON_AddTrueToObject(tree, "isActive");
    const char *text = "{\"macA\":\"aa:01\",\"cpuLoad\":3,\"totalMem\":300,\"usedMem\":171,"
                       "\"memUsage\":0.57,\"isActive\":true}";
    bson_t *old = mongo_doc_sample(tree, 5), *new = mongo_doc_sample_json(text, strlen(text), 5);
    assert_same_doc(old, new);
    bson_destroy(old);
    bson_destroy(new);
    assert_same_machine(tree, text, 1, 5);
    cJSON_Delete(tree);
}

static void test_json_path_refuses_what_makes_no_document(void **state)
{
    (void)state;
    const char *bad[] = { "", "{", "[1]", "null", "\"aa\"", "{}", "{\"macA\":3}",
                          "{\"macA\":\"a b\"}", "{\"macA\":\"..\"}", "{\"macA\":\"a/b\"}", NULL };
    bson_t *sel = NULL, *upd = NULL;
    for (int i = 0; bad[i]; i++) {
        assert_null(mongo_doc_sample_json(bad[i], strlen(bad[i]), 1));
        assert_int_equal(mongo_doc_machine_json(bad[i], strlen(bad[i]), 1, 1, &sel, &upd), -1);
    }
    assert_null(mongo_doc_sample_json(NULL, 3, 1));
    /* Every sample queued was relayed, so it passed sample_scan: a text that
     * does not is refused, even an object with a valid macA. */
    const char *not_sample = "{\"macA\":\"aa\",\"cpuLoad\":1}";
    assert_null(mongo_doc_sample_json(not_sample, strlen(not_sample), 1));
    assert_int_equal(mongo_doc_machine_json(NULL, 3, 1, 1, &sel, &upd), -1);

    /* Only len bytes are read: a text cut short is not an object, and a
     * buffer with no NUL after the object is read safely. */
    const char *whole = "{\"macA\":\"aa\",\"cpuLoad\":1,\"memUsage\":0.5}";
    assert_null(mongo_doc_sample_json(whole, strlen(whole) - 1, 1));
    size_t n = strlen(whole);
    char *exact = malloc(n);
    assert_non_null(exact);
    memcpy(exact, whole, n);
    bson_t *d = mongo_doc_sample_json(exact, n, 1);
    assert_non_null(d);
    assert_true(has(d, "cpuLoad"));
    bson_destroy(d);
    free(exact);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_doc),
        cmocka_unit_test(test_machine_doc),
        cmocka_unit_test(test_active_doc),
        cmocka_unit_test(test_refuses_bad_samples),
        cmocka_unit_test(test_json_path_matches_tree_path),
        cmocka_unit_test(test_normalised_text_matches_normalised_tree),
        cmocka_unit_test(test_json_path_refuses_what_makes_no_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
