/* bench_hist.c -- log-linear latency buckets (see bench_hist.h). */
#include "bench_hist.h"

static unsigned bench_hist_index(uint64_t v)
{
    if (v < BENCH_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - BENCH_HIST_SUB_BITS;
    /* Within [2^msb, 2^(msb+1)) the top SUB_BITS+1 bits select the bucket. */
    unsigned idx = (shift + 1) * BENCH_HIST_SUB + (unsigned)((v >> shift) - BENCH_HIST_SUB);
    return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1;
}

/* Largest value that lands in bucket idx. */
static uint64_t bench_hist_upper(unsigned idx)
{
    if (idx < BENCH_HIST_SUB)
        return idx;
    unsigned shift = idx / BENCH_HIST_SUB - 1;
    uint64_t base = (uint64_t)(idx % BENCH_HIST_SUB + BENCH_HIST_SUB) << shift;
    return base + ((uint64_t)1 << shift) - 1;
}

void bench_hist_record(struct bench_hist *h, uint64_t us)
{
    h->buckets[bench_hist_index(us)]++;
    h->count++;
    h->sum += us;
    if (us > h->max)
        h->max = us;
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t up = bench_hist_upper(i);
            return up < h->max ? up : h->max;
        }
    }
    return h->max;
}
