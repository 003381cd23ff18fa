/* sample.h -- the PerfLoad sample schema (DESIGN.md §3): validate,
 * normalise, and the machine-id rules shared by every component.
 *
 * A sample is a JSON object sent by an agent with initPerfData/perfData.
 * Its `macA` becomes a Redis key, a directory name under the FUSE mount and
 * a URL path segment, so sample_mac_valid() is the one gate all of them
 * use. Pure: no I/O, no allocation: the hot path of every sample in, and
 * of every sample read back from Redis. */
#ifndef PERFLOAD_SAMPLE_H
#define PERFLOAD_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define SAMPLE_MAC_MAX      64      /* macA length limit (bytes) */
#define SAMPLE_STR_MAX      256     /* osType, cpuModel (bytes) */
#define SAMPLE_FIELDS_MAX   64      /* top-level fields of one sample */
#define SAMPLE_EXTRA_DEPTH  4       /* nesting allowed inside an extra field */
#define SAMPLE_EXTRA_NODES  1024    /* JSON values inside all extra fields together */
#define SAMPLE_EXTRA_STR    1024    /* any string (or key) inside an extra field */
#define SAMPLE_KEY_MAX      64      /* top-level field name length */
#define SAMPLE_TEXT_MAX     65536   /* a sample's JSON text (bytes); real ones are ~1 KB */
#define SAMPLE_ERR_MAX      160     /* enough for every message sample_check writes */
#define SAMPLE_HISTORY_MAX  192     /* enough for sample_history_entry's output */

/* 1 when mac (len bytes, need not be NUL-terminated) is a valid machine id:
 * 1..SAMPLE_MAC_MAX characters of [0-9A-Za-z:._-], and not "." or "..".
 * 0 otherwise (empty, too long, '/', NUL, control or non-ASCII bytes). */
int sample_mac_valid(const char *mac, size_t len);

/* Outcome of sample_scan(). */
#define SAMPLE_VALID       0   /* valid and untouched: the received JSON text may be relayed as is */
#define SAMPLE_NORMALISED  1   /* valid once normalised: relay sample_rewrite(..., 1)'s text */
#define SAMPLE_INVALID    -1   /* valid JSON that breaks the schema: err names the field */
#define SAMPLE_SYNTAX     -2   /* not one well-formed JSON value (RFC 8259, UTF-8): err says where */

/* The numeric fields the schema knows, as indexes into sample_view. */
enum sample_number {
    SAMPLE_CPU_LOAD,     /* cpuLoad    % 0..100, required */
    SAMPLE_MEM_USAGE,    /* memUsage   0..1 */
    SAMPLE_MEM_USEAGE,   /* memUseage  0..1 (the original client's spelling) */
    SAMPLE_FREE_MEM,     /* freeMem    bytes 0..2^53 */
    SAMPLE_TOTAL_MEM,    /* totalMem   bytes 0..2^53 */
    SAMPLE_USED_MEM,     /* usedMem    bytes 0..2^53 */
    SAMPLE_UP_TIME,      /* upTime     s 0..2^53 */
    SAMPLE_CPU_SPEED,    /* cpuSpeed   MHz 0..1e6 */
    SAMPLE_NUM_CORES,    /* numCores   integer 1..4096 */
    SAMPLE_NUMBERS       /* count */
};

/* What sample_scan() learnt about one sample text. Offsets index the text
 * that was scanned; the view owns no memory and holds no pointer into the
 * text, so it may outlive it (but offsets only mean something with it). */
struct sample_view {
    char mac[SAMPLE_MAC_MAX + 1];   /* macA, decoded, NUL-terminated */
    size_t mac_len;
    int active;                     /* isActive as sent: 1 true, 0 false, -1 absent */
    unsigned present;               /* bit (1u << enum sample_number) per number present */
    double num[SAMPLE_NUMBERS];     /* the numbers' values (when present) */
    size_t num_off[SAMPLE_NUMBERS]; /* each number's token in the text */
    size_t num_len[SAMPLE_NUMBERS];
    size_t active_off, active_len;  /* isActive's value token (when active >= 0) */
    size_t close_off;               /* offset of the object's closing '}' */
    double mem_usage;               /* memUsage as relayed: sent, copied from memUseage, or derived */
    int add_mem_usage;              /* 1: memUsage is missing and sample_rewrite adds it */
};

