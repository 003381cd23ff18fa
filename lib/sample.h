/* sample.h -- the PerfLoad sample schema (DESIGN.md §3): validate,
 * normalise, and the machine-id rules shared by every component.
 *
 * A sample is a JSON object sent by an agent with initPerfData/perfData.
 * Its `macA` becomes a Redis key, a directory name under the FUSE mount and
 * a URL path segment, so sample_mac_valid() is the one gate all of them
 * use. Pure: no I/O, no allocation except through cJSON on the caller's
 * tree. */
#ifndef PERFLOAD_SAMPLE_H
#define PERFLOAD_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

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

/* Outcome of sample_check(). */
#define SAMPLE_VALID       0   /* valid and untouched: the received JSON text may be relayed as is */
#define SAMPLE_NORMALISED  1   /* valid after changes to obj: serialise obj again */
#define SAMPLE_INVALID    -1   /* rejected: err holds a one-line reason naming the field */

/* Validates obj (the event's argument) against the schema and normalises it
 * in place:
 *   - required: macA (see sample_mac_valid), cpuLoad (number 0..100), and a
 *     memory fraction: memUsage (0..1), or the original client's memUseage
 *     (sic), or usedMem+totalMem / freeMem+totalMem to derive it from;
 *   - typed when present: freeMem totalMem usedMem (bytes, 0..2^53),
 *     upTime (s, >= 0), cpuSpeed (MHz, 0..1e6), numCores (integer 1..4096),
 *     osType cpuModel (strings <= SAMPLE_STR_MAX), isActive (bool);
 *   - every number finite; no duplicate top-level names;
 *   - extra fields are passed through, bounded: at most SAMPLE_FIELDS_MAX
 *     fields, SAMPLE_EXTRA_DEPTH levels, SAMPLE_EXTRA_NODES values,
 *     SAMPLE_EXTRA_STR bytes per string.
 * Normalisation: memUseage is copied to memUsage (memUseage is kept for old
 * dashboards); a missing memUsage is derived (2 decimals); isActive is set
 * to true (a sample is proof of life: the server, not the agent, decides
 * when a machine is inactive). Returns SAMPLE_VALID, SAMPLE_NORMALISED or
 * SAMPLE_INVALID (then obj may be partly modified: discard it). */
int sample_check(cJSON *obj, char *err, size_t errlen);

/* Checks the sample's JSON text as received, for what the parsed tree
 * cannot show: its size (at most SAMPLE_TEXT_MAX bytes: it is stored in
 * Redis and sent to every dashboard), and escaped NULs (\u0000 makes cJSON
 * cut the string short, so the text a dashboard would parse differs from
 * what sample_check saw). Returns 0 when the text is safe to relay,
 * SAMPLE_INVALID with a reason. */
int sample_raw_check(const char *json, size_t len, char *err, size_t errlen);

/* The validated sample's macA (points into obj). NULL if absent. */
const char *sample_mac(const cJSON *obj);

/* Writes the compact history entry for a validated sample:
 * {"ts":<ms>,"cpuLoad":n,"memUsage":n,"usedMem":n,"freeMem":n} (fields the
 * sample lacks are left out). Returns the length written (NUL-terminated),
 * or -1 when buf is too small (SAMPLE_HISTORY_MAX always suffices). */
int sample_history_entry(const cJSON *obj, int64_t ts_ms, char *buf, size_t buflen);

/* Sets isActive in a sample (adding the field if needed). 0, or -1 on
 * allocation failure. Used to build the offline `data` from a last sample. */
int sample_set_active(cJSON *obj, int active);

#endif
