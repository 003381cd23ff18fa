/* mongo_doc.h -- the BSON documents PerfLoad writes to MongoDB.
 *
 * Built from a validated sample (lib/sample.h) on the Mongo writer thread
 * (mongo_store.c): the event loop only queues the sample's JSON text, and
 * the *_json functions below parse it there. No I/O. docs/architecture.md
 * ("MongoDB") describes the
 * collections; these functions are the one place their shape is decided.
 * Keys Mongo would refuse ($-prefixed, dotted, empty, > 64 bytes) and keys
 * PerfLoad sets itself (_id, ts, macA, firstSeen, lastSeen, isActive) are
 * never copied from a sample. Whole numbers are stored as int64. */
#ifndef PERFLOAD_MONGO_DOC_H
#define PERFLOAD_MONGO_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <bson/bson.h>
#include <cJSON.h>

/* A `samples` document: {_id: new ObjectId, macA, ts: Date(ts_ms), every
 * top-level numeric field}. The _id is made here so a retried insert is
 * idempotent. Returns a new document (bson_destroy it), or NULL when the
 * sample has no usable macA or on OOM. */
bson_t *mongo_doc_sample(const cJSON *sample, int64_t ts_ms);

/* The `machines` upsert for initPerfData: *selector = {macA}, *update =
 * {$set: {macA, every scalar field except the per-second metrics, lastSeen,
 * isActive}, $setOnInsert: {firstSeen}}. 0, or -1 (nothing allocated). */
int mongo_doc_machine(const cJSON *sample, int active, int64_t ts_ms, bson_t **selector,
                      bson_t **update);

/* The `machines` update when a machine goes offline or comes back:
 * {macA} / {$set: {isActive, lastSeen}}. 0, or -1 for an empty, over-long
 * or non-UTF-8 mac (nothing allocated). */
int mongo_doc_active(const char *mac, int active, int64_t ts_ms, bson_t **selector,
                     bson_t **update);

/* The same documents from a sample's JSON text (len bytes, need not be
 * NUL-terminated), identical to what the tree versions build from
 * cJSON_Parse of the same text. A sample is read with sample_scan and
 * sample_each_number (no tree: it is every sample); a machine upsert (one
 * per connection) is parsed with cJSON. NULL / -1 (nothing allocated) when
 * the text is not a valid sample (sample_scan) or, for the machine, not a
 * JSON object with a valid macA, or on OOM. */
bson_t *mongo_doc_sample_json(const char *json, size_t len, int64_t ts_ms);
int mongo_doc_machine_json(const char *json, size_t len, int active, int64_t ts_ms,
                           bson_t **selector, bson_t **update);

/* 1 when the sample field name k is stored as is; 0 for names Mongo would
 * refuse or PerfLoad sets itself. */
int mongo_doc_key_ok(const char *k);

#endif
