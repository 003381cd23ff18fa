/* fs_render.c -- a machine's Redis hash as perfload-fs files. See fs_render.h. */
#include "fs_render.h"
#include "textbuf.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FS_STRING_MAX 4096       /* longest string value we show */
#define FS_ARRAY_MAX 4096        /* most numbers in one array file */

enum fs_kind { FS_NUMBER, FS_STRING };

/* The contract files (DESIGN.md §7): file name, sample field, the legacy
 * spelling the original agents used (or NULL), and the JSON type required.
 * A field of any other type has no file rather than a misleading one. */
static const struct fs_core_field {
    const char *file;
    const char *field;
    const char *legacy;
    enum fs_kind kind;
} fs_core[] = {
    { "cpu_load",  "cpuLoad",  NULL,        FS_NUMBER },
    { "mem_usage", "memUsage", "memUseage", FS_NUMBER },
    { "free_mem",  "freeMem",  NULL,        FS_NUMBER },
    { "total_mem", "totalMem", NULL,        FS_NUMBER },
    { "used_mem",  "usedMem",  NULL,        FS_NUMBER },
    { "os_type",   "osType",   NULL,        FS_STRING },
    { "up_time",   "upTime",   NULL,        FS_NUMBER },
    { "cpu_model", "cpuModel", NULL,        FS_STRING },
    { "num_cores", "numCores", NULL,        FS_NUMBER },
    { "cpu_speed", "cpuSpeed", NULL,        FS_NUMBER },
};
#define FS_NCORE (sizeof(fs_core) / sizeof(fs_core[0]))

size_t fs_format_number(double v, char *buf, size_t len)
{
    int n;
    /* Integral values (bytes, seconds, core counts) print as plain integers;
     * the cast test avoids libm, which perfload-fs does not link. */
    if (v > -1e15 && v < 1e15 && (double)(long long)v == v) {
        n = snprintf(buf, len, "%lld", (long long)v);
    } else {
        n = snprintf(buf, len, "%.15g", v);
        if (strtod(buf, NULL) != v)
            n = snprintf(buf, len, "%.17g", v);
    }
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < len ? (size_t)n : len - 1;
}

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

