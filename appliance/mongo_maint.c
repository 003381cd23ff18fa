/* mongo_maint.c -- see mongo_maint.h. */
#include "mongo_maint.h"

#include <stdio.h>

int mongo_maint_transient(const bson_error_t *e)
{
    if (e->domain != MONGOC_ERROR_SERVER)
        return 1;   /* no server, network, protocol, write concern: retry */
    switch (e->code) {
    case 6: case 7: case 89: case 91: case 189: case 262: case 9001:
    case 10107: case 11600: case 11602: case 13435: case 13436:
        return 1;
    default:
        return 0;
    }
}

int mongo_maint_indexes(mongoc_client_t *client, const char *db_name, int64_t retention_ms)
{
    mongoc_database_t *db = mongoc_client_get_database(client, db_name);
    bson_error_t error;
    bson_t cmd, idxs, idx, key;
    int rc = 0;
    /* int32: what mongod itself stores; ~68 years is retention enough. */
    int64_t ttl_s = retention_ms / 1000 > INT32_MAX ? INT32_MAX : retention_ms / 1000;

    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "createIndexes", "samples");
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &idxs);
    BSON_APPEND_DOCUMENT_BEGIN(&idxs, "0", &idx);
    BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
    BSON_APPEND_INT32(&key, "macA", 1);
    BSON_APPEND_INT32(&key, "ts", 1);
    bson_append_document_end(&idx, &key);
    BSON_APPEND_UTF8(&idx, "name", "macA_1_ts_1");
    bson_append_document_end(&idxs, &idx);
    BSON_APPEND_DOCUMENT_BEGIN(&idxs, "1", &idx);
    BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
    BSON_APPEND_INT32(&key, "ts", 1);
    bson_append_document_end(&idx, &key);
    BSON_APPEND_UTF8(&idx, "name", "ts_ttl");
    BSON_APPEND_INT32(&idx, "expireAfterSeconds", (int32_t)ttl_s);
    bson_append_document_end(&idxs, &idx);
    bson_append_array_end(&cmd, &idxs);
    if (!mongoc_database_write_command_with_opts(db, &cmd, NULL, NULL, &error)) {
        if (mongo_maint_transient(&error)) {
            rc = -1;
        } else if (error.code == 85 || error.code == 86) {
            /* IndexOptionsConflict / IndexKeySpecsConflict: retention changed. */
            bson_t mod = BSON_INITIALIZER, index;
            BSON_APPEND_UTF8(&mod, "collMod", "samples");
            BSON_APPEND_DOCUMENT_BEGIN(&mod, "index", &index);
            BSON_APPEND_UTF8(&index, "name", "ts_ttl");
            BSON_APPEND_INT32(&index, "expireAfterSeconds", (int32_t)ttl_s);
            bson_append_document_end(&mod, &index);
            if (!mongoc_database_write_command_with_opts(db, &mod, NULL, NULL, &error))
                fprintf(stderr, "mongo_store: cannot update the TTL index: %s\n", error.message);
            bson_destroy(&mod);
        } else {
            fprintf(stderr, "mongo_store: createIndexes on samples failed: %s\n", error.message);
        }
    }
    bson_destroy(&cmd);

    if (rc == 0) {
        bson_init(&cmd);
        BSON_APPEND_UTF8(&cmd, "createIndexes", "machines");
        BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &idxs);
        BSON_APPEND_DOCUMENT_BEGIN(&idxs, "0", &idx);
        BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
        BSON_APPEND_INT32(&key, "macA", 1);
        bson_append_document_end(&idx, &key);
        BSON_APPEND_UTF8(&idx, "name", "macA_1");
        bson_append_document_end(&idxs, &idx);
        bson_append_array_end(&cmd, &idxs);
        if (!mongoc_database_write_command_with_opts(db, &cmd, NULL, NULL, &error)) {
            if (mongo_maint_transient(&error))
                rc = -1;
            else
                fprintf(stderr, "mongo_store: createIndexes on machines failed: %s\n",
                        error.message);
        }
        bson_destroy(&cmd);
    }
    mongoc_database_destroy(db);
    return rc;
}

int mongo_maint_retention(mongoc_client_t *client, const char *db_name, int64_t retention_ms,
                          int64_t now_ms)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db_name, "samples");
    int64_t cutoff = now_ms - retention_ms;
    int rc = 0;
    for (int round = 0; round < MM_RETENTION_ROUNDS; round++) {
        bson_t filter = BSON_INITIALIZER, lt, opts = BSON_INITIALIZER, proj;
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "ts", &lt);
        BSON_APPEND_DATE_TIME(&lt, "$lt", cutoff);
        bson_append_document_end(&filter, &lt);
        BSON_APPEND_INT64(&opts, "limit", MM_RETENTION_CHUNK);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, "_id", 1);
        bson_append_document_end(&opts, &proj);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);

        bson_t del = BSON_INITIALIZER, id, in;
        BSON_APPEND_DOCUMENT_BEGIN(&del, "_id", &id);
        BSON_APPEND_ARRAY_BEGIN(&id, "$in", &in);
        const bson_t *doc;
        bson_iter_t it;
        long n = 0;
        char idx[24];
        while (mongoc_cursor_next(cur, &doc)) {
            if (bson_iter_init_find(&it, doc, "_id")) {
                snprintf(idx, sizeof(idx), "%ld", n++);
                bson_append_value(&in, idx, -1, bson_iter_value(&it));
            }
        }
        bson_append_array_end(&id, &in);
        bson_append_document_end(&del, &id);
        bson_error_t error;
        if (mongoc_cursor_error(cur, &error)) {
            rc = -1;
            n = 0;
        }
        if (n > 0 && !mongoc_collection_delete_many(coll, &del, NULL, NULL, &error))
            rc = -1;
        mongoc_cursor_destroy(cur);
        bson_destroy(&del);
        bson_destroy(&opts);
        bson_destroy(&filter);
        if (rc < 0 || n < MM_RETENTION_CHUNK)
            break;
    }
    mongoc_collection_destroy(coll);
    return rc;
}
