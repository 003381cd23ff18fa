/* app_machines.c -- the worker's table of machines (see app_machines.h). */
#include "app_machines.h"

#include <stdlib.h>
#include <string.h>

#include "farmhash.h"

#define APP_MACHINES_BUCKETS 4096   /* power of two */

struct app_machines {
    struct app_machine *buckets[APP_MACHINES_BUCKETS];
    struct app_machine *all;
    size_t count;
    uint64_t version;
};

static size_t am_bucket(const char *mac)
{
    return fh_fingerprint32(mac, strlen(mac)) & (APP_MACHINES_BUCKETS - 1);
}

struct app_machines *app_machines_create(void)
{
    return calloc(1, sizeof(struct app_machines));
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
    free(t);
}

struct app_machine *app_machines_find(struct app_machines *t, const char *mac)
{
    for (struct app_machine *m = t->buckets[am_bucket(mac)]; m != NULL; m = m->chain)
        if (strcmp(m->mac, mac) == 0)
            return m;
    return NULL;
}

struct app_machine *app_machines_get(struct app_machines *t, const char *mac)
{
    struct app_machine *m = app_machines_find(t, mac);
    size_t len = strlen(mac);

    if (m != NULL)
        return m;
    if (t->count >= APP_MACHINES_MAX || len > SAMPLE_MAC_MAX)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    memcpy(m->mac, mac, len + 1);
    size_t b = am_bucket(mac);
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
