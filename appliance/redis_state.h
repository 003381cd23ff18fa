/* redis_state.h -- the live state in Redis (keys in docs/architecture.md).
 *
 *   P machines         SET   every known macA
 *   P machine:<mac>    HASH  sample, lastSeen, firstSeen, active
 *   P history:<mac>    LIST  newest first; read the first history_len entries
 *                            (trimmed to that every REDIS_STATE_TRIM_EVERY samples)
 *   P alive            ZSET  macA -> lastSeen ms, for active machines
 *
 * Every call queues commands on the shared command link and returns at
 * once; replies come back through the callbacks. Writes of one loop turn
 * leave in one write() (see redis_loop.h). Liveness is claimed exactly once
 * across the cluster with ZREM inside small Lua scripts (EVAL): whoever
 * removes a mac from `P alive` publishes its offline `data`.
 *
 * The scripts build `P machine:<mac>` from the prefix rather than taking
 * every key in KEYS, so they need a single Redis (or Sentinel), not Redis
 * Cluster. */
#ifndef PERFLOAD_REDIS_STATE_H
#define PERFLOAD_REDIS_STATE_H

#include <stddef.h>
#include <stdint.h>

struct redis_loop;
struct worker_stats;
struct redis_state;

struct redis_state_options {
    struct redis_loop *link;     /* the command link (not owned) */
    const char *prefix;          /* "perfload:" */
    int history_len;             /* LTRIM bound, >= 1 */
    const char *who;             /* log tag, e.g. "worker 0 (pid 12)" */
    struct worker_stats *stats;  /* redis_errors counted here; may be NULL */
    int log_level;
};

struct redis_state *redis_state_create(const struct redis_state_options *opts);
void redis_state_destroy(struct redis_state *st);

/* What a sample write carries beyond the per-sample minimum (HSET sample /
 * lastSeen / active 1, LPUSH history, ZADD alive):
 *   REDIS_STATE_FIRST  SADD machines + HSETNX firstSeen: on a machine's first
 *                      sample of an epoch (redis_state_epoch), so a restarted
 *                      or emptied Redis gets them back;
 *   REDIS_STATE_TRIM   LTRIM the history to history_len: every
 *                      REDIS_STATE_TRIM_EVERY samples of a machine and with
 *                      FIRST. Between trims the list may hold up to
 *                      TRIM_EVERY - 1 entries more than history_len; readers
 *                      read at most history_len (LRANGE 0 history_len-1). */
#define REDIS_STATE_FIRST       1u
#define REDIS_STATE_TRIM        2u
#define REDIS_STATE_TRIM_EVERY  16

/* Queues the writes for one accepted sample (see the flags above). json is
 * the sample as relayed, hist its history entry. 0, or -1 when the link is
 * down or full (then possibly only part was queued: send FIRST next time,
 * see redis_state_mark_failed). */
int redis_state_sample_flags(struct redis_state *st, const char *mac, const char *json, size_t len,
                             const char *hist, size_t hist_len, int64_t ts_ms, unsigned flags);

/* Changes whenever what FIRST writes may be missing from Redis: each time
 * the command link comes up (a restarted Redis, a failover), and when a
 * sample's reply shows its machine hash had vanished (FLUSHALL, eviction,
 * a DEL by hand). Never 0 while the link is up; 0 while down. */
unsigned redis_state_epoch(struct redis_state *st);

/* Per-machine bookkeeping for the flags: zero it when the machine is
 * created, pass it for every sample. */
struct redis_state_mark {
    unsigned epoch;      /* redis_state_epoch() of the last FIRST write; 0 = none */
    unsigned writes;     /* samples written since the last TRIM */
};

/* The flags the next sample of the machine behind mk needs (FIRST | TRIM on
 * its first sample of an epoch, TRIM every REDIS_STATE_TRIM_EVERY), and
 * counts that sample. */
unsigned redis_state_next_flags(struct redis_state *st, struct redis_state_mark *mk);

/* A write of that machine was not (fully) queued: its next one is FIRST. */
void redis_state_mark_failed(struct redis_state_mark *mk);

/* Claim outcomes. */
#define REDIS_STATE_CLAIMED      1   /* we removed it from P alive: publish the offline data */
#define REDIS_STATE_NOT_CLAIMED  0   /* someone else did, or it was not alive */
#define REDIS_STATE_FAILED      -1   /* link lost or error: outcome unknown */

/* Called once per claimed machine (and once with NOT_CLAIMED/FAILED for a
 * single-mac claim). sample/len: the stored sample (NULL when none);
 * last_seen_ms its lastSeen (0 when none). All pointers valid only during
 * the call. */
typedef void (*redis_state_claim_fn)(int status, const char *mac, const char *sample, size_t len,
                                     int64_t last_seen_ms, void *user);

/* An agent left: claims mac (ZREM P alive) and marks it active 0. Returns
 * 0 and fn is called exactly once later (CLAIMED with the stored sample,
 * NOT_CLAIMED, or FAILED), or -1 when the link is down and fn is never
 * called. */
int redis_state_claim(struct redis_state *st, const char *mac, redis_state_claim_fn fn, void *user);

/* Liveness sweep: claims every mac in P alive whose lastSeen is older than
 * cutoff_ms (at most 256 per call) and calls fn(CLAIMED, ...) for each.
 * -1 when the link is down (fn not called). */
int redis_state_sweep(struct redis_state *st, int64_t cutoff_ms, redis_state_claim_fn fn,
                      void *user);

/* Stores the offline sample of mac (sample = json, active 0, not in P
 * alive) unless a sample newer than last_seen_ms was stored meanwhile (the
 * agent came back). Used after a claim and, after an outage, for agents
 * that left while Redis was unreachable. 0, or -1 when the link is down. */
int redis_state_store_offline(struct redis_state *st, const char *mac, const char *json, size_t len,
                              int64_t last_seen_ms);

/* One known machine in a snapshot. */
struct redis_state_machine {
    const char *mac;
    const char *sample;      /* JSON text, valid during the callback only */
    size_t len;
    int64_t last_seen_ms;
};

/* Called once: status 0 with every known machine's stored sample, or
 * REDIS_STATE_FAILED (n = 0). */
typedef void (*redis_state_snapshot_fn)(int status, const struct redis_state_machine *machines,
                                        size_t n, void *user);

/* Reads every known machine (for a UI that just authenticated). 0, or -1
 * when the link is down (fn not called). */
int redis_state_snapshot(struct redis_state *st, redis_state_snapshot_fn fn, void *user);

#endif
