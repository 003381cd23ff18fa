/* agent_cli.h -- perfload-agent's command line and environment.
 *
 * Every setting is a flag and an env var; flags win (DESIGN.md §8). The
 * key comes from --key, --key-file, PERFLOAD_AGENT_KEY or
 * PERFLOAD_AGENT_KEY_FILE, in that order. */
#ifndef PERFLOAD_AGENT_CLI_H
#define PERFLOAD_AGENT_CLI_H

#include <stddef.h>
#include <stdio.h>

#define AGENT_VERSION "1.0.0"

/* Exit codes (documented in docs/agent.md). */
#define AGENT_EXIT_OK          0   /* stopped by SIGTERM/SIGINT, --once done, --help/--version */
#define AGENT_EXIT_ERROR       1   /* runtime failure: /proc unreadable, no machine id, lws init */
#define AGENT_EXIT_USAGE       2   /* bad flag or value, missing key */
#define AGENT_EXIT_KEY_REFUSED 3   /* the server disconnected us right after clientAuth */

#define AGENT_STR_MAX 512

struct agent_options {
    char server[AGENT_STR_MAX];     /* --server / PERFLOAD_SERVER */
    char key[AGENT_STR_MAX];        /* --key / --key-file / PERFLOAD_AGENT_KEY(_FILE) */
    char id[72];                    /* --id / PERFLOAD_AGENT_ID, "" = MAC / machine-id */
    double interval;                /* --interval / PERFLOAD_INTERVAL, seconds, 1 */
    int once;                       /* --once: print one sample as JSON and exit */
    char proc_root[AGENT_STR_MAX];  /* --proc-root / PERFLOAD_PROC_ROOT, "" = / */
    char ca_file[AGENT_STR_MAX];    /* --ca-file / PERFLOAD_CA_FILE: extra trust for wss */
    int insecure;                   /* --insecure / PERFLOAD_INSECURE: skip TLS verification */
    int verbose;                    /* --verbose / PERFLOAD_VERBOSE */

    /* parsed from server */
    int tls;                        /* https:// or wss:// */
    char host[256];
    int port;
    char path[AGENT_STR_MAX];       /* base path, "" or "/prefix" (no trailing '/') */
};

/* Fills opt from defaults, env, then argv. Returns 0 to run, 1 when --help
 * or --version was printed (exit 0), or -1 with a reason in err (exit 2). */
int agent_cli_parse(struct agent_options *opt, int argc, char **argv, char *err, size_t errlen);

/* Splits an http(s)/ws(s) URL into opt->tls/host/port/path. 0 or -1. */
int agent_cli_parse_url(struct agent_options *opt, const char *url, char *err, size_t errlen);

void agent_cli_usage(FILE *out);

#endif
