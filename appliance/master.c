/* master.c -- accept, route by client address, hand off, supervise. */
#define _GNU_SOURCE
#include "master.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fdpass.h"
#include "http_server.h"
#include "plog.h"
#include "stats.h"
#include "worker.h"
#include "worker_pick.h"

#define MASTER_HOLD_MS        2000  /* a client fd waits this long for a slot with no worker */
#define MASTER_HOLD_BUSY_MS   10000 /* ... and this long for a live worker that is slow to
                                     * read (a loaded loop during a ramp): about when a
                                     * client's handshake gives up anyway */
#define MASTER_HOLD_MIN       256   /* client fds held per slot, at least ... */
#define MASTER_HOLD_MAX       8192  /* ... and at most; in between, the fd budget decides */
#define MASTER_FD_RESERVE     1024  /* fds kept for the listener, HTTP, pipes, socketpairs */
#define MASTER_PAIR_SNDBUF    (1 << 20) /* asked for on our end of each socketpair: each
                                     * queued message costs ~768 bytes of it, so the
                                     * default 208 KB holds only ~270 hand-offs */
#define MASTER_BACKLOG        65535 /* listen(); the kernel caps it at net.core.somaxconn
                                     * (glibc's SOMAXCONN is 128 on older headers) */
#define MASTER_ACCEPT_BATCH   64    /* accepts per poll round, so signals stay responsive */
#define MASTER_STOP_GRACE_MS  4000  /* SIGTERM -> SIGKILL for workers at shutdown */
#define MASTER_STABLE_MS      10000 /* a worker that lived this long did not crash-loop */
#define MASTER_BACKOFF_MS     250   /* second quick death in a row: wait this, doubling */
#define MASTER_BACKOFF_MAX_MS 8000

struct master_slot {
    pid_t pid;                 /* 0 while the slot has no worker */
    int fd;                    /* master's end of the socketpair; -1 while down */
    int peer_fd;               /* a copy of the worker's end, never read while the worker
                                * lives: when it dies, the connections it had not yet
                                * received are taken back from it (master_reclaim) */
    int64_t started_ms;
    int64_t respawn_at_ms;     /* while down: earliest time to fork again */
    int quick_deaths;          /* deaths in a row within MASTER_STABLE_MS of starting */
    int hung_killed;           /* SIGKILL sent for a stuck loop; cleared on respawn */
    int64_t full_logged_ms;    /* last "queue full" log line: at most one per second */
    /* Client fds waiting for this slot (ring of m->hold_cap): owned by the
     * master until sent (then closed here, the worker has its own copy) or
     * expired. */
    int *held;
    int64_t *held_since;
    int head, count;
};

struct master {
    const struct pl_config *cfg;
    struct appliance_stats *stats;
    int stats_fd;              /* the stats region's memfd, handed to every worker */
    char *cmdline;             /* our own argv as read from /proc/self/cmdline */
    char **exec_argv;          /* [exe, WORKER_SLOT_FLAG, slot, --worker-fd, fd, --stats-fd, fd,
                                *  our argv[1..], NULL]; the three numbers are filled per spawn */
    char **exec_envp;          /* environ + the resolved keys (see master_exec_prepare) */
    char exec_num[3][16];
    struct http_server *http;
    pid_t pid;
    int listen_fd;
    int nslots;
    struct master_slot *slots;
    int hold_cap;              /* ring size of every slot's held[] */
    long nofile;               /* RLIMIT_NOFILE after raising it: workers inherit it */
    int round_robin;           /* --routing round-robin: tests only */
    uint32_t rr_next;
    int64_t accept_paused_until_ms; /* out of fds: stop polling the listener briefly */
    int stopping;
    int64_t stop_deadline_ms;
    int killed;
};

/* Written by the signal handler, read by the poll loop: the classic
 * self-pipe, so a signal wakes poll() whatever the loop was doing. */
static int master_sig_wfd = -1;

static int64_t master_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* master_log(m, level, fmt, ...): one line tagged "master". */
#define master_log(m, level, ...) plog((m)->cfg->log_level, (level), "master", __VA_ARGS__)

static void master_on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (write(master_sig_wfd, &c, 1) < 0) {
        /* pipe full: the loop reaps and checks state anyway */
    }
    errno = saved;
}

