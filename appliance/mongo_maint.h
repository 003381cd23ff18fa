/* mongo_maint.h -- keeping PerfLoad's Mongo database usable: which errors
 * are worth a retry, the indexes (createIndexes: mongoc 1.23 has no
 * helper), and the retention sweep. Called only from the Mongo writer
 * thread (mongo_store.c) with a client popped from its pool; every call
 * is bounded by the pool's timeouts. */
#ifndef PERFLOAD_MONGO_MAINT_H
#define PERFLOAD_MONGO_MAINT_H

#include <stdint.h>
#include <mongoc/mongoc.h>

/* 1 when the failed operation may succeed later (no server, network,
 * write concern, failover codes); 0 when the server refused it for good. */
int mongo_maint_transient(const bson_error_t *e);

/* Creates {macA:1, ts:1} (macA_1_ts_1) and the TTL index on ts (ts_ttl,
 * expireAfterSeconds = retention) on samples, and {macA:1} on machines. A
 * TTL index that exists with another expiry (the retention changed) is
 * updated with collMod. Returns 0 when done (also when the server refused
 * for good: logged), -1 to retry later. */
int mongo_maint_indexes(mongoc_client_t *client, const char *db_name, int64_t retention_ms);

/* Deletes samples with ts older than now_ms - retention_ms, MM_RETENTION_CHUNK
 * at a time for at most MM_RETENTION_ROUNDS rounds, so a huge backlog never
 * holds the writer long (the TTL index does the same on a real server; the
 * test server ignores TTL). Returns 0, or -1 to retry later. */
int mongo_maint_retention(mongoc_client_t *client, const char *db_name, int64_t retention_ms,
                          int64_t now_ms);

#define MM_RETENTION_CHUNK  5000
#define MM_RETENTION_ROUNDS 20

#endif
