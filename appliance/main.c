/* main.c -- perfload-appliance: configuration, keys, one startup line, master. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "master.h"
#include "worker.h"

/* The URL a user on this machine can open: a wildcard bind is reachable on
 * loopback too. */
static void main_dashboard_url(const struct pl_config *cfg, char *out, size_t outlen)
{
    const char *host = cfg->bind_host;
    const char *scheme = cfg->tls_cert[0] ? "https" : "http";
    if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !host[0])
        host = "127.0.0.1";
    if (strchr(host, ':'))
        snprintf(out, outlen, "%s://[%s]:%d/", scheme, host, cfg->http_port);
    else
        snprintf(out, outlen, "%s://%s:%d/", scheme, host, cfg->http_port);
}

/* Every worker loads the TLS files itself: a missing or unreadable one
 * must stop the start here, not make the workers crash-loop. */
static int main_check_readable(const char *path, const char *what)
{
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (path[0] && !f) {
        fprintf(stderr, "perfload-appliance: %s %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    if (f)
        fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    static struct pl_config cfg;
    char err[512];

    /* A worker, exec'ed by the master with hidden flags (worker.h). */
    if (worker_exec_requested(argc, argv))
        return worker_main(argc, argv);

    int r = cfg_load(&cfg, argc, argv, err, sizeof(err));
    if (r == 1)
        return 0;
    if (r < 0) {
        fprintf(stderr, "perfload-appliance: %s\n", err);
        return 2;
    }
    if (main_check_readable(cfg.tls_cert, "--tls-cert") < 0 ||
        main_check_readable(cfg.tls_key, "--tls-key") < 0)
        return 2;
    if (cfg_ensure_keys(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "perfload-appliance: keys: %s\n", err);
        return 1;
    }

    char redis[CFG_STR_MAX], mongo[CFG_STR_MAX], url[128];
    cfg_mask_url(cfg.redis_url, redis, sizeof(redis));
    cfg_mask_url(cfg.mongo_url, mongo, sizeof(mongo));
    main_dashboard_url(&cfg, url, sizeof(url));
    fprintf(stderr,
            "perfload-appliance %s: socket.io on %s:%d, http on %s:%d, %d worker%s, "
            "redis %s, mongo %s, agent key %s, ui key %s, tls %s, dashboard %s\n",
            PERFLOAD_VERSION, cfg.bind_host, cfg.port, cfg.bind_host, cfg.http_port, cfg.workers,
            cfg.workers == 1 ? "" : "s", redis, mongo[0] ? mongo : "off",
            cfg.agent_key_file[0] ? cfg.agent_key_file : "(given)",
            cfg.ui_key_file[0] ? cfg.ui_key_file : "(given)", cfg.tls_cert[0] ? cfg.tls_cert : "off", url);

    return master_run(&cfg);
}