/* Validates one sample's JSON text in a single pass, without building a
 * tree or allocating, and fills *v. The text must be exactly one JSON
 * object (whitespace around it allowed), at most SAMPLE_TEXT_MAX bytes,
 * strictly RFC 8259 (no leading zeros, no raw control characters, valid
 * escapes, valid UTF-8: it is relayed as is to browsers, which drop a
 * WebSocket on invalid UTF-8), with no \u0000 in any string (a C reader
 * would cut it short) and no duplicate top-level names after unescaping
 * (JSON.parse keeps the last, a C reader the first). Schema:
 *   - required: macA (see sample_mac_valid), cpuLoad, and a memory
 *     fraction: memUsage, or memUseage, or totalMem (> 0) with usedMem or
 *     freeMem to derive it from (rounded to 2 decimals, clamped to 0..1);
 *   - the numbers of enum sample_number: JSON numbers, finite, in range;
 *     osType and cpuModel strings <= SAMPLE_STR_MAX bytes (decoded);
 *     isActive a boolean;
 *   - any other field is passed through, bounded: at most SAMPLE_FIELDS_MAX
 *     top-level fields, names <= SAMPLE_KEY_MAX bytes, SAMPLE_EXTRA_DEPTH
 *     levels, SAMPLE_EXTRA_NODES values, SAMPLE_EXTRA_STR bytes per string
 *     or name, numbers finite;
 *   - every number token at most 63 characters (cJSON, still a reader of
 *     stored samples, cannot read a longer one), and a text that needs
 *     normalising at most SAMPLE_TEXT_MAX - SAMPLE_REWRITE_EXTRA bytes (so
 *     that its rewritten text scans again when read back).
 * Returns SAMPLE_VALID when the text may be relayed as is (memUsage present
 * and isActive true), SAMPLE_NORMALISED when it is valid but must be
 * rewritten first (memUsage to add, or isActive absent/false: a sample is
 * proof of life, so the server and not the agent decides when a machine is
 * inactive), or SAMPLE_INVALID / SAMPLE_SYNTAX with a one-line reason in err
 * (then *v is unspecified). */
int sample_scan(const char *json, size_t len, struct sample_view *v, char *err, size_t errlen);

/* Writes the scanned text with memUsage present (when add_mem_usage) and
 * isActive set to `active` (replaced in place or appended), everything else
 * byte for byte. json/len/v: a text sample_scan accepted and its view.
 * Returns the length written (NUL-terminated), or -1 when cap is less than
 * len + SAMPLE_REWRITE_EXTRA. */
#define SAMPLE_REWRITE_EXTRA 64
int sample_rewrite(const char *json, size_t len, const struct sample_view *v, int active,
                   char *out, size_t cap);

/* Writes the compact history entry of a scanned sample:
 * {"ts":<ms>,"cpuLoad":n,"memUsage":n,"usedMem":n,"freeMem":n} (numbers
 * the sample lacks are left out; memUsage is v->mem_usage, so present in
 * every accepted sample). A number is copied as its token in json when that
 * is short, formatted from its value otherwise. Returns the length written
 * (NUL-terminated), or -1 when buf is too small (SAMPLE_HISTORY_MAX always
 * suffices). */
int sample_history_entry(const char *json, const struct sample_view *v, int64_t ts_ms,
                         char *buf, size_t buflen);

/* Calls fn for every top-level field of a text sample_scan accepted whose
 * value is a number, in text order: the name unescaped (NUL-terminated, at
 * most SAMPLE_KEY_MAX bytes) and the value as strtod reads it. For readers
 * that need a sample's numbers without a tree (the Mongo writer). Returns 0,
 * or -1 when the walk met something a scanned text cannot hold (it stops
 * there; fields before it were reported). */
typedef void (*sample_number_fn)(const char *name, size_t name_len, double value, void *user);
int sample_each_number(const char *json, size_t len, sample_number_fn fn, void *user);

#endif
