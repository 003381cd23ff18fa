/* worker.c -- one worker: engine + app on an lws loop, fds from the master. */
#define _GNU_SOURCE
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "app.h"
#include "config.h"
#include "fdpass.h"
#include "plog.h"
#include "sio_server.h"
#include "stats.h"

#define WORKER_TICK_MS       200   /* heartbeat and stop checks */
#define WORKER_FLUSH_MIN_MS  1000  /* after SIGTERM: let the app's queued writes leave */
#define WORKER_FLUSH_MAX_MS  2500  /* ... but stop well inside the master's 4 s grace */
#define WORKER_MAX_PROTOCOLS 16
#define WORKER_TRIM_MS       10000 /* malloc_trim period (see worker_on_tick) */
#define WORKER_ADOPT_TURN    32    /* hand-off messages (up to 16 fds each) read per loop turn */

struct worker {
    const struct pl_config *cfg;
    struct worker_stats *ws;     /* this slot in the shared stats */
    int slot;
    int master_fd;               /* our socketpair end; -1 once lws closed it */
    int sig_fd;                  /* signalfd for SIGTERM/SIGINT; -1 once closed */
    struct sio_server *sio;
    struct app *app;
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    int stopping;
    int64_t stop_started_ms;
    int64_t trimmed_ms;          /* last malloc_trim() */
    int done;
    char name[32];               /* "<slot>:<pid>", the X-PerfLoad-Worker value */
    char who[48];                /* "worker <slot> (pid <pid>)", for logs */
};

/* worker_log(w, level, fmt, ...): one line tagged "worker <slot> (pid <pid>)". */
#define worker_log(w, level, ...) plog((w)->cfg->log_level, (level), (w)->who, __VA_ARGS__)

static void worker_begin_stop(struct worker *w, const char *why)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    w->stop_started_ms = plog_wall_ms();
    worker_log(w, 2, "%s: disconnecting clients", why);
    sio_server_shutdown(w->sio);
    app_shutdown(w->app);
}

static void worker_on_tick(lws_sorted_usec_list_t *sul)
{
    struct worker *w = lws_container_of(sul, struct worker, tick);
    int64_t now = plog_wall_ms();
    atomic_store(&w->ws->heartbeat_ms, now);
    /* glibc keeps freed heap pages mapped: after a burst of connections
     * (thousands of half-open sockets, a reconnect storm) RSS would stay at
     * its peak. malloc_trim hands the free pages back; at this period it
     * costs well under a millisecond per call. */
    if (now - w->trimmed_ms >= WORKER_TRIM_MS) {
        w->trimmed_ms = now;
        malloc_trim(0);
    }
    if (w->stopping) {
        int64_t spent = now - w->stop_started_ms;
        if ((spent >= WORKER_FLUSH_MIN_MS && sio_server_idle(w->sio)) ||
            spent >= WORKER_FLUSH_MAX_MS) {
            w->done = 1;
            lws_cancel_service(w->ctx);
            return;
        }
    }
    lws_sul_schedule(w->ctx, 0, &w->tick, worker_on_tick, WORKER_TICK_MS * LWS_US_PER_MS);
}

static void worker_read_signals(struct worker *w)
{
    struct signalfd_siginfo si;
    while (read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        worker_begin_stop(w, strsignal((int)si.ssi_signo));
}

/* Adopts the fds the master sent, at most WORKER_ADOPT_TURN messages per
 * loop turn: after a ramp's burst the socketpair can hold thousands, and
 * adopting them all in one turn would stall every connected client; the
 * rest stay readable for the next turn. Returns -1 when the master is gone
 * (EOF) or the socketpair failed: lws then closes our end. */
static int worker_read_master(struct worker *w)
{
    int fds[FDPASS_MAX];
    size_t nfds;
    for (int turn = 0; turn < WORKER_ADOPT_TURN; turn++) {
        int r = fdpass_recv(w->master_fd, fds, &nfds);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            worker_log(w, 0, "reading from the master: %s", strerror(errno));
            worker_begin_stop(w, "master link failed");
            return -1;
        }
        if (r == 0) {
            worker_begin_stop(w, "master gone");
            return -1;
        }
        for (size_t k = 0; k < nfds; k++) {
            if (w->stopping) {
                close(fds[k]);
                continue;
            }
            int rc = sio_server_adopt_fd(w->sio, fds[k]);   /* closes the fd on failure */
            if (rc < 0)
                worker_log(w, 1, "cannot adopt a connection: %s", sio_strerror(rc));
        }
    }
    return 0;
}

