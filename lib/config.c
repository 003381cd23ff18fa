/* config.c -- the appliance's settings: one table, defaults < env < flags.
 *
 * Every knob is listed once in cfg_table with its flag, env var, default and
 * help line; parsing, --help and the docs test all walk that table. A few
 * defaults depend on the machine (CPU count, executable path, HOME/uid) and
 * are computed in cfg_dynamic_defaults(). */
#include "config.h"
#include "netmask.h"
#include "redis_url.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

enum cfg_type { CFG_INT, CFG_LONG, CFG_BOOL, CFG_STR, CFG_LEVEL };

struct cfg_entry {
    struct cfg_knob knob;
    enum cfg_type type;
    size_t offset;               /* of the field in struct pl_config */
    size_t size;                 /* of a CFG_STR field (buffer size) */
    long min, max;               /* for CFG_INT / CFG_LONG */
    const char *def;             /* parsed like a user value; NULL = computed */
};

#define CFG_FIELD(f) offsetof(struct pl_config, f), sizeof(((struct pl_config *)0)->f)

static const struct cfg_entry cfg_table[] = {
    { { "--bind", "PERFLOAD_BIND", "HOST", "0.0.0.0",
        "address the Socket.IO and HTTP ports listen on" },
      CFG_STR, CFG_FIELD(bind_host), 0, 0, "0.0.0.0" },
    { { "--port", "PERFLOAD_PORT", "N", "8000",
        "Socket.IO port (agents and dashboards connect here)" },
      CFG_INT, CFG_FIELD(port), 1, 65535, "8000" },
    { { "--http-port", "PERFLOAD_HTTP_PORT", "N", "8001",
        "HTTP port: dashboard, /api, /metrics, /healthz" },
      CFG_INT, CFG_FIELD(http_port), 1, 65535, "8001" },
    { { "--workers", "PERFLOAD_WORKERS", "N", "number of CPUs",
        "worker processes (1-256); each client address sticks to one" },
      CFG_INT, CFG_FIELD(workers), 1, CFG_WORKERS_MAX, NULL },
    { { "--worker-timeout", "PERFLOAD_WORKER_TIMEOUT", "MS", "15000",
        "a worker whose event loop is stuck this long is killed and respawned; 0 = never" },
      CFG_INT, CFG_FIELD(worker_timeout_ms), 0, 3600000, "15000" },
    { { "--public-url", "PERFLOAD_PUBLIC_URL", "URL", "\"\" (same host, --port)",
        "Socket.IO URL the dashboard connects to (behind a proxy)" },
      CFG_STR, CFG_FIELD(public_url), 0, 0, "" },
    { { "--redis", "PERFLOAD_REDIS_URL", "URL", "redis://127.0.0.1:6379",
        "Redis for live state and cross-worker fan-out: redis://[:password@]host[:port][/db]" },
      CFG_STR, CFG_FIELD(redis_url), 0, 0, "redis://127.0.0.1:6379" },
    { { "--redis-prefix", "PERFLOAD_REDIS_PREFIX", "STR", "perfload:",
        "prefix of every Redis key and channel" },
      CFG_STR, CFG_FIELD(redis_prefix), 0, 0, "perfload:" },
    { { "--mongo", "PERFLOAD_MONGO_URL", "URL", "\"\" (off)",
        "MongoDB for machines and history; empty disables it" },
      CFG_STR, CFG_FIELD(mongo_url), 0, 0, "" },
    { { "--mongo-db", "PERFLOAD_MONGO_DB", "NAME", "perfload",
        "MongoDB database name" },
      CFG_STR, CFG_FIELD(mongo_db), 0, 0, "perfload" },
    { { "--mongo-queue", "PERFLOAD_MONGO_QUEUE", "N", "100000",
        "samples each worker holds while Mongo is slow or down: at most N samples and N x 2 KB of their JSON text (oldest dropped beyond)" },
      CFG_INT, CFG_FIELD(mongo_queue_max), 1, 100000000, "100000" },
    { { "--retention-days", "PERFLOAD_RETENTION_DAYS", "N", "7",
        "days of sample history kept in Mongo" },
      CFG_INT, CFG_FIELD(retention_days), 1, 36500, "7" },
    { { "--history-len", "PERFLOAD_HISTORY_LEN", "N", "900",
        "samples per machine kept in Redis for dashboard charts" },
      CFG_INT, CFG_FIELD(history_len), 1, 1000000, "900" },
    { { "--agent-key", "PERFLOAD_AGENT_KEY", "KEY", "generated (<state dir>/agent.key)",
        "key agents authenticate with" },
      CFG_STR, CFG_FIELD(agent_key), 0, 0, "" },
    { { "--ui-key", "PERFLOAD_UI_KEY", "KEY", "generated (<state dir>/ui.key)",
        "key dashboards authenticate with" },
      CFG_STR, CFG_FIELD(ui_key), 0, 0, "" },
    { { "--agent-key-file", "PERFLOAD_AGENT_KEY_FILE", "FILE", "<state dir>/agent.key",
        "file the agent key is read from (generated there, mode 0600, when missing)" },
      CFG_STR, CFG_FIELD(agent_key_file), 0, 0, "" },
    { { "--ui-key-file", "PERFLOAD_UI_KEY_FILE", "FILE", "<state dir>/ui.key",
        "file the UI key is read from (generated there, mode 0600, when missing)" },
      CFG_STR, CFG_FIELD(ui_key_file), 0, 0, "" },
    { { "--state-dir", "PERFLOAD_STATE_DIR", "DIR",
        "$XDG_STATE_HOME/perfload, ~/.local/state/perfload, /var/lib/perfload as root",
        "where generated keys are stored" },
      CFG_STR, CFG_FIELD(state_dir), 0, 0, NULL },
    { { "--open-dashboard", "PERFLOAD_OPEN_DASHBOARD", NULL, "off",
        "dashboard and /api need no UI key" },
      CFG_BOOL, CFG_FIELD(open_dashboard), 0, 1, "0" },
    { { "--open-metrics", "PERFLOAD_OPEN_METRICS", NULL, "on",
        "/metrics and /healthz need no key (--no-open-metrics to require the UI key)" },
      CFG_BOOL, CFG_FIELD(open_metrics), 0, 1, "1" },
    { { "--agent-networks", "PERFLOAD_AGENT_NETWORKS", "CIDRS", "\"\" (any)",
        "comma-separated IPv4/IPv6 networks agents may connect from; others' agent key is refused" },
      CFG_STR, CFG_FIELD(agent_networks), 0, 0, "" },
    { { "--max-conns-per-ip", "PERFLOAD_MAX_CONNS_PER_IP", "N", "1024",
        "Socket.IO connections one client address may hold; past it a new one is disconnected; 0 = no cap" },
      CFG_INT, CFG_FIELD(max_conns_per_ip), 0, 10000000, "1024" },
    { { "--max-msgs-per-sec", "PERFLOAD_MAX_MSGS_PER_SEC", "N", "50",
        "messages per second one socket may send (token bucket); excess dropped; 0 = no limit" },
      CFG_INT, CFG_FIELD(max_msgs_per_sec), 0, 1000000, "50" },
    { { "--max-msgs-burst", "PERFLOAD_MAX_MSGS_BURST", "N", "100",
        "messages a socket may send at once above --max-msgs-per-sec (the bucket size)" },
      CFG_INT, CFG_FIELD(max_msgs_burst), 1, 10000000, "100" },
    { { "--tls-cert", "PERFLOAD_TLS_CERT", "FILE", "\"\" (plain TCP)",
        "PEM certificate: serve TLS (wss/https) on --port and --http-port; needs --tls-key" },
      CFG_STR, CFG_FIELD(tls_cert), 0, 0, "" },
    { { "--tls-key", "PERFLOAD_TLS_KEY", "FILE", "\"\" (plain TCP)",
        "PEM private key of --tls-cert" },
      CFG_STR, CFG_FIELD(tls_key), 0, 0, "" },
    { { "--ping-interval", "PERFLOAD_PING_INTERVAL", "MS", "25000",
        "Engine.IO ping interval" },
      CFG_INT, CFG_FIELD(ping_interval_ms), 100, 3600000, "25000" },
    { { "--ping-timeout", "PERFLOAD_PING_TIMEOUT", "MS", "20000",
        "Engine.IO ping timeout" },
      CFG_INT, CFG_FIELD(ping_timeout_ms), 100, 3600000, "20000" },
    { { "--connect-timeout", "PERFLOAD_CONNECT_TIMEOUT", "MS", "45000",
        "an Engine.IO session that never joins a namespace is closed after this" },
      CFG_INT, CFG_FIELD(connect_timeout_ms), 100, 3600000, "45000" },
    { { "--max-payload", "PERFLOAD_MAX_PAYLOAD", "BYTES", "1000000",
        "largest packet or polling payload accepted from a client" },
      CFG_LONG, CFG_FIELD(max_payload), 1024, 1L << 30, "1000000" },
    { { "--send-queue-max", "PERFLOAD_SEND_QUEUE_MAX", "BYTES", "4194304",
        "bytes queued for one client before it is dropped as too slow (a new dashboard's snapshot may exceed it once)" },
      CFG_LONG, CFG_FIELD(send_queue_max), 1024, 1L << 30, "4194304" },
    { { "--liveness-timeout", "PERFLOAD_LIVENESS_TIMEOUT", "MS", "3000",
        "an agent silent this long is shown offline" },
      CFG_INT, CFG_FIELD(liveness_timeout_ms), 100, 3600000, "3000" },
    { { "--unsubscribe-after", "PERFLOAD_UNSUBSCRIBE_AFTER", "MS", "30000",
        "a worker stops receiving the other workers' samples this long after its last dashboard left" },
      CFG_INT, CFG_FIELD(unsubscribe_after_ms), 0, 86400000, "30000" },
    { { "--www", "PERFLOAD_WWW_DIR", "DIR", "<executable dir>/../www/dist",
        "built dashboard files" },
      CFG_STR, CFG_FIELD(www_dir), 0, 0, NULL },
    { { "--log-level", "PERFLOAD_LOG_LEVEL", "LEVEL", "info",
        "error, warn, info or debug (or 0-3)" },
      CFG_LEVEL, CFG_FIELD(log_level), 0, 3, "info" },
    { { "--routing", "PERFLOAD_ROUTING", "MODE", "sticky",
        "sticky (by client address); round-robin exists only to test that stickiness is needed" },
      CFG_STR, CFG_FIELD(routing), 0, 0, "sticky" },
};

