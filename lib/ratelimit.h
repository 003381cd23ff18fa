/* ratelimit.h -- token buckets for per-socket message rates, and a limiter
 * for log lines (at most one line per interval, with a count of what was
 * suppressed).
 *
 * Pure and clock-free: the caller passes the time in milliseconds (any
 * monotonic origin). Integer arithmetic in thousandths of a token. */
#ifndef PERFLOAD_RATELIMIT_H
#define PERFLOAD_RATELIMIT_H

#include <stdint.h>

/* A bucket refilled at `rate` tokens per second up to `burst` tokens. */
struct rl_bucket {
    int64_t milli_tokens;        /* tokens * 1000 */
    int64_t last_ms;             /* time of the last refill */
};

/* Starts full (a new client may send its burst at once). */
void rl_bucket_init(struct rl_bucket *b, int64_t burst, int64_t now_ms);
/* Takes one token: 1 when there was one, 0 when the bucket is empty. */
int rl_bucket_take(struct rl_bucket *b, int64_t rate, int64_t burst, int64_t now_ms);

/* Per-socket message limiter: a bucket plus "strikes", the number of
 * consecutive one-second windows in which messages were dropped. A socket
 * that keeps sending over its rate for RL_STRIKES_MAX windows in a row is
 * told to go (RL_KICK) instead of being throttled forever. */
#define RL_WINDOW_MS   1000
#define RL_STRIKES_MAX 5

struct rl_socket {
    struct rl_bucket bucket;
    int64_t window_start_ms;
    uint32_t dropped_in_window;  /* messages dropped in the current window */
    uint32_t strikes;            /* consecutive closed windows with drops */
};

enum rl_verdict {
    RL_PASS = 0,                 /* handle the message */
    RL_DROP,                     /* drop it (first drop of a window: *first_drop = 1) */
    RL_KICK                      /* drop it and disconnect the socket */
};

void rl_socket_init(struct rl_socket *s, int64_t burst, int64_t now_ms);
/* The verdict for one message. rate <= 0 means unlimited (always RL_PASS).
 * first_drop (may be NULL) is set to 1 on the first drop of a window, so
 * the caller can tell the client once per window rather than per message. */
enum rl_verdict rl_socket_message(struct rl_socket *s, int64_t rate, int64_t burst,
                                  int64_t now_ms, int *first_drop);

/* Log-line limiter: one line per interval_ms per instance. */
struct rl_log {
    int64_t last_ms;             /* when the last line was allowed; 0 = never */
    uint64_t suppressed;         /* events since then that were not logged */
};

/* 1 when a line may be written now; then *suppressed (may be NULL) is the
 * number of events swallowed since the previous line, and the count
 * restarts. 0 when the event must not be logged (it is counted). */
int rl_log_allow(struct rl_log *l, int64_t now_ms, int64_t interval_ms, uint64_t *suppressed);

#endif
