/* test_mongo_store.c -- the Mongo writer's promises that need no server:
 * off when the URL is empty, a clear error for a bad URL, and with Mongo
 * unreachable the event-loop calls never block, the queue stays bounded,
 * the oldest samples are dropped and counted, and destroy is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "mongo_store.h"
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

static cJSON *sample(const char *mac, double load)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "macA", mac);
    cJSON_AddNumberToObject(s, "cpuLoad", load);
    cJSON_AddNumberToObject(s, "totalMem", 8e9);
    cJSON_AddStringToObject(s, "osType", "Linux");
    cJSON_AddNumberToObject(s, "$evil", 1);     /* must be skipped, not sent */
    return s;
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
    cJSON *s = sample("aa:bb", 1);
    assert_int_equal(mongo_store_sample(NULL, s, 1), -1);
    assert_int_equal(mongo_store_machine(NULL, s, 1, 1), -1);
    assert_int_equal(mongo_store_machine_active(NULL, "aa:bb", 0, 1), -1);
    mongo_store_destroy(NULL);
    cJSON_Delete(s);
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
    struct pl_config cfg;
    struct worker_stats st;
    char err[256];
    memset(&st, 0, sizeof(st));
    /* Port 1 on loopback: connection refused at once. */
    base_cfg(&cfg, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", 50);
    struct mongo_store *ms = mongo_store_create(&cfg, &st, err, sizeof(err));
    assert_non_null(ms);

    cJSON *s = sample("aa:bb:cc:dd:ee:ff", 12.5);
    int64_t t0 = now_ms();
    assert_int_equal(mongo_store_machine(ms, s, 1, 1000), 0);
    for (int i = 0; i < 500; i++)
        assert_int_equal(mongo_store_sample(ms, s, 1000 + i), 0);
    assert_int_equal(mongo_store_machine_active(ms, "aa:bb:cc:dd:ee:ff", 0, 2000), 0);
    int64_t spent = now_ms() - t0;
    assert_true(spent < 200);                       /* never waited on Mongo */

    /* 500 queued into 50 places: at least 450 of the oldest went. */
    assert_true(st.samples_dropped >= 450);
    assert_true(st.mongo_queue_depth <= 50 + 2);    /* + the machine updates */
    assert_int_equal(st.mongo_written, 0);

    /* Wait for the writer to notice the server is down. */
    for (int i = 0; i < 40 && st.mongo_errors == 0; i++) {
        struct timespec ts = { 0, 50 * 1000000 };
        nanosleep(&ts, NULL);
    }
    assert_true(st.mongo_errors > 0);
    assert_int_equal(st.mongo_up, 0);

    /* A sample without macA is refused, not queued. */
    cJSON *bad = cJSON_CreateObject();
    cJSON_AddNumberToObject(bad, "cpuLoad", 1);
    assert_int_equal(mongo_store_sample(ms, bad, 1), -1);
    assert_int_equal(mongo_store_machine_active(ms, "", 0, 1), -1);

    t0 = now_ms();
    mongo_store_destroy(ms);
    spent = now_ms() - t0;
    assert_true(spent < 5000);                      /* bounded flush */
    assert_true(st.samples_dropped >= 500);         /* leftovers counted too */
    assert_int_equal(st.mongo_queue_depth, 0);
    cJSON_Delete(bad);
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_url_is_off),
        cmocka_unit_test(test_bad_url_is_an_error),
        cmocka_unit_test(test_unreachable_never_blocks_and_drops_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
