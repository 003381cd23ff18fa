/* redis_state.c -- live state writes, liveness claims, snapshots (see
 * redis_state.h). */
#include "redis_state.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "plog.h"
#include "redis_loop.h"
#include "sample.h"
#include "stats.h"

#define RS_KEY_MAX      192   /* prefix (< 64) + "history:" + mac (<= 64) */
#define RS_SWEEP_LIMIT  "256"
#define RS_ERROR_LOG_MS 60000 /* at most one line per minute about error replies */

/* Removes mac from P alive; if it was there, marks it inactive and returns
 * its stored sample and lastSeen. */
static const char rs_claim_lua[] =
    "if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end\n"
    "redis.call('HSET', KEYS[2], 'active', '0')\n"
    "return redis.call('HMGET', KEYS[2], 'sample', 'lastSeen')\n";

/* The same for every mac silent since before ARGV[1]: {mac, sample, lastSeen}... */
static const char rs_sweep_lua[] =
    "local macs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "local out = {}\n"
    "for _, m in ipairs(macs) do\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "  local k = ARGV[2] .. 'machine:' .. m\n"
    "  redis.call('HSET', k, 'active', '0')\n"
    "  local h = redis.call('HMGET', k, 'sample', 'lastSeen')\n"
    "  out[#out + 1] = m\n"
    "  out[#out + 1] = h[1] or ''\n"
    "  out[#out + 1] = h[2] or '0'\n"
    "end\n"
    "return out\n";

/* Stores the offline sample unless a newer sample arrived meanwhile. */
static const char rs_store_offline_lua[] =
    "local ls = redis.call('HGET', KEYS[1], 'lastSeen')\n"
    "if ls and tonumber(ls) > tonumber(ARGV[3]) then return 0 end\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'sample', ARGV[2], 'active', '0')\n"
    "if not ls then redis.call('HSET', KEYS[1], 'lastSeen', ARGV[3]) end\n"
    "redis.call('HSETNX', KEYS[1], 'firstSeen', ARGV[3])\n"
    "return 1\n";

/* Every known machine's {mac, sample, lastSeen}. */
static const char rs_snapshot_lua[] =
    "local out = {}\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local h = redis.call('HMGET', ARGV[1] .. 'machine:' .. m, 'sample', 'lastSeen')\n"
    "  if h[1] then out[#out + 1] = m; out[#out + 1] = h[1]; out[#out + 1] = h[2] or '0' end\n"
    "end\n"
    "return out\n";

struct redis_state {
    struct redis_loop *link;
    char prefix[64];
    size_t prefix_len;
    unsigned link_epoch;         /* redis_loop_epoch() last seen */
    unsigned epoch;              /* redis_state_epoch(); 0 until the link was seen up */
    char who[64];
    char history_trim[24];       /* history_len - 1, as text for LTRIM */
    char key_alive[96];
    char key_machines[96];
    struct worker_stats *stats;
    int log_level;
    long long last_error_log_ms;
    long long next_check_ms;     /* a sample written answered then (redis_loop_check_due) */
    unsigned long errors_since_log;
};

/* A request waiting for its reply: who to tell. */
struct rs_request {
    struct redis_state *st;
    redis_state_claim_fn claim_fn;
    redis_state_snapshot_fn snapshot_fn;
    void *user;
    char mac[SAMPLE_MAC_MAX + 1];
};

/* An error reply (WRONGTYPE, OOM, script error): counted always, logged at
 * most once a minute so a misconfigured Redis cannot flood the log. */
static void rs_note_error(struct redis_state *st, const char *what, const char *msg)
{
    if (st->stats != NULL)
        atomic_fetch_add(&st->stats->redis_errors, 1);
    st->errors_since_log++;
    long long now = plog_wall_ms();
    if (now - st->last_error_log_ms >= RS_ERROR_LOG_MS) {
        plog(st->log_level, 0, st->who, "redis: %s: %.200s (%lu error replies since the last report)",
             what, msg, st->errors_since_log);
        st->last_error_log_ms = now;
        st->errors_since_log = 0;
    }
}

/* "<prefix><kind><mac>" into out (RS_KEY_MAX bytes); returns its length.
 * Plain copies: this runs for every sample. mac is at most SAMPLE_MAC_MAX
 * (validated by the caller), the prefix < 64, kind a short literal. */
