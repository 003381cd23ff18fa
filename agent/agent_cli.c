/* agent_cli.c -- flags, env vars and the key file. */
#include "agent_cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void agent_cli_usage(FILE *out)
{
    fprintf(out,
        "usage: perfload-agent [options]\n"
        "Sends this machine's performance samples to a PerfLoad appliance.\n"
        "\n"
        "  --server URL      appliance Socket.IO URL, http(s):// or ws(s)://   env PERFLOAD_SERVER\n"
        "                    (default http://127.0.0.1:8000)\n"
        "  --key KEY         agent key (required unless --once)               env PERFLOAD_AGENT_KEY\n"
        "  --key-file FILE   read the key from FILE (first line)              env PERFLOAD_AGENT_KEY_FILE\n"
        "  --interval S      seconds between samples, fractions allowed (1)   env PERFLOAD_INTERVAL\n"
        "  --id ID           machine id (macA) instead of the MAC             env PERFLOAD_AGENT_ID\n"
        "  --once            print one sample as JSON on stdout and exit\n"
        "  --proc-root DIR   read DIR/proc and DIR/sys (host metrics from a   env PERFLOAD_PROC_ROOT\n"
        "                    container: mount the host's / at DIR read-only)\n"
        "  --ca-file FILE    also trust this CA (PEM) for https/wss           env PERFLOAD_CA_FILE\n"
        "  --insecure        do not verify the server's TLS certificate       env PERFLOAD_INSECURE=1\n"
        "  --verbose         log every connection step                        env PERFLOAD_VERBOSE=1\n"
        "  --version         print the version and exit\n"
        "  --help            print this help and exit\n"
        "\n"
        "Exit codes: 0 stopped/done, 1 runtime error, 2 usage error, 3 key refused by server.\n");
}

/* The macA rule of DESIGN.md §3 (the server's sample_mac_valid): 1-64 of
 * [0-9A-Za-z:._-], not "." or "..". Checked here so a bad --id fails at
 * start instead of every sample being rejected. (Not a call into
 * lib/sample.c: that pulls libm into the agent, see docs/agent.md.) */
static int id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64 || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        int ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 ch == ':' || ch == '.' || ch == '_' || ch == '-';
        if (!ok) return 0;
    }
    return 1;
}

static int set_str(char *dst, size_t cap, const char *val, const char *name, char *err, size_t errlen)
{
    if (strlen(val) >= cap) {
        errf(err, errlen, "%s: value too long (max %zu bytes)", name, cap - 1);
        return -1;
    }
    memcpy(dst, val, strlen(val) + 1);
    return 0;
}

static int truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

static int parse_interval(const char *v, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(d) || d < 0.05 || d > 86400) {
        errf(err, errlen, "--interval: expected seconds between 0.05 and 86400, got '%s'", v);
        return -1;
    }
    *out = d;
    return 0;
}

/* The key file holds the key on its first line; trailing whitespace (the
 * newline an editor adds) is not part of it. */
static int read_key_file(const char *path, char *key, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        errf(err, errlen, "--key-file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
        fprintf(stderr, "perfload-agent: warning: key file %s is readable by other users (chmod 600 it)\n", path);
    if (!fgets(key, (int)cap, f)) key[0] = '\0';
    fclose(f);
    size_t n = strlen(key);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' ' || key[n - 1] == '\t'))
        key[--n] = '\0';
    if (n == 0) {
        errf(err, errlen, "--key-file %s: empty", path);
        return -1;
    }
    return 0;
}

int agent_cli_parse_url(struct agent_options *opt, const char *url, char *err, size_t errlen)
{
    const char *p;
    if (!strncmp(url, "http://", 7)) { opt->tls = 0; p = url + 7; }
    else if (!strncmp(url, "ws://", 5)) { opt->tls = 0; p = url + 5; }
    else if (!strncmp(url, "https://", 8)) { opt->tls = 1; p = url + 8; }
    else if (!strncmp(url, "wss://", 6)) { opt->tls = 1; p = url + 6; }
    else {
        errf(err, errlen, "--server %s: expected http://, https://, ws:// or wss://", url);
        return -1;
    }
    const char *slash = strchr(p, '/');
    const char *authority_end = slash ? slash : p + strlen(p);
    const char *hstart = p, *hend, *port_colon;
    if (*p == '[') {                        /* [v6 address]:port */
        const char *rb = memchr(p, ']', (size_t)(authority_end - p));
        if (!rb) { errf(err, errlen, "--server %s: unclosed '['", url); return -1; }
        hstart = p + 1;
        hend = rb;
        port_colon = rb + 1 < authority_end ? rb + 1 : NULL;
        if (port_colon && *port_colon != ':') { errf(err, errlen, "--server %s: bad host", url); return -1; }
    } else {
        port_colon = memchr(p, ':', (size_t)(authority_end - p));
        hend = port_colon ? port_colon : authority_end;
    }
    opt->port = opt->tls ? 443 : 80;
    if (port_colon) {
        char *e;
        long port = strtol(port_colon + 1, &e, 10);
        if (e != authority_end || port < 1 || port > 65535) {
            errf(err, errlen, "--server %s: bad port", url);
            return -1;
        }
        opt->port = (int)port;
    }
    size_t hlen = (size_t)(hend - hstart);
    if (hlen == 0 || hlen >= sizeof opt->host) {
        errf(err, errlen, "--server %s: missing or too long host", url);
        return -1;
    }
    memcpy(opt->host, hstart, hlen);
    opt->host[hlen] = '\0';
    /* a path prefix (reverse proxy under /perfload/) goes before /socket.io/ */
    opt->path[0] = '\0';
    if (slash) {
        size_t plen = strlen(slash);
        while (plen > 0 && slash[plen - 1] == '/') plen--;
        if (plen >= sizeof opt->path) { errf(err, errlen, "--server %s: path too long", url); return -1; }
        memcpy(opt->path, slash, plen);
        opt->path[plen] = '\0';
    }
    return 0;
}

