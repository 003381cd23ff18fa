/* mongo_store.c -- bounded queue + writer thread for MongoDB history.
 *
 * The worker's event loop only copies the sample's JSON text (or the mac)
 * into one allocation and links it onto a list under a mutex held for a few
 * instructions; the writer thread parses it, builds the BSON documents
 * (mongo_doc.c) and owns every mongoc call. Two lists: samples (bounded by
 * mongo_queue_max entries and MS_TEXT_BUDGET bytes of text per entry,
 * oldest dropped when full) and machine updates (bounded separately, order
 * kept because a later isActive must win).
 *
 * A batch is taken off its list while it is being written, so enqueueing
 * never waits for Mongo. A batch that failed for a transient reason (no
 * server, network) goes back to the front of its list and is retried with
 * backoff; documents the server rejected for good are counted as errors and
 * dropped so one bad document never wedges the queue. A sample's document
 * (and its _id) is built once, when the writer first takes it, and kept
 * across retries, so a retried batch that partly reached the server
 * only yields duplicate-key errors, which count as written. A text that does
 * not make a document (never, for one the event loop validated) is counted
 * in mongo_errors and dropped. */
#include "mongo_store.h"

#include <errno.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "mongo_doc.h"
#include "mongo_maint.h"
#include "sample.h"
#include "stats.h"

#define MS_SAMPLE_BATCH     1000    /* samples per insert_many */
#define MS_MACHINE_BATCH    100     /* machine updates per writer turn */
#define MS_MACHINE_MAX      10000   /* queued machine updates before the oldest go */
#define MS_LINGER_MS        100     /* wait this long for a batch to fill */
#define MS_BACKOFF_MIN_MS   200
#define MS_BACKOFF_MAX_MS   2000
#define MS_PING_EVERY_MS    5000    /* keeps mongo_up true to life when idle */
#define MS_RETENTION_EVERY_MS (10 * 60 * 1000)
#define MS_FLUSH_WAIT_MS    1500    /* mongo_store_destroy's bound (plus one in-flight op) */
/* Queued text bytes allowed per entry of a list's bound, on average: real
 * samples are 0.5-2 KB, but one may be SAMPLE_TEXT_MAX (64 KB), and a
 * queue of 100000 of those must not cost 6.4 GB. */
#define MS_TEXT_BUDGET      2048

enum ms_kind { MS_SAMPLE, MS_MACHINE_UPSERT, MS_MACHINE_UPDATE };

/* One queued write, one allocation with its text. Owns both documents.
 * Queued from text, the documents are NULL until the writer builds them
 * (ms_build_batch). */
struct ms_item {
    struct ms_item *next;
    enum ms_kind kind;
    int active;         /* machines */
    int64_t ts_ms;
    bson_t *selector;   /* machines: {macA}; NULL for samples */
    bson_t *doc;        /* sample document, or the update document */
    size_t len;         /* bytes of text charged to the list's byte bound */
    char text[];        /* sample JSON (samples, upserts) or mac (updates), NUL-terminated */
};

struct ms_list {
    struct ms_item *head, *tail;
    long n;
    size_t bytes;       /* sum of len */
};

struct mongo_store {
    mongoc_client_pool_t *pool;
    char db[64];
    int64_t retention_ms;
    long queue_max;
    size_t queue_max_bytes;         /* queue_max * MS_TEXT_BUDGET */
    struct worker_stats *stats;     /* may be NULL; not owned */

    pthread_t writer;
    pthread_mutex_t lock;           /* guards everything below */
    pthread_cond_t wake;
    struct ms_list samples;
    struct ms_list machines;
    long in_flight;                 /* items taken by the writer, not yet settled */
    long in_flight_samples;         /* of which samples: they count against queue_max */
    size_t in_flight_bytes;         /* and their text against the byte bound */
    int stopping;
    int64_t stop_deadline;          /* monotonic ms */
};

static pthread_once_t ms_init_once = PTHREAD_ONCE_INIT;

/* The driver's default handler prints its DEBUG chatter (every failed
 * heartbeat); keep warnings and errors only. */
