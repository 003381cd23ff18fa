/* collect_cpuinfo.c -- /proc/cpuinfo and cpufreq parsing. */
#include "collect_cpuinfo.h"
#include "collect_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Model sources, best first; see the header. */
enum { SRC_MODEL_NAME, SRC_CPU_MODEL, SRC_CPU, SRC_PROCESSOR, SRC_ARM_PART, SRC_HARDWARE, SRC_MODEL, SRC_COUNT };
static const char *const src_keys[SRC_COUNT] = {
    "model name", "cpu model", "cpu", "Processor", NULL, "Hardware", "Model",
};

/* ARM64 kernels print only the implementer and part numbers; name the
 * common ones like lscpu does, the rest as raw numbers. */
struct arm_part { unsigned implementer, part; const char *name; };
static const struct arm_part arm_parts[] = {
    { 0x41, 0xd03, "ARM Cortex-A53" }, { 0x41, 0xd04, "ARM Cortex-A35" },
    { 0x41, 0xd05, "ARM Cortex-A55" }, { 0x41, 0xd07, "ARM Cortex-A57" },
    { 0x41, 0xd08, "ARM Cortex-A72" }, { 0x41, 0xd09, "ARM Cortex-A73" },
    { 0x41, 0xd0a, "ARM Cortex-A75" }, { 0x41, 0xd0b, "ARM Cortex-A76" },
    { 0x41, 0xd0c, "ARM Neoverse-N1" }, { 0x41, 0xd0d, "ARM Cortex-A77" },
    { 0x41, 0xd40, "ARM Neoverse-V1" }, { 0x41, 0xd41, "ARM Cortex-A78" },
    { 0x41, 0xd44, "ARM Cortex-X1" }, { 0x41, 0xd46, "ARM Cortex-A510" },
    { 0x41, 0xd47, "ARM Cortex-A710" }, { 0x41, 0xd49, "ARM Neoverse-N2" },
    { 0x41, 0xd4f, "ARM Neoverse-V2" }, { 0x61, 0x022, "Apple M1" },
};

static int parse_hex(const char *s, const char *e, unsigned *out)
{
    char buf[24];
    collect_copy_trimmed(buf, sizeof buf, s, e);
    char *endp;
    unsigned long v = strtoul(buf, &endp, 0);
    if (endp == buf || *endp != '\0' || v > UINT32_MAX) return -1;
    *out = (unsigned)v;
    return 0;
}

int collect_cpuinfo_parse(const char *text, size_t len, struct collect_cpuinfo *out)
{
    char found[SRC_COUNT][COLLECT_CPU_MODEL_MAX];
    unsigned implementer = 0, part = 0;
    int have_impl = 0, have_part = 0, have_mhz = 0;
    struct collect_cursor c;
    const char *line, *end, *k, *ke, *v, *ve;

    if (!text) return -1;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < SRC_COUNT; i++) found[i][0] = '\0';
    collect_cursor_init(&c, text, len);
    while (collect_next_line(&c, &line, &end)) {
        if (collect_split_colon(line, end, &k, &ke, &v, &ve) != 0) continue;
        if (collect_range_equals(k, ke, "processor")) { out->nprocessors++; continue; }
        if (!have_mhz && (collect_range_equals(k, ke, "cpu MHz") || collect_range_equals(k, ke, "clock"))) {
            /* PowerPC says "clock : 2900.000000MHz" */
            const char *p = v;
            if (collect_parse_udouble(&p, ve, &out->mhz) == 0) have_mhz = 1;
            continue;
        }
        if (!have_impl && collect_range_equals(k, ke, "CPU implementer")) { have_impl = parse_hex(v, ve, &implementer) == 0; continue; }
        if (!have_part && collect_range_equals(k, ke, "CPU part")) { have_part = parse_hex(v, ve, &part) == 0; continue; }
        for (int i = 0; i < SRC_COUNT; i++) {
            if (src_keys[i] && found[i][0] == '\0' && v < ve && collect_range_equals(k, ke, src_keys[i])) {
                collect_copy_trimmed(found[i], sizeof found[i], v, ve);
                break;
            }
        }
    }
    if (have_impl && have_part) {
        const char *name = NULL;
        for (size_t i = 0; i < sizeof arm_parts / sizeof arm_parts[0]; i++)
            if (arm_parts[i].implementer == implementer && arm_parts[i].part == part) name = arm_parts[i].name;
        if (name) snprintf(found[SRC_ARM_PART], sizeof found[SRC_ARM_PART], "%s", name);
        else snprintf(found[SRC_ARM_PART], sizeof found[SRC_ARM_PART], "ARM implementer 0x%02x part 0x%03x", implementer, part);
    }
    for (int i = 0; i < SRC_COUNT; i++) {
        if (found[i][0]) { memcpy(out->model, found[i], sizeof out->model); return 0; }
    }
    snprintf(out->model, sizeof out->model, "unknown");
    return 0;
}

/* cpufreq files hold one integer in kHz; 0 or garbage means unusable. */
static double khz_to_mhz(const char *text, size_t len)
{
    if (!text) return 0;
    const char *p = text, *end = text + len;
    uint64_t khz;
    if (collect_parse_u64(&p, end, &khz) != 0 || khz == 0) return 0;
    return (double)khz / 1000.0;
}

double collect_cpuinfo_speed(const struct collect_cpuinfo *info,
                             const char *cur_khz, size_t cur_len,
                             const char *max_khz, size_t max_len)
{
    double mhz = khz_to_mhz(cur_khz, cur_len);
    if (mhz <= 0) mhz = khz_to_mhz(max_khz, max_len);
    if (mhz <= 0 && info) mhz = info->mhz;
    return collect_round(mhz);
}
