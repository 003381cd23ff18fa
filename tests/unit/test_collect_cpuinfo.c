/* Unit tests for lib/collect_cpuinfo: model, count and speed across
 * architectures, and the cpufreq preference. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_cpuinfo.h"
#include "test_collect_fixture.h"

static struct collect_cpuinfo ci;

static void parse_fixture(const char *name)
{
    size_t len;
    const char *t = fixture(0, name, &len);
    assert_int_equal(collect_cpuinfo_parse(t, len, &ci), 0);
}

static void test_x86(void **state)
{
    parse_fixture("cpuinfo/x86");
    assert_string_equal(ci.model, "Intel(R) Xeon(R) Processor");
    assert_int_equal(ci.nprocessors, 2);
    assert_near(ci.mhz, 2100.0, 1e-9);                      /* the first processor's */
    assert_near(collect_cpuinfo_speed(&ci, NULL, 0, NULL, 0), 2100, 0);
}

/* cpufreq is preferred: the current speed, then the maximum. */
static void test_cpufreq_preferred(void **state)
{
    size_t cl, ml, zl;
    const char *cur = fixture(1, "cpufreq/scaling_cur_freq", &cl);
    const char *max = fixture(2, "cpufreq/cpuinfo_max_freq", &ml);
    const char *zero = fixture(3, "cpufreq/zero", &zl);
    parse_fixture("cpuinfo/x86");
    assert_near(collect_cpuinfo_speed(&ci, cur, cl, max, ml), 1500, 0);
    assert_near(collect_cpuinfo_speed(&ci, NULL, 0, max, ml), 1800, 0);
    assert_near(collect_cpuinfo_speed(&ci, zero, zl, max, ml), 1800, 0);   /* 0 kHz is unusable */
    assert_near(collect_cpuinfo_speed(&ci, "garbage", 7, NULL, 0), 2100, 0);
    assert_near(collect_cpuinfo_speed(NULL, NULL, 0, NULL, 0), 0, 0);
}

/* ARM64 (Raspberry Pi 4): no model name, no MHz; the part number names the
 * core, and only cpufreq knows the speed. */
static void test_arm64_without_mhz(void **state)
{
    size_t cl;
    const char *cur = fixture(1, "cpufreq/scaling_cur_freq", &cl);
    parse_fixture("cpuinfo/arm64_rpi4");
    assert_string_equal(ci.model, "ARM Cortex-A72");
    assert_int_equal(ci.nprocessors, 4);
    assert_near(ci.mhz, 0, 0);
    assert_near(collect_cpuinfo_speed(&ci, NULL, 0, NULL, 0), 0, 0);
    assert_near(collect_cpuinfo_speed(&ci, cur, cl, NULL, 0), 1500, 0);
}

static void test_arm64_unknown_part(void **state)
{
    parse_fixture("cpuinfo/arm64_unknown_part");
    assert_string_equal(ci.model, "ARM implementer 0x48 part 0xd01");
    assert_int_equal(ci.nprocessors, 1);
}

/* Old ARM32 kernels: "Processor" (capital P) names the CPU, and there are no
 * per-processor "processor" lines. */
static void test_arm32_old(void **state)
{
    parse_fixture("cpuinfo/arm32_old");
    assert_string_equal(ci.model, "ARMv6-compatible processor rev 7 (v6l)");
    assert_int_equal(ci.nprocessors, 0);
}

static void test_ppc64(void **state)
{
    parse_fixture("cpuinfo/ppc64");
    assert_string_equal(ci.model, "POWER9 (architected), altivec supported");
    assert_int_equal(ci.nprocessors, 2);
    assert_near(ci.mhz, 2900, 1e-9);
}

static void test_fallbacks(void **state)
{
    const char *board = "processor : 0\nHardware : Allwinner sun8i\n";
    const char *nothing = "processor : 0\nflags : x\n";
    const char *empty_model = "model name :   \nHardware : BCM2835\n";
    char long_model[400];
    memset(long_model, 'x', sizeof long_model);
    memcpy(long_model, "model name : ", 13);
    assert_int_equal(collect_cpuinfo_parse(board, strlen(board), &ci), 0);
    assert_string_equal(ci.model, "Allwinner sun8i");
    assert_int_equal(collect_cpuinfo_parse(nothing, strlen(nothing), &ci), 0);
    assert_string_equal(ci.model, "unknown");
    assert_int_equal(collect_cpuinfo_parse(empty_model, strlen(empty_model), &ci), 0);
    assert_string_equal(ci.model, "BCM2835");
    assert_int_equal(collect_cpuinfo_parse(long_model, sizeof long_model, &ci), 0);
    assert_int_equal(strlen(ci.model), COLLECT_CPU_MODEL_MAX - 1);
    assert_int_equal(collect_cpuinfo_parse(NULL, 0, &ci), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x86),
        cmocka_unit_test(test_cpufreq_preferred),
        cmocka_unit_test(test_arm64_without_mhz),
        cmocka_unit_test(test_arm64_unknown_part),
        cmocka_unit_test(test_arm32_old),
        cmocka_unit_test(test_ppc64),
        cmocka_unit_test(test_fallbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
