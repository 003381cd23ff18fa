/* config.h -- every PerfLoad setting: a flag and an env var, flags win.
 *
 * One table (config.c) lists each knob once: its flag, its env var, its
 * default and its help line; docs/configuration.md is generated from the
 * same facts by hand and a test compares the two. Pure: no I/O except
 * cfg_ensure_keys(), which reads/creates the key files in the state dir. */
#ifndef PERFLOAD_CONFIG_H
#define PERFLOAD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CFG_STR_MAX 512

/* The release, for --version, /api/config and logs. */
#define PERFLOAD_VERSION "0.1.0"

/* --workers upper bound: the shared stats region has this many slots
 * (STATS_MAX_WORKERS in appliance/stats.h; lib/ cannot include it). */
#define CFG_WORKERS_MAX 256

struct pl_config {
    /* sockets */
    char bind_host[64];          /* --bind / PERFLOAD_BIND, "0.0.0.0" */
    int port;                    /* --port / PERFLOAD_PORT, 8000: Socket.IO */
    int http_port;               /* --http-port / PERFLOAD_HTTP_PORT, 8001 */
    int workers;                 /* --workers / PERFLOAD_WORKERS, nCPU */
    int worker_timeout_ms;       /* --worker-timeout / PERFLOAD_WORKER_TIMEOUT, 15000: a worker whose
                                  * loop has not ticked this long is killed and respawned; 0 = never */
    char public_url[CFG_STR_MAX];/* --public-url: socket URL the dashboard uses; "" = same host, :port */

    /* backing stores */
    char redis_url[CFG_STR_MAX]; /* --redis / PERFLOAD_REDIS_URL */
    char redis_prefix[64];       /* --redis-prefix / PERFLOAD_REDIS_PREFIX, "perfload:" */
    char mongo_url[CFG_STR_MAX]; /* --mongo / PERFLOAD_MONGO_URL, "" = off */
    char mongo_db[64];           /* --mongo-db / PERFLOAD_MONGO_DB, "perfload" */
    int mongo_queue_max;         /* --mongo-queue / PERFLOAD_MONGO_QUEUE, 100000 samples per worker */
    int retention_days;          /* --retention-days / PERFLOAD_RETENTION_DAYS, 7 */
    int history_len;             /* --history-len / PERFLOAD_HISTORY_LEN, 900 samples in Redis */

    /* keys and access */
    char agent_key[CFG_STR_MAX]; /* --agent-key / PERFLOAD_AGENT_KEY, generated */
    char ui_key[CFG_STR_MAX];    /* --ui-key / PERFLOAD_UI_KEY, generated */
    char state_dir[CFG_STR_MAX]; /* --state-dir / PERFLOAD_STATE_DIR, where generated keys live */
    int open_dashboard;          /* --open-dashboard / PERFLOAD_OPEN_DASHBOARD: API/UI need no key */
    int open_metrics;            /* --open-metrics / PERFLOAD_OPEN_METRICS, 1: /metrics,/healthz need no key */
    char agent_networks[CFG_STR_MAX]; /* --agent-networks / PERFLOAD_AGENT_NETWORKS: CIDR list agents
                                  * may connect from; "" = any (lib/netmask.h) */
    int max_conns_per_ip;        /* --max-conns-per-ip / PERFLOAD_MAX_CONNS_PER_IP, 1024; 0 = no cap */
    int max_msgs_per_sec;        /* --max-msgs-per-sec / PERFLOAD_MAX_MSGS_PER_SEC, 50 per socket; 0 = off */
    int max_msgs_burst;          /* --max-msgs-burst / PERFLOAD_MAX_MSGS_BURST, 100 */

    /* TLS (both ports; "" = plain) */
    char tls_cert[CFG_STR_MAX];  /* --tls-cert / PERFLOAD_TLS_CERT: PEM certificate (chain) file */
    char tls_key[CFG_STR_MAX];   /* --tls-key / PERFLOAD_TLS_KEY: PEM private key file */

    /* protocol */
    int ping_interval_ms;        /* --ping-interval / PERFLOAD_PING_INTERVAL, 25000 */
    int ping_timeout_ms;         /* --ping-timeout / PERFLOAD_PING_TIMEOUT, 20000 */
    int connect_timeout_ms;      /* --connect-timeout / PERFLOAD_CONNECT_TIMEOUT, 45000 */
    long max_payload;            /* --max-payload / PERFLOAD_MAX_PAYLOAD, 1000000 bytes */
    long send_queue_max;         /* --send-queue-max / PERFLOAD_SEND_QUEUE_MAX, 4 MB per socket */
    int liveness_timeout_ms;     /* --liveness-timeout / PERFLOAD_LIVENESS_TIMEOUT, 3000 */
    int unsubscribe_after_ms;    /* --unsubscribe-after / PERFLOAD_UNSUBSCRIBE_AFTER, 30000 */

    /* files and logs */
    char www_dir[CFG_STR_MAX];   /* --www / PERFLOAD_WWW_DIR, <exe dir>/../www/dist */
    int log_level;               /* --log-level / PERFLOAD_LOG_LEVEL: 0 error 1 warn 2 info 3 debug */

    /* testing */
    char routing[16];            /* --routing / PERFLOAD_ROUTING, "sticky"; "round-robin" is for tests only
                                  * (it breaks long-polling across workers, which a test shows) */

    /* --agent-key-file / PERFLOAD_AGENT_KEY_FILE, --ui-key-file / PERFLOAD_UI_KEY_FILE:
     * where the key is read from (or generated into); "" = <state dir>/agent.key, ui.key.
     * After cfg_ensure_keys(): the file actually used, "" = key given by flag/env. */
    char agent_key_file[CFG_STR_MAX];
    char ui_key_file[CFG_STR_MAX];
};

/* One knob of the table, for --help and the docs test. */
struct cfg_knob {
    const char *flag;            /* "--port" */
    const char *env;             /* "PERFLOAD_PORT", or NULL */
    const char *arg;             /* "N", "URL", ...; NULL for an on/off flag (--x / --no-x) */
    const char *default_text;    /* as shown to users: "8000", "number of CPUs" */
    const char *help;            /* one line */
};

/* The table itself: *out points at n entries (static storage). */
size_t cfg_knobs(const struct cfg_knob **out);

/* Fills cfg with defaults, then env vars, then argv (flags win). Returns 0,
 * 1 when --help or --version was printed (caller exits 0), or -1 with a
 * one-line reason in err (caller prints it and exits 2). */
int cfg_load(struct pl_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Makes sure agent_key and ui_key are set: a key not given by flag/env is
 * read from its key file (--agent-key-file / --ui-key-file, default
 * <state_dir>/agent.key or ui.key), or, when that file does not exist,
 * generated (32 random bytes as hex) and stored there with mode 0600.
 * Prints where each key came from, never the key. */
int cfg_ensure_keys(struct pl_config *cfg, char *err, size_t errlen);

/* Constant-time string comparison for keys: 1 when equal. */
int cfg_key_equal(const char *given, size_t given_len, const char *expected);

/* Prints the flag/env/default table (for --help and the docs test). */
void cfg_print_help(const char *prog);

/* Copies url into out with any password replaced by "***"
 * ("redis://:s3cret@h:1/0" -> "redis://:***@h:1/0"), for logs. */
void cfg_mask_url(const char *url, char *out, size_t outlen);

#endif