/* No SA_RESTART: a blocked syscall returns EINTR instead of hiding the signal. */
static int master_signals(struct master *m, int pipefd[2])
{
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    master_sig_wfd = pipefd[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = master_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    (void)m;
    return 0;
}

static int master_listen(struct master *m, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", m->cfg->port);
    int rc = getaddrinfo(m->cfg->bind_host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--bind %s: %s", m->cfg->bind_host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1, zero = 0;
        /* SO_REUSEADDR lets a restart bind while old connections sit in
         * TIME_WAIT; never SO_REUSEPORT, which would let a second appliance
         * silently share (and break the stickiness of) the port. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, MASTER_BACKLOG) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", m->cfg->bind_host, m->cfg->port,
                 strerror(saved));
        return -1;
    }
    m->listen_fd = fd;
    return 0;
}

/* -- workers ---------------------------------------------------------------- */

/* Reads our own command line once, before any fork, and builds the argv
 * and environment every worker is exec'ed with. The environment adds the
 * keys as the master resolved them (generated ones included), so a worker
 * never generates or prints keys of its own; flags, when given, win with
 * the same values. */
static int master_exec_prepare(struct master *m)
{
    size_t cap = 4096, len = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    m->cmdline = malloc(cap + 1);
    for (;;) {
        if (!m->cmdline)
            break;
        ssize_t r = read(fd, m->cmdline + len, cap - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == cap) {
            char *bigger = realloc(m->cmdline, cap * 2 + 1);
            if (!bigger) {
                free(m->cmdline);
                m->cmdline = NULL;
                break;
            }
            m->cmdline = bigger;
            cap *= 2;
        }
    }
    close(fd);
    if (!m->cmdline || len == 0)
        return -1;
    m->cmdline[len] = '\0';
    int nargs = 0;
    for (size_t i = 0; i < len; i++)
        nargs += m->cmdline[i] == '\0';
    m->exec_argv = calloc((size_t)nargs + 8, sizeof(char *));
    if (!m->exec_argv)
        return -1;
    int n = 0;
    const char *p = m->cmdline;
    m->exec_argv[n++] = (char *)p;     /* argv[0] as the user typed it, for ps */
    m->exec_argv[n++] = WORKER_SLOT_FLAG;
    m->exec_argv[n++] = m->exec_num[0];
    m->exec_argv[n++] = WORKER_FD_FLAG;
    m->exec_argv[n++] = m->exec_num[1];
    m->exec_argv[n++] = WORKER_STATS_FD_FLAG;
    m->exec_argv[n++] = m->exec_num[2];
    for (p += strlen(p) + 1; p < m->cmdline + len; p += strlen(p) + 1)
        m->exec_argv[n++] = (char *)p;
    m->exec_argv[n] = NULL;

    int nenv = 0;   /* environ: unistd.h with _GNU_SOURCE */
    while (environ[nenv])
        nenv++;
    m->exec_envp = calloc((size_t)nenv + 3, sizeof(char *));
    if (!m->exec_envp)
        return -1;
    int k = 0;
    for (int i = 0; i < nenv; i++)
        if (strncmp(environ[i], "PERFLOAD_AGENT_KEY=", 19) && strncmp(environ[i], "PERFLOAD_UI_KEY=", 16))
            m->exec_envp[k++] = environ[i];
    if (asprintf(&m->exec_envp[k++], "PERFLOAD_AGENT_KEY=%s", m->cfg->agent_key) < 0 ||
        asprintf(&m->exec_envp[k++], "PERFLOAD_UI_KEY=%s", m->cfg->ui_key) < 0)
        return -1;
    m->exec_envp[k] = NULL;
    return 0;
}

static void master_exec_free(struct master *m)
{
    if (m->exec_envp) {
        for (int i = 0; m->exec_envp[i]; i++)
            if (!strncmp(m->exec_envp[i], "PERFLOAD_AGENT_KEY=", 19) ||
                !strncmp(m->exec_envp[i], "PERFLOAD_UI_KEY=", 16))
                free(m->exec_envp[i]);
        free(m->exec_envp);
    }
    free(m->exec_argv);
    free(m->cmdline);
}

/* The forked child only makes async-signal-safe calls before execve: the
 * master has libmicrohttpd (and maybe mongoc) threads, and a lock another
 * thread held at fork() time would stay locked forever in a child that went
 * on running the master's image (malloc's arena lock, for one). exec gives
 * the worker a fresh process image instead. */
static void master_child(struct master *m, int fd, const sigset_t *mask)
{
    /* Keep only this slot's socketpair end and the stats memfd: the
     * listener, the other workers' ends, the signal pipe and the HTTP
     * server's sockets are the master's. */
    int lo = fd < m->stats_fd ? fd : m->stats_fd, hi = fd < m->stats_fd ? m->stats_fd : fd;
    if (lo > 3)
        close_range(3, (unsigned)lo - 1, 0);
    if (hi > lo + 1)
        close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
    close_range((unsigned)hi + 1, ~0U, 0);
    if (fcntl(fd, F_SETFD, 0) < 0 || fcntl(m->stats_fd, F_SETFD, 0) < 0)
        _exit(1);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    /* Die with the master (the setting survives execve); if it is already
     * gone, the reparenting happened before prctl and no signal would ever
     * come. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != m->pid)
        _exit(0);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execve("/proc/self/exe", m->exec_argv, m->exec_envp);
    _exit(127);
}

static int master_spawn(struct master *m, int i)
{
    struct master_slot *s = &m->slots[i];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        master_log(m, 0, "worker %d: socketpair: %s", i, strerror(errno));
        return -1;
    }
    snprintf(m->exec_num[0], sizeof(m->exec_num[0]), "%d", i);
    snprintf(m->exec_num[1], sizeof(m->exec_num[1]), "%d", sv[1]);
    snprintf(m->exec_num[2], sizeof(m->exec_num[2]), "%d", m->stats_fd);
    /* Signals stay blocked across fork so the child cannot run the master's
     * handler (and write into the master's pipe) before it resets them. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        master_child(m, sv[1], &old);
    int saved = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        master_log(m, 0, "worker %d: fork: %s", i, strerror(saved));
        return -1;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    int sndbuf = MASTER_PAIR_SNDBUF;   /* best effort: capped at net.core.wmem_max */
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    s->pid = pid;
    s->fd = sv[0];
    s->peer_fd = sv[1];
    s->hung_killed = 0;
    s->started_ms = master_now_ms();
    atomic_store(&m->stats->workers[i].pid, (int32_t)pid);
    master_log(m, 2, "worker %d started (pid %d)", i, (int)pid);
    return 0;
}

static int master_transient(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM || e == ETOOMANYREFS;
}

/* The worker died (or its end refused a send): stop sending to it. Held
 * fds stay held for the next worker. */
static void master_slot_lost(struct master *m, int i)
{
    struct master_slot *s = &m->slots[i];
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/* How long a held fd may wait for slot i: a slot with no worker (or a
 * refused link) gets the short limit, a live worker that reads slowly the
 * long one. */
static int master_hold_ms(const struct master *m, int i)
{
    return m->slots[i].fd >= 0 ? MASTER_HOLD_BUSY_MS : MASTER_HOLD_MS;
}

/* Closes held fds that arrived at or before older_than_ms (INT64_MAX: all). */
static void master_drop_held(struct master *m, int i, int64_t older_than_ms)
{
    struct master_slot *s = &m->slots[i];
    int dropped = 0;
    while (s->count > 0 && s->held_since[s->head] <= older_than_ms) {
        close(s->held[s->head]);
        s->head = (s->head + 1) % m->hold_cap;
        s->count--;
        dropped++;
    }
    if (dropped) {
        atomic_fetch_add(&m->stats->handoff_failed, (uint64_t)dropped);
        if (!m->stopping)
            master_log(m, 1, "worker %d: closed %d waiting connection(s): %s within %d ms", i,
                       dropped, s->fd >= 0 ? "worker did not take them" : "worker not back",
                       master_hold_ms(m, i));
    }
}

/* Sends held fds in order, up to FDPASS_MAX per message, while the worker
 * takes them. */
static void master_flush(struct master *m, int i)
{
    struct master_slot *s = &m->slots[i];
    while (s->count > 0 && s->fd >= 0) {
        int batch[FDPASS_MAX];
        size_t n = 0;
        while (n < FDPASS_MAX && (int)n < s->count) {
            batch[n] = s->held[(s->head + (int)n) % m->hold_cap];
            n++;
        }
        if (fdpass_send_many(s->fd, batch, n) < 0) {
            if (!master_transient(errno))
                master_slot_lost(m, i);
            return;
        }
        for (size_t k = 0; k < n; k++)
            close(batch[k]);
        s->head = (s->head + (int)n) % m->hold_cap;
        s->count -= (int)n;
    }
}

/* Queues cfd for slot i (consumed: closed and counted when the queue is full). */
static void master_hold(struct master *m, int i, int cfd)
{
    struct master_slot *s = &m->slots[i];
    if (s->count == m->hold_cap) {
        close(cfd);
        atomic_fetch_add(&m->stats->handoff_failed, 1);
        if (master_now_ms() - s->full_logged_ms >= 1000) {
            s->full_logged_ms = master_now_ms();
            master_log(m, 1, "worker %d: %d connections already waiting, closing new ones "
                       "(counted in handoff_failed)", i, m->hold_cap);
        }
        return;
    }
    int tail = (s->head + s->count) % m->hold_cap;
    s->held[tail] = cfd;
    s->held_since[tail] = master_now_ms();
    s->count++;
}

/* Accepts a batch, queues each connection for its slot, then sends every
 * slot's queue: a burst goes out as a few multi-fd messages instead of one
 * message per connection, which is what fills a socketpair. */
static void master_accept(struct master *m)
{
    int n;
    for (n = 0; n < MASTER_ACCEPT_BATCH; n++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int cfd = accept4(m->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            /* EMFILE/ENFILE/ENOBUFS: the pending connection stays in the
             * backlog and the listener stays readable; pause instead of spinning. */
            master_log(m, 1, "accept: %s (pausing 100 ms)", strerror(errno));
            m->accept_paused_until_ms = master_now_ms() + 100;
            break;
        }
        atomic_fetch_add(&m->stats->accepted, 1);
        char ip[WORKER_IP_TEXT_MAX];
        if (worker_ip_text((struct sockaddr *)&ss, sl, ip, sizeof(ip)) < 0)
            snprintf(ip, sizeof(ip), "unknown");
        uint32_t slot = m->round_robin ? m->rr_next++ % (uint32_t)m->nslots
                                       : worker_pick(ip, (uint32_t)m->nslots);
        master_log(m, 3, "connection from %s -> worker %u", ip, slot);
        master_hold(m, (int)slot, cfd);
    }
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].count > 0)
            master_flush(m, i);
}

/* Takes back the client fds still queued on a dead worker's end of the
 * socketpair (sent, never received) and holds them for the next worker, so
 * a crash loses only the connections the worker had already taken. */
static void master_reclaim(struct master *m, int i)
{
    struct master_slot *s = &m->slots[i];
    int n = 0;
    if (s->peer_fd < 0)
        return;
    int fds[FDPASS_MAX];
    size_t nfds;
    while (fdpass_recv(s->peer_fd, fds, &nfds) > 0) {
        for (size_t k = 0; k < nfds; k++) {
            if (m->stopping) {
                close(fds[k]);
            } else {
                master_hold(m, i, fds[k]);
                n++;
            }
        }
    }
    close(s->peer_fd);
    s->peer_fd = -1;
    if (n)
        master_log(m, 2, "worker %d: took back %d connection(s) it never received", i, n);
}

static void master_reap(struct master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int i;
        for (i = 0; i < m->nslots && m->slots[i].pid != pid; i++)
            ;
        if (i == m->nslots)
            continue;
        struct master_slot *s = &m->slots[i];
        struct worker_stats *ws = &m->stats->workers[i];
        int64_t now = master_now_ms(), lived = now - s->started_ms;
        char how[64];
        if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
        else
            snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
        master_reclaim(m, i);
        master_slot_lost(m, i);
        s->pid = 0;
        atomic_store(&ws->pid, 0);
        atomic_store(&ws->connections, 0);
        atomic_store(&ws->agents, 0);
        atomic_store(&ws->uis, 0);
        if (m->stopping) {
            master_log(m, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 2 : 1,
                       "worker %d (pid %d) %s", i, (int)pid, how);
            continue;
        }
        /* First death: back at once (the 1 s promise). Deaths in a row soon
         * after starting: 250 ms, 500 ms, ... up to 8 s between attempts. */
        s->quick_deaths = lived < MASTER_STABLE_MS ? s->quick_deaths + 1 : 1;
        int64_t delay = 0;
        if (s->quick_deaths > 1) {
            int shift = s->quick_deaths - 2 > 6 ? 6 : s->quick_deaths - 2;
            delay = (int64_t)MASTER_BACKOFF_MS << shift;
            if (delay > MASTER_BACKOFF_MAX_MS)
                delay = MASTER_BACKOFF_MAX_MS;
        }
        s->respawn_at_ms = now + delay;
        master_log(m, 1, "worker %d (pid %d) %s after %.1f s; respawning in %lld ms", i, (int)pid,
                   how, (double)lived / 1000.0, (long long)delay);
    }
}

/* A worker whose loop stopped ticking (stats heartbeat_ms) is hung: it holds
 * its clients' sessions but serves nothing. Kill it; the reaper respawns
 * it and takes back the connections it never read. */
static void master_check_hung(struct master *m)
{
    int64_t limit = m->cfg->worker_timeout_ms;
    if (limit <= 0 || m->stopping)
        return;
    int64_t now = plog_wall_ms();
    for (int i = 0; i < m->nslots; i++) {
        struct master_slot *s = &m->slots[i];
        int64_t beat = atomic_load(&m->stats->workers[i].heartbeat_ms);
        if (s->pid <= 0 || s->hung_killed || master_now_ms() - s->started_ms < limit ||
            beat <= 0 || now - beat < limit)
            continue;
        master_log(m, 1, "worker %d (pid %d) has not ticked for %lld ms: killing it", i,
                   (int)s->pid, (long long)(now - beat));
        kill(s->pid, SIGKILL);
        s->hung_killed = 1;
    }
}

static void master_respawn_due(struct master *m)
{
    int64_t now = master_now_ms();
    for (int i = 0; i < m->nslots; i++) {
        struct master_slot *s = &m->slots[i];
        if (s->pid != 0 || now < s->respawn_at_ms)
            continue;
        if (master_spawn(m, i) < 0) {
            s->respawn_at_ms = now + MASTER_BACKOFF_MAX_MS / 8;
            continue;
        }
        atomic_fetch_add(&m->stats->respawns, 1);
        master_flush(m, i);
    }
}

/* why: "Terminated", "Interrupt", "HTTP server failed", ... for the log. */
static void master_begin_stop(struct master *m, const char *why)
{
    if (m->stopping) {
        master_log(m, 1, "%s again: killing workers now", why);
        m->stop_deadline_ms = 0;
        return;
    }
    m->stopping = 1;
    m->stop_deadline_ms = master_now_ms() + MASTER_STOP_GRACE_MS;
    master_log(m, 2, "%s: stopping (no new connections, workers disconnect their clients)", why);
    if (m->listen_fd >= 0) {
        close(m->listen_fd);
        m->listen_fd = -1;
    }
    for (int i = 0; i < m->nslots; i++) {
        master_drop_held(m, i, INT64_MAX);
        if (m->slots[i].pid > 0)
            kill(m->slots[i].pid, SIGTERM);
    }
    /* MHD joins its threads here; the workers stop meanwhile. */
    http_server_stop(m->http);
    m->http = NULL;
}

static void master_kill_rest(struct master *m)
{
    for (int i = 0; i < m->nslots; i++) {
        if (m->slots[i].pid > 0) {
            master_log(m, 1, "worker %d (pid %d) still running after %d ms: SIGKILL", i,
                       (int)m->slots[i].pid, MASTER_STOP_GRACE_MS);
            kill(m->slots[i].pid, SIGKILL);
        }
    }
    m->killed = 1;
}

static int master_live_workers(const struct master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        n += m->slots[i].pid > 0;
    return n;
}

/* Milliseconds until the next timed duty (respawn, held fd expiry, accept
 * resume, stop deadline); at most 1 s. */
static int master_timeout(const struct master *m)
{
    int64_t now = master_now_ms(), next = now + 1000;
    for (int i = 0; i < m->nslots; i++) {
        const struct master_slot *s = &m->slots[i];
        if (!m->stopping && s->pid == 0 && s->respawn_at_ms < next)
            next = s->respawn_at_ms;
        if (s->count > 0 && s->held_since[s->head] + master_hold_ms(m, i) < next)
            next = s->held_since[s->head] + master_hold_ms(m, i);
    }
    if (m->accept_paused_until_ms > now && m->accept_paused_until_ms < next)
        next = m->accept_paused_until_ms;
    if (m->stopping && !m->killed && m->stop_deadline_ms < next)
        next = m->stop_deadline_ms;
    return next <= now ? 0 : (int)(next - now);
}

static void master_loop(struct master *m, int sig_rfd)
{
    struct pollfd *pfd = calloc((size_t)m->nslots + 2, sizeof(*pfd));
    int *pslot = calloc((size_t)m->nslots + 2, sizeof(*pslot));
    if (!pfd || !pslot) {
        master_log(m, 0, "out of memory");
        free(pfd);
        free(pslot);
        return;
    }
    while (!m->stopping || master_live_workers(m) > 0) {
        int n = 0, listen_at = -1;
        pfd[n].fd = sig_rfd;
        pfd[n++].events = POLLIN;
        if (m->listen_fd >= 0 && master_now_ms() >= m->accept_paused_until_ms) {
            listen_at = n;
            pfd[n].fd = m->listen_fd;
            pfd[n++].events = POLLIN;
        }
        for (int i = 0; i < m->nslots; i++) {
            if (m->slots[i].fd >= 0 && m->slots[i].count > 0) {
                pslot[n] = i;
                pfd[n].fd = m->slots[i].fd;
                pfd[n++].events = POLLOUT;
            }
        }
        int r = poll(pfd, (nfds_t)n, master_timeout(m));
        if (r < 0 && errno != EINTR) {
            master_log(m, 0, "poll: %s", strerror(errno));
            break;
        }
        if (r > 0 && (pfd[0].revents & POLLIN)) {
            unsigned char sigs[64];
            ssize_t got = read(sig_rfd, sigs, sizeof(sigs));
            for (ssize_t k = 0; k < got; k++)
                if (sigs[k] == SIGTERM || sigs[k] == SIGINT)
                    master_begin_stop(m, strsignal(sigs[k]));
        }
        /* Reap every round: cheap, and immune to coalesced SIGCHLDs. */
        master_reap(m);
        if (r > 0 && listen_at >= 0 && m->listen_fd >= 0 && (pfd[listen_at].revents & POLLIN))
            master_accept(m);
        for (int k = 1; r > 0 && k < n; k++)
            if (k != listen_at && (pfd[k].revents & (POLLOUT | POLLERR | POLLHUP)))
                master_flush(m, pslot[k]);
        /* Respawn before expiring: fds that waited on a slow worker which
         * then died go to its successor, not out with the short limit. */
        if (!m->stopping) {
            master_check_hung(m);
            master_respawn_due(m);
        }
        int64_t now = master_now_ms();
        for (int i = 0; i < m->nslots; i++)
            master_drop_held(m, i, now - master_hold_ms(m, i));
        if (m->stopping && !m->killed && now >= m->stop_deadline_ms)
            master_kill_rest(m);
    }
    free(pfd);
    free(pslot);
}

/* Every connection is an fd in the master for a moment and in a worker
 * for its life: take the whole hard limit before forking, so the workers
 * inherit it (a shell's soft limit is often 1024). */
static void master_raise_nofile(struct master *m)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            master_log(m, 1, "cannot raise the open-file limit to %llu: %s",
                       (unsigned long long)want, strerror(errno));
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    m->nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX ? INT32_MAX : (long)rl.rlim_cur;
}