static int worker_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                               void *in, size_t len)
{
    const struct lws_protocols *p = lws_get_protocol(wsi);
    struct worker *w = p ? p->user : NULL;
    if (!w)
        return 0;
    int fd = (int)lws_get_socket_fd(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (fd == w->sig_fd)
            worker_read_signals(w);
        else if (fd == w->master_fd && worker_read_master(w) < 0)
            return -1;
        break;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* lws closes the descriptor itself. */
        if (fd == w->master_fd) {
            w->master_fd = -1;
            worker_begin_stop(w, "master link closed");
        } else if (fd == w->sig_fd) {
            w->sig_fd = -1;
        }
        break;
    default:
        break;
    }
    return 0;
}

static int worker_adopt_raw(struct worker *w, int fd, const char *what)
{
    lws_sock_file_fd_type u;
    u.filefd = fd;
    if (!lws_adopt_descriptor_vhost(sio_server_vhost(w->sio), LWS_ADOPT_RAW_FILE_DESC, u,
                                    "perfload-worker", NULL)) {
        worker_log(w, 0, "cannot watch the %s", what);
        return -1;
    }
    return 0;
}

/* [our RAW_FILE protocol, the app's protocols..., terminator]; the engine
 * copies the array, the entries' strings are static. */
static int worker_protocols(struct worker *w, struct lws_protocols *out, size_t max)
{
    size_t n = 0;
    memset(out, 0, sizeof(*out) * max);
    out[n].name = "perfload-worker";
    out[n].callback = worker_lws_callback;
    out[n].user = w;
    n++;
    for (const struct lws_protocols *a = app_lws_protocols(); a && a->name; a++) {
        if (n + 1 >= max)
            return -1;
        out[n++] = *a;
    }
    return 0;
}

static int worker_setup(struct worker *w, struct appliance_stats *stats)
{
    char err[256];
    const struct pl_config *cfg = w->cfg;
    struct lws_protocols protocols[WORKER_MAX_PROTOCOLS];

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* SIGTERM (also PR_SET_PDEATHSIG's) arrives as a readable fd in the
     * loop: no handler races with lws_service(). */
    sigprocmask(SIG_BLOCK, &set, NULL);
    w->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (w->sig_fd < 0) {
        worker_log(w, 0, "signalfd: %s", strerror(errno));
        return -1;
    }
    if (worker_protocols(w, protocols, WORKER_MAX_PROTOCOLS) < 0) {
        worker_log(w, 0, "too many lws protocols");
        return -1;
    }

    struct sio_server_options o;
    memset(&o, 0, sizeof(o));
    o.ping_interval_ms = cfg->ping_interval_ms;
    o.ping_timeout_ms = cfg->ping_timeout_ms;
    o.connect_timeout_ms = cfg->connect_timeout_ms;
    o.max_payload = (size_t)cfg->max_payload;
    o.send_queue_max = (size_t)cfg->send_queue_max;
    o.listen_port = 0;
    o.worker_name = w->name;
    o.stats = w->ws;
    o.log_level = cfg->log_level;
    o.tls_cert_path = cfg->tls_cert;
    o.tls_key_path = cfg->tls_key;
    w->sio = sio_server_create(&o, app_sio_handlers(), protocols, err, sizeof(err));
    if (!w->sio) {
        worker_log(w, 0, "Socket.IO engine: %s", err);
        return -1;
    }
    w->ctx = sio_server_context(w->sio);

    struct app_deps deps = {
        .cfg = cfg,
        .sio = w->sio,
        .ctx = w->ctx,
        .vhost = sio_server_vhost(w->sio),
        .stats = w->ws,
        .worker_slot = w->slot,
    };
    w->app = app_create(&deps, err, sizeof(err));
    if (!w->app) {
        worker_log(w, 0, "application: %s", err);
        return -1;
    }
    if (worker_adopt_raw(w, w->sig_fd, "signal fd") < 0 ||
        worker_adopt_raw(w, w->master_fd, "master socketpair") < 0)
        return -1;
    (void)stats;
    return 0;
}

int worker_run(const struct pl_config *cfg, struct appliance_stats *stats, int slot,
               int master_fd)
{
    struct worker w;
    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.slot = slot;
    w.master_fd = master_fd;
    w.sig_fd = -1;
    w.ws = &stats->workers[slot];
    snprintf(w.name, sizeof(w.name), "%d:%d", slot, (int)getpid());
    snprintf(w.who, sizeof(w.who), "worker %d (pid %d)", slot, (int)getpid());

    /* A respawned worker starts its gauges from zero; counters keep growing. */
    int64_t now = plog_wall_ms();
    atomic_store(&w.ws->pid, (int32_t)getpid());
    atomic_store(&w.ws->started_ms, now);
    atomic_store(&w.ws->heartbeat_ms, now);
    atomic_store(&w.ws->connections, 0);
    atomic_store(&w.ws->agents, 0);
    atomic_store(&w.ws->uis, 0);

    int status = 0;
    if (worker_setup(&w, stats) < 0) {
        status = 1;
    } else {
        worker_log(&w, 2, "ready");
        lws_sul_schedule(w.ctx, 0, &w.tick, worker_on_tick, WORKER_TICK_MS * LWS_US_PER_MS);
        while (!w.done) {
            if (lws_service(w.ctx, 0) < 0)
                break;
            app_turn_end(w.app);
        }
        lws_sul_cancel(&w.tick);
        worker_log(&w, 2, "stopped");
    }

    app_destroy(w.app);
    /* Destroying the context closes the adopted fds (master link, signalfd). */
    if (w.sio) {
        sio_server_destroy(w.sio);
        w.master_fd = w.sig_fd = -1;
    }
    if (w.master_fd >= 0)
        close(w.master_fd);
    if (w.sig_fd >= 0)
        close(w.sig_fd);
    return status;
}

int worker_exec_requested(int argc, char **argv)
{
    return argc > 1 && !strcmp(argv[1], WORKER_SLOT_FLAG);
}

/* A non-negative decimal int, or -1. */
static int worker_parse_num(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > INT_MAX)
        return -1;
    return (int)v;
}

