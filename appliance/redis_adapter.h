/* redis_adapter.h -- cross-worker and cross-appliance fan-out of `data`.
 *
 * A broadcast to room 'ui' is delivered by the worker that produced it to
 * its own 'ui' members directly (so it works while Redis is down), and
 * published on the channel `<prefix>ui` as `<origin>\n<json>` (origin = this
 * worker's random 16-hex node id). A worker that has dashboards subscribes
 * to that channel on its own link (redis_adapter_listen), drops messages
 * with its own origin and hands the others to deliver(): each UI socket
 * gets each message exactly once. A worker without dashboards does not
 * subscribe: Redis then sends each sample only to the workers that relay
 * it, and those without dashboards spend nothing on the others' samples.
 *
 * PUBLISH goes on the caller's command link (shared with the live state, so
 * a state write queued before a PUBLISH reaches Redis first); SUBSCRIBE on
 * a link this adapter owns, re-issued after every reconnect. Messages sent
 * while a link is down are lost for the other workers (never queued): the
 * next sample carries the current state anyway. */
#ifndef PERFLOAD_REDIS_ADAPTER_H
#define PERFLOAD_REDIS_ADAPTER_H

#include <stddef.h>

struct lws_context;
struct lws_vhost;
struct redis_url;
struct redis_loop;
struct worker_stats;
struct redis_adapter;

#define REDIS_ADAPTER_NODE_ID_LEN 16

struct redis_adapter_options {
    struct lws_context *ctx;
    struct lws_vhost *vhost;          /* must include redis_loop_protocol() */
    const struct redis_url *url;      /* for the subscriber link */
    struct redis_loop *pub;           /* the command link PUBLISH goes on (not owned) */
    const char *prefix;               /* key prefix, e.g. "perfload:" */
    const char *who;                  /* log tag, e.g. "worker 0 (pid 12)" */
    /* A message from another worker: json/len is the `data` argument. */
    void (*deliver)(const char *json, size_t len, void *user);
    /* The subscription started (confirmed) or was lost (the link went
     * down while subscribed). */
    void (*on_state)(int up, void *user);
    void *user;
    struct worker_stats *stats;
    int log_level;
};

/* Creates the adapter and starts its subscriber link. NULL on allocation
 * failure. */
struct redis_adapter *redis_adapter_create(const struct redis_adapter_options *opts);

/* This worker's node id (16 hex chars, NUL-terminated). */
const char *redis_adapter_node_id(const struct redis_adapter *ad);

/* Whether this worker wants the other workers' messages (it has
 * dashboards). On: subscribes now, or as soon as the link is up (and again
 * after every reconnect); on_state(1) follows the confirmation. Off: leaves
 * the subscription, without an on_state(0) (nothing was lost that anyone
 * waits for); the link stays up, idle. Starts off. */
void redis_adapter_listen(struct redis_adapter *ad, int on);

/* 1 when subscribed (messages from other workers arrive). */
int redis_adapter_subscribed(const struct redis_adapter *ad);

/* 1 when the subscriber link is connected, subscribed or not (health). */
int redis_adapter_link_up(const struct redis_adapter *ad);

/* Publishes json to the other workers. 0, or -1 when the command link is
 * down or out of memory (the message is dropped, not queued). */
int redis_adapter_publish(struct redis_adapter *ad, const char *json, size_t len);

/* Closes the subscriber link and frees. NULL is a no-op. */
void redis_adapter_destroy(struct redis_adapter *ad);

/* Splits a channel message into origin and json: 0 with the origin and json slices
 * set, or -1 when malformed. Exposed for unit tests. */
int redis_adapter_parse_message(const char *msg, size_t len, const char **origin,
                                size_t *origin_len, const char **json, size_t *json_len);

#endif
