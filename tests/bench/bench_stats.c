/* bench_stats.c: clock, percentiles and run settings for the benchmarks. */
#include "bench_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void bench_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t bench_pct(const uint64_t *sorted, size_t n, double pct)
{
	if (n == 0)
		return 0;
	double rank = pct / 100.0 * (double)n;
	size_t k = (size_t)rank;
	if ((double)k < rank)
		k++; /* ceil */
	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

int bench_quick(void)
{
	const char *q = getenv("TC_BENCH_QUICK");
	return q && *q && strcmp(q, "0") != 0;
}

size_t bench_count(size_t full, size_t quick)
{
	const char *c = getenv("TC_BENCH_COUNT");
	if (c && *c) {
		unsigned long v = strtoul(c, NULL, 10);
		if (v > 0)
			return (size_t)v;
	}
	return bench_quick() ? quick : full;
}

void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

void bench_print_load(const char *when)
{
	char line[128] = "";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	printf("load average %s: %s\n", when, line[0] ? line : "unknown");
}
