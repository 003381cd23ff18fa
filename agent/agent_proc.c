/* agent_proc.c -- reading /proc and /sys for the collectors. */
#define _GNU_SOURCE             /* memrchr */
#include "agent_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "collect_loadavg.h"
#include "collect_mac.h"
#include "collect_mem.h"
#include "collect_uptime.h"

#define CPUINFO_REFRESH_S 60.0      /* "cpu MHz" when there is no cpufreq */
#define MOUNTS_REFRESH_S 60.0
#define NETIF_MAX 64

/* One scratch buffer for every file read: /proc/stat of a 1024-core box
 * fits, and only the pages a read touches count toward RSS. */
static char scratch[128 * 1024];

double agent_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double agent_proc_age(const struct agent_proc *ap)
{
    return ap->have_prev ? agent_now() - ap->prev_time : 0;
}

static int make_path(const struct agent_proc *ap, const char *rel, char *path, size_t cap)
{
    int n = snprintf(path, cap, "%s%s", ap->root, rel);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Reads root+rel into buf (at most cap-1 bytes, NUL-terminated). When the
 * file is longer, the text is cut after its last complete line so parsers
 * never see half a line. Returns the length, or -1 with errno set. */
static ssize_t read_file(const struct agent_proc *ap, const char *rel, char *buf, size_t cap)
{
    char path[1024];
    if (make_path(ap, rel, path, sizeof path) != 0) { errno = ENAMETOOLONG; return -1; }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    if (len == cap - 1) {
        char *nl = memrchr(buf, '\n', len);
        if (nl) len = (size_t)(nl - buf) + 1;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static void set_err(char *err, size_t errlen, const struct agent_proc *ap, const char *rel, const char *what)
{
    snprintf(err, errlen, "%s%s: %s", ap->root, rel, what);
}

/* Files that belong to a network or mount namespace: in host mode, pid 1's
 * view (the host's), otherwise our own. */
static const char *ns_file(const struct agent_proc *ap, const char *which)
{
    if (!strcmp(which, "net"))
        return ap->host_mode ? "/proc/1/net/dev" : "/proc/net/dev";
    return ap->host_mode ? "/proc/1/mounts" : "/proc/self/mounts";
}

/* Reads one small sysfs/proc value into out (trimmed). 0 or -1. */
static int read_small(const struct agent_proc *ap, const char *rel, char *out, size_t cap)
{
    ssize_t n = read_file(ap, rel, out, cap);
    if (n <= 0) return -1;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = '\0';
    return n > 0 ? 0 : -1;
}

static void pick_mac(struct agent_proc *ap)
{
    static struct collect_netif ifs[NETIF_MAX];
    unsigned n = 0;
    char path[1024], rel[256];
    if (make_path(ap, "/sys/class/net", path, sizeof path) == 0) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) && n < NETIF_MAX) {
            if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof ifs[n].name) continue;
            struct collect_netif *f = &ifs[n];
            memset(f, 0, sizeof *f);
            memcpy(f->name, e->d_name, strlen(e->d_name) + 1);
            snprintf(rel, sizeof rel, "/sys/class/net/%.15s/address", f->name);
            if (read_small(ap, rel, f->address, sizeof f->address) != 0) continue;
            char type[16];
            snprintf(rel, sizeof rel, "/sys/class/net/%.15s/type", f->name);
            f->type = read_small(ap, rel, type, sizeof type) == 0 ? atoi(type) : -1;
            snprintf(rel, sizeof rel, "/sys/class/net/%.15s/device", f->name);
            f->has_device = make_path(ap, rel, path, sizeof path) == 0 && access(path, F_OK) == 0;
            n++;
        }
        if (d) closedir(d);
    }
    /* machine-id under the root first; a container that mounted only the
     * host's /proc and /sys falls back to its own */
    ssize_t mlen = read_file(ap, "/etc/machine-id", scratch, 256);
    if (mlen <= 0 && ap->root[0]) {
        struct agent_proc plain = { .root = "" };
        mlen = read_file(&plain, "/etc/machine-id", scratch, 256);
    }
    int rc = collect_mac_pick(ifs, n, mlen > 0 ? scratch : NULL, mlen > 0 ? (size_t)mlen : 0,
                              ap->macA, sizeof ap->macA);
    if (ap->verbose && rc > 0)
        fprintf(stderr, "perfload-agent: machine id %s (from %s)\n", ap->macA, rc == 1 ? "MAC" : "machine-id");
}

