/* fs_cache.h -- short-lived, shared snapshots of what Redis holds.
 *
 * `ls -l /perf/<mac>` stats every file; without a cache each stat would be
 * a Redis round trip. Snapshots live for ttl_ms (default 250 ms): values
 * are never older than that, and a whole-tree walk costs one HGETALL per
 * machine per ttl. Snapshots are reference counted and immutable, so a
 * reader keeps using its copy while another thread replaces it. Failures
 * are never cached: the next access tries Redis again. */
#ifndef PERFLOAD_FS_CACHE_H
#define PERFLOAD_FS_CACHE_H

#include <stdatomic.h>
#include <stdint.h>

#include "fs_redis.h"
#include "fs_render.h"

/* The machine list at one moment. */
struct fs_members {
    atomic_int refs;
    int64_t fetched_ms;          /* CLOCK_MONOTONIC ms */
    struct fs_names list;        /* sorted, every name valid */
};

/* One machine's rendered files at one moment. */
struct fs_snap {
    atomic_int refs;
    int64_t fetched_ms;
    char mac[FS_NAME_MAX + 1];
    struct fs_machine m;
};

/* Call once before the first access. ttl_ms 0 disables caching. */
int fs_cache_init(int ttl_ms);

/* The current machine list; release with fs_members_put(). 0 or -EIO. */
int fs_cache_members(struct fs_members **out);
void fs_members_put(struct fs_members *m);

/* 1 when mac is in the list (binary search), else 0. */
int fs_members_has(const struct fs_members *m, const char *mac);

/* mac's snapshot; release with fs_snap_put(). 0, -ENOENT (not a known
 * machine), -EIO (Redis unreachable) or -ENOMEM. */
int fs_cache_machine(const char *mac, struct fs_snap **out);

/* A snapshot for every machine in members (stale ones fetched in one
 * pipeline). out must hold members->list.count pointers; release each.
 * 0, -EIO or -ENOMEM (then nothing to release). */
int fs_cache_all(const struct fs_members *members, struct fs_snap **out);
void fs_snap_put(struct fs_snap *s);

#endif
