/* bench_hist.h -- latency histogram with log-linear buckets (HdrHistogram
 * style): values below 2^BENCH_HIST_SUB_BITS microseconds are exact, above
 * that every power of two is split in 2^BENCH_HIST_SUB_BITS buckets, so any
 * recorded value is known to within ~1.6 %. Fixed size, no allocation:
 * recording is an index computation and an increment, and histograms from
 * several generator processes merge by adding their counts. */
#ifndef PERFLOAD_BENCH_HIST_H
#define PERFLOAD_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS 6
#define BENCH_HIST_SUB      (1u << BENCH_HIST_SUB_BITS)
/* Up to 2^40 us (~12 days): far past any timeout. */
#define BENCH_HIST_BUCKETS  ((40 - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

struct bench_hist {
    uint64_t count;
    uint64_t max;                       /* largest value recorded (us) */
    uint64_t sum;                       /* for the mean */
    uint64_t buckets[BENCH_HIST_BUCKETS];
};

void bench_hist_record(struct bench_hist *h, uint64_t us);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* Value at percentile p (0..100): the upper bound of the bucket holding it
 * (never above max). 0 when empty. */
uint64_t bench_hist_percentile(const struct bench_hist *h, double p);

#endif
