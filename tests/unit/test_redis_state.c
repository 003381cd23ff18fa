/* test_redis_state.c -- the live state writes against a real redis-server
 * (on a unix socket of its own): which commands each flag sends, the
 * history trimmed only with TRIM, CLIENT REPLY OFF in use and the reply
 * queue still in step with answered commands in between, an error refused
 * without a reply still counted, and the machine set and firstSeen
 * restored after FLUSHALL and after a restart of Redis (the epoch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>
#include <libwebsockets.h>

#include "redis_loop.h"
#include "redis_state.h"
#include "redis_url.h"
#include "stats.h"

#define MAC "aa:bb:cc:00:11:22"
#define HISTORY_LEN 3

struct env {
    char dir[64];
    char sock[96];
    pid_t redis;
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    struct redis_loop *link;
    struct redis_state *st;
    struct worker_stats stats;
    int ups;
    redisContext *cli;           /* the test's own synchronous view */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void redis_start(struct env *e)
{
    e->redis = fork();
    assert_true(e->redis >= 0);
    if (e->redis == 0) {
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", e->sock, "--save", "",
               "--appendonly", "no", "--loglevel", "warning", "--logfile", "/dev/null",
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct stat sb;
        if (stat(e->sock, &sb) == 0)
            return;
        usleep(10000);
    }
    fail_msg("redis-server did not create %s", e->sock);
}

static void redis_stop(struct env *e)
{
    if (e->redis > 0) {
        kill(e->redis, SIGTERM);
        waitpid(e->redis, NULL, 0);
        e->redis = 0;
    }
    unlink(e->sock);
}

static redisContext *cli_connect(struct env *e)
{
    redisContext *c = redisConnectUnix(e->sock);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    return c;
}

/* One command on the test's own connection; the reply as a long long
 * (integers) or -1 for nil / anything else; *text gets a string reply. */
