/* main.c -- perfload-agent: flags, then --once or the Socket.IO loop. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent_cli.h"
#include "agent_client.h"
#include "agent_proc.h"
#include "collect_sample.h"

/* --once waits this long between its two readings so cpuLoad and the
 * network rates are measured, not zero. */
#define ONCE_INTERVAL_S 0.25

static struct agent_proc proc;
static struct collect_sample once_sample;
static char once_json[96 * 1024];

static int run_once(void)
{
    char err[512];
    struct timespec ts = { 0, (long)(ONCE_INTERVAL_S * 1e9) };
    nanosleep(&ts, NULL);
    if (agent_proc_sample(&proc, &once_sample, 1, err, sizeof err) != 0) {
        fprintf(stderr, "perfload-agent: %s\n", err);
        return AGENT_EXIT_ERROR;
    }
    if (collect_sample_json(&once_sample, once_json, sizeof once_json) < 0) {
        fprintf(stderr, "perfload-agent: sample too large\n");
        return AGENT_EXIT_ERROR;
    }
    puts(once_json);
    return fflush(stdout) == 0 ? AGENT_EXIT_OK : AGENT_EXIT_ERROR;
}

int main(int argc, char **argv)
{
    static struct agent_options opt;
    char err[1024];

    int rc = agent_cli_parse(&opt, argc, argv, err, sizeof err);
    if (rc == 1) return AGENT_EXIT_OK;
    if (rc < 0) {
        fprintf(stderr, "perfload-agent: %s\n", err);
        return AGENT_EXIT_USAGE;
    }
    if (agent_proc_init(&proc, opt.proc_root, opt.id, opt.verbose, err, sizeof err) != 0) {
        fprintf(stderr, "perfload-agent: %s\n", err);
        return AGENT_EXIT_ERROR;
    }
    if (opt.once) return run_once();
    if (opt.insecure && opt.tls)
        fprintf(stderr, "perfload-agent: warning: --insecure: the server's TLS certificate is not verified\n");
    return agent_client_run(&opt, &proc);
}