static size_t rs_key(const struct redis_state *st, const char *kind, const char *mac, char *out)
{
    size_t klen = strlen(kind), mlen = strnlen(mac, SAMPLE_MAC_MAX);
    _Static_assert(RS_KEY_MAX > 64 + 16 + SAMPLE_MAC_MAX, "RS_KEY_MAX too small");

    memcpy(out, st->prefix, st->prefix_len);
    memcpy(out + st->prefix_len, kind, klen);
    memcpy(out + st->prefix_len + klen, mac, mlen);
    out[st->prefix_len + klen + mlen] = '\0';
    return st->prefix_len + klen + mlen;
}

struct redis_state *redis_state_create(const struct redis_state_options *opts)
{
    struct redis_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->link = opts->link;
    snprintf(st->prefix, sizeof(st->prefix), "%s", opts->prefix);
    st->prefix_len = strlen(st->prefix);
    snprintf(st->who, sizeof(st->who), "%s", opts->who ? opts->who : "perfload");
    snprintf(st->history_trim, sizeof(st->history_trim), "%d",
             (opts->history_len > 0 ? opts->history_len : 1) - 1);
    snprintf(st->key_alive, sizeof(st->key_alive), "%salive", st->prefix);
    snprintf(st->key_machines, sizeof(st->key_machines), "%smachines", st->prefix);
    st->stats = opts->stats;
    st->log_level = opts->log_level;
    st->last_error_log_ms = -RS_ERROR_LOG_MS;
    return st;
}

void redis_state_destroy(struct redis_state *st)
{
    free(st);
}

/* Replies to fire-and-forget writes: only errors matter. privdata is st,
 * which may already be gone when reply is NULL (link freed at shutdown). */
static void rs_on_write_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply *reply = r;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
        rs_note_error(privdata, "live state write refused", reply->str);
}

/* The reply to a sample's HSET without FIRST: it only creates fields when
 * the machine hash had vanished (every write creates all three together),
 * so Redis lost state behind our back: a new epoch makes every machine's
 * next sample FIRST again. */
static void rs_on_hset_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_state *st = privdata;
    redisReply *reply = r;
    if (reply == NULL)
        return;
    if (reply->type == REDIS_REPLY_ERROR)
        rs_note_error(st, "live state write refused", reply->str);
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0 && ++st->epoch == 0)
        st->epoch = 1;
}

/* Queues one command; -1 when hiredis refused it. */
static int rs_cmd(struct redis_state *st, int argc, const char **argv, const size_t *argvlen)
{
    return redis_loop_command_argv(st->link, rs_on_write_reply, st, argc, argv, argvlen);
}

/* A sample's write: answered (errors and lost state seen) when `answered`,
 * else without a reply where the link can do that. */
static int rs_write(struct redis_state *st, int answered, redisCallbackFn *fn, int argc,
                    const char **argv, const size_t *argvlen)
{
    if (answered)
        return redis_loop_command_argv(st->link, fn, st, argc, argv, argvlen);
    return redis_loop_command_noreply(st->link, fn, st, argc, argv, argvlen);
}

int redis_state_sample_flags(struct redis_state *st, const char *mac, const char *json, size_t len,
                             const char *hist, size_t hist_len, int64_t ts_ms, unsigned flags)
{
    char key_machine[RS_KEY_MAX], key_history[RS_KEY_MAX], ts[24];

    if (st == NULL || !redis_loop_up(st->link))
        return -1;
    size_t maclen = strnlen(mac, SAMPLE_MAC_MAX + 1);
    if (maclen > SAMPLE_MAC_MAX)
        return -1;
    size_t kmlen = rs_key(st, "machine:", mac, key_machine);
    size_t khlen = rs_key(st, "history:", mac, key_history);
    size_t tslen = decimal_i64(ts, ts_ms);
    ts[tslen] = '\0';

    const char *hset[] = { "HSET", key_machine, "sample", json, "lastSeen", ts, "active", "1" };
    const size_t hset_len[] = { 4, kmlen, 6, len, 8, tslen, 6, 1 };
    const char *lpush[] = { "LPUSH", key_history, hist };
    const size_t lpush_len[] = { 5, khlen, hist_len };
    const char *zadd[] = { "ZADD", st->key_alive, ts, mac };
    const size_t zadd_len[] = { 4, strlen(st->key_alive), tslen, maclen };

    /* Most samples go without replies (redis_loop_command_noreply); a FIRST
     * one, and one a second, are answered: errors (OOM, WRONGTYPE) stay
     * counted and logged, and the HSET's answer shows lost state. */
    int answered = (flags & REDIS_STATE_FIRST) || redis_loop_check_due(&st->next_check_ms);

    /* The sample hash first: a reader that sees the mac in P machines or
     * P alive finds its sample. */
    if (rs_write(st, answered, (flags & REDIS_STATE_FIRST) ? rs_on_write_reply : rs_on_hset_reply,
                 8, hset, hset_len) != 0)
        return -1;
    if (flags & REDIS_STATE_FIRST) {
        const char *hsetnx[] = { "HSETNX", key_machine, "firstSeen", ts };
        const size_t hsetnx_len[] = { 6, kmlen, 9, tslen };
        const char *sadd[] = { "SADD", st->key_machines, mac };
        const size_t sadd_len[] = { 4, strlen(st->key_machines), maclen };
        if (rs_cmd(st, 4, hsetnx, hsetnx_len) != 0 || rs_cmd(st, 3, sadd, sadd_len) != 0)
            return -1;
    }
    if (rs_write(st, answered, rs_on_write_reply, 3, lpush, lpush_len) != 0)
        return -1;
    if (flags & REDIS_STATE_TRIM) {
        const char *ltrim[] = { "LTRIM", key_history, "0", st->history_trim };
        const size_t ltrim_len[] = { 5, khlen, 1, strlen(st->history_trim) };
        if (rs_write(st, answered, rs_on_write_reply, 4, ltrim, ltrim_len) != 0)
            return -1;
    }
    return rs_write(st, answered, rs_on_write_reply, 4, zadd, zadd_len);
}