/* "--name value" or "--name=value"; advances *i past what it used. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (a[n] == '=') return a + n + 1;
    if (*i + 1 >= argc) {
        errf(err, errlen, "%s needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

static int is_flag(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

int agent_cli_parse(struct agent_options *opt, int argc, char **argv, char *err, size_t errlen)
{
    const char *v, *key_file = NULL, *key = NULL;
    int key_from_flag = 0;

    memset(opt, 0, sizeof *opt);
    snprintf(opt->server, sizeof opt->server, "http://127.0.0.1:8000");
    opt->interval = 1.0;

    /* environment first, flags below override */
    if ((v = getenv("PERFLOAD_SERVER")) && *v && set_str(opt->server, sizeof opt->server, v, "PERFLOAD_SERVER", err, errlen)) return -1;
    if ((v = getenv("PERFLOAD_AGENT_ID")) && *v && set_str(opt->id, sizeof opt->id, v, "PERFLOAD_AGENT_ID", err, errlen)) return -1;
    if ((v = getenv("PERFLOAD_INTERVAL")) && *v && parse_interval(v, &opt->interval, err, errlen)) return -1;
    if ((v = getenv("PERFLOAD_PROC_ROOT")) && *v && set_str(opt->proc_root, sizeof opt->proc_root, v, "PERFLOAD_PROC_ROOT", err, errlen)) return -1;
    if ((v = getenv("PERFLOAD_CA_FILE")) && *v && set_str(opt->ca_file, sizeof opt->ca_file, v, "PERFLOAD_CA_FILE", err, errlen)) return -1;
    opt->insecure = truthy(getenv("PERFLOAD_INSECURE"));
    opt->verbose = truthy(getenv("PERFLOAD_VERBOSE"));
    if ((v = getenv("PERFLOAD_AGENT_KEY")) && *v) key = v;
    if ((v = getenv("PERFLOAD_AGENT_KEY_FILE")) && *v && !key) key_file = v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { agent_cli_usage(stdout); return 1; }
        if (!strcmp(a, "--version")) { printf("perfload-agent %s\n", AGENT_VERSION); return 1; }
        if (!strcmp(a, "--once")) { opt->once = 1; continue; }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) { opt->verbose = 1; continue; }
        if (!strcmp(a, "--insecure")) { opt->insecure = 1; continue; }
        if (is_flag(a, "--server")) {
            if (!(v = flag_value(argc, argv, &i, "--server", err, errlen))) return -1;
            if (set_str(opt->server, sizeof opt->server, v, "--server", err, errlen)) return -1;
        } else if (is_flag(a, "--key-file")) {
            if (!(v = flag_value(argc, argv, &i, "--key-file", err, errlen))) return -1;
            if (key_from_flag) { errf(err, errlen, "give either --key or --key-file, not both"); return -1; }
            key_file = v; key = NULL; key_from_flag = 1;
        } else if (is_flag(a, "--key")) {
            if (!(v = flag_value(argc, argv, &i, "--key", err, errlen))) return -1;
            if (key_from_flag) { errf(err, errlen, "give either --key or --key-file, not both"); return -1; }
            key = v; key_file = NULL; key_from_flag = 1;
        } else if (is_flag(a, "--interval")) {
            if (!(v = flag_value(argc, argv, &i, "--interval", err, errlen))) return -1;
            if (parse_interval(v, &opt->interval, err, errlen)) return -1;
        } else if (is_flag(a, "--id")) {
            if (!(v = flag_value(argc, argv, &i, "--id", err, errlen))) return -1;
            if (set_str(opt->id, sizeof opt->id, v, "--id", err, errlen)) return -1;
        } else if (is_flag(a, "--proc-root")) {
            if (!(v = flag_value(argc, argv, &i, "--proc-root", err, errlen))) return -1;
            if (set_str(opt->proc_root, sizeof opt->proc_root, v, "--proc-root", err, errlen)) return -1;
        } else if (is_flag(a, "--ca-file")) {
            if (!(v = flag_value(argc, argv, &i, "--ca-file", err, errlen))) return -1;
            if (set_str(opt->ca_file, sizeof opt->ca_file, v, "--ca-file", err, errlen)) return -1;
        } else {
            errf(err, errlen, "unknown option '%s' (see --help)", a);
            return -1;
        }
    }

    if (opt->id[0] && !id_valid(opt->id)) {
        errf(err, errlen, "--id '%s': use 1-64 characters of [0-9A-Za-z:._-], not '.' or '..'", opt->id);
        return -1;
    }
    /* "/" and "" both mean the real root; drop a trailing '/' */
    size_t rl = strlen(opt->proc_root);
    while (rl > 0 && opt->proc_root[rl - 1] == '/') opt->proc_root[--rl] = '\0';

    if (key_file) {
        if (read_key_file(key_file, opt->key, sizeof opt->key, err, errlen)) return -1;
    } else if (key) {
        if (set_str(opt->key, sizeof opt->key, key, "--key", err, errlen)) return -1;
    }
    if (!opt->once && opt->key[0] == '\0') {
        errf(err, errlen, "no agent key: give --key KEY, --key-file FILE or set PERFLOAD_AGENT_KEY "
                          "(the appliance prints where its generated agent key is)");
        return -1;
    }
    if (!opt->once && agent_cli_parse_url(opt, opt->server, err, errlen)) return -1;
    return 0;
}
