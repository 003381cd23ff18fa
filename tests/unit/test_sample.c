/* test_sample.c -- sample_mac_valid, and the legacy tree API (sample_check,
 * sample_raw_check, sample_history_entry_tree, sample_set_active): every
 * tree case below is also asserted against sample_scan in
 * test_sample_scan.c, so the tree tests go when the tree API goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sample.h"

#define VALID_SAMPLE                                                              \
    "{\"macA\":\"aa:bb:cc:dd:ee:ff\",\"freeMem\":4000000000,\"totalMem\":8000000000," \
    "\"usedMem\":4000000000,\"memUsage\":0.5,\"osType\":\"Linux\",\"upTime\":1234,"  \
    "\"cpuModel\":\"Test CPU\",\"numCores\":4,\"cpuSpeed\":2400,\"cpuLoad\":12.5,"    \
    "\"isActive\":true}"

/* Parses text, runs sample_check, returns its result; err receives the reason. */
static int check_text(const char *text, char *err, size_t errlen, cJSON **out)
{
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    int r = sample_check(o, err, errlen);
    if (out != NULL)
        *out = o;
    else
        cJSON_Delete(o);
    return r;
}

/* The valid sample with one field replaced by `field_json` ("name":value). */
static int check_with(const char *name, const char *value_json, char *err, size_t errlen)
{
    cJSON *o = cJSON_Parse(VALID_SAMPLE);
    assert_non_null(o);
    cJSON *v = cJSON_Parse(value_json);
    assert_non_null(v);
    if (cJSON_GetObjectItemCaseSensitive(o, name) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(o, name, v);
    else
        cJSON_AddItemToObject(o, name, v);
    int r = sample_check(o, err, errlen);
    cJSON_Delete(o);
    return r;
}

static void test_mac_valid(void **state)
{
    (void)state;
    assert_true(sample_mac_valid("aa:bb:cc:dd:ee:ff", 17));
    assert_true(sample_mac_valid("host-1.example_2", 16));
    assert_true(sample_mac_valid("a", 1));
    assert_true(sample_mac_valid("...", 3));
    assert_true(sample_mac_valid(".hidden", 7));
    char m64[65];
    memset(m64, 'x', 64);
    m64[64] = '\0';
    assert_true(sample_mac_valid(m64, 64));
}

static void test_mac_hostile(void **state)
{
    (void)state;
    char m65[66];
    memset(m65, 'x', 65);
    m65[65] = '\0';
    assert_false(sample_mac_valid(m65, 65));
    assert_false(sample_mac_valid("", 0));
    assert_false(sample_mac_valid(NULL, 3));
    assert_false(sample_mac_valid(".", 1));
    assert_false(sample_mac_valid("..", 2));
    assert_false(sample_mac_valid("../x", 4));
    assert_false(sample_mac_valid("a/b", 3));
    assert_false(sample_mac_valid("a\\b", 3));
    assert_false(sample_mac_valid("a b", 3));
    assert_false(sample_mac_valid("a\nb", 3));
    assert_false(sample_mac_valid("a\x01" "b", 3));
    assert_false(sample_mac_valid("a\x7f", 2));
    assert_false(sample_mac_valid("caf\xc3\xa9", 5));
    assert_false(sample_mac_valid("a*", 2));
    /* An embedded NUL is inside the length: refused. */
    assert_false(sample_mac_valid("ab\0cd", 5));
}

static void test_valid_sample_untouched(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    cJSON *o = NULL;
    assert_int_equal(check_text(VALID_SAMPLE, err, sizeof(err), &o), SAMPLE_VALID);
    assert_string_equal(err, "");
    assert_string_equal(sample_mac(o), "aa:bb:cc:dd:ee:ff");
    cJSON_Delete(o);
}

static void test_sample_hostile_macs(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    const char *bad[] = { "\"../x\"", "\"..\"", "\".\"", "\"a/b\"", "\"a\\u0001b\"", "\"a\\nb\"",
                          "\"\"", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
                          "12", "null", "[\"a\"]", "{\"a\":1}", "true" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(check_with("macA", bad[i], err, sizeof(err)), SAMPLE_INVALID);
        assert_non_null(strstr(err, "macA"));
    }
}

static void test_missing_required(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    assert_int_equal(check_text("{\"cpuLoad\":1,\"memUsage\":0.1}", err, sizeof(err), NULL),
                     SAMPLE_INVALID);
    assert_string_equal(err, "macA missing");
    assert_int_equal(check_text("{\"macA\":\"m\",\"memUsage\":0.1}", err, sizeof(err), NULL),
                     SAMPLE_INVALID);
    assert_string_equal(err, "cpuLoad missing");
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1}", err, sizeof(err), NULL),
                     SAMPLE_INVALID);
    assert_non_null(strstr(err, "memUsage missing"));
    assert_int_equal(check_text("[1,2]", err, sizeof(err), NULL), SAMPLE_INVALID);
    assert_non_null(strstr(err, "object"));
    assert_int_equal(check_text("\"str\"", err, sizeof(err), NULL), SAMPLE_INVALID);
}