unsigned redis_state_epoch(struct redis_state *st)
{
    unsigned le = st != NULL ? redis_loop_epoch(st->link) : 0;
    if (le == 0)
        return 0;
    if (le != st->link_epoch) {
        st->link_epoch = le;
        if (++st->epoch == 0)
            st->epoch = 1;
    }
    return st->epoch;
}

unsigned redis_state_next_flags(struct redis_state *st, struct redis_state_mark *mk)
{
    unsigned ep = redis_state_epoch(st);
    if (ep == 0 || mk->epoch != ep) {
        mk->epoch = ep;
        mk->writes = 0;
        return REDIS_STATE_FIRST | REDIS_STATE_TRIM;
    }
    if (++mk->writes >= REDIS_STATE_TRIM_EVERY) {
        mk->writes = 0;
        return REDIS_STATE_TRIM;
    }
    return 0;
}

void redis_state_mark_failed(struct redis_state_mark *mk)
{
    mk->epoch = 0;
}

/* -- claims ------------------------------------------------------------------ */

static int64_t rs_parse_ms(const redisReply *r)
{
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

static void rs_on_claim_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct rs_request *req = privdata;
    redisReply *reply = r;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply != NULL)
            rs_note_error(req->st, "liveness claim refused", reply->str);
        req->claim_fn(REDIS_STATE_FAILED, req->mac, NULL, 0, 0, req->user);
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        req->claim_fn(REDIS_STATE_NOT_CLAIMED, req->mac, NULL, 0, 0, req->user);
    } else {
        const redisReply *sample = reply->element[0];
        int has = sample->type == REDIS_REPLY_STRING;
        req->claim_fn(REDIS_STATE_CLAIMED, req->mac, has ? sample->str : NULL, has ? sample->len : 0,
                      rs_parse_ms(reply->element[1]), req->user);
    }
    free(req);
}

static struct rs_request *rs_request_new(struct redis_state *st, void *user)
{
    struct rs_request *req = calloc(1, sizeof(*req));
    if (req != NULL) {
        req->st = st;
        req->user = user;
    }
    return req;
}

/* Queues a command whose reply goes to req; frees req when not queued. */
static int rs_send(struct redis_state *st, redisCallbackFn *fn, struct rs_request *req, int argc,
                   const char **argv, const size_t *argvlen)
{
    if (redis_loop_command_argv(st->link, fn, req, argc, argv, argvlen) != 0) {
        free(req);
        return -1;
    }
    return 0;
}

int redis_state_claim(struct redis_state *st, const char *mac, redis_state_claim_fn fn, void *user)
{
    char key_machine[RS_KEY_MAX];

    if (st == NULL || !redis_loop_up(st->link) || strlen(mac) > SAMPLE_MAC_MAX)
        return -1;
    struct rs_request *req = rs_request_new(st, user);
    if (req == NULL)
        return -1;
    req->claim_fn = fn;
    memcpy(req->mac, mac, strlen(mac) + 1);
    rs_key(st, "machine:", mac, key_machine);
    const char *argv[] = { "EVAL", rs_claim_lua, "2", st->key_alive, key_machine, mac };
    const size_t argvlen[] = { 4, sizeof(rs_claim_lua) - 1, 1, strlen(st->key_alive),
                               strlen(key_machine), strlen(mac) };
    return rs_send(st, rs_on_claim_reply, req, 6, argv, argvlen);
}

