/* sample.c -- validate and normalise PerfLoad samples (see sample.h). */
#include "sample.h"
#include "sample_rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 1 for the bytes a machine id may hold: [0-9A-Za-z:._-]. */
static const unsigned char sample_mac_chars[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
    [':'] = 1, ['.'] = 1, ['_'] = 1, ['-'] = 1,
};

int sample_mac_valid(const char *mac, size_t len)
{
    if (mac == NULL || len == 0 || len > SAMPLE_MAC_MAX)
        return 0;
    /* "." and ".." would be path traversal as a directory name. */
    if ((len == 1 && mac[0] == '.') || (len == 2 && mac[0] == '.' && mac[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!sample_mac_chars[(unsigned char)mac[i]])
            return 0;
    return 1;
}

const char *sample_mac(const cJSON *obj)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "macA");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static const char *const sample_strings[] = { "osType", "cpuModel" };

static int sample_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sample_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SAMPLE_INVALID;
}

static const struct sample_number_rule *sample_number_rule(const char *name)
{
    for (size_t i = 0; i < SAMPLE_NUMBERS; i++)
        if (strcmp(sample_number_rules[i].name, name) == 0)
            return &sample_number_rules[i];
    return NULL;
}

static int sample_is_string_field(const char *name)
{
    for (size_t i = 0; i < sizeof(sample_strings) / sizeof(sample_strings[0]); i++)
        if (strcmp(sample_strings[i], name) == 0)
            return 1;
    return 0;
}

/* Walks an extra field's value, counting values into *nodes. 0 when within
 * the bounds, -1 otherwise (with a reason in err). */
static int sample_check_extra(const cJSON *v, int depth, int *nodes, const char *field,
                              char *err, size_t errlen)
{
    if (++*nodes > SAMPLE_EXTRA_NODES)
        return sample_fail(err, errlen, "extra fields too large (at '%.64s')", field);
    if (depth > SAMPLE_EXTRA_DEPTH)
        return sample_fail(err, errlen, "extra field '%.64s' nested too deeply", field);
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
        return sample_fail(err, errlen, "extra field '%.64s' is not a finite number", field);
    if (cJSON_IsString(v) && strlen(v->valuestring) > SAMPLE_EXTRA_STR)
        return sample_fail(err, errlen, "extra field '%.64s' has a string too long", field);
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        for (const cJSON *c = v->child; c != NULL; c = c->next) {
            if (c->string != NULL && strlen(c->string) > SAMPLE_EXTRA_STR)
                return sample_fail(err, errlen, "extra field '%.64s' has a name too long", field);
            if (sample_check_extra(c, depth + 1, nodes, field, err, errlen) != 0)
                return SAMPLE_INVALID;
        }
    }
    return 0;
}

/* Checks every top-level field: known ones by type and range, extras by
 * bounds, names unique. */
static int sample_check_fields(const cJSON *obj, char *err, size_t errlen)
{
    int nfields = 0, extra_nodes = 0;

    for (const cJSON *f = obj->child; f != NULL; f = f->next) {
        const char *name = f->string;
        if (++nfields > SAMPLE_FIELDS_MAX)
            return sample_fail(err, errlen, "too many fields (more than %d)", SAMPLE_FIELDS_MAX);
        if (name == NULL || name[0] == '\0' || strlen(name) > SAMPLE_KEY_MAX)
            return sample_fail(err, errlen, "field name empty or too long");
        /* A duplicate would let the relayed text say something other than
         * what was validated (JSON.parse keeps the last, cJSON the first). */
        for (const cJSON *g = obj->child; g != f; g = g->next)
            if (strcmp(g->string, name) == 0)
                return sample_fail(err, errlen, "field '%.64s' appears twice", name);

        const struct sample_number_rule *r = sample_number_rule(name);
        if (r != NULL) {
            if (!cJSON_IsNumber(f))
                return sample_fail(err, errlen, "%s must be a number", r->name);
            double d = f->valuedouble;
            if (!isfinite(d))
                return sample_fail(err, errlen, "%s must be a finite number", r->name);
            if (d < r->min || d > r->max)
                return sample_fail(err, errlen, "%s out of range (%g..%g)", r->name, r->min, r->max);
            if (r->integer && d != floor(d))
                return sample_fail(err, errlen, "%s must be an integer", r->name);
        } else if (sample_is_string_field(name)) {
            if (!cJSON_IsString(f))
                return sample_fail(err, errlen, "%s must be a string", name);
            if (strlen(f->valuestring) > SAMPLE_STR_MAX)
                return sample_fail(err, errlen, "%s too long (max %d bytes)", name, SAMPLE_STR_MAX);
        } else if (strcmp(name, "macA") == 0) {
            if (!cJSON_IsString(f))
                return sample_fail(err, errlen, "macA must be a string");
            if (!sample_mac_valid(f->valuestring, strlen(f->valuestring)))
                return sample_fail(err, errlen,
                                   "macA must be 1-64 characters of [0-9A-Za-z:._-], not '.' or '..'");
        } else if (strcmp(name, "isActive") == 0) {
            if (!cJSON_IsBool(f))
                return sample_fail(err, errlen, "isActive must be a boolean");
        } else if (sample_check_extra(f, 1, &extra_nodes, name, err, errlen) != 0) {
            return SAMPLE_INVALID;
        }
    }
    return 0;
}

