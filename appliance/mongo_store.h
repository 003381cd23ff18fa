/* mongo_store.h -- optional MongoDB history: machines + samples.
 *
 * Called from a worker's event loop, which must never wait on Mongo: every
 * call copies the sample's JSON text into a bounded in-memory queue
 * (cfg->mongo_queue_max entries, and at most 2 KB of text per entry on
 * average: cfg->mongo_queue_max * 2048 bytes) and returns at once; nothing
 * is parsed on the loop. A writer thread parses the texts, builds the BSON
 * documents (mongo_doc.h), owns the mongoc client pool and drains the queue
 * in batches (insert_many for samples, upserts for machines). While Mongo
 * is down the queue holds and the writer retries; when the queue is full
 * the OLDEST queued sample is dropped and counted in
 * stats->samples_dropped. A text that makes no document (not a JSON object
 * with a valid macA: the caller validates, so never in practice) is counted
 * in stats->mongo_errors and dropped by the writer. The writer keeps
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

/* Queues one samples document (macA, ts = ts_ms, every top-level numeric
 * field) for a validated sample's JSON text (json/len, need not be
 * NUL-terminated; copied, so the caller keeps it). Drops the oldest queued
 * samples when the queue is over either bound. Returns 0, or -1 when ms or
 * json is NULL, len is 0 or over SAMPLE_TEXT_MAX + SAMPLE_REWRITE_EXTRA
 * (lib/sample.h), or out of memory. */
int mongo_store_sample_json(struct mongo_store *ms, const char *json, size_t len, int64_t ts_ms);

/* Queues an upsert of the machine document for a validated sample's JSON
 * text (initPerfData, or a socket's first sample): static facts, firstSeen
 * on insert, lastSeen = ts_ms, isActive = active. Returns as above. */
int mongo_store_machine_json(struct mongo_store *ms, const char *json, size_t len, int active,
                             int64_t ts_ms);

/* Queues {isActive: active, lastSeen: ts_ms} for mac (connect/leave).
 * -1 when ms is NULL, mac is not sample_mac_valid, or out of memory. */
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
