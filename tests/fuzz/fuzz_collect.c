/* fuzz_collect.c -- every /proc parser of the agent on arbitrary bytes.
 *
 * The collectors read files a container or a hostile kernel module may have
 * shaped, so each one must survive any input. Each parser gets the whole
 * input; the interval-based ones (cpu, net) also get a prefix of it as the
 * "previous" reading so the delta paths run on mismatched snapshots. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collect_cpu.h"
#include "collect_cpuinfo.h"
#include "collect_disk.h"
#include "collect_loadavg.h"
#include "collect_mac.h"
#include "collect_mem.h"
#include "collect_netdev.h"
#include "collect_sample.h"
#include "collect_uptime.h"

/* Large structs live outside the stack (libFuzzer's default stack is small). */
static struct collect_cpu_stat cpu_now, cpu_prev;
static struct collect_netdev net_now, net_prev;
static struct collect_mounts mounts;
static struct collect_sample sample;
static char json[200000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    double per_core[COLLECT_CPU_MAX_CORES];
    struct collect_net_rate rates[64];
    struct collect_mem mem;
    struct collect_cpuinfo cpuinfo;
    double loadavg[3], uptime;
    char mac[65];

    collect_cpu_parse(text, size, &cpu_now);
    collect_cpu_parse(text, size / 2, &cpu_prev);
    collect_cpu_load_per_core(&cpu_prev, &cpu_now, per_core, COLLECT_CPU_MAX_CORES);

    collect_mem_parse(text, size, &mem);
    collect_cpuinfo_parse(text, size, &cpuinfo);
    collect_cpuinfo_speed(&cpuinfo, text, size, text, size);

    collect_netdev_parse(text, size, &net_now);
    collect_netdev_parse(text, size / 2, &net_prev);
    collect_netdev_rates(&net_prev, &net_now, 1.0, rates, 64);

    collect_mounts_parse(text, size, &mounts);
    collect_loadavg_parse(text, size, loadavg);
    collect_uptime_parse(text, size, &uptime);
    collect_mac_pick(NULL, 0, text, size, mac, sizeof mac);

    /* The JSON writer must escape whatever a cpuinfo "model name" holds. */
    memset(&sample, 0, sizeof sample);
    size_t n = size < sizeof sample.cpuModel - 1 ? size : sizeof sample.cpuModel - 1;
    memcpy(sample.cpuModel, text, n);
    sample.cpuModel[n] = '\0';
    memcpy(sample.macA, "x", 2);
    sample.ncores_load = COLLECT_CPU_MAX_CORES;
    collect_sample_json(&sample, json, sizeof json);
    return 0;
}