static void ms_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    if (level <= MONGOC_LOG_LEVEL_WARNING)
        fprintf(stderr, "mongoc %s: %s: %s\n", mongoc_log_level_str(level), domain, message);
}

static void ms_init(void)
{
    mongoc_init();
    mongoc_log_set_handler(ms_log, NULL);
}

static int64_t ms_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ms_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- stats (stats may be NULL: unit tests, tools) ---- */

static void ms_stat_up(struct mongo_store *ms, int up)
{
    if (ms->stats) {
        ms->stats->mongo_up = up;
        ms->stats->mongo_known = 1;
    }
}

static void ms_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    *counter += n;
}

/* Called with the lock held. */
static void ms_stat_depth(struct mongo_store *ms)
{
    if (ms->stats)
        ms->stats->mongo_queue_depth = ms->samples.n + ms->machines.n + ms->in_flight;
}

/* ---- lists ---- */

static void ms_item_free(struct ms_item *it)
{
    if (!it)
        return;
    if (it->selector)
        bson_destroy(it->selector);
    if (it->doc)
        bson_destroy(it->doc);
    free(it);
}

static void ms_list_push(struct ms_list *l, struct ms_item *it)
{
    it->next = NULL;
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    l->n++;
    l->bytes += it->len;
}

static struct ms_item *ms_list_pop(struct ms_list *l)
{
    struct ms_item *it = l->head;
    if (!it)
        return NULL;
    l->head = it->next;
    if (!l->head)
        l->tail = NULL;
    l->n--;
    l->bytes -= it->len;
    it->next = NULL;
    return it;
}

/* Puts items[from..n) back at the front, in order (a failed batch). */
static void ms_list_unshift(struct ms_list *l, struct ms_item **items, long from, long n)
{
    for (long i = n - 1; i >= from; i--) {
        items[i]->next = l->head;
        l->head = items[i];
        if (!l->tail)
            l->tail = items[i];
        l->n++;
        l->bytes += items[i]->len;
    }
}

static void ms_list_clear(struct ms_list *l)
{
    struct ms_item *it;
    while ((it = ms_list_pop(l)))
        ms_item_free(it);
}

/* Drops the oldest entries while the list is over max entries or
 * max_bytes of text; returns how many. */
static long ms_list_trim(struct ms_list *l, long max, size_t max_bytes)
{
    long dropped = 0;
    while (l->n > max || l->bytes > max_bytes) {
        ms_item_free(ms_list_pop(l));
        dropped++;
    }
    return dropped;
}

/* ---- items (made on the caller's thread: no I/O) ---- */

/* The event loop's whole cost per call: one malloc and a memcpy. */
static struct ms_item *ms_text_item(enum ms_kind kind, const char *text, size_t len, int active,
                                    int64_t ts_ms)
{
    struct ms_item *it = malloc(sizeof(*it) + len + 1);
    if (!it)
        return NULL;
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->active = active;
    it->ts_ms = ts_ms;
    it->len = len;
    memcpy(it->text, text, len);
    it->text[len] = '\0';
    return it;
}

/* Builds an item's documents from its text (writer thread). -1 when the
 * text does not make one. */
static int ms_item_build(struct ms_item *it)
{
    if (it->doc)
        return 0;   /* built already: a retry */
    switch (it->kind) {
    case MS_SAMPLE:
        it->doc = mongo_doc_sample_json(it->text, it->len, it->ts_ms);
        return it->doc ? 0 : -1;
    case MS_MACHINE_UPSERT:
        return mongo_doc_machine_json(it->text, it->len, it->active, it->ts_ms, &it->selector,
                                      &it->doc);
    case MS_MACHINE_UPDATE:
        return mongo_doc_active(it->text, it->active, it->ts_ms, &it->selector, &it->doc);
    }
    return -1;
}

/* Builds a taken batch's documents in place, dropping (and counting) the
 * items that make none; returns the new count, order kept. */
