/* mongo_store.h -- optional MongoDB history: machines + samples.
 *
 * Called from a worker's event loop, which must never wait on Mongo: every
 * call copies what it needs into a bounded in-memory queue
 * (cfg->mongo_queue_max entries) and returns at once. A writer thread owns
 * the mongoc client pool and drains the queue in batches (insert_many for
 * samples, upserts for machines). While Mongo is down the queue holds and
 * the writer retries; when the queue is full the OLDEST queued sample is
 * dropped and counted in stats->samples_dropped. The writer keeps
 * stats->mongo_up / mongo_errors / mongo_queue_depth / mongo_written
 * current.
 *
 * Collections (database cfg->mongo_db):
 *   machines: one doc per macA, upserted: static facts, firstSeen
 *             ($setOnInsert), lastSeen, isActive.
 *   samples:  one doc per sample: macA, ts (Date), numeric fields; indexes
 *             {macA:1, ts:1} and a TTL on ts (retention_days), plus a
 *             periodic bounded delete of older samples. */
#ifndef PERFLOAD_MONGO_STORE_H
#define PERFLOAD_MONGO_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

struct pl_config;
struct worker_stats;
struct mongo_store;

/* Creates the store and starts its writer thread. Returns NULL with err
 * empty ("") when cfg->mongo_url is empty (Mongo off: sets stats->mongo_up
 * to -1), or NULL with a reason in err when the URL is invalid or the
 * thread cannot start. Does not wait for Mongo to be reachable. stats may
 * be NULL; otherwise it must outlive the store. */
struct mongo_store *mongo_store_create(const struct pl_config *cfg, struct worker_stats *stats,
                                       char *err, size_t errlen);

/* Queues an upsert of the machine document for a (validated) sample from
 * initPerfData: static facts, firstSeen on insert, lastSeen = ts_ms,
 * isActive = active. Returns 0, or -1 when ms is NULL or out of memory. */
int mongo_store_machine(struct mongo_store *ms, const cJSON *sample, int active, int64_t ts_ms);

/* Queues one samples document (macA, ts, every numeric field). Drops the
 * oldest queued sample when the queue is full. Returns 0, or -1 when ms is
 * NULL, sample has no macA, or out of memory. */
int mongo_store_sample(struct mongo_store *ms, const cJSON *sample, int64_t ts_ms);

/* Queues {isActive: active, lastSeen: ts_ms} for mac (connect/leave). */
int mongo_store_machine_active(struct mongo_store *ms, const char *mac, int active, int64_t ts_ms);

/* Opens a mongoc client pool for url with PerfLoad's defaults where the
 * URL sets none (serverSelectionTimeoutMS 1500, connectTimeoutMS 2000,
 * socketTimeoutMS 10000) and error API v2. Also used by the master's HTTP
 * history endpoint. NULL with a reason in err on a bad URL. */
struct _mongoc_client_pool_t *mongo_store_pool_new(const char *url, const char *appname,
                                                   char *err, size_t errlen);

/* Stops the writer after flushing what it can within about 1.5 s (plus
 * at most one in-flight operation; it gives up at once when Mongo has just
 * failed), counts what is left as samples_dropped, then frees everything.
 * NULL is a no-op. */
void mongo_store_destroy(struct mongo_store *ms);

#endif
