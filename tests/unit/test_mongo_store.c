/* test_mongo_store.c -- the Mongo writer's promises that need no server:
 * off when the URL is empty, a clear error for a bad URL, and with Mongo
 * unreachable the event-loop calls never block, only copy the caller's
 * text, the queue stays bounded in entries and in bytes, the oldest samples
 * are dropped and counted, a text that makes no document is dropped by the
 * writer instead of retried, and destroy is bounded. (What reaches a real
 * server: tests/integration/mongo.test.mjs; the documents themselves:
 * test_mongo_doc.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "mongo_store.h"
#include "sample.h"
#include "stats.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void base_cfg(struct pl_config *cfg, const char *url, int queue_max)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->mongo_url, sizeof(cfg->mongo_url), "%s", url);
    snprintf(cfg->mongo_db, sizeof(cfg->mongo_db), "perfload_unit");
    cfg->mongo_queue_max = queue_max;
    cfg->retention_days = 7;
}

static const char SAMPLE[] = "{\"macA\":\"aa:bb:cc:dd:ee:ff\",\"cpuLoad\":12.5,\"memUsage\":0.5,"
                             "\"totalMem\":8e9,\"osType\":\"Linux\",\"$evil\":1,\"isActive\":true}";

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Polls until the queue depth is want (the writer settles on its own
 * clock); 1 when it got there within timeout_ms. */
static int wait_depth(struct worker_stats *st, int64_t want, long timeout_ms)
{
    for (long waited = 0; waited < timeout_ms; waited += 20) {
        if (st->mongo_queue_depth == want)
            return 1;
        sleep_ms(20);
    }
    return st->mongo_queue_depth == want;
}

static struct mongo_store *unreachable_store(struct worker_stats *st, int queue_max)
{
    struct pl_config cfg;
    char err[256];
    memset(st, 0, sizeof(*st));
    /* Port 1 on loopback: connection refused at once. */
    base_cfg(&cfg, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", queue_max);
    struct mongo_store *ms = mongo_store_create(&cfg, st, err, sizeof(err));
    assert_non_null(ms);
    return ms;
}

static void test_empty_url_is_off(void **state)
{
    (void)state;
    struct pl_config cfg;
    struct worker_stats st;
    char err[256] = "junk";
    memset(&st, 0, sizeof(st));
    base_cfg(&cfg, "", 10);
    assert_null(mongo_store_create(&cfg, &st, err, sizeof(err)));
    assert_string_equal(err, "");
    assert_int_equal(st.mongo_up, -1);
    /* The app may call these with a NULL store (Mongo off): no crash. */
    assert_int_equal(mongo_store_sample_json(NULL, SAMPLE, strlen(SAMPLE), 1), -1);
    assert_int_equal(mongo_store_machine_json(NULL, SAMPLE, strlen(SAMPLE), 1, 1), -1);
    assert_int_equal(mongo_store_machine_active(NULL, "aa:bb", 0, 1), -1);
    mongo_store_destroy(NULL);
}

static void test_bad_url_is_an_error(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256] = "";
    base_cfg(&cfg, "http://not-mongo", 10);
    assert_null(mongo_store_create(&cfg, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "Mongo URL"));
}

static void test_unreachable_never_blocks_and_drops_oldest(void **state)
{
    (void)state;
    struct worker_stats st;
    struct mongo_store *ms = unreachable_store(&st, 50);

    /* The caller's buffer is free to reuse the moment a call returns. */
    char buf[sizeof(SAMPLE)];
    int64_t t0 = now_ms();
    memcpy(buf, SAMPLE, sizeof(SAMPLE));
    assert_int_equal(mongo_store_machine_json(ms, buf, strlen(buf), 1, 1000), 0);
    memset(buf, 'x', sizeof(buf));
    for (int i = 0; i < 500; i++) {
        memcpy(buf, SAMPLE, sizeof(SAMPLE));
        assert_int_equal(mongo_store_sample_json(ms, buf, strlen(buf), 1000 + i), 0);
        memset(buf, 'x', sizeof(buf));
    }
    assert_int_equal(mongo_store_machine_active(ms, "aa:bb:cc:dd:ee:ff", 0, 2000), 0);
    int64_t spent = now_ms() - t0;
    assert_true(spent < 200);                       /* never waited on Mongo */

    /* 500 queued into 50 places: at least 450 of the oldest went. */
    assert_true(st.samples_dropped >= 450);
    assert_true(st.mongo_queue_depth <= 50 + 2);    /* + the machine updates */
    assert_int_equal(st.mongo_written, 0);

    /* Wait for the writer to notice the server is down. */
    for (int i = 0; i < 40 && st.mongo_errors == 0; i++)
        sleep_ms(50);
    assert_true(st.mongo_errors > 0);
    assert_int_equal(st.mongo_up, 0);
    /* Good documents are kept for a retry, not dropped. */
    assert_true(st.mongo_queue_depth >= 50);

    /* What no validated sample is gets refused at the call. */
    assert_int_equal(mongo_store_sample_json(ms, NULL, 3, 1), -1);
    assert_int_equal(mongo_store_sample_json(ms, SAMPLE, 0, 1), -1);
    assert_int_equal(mongo_store_machine_json(ms, SAMPLE, 0, 1, 1), -1);
    size_t too_long = (size_t)SAMPLE_TEXT_MAX + SAMPLE_REWRITE_EXTRA + 1;
    assert_int_equal(mongo_store_sample_json(ms, SAMPLE, too_long, 1), -1);
    assert_int_equal(mongo_store_machine_json(ms, SAMPLE, too_long, 1, 1), -1);
    assert_int_equal(mongo_store_machine_active(ms, "", 0, 1), -1);
    assert_int_equal(mongo_store_machine_active(ms, "a/b", 0, 1), -1);
    assert_int_equal(mongo_store_machine_active(ms, NULL, 0, 1), -1);

    t0 = now_ms();
    mongo_store_destroy(ms);
    spent = now_ms() - t0;
    assert_true(spent < 5000);                      /* bounded flush */
    assert_true(st.samples_dropped >= 500);         /* leftovers counted too */
    assert_int_equal(st.mongo_queue_depth, 0);
}