static long ms_build_batch(struct mongo_store *ms, struct ms_item **items, long n)
{
    long kept = 0, bad = 0;
    for (long i = 0; i < n; i++) {
        if (ms_item_build(items[i]) == 0) {
            items[kept++] = items[i];
        } else {
            ms_item_free(items[i]);
            bad++;
        }
    }
    if (bad > 0) {
        if (ms->stats)
            ms_stat_add(&ms->stats->mongo_errors, (uint64_t)bad);
        fprintf(stderr, "mongo_store: dropped %ld queued texts that make no document "
                "(not a JSON object with a valid macA)\n", bad);
    }
    return kept;
}

/* ---- enqueue (event-loop side) ---- */

static int ms_enqueue(struct mongo_store *ms, struct ms_item *it)
{
    if (!it)
        return -1;
    long dropped = 0;
    /* The trim below may free it (a full queue drops the oldest, and with
     * room for none that is it): read what is needed first. */
    int is_sample = it->kind == MS_SAMPLE;
    pthread_mutex_lock(&ms->lock);
    if (is_sample) {
        ms_list_push(&ms->samples, it);
        size_t room = ms->queue_max_bytes > ms->in_flight_bytes
                          ? ms->queue_max_bytes - ms->in_flight_bytes : 0;
        dropped = ms_list_trim(&ms->samples, ms->queue_max - ms->in_flight_samples, room);
    } else {
        ms_list_push(&ms->machines, it);
        ms_list_trim(&ms->machines, MS_MACHINE_MAX, (size_t)MS_MACHINE_MAX * MS_TEXT_BUDGET);
    }
    ms_stat_depth(ms);
    /* Wake the writer only when it has a reason to act: work after idling,
     * a full batch that ends its linger, a machine update. Signalling a
     * waiting writer is a futex syscall: not one per sample. */
    if (!is_sample || ms->samples.n == 1 || ms->samples.n == MS_SAMPLE_BATCH)
        pthread_cond_signal(&ms->wake);
    pthread_mutex_unlock(&ms->lock);
    if (dropped && ms->stats)
        ms_stat_add(&ms->stats->samples_dropped, (uint64_t)dropped);
    return 0;
}

/* Refuses what no validated sample is: the writer would only drop it. A
 * normalised sample may be SAMPLE_REWRITE_EXTRA longer than what came in. */
static int ms_text_ok(const char *json, size_t len)
{
    return json && len > 0 && len <= SAMPLE_TEXT_MAX + SAMPLE_REWRITE_EXTRA;
}

int mongo_store_sample_json(struct mongo_store *ms, const char *json, size_t len, int64_t ts_ms)
{
    if (!ms || !ms_text_ok(json, len))
        return -1;
    return ms_enqueue(ms, ms_text_item(MS_SAMPLE, json, len, 1, ts_ms));
}

int mongo_store_machine_json(struct mongo_store *ms, const char *json, size_t len, int active,
                             int64_t ts_ms)
{
    if (!ms || !ms_text_ok(json, len))
        return -1;
    return ms_enqueue(ms, ms_text_item(MS_MACHINE_UPSERT, json, len, active, ts_ms));
}

int mongo_store_machine_active(struct mongo_store *ms, const char *mac, int active, int64_t ts_ms)
{
    if (!ms || !mac || !sample_mac_valid(mac, strlen(mac)))
        return -1;
    return ms_enqueue(ms, ms_text_item(MS_MACHINE_UPDATE, mac, strlen(mac), active, ts_ms));
}

/* ---- writer thread ---- */

/* 1 when every writeError in reply is a duplicate key (an earlier try of
 * this batch got through) and there is no write concern error. */
static int ms_only_duplicates(const bson_t *reply)
{
    bson_iter_t it, arr, doc;
    int any = 0;
    if (bson_iter_init_find(&it, reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it)
        && bson_iter_recurse(&it, &arr) && bson_iter_next(&arr))
        return 0;
    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it)
        || !bson_iter_recurse(&it, &arr))
        return 0;
    while (bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &doc)
            || !bson_iter_find(&doc, "code") || bson_iter_as_int64(&doc) != 11000)
            return 0;
        any = 1;
    }
    return any;
}

static long ms_count_write_errors(const bson_t *reply)
{
    bson_iter_t it, arr;
    long n = 0;
    if (bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it)
        && bson_iter_recurse(&it, &arr))
        while (bson_iter_next(&arr))
            n++;
    return n;
}

