/* eio_timer.h -- timer queues for many timeouts of a few fixed lengths.
 *
 * Why not one lws_sul per timeout: lws 4.1 keeps every sul of a thread in
 * one list sorted by deadline and inserts by walking it from the head. With
 * 20,000 sessions, each holding a ping timer and a pong deadline, every
 * insert walked tens of thousands of nodes (perf during a connect ramp:
 * lws_dll2_add_sorted 55 % of a worker; the connect storm then starved the
 * dashboards' writes). Timeouts of one length are scheduled in deadline
 * order, so a queue per length that inserts by walking back from its tail
 * does it in O(1); one lws sul per queue fires for the head.
 *
 * Ownership: the caller embeds struct eio_timer in its own object and must
 * cancel it before freeing that object; a queue's timers must be cancelled
 * (or the queue destroyed) before the lws context goes away. */
#ifndef PERFLOAD_EIO_TIMER_H
#define PERFLOAD_EIO_TIMER_H

#include <libwebsockets.h>

struct eio_timer;
struct eio_timerq;
typedef void (*eio_timer_cb)(struct eio_timer *t);

struct eio_timer {
    struct eio_timer *prev, *next;
    struct eio_timerq *q;          /* NULL when not scheduled */
    lws_usec_t due;                /* lws_now_usecs() deadline */
    eio_timer_cb cb;
};

struct eio_timerq {
    struct eio_timer *head, *tail; /* ascending deadlines */
    struct lws_context *ctx;       /* NULL: scheduling is a no-op */
    lws_sorted_usec_list_t sul;    /* armed for head->due */
};

/* A zeroed queue is valid; set the context once the lws context exists. */
void eio_timerq_set_context(struct eio_timerq *q, struct lws_context *ctx);
/* (Re)schedules t to call cb in us microseconds (at least 1). */
void eio_timer_schedule(struct eio_timerq *q, struct eio_timer *t, eio_timer_cb cb, lws_usec_t us);
/* Unschedules t; a no-op when it is not scheduled. */
void eio_timer_cancel(struct eio_timer *t);
/* Unschedules every timer and the queue's sul (call before the context dies). */
void eio_timerq_destroy(struct eio_timerq *q);

#endif
