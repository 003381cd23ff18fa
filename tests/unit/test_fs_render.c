/* test_fs_render.c -- what perfload-fs shows for a machine's Redis hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_render.h"

static const char *full_sample =
    "{\"macA\":\"aa:bb:cc:dd:ee:ff\",\"freeMem\":4000000000,\"totalMem\":8000000000,"
    "\"usedMem\":4000000000,\"memUsage\":0.5,\"osType\":\"Linux\",\"upTime\":1234,"
    "\"cpuModel\":\"Test\\nCPU\",\"numCores\":4,\"cpuSpeed\":2400.5,\"cpuLoad\":12.5,"
    "\"isActive\":true,\"loadAvg\":[0.5,1,1.25],\"swap\":{\"total\":1024,\"used\":0},"
    "\"kernel\":\"6.1.0\",\"cpuLoadPerCore\":[10,15],\"disks\":[{\"mount\":\"/\"}],"
    "\"hasGpu\":false,\"note\":null}";

static struct fs_machine render(const char *sample, const char *last_seen, const char *active)
{
    struct fs_machine m;
    struct fs_hash_fields h = { sample, sample ? strlen(sample) : 0, last_seen, "1700000000000", active };
    assert_int_equal(fs_render_machine(&m, &h), 0);
    return m;
}

static void assert_file(const struct fs_machine *m, const char *name, const char *text)
{
    const struct fs_file *f = fs_machine_find(m, name);
    if (!f)
        fail_msg("no file %s", name);
    assert_string_equal(f->text, text);
    assert_int_equal(f->len, strlen(text));
}

static void test_core_files(void **state)
{
    struct fs_machine m = render(full_sample, "1700000123456", "1");
    assert_file(&m, "cpu_load", "12.5\n");
    assert_file(&m, "mem_usage", "0.5\n");
    assert_file(&m, "free_mem", "4000000000\n");
    assert_file(&m, "total_mem", "8000000000\n");
    assert_file(&m, "used_mem", "4000000000\n");
    assert_file(&m, "os_type", "Linux\n");
    assert_file(&m, "up_time", "1234\n");
    assert_file(&m, "cpu_model", "Test CPU\n");      /* control characters never split the line */
    assert_file(&m, "num_cores", "4\n");
    assert_file(&m, "cpu_speed", "2400.5\n");
    assert_file(&m, "is_active", "1\n");
    assert_file(&m, "last_seen", "1700000123\n");
    assert_file(&m, "first_seen", "1700000000\n");
    assert_int_equal(m.last_seen_ms, 1700000123456LL);
    assert_int_equal(m.active, 1);

    /* sample.json is the stored JSON and parses back */
    const struct fs_file *f = fs_machine_find(&m, "sample.json");
    assert_non_null(f);
    assert_int_equal(f->text[f->len - 1], '\n');
    cJSON *j = cJSON_Parse(f->text);
    assert_non_null(j);
    cJSON_Delete(j);
    fs_machine_free(&m);
}

static void test_extras(void **state)
{
    struct fs_machine m = render(full_sample, "1700000123456", "1");
    assert_file(&m, "load_avg", "0.5 1 1.25\n");
    assert_file(&m, "swap_total", "1024\n");
    assert_file(&m, "swap_used", "0\n");
    assert_file(&m, "kernel", "6.1.0\n");
    assert_file(&m, "cpu_load_per_core", "10 15\n");
    assert_file(&m, "has_gpu", "0\n");
    assert_null(fs_machine_find(&m, "disks"));       /* arrays of objects: only in sample.json */
    assert_null(fs_machine_find(&m, "note"));
    assert_null(fs_machine_find(&m, "mac_a"));
    assert_null(fs_machine_find(&m, "is_active_"));
    for (size_t i = 0; i < m.nfiles; i++) {
        assert_non_null(m.files[i].text);
        assert_int_equal(m.files[i].text[m.files[i].len - 1], '\n');
        assert_null(strchr(m.files[i].name, '/'));
    }
    fs_machine_free(&m);
}

static void test_active_source(void **state)
{
    /* the hash's `active` wins over the sample's isActive */
    struct fs_machine m = render(full_sample, "5000", "0");
    assert_file(&m, "is_active", "0\n");
    assert_file(&m, "last_seen", "5\n");
    fs_machine_free(&m);
    /* no `active` field: fall back to the sample */
    m = render(full_sample, NULL, NULL);
    assert_file(&m, "is_active", "1\n");
    assert_null(fs_machine_find(&m, "last_seen"));
    fs_machine_free(&m);
    /* garbage `active` and no sample: inactive */
    m = render(NULL, "abc", "yes");
    assert_file(&m, "is_active", "0\n");
    assert_null(fs_machine_find(&m, "last_seen"));
    assert_null(fs_machine_find(&m, "cpu_load"));
    assert_null(fs_machine_find(&m, "sample.json"));
    fs_machine_free(&m);
}