/* Writes samples[0..n). Returns how many must be retried from the front
 * (0 = settled: written or given up on). */
static long ms_write_samples(struct mongo_store *ms, mongoc_client_t *client,
                             struct ms_item **items, long n)
{
    const bson_t *docs[MS_SAMPLE_BATCH];
    for (long i = 0; i < n; i++)
        docs[i] = items[i]->doc;
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, "samples");
    bson_t opts = BSON_INITIALIZER, reply;
    bson_error_t error;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    bool ok = mongoc_collection_insert_many(coll, docs, (size_t)n, &opts, &reply, &error);
    long retry = 0;
    if (ok || ms_only_duplicates(&reply)) {
        ms_stat_up(ms, 1);
        if (ms->stats)
            ms_stat_add(&ms->stats->mongo_written, (uint64_t)n);
    } else if (ms_count_write_errors(&reply) > 0) {
        /* Unordered: the rest went in; the rejected ones never will. */
        long bad = ms_count_write_errors(&reply);
        ms_stat_up(ms, 1);
        if (ms->stats) {
            ms_stat_add(&ms->stats->mongo_errors, (uint64_t)bad);
            ms_stat_add(&ms->stats->mongo_written, (uint64_t)(n > bad ? n - bad : 0));
        }
        fprintf(stderr, "mongo_store: %ld of %ld samples rejected: %s\n", bad, n, error.message);
    } else if (mongo_maint_transient(&error)) {
        ms_stat_up(ms, 0);
        if (ms->stats)
            ms_stat_add(&ms->stats->mongo_errors, 1);
        retry = n;
    } else {
        if (ms->stats)
            ms_stat_add(&ms->stats->mongo_errors, 1);
        fprintf(stderr, "mongo_store: dropping %ld samples: %s\n", n, error.message);
    }
    bson_destroy(&reply);
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    return retry;
}

/* Applies machine updates in order. Returns the index of the first one to
 * retry (n when all are settled). */
static long ms_write_machines(struct mongo_store *ms, mongoc_client_t *client,
                             struct ms_item **items, long n)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, ms->db, "machines");
    bson_t upsert = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&upsert, "upsert", true);
    long i;
    for (i = 0; i < n; i++) {
        bson_error_t error;
        const bson_t *opts = items[i]->kind == MS_MACHINE_UPSERT ? &upsert : NULL;
        if (mongoc_collection_update_one(coll, items[i]->selector, items[i]->doc, opts, NULL,
                                         &error)) {
            ms_stat_up(ms, 1);
            continue;
        }
        if (ms->stats)
            ms_stat_add(&ms->stats->mongo_errors, 1);
        if (mongo_maint_transient(&error)) {
            ms_stat_up(ms, 0);
            break;
        }
        fprintf(stderr, "mongo_store: machine update rejected: %s\n", error.message);
    }
    bson_destroy(&upsert);
    mongoc_collection_destroy(coll);
    return i;
}

static int ms_ping(struct mongo_store *ms, mongoc_client_t *client)
{
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t error;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bool ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, &error);
    bson_destroy(&cmd);
    ms_stat_up(ms, ok ? 1 : 0);
    if (!ok && ms->stats)
        ms_stat_add(&ms->stats->mongo_errors, 1);
    return ok ? 0 : -1;
}

/* Waits on the condition until the monotonic deadline (ms). */
static void ms_wait_until(struct mongo_store *ms, int64_t deadline_ms)
{
    struct timespec ts;
    ts.tv_sec = deadline_ms / 1000;
    ts.tv_nsec = (deadline_ms % 1000) * 1000000;
    pthread_cond_timedwait(&ms->wake, &ms->lock, &ts);
}

