/* downsample.h -- reduce a time series to at most N points, server-side.
 *
 * History can hold a week of 1 Hz samples per machine; a chart needs at
 * most ~1000 points. Points arrive in time order (a sorted Mongo cursor, a
 * reversed Redis list) and are averaged per fixed time bucket, streaming,
 * into a caller-owned array: no allocation, no I/O. A bucket's point has
 * the mean timestamp of its members (so a bucket of one keeps its exact
 * ts) and, per field, the mean of the members that had that field. */
#ifndef PERFLOAD_DOWNSAMPLE_H
#define PERFLOAD_DOWNSAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define DS_FIELDS_MAX 8

struct ds_point {
    int64_t ts;                     /* epoch ms */
    double v[DS_FIELDS_MAX];        /* mean per field */
    unsigned char has[DS_FIELDS_MAX];/* 1 when some member had the field */
    uint32_t count;                 /* members averaged into this point */
};

struct ds {
    int64_t since, bucket_ms;
    int nfields;
    struct ds_point *out;           /* caller-owned, room for max points */
    size_t max, n;
    /* the bucket being filled */
    int64_t cur;                    /* bucket index, -1 = none yet */
    double ts_sum;
    uint32_t count;
    double sum[DS_FIELDS_MAX];
    uint32_t cnt[DS_FIELDS_MAX];
};

/* The bucket width for [since, until] (ms) so that at most max_points
 * buckets cover it: the larger of step_ms (<= 0: none asked) and
 * ceil((until - since + 1) / max_points); at least 1. */
int64_t ds_bucket_ms(int64_t since, int64_t until, int64_t step_ms, size_t max_points);

/* Starts a series. nfields is clamped to DS_FIELDS_MAX. */
void ds_init(struct ds *d, int64_t since, int64_t bucket_ms, int nfields, struct ds_point *out,
             size_t max);

/* Adds one point; has[i] says whether v[i] is present (has may be NULL:
 * all present). Points before since, or out of order, are ignored.
 * Returns 0, or -1 when out is full (the point is dropped). */
int ds_add(struct ds *d, int64_t ts, const double *v, const unsigned char *has);

/* Flushes the last bucket; returns the number of points in out. */
size_t ds_finish(struct ds *d);

#endif
