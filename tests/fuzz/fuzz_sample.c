/* fuzz_sample.c -- sample_scan differential against cJSON on arbitrary
 * bytes. Whatever sample_scan accepts, cJSON must parse to an object with
 * the same macA, numbers and isActive, unique names and the schema's bounds;
 * sample_rewrite's output must scan SAMPLE_VALID and parse; the history
 * entry must parse with the same numbers; sample_each_number must report
 * cJSON's top-level numbers; every rejection must say why.
 * Only cJSON is used as the reference (not the tree check), so this target
 * outlives the legacy tree API. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sample.h"

static const char *const number_names[SAMPLE_NUMBERS] = {
    [SAMPLE_CPU_LOAD] = "cpuLoad",   [SAMPLE_MEM_USAGE] = "memUsage", [SAMPLE_MEM_USEAGE] = "memUseage",
    [SAMPLE_FREE_MEM] = "freeMem",   [SAMPLE_TOTAL_MEM] = "totalMem", [SAMPLE_USED_MEM] = "usedMem",
    [SAMPLE_UP_TIME] = "upTime",     [SAMPLE_CPU_SPEED] = "cpuSpeed", [SAMPLE_NUM_CORES] = "numCores",
};

/* The same double, -0 and 0 told apart. */
static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static void check_rejection(int r, const char *err, const uint8_t *data, size_t size)
{
    if (err[0] == '\0' || strchr(err, '\n') != NULL || strlen(err) >= SAMPLE_ERR_MAX)
        abort();
    if (r != SAMPLE_INVALID)
        return;
    /* SAMPLE_INVALID is well-formed JSON, which cJSON reads, except where
     * the scanner refuses what cJSON could not read either. */
    cJSON *o = cJSON_ParseWithLength((const char *)data, size);
    if (o == NULL && strstr(err, "too large") == NULL && strstr(err, "number too long") == NULL)
        abort();
    cJSON_Delete(o);
}

/* What cJSON reads must be what the view says. */
static void check_against_cjson(const cJSON *o, const struct sample_view *v)
{
    if (!cJSON_IsObject(o))
        abort();
    const cJSON *mac = cJSON_GetObjectItemCaseSensitive(o, "macA");
    if (!cJSON_IsString(mac) || strcmp(mac->valuestring, v->mac) != 0 || strlen(v->mac) != v->mac_len ||
        !sample_mac_valid(v->mac, v->mac_len))
        abort();
    for (int id = 0; id < SAMPLE_NUMBERS; id++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, number_names[id]);
        int present = (v->present >> id) & 1;
        if (present != (f != NULL))
            abort();
        if (present && (!cJSON_IsNumber(f) || !same_double(f->valuedouble, v->num[id]) ||
                        !isfinite(v->num[id])))
            abort();
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "isActive");
    if (v->active != (act == NULL ? -1 : cJSON_IsTrue(act) ? 1 : cJSON_IsFalse(act) ? 0 : -2))
        abort();
    const char *strs[] = { "osType", "cpuModel" };
    for (size_t k = 0; k < 2; k++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, strs[k]);
        if (s != NULL && (!cJSON_IsString(s) || strlen(s->valuestring) > SAMPLE_STR_MAX))
            abort();
    }
    int n = 0;
    for (const cJSON *f = o->child; f != NULL; f = f->next, n++) {
        if (f->string[0] == '\0' || strlen(f->string) > SAMPLE_KEY_MAX)
            abort();
        for (const cJSON *g = o->child; g != f; g = g->next)
            if (strcmp(f->string, g->string) == 0)
                abort();
    }
    if (n > SAMPLE_FIELDS_MAX)
        abort();
    if (!(v->mem_usage >= 0 && v->mem_usage <= 1))
        abort();
}