static void *ms_writer_main(void *arg)
{
    struct mongo_store *ms = arg;
    struct ms_item *sbatch[MS_SAMPLE_BATCH], *mbatch[MS_MACHINE_BATCH];
    int64_t retry_at = 0, backoff = 0, next_ping = 0, next_retention = 0;
    int indexed = 0;

    pthread_mutex_lock(&ms->lock);
    for (;;) {
        int64_t now = ms_mono_ms();
        int have = ms->samples.n > 0 || ms->machines.n > 0;
        /* Stopping: flush while Mongo answers, but never wait out a
         * backoff for a server that just failed us. */
        if (ms->stopping && (!have || now >= ms->stop_deadline || backoff > 0))
            break;
        int due_write = have && now >= retry_at;
        int due_house = now >= next_ping || (!indexed && now >= retry_at);
        if (!due_write && !due_house) {
            int64_t until = next_ping;
            if (have && retry_at < until)
                until = retry_at;
            if (ms->stopping && ms->stop_deadline < until)
                until = ms->stop_deadline;
            ms_wait_until(ms, until);
            continue;
        }
        /* Let a batch fill unless it is full already or we are stopping. */
        if (due_write && !ms->stopping && ms->samples.n < MS_SAMPLE_BATCH && ms->machines.n == 0) {
            int64_t until = now + MS_LINGER_MS;
            while (!ms->stopping && ms->samples.n < MS_SAMPLE_BATCH && ms->machines.n == 0
                   && ms_mono_ms() < until)
                ms_wait_until(ms, until);
            now = ms_mono_ms();
        }

        long ns = 0, nm = 0;
        if (due_write) {
            while (nm < MS_MACHINE_BATCH && ms->machines.n > 0)
                mbatch[nm++] = ms_list_pop(&ms->machines);
            while (ns < MS_SAMPLE_BATCH && ms->samples.n > 0)
                sbatch[ns++] = ms_list_pop(&ms->samples);
            ms->in_flight = ns + nm;
            ms->in_flight_samples = ns;
            ms->in_flight_bytes = 0;
            for (long i = 0; i < ns; i++)
                ms->in_flight_bytes += sbatch[i]->len;
        }
        pthread_mutex_unlock(&ms->lock);

        /* Parse and build here, off the event loop. */
        nm = ms_build_batch(ms, mbatch, nm);
        ns = ms_build_batch(ms, sbatch, ns);

        mongoc_client_t *client = mongoc_client_pool_pop(ms->pool);
        int failed = 0;
        if (due_house) {
            if (ms_ping(ms, client) < 0) {
                failed = 1;
            } else {
                if (!indexed && mongo_maint_indexes(client, ms->db, ms->retention_ms) == 0)
                    indexed = 1;
                if (now >= next_retention
                    && mongo_maint_retention(client, ms->db, ms->retention_ms, ms_wall_ms()) == 0)
                    next_retention = now + MS_RETENTION_EVERY_MS;
            }
            next_ping = now + MS_PING_EVERY_MS;
        }
        /* Settle: machines[0..m_done) are written or given up on, the
         * rest go back in order; samples are all-or-nothing per batch. */
        long m_done = 0;
        int s_back = ns > 0;
        if (!failed && nm > 0) {
            m_done = ms_write_machines(ms, client, mbatch, nm);
            failed = m_done < nm;
        }
        if (!failed && ns > 0) {
            s_back = ms_write_samples(ms, client, sbatch, ns) > 0;
            failed = s_back;
        }
        mongoc_client_pool_push(ms->pool, client);
        for (long i = 0; i < m_done; i++)
            ms_item_free(mbatch[i]);
        if (!s_back)
            for (long i = 0; i < ns; i++)
                ms_item_free(sbatch[i]);

        pthread_mutex_lock(&ms->lock);
        long dropped = 0;
        if (m_done < nm)
            ms_list_unshift(&ms->machines, mbatch, m_done, nm);
        if (s_back) {
            ms_list_unshift(&ms->samples, sbatch, 0, ns);
            dropped = ms_list_trim(&ms->samples, ms->queue_max, ms->queue_max_bytes);
        }
        ms->in_flight = 0;
        ms->in_flight_samples = 0;
        ms->in_flight_bytes = 0;
        ms_stat_depth(ms);
        if (dropped && ms->stats)
            ms_stat_add(&ms->stats->samples_dropped, (uint64_t)dropped);
        if (failed) {
            indexed = 0;    /* a restarted server may have lost them */
            backoff = backoff ? backoff * 2 : MS_BACKOFF_MIN_MS;
            if (backoff > MS_BACKOFF_MAX_MS)
                backoff = MS_BACKOFF_MAX_MS;
            retry_at = ms_mono_ms() + backoff;
        } else {
            backoff = 0;
            retry_at = 0;
        }
    }
    pthread_mutex_unlock(&ms->lock);
    return NULL;
}