static double sample_round2(double d)
{
    return round(d * 100.0) / 100.0;
}

/* Ensures memUsage is present: from memUseage, or derived from the byte
 * counts. Returns 1 when obj changed, 0 when not, -1 on failure. */
static int sample_fill_mem_usage(cJSON *obj, char *err, size_t errlen)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, "memUsage") != NULL)
        return 0;

    const cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, "memUseage");
    double usage;
    if (old != NULL) {
        usage = old->valuedouble;
    } else {
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(obj, "totalMem");
        const cJSON *used = cJSON_GetObjectItemCaseSensitive(obj, "usedMem");
        const cJSON *free_ = cJSON_GetObjectItemCaseSensitive(obj, "freeMem");
        if (total == NULL || total->valuedouble <= 0 || (used == NULL && free_ == NULL))
            return sample_fail(err, errlen,
                               "memUsage missing (send memUsage, or totalMem with usedMem or freeMem)");
        double u = used != NULL ? used->valuedouble : total->valuedouble - free_->valuedouble;
        usage = sample_round2(u / total->valuedouble);
        if (usage < 0)
            usage = 0;
        if (usage > 1)
            usage = 1;
    }
    if (cJSON_AddNumberToObject(obj, "memUsage", usage) == NULL)
        return sample_fail(err, errlen, "out of memory");
    return 1;
}

int sample_check(cJSON *obj, char *err, size_t errlen)
{
    int changed = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (!cJSON_IsObject(obj))
        return sample_fail(err, errlen, "sample must be a JSON object");
    if (cJSON_GetObjectItemCaseSensitive(obj, "macA") == NULL)
        return sample_fail(err, errlen, "macA missing");
    if (cJSON_GetObjectItemCaseSensitive(obj, "cpuLoad") == NULL)
        return sample_fail(err, errlen, "cpuLoad missing");
    if (sample_check_fields(obj, err, errlen) != 0)
        return SAMPLE_INVALID;

    int r = sample_fill_mem_usage(obj, err, errlen);
    if (r < 0)
        return SAMPLE_INVALID;
    changed |= r;

    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "isActive"))) {
        if (sample_set_active(obj, 1) != 0)
            return sample_fail(err, errlen, "out of memory");
        changed = 1;
    }
    return changed ? SAMPLE_NORMALISED : SAMPLE_VALID;
}

int sample_set_active(cJSON *obj, int active)
{
    cJSON *v = cJSON_CreateBool(active ? 1 : 0);
    if (v == NULL)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "isActive") != NULL) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, "isActive", v)) {
            cJSON_Delete(v);
            return -1;
        }
        return 0;
    }
    if (!cJSON_AddItemToObject(obj, "isActive", v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

/* Appends ,"name":value for a numeric field that is present. */
static int sample_append_number(const cJSON *obj, const char *name, char *buf, size_t buflen,
                                size_t *off)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return 0;
    int n = snprintf(buf + *off, buflen - *off, ",\"%s\":%.15g", name, v->valuedouble);
    if (n < 0 || (size_t)n >= buflen - *off)
        return -1;
    *off += (size_t)n;
    return 0;
}

int sample_history_entry_tree(const cJSON *obj, int64_t ts_ms, char *buf, size_t buflen)
{
    static const char *const fields[] = { "cpuLoad", "memUsage", "usedMem", "freeMem" };
    size_t off;

    if (buf == NULL || buflen == 0)
        return -1;
    int n = snprintf(buf, buflen, "{\"ts\":%lld", (long long)ts_ms);
    if (n < 0 || (size_t)n >= buflen)
        return -1;
    off = (size_t)n;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (sample_append_number(obj, fields[i], buf, buflen, &off) != 0)
            return -1;
    if (off + 2 > buflen)
        return -1;
    buf[off++] = '}';
    buf[off] = '\0';
    return (int)off;
}

int sample_raw_check(const char *json, size_t len, char *err, size_t errlen)
{
    if (len > SAMPLE_TEXT_MAX)
        return sample_fail(err, errlen, "sample too large (%zu bytes, max %d)", len, SAMPLE_TEXT_MAX);
    /* Backslashes only occur inside JSON strings, each escaping the next
     * character, so skipping two at a time keeps us aligned. */
    for (size_t i = 0; i + 1 < len; i++) {
        if (json[i] != '\\')
            continue;
        if (json[i + 1] == 'u' && i + 6 <= len && memcmp(json + i + 2, "0000", 4) == 0)
            return sample_fail(err, errlen, "strings must not contain NUL (\\u0000)");
        i++;
    }
    return 0;
}
