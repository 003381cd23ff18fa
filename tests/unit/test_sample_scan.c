/* test_sample_scan.c -- the single-pass text API: every schema case of the
 * tree check (test_sample.c) asserted against sample_scan, then strict
 * JSON/UTF-8 syntax, names compared after unescaping, the exact numbers,
 * sample_rewrite's output and sample_history_entry's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "sample.h"

#define VALID_SAMPLE                                                              \
    "{\"macA\":\"aa:bb:cc:dd:ee:ff\",\"freeMem\":4000000000,\"totalMem\":8000000000," \
    "\"usedMem\":4000000000,\"memUsage\":0.5,\"osType\":\"Linux\",\"upTime\":1234,"  \
    "\"cpuModel\":\"Test CPU\",\"numCores\":4,\"cpuSpeed\":2400,\"cpuLoad\":12.5,"    \
    "\"isActive\":true}"

static struct sample_view v;
static char err[SAMPLE_ERR_MAX];

/* sample_scan on a NUL-terminated text; err and v receive the outcome. */
static int scan(const char *text)
{
    memset(err, 'X', sizeof(err) - 1);
    err[sizeof(err) - 1] = '\0';
    int r = sample_scan(text, strlen(text), &v, err, sizeof(err));
    if (r < 0) {
        /* Every rejection says why, on one line. */
        assert_true(err[0] != '\0' && err[0] != 'X');
        assert_null(strchr(err, '\n'));
    } else {
        assert_string_equal(err, "");
    }
    return r;
}

/* The valid sample's text with the field `name` given the JSON text
 * `value` (replaced in place, or added at the end), built as text so that
 * tokens like 1e999 reach the scanner as written. */
static int scan_with(const char *name, const char *value)
{
    static char text[16384];
    char key[80];
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *at = strstr(VALID_SAMPLE, key);
    size_t n;
    if (at != NULL) {
        const char *end = at + strlen(key);
        /* Values in VALID_SAMPLE are flat: up to the next ',' or '}'. */
        if (*end == '"')
            end = strchr(end + 1, '"') + 1;
        else
            end += strcspn(end, ",}");
        n = (size_t)snprintf(text, sizeof(text), "%.*s%s%s%s", (int)(at - VALID_SAMPLE), VALID_SAMPLE,
                             key, value, end);
    } else {
        n = (size_t)snprintf(text, sizeof(text), "%.*s,%s%s}", (int)strlen(VALID_SAMPLE) - 1,
                             VALID_SAMPLE, key, value);
    }
    assert_true(n < sizeof(text));
    return scan(text);
}

/* ---- the schema: every case of the tree check ---- */

static void test_valid_sample_untouched(void **state)
{
    (void)state;
    assert_int_equal(scan(VALID_SAMPLE), SAMPLE_VALID);
    assert_string_equal(v.mac, "aa:bb:cc:dd:ee:ff");
    assert_int_equal(v.mac_len, 17);
    assert_int_equal(v.active, 1);
    assert_int_equal(v.add_mem_usage, 0);
    assert_true(v.mem_usage == 0.5);
    assert_int_equal(v.present, (1u << SAMPLE_NUMBERS) - 1 - (1u << SAMPLE_MEM_USEAGE));
    assert_true(v.num[SAMPLE_CPU_LOAD] == 12.5);
    assert_true(v.num[SAMPLE_FREE_MEM] == 4e9);
    assert_true(v.num[SAMPLE_TOTAL_MEM] == 8e9);
    assert_true(v.num[SAMPLE_NUM_CORES] == 4);
    assert_true(v.num[SAMPLE_CPU_SPEED] == 2400);
    assert_true(v.num[SAMPLE_UP_TIME] == 1234);
    /* Offsets point at the tokens. */
    assert_memory_equal(VALID_SAMPLE + v.num_off[SAMPLE_CPU_LOAD], "12.5", 4);
    assert_int_equal(v.num_len[SAMPLE_CPU_LOAD], 4);
    assert_memory_equal(VALID_SAMPLE + v.active_off, "true", 4);
    assert_int_equal(v.active_len, 4);
    assert_int_equal(v.close_off, strlen(VALID_SAMPLE) - 1);
}

static void test_hostile_macs(void **state)
{
    (void)state;
    const char *bad[] = { "\"../x\"", "\"..\"", "\".\"", "\"a/b\"", "\"a\\u0001b\"", "\"a\\nb\"",
                          "\"\"", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
                          "12", "null", "[\"a\"]", "{\"a\":1}", "true", "\"caf\xc3\xa9\"",
                          "\"\\u002e\\u002e\"", "\"a\\/b\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(scan_with("macA", bad[i]), SAMPLE_INVALID);
        assert_non_null(strstr(err, "macA"));
    }
    /* 64 characters is the limit. */
    assert_int_equal(scan_with("macA", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""),
                     SAMPLE_VALID);
    assert_int_equal(v.mac_len, 64);
}

