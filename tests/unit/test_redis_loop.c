/* test_redis_loop.c -- the hiredis <-> libwebsockets adapter against a tiny
 * fake Redis on loopback (a thread speaking just enough RESP): connect and
 * commands, AUTH and SELECT first, a refused password retried without
 * flapping up, a dropped connection reported and re-established, pending
 * callbacks answered with NULL on destroy, a host name looked up off the
 * loop, an unreachable server, the CLIENT REPLY probe refusing a server that
 * answers everything, the epoch. (Replies off against a real redis-server:
 * test_redis_state.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "redis_loop.h"
#include "redis_url.h"

/* -- the fake Redis ---------------------------------------------------------- */

struct fake {
    int listen_fd;
    int port;
    const char *password;      /* AUTH must give this */
    _Atomic int accepts;
    _Atomic int selects;       /* SELECT commands seen */
    _Atomic int close_now;     /* set: drop the current connection */
    _Atomic int stop;
    pthread_t thread;
};

/* Parses one RESP array of bulk strings from buf[0..len); returns bytes used
 * (0 = need more), fills argv (pointers into buf, NUL-terminated in place). */
static size_t fake_parse(char *buf, size_t len, char **argv, int *argc)
{
    char *p = buf, *end = buf + len;
    if (len < 4 || *p != '*')
        return 0;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        return 0;
    int n = atoi(p + 1);
    p = nl + 1;
    for (int i = 0; i < n && i < 8; i++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL || *p != '$')
            return 0;
        size_t alen = (size_t)atol(p + 1);
        p = nl + 1;
        if ((size_t)(end - p) < alen + 2)
            return 0;
        argv[i] = p;
        p[alen] = '\0';
        p += alen + 2;
    }
    *argc = n;
    return (size_t)(p - buf);
}

static void fake_reply(struct fake *f, int fd, int argc, char **argv, int *hung)
{
    const char *r = "+OK\r\n";
    char buf[256];
    if (argc >= 1 && strcasecmp(argv[0], "AUTH") == 0)
        r = strcmp(argv[argc - 1], f->password) == 0 ? "+OK\r\n" : "-WRONGPASS invalid password\r\n";
    else if (argc >= 1 && strcasecmp(argv[0], "SELECT") == 0)
        atomic_fetch_add(&f->selects, 1);
    else if (argc >= 1 && strcasecmp(argv[0], "PING") == 0)
        r = "+PONG\r\n";
    else if (argc >= 2 && strcasecmp(argv[0], "ECHO") == 0) {
        snprintf(buf, sizeof(buf), "$%zu\r\n%s\r\n", strlen(argv[1]), argv[1]);
        r = buf;
    } else if (argc >= 1 && strcasecmp(argv[0], "HANG") == 0) {
        *hung = 1;   /* like a blocked Redis: nothing is answered after this */
    }
    if (*hung)
        return;
    if (write(fd, r, strlen(r)) < 0)
        return;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->stop)) {
        int fd = accept(f->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&f->accepts, 1);
        struct timeval tv = { 0, 20000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[8192];
        size_t have = 0;
        int hung = 0;
        while (!atomic_load(&f->stop) && !atomic_load(&f->close_now)) {
            ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
            if (n == 0)
                break;
            if (n < 0)
                continue;
            have += (size_t)n;
            for (;;) {
                char *argv[8];
                int argc = 0;
                size_t used = fake_parse(buf, have, argv, &argc);
                if (used == 0)
                    break;
                fake_reply(f, fd, argc, argv, &hung);
                memmove(buf, buf + used, have - used);
                have -= used;
            }
        }
        atomic_store(&f->close_now, 0);
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f, const char *password)
{
    memset(f, 0, sizeof(*f));
    f->password = password;
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->listen_fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    getsockname(f->listen_fd, (struct sockaddr *)&a, &alen);
    f->port = ntohs(a.sin_port);
    assert_int_equal(listen(f->listen_fd, 8), 0);
    struct timeval tv = { 0, 50000 };
    setsockopt(f->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
}

/* -- the loop under test ------------------------------------------------------ */

struct harness {
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    int ups, downs;
    int replies, null_replies;
    char last[64];
};

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    struct harness *h = lws_container_of(sul, struct harness, tick);
    lws_sul_schedule(h->ctx, 0, &h->tick, tick_cb, 10 * LWS_US_PER_MS);
}

static void on_up(struct redis_loop *rl, void *user) { ((struct harness *)user)->ups++; }
static void on_down(struct redis_loop *rl, void *user) { ((struct harness *)user)->downs++; }

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct harness *h = privdata;
    redisReply *reply = r;
    if (reply == NULL) {
        h->null_replies++;
        return;
    }
    h->replies++;
    snprintf(h->last, sizeof(h->last), "%s", reply->str ? reply->str : "");
}

