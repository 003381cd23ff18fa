/* fs_cache.c -- TTL snapshots of the machine list and machine hashes. */
#include "fs_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FC_BUCKETS 1024

struct fc_node {
    struct fs_snap *snap;        /* the map's own reference */
    struct fc_node *next;
};

static int fc_ttl_ms;
static pthread_mutex_t fc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fs_members *fc_members;       /* guarded by fc_lock; the cache's reference */
static struct fc_node *fc_map[FC_BUCKETS];  /* guarded by fc_lock */

static int64_t fc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fc_fresh(int64_t fetched_ms, int64_t now)
{
    return fc_ttl_ms > 0 && now - fetched_ms < fc_ttl_ms;
}

int fs_cache_init(int ttl_ms)
{
    fc_ttl_ms = ttl_ms;
    return 0;
}

void fs_members_put(struct fs_members *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        fs_names_free(&m->list);
        free(m);
    }
}

int fs_members_has(const struct fs_members *m, const char *mac)
{
    size_t lo = 0, hi = m->list.count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(mac, m->list.names[mid]);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

int fs_cache_members(struct fs_members **out)
{
    int64_t now = fc_now_ms();
    pthread_mutex_lock(&fc_lock);
    if (fc_members && fc_fresh(fc_members->fetched_ms, now)) {
        atomic_fetch_add(&fc_members->refs, 1);
        *out = fc_members;
        pthread_mutex_unlock(&fc_lock);
        return 0;
    }
    pthread_mutex_unlock(&fc_lock);

    /* Fetch without the lock: a slow Redis must only delay this caller. */
    struct fs_members *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    if (fs_redis_members(&m->list) != 0) {
        free(m);
        return -EIO;
    }
    m->fetched_ms = now;
    atomic_init(&m->refs, 2);   /* the cache's and the caller's */
    pthread_mutex_lock(&fc_lock);
    struct fs_members *old = fc_members;
    fc_members = m;
    pthread_mutex_unlock(&fc_lock);
    fs_members_put(old);
    *out = m;
    return 0;
}

void fs_snap_put(struct fs_snap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        fs_machine_free(&s->m);
        free(s);
    }
}

static unsigned fc_bucket(const char *mac)
{
    unsigned h = 2166136261u;   /* FNV-1a */
    for (; *mac; mac++)
        h = (h ^ (unsigned char)*mac) * 16777619u;
    return h % FC_BUCKETS;
}

/* Under fc_lock: a fresh snapshot of mac with a reference for the caller. */
static struct fs_snap *fc_lookup(const char *mac, int64_t now)
{
    for (struct fc_node *n = fc_map[fc_bucket(mac)]; n; n = n->next)
        if (strcmp(n->snap->mac, mac) == 0 && fc_fresh(n->snap->fetched_ms, now)) {
            atomic_fetch_add(&n->snap->refs, 1);
            return n->snap;
        }
    return NULL;
}

/* Under fc_lock: puts s in the map in place of any older snapshot of the
 * same machine, dropping expired neighbours on the way so the map never
 * holds more than the machines touched within the last ttl. */
static void fc_insert(struct fs_snap *s, int64_t now)
{
    struct fc_node **pp = &fc_map[fc_bucket(s->mac)];
    while (*pp) {
        struct fc_node *n = *pp;
        if (strcmp(n->snap->mac, s->mac) == 0 || !fc_fresh(n->snap->fetched_ms, now)) {
            *pp = n->next;
            fs_snap_put(n->snap);
            free(n);
        } else {
            pp = &n->next;
        }
    }
    if (fc_ttl_ms <= 0)
        return;
    struct fc_node *n = malloc(sizeof(*n));
    if (!n)
        return;     /* not cached: harmless */
    atomic_fetch_add(&s->refs, 1);
    n->snap = s;
    n->next = *pp;
    *pp = n;
}

/* Fetches count machines in one pipeline and caches them; out[i] gets a
 * reference each. */
static int fc_fetch(const char *const *macs, size_t count, struct fs_snap **out, int64_t now)
{
    struct fs_machine *ms = calloc(count ? count : 1, sizeof(*ms));
    if (!ms)
        return -ENOMEM;
    if (fs_redis_machines(macs, count, ms) != 0) {
        free(ms);
        return -EIO;
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        struct fs_snap *s = rc == 0 ? calloc(1, sizeof(*s)) : NULL;
        if (!s) {
            rc = -ENOMEM;
            fs_machine_free(&ms[i]);
            continue;
        }
        atomic_init(&s->refs, 1);
        s->fetched_ms = now;
        strncpy(s->mac, macs[i], FS_NAME_MAX);
        s->m = ms[i];
        out[i] = s;
    }
    if (rc != 0) {
        for (size_t i = 0; i < count; i++)
            if (out[i])
                fs_snap_put(out[i]);
        free(ms);
        return rc;
    }
    pthread_mutex_lock(&fc_lock);
    for (size_t i = 0; i < count; i++)
        fc_insert(out[i], now);
    pthread_mutex_unlock(&fc_lock);
    free(ms);
    return 0;
}

int fs_cache_machine(const char *mac, struct fs_snap **out)
{
    struct fs_members *members;
    int rc = fs_cache_members(&members);
    if (rc != 0)
        return rc;
    int known = fs_members_has(members, mac);
    fs_members_put(members);
    if (!known)
        return -ENOENT;

    int64_t now = fc_now_ms();
    pthread_mutex_lock(&fc_lock);
    *out = fc_lookup(mac, now);
    pthread_mutex_unlock(&fc_lock);
    if (*out)
        return 0;
    *out = NULL;
    return fc_fetch(&mac, 1, out, now);
}

int fs_cache_all(const struct fs_members *members, struct fs_snap **out)
{
    size_t count = members->list.count, nstale = 0;
    const char **stale = calloc(count ? count : 1, sizeof(char *));
    size_t *where = calloc(count ? count : 1, sizeof(size_t));
    struct fs_snap **fetched = calloc(count ? count : 1, sizeof(*fetched));
    int rc = 0;
    if (!stale || !where || !fetched) {
        rc = -ENOMEM;
        goto done;
    }
    int64_t now = fc_now_ms();
    pthread_mutex_lock(&fc_lock);
    for (size_t i = 0; i < count; i++) {
        out[i] = fc_lookup(members->list.names[i], now);
        if (!out[i]) {
            where[nstale] = i;
            stale[nstale++] = members->list.names[i];
        }
    }
    pthread_mutex_unlock(&fc_lock);
    if (nstale && (rc = fc_fetch(stale, nstale, fetched, now)) != 0) {
        for (size_t i = 0; i < count; i++)
            if (out[i])
                fs_snap_put(out[i]);
        goto done;
    }
    for (size_t k = 0; k < nstale; k++)
        out[where[k]] = fetched[k];
done:
    free(stale);
    free(where);
    free(fetched);
    return rc;
}
