/* mongo_doc.c -- see mongo_doc.h. */
#include "mongo_doc.h"

#include <string.h>

#include "sample.h"

int mongo_doc_key_ok(const char *k)
{
    if (!k || !*k || k[0] == '$' || strchr(k, '.') || strlen(k) > SAMPLE_KEY_MAX)
        return 0;
    return strcmp(k, "_id") && strcmp(k, "ts") && strcmp(k, "macA") && strcmp(k, "firstSeen")
        && strcmp(k, "lastSeen") && strcmp(k, "isActive");
}

/* The per-second metrics: history (samples), not facts about the machine. */
static int md_key_is_metric(const char *k)
{
    static const char *const metrics[] = { "cpuLoad", "memUsage", "memUseage", "freeMem",
                                           "usedMem", "upTime", NULL };
    for (int i = 0; metrics[i]; i++)
        if (!strcmp(k, metrics[i]))
            return 1;
    return 0;
}

/* Whole numbers stay integers so Mongo shows 8000000000, not 8e9. */
static void md_append_number(bson_t *b, const char *k, double v)
{
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
        BSON_APPEND_INT64(b, k, (int64_t)v);
    else
        BSON_APPEND_DOUBLE(b, k, v);
}

static const char *md_mac(const cJSON *sample)
{
    const cJSON *mac = cJSON_GetObjectItemCaseSensitive(sample, "macA");
    if (!cJSON_IsString(mac) || !mac->valuestring
        || !sample_mac_valid(mac->valuestring, strlen(mac->valuestring)))
        return NULL;
    return mac->valuestring;
}

bson_t *mongo_doc_sample(const cJSON *sample, int64_t ts_ms)
{
    const char *mac = md_mac(sample);
    bson_t *doc = mac ? bson_new() : NULL;
    if (!doc)
        return NULL;
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "macA", mac);
    BSON_APPEND_DATE_TIME(doc, "ts", ts_ms);
    const cJSON *f;
    cJSON_ArrayForEach(f, sample) {
        if (cJSON_IsNumber(f) && mongo_doc_key_ok(f->string))
            md_append_number(doc, f->string, f->valuedouble);
    }
    return doc;
}

/* Allocates both or neither. */
static int md_pair(bson_t **selector, bson_t **update)
{
    *selector = bson_new();
    *update = bson_new();
    if (*selector && *update)
        return 0;
    if (*selector)
        bson_destroy(*selector);
    if (*update)
        bson_destroy(*update);
    *selector = *update = NULL;
    return -1;
}

int mongo_doc_machine(const cJSON *sample, int active, int64_t ts_ms, bson_t **selector,
                      bson_t **update)
{
    const char *mac = md_mac(sample);
    if (!mac || md_pair(selector, update) < 0)
        return -1;
    BSON_APPEND_UTF8(*selector, "macA", mac);

    bson_t set, on_insert;
    BSON_APPEND_DOCUMENT_BEGIN(*update, "$set", &set);
    BSON_APPEND_UTF8(&set, "macA", mac);
    const cJSON *f;
    cJSON_ArrayForEach(f, sample) {
        if (!mongo_doc_key_ok(f->string) || md_key_is_metric(f->string))
            continue;
        if (cJSON_IsNumber(f))
            md_append_number(&set, f->string, f->valuedouble);
        else if (cJSON_IsBool(f))
            BSON_APPEND_BOOL(&set, f->string, cJSON_IsTrue(f));
        else if (cJSON_IsString(f) && f->valuestring
                 && bson_utf8_validate(f->valuestring, strlen(f->valuestring), false))
            BSON_APPEND_UTF8(&set, f->string, f->valuestring);
    }
    BSON_APPEND_DATE_TIME(&set, "lastSeen", ts_ms);
    BSON_APPEND_BOOL(&set, "isActive", active ? true : false);
    bson_append_document_end(*update, &set);
    BSON_APPEND_DOCUMENT_BEGIN(*update, "$setOnInsert", &on_insert);
    BSON_APPEND_DATE_TIME(&on_insert, "firstSeen", ts_ms);
    bson_append_document_end(*update, &on_insert);
    return 0;
}

int mongo_doc_active(const char *mac, int active, int64_t ts_ms, bson_t **selector,
                     bson_t **update)
{
    if (!mac || !sample_mac_valid(mac, strlen(mac)) || md_pair(selector, update) < 0)
        return -1;
    BSON_APPEND_UTF8(*selector, "macA", mac);
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(*update, "$set", &set);
    BSON_APPEND_BOOL(&set, "isActive", active ? true : false);
    BSON_APPEND_DATE_TIME(&set, "lastSeen", ts_ms);
    bson_append_document_end(*update, &set);
    return 0;
}

/* Parses a queued sample text; NULL unless it is an object. */
static cJSON *md_parse(const char *json, size_t len)
{
    cJSON *obj = json ? cJSON_ParseWithLength(json, len) : NULL;
    if (obj && !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static void md_number_cb(const char *name, size_t name_len, double value, void *user)
{
    (void)name_len;
    if (mongo_doc_key_ok(name))
        md_append_number(user, name, value);
}

/* The hot one (every sample): built from the text by sample_scan (the macA,
 * and that the text is a sample) and sample_each_number, without a cJSON
 * tree: ~10x fewer instructions than parsing, same document. */
bson_t *mongo_doc_sample_json(const char *json, size_t len, int64_t ts_ms)
{
    struct sample_view v;
    char why[SAMPLE_ERR_MAX];
    if (json == NULL || sample_scan(json, len, &v, why, sizeof(why)) < 0)
        return NULL;
    bson_t *doc = bson_new();
    if (!doc)
        return NULL;
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "macA", v.mac);
    BSON_APPEND_DATE_TIME(doc, "ts", ts_ms);
    if (sample_each_number(json, len, md_number_cb, doc) != 0) {
        bson_destroy(doc);
        return NULL;
    }
    return doc;
}

int mongo_doc_machine_json(const char *json, size_t len, int active, int64_t ts_ms,
                           bson_t **selector, bson_t **update)
{
    cJSON *obj = md_parse(json, len);
    int rc = obj ? mongo_doc_machine(obj, active, ts_ms, selector, update) : -1;
    cJSON_Delete(obj);
    return rc;
}
