/* app_machines.h -- what one worker knows about every machine.
 *
 * Redis holds the cluster's live state; this table is the worker's own
 * copy, fed by its agents' samples and by the other workers' `data` it
 * receives over pub/sub. It answers what Redis cannot while Redis is down:
 * the machines a UI sees on clientAuth, the last sample to turn into an
 * offline `data` when an agent leaves, and which agents are connected here.
 * Bounded (APP_MACHINES_MAX entries). An entry lives as long as the table,
 * so a pointer to it may be kept (an agent's socket keeps its machine's).
 * Single-threaded, like the loop. */
#ifndef PERFLOAD_APP_MACHINES_H
#define PERFLOAD_APP_MACHINES_H

#include <stddef.h>
#include <stdint.h>

#include "redis_state.h"
#include "sample.h"

#define APP_MACHINES_MAX 100000

struct app_machine {
    char mac[SAMPLE_MAC_MAX + 1];
    char *json;              /* last sample as relayed, isActive as known (owned) */
    size_t len;
    size_t cap;              /* bytes allocated at json */
    int64_t last_seen_ms;    /* when that sample arrived here */
    int active;
    int local_agents;        /* sockets on this worker reporting this machine */
    int offline_pending;     /* went offline while Redis was down: tell Redis when back */
    unsigned mark;           /* scratch for one walk (e.g. a UI snapshot) */
    struct redis_state_mark redis; /* which of its state writes Redis still needs */
    uint64_t version;        /* the table's version when json last changed */
    uint32_t hash;               /* of mac, to skip most string compares */
    struct app_machine *chain;   /* next in the hash bucket */
    struct app_machine *next;    /* next in the table-wide list */
};

struct app_machines;

struct app_machines *app_machines_create(void);
void app_machines_destroy(struct app_machines *t);

/* The entry for mac, or NULL when unknown. */
struct app_machine *app_machines_find(struct app_machines *t, const char *mac);

/* The entry for mac, created (json NULL, inactive) when unknown. NULL when
 * the table is full or out of memory. mac must be sample_mac_valid. */
struct app_machine *app_machines_get(struct app_machines *t, const char *mac);

/* Replaces m's sample text with a copy of json and stamps it with a new
 * table version. 0, or -1 out of memory (the old text is kept). */
int app_machine_set_json(struct app_machines *t, struct app_machine *m, const char *json, size_t len);

/* The table's version: grows by one with every app_machine_set_json. A
 * reader that notes it before an asynchronous read of Redis can tell which
 * entries changed here meanwhile (version greater than the noted one) and
 * are newer than what Redis returned. */
uint64_t app_machines_version(const struct app_machines *t);

/* First entry of the table-wide list (then follow ->next). */
struct app_machine *app_machines_first(struct app_machines *t);

size_t app_machines_count(const struct app_machines *t);

#endif