static void test_escaped_mac_decoded(void **state)
{
    (void)state;
    /* Measured and checked after unescaping: \u0041 is 'A'. */
    assert_int_equal(scan_with("macA", "\"\\u0041b:\\u0063\""), SAMPLE_VALID);
    assert_string_equal(v.mac, "Ab:c");
    assert_int_equal(v.mac_len, 4);
    /* 64 escaped characters decode to 64 bytes: valid. */
    char m[6 * 64 + 3];
    size_t o = 0;
    m[o++] = '"';
    for (int i = 0; i < 64; i++)
        o += (size_t)sprintf(m + o, "\\u0078");
    m[o++] = '"';
    m[o] = '\0';
    assert_int_equal(scan_with("macA", m), SAMPLE_VALID);
    assert_int_equal(v.mac_len, 64);
    /* And the name itself may be escaped. */
    assert_int_equal(scan("{\"mac\\u0041\":\"m1\",\"cpuLoad\":1,\"memUsage\":0.1,\"isActive\":true}"),
                     SAMPLE_VALID);
    assert_string_equal(v.mac, "m1");
}

static void test_missing_required(void **state)
{
    (void)state;
    assert_int_equal(scan("{\"cpuLoad\":1,\"memUsage\":0.1}"), SAMPLE_INVALID);
    assert_string_equal(err, "macA missing");
    assert_int_equal(scan("{\"macA\":\"m\",\"memUsage\":0.1}"), SAMPLE_INVALID);
    assert_string_equal(err, "cpuLoad missing");
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1}"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "memUsage missing"));
    assert_int_equal(scan("{}"), SAMPLE_INVALID);
    assert_string_equal(err, "macA missing");
    assert_int_equal(scan("[1,2]"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "object"));
    assert_int_equal(scan("\"str\""), SAMPLE_INVALID);
    assert_int_equal(scan(" 12 "), SAMPLE_INVALID);
    assert_int_equal(scan("null"), SAMPLE_INVALID);
}

static void test_wrong_types(void **state)
{
    (void)state;
    assert_int_equal(scan_with("cpuLoad", "\"12\""), SAMPLE_INVALID);
    assert_string_equal(err, "cpuLoad must be a number");
    assert_int_equal(scan_with("memUsage", "true"), SAMPLE_INVALID);
    assert_string_equal(err, "memUsage must be a number");
    assert_int_equal(scan_with("freeMem", "null"), SAMPLE_INVALID);
    assert_int_equal(scan_with("numCores", "[4]"), SAMPLE_INVALID);
    assert_int_equal(scan_with("osType", "5"), SAMPLE_INVALID);
    assert_string_equal(err, "osType must be a string");
    assert_int_equal(scan_with("cpuModel", "{}"), SAMPLE_INVALID);
    assert_string_equal(err, "cpuModel must be a string");
    assert_int_equal(scan_with("isActive", "\"yes\""), SAMPLE_INVALID);
    assert_string_equal(err, "isActive must be a boolean");
    assert_int_equal(scan_with("isActive", "null"), SAMPLE_INVALID);
    assert_string_equal(err, "isActive must be a boolean");
    assert_int_equal(scan_with("isActive", "1"), SAMPLE_INVALID);
}

static void test_ranges(void **state)
{
    (void)state;
    assert_int_equal(scan_with("cpuLoad", "100.5"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "cpuLoad out of range"));
    assert_int_equal(scan_with("cpuLoad", "-1"), SAMPLE_INVALID);
    assert_int_equal(scan_with("cpuLoad", "100"), SAMPLE_VALID);
    assert_int_equal(scan_with("cpuLoad", "0"), SAMPLE_VALID);
    assert_int_equal(scan_with("cpuLoad", "-0"), SAMPLE_VALID);
    assert_int_equal(scan_with("cpuLoad", "1e2"), SAMPLE_VALID);
    assert_int_equal(scan_with("cpuLoad", "100.00000000000002"), SAMPLE_INVALID);
    assert_int_equal(scan_with("memUsage", "1.01"), SAMPLE_INVALID);
    assert_int_equal(scan_with("memUsage", "1"), SAMPLE_VALID);
    assert_int_equal(scan_with("freeMem", "-5"), SAMPLE_INVALID);
    assert_int_equal(scan_with("totalMem", "1e300"), SAMPLE_INVALID);
    assert_int_equal(scan_with("numCores", "0"), SAMPLE_INVALID);
    assert_int_equal(scan_with("numCores", "4097"), SAMPLE_INVALID);
    assert_int_equal(scan_with("numCores", "4096"), SAMPLE_VALID);
    assert_int_equal(scan_with("numCores", "4.096e3"), SAMPLE_VALID);
    assert_int_equal(scan_with("numCores", "2.5"), SAMPLE_INVALID);
    assert_string_equal(err, "numCores must be an integer");
    assert_int_equal(scan_with("upTime", "-0.5"), SAMPLE_INVALID);
    assert_int_equal(scan_with("cpuSpeed", "2000000"), SAMPLE_INVALID);
    /* 2^53 is the largest byte count; 2^53 + 1 reads as 2^53 (strtod). */
    assert_int_equal(scan_with("usedMem", "9007199254740992"), SAMPLE_VALID);
    assert_int_equal(scan_with("usedMem", "9007199254740993"), SAMPLE_VALID);
    assert_int_equal(scan_with("usedMem", "9007199254740994"), SAMPLE_INVALID);
}