int worker_main(int argc, char **argv)
{
    /* static: worker_run and everything under it keep pointers into it */
    static struct pl_config cfg;
    char err[512];
    if (argc < 7 || strcmp(argv[1], WORKER_SLOT_FLAG) || strcmp(argv[3], WORKER_FD_FLAG) ||
        strcmp(argv[5], WORKER_STATS_FD_FLAG)) {
        fprintf(stderr, "perfload-appliance: malformed worker command line\n");
        return 2;
    }
    int slot = worker_parse_num(argv[2]);
    int master_fd = worker_parse_num(argv[4]);
    int stats_fd = worker_parse_num(argv[6]);
    if (slot < 0 || master_fd < 3 || stats_fd < 3 || master_fd == stats_fd) {
        fprintf(stderr, "perfload-appliance: malformed worker command line\n");
        return 2;
    }
    /* Both fds came through execve without close-on-exec; nothing we run
     * from here may inherit them. */
    fcntl(master_fd, F_SETFD, FD_CLOEXEC);
    fcntl(stats_fd, F_SETFD, FD_CLOEXEC);

    /* The rest is the master's own command line: same flags, same env. */
    argv[6] = argv[0];
    int r = cfg_load(&cfg, argc - 6, argv + 6, err, sizeof(err));
    if (r == 0 && cfg_ensure_keys(&cfg, err, sizeof(err)) < 0)
        r = -1;
    if (r != 0) {
        fprintf(stderr, "perfload-appliance: worker %d: %s\n", slot, r < 0 ? err : "no config");
        return 2;
    }
    struct appliance_stats *stats = stats_attach(stats_fd);
    int saved = errno;
    close(stats_fd);
    if (!stats) {
        fprintf(stderr, "perfload-appliance: worker %d: stats fd: %s\n", slot, strerror(saved));
        close(master_fd);
        return 1;
    }
    if ((uint32_t)slot >= atomic_load(&stats->nworkers)) {
        fprintf(stderr, "perfload-appliance: worker slot %d out of range\n", slot);
        stats_destroy(stats);
        close(master_fd);
        return 2;
    }
    int status = worker_run(&cfg, stats, slot, master_fd);
    stats_destroy(stats);
    return status;
}