#define CFG_NKNOBS (sizeof(cfg_table) / sizeof(cfg_table[0]))

size_t cfg_knobs(const struct cfg_knob **out)
{
    /* struct cfg_entry starts with its knob, but the entries are bigger, so
     * hand out a separate array of knobs built once. */
    static struct cfg_knob knobs[CFG_NKNOBS];
    for (size_t i = 0; i < CFG_NKNOBS; i++)
        knobs[i] = cfg_table[i].knob;
    *out = knobs;
    return CFG_NKNOBS;
}

static void cfg_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int cfg_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int cfg_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) { *out = 1; return 0; }
        if (!strcasecmp(s, no[i])) { *out = 0; return 0; }
    }
    return -1;
}

static int cfg_parse_level(const char *s, int *out)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    long v;
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, names[i])) { *out = i; return 0; }
    }
    if (cfg_parse_long(s, 0, 3, &v) == 0) { *out = (int)v; return 0; }
    return -1;
}

/* Stores text into the entry's field; `source` names the flag or env var
 * for the error message. */
static int cfg_set(struct pl_config *cfg, const struct cfg_entry *e, const char *text,
                   const char *source, char *err, size_t errlen)
{
    char *field = (char *)cfg + e->offset;
    long v;

    switch (e->type) {
    case CFG_INT:
    case CFG_LONG:
        if (cfg_parse_long(text, e->min, e->max, &v) < 0) {
            cfg_err(err, errlen, "%s: '%s' is not a whole number in %ld..%ld",
                    source, text, e->min, e->max);
            return -1;
        }
        if (e->type == CFG_INT)
            *(int *)(void *)field = (int)v;
        else
            *(long *)(void *)field = v;
        return 0;
    case CFG_BOOL:
        if (cfg_parse_bool(text, (int *)(void *)field) < 0) {
            cfg_err(err, errlen, "%s: '%s' is not one of 1/0, true/false, yes/no, on/off",
                    source, text);
            return -1;
        }
        return 0;
    case CFG_LEVEL:
        if (cfg_parse_level(text, (int *)(void *)field) < 0) {
            cfg_err(err, errlen, "%s: '%s' is not error, warn, info, debug or 0-3", source, text);
            return -1;
        }
        return 0;
    case CFG_STR:
        if (strlen(text) >= e->size) {
            cfg_err(err, errlen, "%s: value longer than %zu bytes", source, e->size - 1);
            return -1;
        }
        memcpy(field, text, strlen(text) + 1);
        return 0;
    }
    return -1;
}