static long long cli(struct env *e, char *text, size_t textlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(e->cli, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    long long v = -1;
    if (r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    if (text != NULL && textlen > 0) {
        text[0] = '\0';
        if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
            snprintf(text, textlen, "%s", r->str);
    }
    freeReplyObject(r);
    return v;
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    struct env *e = lws_container_of(sul, struct env, tick);
    lws_sul_schedule(e->ctx, 0, &e->tick, tick_cb, 10 * LWS_US_PER_MS);
}

static void on_up(struct redis_loop *rl, void *user) { ((struct env *)user)->ups++; }

/* Services the loop for ms milliseconds. */
static void spin(struct env *e, int ms)
{
    long long end = now_ms() + ms;
    while (now_ms() < end) {
        if (lws_service(e->ctx, 0) < 0)
            break;
        usleep(1000);
    }
}

static int spin_until_up(struct env *e, int want_ups, int ms)
{
    long long end = now_ms() + ms;
    while (e->ups < want_ups && now_ms() < end) {
        lws_service(e->ctx, 0);
        usleep(1000);
    }
    return e->ups >= want_ups && redis_loop_up(e->link);
}

static int env_teardown(void **state);

static int env_setup(void **state)
{
    static struct lws_protocols protocols[2];
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->dir, sizeof(e->dir), "/tmp/test_redis_state.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->sock, sizeof(e->sock), "%s/redis.sock", e->dir);
    redis_start(e);
    e->cli = cli_connect(e);

    protocols[0] = *redis_loop_protocol();
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    lws_set_log_level(LLL_ERR, NULL);
    e->ctx = lws_create_context(&info);
    assert_non_null(e->ctx);
    lws_sul_schedule(e->ctx, 0, &e->tick, tick_cb, 10 * LWS_US_PER_MS);

    char url_text[128], err[128];
    struct redis_url url;
    snprintf(url_text, sizeof(url_text), "unix://%s", e->sock);
    assert_int_equal(redis_url_parse(url_text, &url, err, sizeof(err)), 0);
    struct redis_loop_options lo = {
        .ctx = e->ctx,
        .vhost = lws_get_vhost_by_name(e->ctx, "default"),
        .url = &url,
        .who = "test",
        .name = "redis",
        .on_up = on_up,
        .user = e,
        .stats = &e->stats,
        .log_level = -1,
    };
    e->link = redis_loop_create(&lo);
    assert_non_null(e->link);
    struct redis_state_options so = {
        .link = e->link,
        .prefix = "t:",
        .history_len = HISTORY_LEN,
        .who = "test",
        .stats = &e->stats,
        .log_level = -1,
    };
    e->st = redis_state_create(&so);
    assert_non_null(e->st);
    *state = e;
    if (!spin_until_up(e, 1, 3000)) {
        print_error("the link to %s never came up\n", e->sock);
        env_teardown(state);
        return -1;
    }
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;
    redis_state_destroy(e->st);
    redis_loop_destroy(e->link);
    lws_context_destroy(e->ctx);
    if (e->cli != NULL)
        redisFree(e->cli);
    redis_stop(e);
    rmdir(e->dir);
    free(e);
    return 0;
}

/* One sample of MAC at ts with the given flags; waits until Redis has it
 * (an answered PING on the same link comes back after it). */
static void sample(struct env *e, int64_t ts, unsigned flags)
{
    char json[96], hist[64];
    int jl = snprintf(json, sizeof(json), "{\"macA\":\"%s\",\"ts\":%lld}", MAC, (long long)ts);
    int hl = snprintf(hist, sizeof(hist), "{\"ts\":%lld}", (long long)ts);
    assert_int_equal(redis_state_sample_flags(e->st, MAC, json, (size_t)jl, hist, (size_t)hl, ts,
                                              flags),
                     0);
}

static int pong;
static void on_pong(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply *reply = r;
    if (reply != NULL && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0)
        pong++;
}

/* Everything queued so far has been executed by Redis. */
static void settle(struct env *e)
{
    const char *argv[1] = { "PING" };
    size_t len[1] = { 4 };
    int want = pong + 1;
    assert_int_equal(redis_loop_command_argv(e->link, on_pong, NULL, 1, argv, len), 0);
    long long end = now_ms() + 3000;
    while (pong < want && now_ms() < end) {
        lws_service(e->ctx, 0);
        usleep(500);
    }
    assert_int_equal(pong, want);
}

static void test_flags_choose_the_commands(void **state)
{
    struct env *e = *state;
    char text[128];

    assert_int_equal(redis_loop_replies_off(e->link), 1);   /* a real Redis honours it */
    sample(e, 1000, REDIS_STATE_FIRST | REDIS_STATE_TRIM);
    settle(e);
    assert_int_equal(cli(e, NULL, 0, "SISMEMBER t:machines %s", MAC), 1);
    cli(e, text, sizeof(text), "HGET t:machine:%s firstSeen", MAC);
    assert_string_equal(text, "1000");
    cli(e, text, sizeof(text), "HGET t:machine:%s active", MAC);
    assert_string_equal(text, "1");
    cli(e, text, sizeof(text), "ZSCORE t:alive %s", MAC);
    assert_string_equal(text, "1000");

    /* Without FIRST: no SADD, no HSETNX (removed by hand, they stay gone). */
    cli(e, NULL, 0, "SREM t:machines %s", MAC);
    cli(e, NULL, 0, "HDEL t:machine:%s firstSeen", MAC);
    for (int i = 1; i <= 5; i++)
        sample(e, 1000 + i, 0);
    settle(e);
    assert_int_equal(cli(e, NULL, 0, "SISMEMBER t:machines %s", MAC), 0);
    assert_int_equal(cli(e, NULL, 0, "HEXISTS t:machine:%s firstSeen", MAC), 0);
    cli(e, text, sizeof(text), "HGET t:machine:%s lastSeen", MAC);
    assert_string_equal(text, "1005");
    cli(e, text, sizeof(text), "ZSCORE t:alive %s", MAC);
    assert_string_equal(text, "1005");
    /* Without TRIM the list grows past history_len ... */
    assert_int_equal(cli(e, NULL, 0, "LLEN t:history:%s", MAC), 6);
    /* ... and TRIM brings it back, newest first. */
    sample(e, 1006, REDIS_STATE_TRIM);
    settle(e);
    assert_int_equal(cli(e, NULL, 0, "LLEN t:history:%s", MAC), HISTORY_LEN);
    cli(e, text, sizeof(text), "LINDEX t:history:%s 0", MAC);
    assert_string_equal(text, "{\"ts\":1006}");
    assert_int_equal(cli(e, NULL, 0, "SISMEMBER t:machines %s", MAC), 0);
    /* FIRST puts back what was missing, and keeps an existing firstSeen. */
    sample(e, 1007, REDIS_STATE_FIRST);
    settle(e);
    assert_int_equal(cli(e, NULL, 0, "SISMEMBER t:machines %s", MAC), 1);
    cli(e, text, sizeof(text), "HGET t:machine:%s firstSeen", MAC);
    assert_string_equal(text, "1007");
    sample(e, 1008, REDIS_STATE_FIRST);
    settle(e);
    cli(e, text, sizeof(text), "HGET t:machine:%s firstSeen", MAC);
    assert_string_equal(text, "1007");
    assert_int_equal(atomic_load(&e->stats.redis_errors), 0);
}

/* The policy the app follows: FIRST|TRIM on a machine's first sample of an
 * epoch, TRIM every REDIS_STATE_TRIM_EVERY samples after. */
static void test_next_flags(void **state)
{
    struct env *e = *state;
    struct redis_state_mark mk = { 0, 0 };

    assert_int_equal(redis_state_next_flags(e->st, &mk), REDIS_STATE_FIRST | REDIS_STATE_TRIM);
    int trims = 0;
    for (int i = 1; i <= 3 * REDIS_STATE_TRIM_EVERY; i++) {
        unsigned f = redis_state_next_flags(e->st, &mk);
        assert_int_equal(f & REDIS_STATE_FIRST, 0);
        if (f & REDIS_STATE_TRIM) {
            assert_int_equal(i % REDIS_STATE_TRIM_EVERY, 0);
            trims++;
        }
    }
    assert_int_equal(trims, 3);
    redis_state_mark_failed(&mk);
    assert_int_equal(redis_state_next_flags(e->st, &mk), REDIS_STATE_FIRST | REDIS_STATE_TRIM);
    assert_int_equal(redis_state_next_flags(e->st, &mk), 0);
}

static int snap_n = -1;
static char snap_sample[128];
static void on_snapshot(int status, const struct redis_state_machine *ms, size_t n, void *user)
{
    snap_n = status == 0 ? (int)n : -2;
    snap_sample[0] = '\0';
    if (n > 0)
        snprintf(snap_sample, sizeof(snap_sample), "%.*s", (int)ms[0].len, ms[0].sample);
}

/* Unanswered writes and answered requests interleaved on one link: every
 * answer must reach its own callback (hiredis keeps one entry per reply). */
static void test_answers_stay_in_step(void **state)
{
    struct env *e = *state;
    struct redis_state_mark mk = { 0, 0 };
    char want[128];

    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 5; i++) {
            int64_t ts = 2000 + round * 10 + i;
            sample(e, ts, redis_state_next_flags(e->st, &mk));
        }
        snap_n = -1;
        assert_int_equal(redis_state_snapshot(e->st, on_snapshot, NULL), 0);
        long long end = now_ms() + 2000;
        while (snap_n == -1 && now_ms() < end) {
            lws_service(e->ctx, 0);
            usleep(200);
        }
        assert_int_equal(snap_n, 1);
        snprintf(want, sizeof(want), "{\"macA\":\"%s\",\"ts\":%d}", MAC, 2000 + round * 10 + 4);
        assert_string_equal(snap_sample, want);
    }
    settle(e);
    assert_true(redis_loop_up(e->link));
    assert_true(cli(e, NULL, 0, "LLEN t:history:%s", MAC) < HISTORY_LEN + REDIS_STATE_TRIM_EVERY);
    assert_int_equal(atomic_load(&e->stats.redis_errors), 0);
}

