/* ip_count.c -- connections per peer address (see ip_count.h). */
#include "ip_count.h"

#include <stdlib.h>
#include <string.h>

#include "farmhash.h"

#define IP_COUNT_MIN_BUCKETS 64

struct ip_entry {
    struct ip_entry *next;
    long count;
    char ip[IP_COUNT_ADDR_MAX + 1];
};

struct ip_count {
    struct ip_entry **buckets;
    size_t nbuckets;             /* a power of two */
    size_t nentries;
};

struct ip_count *ip_count_create(void)
{
    struct ip_count *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->nbuckets = IP_COUNT_MIN_BUCKETS;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void ip_count_destroy(struct ip_count *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct ip_entry *e = t->buckets[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(t->buckets);
    free(t);
}

static size_t ip_count_slot(const struct ip_count *t, const char *ip)
{
    return fh_fingerprint32(ip, strlen(ip)) & (t->nbuckets - 1);
}

static struct ip_entry **ip_count_find(const struct ip_count *t, const char *ip)
{
    struct ip_entry **pp = &t->buckets[ip_count_slot(t, ip)];
    while (*pp != NULL && strcmp((*pp)->ip, ip) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Doubles the table when it is fuller than one entry per bucket; a failed
 * allocation just keeps the longer chains. */
static void ip_count_grow(struct ip_count *t)
{
    if (t->nentries < t->nbuckets)
        return;
    size_t n = t->nbuckets * 2;
    struct ip_entry **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct ip_entry *e = t->buckets[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            size_t s = fh_fingerprint32(e->ip, strlen(e->ip)) & (n - 1);
            e->next = b[s];
            b[s] = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

int ip_count_acquire(struct ip_count *t, const char *ip, long cap)
{
    if (t == NULL || ip == NULL || strlen(ip) > IP_COUNT_ADDR_MAX)
        return -1;
    struct ip_entry **pp = ip_count_find(t, ip);
    if (*pp != NULL) {
        if (cap > 0 && (*pp)->count >= cap)
            return 0;
        (*pp)->count++;
        return 1;
    }
    struct ip_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -1;
    memcpy(e->ip, ip, strlen(ip) + 1);
    e->count = 1;
    *pp = e;
    t->nentries++;
    ip_count_grow(t);
    return 1;
}

void ip_count_release(struct ip_count *t, const char *ip)
{
    if (t == NULL || ip == NULL || strlen(ip) > IP_COUNT_ADDR_MAX)
        return;
    struct ip_entry **pp = ip_count_find(t, ip);
    struct ip_entry *e = *pp;
    if (e == NULL)
        return;
    if (--e->count > 0)
        return;
    *pp = e->next;
    free(e);
    t->nentries--;
}

long ip_count_get(const struct ip_count *t, const char *ip)
{
    if (t == NULL || ip == NULL || strlen(ip) > IP_COUNT_ADDR_MAX)
        return 0;
    struct ip_entry *const *pp = ip_count_find(t, ip);
    return *pp != NULL ? (*pp)->count : 0;
}

size_t ip_count_addresses(const struct ip_count *t)
{
    return t != NULL ? t->nentries : 0;
}