static void test_non_finite(void **state)
{
    (void)state;
    assert_int_equal(scan_with("cpuLoad", "1e999"), SAMPLE_INVALID);
    assert_string_equal(err, "cpuLoad must be a finite number");
    assert_int_equal(scan_with("usedMem", "1e999"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "finite"));
    assert_int_equal(scan_with("extraMetric", "-1e999"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "extraMetric"));
    assert_int_equal(scan_with("extraMetric", "[1,{\"a\":[2e400]}]"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "finite"));
    /* Underflow is finite: zero. */
    assert_int_equal(scan_with("extraMetric", "1e-400"), SAMPLE_VALID);
}

static void test_strings_capped(void **state)
{
    (void)state;
    char big[400];
    big[0] = '"';
    memset(big + 1, 'x', 300);
    big[301] = '"';
    big[302] = '\0';
    assert_int_equal(scan_with("cpuModel", big), SAMPLE_INVALID);
    assert_non_null(strstr(err, "cpuModel too long"));
    /* 256 bytes decoded is the limit, escapes counted once decoded. */
    memset(big + 1, 'x', 256);
    strcpy(big + 257, "\"");
    assert_int_equal(scan_with("osType", big), SAMPLE_VALID);
    strcpy(big + 257, "x\"");
    assert_int_equal(scan_with("osType", big), SAMPLE_INVALID);
    assert_non_null(strstr(err, "osType too long"));
    memcpy(big + 1, "\\u00e9", 6);        /* 257 bytes of text, 253 decoded */
    assert_int_equal(scan_with("osType", big), SAMPLE_VALID);
    memcpy(big + 1, "\\ud83d\\ude00", 12); /* 249 decoded */
    assert_int_equal(scan_with("osType", big), SAMPLE_VALID);
    memset(big + 1, 'x', 12);
    memcpy(big + 1, "\\u00e9\\u00e9", 12); /* 4 + 244 + 9 more bytes: 257 */
    strcpy(big + 257, "xxxxxxxxx\"");
    assert_int_equal(scan_with("osType", big), SAMPLE_INVALID);
    assert_non_null(strstr(err, "osType too long"));
}

static void test_mem_useage_normalised(void **state)
{
    (void)state;
    const char *text = "{\"macA\":\"m1\",\"cpuLoad\":3,\"memUseage\":0.42,\"isActive\":true}";
    assert_int_equal(scan(text), SAMPLE_NORMALISED);
    assert_int_equal(v.add_mem_usage, 1);
    assert_true(v.mem_usage == 0.42);
    char out[256];
    int n = sample_rewrite(text, strlen(text), &v, 1, out, sizeof(out));
    /* memUseage's token is copied; the original spelling stays. */
    assert_string_equal(out, "{\"macA\":\"m1\",\"cpuLoad\":3,\"memUseage\":0.42,\"isActive\":true,"
                             "\"memUsage\":0.42}");
    assert_int_equal(n, strlen(out));

    assert_int_equal(scan("{\"macA\":\"m1\",\"cpuLoad\":3,\"memUseage\":7}"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "memUseage out of range"));
    /* memUsage wins over memUseage when both are sent. */
    assert_int_equal(scan("{\"macA\":\"m1\",\"cpuLoad\":3,\"memUseage\":0.2,\"memUsage\":0.3,"
                          "\"isActive\":true}"),
                     SAMPLE_VALID);
    assert_true(v.mem_usage == 0.3);
}

static void test_mem_usage_derived(void **state)
{
    (void)state;
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":8000,\"usedMem\":2000,"
                          "\"isActive\":true}"),
                     SAMPLE_NORMALISED);
    assert_true(v.mem_usage == 0.25);
    assert_int_equal(v.add_mem_usage, 1);
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":3000,\"freeMem\":1000,"
                          "\"isActive\":true}"),
                     SAMPLE_NORMALISED);
    assert_true(v.mem_usage == 0.67);
    /* Clamped to 0..1. */
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":1000,\"usedMem\":3000}"),
                     SAMPLE_NORMALISED);
    assert_true(v.mem_usage == 1);
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":1000,\"freeMem\":3000}"),
                     SAMPLE_NORMALISED);
    assert_true(v.mem_usage == 0);
    /* totalMem 0 cannot be divided by. */
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":0,\"usedMem\":0}"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "memUsage missing"));
}