/* A write Redis refuses (WRONGTYPE) while replies are off is still seen:
 * the answered sample of the next second counts it. */
static void test_refused_write_still_counted(void **state)
{
    struct env *e = *state;

    sample(e, 2999, REDIS_STATE_FIRST);     /* answered, like the first of each second */
    sample(e, 2999, 0);
    settle(e);
    cli(e, NULL, 0, "SET t:history:%s not-a-list", MAC);
    long long end = now_ms() + 3000;
    int64_t ts = 3000;
    while (atomic_load(&e->stats.redis_errors) == 0 && now_ms() < end) {
        sample(e, ts++, 0);
        spin(e, 50);
    }
    assert_true(atomic_load(&e->stats.redis_errors) > 0);
    assert_true(ts - 3000 > 1);         /* not every sample was answered */
    cli(e, NULL, 0, "DEL t:history:%s", MAC);
}

/* Samples of a machine as the app sends them (flags from its mark) for up
 * to ms, until the machine set and firstSeen are back. */
static int restored_within(struct env *e, struct redis_state_mark *mk, int64_t *ts, int ms)
{
    long long end = now_ms() + ms;
    while (now_ms() < end) {
        if (redis_loop_up(e->link))
            sample(e, (*ts)++, redis_state_next_flags(e->st, mk));
        spin(e, 100);
        if (cli(e, NULL, 0, "SISMEMBER t:machines %s", MAC) == 1 &&
            cli(e, NULL, 0, "HEXISTS t:machine:%s firstSeen", MAC) == 1)
            return 1;
    }
    return 0;
}