static void check_history(const char *json, const struct sample_view *v)
{
    static const struct { const char *name; int id; } hist[] = {
        { "cpuLoad", SAMPLE_CPU_LOAD }, { "usedMem", SAMPLE_USED_MEM }, { "freeMem", SAMPLE_FREE_MEM },
    };
    char buf[SAMPLE_HISTORY_MAX];
    int n = sample_history_entry(json, v, INT64_MIN, buf, sizeof(buf));
    if (n <= 0 || (size_t)n != strlen(buf))
        abort();
    cJSON *h = cJSON_Parse(buf);
    if (h == NULL)
        abort();
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(h, "memUsage");
    if (!cJSON_IsNumber(mu) || mu->valuedouble != v->mem_usage)
        abort();
    for (size_t k = 0; k < sizeof(hist) / sizeof(hist[0]); k++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(h, hist[k].name);
        if (((v->present >> hist[k].id) & 1) != (f != NULL))
            abort();
        if (f != NULL && (!cJSON_IsNumber(f) || f->valuedouble != v->num[hist[k].id]))
            abort();
    }
    cJSON_Delete(h);
}

/* The rewritten text scans as valid (active 1) or normalised (active 0),
 * with the same mac and memUsage, and cJSON reads it. */
static void check_rewrite(const char *json, size_t len, const struct sample_view *v, int r, int active)
{
    size_t cap = len + SAMPLE_REWRITE_EXTRA;
    char *out = malloc(cap);
    char err[SAMPLE_ERR_MAX];
    struct sample_view w;

    if (out == NULL)
        abort();
    int n = sample_rewrite(json, len, v, active, out, cap);
    if (n <= 0 || (size_t)n >= cap || (size_t)n != strlen(out))
        abort();
    if (r == SAMPLE_VALID && active && ((size_t)n != len || memcmp(out, json, len) != 0))
        abort();
    int r2 = sample_scan(out, (size_t)n, &w, err, sizeof(err));
    if (r2 != (active ? SAMPLE_VALID : SAMPLE_NORMALISED) || w.active != active || w.add_mem_usage ||
        w.mem_usage != v->mem_usage || strcmp(w.mac, v->mac) != 0 || sample_rewrite(json, len, v, active, out, cap - 1) != -1)
        abort();
    cJSON *o = cJSON_ParseWithLength(out, (size_t)n);
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(o, "memUsage");
    if (o == NULL || !cJSON_IsNumber(mu) || mu->valuedouble != v->mem_usage)
        abort();
    cJSON_Delete(o);
    free(out);
}

/* sample_each_number reports exactly cJSON's top-level numbers, in order,
 * with the same names and values. */
struct number_walk {
    const cJSON *next;   /* the tree's next field to compare with */
    int bad;
};

static void walk_number(const char *name, size_t name_len, double value, void *user)
{
    struct number_walk *w = user;
    while (w->next != NULL && !cJSON_IsNumber(w->next))
        w->next = w->next->next;
    if (w->next == NULL || strlen(name) != name_len || strcmp(w->next->string, name) != 0 ||
        !same_double(w->next->valuedouble, value))
        w->bad = 1;
    if (w->next != NULL)
        w->next = w->next->next;
}

static void check_numbers(const char *json, size_t len, const cJSON *o)
{
    struct number_walk w = { o->child, 0 };
    if (sample_each_number(json, len, walk_number, &w) != 0 || w.bad)
        abort();
    while (w.next != NULL && !cJSON_IsNumber(w.next))
        w.next = w.next->next;
    if (w.next != NULL)
        abort();   /* a number the walk did not report */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    char err[SAMPLE_ERR_MAX];
    struct sample_view v;

    sample_mac_valid(json, size);
    memset(err, 'X', sizeof(err));
    int r = sample_scan(json, size, &v, err, sizeof(err));
    if (r == SAMPLE_INVALID || r == SAMPLE_SYNTAX) {
        check_rejection(r, err, data, size);
        return 0;
    }
    if ((r != SAMPLE_VALID && r != SAMPLE_NORMALISED) || err[0] != '\0')
        abort();
    if ((r == SAMPLE_VALID) != (v.active == 1 && !v.add_mem_usage))
        abort();
    cJSON *o = cJSON_ParseWithLength(json, size);
    if (o == NULL)
        abort();
    check_against_cjson(o, &v);
    check_numbers(json, size, o);
    cJSON_Delete(o);
    check_history(json, &v);
    check_rewrite(json, size, &v, r, 1);
    check_rewrite(json, size, &v, r, 0);
    return 0;
}