static void test_legacy_mem_field(void **state)
{
    struct fs_machine m = render("{\"memUseage\":0.25,\"cpuLoad\":3}", "1", "1");
    assert_file(&m, "mem_usage", "0.25\n");
    assert_null(fs_machine_find(&m, "mem_useage"));
    fs_machine_free(&m);
}

static void test_wrong_types_have_no_file(void **state)
{
    struct fs_machine m = render("{\"cpuLoad\":\"12\",\"numCores\":null,\"osType\":5,"
                                 "\"memUsage\":[1],\"cpuModel\":{}}", "1000", "1");
    assert_null(fs_machine_find(&m, "cpu_load"));
    assert_null(fs_machine_find(&m, "num_cores"));
    assert_null(fs_machine_find(&m, "os_type"));
    assert_null(fs_machine_find(&m, "mem_usage"));
    assert_null(fs_machine_find(&m, "cpu_model"));
    assert_non_null(fs_machine_find(&m, "sample.json"));
    fs_machine_free(&m);
}

static void test_garbage_json(void **state)
{
    const char *bad[] = { "", "{", "[1,2]", "\"str\"", "null", "{\"a\":}", "\xff\xfe",
                          "{\"cpuLoad\":1e999}", "{\"../x\":1,\"a/b\":2,\"\\u0001\":3,\"..\":4}",
                          "{\"cpuLoad\":1} trailing", "{\"cpuLoad\":1}{}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fs_machine m = render(bad[i], "1", "1");
        for (size_t k = 0; k < m.nfiles; k++) {
            assert_null(strchr(m.files[k].name, '/'));
            assert_null(strchr(m.files[k].name, '\x01'));
            assert_string_not_equal(m.files[k].name, "..");
        }
        fs_machine_free(&m);
    }
    /* trailing garbage after the object: not JSON, so no sample files */
    struct fs_machine t = render("{\"cpuLoad\":1} trailing", "1", "1");
    assert_null(fs_machine_find(&t, "sample.json"));
    assert_null(fs_machine_find(&t, "cpu_load"));
    fs_machine_free(&t);
    t = render(" {\"cpuLoad\":1}\r\n", "1", "1");
    assert_file(&t, "cpu_load", "1\n");
    fs_machine_free(&t);

    /* deep nesting does not crash */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 16);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    struct fs_machine m = render(deep, "1", "1");
    assert_null(fs_machine_find(&m, "sample.json"));
    fs_machine_free(&m);
    free(deep);
}

static void test_too_many_fields_capped(void **state)
{
    char *s = malloc(64 * 1024);
    size_t n = 0;
    n += (size_t)sprintf(s + n, "{");
    for (int i = 0; i < 500; i++)
        n += (size_t)sprintf(s + n, "%s\"field%d\":%d", i ? "," : "", i, i);
    sprintf(s + n, "}");
    struct fs_machine m = render(s, "1", "1");
    assert_true(m.nfiles <= FS_FILES_MAX);
    assert_file(&m, "field0", "0\n");
    fs_machine_free(&m);
    free(s);
}

/* The largest files perfload-fs can show are built whole: a sample of
 * exactly FS_SAMPLE_MAX bytes gives a sample.json of FS_TEXT_MAX bytes, and
 * an array of FS_ARRAY_MAX long numbers is one full line. One byte more of
 * sample and it is garbage (no files from it), never a cut file. */
