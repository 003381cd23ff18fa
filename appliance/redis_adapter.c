/* redis_adapter.c -- pub/sub fan-out of room 'ui' (see redis_adapter.h). */
#include "redis_adapter.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "redis_loop.h"
#include "redis_url.h"
#include "stats.h"

/* Messages up to this size are framed on the stack. */
#define RA_STACK_MSG 4096

struct redis_adapter {
    struct redis_loop *pub;        /* not owned */
    struct redis_loop *sub;        /* owned */
    char channel[128];
    size_t channel_len;
    char node_id[REDIS_ADAPTER_NODE_ID_LEN + 1];
    int want;                      /* redis_adapter_listen(1): this worker has dashboards */
    int pending;                   /* SUBSCRIBE sent on this connection, not confirmed yet */
    int subscribed;
    void (*deliver)(const char *, size_t, void *);
    void (*on_state)(int, void *);
    void *user;
    struct worker_stats *stats;
    long long next_check_ms;       /* a PUBLISH goes answered then (redis_loop_check_due) */
};

static void ra_make_node_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[REDIS_ADAPTER_NODE_ID_LEN / 2];

    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
        /* No entropy yet (early boot): pid and time still tell workers apart. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long v = ((unsigned long long)getpid() << 40) ^ (unsigned long long)ts.tv_nsec ^
                               ((unsigned long long)ts.tv_sec << 20);
        memcpy(rnd, &v, sizeof(rnd));
    }
    for (size_t i = 0; i < sizeof(rnd); i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[REDIS_ADAPTER_NODE_ID_LEN] = '\0';
}

int redis_adapter_parse_message(const char *msg, size_t len, const char **origin,
                                size_t *origin_len, const char **json, size_t *json_len)
{
    const char *nl = msg != NULL ? memchr(msg, '\n', len) : NULL;
    if (nl == NULL || nl == msg || (size_t)(nl - msg) + 1 >= len)
        return -1;
    *origin = msg;
    *origin_len = (size_t)(nl - msg);
    *json = nl + 1;
    *json_len = len - *origin_len - 1;
    return 0;
}

/* Every reply on the subscriber link: the SUBSCRIBE confirmation and each
 * message, as ["subscribe"|"message", channel, payload]; NULL when the
 * link is gone. */
static void ra_on_sub_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_adapter *ad = privdata;
    redisReply *reply = r;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
        return;
    const redisReply *kind = reply->element[0], *payload = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(kind->str, "subscribe") == 0) {
        ad->pending = 0;
        if (!ad->subscribed) {
            ad->subscribed = 1;
            if (ad->on_state != NULL)
                ad->on_state(1, ad->user);
        }
        return;
    }
    if (strcmp(kind->str, "message") != 0 || payload->type != REDIS_REPLY_STRING)
        return;

    const char *origin, *json;
    size_t origin_len, json_len;
    if (redis_adapter_parse_message(payload->str, payload->len, &origin, &origin_len, &json,
                                    &json_len) != 0) {
        if (ad->stats != NULL)
            atomic_fetch_add(&ad->stats->protocol_errors, 1);
        return;
    }
    if (origin_len == REDIS_ADAPTER_NODE_ID_LEN && memcmp(origin, ad->node_id, origin_len) == 0)
        return;   /* our own: already delivered locally */
    if (!ad->subscribed)
        return;   /* in flight while we stopped listening */
    ad->deliver(json, json_len, ad->user);
}

static void ra_subscribe(struct redis_adapter *ad)
{
    const char *argv[2] = { "SUBSCRIBE", ad->channel };
    size_t argvlen[2] = { 9, ad->channel_len };
    if (redis_loop_command_argv(ad->sub, ra_on_sub_reply, ad, 2, argv, argvlen) == 0)
        ad->pending = 1;
}

static void ra_sub_up(struct redis_loop *rl, void *user)
{
    struct redis_adapter *ad = user;
    (void)rl;
    ad->pending = 0;
    if (ad->want)
        ra_subscribe(ad);
}

static void ra_sub_down(struct redis_loop *rl, void *user)
{
    struct redis_adapter *ad = user;
    (void)rl;
    ad->pending = 0;
    if (ad->subscribed) {
        ad->subscribed = 0;
        if (ad->on_state != NULL)
            ad->on_state(0, ad->user);
    }
}