static void test_is_active_forced(void **state)
{
    (void)state;
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1}"), SAMPLE_NORMALISED);
    assert_int_equal(v.active, -1);
    assert_int_equal(v.add_mem_usage, 0);
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1,\"isActive\":false}"),
                     SAMPLE_NORMALISED);
    assert_int_equal(v.active, 0);
    assert_int_equal(scan("{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1,\"isActive\":true}"),
                     SAMPLE_VALID);
    assert_int_equal(v.active, 1);
}

static void test_extras_bounded(void **state)
{
    (void)state;
    /* A small extra passes through untouched. */
    assert_int_equal(scan_with("loadAvg", "[0.5,0.4,0.3]"), SAMPLE_VALID);
    assert_int_equal(scan_with("disks", "[{\"mount\":\"/\",\"used\":0.5}]"), SAMPLE_VALID);
    assert_int_equal(scan_with("empty", " { } "), SAMPLE_VALID);
    assert_int_equal(scan_with("e", "[[],{},\"\",null,true,false,-0.0e+0]"), SAMPLE_VALID);
    /* Depth: the field's value is level 1, four levels are allowed. */
    assert_int_equal(scan_with("deep", "[[[1]]]"), SAMPLE_VALID);
    assert_int_equal(scan_with("deep", "[[[[]]]]"), SAMPLE_VALID);
    assert_int_equal(scan_with("deep", "[[[[1]]]]"), SAMPLE_INVALID);
    assert_int_equal(scan_with("deep", "[[[[[[1]]]]]]"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "nested too deeply"));
    assert_non_null(strstr(err, "deep"));
    assert_int_equal(scan_with("deep", "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}"), SAMPLE_INVALID);
    /* Too many values. */
    char *arr = malloc(8 * 2000 + 3);
    size_t off = 0;
    arr[off++] = '[';
    for (int i = 0; i < 2000; i++)
        off += (size_t)sprintf(arr + off, "%s1", i ? "," : "");
    arr[off++] = ']';
    arr[off] = '\0';
    assert_int_equal(scan_with("many", arr), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too large"));
    /* 1024 values in all is the limit: the array and 1023 numbers. */
    arr[1 + 2 * 1023 - 1] = ']';
    arr[1 + 2 * 1023] = '\0';
    assert_int_equal(scan_with("many", arr), SAMPLE_VALID);
    free(arr);
    /* Strings and names inside extras: SAMPLE_EXTRA_STR bytes decoded. */
    char *s = malloc(SAMPLE_EXTRA_STR + 16);
    s[0] = '"';
    memset(s + 1, 'y', SAMPLE_EXTRA_STR);
    strcpy(s + 1 + SAMPLE_EXTRA_STR, "\"");
    assert_int_equal(scan_with("str", s), SAMPLE_VALID);
    strcpy(s + 1 + SAMPLE_EXTRA_STR, "y\"");
    assert_int_equal(scan_with("str", s), SAMPLE_INVALID);
    assert_non_null(strstr(err, "string too long"));
    strcpy(s + 1 + SAMPLE_EXTRA_STR, "yy\":1}");   /* a name of 1025 bytes */
    s[0] = '{';
    s[1] = '"';
    assert_int_equal(scan_with("obj", s), SAMPLE_INVALID);
    assert_non_null(strstr(err, "name too long"));
    free(s);
    /* Too many fields. */
    char text[4096];
    off = (size_t)sprintf(text, "%.*s", (int)strlen(VALID_SAMPLE) - 1, VALID_SAMPLE);
    for (int i = 0; i < SAMPLE_FIELDS_MAX - 12; i++)
        off += (size_t)sprintf(text + off, ",\"x%d\":%d", i, i);
    strcpy(text + off, "}");
    assert_int_equal(scan(text), SAMPLE_VALID);   /* 64 fields */
    strcpy(text + off, ",\"y\":0}");
    assert_int_equal(scan(text), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too many fields"));
    /* Top-level names: 1..64 bytes. */
    assert_int_equal(scan_with("", "1"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "field name empty or too long"));
    char name[80];
    memset(name, 'n', 65);
    name[65] = '\0';
    assert_int_equal(scan_with(name, "1"), SAMPLE_INVALID);
    name[64] = '\0';
    assert_int_equal(scan_with(name, "1"), SAMPLE_VALID);
}

static void test_duplicate_fields(void **state)
{
    (void)state;
    assert_int_equal(scan("{\"macA\":\"good\",\"cpuLoad\":1,\"memUsage\":0.1,\"macA\":\"../x\"}"),
                     SAMPLE_INVALID);
    assert_non_null(strstr(err, "appears twice"));
    /* Names are compared once decoded. */
    assert_int_equal(scan("{\"macA\":\"a\",\"mac\\u0041\":\"b\",\"cpuLoad\":1,\"memUsage\":0.1}"),
                     SAMPLE_INVALID);
    assert_string_equal(err, "field 'macA' appears twice");
    assert_int_equal(scan_with("cpu\\u004coad", "3"), SAMPLE_INVALID);
    assert_string_equal(err, "field 'cpuLoad' appears twice");
    assert_int_equal(scan("{\"macA\":\"a\",\"cpuLoad\":1,\"memUsage\":0.1,\"x\":1,\"\\u0078\":2}"),
                     SAMPLE_INVALID);
    assert_string_equal(err, "field 'x' appears twice");
    assert_int_equal(scan("{\"macA\":\"a\",\"cpuLoad\":1,\"memUsage\":0.1,\"isActive\":true,"
                          "\"isActive\":false}"),
                     SAMPLE_INVALID);
    /* A name with a control character is shown without it. */
    assert_int_equal(scan("{\"macA\":\"a\",\"cpuLoad\":1,\"memUsage\":0.1,\"a\\nb\":1,\"a\\nb\":2}"),
                     SAMPLE_INVALID);
    assert_string_equal(err, "field 'a?b' appears twice");
    /* Inside an extra, repeated names are the extra's business. */
    assert_int_equal(scan_with("ex", "{\"a\":1,\"a\":2}"), SAMPLE_VALID);
}

static void test_nul_and_size(void **state)
{
    (void)state;
    assert_int_equal(scan("{\"macA\":\"a\\u0000/../x\",\"cpuLoad\":1,\"memUsage\":0.1}"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(scan_with("x", "[\"\\u0000\"]"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(scan_with("a\\u0000b", "1"), SAMPLE_INVALID);
    assert_non_null(strstr(err, "NUL"));
    /* An escaped backslash followed by the letters u0000 is harmless text. */
    assert_int_equal(scan_with("a", "\"\\\\u0000\""), SAMPLE_VALID);
    assert_int_equal(scan_with("a", "\"\\u0041\\n\""), SAMPLE_VALID);
    /* Size: the limit itself passes, one byte more does not. */
    char *big = malloc(SAMPLE_TEXT_MAX + 2);
    size_t n = strlen(VALID_SAMPLE);
    memcpy(big, VALID_SAMPLE, n);
    memset(big + n, ' ', SAMPLE_TEXT_MAX + 1 - n);
    big[SAMPLE_TEXT_MAX + 1] = '\0';
    assert_int_equal(sample_scan(big, SAMPLE_TEXT_MAX, &v, err, sizeof(err)), SAMPLE_VALID);
    assert_int_equal(sample_scan(big, SAMPLE_TEXT_MAX + 1, &v, err, sizeof(err)), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too large"));
    /* A text that needs normalising leaves room for what sample_rewrite adds,
     * so that the stored, rewritten text scans again. */
    const char *small = "{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1}";
    n = strlen(small);
    memcpy(big, small, n);
    memset(big + n, ' ', SAMPLE_TEXT_MAX + 1 - n);
    assert_int_equal(sample_scan(big, SAMPLE_TEXT_MAX - SAMPLE_REWRITE_EXTRA, &v, err, sizeof(err)),
                     SAMPLE_NORMALISED);
    assert_int_equal(sample_scan(big, SAMPLE_TEXT_MAX - SAMPLE_REWRITE_EXTRA + 1, &v, err, sizeof(err)),
                     SAMPLE_INVALID);
    assert_non_null(strstr(err, "too large"));
    free(big);
}

/* ---- strict syntax ---- */

static void test_syntax(void **state)
{
    (void)state;
    static const char *const bad_values[] = {
        "01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "1.5.3", "--1", "NaN",
        "Infinity", "tru", "nul", "True", "'a'", "\"a", "[1,]", "[1 2]", "{\"a\"1}",
        "{\"a\":1,}", "{,}", "{1:2}", "[", "]", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
        "\"\\U0041\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
        "\"a\tb\"", "\"a\nb\"", "\"\x01\"", "\"\x1f\"",
        "\"\x80\"", "\"\xc0\xaf\"", "\"\xc1\xbf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xed\xbf\xbf\"", "\"\xf0\x80\x80\xaf\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
        "\"\xff\"", "\"\xc3\"", "\"\xe2\x82\"", "\"\xc3\x28\"", "\"\xe2\x28\xa1\"",
        "", " ",
    };
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        int r = scan_with("x", bad_values[i]);
        if (r != SAMPLE_SYNTAX)
            fail_msg("value %zu (%s): %d, expected SAMPLE_SYNTAX (%s)", i, bad_values[i], r, err);
        assert_non_null(strstr(err, "invalid JSON at byte"));
    }
    static const char *const bad_texts[] = {
        "", "   ", "{", "{\"macA\"", "{\"macA\":", "{\"macA\":\"m\"", "{\"macA\":\"m\",",
        VALID_SAMPLE "x", VALID_SAMPLE "}", VALID_SAMPLE "{}", VALID_SAMPLE ",", "\xef\xbb\xbf" VALID_SAMPLE,
        "{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1,}", "{\"macA\" \"m\"}", "{macA:\"m\"}",
        "[1,2", "[1,2]]", "\"str", "{\"ma\x80\":1}", "{\"macA\":\"m\"\x0b}",
        /* A syntax error after a schema error is still a syntax error. */
        "{\"cpuLoad\":\"x\",", "{\"macA\":\"../x\",\"cpuLoad\":1,\"memUsage\":0.1}x",
        "{\"cpuLoad\":[[[[[[[[[[}", "{\"x\":1e999,\"y\":01}",
    };
    for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
        int r = scan(bad_texts[i]);
        if (r != SAMPLE_SYNTAX)
            fail_msg("text %zu (%s): %d, expected SAMPLE_SYNTAX (%s)", i, bad_texts[i], r, err);
    }
    /* Truncated anywhere: always a syntax error. */
    for (size_t n = 0; n < strlen(VALID_SAMPLE); n++)
        assert_int_equal(sample_scan(VALID_SAMPLE, n, &v, err, sizeof(err)), SAMPLE_SYNTAX);
    /* Whitespace around tokens is fine, and valid UTF-8 of every length. */
    assert_int_equal(scan(" \t\r\n{ \"macA\" : \"m\" ,\n\"cpuLoad\":1 , \"memUsage\" : 0.1 ,"
                          "\"isActive\" : true , \"x\" : [ 1 , { \"a\" : null } ] } \n"),
                     SAMPLE_VALID);
    assert_int_equal(scan_with("x", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf "
                                    "\xed\x9f\xbf \xee\x80\x80\""),
                     SAMPLE_VALID);
    assert_int_equal(scan_with("x", "\"\\ud83d\\ude00 \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uFFFF\""),
                     SAMPLE_VALID);
    /* Deep nesting is bounded without recursion: a refused value may nest
     * up to cJSON's limit, beyond that the text is a syntax error. */
    static char deep[2 * 3000 + 64];
    size_t off = strlen("{\"cpuLoad\":");
    memcpy(deep, "{\"cpuLoad\":", off);
    memset(deep + off, '[', 3000);
    memset(deep + off + 3000, ']', 3000);
    strcpy(deep + off + 6000, "}");
    assert_int_equal(scan(deep), SAMPLE_SYNTAX);
    strcpy(deep + off + 500, "");
    memset(deep + off + 500, ']', 500);
    strcpy(deep + off + 1000, "}");
    assert_int_equal(scan(deep), SAMPLE_INVALID);
}

/* ---- numbers: exactly what strtod reads ---- */

static void test_numbers_exact(void **state)
{
    (void)state;
    static const char *const tokens[] = {
        "0", "-0", "1", "12.5", "0.1", "0.3", "0.30000000000000004", "1234567.125", "4000000000",
        "9007199254740991", "9007199254740992", "9007199254740993", "12345678901234567890",
        "123456789012345678901234567890e-20", "1e22", "1e23", "1e15", "4.35e15",
        "0.000001", "1e-7", "1E-22", "1e-23", "2.2250738585072014e-308", "4.9e-324", "1e-400",
        "123.456e-2", "0.1e1", "100e-2", "8.98846567431158e307", "0.00000000000000000000000001e26",
        "1.7976931348623157e308", "3.14159265358979323846264338327950288", "9999999999999999.5",
        "0.9999999999999999444888487687421729788184165954589843751",
    };
    char text[256];
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        snprintf(text, sizeof(text), "{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1,\"freeMem\":%s}",
                 tokens[i]);
        int r = sample_scan(text, strlen(text), &v, err, sizeof(err));
        double want = strtod(tokens[i], NULL);
        if (want < 0 || want > 9007199254740992.0) {
            assert_int_equal(r, SAMPLE_INVALID);
            continue;
        }
        assert_int_equal(r, SAMPLE_NORMALISED);
        assert_true(v.present & (1u << SAMPLE_FREE_MEM));
        if (memcmp(&v.num[SAMPLE_FREE_MEM], &want, sizeof(want)) != 0)
            fail_msg("%s: scanned %.17g, strtod %.17g", tokens[i], v.num[SAMPLE_FREE_MEM], want);
        assert_int_equal(v.num_len[SAMPLE_FREE_MEM], strlen(tokens[i]));
    }
    /* Random tokens, in range for freeMem (0..1e15): fast path or not,
     * always strtod's double. A fixed seed keeps a failure reproducible. */
    unsigned long long seed = 88172645463325252ULL;
    for (int i = 0; i < 100000; i++) {
        char tok[64];
        size_t o = 0;
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        unsigned long long x = seed;
        int idig = 1 + (int)(x % 15), fdig = (int)((x >> 8) % 26), e = -(int)((x >> 16) % 41);
        int has_exp = (int)((x >> 24) & 1), has_zeros = (int)((x >> 25) & 1);
        tok[o++] = (char)('1' + (x >> 28) % 9);
        for (int k = 1; k < idig; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            tok[o++] = (char)('0' + seed % 10);
        }
        if (has_zeros && idig == 1)
            tok[0] = '0';   /* 0.000ddd: leading zeros in the fraction */
        if (fdig > 0) {
            tok[o++] = '.';
            for (int k = 0; k < fdig; k++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                tok[o++] = (char)('0' + (has_zeros && k < 5 ? 0 : seed % 10));
            }
        }
        if (has_exp)
            o += (size_t)sprintf(tok + o, "e%d", e);
        tok[o] = '\0';
        snprintf(text, sizeof(text), "{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1,\"freeMem\":%s}", tok);
        assert_int_equal(sample_scan(text, strlen(text), &v, err, sizeof(err)), SAMPLE_NORMALISED);
        double want = strtod(tok, NULL);
        if (memcmp(&v.num[SAMPLE_FREE_MEM], &want, sizeof(want)) != 0)
            fail_msg("%s: scanned %.17g, strtod %.17g", tok, v.num[SAMPLE_FREE_MEM], want);
    }
    /* A token cJSON could not read whole (over 63 characters) is refused. */
    char tok[80];
    memset(tok, '1', 64);
    tok[0] = '0';
    tok[1] = '.';
    tok[64] = '\0';
    assert_int_equal(scan_with("memUsage", tok), SAMPLE_INVALID);
    assert_non_null(strstr(err, "too long"));
    tok[63] = '\0';
    assert_int_equal(scan_with("memUsage", tok), SAMPLE_VALID);
    assert_int_equal(scan_with("extra", "[0.1111111111111111111111111111111111111111111111111111111111111111]"),
                     SAMPLE_INVALID);
}

/* ---- sample_rewrite ---- */

static cJSON *parsed(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    return o;
}

static double field_num(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsNumber(f));
    return f->valuedouble;
}

static void test_rewrite(void **state)
{
    (void)state;
    char out[1024];
    int n;

    /* isActive false -> true in place, nothing else moves. */
    const char *t1 = "{\"macA\":\"m\",\"isActive\":false,\"cpuLoad\":1,\"memUsage\":0.1}";
    assert_int_equal(scan(t1), SAMPLE_NORMALISED);
    n = sample_rewrite(t1, strlen(t1), &v, 1, out, sizeof(out));
    assert_string_equal(out, "{\"macA\":\"m\",\"isActive\":true,\"cpuLoad\":1,\"memUsage\":0.1}");
    assert_int_equal(n, strlen(out));
    assert_int_equal(scan(out), SAMPLE_VALID);
    /* ... and back to false (the liveness sweep). */
    assert_int_equal(sample_rewrite(out, strlen(out), &v, 0, out + 512, 512), (int)strlen(t1));
    assert_string_equal(out + 512, t1);

    /* isActive absent: appended before the closing brace, whitespace kept. */
    const char *t2 = " {\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1 } \n";
    assert_int_equal(scan(t2), SAMPLE_NORMALISED);
    n = sample_rewrite(t2, strlen(t2), &v, 1, out, sizeof(out));
    assert_string_equal(out, " {\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1 ,\"isActive\":true} \n");
    assert_int_equal(scan(out), SAMPLE_VALID);
    assert_int_equal(scan(t2), SAMPLE_NORMALISED);
    n = sample_rewrite(t2, strlen(t2), &v, 0, out, sizeof(out));
    assert_string_equal(out, " {\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1 ,\"isActive\":false} \n");

    /* memUsage derived, isActive absent: both appended; parses back. */
    const char *t3 = "{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":3000,\"freeMem\":1000,\"z\":[1,\"}\"]}";
    assert_int_equal(scan(t3), SAMPLE_NORMALISED);
    n = sample_rewrite(t3, strlen(t3), &v, 1, out, sizeof(out));
    assert_string_equal(out, "{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":3000,\"freeMem\":1000,"
                             "\"z\":[1,\"}\"],\"memUsage\":0.67,\"isActive\":true}");
    cJSON *o = parsed(out);
    assert_true(field_num(o, "memUsage") == 0.67);
    assert_true(field_num(o, "totalMem") == 3000);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "macA")->valuestring, "m");
    cJSON_Delete(o);
    assert_int_equal(scan(out), SAMPLE_VALID);
    assert_true(v.mem_usage == 0.67);

    /* A derived value that %.15g cannot print exactly still reads back the same. */
    const char *t4 = "{\"macA\":\"m\",\"cpuLoad\":1,\"totalMem\":100,\"usedMem\":29,\"isActive\":true}";
    assert_int_equal(scan(t4), SAMPLE_NORMALISED);
    double want = v.mem_usage;
    sample_rewrite(t4, strlen(t4), &v, 1, out, sizeof(out));
    assert_int_equal(scan(out), SAMPLE_VALID);
    assert_true(v.mem_usage == want);

    /* A long memUseage token is formatted instead of copied. */
    const char *t5 = "{\"macA\":\"m\",\"cpuLoad\":1,\"memUseage\":0.2500000000000000000000000000000000000001}";
    assert_int_equal(scan(t5), SAMPLE_NORMALISED);
    n = sample_rewrite(t5, strlen(t5), &v, 1, out, sizeof(out));
    assert_non_null(strstr(out, ",\"memUsage\":0.25,\"isActive\":true}"));
    assert_int_equal(n, strlen(out));

    /* The valid sample rewritten with active=1 is itself. */
    assert_int_equal(scan(VALID_SAMPLE), SAMPLE_VALID);
    n = sample_rewrite(VALID_SAMPLE, strlen(VALID_SAMPLE), &v, 1, out, sizeof(out));
    assert_string_equal(out, VALID_SAMPLE);

    /* Capacity: len + SAMPLE_REWRITE_EXTRA is required. */
    assert_int_equal(scan(t3), SAMPLE_NORMALISED);
    assert_int_equal(sample_rewrite(t3, strlen(t3), &v, 1, out, strlen(t3) + SAMPLE_REWRITE_EXTRA - 1), -1);
    assert_true(sample_rewrite(t3, strlen(t3), &v, 1, out, strlen(t3) + SAMPLE_REWRITE_EXTRA) > 0);
}

/* ---- sample_history_entry ---- */

static void test_history_entry(void **state)
{
    (void)state;
    char buf[SAMPLE_HISTORY_MAX];

    assert_int_equal(scan(VALID_SAMPLE), SAMPLE_VALID);
    int n = sample_history_entry(VALID_SAMPLE, &v, 1700000000123LL, buf, sizeof(buf));
    assert_string_equal(buf, "{\"ts\":1700000000123,\"cpuLoad\":12.5,\"memUsage\":0.5,"
                             "\"usedMem\":4000000000,\"freeMem\":4000000000}");
    assert_int_equal(n, strlen(buf));
    cJSON *h = parsed(buf);
    cJSON_Delete(h);
    /* Too small a buffer is an error, never a truncated entry. */
    assert_int_equal(sample_history_entry(VALID_SAMPLE, &v, 1, buf, 20), -1);
    assert_int_equal(sample_history_entry(VALID_SAMPLE, &v, 1700000000123LL, buf, (size_t)n), -1);
    assert_int_equal(sample_history_entry(VALID_SAMPLE, &v, 1700000000123LL, buf, (size_t)n + 1), n);

    /* Missing byte counts are left out. */
    const char *t = "{\"macA\":\"m\",\"cpuLoad\":1,\"memUsage\":0.1}";
    assert_int_equal(scan(t), SAMPLE_NORMALISED);
    assert_true(sample_history_entry(t, &v, 5, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "{\"ts\":5,\"cpuLoad\":1,\"memUsage\":0.1}");
    assert_true(sample_history_entry(t, &v, 0, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "{\"ts\":0,\"cpuLoad\":1,\"memUsage\":0.1}");
    assert_true(sample_history_entry(t, &v, INT64_MIN, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "{\"ts\":-9223372036854775808,\"cpuLoad\":1,\"memUsage\":0.1}");

    /* memUsage from memUseage (its token), derived (formatted); tokens as sent. */
    t = "{\"macA\":\"m\",\"cpuLoad\":1.50E1,\"memUseage\":0.420}";
    assert_int_equal(scan(t), SAMPLE_NORMALISED);
    sample_history_entry(t, &v, 7, buf, sizeof(buf));
    assert_string_equal(buf, "{\"ts\":7,\"cpuLoad\":1.50E1,\"memUsage\":0.420}");
    t = "{\"macA\":\"m\",\"cpuLoad\":2,\"totalMem\":3000,\"usedMem\":2000}";
    assert_int_equal(scan(t), SAMPLE_NORMALISED);
    sample_history_entry(t, &v, 7, buf, sizeof(buf));
    assert_string_equal(buf, "{\"ts\":7,\"cpuLoad\":2,\"memUsage\":0.67,\"usedMem\":2000}");

    /* Long tokens are formatted from the value; the worst case fits. */
    t = "{\"macA\":\"m\",\"cpuLoad\":99.999999999999999999999999999999999999999999999999999999999999,"
        "\"memUsage\":0.1234567890123456789012345678901234567890123456789012345678901,"
        "\"usedMem\":2251799813685247.7500000000000000000000000000000000000000000000,"
        "\"freeMem\":0.0000000000000000000000000000000000000000000000000000012345678}";
    assert_int_equal(scan(t), SAMPLE_NORMALISED);
    n = sample_history_entry(t, &v, INT64_MIN, buf, sizeof(buf));
    assert_true(n > 0 && n < SAMPLE_HISTORY_MAX);
    h = parsed(buf);
    assert_true(field_num(h, "cpuLoad") == v.num[SAMPLE_CPU_LOAD]);
    assert_true(field_num(h, "memUsage") == v.num[SAMPLE_MEM_USAGE]);
    assert_true(field_num(h, "usedMem") == v.num[SAMPLE_USED_MEM]);
    assert_true(field_num(h, "freeMem") == v.num[SAMPLE_FREE_MEM]);
    cJSON_Delete(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_sample_untouched),
        cmocka_unit_test(test_hostile_macs),
        cmocka_unit_test(test_escaped_mac_decoded),
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
        cmocka_unit_test(test_nul_and_size),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_numbers_exact),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_history_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