static void test_largest_files(void **state)
{
    size_t n = FS_SAMPLE_MAX;
    char *s = malloc(n + 1);
    size_t o = (size_t)sprintf(s, "{\"cpuLoad\":1,\"arr\":[");
    for (int i = 0; i < 4096; i++)
        o += (size_t)sprintf(s + o, "%s-2.2250738585072014e-308", i ? "," : "");
    o += (size_t)sprintf(s + o, "],\"pad\":\"");
    memset(s + o, 'p', n - o - 2);
    memcpy(s + n - 2, "\"}", 2);
    s[n] = '\0';

    struct fs_machine m = render(s, "1", "1");
    const struct fs_file *f = fs_machine_find(&m, "sample.json");
    assert_non_null(f);
    assert_int_equal(f->len, FS_TEXT_MAX);
    assert_memory_equal(f->text, s, n);
    assert_string_equal(f->text + n, "\n");
    f = fs_machine_find(&m, "arr");
    assert_non_null(f);
    assert_int_equal(f->len, 4096 * 25);      /* 24 characters and a space or newline each */
    assert_memory_equal(f->text, "-2.2250738585072014e-308 -2.2", 29);
    assert_string_equal(f->text + f->len - 26, " -2.2250738585072014e-308\n");
    f = fs_machine_find(&m, "pad");
    assert_non_null(f);
    assert_int_equal(f->len, 4096 + 1);       /* strings are cut at FS_STRING_MAX */
    fs_machine_free(&m);

    /* One more byte: over FS_SAMPLE_MAX, so not a sample at all. */
    char *t = malloc(n + 2);
    memcpy(t, s, n);
    t[n] = ' ';
    t[n + 1] = '\0';
    m = render(t, "1", "1");
    assert_int_equal(m.has_sample, 0);
    assert_null(fs_machine_find(&m, "sample.json"));
    assert_null(fs_machine_find(&m, "arr"));
    fs_machine_free(&m);
    free(t);
    free(s);
}

static void test_format_number(void **state)
{
    char b[64];
    fs_format_number(0, b, sizeof(b));             assert_string_equal(b, "0");
    fs_format_number(-0.0, b, sizeof(b));          assert_string_equal(b, "0");
    fs_format_number(8e9, b, sizeof(b));           assert_string_equal(b, "8000000000");
    fs_format_number(0.1, b, sizeof(b));           assert_string_equal(b, "0.1");
    fs_format_number(12.345, b, sizeof(b));        assert_string_equal(b, "12.345");
    fs_format_number(-3, b, sizeof(b));            assert_string_equal(b, "-3");
    fs_format_number(1e20, b, sizeof(b));          assert_string_equal(b, "1e+20");
    fs_format_number(1.0 / 3, b, sizeof(b));
    assert_true(strtod(b, NULL) == 1.0 / 3);
}

static void test_snake_case(void **state)
{
    char b[FS_NAME_MAX + 1];
    assert_int_equal(fs_snake_case("cpuLoad", b, sizeof(b)), 0);        assert_string_equal(b, "cpu_load");
    assert_int_equal(fs_snake_case("IPAddr", b, sizeof(b)), 0);         assert_string_equal(b, "ip_addr");
    assert_int_equal(fs_snake_case("rxBps", b, sizeof(b)), 0);          assert_string_equal(b, "rx_bps");
    assert_int_equal(fs_snake_case("cpu0Load", b, sizeof(b)), 0);       assert_string_equal(b, "cpu0_load");
    assert_int_equal(fs_snake_case("swap_total", b, sizeof(b)), 0);     assert_string_equal(b, "swap_total");
    assert_int_equal(fs_snake_case("kernel", b, sizeof(b)), 0);         assert_string_equal(b, "kernel");
    assert_int_equal(fs_snake_case("a.b", b, sizeof(b)), -1);
    assert_int_equal(fs_snake_case("a/b", b, sizeof(b)), -1);
    assert_int_equal(fs_snake_case("..", b, sizeof(b)), -1);
    assert_int_equal(fs_snake_case("", b, sizeof(b)), -1);
    assert_int_equal(fs_snake_case("x\x01", b, sizeof(b)), -1);
    assert_int_equal(fs_snake_case("abcdef", b, 4), -1);                 /* does not fit */
}

static void test_readme_mentions_every_core_file(void **state)
{
    const char *r = fs_readme_text();
    const char *names[] = { "cpu_load", "mem_usage", "free_mem", "total_mem", "used_mem", "os_type",
                            "up_time", "cpu_model", "num_cores", "cpu_speed", "is_active",
                            "last_seen", "sample.json", "machines" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_non_null(strstr(r, names[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_files),
        cmocka_unit_test(test_extras),
        cmocka_unit_test(test_active_source),
        cmocka_unit_test(test_legacy_mem_field),
        cmocka_unit_test(test_wrong_types_have_no_file),
        cmocka_unit_test(test_garbage_json),
        cmocka_unit_test(test_too_many_fields_capped),
        cmocka_unit_test(test_largest_files),
        cmocka_unit_test(test_format_number),
        cmocka_unit_test(test_snake_case),
        cmocka_unit_test(test_readme_mentions_every_core_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