void redis_adapter_listen(struct redis_adapter *ad, int on)
{
    if (ad == NULL || ad->want == !!on)
        return;
    ad->want = !!on;
    if (on) {
        if (redis_loop_up(ad->sub) && !ad->pending && !ad->subscribed)
            ra_subscribe(ad);
        return;
    }
    /* Dropping the connection is the one way out of subscribe mode that
     * hiredis 0.14 gets right in every state (UNSUBSCRIBE while the
     * SUBSCRIBE is unconfirmed is not); the link reconnects idle. */
    if (ad->pending || ad->subscribed) {
        /* Not reported through on_state: that is for a subscription lost
         * while wanted (its listeners then missed messages); nobody is
         * listening here. */
        ad->pending = 0;
        ad->subscribed = 0;
        redis_loop_reset(ad->sub, "no dashboards here any more: unsubscribing");
    }
}

int redis_adapter_link_up(const struct redis_adapter *ad)
{
    return ad != NULL && redis_loop_up(ad->sub);
}

struct redis_adapter *redis_adapter_create(const struct redis_adapter_options *opts)
{
    struct redis_adapter *ad = calloc(1, sizeof(*ad));
    if (ad == NULL)
        return NULL;
    ad->pub = opts->pub;
    int n = snprintf(ad->channel, sizeof(ad->channel), "%sui", opts->prefix);
    ad->channel_len = n < 0 ? 0 : (size_t)n < sizeof(ad->channel) ? (size_t)n : sizeof(ad->channel) - 1;
    ra_make_node_id(ad->node_id);
    ad->deliver = opts->deliver;
    ad->on_state = opts->on_state;
    ad->user = opts->user;
    ad->stats = opts->stats;

    struct redis_loop_options lo = {
        .ctx = opts->ctx,
        .vhost = opts->vhost,
        .url = opts->url,
        .who = opts->who,
        .name = "redis sub",
        .quiet = 1,   /* the command link logs the outage */
        .on_up = ra_sub_up,
        .on_down = ra_sub_down,
        .user = ad,
        .stats = opts->stats,
        .log_level = opts->log_level,
    };
    ad->sub = redis_loop_create(&lo);
    if (ad->sub == NULL) {
        free(ad);
        return NULL;
    }
    return ad;
}

const char *redis_adapter_node_id(const struct redis_adapter *ad)
{
    return ad->node_id;
}

int redis_adapter_subscribed(const struct redis_adapter *ad)
{
    return ad != NULL && ad->subscribed;
}

/* PUBLISH replies: only an error (a read-only replica, OOM) matters. */
static void ra_on_publish_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_adapter *ad = privdata;
    redisReply *reply = r;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR && ad->stats != NULL)
        atomic_fetch_add(&ad->stats->redis_errors, 1);
}

int redis_adapter_publish(struct redis_adapter *ad, const char *json, size_t len)
{
    char stack[RA_STACK_MSG];
    char *msg = stack;
    size_t msglen = REDIS_ADAPTER_NODE_ID_LEN + 1 + len;

    if (ad == NULL || !redis_loop_up(ad->pub))
        return -1;
    if (msglen > sizeof(stack)) {
        msg = malloc(msglen);
        if (msg == NULL)
            return -1;
    }
    memcpy(msg, ad->node_id, REDIS_ADAPTER_NODE_ID_LEN);
    msg[REDIS_ADAPTER_NODE_ID_LEN] = '\n';
    memcpy(msg + REDIS_ADAPTER_NODE_ID_LEN + 1, json, len);

    /* hiredis copies the arguments into its output buffer. Nobody needs
     * PUBLISH's answer (the receiver count) but an error: one a second is
     * answered, the others go without a reply where the link can. */
    const char *argv[3] = { "PUBLISH", ad->channel, msg };
    size_t argvlen[3] = { 7, ad->channel_len, msglen };
    int r = redis_loop_check_due(&ad->next_check_ms)
                ? redis_loop_command_argv(ad->pub, ra_on_publish_reply, ad, 3, argv, argvlen)
                : redis_loop_command_noreply(ad->pub, ra_on_publish_reply, ad, 3, argv, argvlen);
    if (msg != stack)
        free(msg);
    return r;
}

void redis_adapter_destroy(struct redis_adapter *ad)
{
    if (ad == NULL)
        return;
    /* The subscription callback runs once more with NULL while the link is
     * freed: ad must still be valid then. */
    redis_loop_destroy(ad->sub);
    free(ad);
}