int fs_snake_case(const char *key, char *out, size_t outlen)
{
    size_t o = 0;
    if (!key || !key[0] || outlen < 2)
        return -1;
    for (size_t i = 0; key[i]; i++) {
        char c = key[i];
        if (!is_upper(c) && !is_lower(c) && !is_digit(c) && c != '_')
            return -1;
        if (is_upper(c)) {
            char prev = i ? key[i - 1] : '\0';
            char next = key[i + 1];
            /* A word starts at an upper-case letter after a lower-case one
             * or a digit ("cpuLoad"), or at the last capital of an acronym
             * that is followed by lower case ("IPAddr" -> "ip_addr"). */
            if (i && prev != '_' &&
                (is_lower(prev) || is_digit(prev) || (is_upper(prev) && is_lower(next)))) {
                if (o + 1 >= outlen)
                    return -1;
                out[o++] = '_';
            }
            c = (char)(c - 'A' + 'a');
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

const struct fs_file *fs_machine_find(const struct fs_machine *m, const char *name)
{
    for (size_t i = 0; i < m->nfiles; i++)
        if (strcmp(m->files[i].name, name) == 0)
            return &m->files[i];
    return NULL;
}

void fs_machine_free(struct fs_machine *m)
{
    for (size_t i = 0; i < m->nfiles; i++)
        free(m->files[i].text);
    free(m->files);
    memset(m, 0, sizeof(*m));
}

/* Adds a file whose text is what t holds plus '\n', taking the text over
 * (t is left empty whatever happens). Returns 0, 1 when the name is taken,
 * the table is full or the text would pass FS_TEXT_MAX (the file is
 * skipped), -1 when out of memory. */
static int add_file_text(struct fs_machine *m, const char *name, struct textbuf *t)
{
    if (strlen(name) > FS_NAME_MAX || fs_machine_find(m, name) || m->nfiles >= FS_FILES_MAX) {
        textbuf_free(t);
        return 1;
    }
    if (m->nfiles == 0) {
        m->files = calloc(FS_FILES_MAX, sizeof(*m->files));
        if (!m->files) {
            textbuf_free(t);
            return -1;
        }
    }
    /* An append that failed is sticky, so take() is the one check needed. */
    textbuf_append(t, "\n", 1);
    size_t len;
    char *text = textbuf_take(t, &len);
    if (!text) {
        int rc = textbuf_error(t) == TEXTBUF_EFULL ? 1 : -1;
        textbuf_free(t);
        return rc;
    }
    struct fs_file *f = &m->files[m->nfiles++];
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->text = text;
    f->len = len;
    return 0;
}

/* add_file_text() for n bytes at body. */
static int add_file(struct fs_machine *m, const char *name, const char *body, size_t n)
{
    struct textbuf t;
    textbuf_init(&t, FS_TEXT_MAX);
    textbuf_append(&t, body, n);
    return add_file_text(m, name, &t);
}

/* Strings keep to one line: control characters become spaces, and a value
 * longer than FS_STRING_MAX is cut. */
static int add_string(struct fs_machine *m, const char *name, const char *s)
{
    struct textbuf t;
    size_t n = strnlen(s, FS_STRING_MAX);
    textbuf_init(&t, FS_TEXT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char shown = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        textbuf_append(&t, &shown, 1);
    }
    return add_file_text(m, name, &t);
}

static int add_number(struct fs_machine *m, const char *name, double v)
{
    char num[64];
    size_t n = fs_format_number(v, num, sizeof(num));
    return add_file(m, name, num, n);
}

/* An array of numbers becomes one line of space-separated values (per-core
 * load, load averages). Returns 1 (skipped) for any other array. */
static int add_number_array(struct fs_machine *m, const char *name, const cJSON *arr)
{
    struct textbuf t;
    char num[64];
    int count = 0;
    const cJSON *el;
    textbuf_init(&t, FS_TEXT_MAX);
    cJSON_ArrayForEach(el, arr) {
        if (!cJSON_IsNumber(el) || ++count > FS_ARRAY_MAX) {
            textbuf_free(&t);
            return 1;
        }
        if (count > 1)
            textbuf_append(&t, " ", 1);
        size_t n = fs_format_number(el->valuedouble, num, sizeof(num));
        textbuf_append(&t, num, n);
    }
    return add_file_text(m, name, &t);
}

/* One scalar (or number array) JSON value as a file; other shapes skipped. */
static int add_value(struct fs_machine *m, const char *name, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return add_number(m, name, v->valuedouble);
    if (cJSON_IsString(v) && v->valuestring)
        return add_string(m, name, v->valuestring);
    if (cJSON_IsBool(v))
        return add_file(m, name, cJSON_IsTrue(v) ? "1" : "0", 1);
    if (cJSON_IsArray(v))
        return add_number_array(m, name, v);
    return 1;
}

static int is_core_field(const char *key)
{
    if (strcmp(key, "macA") == 0 || strcmp(key, "isActive") == 0)
        return 1;
    for (size_t i = 0; i < FS_NCORE; i++)
        if (strcmp(key, fs_core[i].field) == 0 ||
            (fs_core[i].legacy && strcmp(key, fs_core[i].legacy) == 0))
            return 1;
    return 0;
}

/* Newer metrics the agent adds (DESIGN.md §3: new fields, never changed
 * ones) get a file each under their snake_case name; an object one level
 * deep is flattened ("swap": {"total": 1} -> swap_total). */
static int add_extras(struct fs_machine *m, const cJSON *sample)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, sample) {
        char name[FS_NAME_MAX + 1];
        if (!f->string || is_core_field(f->string) ||
            fs_snake_case(f->string, name, sizeof(name)) != 0)
            continue;
        int rc;
        if (cJSON_IsObject(f)) {
            const cJSON *c;
            rc = 0;
            cJSON_ArrayForEach(c, f) {
                char sub[FS_NAME_MAX + 1], full[2 * FS_NAME_MAX + 2];
                if (!c->string || cJSON_IsObject(c) ||
                    fs_snake_case(c->string, sub, sizeof(sub)) != 0)
                    continue;
                snprintf(full, sizeof(full), "%s_%s", name, sub);
                if ((rc = add_value(m, full, c)) < 0)
                    break;
            }
        } else {
            rc = add_value(m, name, f);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Strict decimal epoch ms: digits only, at most 15 of them. -1 otherwise. */
static int64_t parse_ms(const char *s)
{
    int64_t v = 0;
    size_t i;
    if (!s || !s[0])
        return -1;
    for (i = 0; s[i]; i++) {
        if (!is_digit(s[i]) || i >= 15)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int add_seconds(struct fs_machine *m, const char *name, int64_t ms)
{
    struct textbuf t;
    textbuf_init(&t, FS_TEXT_MAX);
    textbuf_printf(&t, "%lld", (long long)(ms / 1000));
    return add_file_text(m, name, &t);
}

static int render(struct fs_machine *m, const struct fs_hash_fields *h, cJSON *sample)
{
    int rc = 0;
    for (size_t i = 0; sample && i < FS_NCORE && rc >= 0; i++) {
        const struct fs_core_field *c = &fs_core[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sample, c->field);
        if (!v && c->legacy)
            v = cJSON_GetObjectItemCaseSensitive(sample, c->legacy);
        if (c->kind == FS_NUMBER && cJSON_IsNumber(v))
            rc = add_number(m, c->file, v->valuedouble);
        else if (c->kind == FS_STRING && cJSON_IsString(v) && v->valuestring)
            rc = add_string(m, c->file, v->valuestring);
    }
    if (rc < 0 || add_file(m, "is_active", m->active ? "1" : "0", 1) < 0)
        return -1;
    if (m->last_seen_ms > 0 && add_seconds(m, "last_seen", m->last_seen_ms) < 0)
        return -1;
    int64_t first = parse_ms(h->first_seen);
    if (first > 0 && add_seconds(m, "first_seen", first) < 0)
        return -1;
    if (sample && add_extras(m, sample) < 0)
        return -1;
    if (sample) {
        /* The stored JSON itself, byte for byte: it parsed, so it is JSON. */
        size_t n = h->sample_len;
        while (n && (h->sample[n - 1] == '\n' || h->sample[n - 1] == '\r'))
            n--;
        if (add_file(m, "sample.json", h->sample, n) < 0)
            return -1;
    }
    return 0;
}

int fs_render_machine(struct fs_machine *m, const struct fs_hash_fields *h)
{
    cJSON *sample = NULL;
    memset(m, 0, sizeof(*m));
    if (h->sample && h->sample_len > 0 && h->sample_len <= FS_SAMPLE_MAX) {
        const char *end = NULL;
        sample = cJSON_ParseWithLengthOpts(h->sample, h->sample_len, &end, 0);
        /* cJSON stops after the first value; "{}garbage" is not JSON and
         * must not be served as sample.json. */
        while (sample && end && end < h->sample + h->sample_len &&
               (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (sample && (!cJSON_IsObject(sample) || !end || end != h->sample + h->sample_len)) {
            cJSON_Delete(sample);
            sample = NULL;
        }
    }
    m->has_sample = sample != NULL;
    int64_t seen = parse_ms(h->last_seen);
    m->last_seen_ms = seen > 0 ? seen : 0;
    if (h->active && (strcmp(h->active, "1") == 0 || strcmp(h->active, "0") == 0))
        m->active = h->active[0] == '1';
    else
        m->active = sample && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sample, "isActive"));

    int rc = render(m, h, sample);
    cJSON_Delete(sample);
    if (rc < 0) {
        fs_machine_free(m);
        return -1;
    }
    return 0;
}

const char *fs_readme_text(void)
{
    return
"PerfLoad live metrics (perfload-fs, read-only)\n"
"\n"
"machines       one known machine per line: \"<mac> <1|0>\" (1 = active)\n"
"<mac>/         one directory per machine, values read live from Redis\n"
"\n"
"Each file holds one value and a newline. Units:\n"
"  cpu_load     CPU busy over the agent's last interval, percent 0-100\n"
"  mem_usage    used / total memory, fraction 0-1\n"
"  free_mem     available memory, bytes\n"
"  total_mem    total memory, bytes\n"
"  used_mem     used memory, bytes\n"
"  os_type      operating system name (e.g. Linux)\n"
"  up_time      machine uptime, seconds\n"
"  cpu_model    CPU model name\n"
"  num_cores    logical CPU count\n"
"  cpu_speed    CPU clock, MHz\n"
"  is_active    1 while the agent is connected and reporting, else 0\n"
"  last_seen    time of the latest sample, Unix epoch seconds\n"
"  first_seen   time of the first sample, Unix epoch seconds\n"
"  sample.json  the latest sample exactly as stored, JSON\n"
"Newer agent metrics appear under their snake_case field name (loadAvg ->\n"
"load_avg; an object {\"swap\":{\"total\":..}} -> swap_total); arrays of numbers\n"
"(per-core load) are one line of space-separated values.\n"
"A file's mtime is the sample time. Reads fail with EIO while Redis is\n"
"unreachable. See docs/fs.md.\n";
}