static void harness_init(struct harness *h)
{
    static struct lws_protocols protocols[2];
    memset(h, 0, sizeof(*h));
    protocols[0] = *redis_loop_protocol();
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    lws_set_log_level(LLL_ERR, NULL);
    h->ctx = lws_create_context(&info);
    assert_non_null(h->ctx);
    lws_sul_schedule(h->ctx, 0, &h->tick, tick_cb, 10 * LWS_US_PER_MS);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Services the loop until *flag reaches want or ms pass (wall clock: one
 * lws_service round may return at once or wait for the 10 ms tick);
 * returns 1 if reached. */
static int spin_until(struct harness *h, const int *flag, int want, int ms)
{
    long long end = now_ms() + ms;
    while (*flag < want && now_ms() < end) {
        if (lws_service(h->ctx, 0) < 0)
            break;
        usleep(1000);
    }
    return *flag >= want;
}

static void spin_for(struct harness *h, int ms)
{
    int never = 0;
    spin_until(h, &never, 1, ms);
}

static struct redis_loop *link_to_opts(struct harness *h, const char *url_text, int watchdog,
                                       int turn_flush);

static struct redis_loop *link_to(struct harness *h, const char *url_text, int watchdog)
{
    return link_to_opts(h, url_text, watchdog, 0);
}

static struct redis_loop *link_to_opts(struct harness *h, const char *url_text, int watchdog,
                                       int turn_flush)
{
    struct redis_url url;
    char err[128];
    assert_int_equal(redis_url_parse(url_text, &url, err, sizeof(err)), 0);
    struct redis_loop_options o = {
        .ctx = h->ctx,
        .vhost = lws_get_vhost_by_name(h->ctx, "default"),
        .url = &url,
        .who = "test",
        .name = "redis",
        .on_up = on_up,
        .on_down = on_down,
        .user = h,
        .watchdog = watchdog,
        .turn_flush = turn_flush,
        .log_level = -1,
    };
    struct redis_loop *rl = redis_loop_create(&o);
    assert_non_null(rl);
    return rl;
}

/* A fake server requiring `password`, the loop, and a link to it with
 * `creds` ("" or ":pw@") before the host and `db` ("" or "/N") after. */
static struct redis_loop *setup(struct fake *f, struct harness *h, const char *password,
                                const char *creds, const char *db, int watchdog)
{
    char url[128];
    fake_start(f, password);
    harness_init(h);
    snprintf(url, sizeof(url), "redis://%s127.0.0.1:%d%s", creds, f->port, db);
    return link_to(h, url, watchdog);
}

static void teardown(struct redis_loop *rl, struct harness *h, struct fake *f)
{
    redis_loop_destroy(rl);
    lws_context_destroy(h->ctx);
    fake_stop(f);
}

/* Queues a command the fake never answers (nor anything after it). */
static void hang(struct redis_loop *rl, struct harness *h)
{
    const char *argv[1] = { "HANG" };
    size_t len[1] = { 4 };
    assert_int_equal(redis_loop_command_argv(rl, on_reply, h, 1, argv, len), 0);
}

static int echo(struct redis_loop *rl, struct harness *h, const char *text)
{
    const char *argv[2] = { "ECHO", text };
    size_t len[2] = { 4, strlen(text) };
    return redis_loop_command_argv(rl, on_reply, h, 2, argv, len);
}

static void test_connect_command_auth_select(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    struct redis_loop *rl = setup(&f, &h, "s3cret", ":s3cret@", "/4", 0);
    assert_false(redis_loop_up(rl));
    assert_int_equal(echo(rl, &h, "early"), -1);    /* down: refused, callback never called */
    assert_true(spin_until(&h, &h.ups, 1, 2000));
    assert_true(redis_loop_up(rl));
    assert_int_equal(atomic_load(&f.selects), 1);   /* SELECT came before "up" */
    assert_int_equal(echo(rl, &h, "hello"), 0);
    assert_int_equal(echo(rl, &h, "world"), 0);
    assert_true(spin_until(&h, &h.replies, 2, 2000));
    assert_string_equal(h.last, "world");
    assert_int_equal(h.null_replies, 0);
    teardown(rl, &h, &f);
    assert_int_equal(h.ups, 1);
    assert_int_equal(h.downs, 0);   /* destroy is not an outage */
}

static void test_wrong_password_never_up(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    struct redis_loop *rl = setup(&f, &h, "right", ":wrong@", "", 0);
    spin_for(&h, 800);
    assert_int_equal(h.ups, 0);
    assert_false(redis_loop_up(rl));
    assert_true(atomic_load(&f.accepts) >= 2);   /* it keeps retrying, with backoff */
    assert_true(atomic_load(&f.accepts) <= 6);
    teardown(rl, &h, &f);
}

static void test_dropped_and_back(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    struct redis_loop *rl = setup(&f, &h, "", "", "", 0);
    assert_true(spin_until(&h, &h.ups, 1, 2000));
    hang(rl, &h);
    spin_for(&h, 100);
    atomic_store(&f.close_now, 1);                 /* the server drops us */
    assert_true(spin_until(&h, &h.downs, 1, 2000));
    assert_int_equal(h.null_replies, 1);           /* the pending command got NULL */
    assert_true(spin_until(&h, &h.ups, 2, 3000));  /* and it came back by itself */
    assert_int_equal(echo(rl, &h, "again"), 0);
    assert_true(spin_until(&h, &h.replies, 1, 2000));
    assert_string_equal(h.last, "again");
    teardown(rl, &h, &f);
}

static void test_destroy_answers_pending_with_null(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    struct redis_loop *rl = setup(&f, &h, "", "", "", 0);
    assert_true(spin_until(&h, &h.ups, 1, 2000));
    for (int i = 0; i < 3; i++)
        hang(rl, &h);
    spin_for(&h, 50);
    redis_loop_destroy(rl);
    assert_int_equal(h.null_replies, 3);
    assert_int_equal(h.downs, 0);
    lws_context_destroy(h.ctx);
    fake_stop(&f);
}

static void test_watchdog_drops_a_silent_server(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    struct redis_loop *rl = setup(&f, &h, "", "", "", 1);
    assert_true(spin_until(&h, &h.ups, 1, 2000));
    /* A command the server never answers holds the PING behind it. */
    hang(rl, &h);
    spin_for(&h, 3000);
    assert_int_equal(h.downs, 0);                  /* not before 5 s */
    assert_true(spin_until(&h, &h.downs, 1, 5000));
    assert_int_equal(h.null_replies, 1);
    teardown(rl, &h, &f);
}

static void test_host_name_resolved_off_the_loop(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    /* "localhost" is looked up on a thread, then connected to by address. */
    struct redis_loop *rl = setup(&f, &h, "", "", "", 0);
    redis_loop_destroy(rl);
    char url[64];
    snprintf(url, sizeof(url), "redis://localhost:%d", f.port);
    rl = link_to(&h, url, 0);
    assert_true(spin_until(&h, &h.ups, 1, 3000));
    assert_int_equal(echo(rl, &h, "named"), 0);
    assert_true(spin_until(&h, &h.replies, 1, 2000));
    assert_string_equal(h.last, "named");
    redis_loop_destroy(rl);
    /* Destroyed while its lookup may still run: the thread cleans up. */
    rl = link_to(&h, url, 0);
    redis_loop_destroy(rl);
    spin_for(&h, 200);
    lws_context_destroy(h.ctx);
    fake_stop(&f);
}

static void test_unreachable(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    char url[128];
    fake_start(&f, "");
    int port = f.port;
    fake_stop(&f);                                 /* nothing listens there now */
    harness_init(&h);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    struct redis_loop *rl = link_to(&h, url, 1);
    spin_for(&h, 500);
    assert_int_equal(h.ups, 0);
    assert_int_equal(h.downs, 0);
    assert_int_equal(echo(rl, &h, "x"), -1);
    redis_loop_destroy(rl);
    lws_context_destroy(h.ctx);
    assert_int_equal(h.replies + h.null_replies, 0);
}

/* The fake answers CLIENT REPLY OFF like a proxy or an old server would
 * (it answers everything): the probe must notice, never switch replies
 * off, and noreply commands then behave as answered ones. */
/* A turn_flush link writes what a turn queued when its owner flushes, not
 * on a WRITEABLE: without the flush nothing leaves, after it the replies
 * come. */
static void test_turn_flush(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    char url[64];
    fake_start(&f, NULL);
    harness_init(&h);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", f.port);
    struct redis_loop *rl = link_to_opts(&h, url, 0, 1);
    assert_true(spin_until(&h, &h.ups, 1, 2000));
    assert_int_equal(echo(rl, &h, "one"), 0);
    assert_int_equal(echo(rl, &h, "two"), 0);
    spin_for(&h, 100);
    assert_int_equal(h.replies, 0);                 /* queued, not written */
    redis_loop_flush(rl);
    assert_true(spin_until(&h, &h.replies, 2, 2000));
    assert_string_equal(h.last, "two");
    redis_loop_flush(rl);                           /* nothing queued: a no-op */
    assert_int_equal(echo(rl, &h, "three"), 0);
    redis_loop_flush(rl);
    assert_true(spin_until(&h, &h.replies, 3, 2000));
    assert_string_equal(h.last, "three");
    teardown(rl, &h, &f);
}

static void test_no_reply_off_on_a_server_that_answers_everything(void **state)
{
    (void)state;
    struct fake f;
    struct harness h;
    struct redis_loop *rl = setup(&f, &h, "", "", "", 0);
    assert_true(spin_until(&h, &h.ups, 1, 2000));
    assert_int_equal(redis_loop_replies_off(rl), 0);
    unsigned ep = redis_loop_epoch(rl);
    assert_true(ep != 0);
    const char *argv[2] = { "ECHO", "quiet" };
    size_t len[2] = { 4, 5 };
    assert_int_equal(redis_loop_command_noreply(rl, on_reply, &h, 2, argv, len), 0);
    assert_int_equal(echo(rl, &h, "loud"), 0);
    assert_true(spin_until(&h, &h.replies, 2, 2000));
    assert_string_equal(h.last, "loud");
    /* A new connection is a new epoch. */
    atomic_store(&f.close_now, 1);
    assert_true(spin_until(&h, &h.downs, 1, 2000));
    assert_int_equal(redis_loop_epoch(rl), 0);
    assert_true(spin_until(&h, &h.ups, 2, 3000));
    assert_true(redis_loop_epoch(rl) != 0 && redis_loop_epoch(rl) != ep);
    teardown(rl, &h, &f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_command_auth_select),
        cmocka_unit_test(test_wrong_password_never_up),
        cmocka_unit_test(test_dropped_and_back),
        cmocka_unit_test(test_destroy_answers_pending_with_null),
        cmocka_unit_test(test_watchdog_drops_a_silent_server),
        cmocka_unit_test(test_host_name_resolved_off_the_loop),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_turn_flush),
        cmocka_unit_test(test_no_reply_off_on_a_server_that_answers_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
