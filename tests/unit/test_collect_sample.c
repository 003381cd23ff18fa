/* Unit tests for lib/collect_sample: the agent's JSON, checked by parsing
 * it back with cJSON and by the server's own scan (sample_scan, lib/sample.h):
 * the agent's text must be relayed as is, so it must scan SAMPLE_VALID. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>

#include "collect_sample.h"
#include "sample.h"
#include "test_collect_fixture.h"

static struct collect_sample s;
static char json[256 * 1024];

static void fill(void)
{
    memset(&s, 0, sizeof s);
    snprintf(s.macA, sizeof s.macA, "aa:bb:cc:dd:ee:ff");
    s.totalMem = 16ULL << 30;
    s.freeMem = 6ULL << 30;
    s.usedMem = s.totalMem - s.freeMem;
    s.memUsage = 0.625;                       /* written with 2 decimals */
    snprintf(s.osType, sizeof s.osType, "Linux");
    s.upTime = 4242.97;                       /* written whole: 4242 */
    snprintf(s.cpuModel, sizeof s.cpuModel, "Quoted \"CPU\" \\ tab\there");
    s.numCores = 4;
    s.cpuSpeed = 2099.6;                      /* 2100 */
    s.cpuLoad = 12.345;                       /* 12.35 (or 12.34: binary) */
    s.isActive = 1;
    s.ncores_load = 4;
    for (int i = 0; i < 4; i++) s.cpuLoadPerCore[i] = i * 25.0;
    s.has_loadavg = 1;
    s.loadAvg[0] = 0.5; s.loadAvg[1] = 1.25; s.loadAvg[2] = 3;
    s.swapTotal = 2ULL << 30;
    s.swapUsed = 1ULL << 20;
    s.ndisks = 2;
    snprintf(s.disks[0].mount, sizeof s.disks[0].mount, "/");
    s.disks[0].total = 100ULL << 30; s.disks[0].used = 40ULL << 30; s.disks[0].avail = 55ULL << 30;
    snprintf(s.disks[1].mount, sizeof s.disks[1].mount, "/mnt/caf\xc3\xa9 \xff");   /* é ok, 0xff invalid */
    s.nnet = 1;
    snprintf(s.net[0].name, sizeof s.net[0].name, "eth0");
    s.net[0].rx_bps = 1234.4; s.net[0].tx_bps = 99.5;
    snprintf(s.kernel, sizeof s.kernel, "6.1.0-13-amd64");
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) fail_msg("field %s is not a number", k);
    return v->valuedouble;
}

static void test_roundtrip_and_schema(void **state)
{
    char err[SAMPLE_ERR_MAX];
    fill();
    int n = collect_sample_json(&s, json, sizeof json);
    assert_true(n > 0);
    assert_int_equal(strlen(json), n);
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "macA")->valuestring, "aa:bb:cc:dd:ee:ff");
    assert_near(num(o, "totalMem"), (double)(16ULL << 30), 0);
    assert_near(num(o, "usedMem") + num(o, "freeMem"), num(o, "totalMem"), 0);
    assert_near(num(o, "memUsage"), 0.63, 1e-9);
    assert_near(num(o, "upTime"), 4242, 0);
    assert_near(num(o, "cpuSpeed"), 2100, 0);
    assert_near(num(o, "cpuLoad"), 12.35, 0.011);
    assert_near(num(o, "numCores"), 4, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "cpuModel")->valuestring, "Quoted \"CPU\" \\ tab\there");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive")));
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(o, "cpuLoadPerCore");
    assert_int_equal(cJSON_GetArraySize(per), 4);
    assert_near(cJSON_GetArrayItem(per, 3)->valuedouble, 75, 0);
    const cJSON *la = cJSON_GetObjectItemCaseSensitive(o, "loadAvg");
    assert_near(cJSON_GetArrayItem(la, 1)->valuedouble, 1.25, 1e-12);
    const cJSON *disks = cJSON_GetObjectItemCaseSensitive(o, "disks");
    assert_int_equal(cJSON_GetArraySize(disks), 2);
    assert_near(num(cJSON_GetArrayItem(disks, 0), "used"), (double)(40ULL << 30), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(disks, 1), "mount")->valuestring,
                        "/mnt/caf\xc3\xa9 ?");
    const cJSON *net = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "net"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(net, "iface")->valuestring, "eth0");
    assert_near(num(net, "rxBps"), 1234, 0);
    assert_near(num(net, "txBps"), 100, 0);
    assert_near(num(o, "swapUsed"), (double)(1ULL << 20), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "kernel")->valuestring, "6.1.0-13-amd64");
    /* what the appliance will say about it: valid, relayed untouched */
    struct sample_view v;
    int rc = sample_scan(json, (size_t)n, &v, err, sizeof err);
    if (rc != SAMPLE_VALID) fail_msg("sample_scan: %d for the agent's sample: %s", rc, err);
    assert_string_equal(v.mac, "aa:bb:cc:dd:ee:ff");
    assert_true(v.mem_usage == num(o, "memUsage"));
    assert_true(v.num[SAMPLE_CPU_LOAD] == num(o, "cpuLoad"));
    cJSON_Delete(o);
}

