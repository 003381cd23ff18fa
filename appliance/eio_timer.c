/* eio_timer.c -- deadline-ordered timer queues on one lws sul each (see
 * eio_timer.h). */
#include "eio_timer.h"

#include <stddef.h>

static void timerq_arm(struct eio_timerq *q)
{
    if (q->ctx == NULL)
        return;
    if (q->head == NULL) {
        lws_sul_cancel(&q->sul);
        return;
    }
    lws_usec_t now = lws_now_usecs(), us = q->head->due - now;
    lws_sul_schedule(q->ctx, 0, &q->sul, q->sul.cb, us > 0 ? us : 1);
}

static void timerq_unlink(struct eio_timer *t)
{
    struct eio_timerq *q = t->q;

    if (t->prev)
        t->prev->next = t->next;
    else
        q->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        q->tail = t->prev;
    t->prev = t->next = NULL;
    t->q = NULL;
}

/* The head's sul: run every timer that is due, in order, then re-arm. A
 * callback may schedule or cancel timers, this queue's included. */
static void timerq_fire(lws_sorted_usec_list_t *sul)
{
    struct eio_timerq *q = lws_container_of(sul, struct eio_timerq, sul);
    lws_usec_t now = lws_now_usecs();

    while (q->head != NULL && q->head->due <= now) {
        struct eio_timer *t = q->head;
        timerq_unlink(t);
        t->cb(t);
    }
    timerq_arm(q);
}

void eio_timerq_set_context(struct eio_timerq *q, struct lws_context *ctx)
{
    q->ctx = ctx;
    q->sul.cb = timerq_fire;
}

void eio_timer_schedule(struct eio_timerq *q, struct eio_timer *t, eio_timer_cb cb, lws_usec_t us)
{
    if (t->q != NULL)
        eio_timer_cancel(t);
    if (q->ctx == NULL)
        return;
    t->cb = cb;
    t->due = lws_now_usecs() + (us > 0 ? us : 1);
    t->q = q;
    /* Walk back from the tail: for timeouts of the queue's one length the
     * new deadline is the latest, so this stops at once. */
    struct eio_timer *after = q->tail;
    while (after != NULL && after->due > t->due)
        after = after->prev;
    t->prev = after;
    t->next = after ? after->next : q->head;
    if (t->next)
        t->next->prev = t;
    else
        q->tail = t;
    if (after)
        after->next = t;
    else
        q->head = t;
    if (q->head == t)
        timerq_arm(q);
}

void eio_timer_cancel(struct eio_timer *t)
{
    struct eio_timerq *q = t->q;

    if (q == NULL)
        return;
    int was_head = q->head == t;
    timerq_unlink(t);
    if (was_head)
        timerq_arm(q);
}

void eio_timerq_destroy(struct eio_timerq *q)
{
    while (q->head != NULL)
        timerq_unlink(q->head);
    if (q->ctx != NULL)
        lws_sul_cancel(&q->sul);
    q->ctx = NULL;
}
