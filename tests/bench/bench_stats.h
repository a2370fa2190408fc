/* bench_stats.h: what the benchmark programs share: the clock, the sample
 * statistics and the run-length settings (TC_BENCH_QUICK, TC_BENCH_COUNT). */
#ifndef TOKENCARD_BENCH_STATS_H
#define TOKENCARD_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Sort samples in place, ascending. */
void bench_sort(uint64_t *v, size_t n);

/* The nearest-rank percentile (0 < pct <= 100) of sorted samples; 0 when n is 0. */
uint64_t bench_pct(const uint64_t *sorted, size_t n, double pct);

/* The number of samples to take: TC_BENCH_COUNT when set, else quick when
 * TC_BENCH_QUICK is set to anything but 0, else full. */
size_t bench_count(size_t full, size_t quick);

/* True when TC_BENCH_QUICK asks for a short run. */
int bench_quick(void);

/* Sleep for ms milliseconds. */
void bench_sleep_ms(unsigned ms);

/* Print the load average with a label, to document the noise of a run. */
void bench_print_load(const char *when);

#endif