static void read_os(struct agent_proc *ap)
{
    struct utsname u;
    int have_uname = uname(&u) == 0;
    /* the files under the root describe the kernel we report on; uname()
     * gives the same answer unless the root is a fixture tree */
    if (read_small(ap, "/proc/sys/kernel/ostype", ap->osType, sizeof ap->osType) != 0)
        snprintf(ap->osType, sizeof ap->osType, "%.31s", have_uname ? u.sysname : "Linux");
    if (read_small(ap, "/proc/sys/kernel/osrelease", ap->kernel, sizeof ap->kernel) != 0)
        snprintf(ap->kernel, sizeof ap->kernel, "%.63s", have_uname ? u.release : "");
    if (read_small(ap, "/proc/sys/kernel/hostname", ap->hostname, sizeof ap->hostname) != 0)
        snprintf(ap->hostname, sizeof ap->hostname, "%.64s", have_uname ? u.nodename : "");
}

/* The whole file once for the model; later only its head for "cpu MHz" of
 * the first CPU: the kernel formats cpuinfo as it is read, and on a
 * 128-core machine the whole file is ~200 KB of work. */
#define CPUINFO_HEAD 16384

static void read_cpuinfo(struct agent_proc *ap, double now, int whole)
{
    ssize_t n = read_file(ap, "/proc/cpuinfo", scratch, whole ? sizeof scratch : CPUINFO_HEAD);
    if (n >= 0) {
        struct collect_cpuinfo info;
        collect_cpuinfo_parse(scratch, (size_t)n, &info);
        if (whole) ap->info = info;
        else ap->info.mhz = info.mhz;
    } else if (ap->info.model[0] == '\0') {
        snprintf(ap->info.model, sizeof ap->info.model, "unknown");
    }
    ap->info_refresh_at = now + CPUINFO_REFRESH_S;
}

static double cpu_speed(struct agent_proc *ap, double now)
{
    char cur[32], max[32], rel[128];
    int have_cur, have_max;
    snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq", ap->cpufreq_cpu);
    have_cur = read_small(ap, rel, cur, sizeof cur) == 0;
    snprintf(rel, sizeof rel, "/sys/devices/system/cpu/cpu%u/cpufreq/cpuinfo_max_freq", ap->cpufreq_cpu);
    have_max = !have_cur && read_small(ap, rel, max, sizeof max) == 0;
    if (!have_cur && !have_max && now >= ap->info_refresh_at) read_cpuinfo(ap, now, 0);
    return collect_cpuinfo_speed(&ap->info, have_cur ? cur : NULL, have_cur ? strlen(cur) : 0,
                                 have_max ? max : NULL, have_max ? strlen(max) : 0);
}

static void refresh_mounts(struct agent_proc *ap, double now)
{
    ssize_t n = read_file(ap, ns_file(ap, "mounts"), scratch, sizeof scratch);
    if (n >= 0) collect_mounts_parse(scratch, (size_t)n, &ap->mounts);
    else ap->mounts.n = 0;
    ap->mounts_refresh_at = now + MOUNTS_REFRESH_S;
}

static void read_disks(struct agent_proc *ap, struct collect_sample *s)
{
    char path[1024];
    s->ndisks = 0;
    for (unsigned i = 0; i < ap->mounts.n && s->ndisks < COLLECT_SAMPLE_DISKS_MAX; i++) {
        const struct collect_mount *m = &ap->mounts.m[i];
        if (make_path(ap, m->path, path, sizeof path) != 0) continue;
        /* in host mode a host mount point that is not visible in this
         * container resolves into the container's own root: skip it */
        if (ap->host_mode) {
            struct stat st;
            if (stat(path, &st) != 0 || (unsigned long)st.st_dev == ap->root_dev) continue;
        }
        struct statvfs v;
        if (statvfs(path, &v) != 0 || v.f_blocks == 0) continue;
        struct collect_disk_usage *d = &s->disks[s->ndisks++];
        memcpy(d->mount, m->path, sizeof d->mount);
        uint64_t frsize = v.f_frsize ? v.f_frsize : v.f_bsize;
        d->total = (uint64_t)v.f_blocks * frsize;
        d->used = (uint64_t)(v.f_blocks - v.f_bfree) * frsize;
        d->avail = (uint64_t)v.f_bavail * frsize;
    }
}