static int cfg_join(char *out, size_t outlen, const char *a, const char *b)
{
    int n = snprintf(out, outlen, "%s%s", a, b);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* <dir of /proc/self/exe>/../www/dist, resolved when it exists. */
static void cfg_default_www(char *out, size_t outlen)
{
    char exe[PATH_MAX], guess[PATH_MAX + 32], real[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    out[0] = '\0';
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    snprintf(guess, sizeof(guess), "%s/../www/dist", exe);
    const char *pick = realpath(guess, real) ? real : guess;
    if (strlen(pick) < outlen)
        memcpy(out, pick, strlen(pick) + 1);
}

static void cfg_default_state_dir(char *out, size_t outlen)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    out[0] = '\0';
    if (geteuid() == 0 && cfg_join(out, outlen, "/var/lib/perfload", "") == 0)
        return;
    if (xdg && xdg[0] == '/' && cfg_join(out, outlen, xdg, "/perfload") == 0)
        return;
    if (home && home[0] && cfg_join(out, outlen, home, "/.local/state/perfload") == 0)
        return;
    /* No usable HOME: the working directory is the only honest choice. */
    cfg_join(out, outlen, ".perfload-state", "");
}

static void cfg_dynamic_defaults(struct pl_config *cfg)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = ncpu < 1 ? 1 : ncpu > CFG_WORKERS_MAX ? CFG_WORKERS_MAX : (int)ncpu;
    cfg_default_www(cfg->www_dir, sizeof(cfg->www_dir));
    cfg_default_state_dir(cfg->state_dir, sizeof(cfg->state_dir));
}