static void rs_on_sweep_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct rs_request *req = privdata;
    redisReply *reply = r;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
        rs_note_error(req->st, "liveness sweep refused", reply->str);
    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 3 <= reply->elements; i += 3) {
            const redisReply *mac = reply->element[i], *sample = reply->element[i + 1];
            if (mac->type != REDIS_REPLY_STRING || sample->type != REDIS_REPLY_STRING)
                continue;
            req->claim_fn(REDIS_STATE_CLAIMED, mac->str, sample->len ? sample->str : NULL,
                          sample->len, rs_parse_ms(reply->element[i + 2]), req->user);
        }
    }
    free(req);
}

int redis_state_sweep(struct redis_state *st, int64_t cutoff_ms, redis_state_claim_fn fn,
                      void *user)
{
    char cutoff[32];

    if (st == NULL || !redis_loop_up(st->link))
        return -1;
    struct rs_request *req = rs_request_new(st, user);
    if (req == NULL)
        return -1;
    req->claim_fn = fn;
    /* "(" makes the bound exclusive: silent for longer than the timeout. */
    snprintf(cutoff, sizeof(cutoff), "(%lld", (long long)cutoff_ms);
    const char *argv[] = { "EVAL", rs_sweep_lua, "1", st->key_alive, cutoff, st->prefix, RS_SWEEP_LIMIT };
    const size_t argvlen[] = { 4, sizeof(rs_sweep_lua) - 1, 1, strlen(st->key_alive), strlen(cutoff),
                               strlen(st->prefix), strlen(RS_SWEEP_LIMIT) };
    return rs_send(st, rs_on_sweep_reply, req, 7, argv, argvlen);
}

int redis_state_store_offline(struct redis_state *st, const char *mac, const char *json, size_t len,
                              int64_t last_seen_ms)
{
    char key_machine[RS_KEY_MAX], ls[24];

    if (st == NULL || !redis_loop_up(st->link))
        return -1;
    rs_key(st, "machine:", mac, key_machine);
    snprintf(ls, sizeof(ls), "%lld", (long long)last_seen_ms);
    const char *argv[] = { "EVAL", rs_store_offline_lua, "3", key_machine, st->key_alive,
                           st->key_machines, mac, json, ls };
    const size_t argvlen[] = { 4, sizeof(rs_store_offline_lua) - 1, 1, strlen(key_machine),
                               strlen(st->key_alive), strlen(st->key_machines), strlen(mac), len,
                               strlen(ls) };
    return rs_cmd(st, 9, argv, argvlen);
}

/* -- snapshot ---------------------------------------------------------------- */

static void rs_on_snapshot_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct rs_request *req = privdata;
    redisReply *reply = r;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
            rs_note_error(req->st, "snapshot refused", reply->str);
        req->snapshot_fn(REDIS_STATE_FAILED, NULL, 0, req->user);
        free(req);
        return;
    }
    size_t n = reply->elements / 3, k = 0;
    struct redis_state_machine *m = calloc(n ? n : 1, sizeof(*m));
    if (m == NULL) {
        req->snapshot_fn(REDIS_STATE_FAILED, NULL, 0, req->user);
        free(req);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *mac = reply->element[3 * i], *s = reply->element[3 * i + 1],
                         *ls = reply->element[3 * i + 2];
        if (mac->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING || s->len == 0)
            continue;
        m[k].mac = mac->str;
        m[k].sample = s->str;
        m[k].len = s->len;
        m[k].last_seen_ms = rs_parse_ms(ls);
        k++;
    }
    req->snapshot_fn(0, m, k, req->user);
    free(m);
    free(req);
}

int redis_state_snapshot(struct redis_state *st, redis_state_snapshot_fn fn, void *user)
{
    if (st == NULL || !redis_loop_up(st->link))
        return -1;
    struct rs_request *req = rs_request_new(st, user);
    if (req == NULL)
        return -1;
    req->snapshot_fn = fn;
    const char *argv[] = { "EVAL", rs_snapshot_lua, "1", st->key_machines, st->prefix };
    const size_t argvlen[] = { 4, sizeof(rs_snapshot_lua) - 1, 1, strlen(st->key_machines),
                               strlen(st->prefix) };
    return rs_send(st, rs_on_snapshot_reply, req, 5, argv, argvlen);
}