static void test_wrong_types(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    assert_int_equal(check_with("cpuLoad", "\"12\"", err, sizeof(err)), SAMPLE_INVALID);
    assert_string_equal(err, "cpuLoad must be a number");
    assert_int_equal(check_with("memUsage", "true", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("freeMem", "null", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("numCores", "[4]", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("osType", "5", err, sizeof(err)), SAMPLE_INVALID);
    assert_string_equal(err, "osType must be a string");
    assert_int_equal(check_with("cpuModel", "{}", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("isActive", "\"yes\"", err, sizeof(err)), SAMPLE_INVALID);
    assert_string_equal(err, "isActive must be a boolean");
}

static void test_ranges(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    assert_int_equal(check_with("cpuLoad", "100.5", err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "cpuLoad out of range"));
    assert_int_equal(check_with("cpuLoad", "-1", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("cpuLoad", "100", err, sizeof(err)), SAMPLE_VALID);
    assert_int_equal(check_with("cpuLoad", "0", err, sizeof(err)), SAMPLE_VALID);
    assert_int_equal(check_with("memUsage", "1.01", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("memUsage", "1", err, sizeof(err)), SAMPLE_VALID);
    assert_int_equal(check_with("freeMem", "-5", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("totalMem", "1e300", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("numCores", "0", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("numCores", "4097", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("numCores", "4096", err, sizeof(err)), SAMPLE_VALID);
    assert_int_equal(check_with("numCores", "2.5", err, sizeof(err)), SAMPLE_INVALID);
    assert_string_equal(err, "numCores must be an integer");
    assert_int_equal(check_with("upTime", "-0.5", err, sizeof(err)), SAMPLE_INVALID);
    assert_int_equal(check_with("cpuSpeed", "2000000", err, sizeof(err)), SAMPLE_INVALID);
}

static void test_non_finite(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    cJSON *o = cJSON_Parse(VALID_SAMPLE);
    cJSON_ReplaceItemInObjectCaseSensitive(o, "cpuLoad", cJSON_CreateNumber(0.0 / 0.0));
    assert_int_equal(sample_check(o, err, sizeof(err)), SAMPLE_INVALID);
    assert_string_equal(err, "cpuLoad must be a finite number");
    cJSON_Delete(o);

    /* 1e999 parses as infinity. */
    assert_int_equal(check_with("usedMem", "1e999", err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "finite"));
    assert_int_equal(check_with("extraMetric", "-1e999", err, sizeof(err)), SAMPLE_INVALID);
}

static void test_strings_capped(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    char big[400];
    big[0] = '"';
    memset(big + 1, 'x', 300);
    big[301] = '"';
    big[302] = '\0';
    assert_int_equal(check_with("cpuModel", big, err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "cpuModel too long"));
}

static void test_mem_useage_normalised(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    cJSON *o = NULL;
    int r = check_text("{\"macA\":\"m1\",\"cpuLoad\":3,\"memUseage\":0.42,\"isActive\":true}", err,
                       sizeof(err), &o);
    assert_int_equal(r, SAMPLE_NORMALISED);
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(o, "memUsage");
    assert_true(cJSON_IsNumber(mu));
    assert_true(mu->valuedouble == 0.42);
    /* The original spelling stays for old dashboards. */
    assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "memUseage"));
    cJSON_Delete(o);

    assert_int_equal(check_text("{\"macA\":\"m1\",\"cpuLoad\":3,\"memUseage\":7}", err, sizeof(err),
                                NULL),
                     SAMPLE_INVALID);
    assert_non_null(strstr(err, "memUseage out of range"));
}

static void test_mem_usage_derived(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    cJSON *o = NULL;
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":8000,\"usedMem\":2000,"
                                "\"isActive\":true}",
                                err, sizeof(err), &o),
                     SAMPLE_NORMALISED);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "memUsage")->valuedouble == 0.25);
    cJSON_Delete(o);
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":3000,\"freeMem\":1000,"
                                "\"isActive\":true}",
                                err, sizeof(err), &o),
                     SAMPLE_NORMALISED);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "memUsage")->valuedouble == 0.67);
    cJSON_Delete(o);
    /* totalMem 0 cannot be divided by. */
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":0,\"usedMem\":0}", err,
                                sizeof(err), NULL),
                     SAMPLE_INVALID);
}

static void test_is_active_forced(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    cJSON *o = NULL;
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1}", err, sizeof(err), &o),
                     SAMPLE_NORMALISED);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive")));
    cJSON_Delete(o);
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1,\"isActive\":false}",
                                err, sizeof(err), &o),
                     SAMPLE_NORMALISED);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive")));
    assert_int_equal(sample_set_active(o, 0), 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "isActive")));
    cJSON_Delete(o);
}

