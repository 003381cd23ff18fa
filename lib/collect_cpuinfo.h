/* collect_cpuinfo.h -- CPU model, count and speed from /proc/cpuinfo and
 * cpufreq. Pure: the agent passes the file contents in.
 *
 * cpuinfo differs per architecture. The model is the first of:
 *   "model name" (x86, ARM32), "cpu model" (MIPS), "cpu" (PowerPC),
 *   "Processor" (old ARM32), "CPU implementer"+"CPU part" (ARM64, named
 *   from a small table, e.g. "ARM Cortex-A72"), "Hardware", "Model"
 *   (Raspberry Pi board), else "unknown".
 * ARM kernels print no MHz at all; cpufreq (sysfs, in kHz) fills the gap,
 * and is preferred everywhere since it is the current, not nominal, speed. */
#ifndef PERFLOAD_COLLECT_CPUINFO_H
#define PERFLOAD_COLLECT_CPUINFO_H

#include <stddef.h>

#define COLLECT_CPU_MODEL_MAX 128

struct collect_cpuinfo {
    char model[COLLECT_CPU_MODEL_MAX];  /* cpuModel, never empty after parse */
    unsigned nprocessors;               /* "processor" entries seen */
    double mhz;                         /* first "cpu MHz"/"clock", 0 if none */
};

/* Returns 0 (always fills model, "unknown" at worst), -1 on NULL text. */
int collect_cpuinfo_parse(const char *text, size_t len, struct collect_cpuinfo *out);

/* cpuSpeed in MHz: cpufreq scaling_cur_freq (kHz text) if usable, else
 * cpuinfo_max_freq (kHz text), else info->mhz, else 0. Either text may be
 * NULL when the file does not exist. Rounded to a whole MHz. */
double collect_cpuinfo_speed(const struct collect_cpuinfo *info,
                             const char *cur_khz, size_t cur_len,
                             const char *max_khz, size_t max_len);

#endif