/* Control characters are escaped, never emitted raw. */
static void test_control_chars_escaped(void **state)
{
    fill();
    snprintf(s.cpuModel, sizeof s.cpuModel, "a\x01" "b\nc\x7f");
    assert_true(collect_sample_json(&s, json, sizeof json) > 0);
    for (const char *p = json; *p; p++) assert_true((unsigned char)*p >= 0x20);
    char err[SAMPLE_ERR_MAX];
    struct sample_view v;
    if (sample_scan(json, strlen(json), &v, err, sizeof err) != SAMPLE_VALID) fail_msg("sample_scan: %s", err);
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "cpuModel")->valuestring, "a\x01" "b\nc\x7f");
    cJSON_Delete(o);
}

/* 1024 cores plus the maximum of disks and interfaces still pass the
 * server's bound on extra values: the per-core list is trimmed. */
static void test_node_budget(void **state)
{
    char err[SAMPLE_ERR_MAX];
    fill();
    s.numCores = COLLECT_CPU_MAX_CORES;
    s.ncores_load = COLLECT_CPU_MAX_CORES;
    s.ndisks = COLLECT_SAMPLE_DISKS_MAX;
    s.nnet = COLLECT_SAMPLE_NET_MAX;
    for (int i = 0; i < COLLECT_SAMPLE_DISKS_MAX; i++) snprintf(s.disks[i].mount, sizeof s.disks[i].mount, "/d%d", i);
    for (int i = 0; i < COLLECT_SAMPLE_NET_MAX; i++) snprintf(s.net[i].name, sizeof s.net[i].name, "eth%d", i);
    int n = collect_sample_json(&s, json, sizeof json);
    assert_true(n > 0);
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    int per = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "cpuLoadPerCore"));
    assert_true(per > 0 && per < COLLECT_CPU_MAX_CORES);
    struct sample_view v;
    int rc = sample_scan(json, (size_t)n, &v, err, sizeof err);
    if (rc != SAMPLE_VALID) fail_msg("sample_scan: %d: %s", rc, err);
    cJSON_Delete(o);
}

static void test_buffer_too_small(void **state)
{
    fill();
    int n = collect_sample_json(&s, json, sizeof json);
    assert_true(n > 0);
    assert_int_equal(collect_sample_json(&s, json, (size_t)n), -1);      /* no room for the NUL */
    assert_int_equal(collect_sample_json(&s, json, (size_t)n + 1), n);
    assert_int_equal(collect_sample_json(&s, json, 10), -1);
    assert_int_equal(collect_sample_json(&s, json, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_schema),
        cmocka_unit_test(test_control_chars_escaped),
        cmocka_unit_test(test_node_budget),
        cmocka_unit_test(test_buffer_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
