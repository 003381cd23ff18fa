/* fs_redis.h -- perfload-fs's synchronous Redis access.
 *
 * FUSE calls us from many threads and a hiredis context is not thread-safe,
 * so each thread owns its own connection (a pthread key; the destructor
 * frees it when libfuse retires the thread). Every connect and every
 * command is bounded by a timeout, so a read never waits for Redis longer
 * than about twice that. A connection that failed is dropped and the next
 * call on that thread reconnects: Redis coming back needs no remount. */
#ifndef PERFLOAD_FS_REDIS_H
#define PERFLOAD_FS_REDIS_H

#include <stddef.h>

#include "fs_render.h"
#include "redis_url.h"

struct fs_redis_conf {
    struct redis_url url;        /* where Redis is (lib/redis_url.h) */
    char prefix[64];             /* key prefix, e.g. "perfload:" */
    int timeout_ms;              /* connect and per-command timeout */
};

/* Takes a copy of conf. Call once, before any thread uses Redis. */
int fs_redis_init(const struct fs_redis_conf *conf);

/* A list of machine ids, each a valid directory name, sorted. */
struct fs_names {
    char **names;
    size_t count;
};
void fs_names_free(struct fs_names *n);

/* SMEMBERS <prefix>machines, keeping only names sample_mac_valid()
 * accepts, except "README" and "machines" (the top-level files). Returns 0 or -1 (Redis unreachable or a malformed reply). */
int fs_redis_members(struct fs_names *out);

/* HGETALL <prefix>machine:<mac> for each of count macs in one pipelined
 * round trip, rendered with fs_render_machine() into out[i] (an absent
 * hash renders as an inactive machine without metrics). Returns 0, or -1
 * with every out[i] empty. */
int fs_redis_machines(const char *const *macs, size_t count, struct fs_machine *out);

#endif