/* Reads the rate counters into ap->cpu_cur / ap->net_cur. */
static int read_counters(struct agent_proc *ap, char *err, size_t errlen)
{
    ssize_t n = read_file(ap, "/proc/stat", scratch, sizeof scratch);
    if (n < 0) { set_err(err, errlen, ap, "/proc/stat", strerror(errno)); return -1; }
    if (collect_cpu_parse(scratch, (size_t)n, &ap->cpu_cur) != 0) {
        set_err(err, errlen, ap, "/proc/stat", "no cpu line");
        return -1;
    }
    n = read_file(ap, ns_file(ap, "net"), scratch, sizeof scratch);
    if (n < 0 || collect_netdev_parse(scratch, (size_t)n, &ap->net_cur) != 0) ap->net_cur.n = 0;
    return 0;
}

static void commit_counters(struct agent_proc *ap, double now)
{
    ap->cpu_prev = ap->cpu_cur;
    ap->net_prev = ap->net_cur;
    ap->prev_time = now;
    ap->have_prev = 1;
}

int agent_proc_init(struct agent_proc *ap, const char *root, const char *id, int verbose,
                    char *err, size_t errlen)
{
    double now = agent_now();
    memset(ap, 0, sizeof *ap);
    snprintf(ap->root, sizeof ap->root, "%s", root ? root : "");
    ap->host_mode = ap->root[0] != '\0';
    ap->verbose = verbose;
    struct stat st;
    if (stat("/", &st) == 0) ap->root_dev = (unsigned long)st.st_dev;

    if (read_counters(ap, err, errlen) != 0) return -1;
    commit_counters(ap, now);
    ap->cpufreq_cpu = ap->cpu_prev.ncores ? ap->cpu_prev.id[0] : 0;
    read_cpuinfo(ap, now, 1);
    read_os(ap);
    refresh_mounts(ap, now);

    if (id && id[0]) {
        snprintf(ap->macA, sizeof ap->macA, "%s", id);
    } else {
        pick_mac(ap);
        if (ap->macA[0] == '\0') {
            snprintf(err, errlen, "no network interface with a MAC address and no usable %s/etc/machine-id: "
                     "give the machine an id with --id", ap->root);
            return -1;
        }
    }
    return 0;
}

int agent_proc_sample(struct agent_proc *ap, struct collect_sample *s, int commit,
                      char *err, size_t errlen)
{
    double now = agent_now();
    double dt = now - ap->prev_time;
    struct collect_mem mem;
    ssize_t n;

    if (read_counters(ap, err, errlen) != 0) return -1;
    n = read_file(ap, "/proc/meminfo", scratch, sizeof scratch);
    if (n < 0) { set_err(err, errlen, ap, "/proc/meminfo", strerror(errno)); return -1; }
    if (collect_mem_parse(scratch, (size_t)n, &mem) != 0) {
        set_err(err, errlen, ap, "/proc/meminfo", "no MemTotal/MemAvailable");
        return -1;
    }

    memcpy(s->macA, ap->macA, sizeof s->macA);
    s->totalMem = mem.total;
    s->freeMem = mem.free;
    s->usedMem = mem.used;
    s->memUsage = mem.usage;
    s->swapTotal = mem.swap_total;
    s->swapUsed = mem.swap_used;
    memcpy(s->osType, ap->osType, sizeof s->osType);
    memcpy(s->kernel, ap->kernel, sizeof s->kernel);
    memcpy(s->hostname, ap->hostname, sizeof s->hostname);
    memcpy(s->cpuModel, ap->info.model, sizeof s->cpuModel);

    n = read_file(ap, "/proc/uptime", scratch, sizeof scratch);
    if (n < 0 || collect_uptime_parse(scratch, (size_t)n, &s->upTime) != 0) s->upTime = 0;
    n = read_file(ap, "/proc/loadavg", scratch, sizeof scratch);
    s->has_loadavg = n > 0 && collect_loadavg_parse(scratch, (size_t)n, s->loadAvg) == 0;

    s->numCores = ap->cpu_cur.ncores ? ap->cpu_cur.ncores : (ap->info.nprocessors ? ap->info.nprocessors : 1);
    s->cpuLoad = collect_cpu_load(&ap->cpu_prev.all, &ap->cpu_cur.all);
    s->ncores_load = collect_cpu_load_per_core(&ap->cpu_prev, &ap->cpu_cur, s->cpuLoadPerCore,
                                               COLLECT_CPU_MAX_CORES);
    s->cpuSpeed = cpu_speed(ap, now);
    s->nnet = dt > 0 ? collect_netdev_rates(&ap->net_prev, &ap->net_cur, dt, s->net, COLLECT_SAMPLE_NET_MAX) : 0;
    if (now >= ap->mounts_refresh_at) refresh_mounts(ap, now);
    read_disks(ap, s);
    s->isActive = 1;

    if (commit) commit_counters(ap, now);
    return 0;
}