/* Finds the entry for "--name" (exact). *negated is set for "--no-name" of
 * an on/off knob. */
static const struct cfg_entry *cfg_find_flag(const char *name, size_t len, int *negated)
{
    *negated = 0;
    for (size_t i = 0; i < CFG_NKNOBS; i++) {
        const char *f = cfg_table[i].knob.flag;
        if (strlen(f) == len && !strncmp(f, name, len))
            return &cfg_table[i];
    }
    if (len > 5 && !strncmp(name, "--no-", 5)) {
        for (size_t i = 0; i < CFG_NKNOBS; i++) {
            const char *f = cfg_table[i].knob.flag;
            if (cfg_table[i].type == CFG_BOOL && strlen(f) == len - 3 &&
                !strncmp(f + 2, name + 5, len - 5)) {
                *negated = 1;
                return &cfg_table[i];
            }
        }
    }
    return NULL;
}

static int cfg_apply_env(struct pl_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < CFG_NKNOBS; i++) {
        const struct cfg_entry *e = &cfg_table[i];
        const char *v = e->knob.env ? getenv(e->knob.env) : NULL;
        /* An empty numeric/boolean env var means "unset" (compose files often
         * write VAR= ); an empty string knob is a real value (Mongo off). */
        if (!v || (!*v && e->type != CFG_STR))
            continue;
        if (cfg_set(cfg, e, v, e->knob.env, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int cfg_apply_argv(struct pl_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cfg_print_help(argv[0]);
            return 1;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("perfload-appliance %s\n", PERFLOAD_VERSION);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            cfg_err(err, errlen, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        const char *eq = strchr(a, '=');
        size_t namelen = eq ? (size_t)(eq - a) : strlen(a);
        int negated;
        const struct cfg_entry *e = cfg_find_flag(a, namelen, &negated);
        if (!e) {
            cfg_err(err, errlen, "unknown option '%.*s' (see --help)", (int)namelen, a);
            return -1;
        }
        const char *value;
        if (e->type == CFG_BOOL) {
            if (negated && eq) {
                cfg_err(err, errlen, "%.*s takes no value", (int)namelen, a);
                return -1;
            }
            value = negated ? "0" : eq ? eq + 1 : "1";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            cfg_err(err, errlen, "%s needs a value (%s)", a, e->knob.arg);
            return -1;
        }
        if (cfg_set(cfg, e, value, e->knob.flag, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Checks that need more than one knob or a closed set of words. */
static int cfg_validate(const struct pl_config *cfg, char *err, size_t errlen)
{
    if (strcmp(cfg->routing, "sticky") && strcmp(cfg->routing, "round-robin")) {
        cfg_err(err, errlen, "--routing: '%s' is not sticky or round-robin", cfg->routing);
        return -1;
    }
    if (cfg->port == cfg->http_port) {
        cfg_err(err, errlen, "--port and --http-port are both %d", cfg->port);
        return -1;
    }
    /* A bad Redis URL would make every worker fail at start and crash-loop:
     * refuse it here with the parser's reason instead. */
    struct redis_url ru;
    char why[160];
    if (redis_url_parse(cfg->redis_url, &ru, why, sizeof(why)) < 0) {
        cfg_err(err, errlen, "--redis: %s", why);
        return -1;
    }
    if (!cfg->bind_host[0]) {
        cfg_err(err, errlen, "--bind: empty address");
        return -1;
    }
    if (!cfg->state_dir[0]) {
        cfg_err(err, errlen, "--state-dir: empty path");
        return -1;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        cfg_err(err, errlen, "--tls-cert and --tls-key go together (one of them is empty)");
        return -1;
    }
    /* A typo in the allow-list must stop the start, not silently let
     * everyone in (or no one). */
    struct netmask_list nets;
    if (netmask_parse_list(cfg->agent_networks, &nets, why, sizeof(why)) < 0) {
        cfg_err(err, errlen, "--agent-networks: %s", why);
        return -1;
    }
    return 0;
}

int cfg_load(struct pl_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    if (err && errlen)
        err[0] = '\0';
    for (size_t i = 0; i < CFG_NKNOBS; i++) {
        const struct cfg_entry *e = &cfg_table[i];
        if (e->def && cfg_set(cfg, e, e->def, "default", err, errlen) < 0)
            return -1;
    }
    cfg_dynamic_defaults(cfg);
    if (cfg_apply_env(cfg, err, errlen) < 0)
        return -1;
    int r = cfg_apply_argv(cfg, argc, argv, err, errlen);
    if (r != 0)
        return r;
    return cfg_validate(cfg, err, errlen);
}

void cfg_print_help(const char *prog)
{
    const char *name = prog ? strrchr(prog, '/') : NULL;
    name = name ? name + 1 : prog ? prog : "perfload-appliance";
    printf("usage: %s [options]\n\n"
           "PerfLoad appliance %s: Socket.IO on --port (a master handing each client\n"
           "to a sticky worker), dashboard/API/metrics on --http-port.\n"
           "Every option is also an environment variable; options win.\n\n",
           name, PERFLOAD_VERSION);
    for (size_t i = 0; i < CFG_NKNOBS; i++) {
        const struct cfg_knob *k = &cfg_table[i].knob;
        char lhs[64];
        if (k->arg)
            snprintf(lhs, sizeof(lhs), "%s %s", k->flag, k->arg);
        else
            snprintf(lhs, sizeof(lhs), "%s, --no-%s", k->flag, k->flag + 2);
        printf("  %-28s %s\n  %-28s   env %s, default %s\n", lhs, k->help, "",
               k->env ? k->env : "-", k->default_text);
    }
    printf("  %-28s %s\n  %-28s %s\n", "-h, --help", "this text", "-V, --version",
           "print the version");
}

/* -- keys ------------------------------------------------------------------ */

/* mkdir -p with mode 0700 for directories it creates. */
static int cfg_mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[CFG_STR_MAX];
    size_t len = strlen(path);
    if (len >= sizeof(buf)) {
        cfg_err(err, errlen, "state dir path too long");
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
                cfg_err(err, errlen, "cannot create %s: %s", buf, strerror(errno));
                return -1;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* Reads the first line of an existing key file into out. Returns 1 when
 * read, 0 when the file does not exist, -1 on error. */
static int cfg_read_key(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        cfg_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "perfload: warning: %s is readable by others (chmod 600 it)\n", path);
    ssize_t n = read(fd, out, outlen - 1);
    int saved = errno;
    close(fd);
    if (n < 0) {
        cfg_err(err, errlen, "cannot read %s: %s", path, strerror(saved));
        return -1;
    }
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    for (char *p = out; *p; p++) {
        if (isspace((unsigned char)*p)) {
            cfg_err(err, errlen, "%s: key contains whitespace", path);
            return -1;
        }
    }
    if (!out[0]) {
        cfg_err(err, errlen, "%s is empty: delete it to generate a new key", path);
        return -1;
    }
    return 1;
}

/* 32 bytes from the kernel's CSPRNG (the getrandom() syscall reads the same
 * pool as /dev/urandom but cannot run out of fds or be shadowed). */
static int cfg_random_hex(char *out, size_t outlen)
{
    unsigned char raw[32];
    size_t got = 0;
    if (outlen < sizeof(raw) * 2 + 1)
        return -1;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + i * 2, 3, "%02x", raw[i]);
    return 0;
}

/* Writes key atomically (temp file with mode 0600, then rename) so a crash
 * never leaves a truncated key behind. */
static int cfg_write_key(const char *path, const char *key, char *err, size_t errlen)
{
    char tmp[CFG_STR_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        cfg_err(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(key);
    int ok = write(fd, key, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        saved = ok ? errno : saved;
        unlink(tmp);
        cfg_err(err, errlen, "cannot write %s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

/* file: in, the configured key file ("" = <state dir>/basename); out, the
 * file the key came from ("" when the key was given by flag/env). */
static int cfg_ensure_key(const struct pl_config *cfg, char *key, size_t keylen,
                          const char *basename, const char *what, char *file, size_t filelen,
                          char *err, size_t errlen)
{
    if (key[0]) {
        file[0] = '\0';
        return 0;
    }
    int own_file = file[0] != '\0';
    if (!own_file && snprintf(file, filelen, "%s/%s", cfg->state_dir, basename) >= (int)filelen) {
        cfg_err(err, errlen, "state dir path too long");
        return -1;
    }
    int r = cfg_read_key(file, key, keylen, err, errlen);
    if (r < 0)
        return -1;
    if (r == 1) {
        fprintf(stderr, "perfload: %s key read from %s\n", what, file);
        return 0;
    }
    if (!own_file && cfg_mkdirs(cfg->state_dir, err, errlen) < 0)
        return -1;
    if (cfg_random_hex(key, keylen) < 0) {
        cfg_err(err, errlen, "cannot read random bytes: %s", strerror(errno));
        return -1;
    }
    if (cfg_write_key(file, key, err, errlen) < 0) {
        key[0] = '\0';
        return -1;
    }
    fprintf(stderr, "perfload: generated a new %s key in %s\n", what, file);
    return 0;
}

int cfg_ensure_keys(struct pl_config *cfg, char *err, size_t errlen)
{
    if (cfg_ensure_key(cfg, cfg->agent_key, sizeof(cfg->agent_key), "agent.key", "agent",
                       cfg->agent_key_file, sizeof(cfg->agent_key_file), err, errlen) < 0)
        return -1;
    if (cfg_ensure_key(cfg, cfg->ui_key, sizeof(cfg->ui_key), "ui.key", "UI",
                       cfg->ui_key_file, sizeof(cfg->ui_key_file), err, errlen) < 0)
        return -1;
    if (!strcmp(cfg->agent_key, cfg->ui_key)) {
        cfg_err(err, errlen, "the agent key and the UI key must differ");
        return -1;
    }
    return 0;
}

/* Time depends only on the length of what the peer sent, never on how much
 * of the secret matched. An empty expected key matches nothing. */
int cfg_key_equal(const char *given, size_t given_len, const char *expected)
{
    size_t exp_len = expected ? strlen(expected) : 0;
    if (!given || exp_len == 0)
        return 0;
    unsigned diff = given_len != exp_len;
    for (size_t i = 0; i < given_len; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)expected[i % exp_len];
    return diff == 0;
}

void cfg_mask_url(const char *url, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (!url)
        return;
    const char *scheme = strstr(url, "://");
    const char *start = scheme ? scheme + 3 : url;
    const char *at = strrchr(start, '@');
    const char *slash = strchr(start, '/');
    /* userinfo is only what precedes the host, never an '@' in the path */
    if (!at || (slash && slash < at)) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    const char *colon = memchr(start, ':', (size_t)(at - start));
    if (!colon) {
        snprintf(out, outlen, "%s", url);   /* user only, no password */
        return;
    }
    snprintf(out, outlen, "%.*s:***%s", (int)(colon - url), url, at);
}