/* Sizes and allocates every slot's hold ring: what the fd budget allows
 * spread over the slots, within [MASTER_HOLD_MIN, MASTER_HOLD_MAX]. */
static int master_hold_alloc(struct master *m)
{
    long cap = (m->nofile - MASTER_FD_RESERVE) / m->nslots;
    m->hold_cap = cap < MASTER_HOLD_MIN ? MASTER_HOLD_MIN : cap > MASTER_HOLD_MAX ? MASTER_HOLD_MAX : (int)cap;
    for (int i = 0; i < m->nslots; i++) {
        m->slots[i].held = calloc((size_t)m->hold_cap, sizeof(int));
        m->slots[i].held_since = calloc((size_t)m->hold_cap, sizeof(int64_t));
        if (!m->slots[i].held || !m->slots[i].held_since)
            return -1;
    }
    return 0;
}

static void master_hold_free(struct master *m)
{
    for (int i = 0; m->slots && i < m->nslots; i++) {
        free(m->slots[i].held);
        free(m->slots[i].held_since);
    }
}

int master_run(const struct pl_config *cfg)
{
    struct master m;
    char err[256];
    int sigpipe[2] = { -1, -1 };

    memset(&m, 0, sizeof(m));
    m.cfg = cfg;
    m.pid = getpid();
    m.listen_fd = -1;
    m.nslots = cfg->workers;
    m.round_robin = !strcmp(cfg->routing, "round-robin");
    m.stats_fd = -1;
    m.stats = stats_create((uint32_t)m.nslots, &m.stats_fd);
    m.slots = calloc((size_t)m.nslots, sizeof(*m.slots));
    master_raise_nofile(&m);
    if (!m.stats || !m.slots || master_hold_alloc(&m) < 0) {
        master_log(&m, 0, "cannot allocate the shared stats: %s", strerror(errno));
        master_hold_free(&m);
        free(m.slots);
        stats_destroy(m.stats);
        if (m.stats_fd >= 0)
            close(m.stats_fd);
        return 1;
    }
    if (master_exec_prepare(&m) < 0) {
        master_log(&m, 0, "cannot prepare the worker command line: %s", strerror(errno));
        master_exec_free(&m);
        master_hold_free(&m);
        free(m.slots);
        stats_destroy(m.stats);
        close(m.stats_fd);
        return 1;
    }
    for (int i = 0; i < m.nslots; i++)
        m.slots[i].fd = m.slots[i].peer_fd = -1;
    if (master_signals(&m, sigpipe) < 0 || master_listen(&m, err, sizeof(err)) < 0) {
        if (sigpipe[0] < 0)
            snprintf(err, sizeof(err), "signals: %s", strerror(errno));
        master_log(&m, 0, "%s", err);
        master_exec_free(&m);
        master_hold_free(&m);
        free(m.slots);
        stats_destroy(m.stats);
        close(m.stats_fd);
        return 1;
    }
    if (m.round_robin)
        master_log(&m, 1, "--routing round-robin: long-polling clients WILL fail (tests only)");

    /* Workers first, so the first ones are up before the dashboard is; a
     * respawn later forks beside MHD's threads, which exec makes safe. */
    for (int i = 0; i < m.nslots; i++)
        if (master_spawn(&m, i) < 0)
            m.slots[i].respawn_at_ms = master_now_ms() + MASTER_BACKOFF_MS;

    int status = 0;
    m.http = http_server_start(cfg, m.stats, err, sizeof(err));
    if (!m.http) {
        master_log(&m, 0, "HTTP server: %s", err);
        status = 1;
        master_begin_stop(&m, "no HTTP server");
    } else {
        master_log(&m, 2, "open files: %ld per process; up to %d connections wait per worker",
                   m.nofile, m.hold_cap);
        master_log(&m, 2, "listening on %s:%d (Socket.IO, %d worker%s, %s routing), HTTP on %s:%d",
                   cfg->bind_host, cfg->port, m.nslots, m.nslots == 1 ? "" : "s", cfg->routing,
                   cfg->bind_host, cfg->http_port);
    }

    master_loop(&m, sigpipe[0]);

    http_server_stop(m.http);
    for (int i = 0; i < m.nslots; i++) {
        master_drop_held(&m, i, INT64_MAX);
        master_slot_lost(&m, i);
        if (m.slots[i].peer_fd >= 0)
            close(m.slots[i].peer_fd);
    }
    if (m.listen_fd >= 0)
        close(m.listen_fd);
    master_log(&m, 2, "stopped");
    signal(SIGCHLD, SIG_DFL);
    master_sig_wfd = -1;
    close(sigpipe[0]);
    close(sigpipe[1]);
    master_exec_free(&m);
    master_hold_free(&m);
    free(m.slots);
    stats_destroy(m.stats);
    close(m.stats_fd);
    return status;
}
