/* ratelimit.c -- token buckets and log-line limiting (see ratelimit.h). */
#include "ratelimit.h"

#include <stddef.h>

void rl_bucket_init(struct rl_bucket *b, int64_t burst, int64_t now_ms)
{
    b->milli_tokens = (burst > 0 ? burst : 1) * 1000;
    b->last_ms = now_ms;
}

int rl_bucket_take(struct rl_bucket *b, int64_t rate, int64_t burst, int64_t now_ms)
{
    int64_t cap = (burst > 0 ? burst : 1) * 1000;
    int64_t elapsed = now_ms - b->last_ms;
    if (elapsed > 0) {
        /* Refill; clamp elapsed first so a long idle time cannot overflow. */
        if (elapsed > 3600 * 1000)
            elapsed = 3600 * 1000;
        b->milli_tokens += elapsed * rate;
        if (b->milli_tokens > cap)
            b->milli_tokens = cap;
        b->last_ms = now_ms;
    } else if (elapsed < 0) {
        b->last_ms = now_ms;     /* the clock went back: start counting again */
    }
    if (b->milli_tokens > cap)
        b->milli_tokens = cap;   /* burst lowered meanwhile */
    if (b->milli_tokens < 1000)
        return 0;
    b->milli_tokens -= 1000;
    return 1;
}

void rl_socket_init(struct rl_socket *s, int64_t burst, int64_t now_ms)
{
    rl_bucket_init(&s->bucket, burst, now_ms);
    s->window_start_ms = now_ms;
    s->dropped_in_window = 0;
    s->strikes = 0;
}

enum rl_verdict rl_socket_message(struct rl_socket *s, int64_t rate, int64_t burst,
                                  int64_t now_ms, int *first_drop)
{
    if (first_drop != NULL)
        *first_drop = 0;
    if (rate <= 0)
        return RL_PASS;
    int64_t since = now_ms - s->window_start_ms;
    if (since >= RL_WINDOW_MS || since < 0) {
        /* Close the window. It is a strike when it had drops and directly
         * follows the previous one (a quiet gap of a whole window or more
         * in between shows the client slowed down). */
        if (s->dropped_in_window > 0 && since >= 0 && since < 2 * RL_WINDOW_MS)
            s->strikes++;
        else
            s->strikes = 0;
        s->window_start_ms = now_ms;
        s->dropped_in_window = 0;
    }
    if (rl_bucket_take(&s->bucket, rate, burst, now_ms))
        return RL_PASS;
    if (s->dropped_in_window++ == 0 && first_drop != NULL)
        *first_drop = 1;
    return s->strikes >= RL_STRIKES_MAX ? RL_KICK : RL_DROP;
}

int rl_log_allow(struct rl_log *l, int64_t now_ms, int64_t interval_ms, uint64_t *suppressed)
{
    if (l->last_ms != 0 && now_ms - l->last_ms < interval_ms && now_ms >= l->last_ms) {
        l->suppressed++;
        return 0;
    }
    if (suppressed != NULL)
        *suppressed = l->suppressed;
    l->suppressed = 0;
    l->last_ms = now_ms != 0 ? now_ms : 1;
    return 1;
}