/* A sample text may be up to SAMPLE_TEXT_MAX: the queue also holds at most
 * 2 KB of text per entry of --mongo-queue, so 50 entries hold 100 KB. */
static void test_queue_bounded_in_bytes(void **state)
{
    (void)state;
    struct worker_stats st;
    struct mongo_store *ms = unreachable_store(&st, 50);

    size_t len = 30000;
    char *big = malloc(len + 1);
    assert_non_null(big);
    int head = snprintf(big, len + 1, "{\"macA\":\"aa:01\",\"cpuLoad\":1,\"pad\":\"");
    memset(big + head, 'p', len - (size_t)head - 2);
    memcpy(big + len - 2, "\"}", 3);
    for (int i = 0; i < 10; i++)
        assert_int_equal(mongo_store_sample_json(ms, big, len, 1000 + i), 0);
    /* 10 x 30 KB into 100 KB: 3 fit, queued or in the writer's hands. */
    assert_true(st.mongo_queue_depth <= 3);
    assert_true(st.samples_dropped >= 7);
    /* Small samples are bound by count again once the big ones are gone. */
    for (int i = 0; i < 200; i++)
        assert_int_equal(mongo_store_sample_json(ms, SAMPLE, strlen(SAMPLE), 2000 + i), 0);
    assert_true(st.mongo_queue_depth <= 50);
    assert_true(st.mongo_queue_depth >= 47);
    /* The longest text a worker relays (a SAMPLE_TEXT_MAX sample it had to
     * normalise) is queued, not refused. */
    size_t max = (size_t)SAMPLE_TEXT_MAX + SAMPLE_REWRITE_EXTRA;
    char *huge = malloc(max);
    assert_non_null(huge);
    memset(huge, ' ', max);
    memcpy(huge, SAMPLE, strlen(SAMPLE));
    uint64_t dropped = st.samples_dropped;
    assert_int_equal(mongo_store_sample_json(ms, huge, max, 3000), 0);
    assert_true(st.samples_dropped > dropped);      /* the queue was full: the oldest went */
    free(huge);
    mongo_store_destroy(ms);
    assert_int_equal(st.mongo_queue_depth, 0);
    free(big);
}

/* A text that makes no document (the event loop validated it, so this is a
 * bug elsewhere) must neither crash the writer nor wedge the queue: it is
 * counted in mongo_errors and dropped, while good ones wait for Mongo. */
static void test_writer_drops_what_makes_no_document(void **state)
{
    (void)state;
    struct worker_stats st;
    struct mongo_store *ms = unreachable_store(&st, 50);

    const char *bad[] = { "{", "[1,2]", "not json", "{\"macA\":\"a b\",\"cpuLoad\":1}",
                          "{\"cpuLoad\":1}", "\"x\"", NULL };
    int nbad = 0;
    for (; bad[nbad]; nbad++) {
        assert_int_equal(mongo_store_sample_json(ms, bad[nbad], strlen(bad[nbad]), 1), 0);
        assert_int_equal(mongo_store_machine_json(ms, bad[nbad], strlen(bad[nbad]), 1, 1), 0);
    }
    assert_int_equal(mongo_store_sample_json(ms, SAMPLE, strlen(SAMPLE), 1), 0);
    assert_int_equal(mongo_store_machine_json(ms, SAMPLE, strlen(SAMPLE), 1, 1), 0);
    assert_true(st.mongo_queue_depth >= 2);
    /* The writer's first turn builds the batch, the bad ones go, the two
     * good ones stay queued for the retry. */
    assert_true(wait_depth(&st, 2, 3000));
    assert_true(st.mongo_errors >= (uint64_t)(2 * nbad));
    assert_int_equal(st.samples_dropped, 0);
    mongo_store_destroy(ms);
    assert_int_equal(st.samples_dropped, 1);    /* the good sample, unwritten at shutdown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_url_is_off),
        cmocka_unit_test(test_bad_url_is_an_error),
        cmocka_unit_test(test_unreachable_never_blocks_and_drops_oldest),
        cmocka_unit_test(test_queue_bounded_in_bytes),
        cmocka_unit_test(test_writer_drops_what_makes_no_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