/* ---- lifecycle ---- */

struct _mongoc_client_pool_t *mongo_store_pool_new(const char *url, const char *appname, char *err,
                                           size_t errlen)
{
    bson_error_t error;
    pthread_once(&ms_init_once, ms_init);
    mongoc_uri_t *uri = mongoc_uri_new_with_error(url, &error);
    if (!uri) {
        snprintf(err, errlen, "invalid Mongo URL: %s", error.message);
        return NULL;
    }
    /* A down server must cost a writer turn about a second, not the
     * driver's default 30 s; the user's URL options win. */
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 1500);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, 10000);
    if (appname && !mongoc_uri_has_option(uri, MONGOC_URI_APPNAME))
        mongoc_uri_set_appname(uri, appname);
    mongoc_client_pool_t *pool = mongoc_client_pool_new_with_error(uri, &error);
    mongoc_uri_destroy(uri);
    if (!pool) {
        snprintf(err, errlen, "cannot create Mongo client pool: %s", error.message);
        return NULL;
    }
    mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
    return pool;
}

struct mongo_store *mongo_store_create(const struct pl_config *cfg, struct worker_stats *stats,
                                       char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!cfg->mongo_url[0]) {
        if (stats)
            stats->mongo_up = -1;
        return NULL;
    }
    struct mongo_store *ms = calloc(1, sizeof(*ms));
    if (!ms) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ms->stats = stats;
    snprintf(ms->db, sizeof(ms->db), "%s", cfg->mongo_db[0] ? cfg->mongo_db : "perfload");
    ms->retention_ms = (int64_t)(cfg->retention_days > 0 ? cfg->retention_days : 7) * 86400000;
    ms->queue_max = cfg->mongo_queue_max > 0 ? cfg->mongo_queue_max : 100000;
    ms->queue_max_bytes = (size_t)ms->queue_max * MS_TEXT_BUDGET;
    ms->pool = mongo_store_pool_new(cfg->mongo_url, "perfload-worker", err, errlen);
    if (!ms->pool) {
        free(ms);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ms->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&ms->lock, NULL);
    if (stats) {
        stats->mongo_up = 0;
        stats->mongo_known = 0;
        stats->mongo_queue_depth = 0;
    }
    int rc = pthread_create(&ms->writer, NULL, ms_writer_main, ms);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the Mongo writer thread: %s", strerror(rc));
        pthread_cond_destroy(&ms->wake);
        pthread_mutex_destroy(&ms->lock);
        mongoc_client_pool_destroy(ms->pool);
        free(ms);
        return NULL;
    }
    return ms;
}

void mongo_store_destroy(struct mongo_store *ms)
{
    if (!ms)
        return;
    pthread_mutex_lock(&ms->lock);
    ms->stopping = 1;
    ms->stop_deadline = ms_mono_ms() + MS_FLUSH_WAIT_MS;
    pthread_cond_signal(&ms->wake);
    pthread_mutex_unlock(&ms->lock);
    pthread_join(ms->writer, NULL);

    long lost = ms->samples.n;
    if (lost > 0) {
        fprintf(stderr, "mongo_store: %ld samples not written at shutdown (Mongo unreachable)\n",
                lost);
        if (ms->stats)
            ms_stat_add(&ms->stats->samples_dropped, (uint64_t)lost);
    }
    ms_list_clear(&ms->samples);
    ms_list_clear(&ms->machines);
    if (ms->stats)
        ms->stats->mongo_queue_depth = 0;
    mongoc_client_pool_destroy(ms->pool);
    pthread_cond_destroy(&ms->wake);
    pthread_mutex_destroy(&ms->lock);
    free(ms);
}