static void test_flushall_restored(void **state)
{
    struct env *e = *state;
    struct redis_state_mark mk = { 0, 0 };
    int64_t ts = 4000;

    assert_true(restored_within(e, &mk, &ts, 1000));
    unsigned ep = redis_state_epoch(e->st);
    assert_true(ep != 0);
    cli(e, NULL, 0, "FLUSHALL");
    /* The answered sample of the next second finds its hash gone. */
    assert_true(restored_within(e, &mk, &ts, 4000));
    assert_true(redis_state_epoch(e->st) != ep);
    assert_int_equal(atomic_load(&e->stats.redis_errors), 0);
}

static void test_restart_restored(void **state)
{
    struct env *e = *state;
    struct redis_state_mark mk = { 0, 0 };
    int64_t ts = 5000;

    assert_true(restored_within(e, &mk, &ts, 1000));
    unsigned ep = redis_state_epoch(e->st);
    redisFree(e->cli);
    e->cli = NULL;
    redis_stop(e);                  /* an empty Redis comes back: no persistence */
    spin(e, 300);
    assert_int_equal(redis_state_epoch(e->st), 0);
    redis_start(e);
    e->cli = cli_connect(e);
    assert_true(spin_until_up(e, 2, 5000));
    assert_true(redis_state_epoch(e->st) != ep);
    /* The very next sample is FIRST. */
    sample(e, ts++, redis_state_next_flags(e->st, &mk));
    settle(e);
    assert_int_equal(cli(e, NULL, 0, "SISMEMBER t:machines %s", MAC), 1);
    assert_int_equal(cli(e, NULL, 0, "HEXISTS t:machine:%s firstSeen", MAC), 1);
    assert_int_equal(redis_loop_replies_off(e->link), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flags_choose_the_commands, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_next_flags, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_answers_stay_in_step, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_refused_write_still_counted, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_flushall_restored, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_restart_restored, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
