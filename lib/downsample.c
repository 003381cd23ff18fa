/* downsample.c -- see downsample.h. */
#include "downsample.h"

#include <string.h>

int64_t ds_bucket_ms(int64_t since, int64_t until, int64_t step_ms, size_t max_points)
{
    int64_t span = until >= since ? until - since + 1 : 1;
    int64_t min = max_points ? (span + (int64_t)max_points - 1) / (int64_t)max_points : span;
    int64_t b = step_ms > min ? step_ms : min;
    return b > 0 ? b : 1;
}

void ds_init(struct ds *d, int64_t since, int64_t bucket_ms, int nfields, struct ds_point *out,
             size_t max)
{
    memset(d, 0, sizeof(*d));
    d->since = since;
    d->bucket_ms = bucket_ms > 0 ? bucket_ms : 1;
    d->nfields = nfields < 0 ? 0 : nfields > DS_FIELDS_MAX ? DS_FIELDS_MAX : nfields;
    d->out = out;
    d->max = max;
    d->cur = -1;
}

/* Emits the bucket being filled, if any. */
static int ds_flush(struct ds *d)
{
    if (d->cur < 0 || d->count == 0)
        return 0;
    if (d->n >= d->max)
        return -1;
    struct ds_point *p = &d->out[d->n++];
    memset(p, 0, sizeof(*p));
    p->ts = d->since + (int64_t)(d->ts_sum / d->count + 0.5);
    p->count = d->count;
    for (int i = 0; i < d->nfields; i++) {
        if (d->cnt[i]) {
            p->v[i] = d->sum[i] / d->cnt[i];
            p->has[i] = 1;
        }
    }
    d->count = 0;
    d->ts_sum = 0;
    memset(d->sum, 0, sizeof(d->sum));
    memset(d->cnt, 0, sizeof(d->cnt));
    return 0;
}

int ds_add(struct ds *d, int64_t ts, const double *v, const unsigned char *has)
{
    if (ts < d->since)
        return 0;
    int64_t idx = (ts - d->since) / d->bucket_ms;
    if (idx < d->cur)
        return 0;
    if (idx != d->cur) {
        if (ds_flush(d) < 0)
            return -1;
        if (d->n >= d->max)
            return -1;
        d->cur = idx;
    }
    /* Relative to since so the sum keeps millisecond precision. */
    d->ts_sum += (double)(ts - d->since);
    d->count++;
    for (int i = 0; i < d->nfields; i++) {
        if (!has || has[i]) {
            d->sum[i] += v[i];
            d->cnt[i]++;
        }
    }
    return 0;
}

size_t ds_finish(struct ds *d)
{
    ds_flush(d);
    d->cur = -1;
    return d->n;
}
