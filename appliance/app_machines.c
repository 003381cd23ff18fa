/* app_machines.c -- the worker's table of machines (see app_machines.h). */
#include "app_machines.h"

#include <stdlib.h>
#include <string.h>

#include "farmhash.h"

/* Buckets double whenever entries outnumber them, so a chain stays about
 * one entry long at any size (a fixed 4096 meant ~25 string compares per
 * sample at 100,000 machines). */
#define APP_MACHINES_BUCKETS_MIN 1024   /* power of two */

struct app_machines {
    struct app_machine **buckets;
    size_t nbuckets;               /* power of two */
    struct app_machine *all;
    size_t count;
    uint64_t version;
};

static uint32_t am_hash(const char *mac, size_t len)
{
    return fh_fingerprint32(mac, len);
}

struct app_machines *app_machines_create(void)
{
    struct app_machines *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->nbuckets = APP_MACHINES_BUCKETS_MIN;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void app_machines_destroy(struct app_machines *t)
{
    if (t == NULL)
        return;
    struct app_machine *m = t->all;
    while (m != NULL) {
        struct app_machine *next = m->next;
        free(m->json);
        free(m);
        m = next;
    }
    free(t->buckets);
    free(t);
}

static struct app_machine *am_find(struct app_machines *t, const char *mac, uint32_t h)
{
    for (struct app_machine *m = t->buckets[h & (t->nbuckets - 1)]; m != NULL; m = m->chain)
        if (m->hash == h && strcmp(m->mac, mac) == 0)
            return m;
    return NULL;
}

struct app_machine *app_machines_find(struct app_machines *t, const char *mac)
{
    return am_find(t, mac, am_hash(mac, strlen(mac)));
}

/* Doubles the buckets; on allocation failure the table keeps working with
 * longer chains. */
static void am_grow(struct app_machines *t)
{
    size_t n = t->nbuckets * 2;
    struct app_machine **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (struct app_machine *m = t->all; m != NULL; m = m->next) {
        size_t i = m->hash & (n - 1);
        m->chain = b[i];
        b[i] = m;
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

struct app_machine *app_machines_get(struct app_machines *t, const char *mac)
{
    size_t len = strlen(mac);
    uint32_t h = am_hash(mac, len);
    struct app_machine *m = am_find(t, mac, h);

    if (m != NULL)
        return m;
    if (t->count >= APP_MACHINES_MAX || len > SAMPLE_MAC_MAX)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    memcpy(m->mac, mac, len + 1);
    m->hash = h;
    if (t->count >= t->nbuckets)
        am_grow(t);
    size_t b = h & (t->nbuckets - 1);
    m->chain = t->buckets[b];
    t->buckets[b] = m;
    m->next = t->all;
    t->all = m;
    t->count++;
    return m;
}

int app_machine_set_json(struct app_machines *t, struct app_machine *m, const char *json, size_t len)
{
    /* A machine's samples are about the same size every second: keep the
     * buffer and allocate only when one outgrows it. */
    if (m->json == NULL || len + 1 > m->cap) {
        size_t cap = len + 1 + 32;   /* room for a few more digits */
        char *buf = malloc(cap);
        if (buf == NULL)
            return -1;
        free(m->json);
        m->json = buf;
        m->cap = cap;
    }
    memcpy(m->json, json, len);
    m->json[len] = '\0';
    m->len = len;
    m->version = ++t->version;
    return 0;
}

uint64_t app_machines_version(const struct app_machines *t)
{
    return t->version;
}

struct app_machine *app_machines_first(struct app_machines *t)
{
    return t->all;
}

size_t app_machines_count(const struct app_machines *t)
{
    return t->count;
}