static void test_extras_bounded(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    /* A small extra passes through untouched. */
    assert_int_equal(check_with("loadAvg", "[0.5,0.4,0.3]", err, sizeof(err)), SAMPLE_VALID);
    assert_int_equal(check_with("disks", "[{\"mount\":\"/\",\"used\":0.5}]", err, sizeof(err)),
                     SAMPLE_VALID);
    /* Too deep. */
    assert_int_equal(check_with("deep", "[[[[[[1]]]]]]", err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "nested too deeply"));
    /* Too many values. */
    char *arr = malloc(8 * 2000 + 3);
    size_t off = 0;
    arr[off++] = '[';
    for (int i = 0; i < 2000; i++)
        off += (size_t)sprintf(arr + off, "%s1", i ? "," : "");
    arr[off++] = ']';
    arr[off] = '\0';
    assert_int_equal(check_with("many", arr, err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too large"));
    free(arr);
    /* Too many fields. */
    cJSON *o = cJSON_Parse(VALID_SAMPLE);
    for (int i = 0; i < SAMPLE_FIELDS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "x%d", i);
        cJSON_AddNumberToObject(o, name, i);
    }
    assert_int_equal(sample_check(o, err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too many fields"));
    cJSON_Delete(o);
}

static void test_duplicate_fields(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    assert_int_equal(check_text("{\"macA\":\"good\",\"cpuLoad\":1,\"memUsage\":0.1,\"macA\":\"../x\"}",
                                err, sizeof(err), NULL),
                     SAMPLE_INVALID);
    assert_non_null(strstr(err, "appears twice"));
}

static void test_raw_check(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    const char *nul = "{\"macA\":\"a\\u0000/../x\"}";
    assert_int_equal(sample_raw_check(nul, strlen(nul), err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "NUL"));
    /* An escaped backslash followed by the letters u0000 is harmless text. */
    const char *text = "{\"a\":\"\\\\u0000\"}";
    assert_int_equal(sample_raw_check(text, strlen(text), err, sizeof(err)), 0);
    const char *ok = "{\"a\":\"\\u0041\\n\"}";
    assert_int_equal(sample_raw_check(ok, strlen(ok), err, sizeof(err)), 0);
    assert_int_equal(sample_raw_check(VALID_SAMPLE, strlen(VALID_SAMPLE), err, sizeof(err)), 0);
    /* Size: the limit itself passes, one byte more does not. */
    char *big = malloc(SAMPLE_TEXT_MAX + 2);
    memset(big, ' ', SAMPLE_TEXT_MAX + 1);
    big[SAMPLE_TEXT_MAX + 1] = '\0';
    assert_int_equal(sample_raw_check(big, SAMPLE_TEXT_MAX, err, sizeof(err)), 0);
    assert_int_equal(sample_raw_check(big, SAMPLE_TEXT_MAX + 1, err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too large"));
    free(big);
}

static void test_history_entry(void **state)
{
    (void)state;
    char err[SAMPLE_ERR_MAX];
    cJSON *o = NULL;
    assert_int_equal(check_text(VALID_SAMPLE, err, sizeof(err), &o), SAMPLE_VALID);
    char buf[SAMPLE_HISTORY_MAX];
    int n = sample_history_entry_tree(o, 1700000000123LL, buf, sizeof(buf));
    assert_true(n > 0);
    assert_string_equal(buf, "{\"ts\":1700000000123,\"cpuLoad\":12.5,\"memUsage\":0.5,"
                             "\"usedMem\":4000000000,\"freeMem\":4000000000}");
    assert_int_equal((size_t)n, strlen(buf));
    /* The entry is valid JSON. */
    cJSON *h = cJSON_Parse(buf);
    assert_non_null(h);
    cJSON_Delete(h);
    /* Too small a buffer is an error, never a truncated entry. */
    assert_int_equal(sample_history_entry_tree(o, 1, buf, 20), -1);
    cJSON_Delete(o);

    /* Missing byte counts are left out. */
    assert_int_equal(check_text("{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1}", err, sizeof(err), &o),
                     SAMPLE_NORMALISED);
    assert_true(sample_history_entry_tree(o, 5, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "{\"ts\":5,\"cpuLoad\":1,\"memUsage\":0.1}");
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_valid),
        cmocka_unit_test(test_mac_hostile),
        cmocka_unit_test(test_valid_sample_untouched),
        cmocka_unit_test(test_sample_hostile_macs),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_strings_capped),
        cmocka_unit_test(test_mem_useage_normalised),
        cmocka_unit_test(test_mem_usage_derived),
        cmocka_unit_test(test_is_active_forced),
        cmocka_unit_test(test_extras_bounded),
        cmocka_unit_test(test_duplicate_fields),
        cmocka_unit_test(test_raw_check),
        cmocka_unit_test(test_history_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
