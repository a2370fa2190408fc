/* bench_transmit.c: SCardTransmit round trip through the real PC/SC client
 * library, on up to three readers of one pcscd, side by side:
 *
 *   ours   the tokencard driver on a loopback reader with tokencard-sim
 *   vpcd   vsmartcard's vpcd driver with vpcd_responder
 *   floor  null_ifd, a handler that answers from memory: pcscd's floor
 *
 *   bench_transmit [--count N] [--warmup N] [--block N] [--apdu 5|256]
 *                  [--ours NAME] [--vpcd NAME] [--floor NAME]
 *
 * NAME is a part of the reader's name; --apdu runs one of the two APDUs only
 * (for profiling one case). Each reader answers two APDUs of the
 * reader test application; the exchanges are timed one by one with
 * CLOCK_MONOTONIC, in blocks that rotate over the readers so that whatever
 * else runs on the machine falls on all of them alike. Prints figures; fails
 * only when a reader gives a wrong answer or none. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

#include "bench_stats.h"

#define NREADERS   3
#define NAPDUS     2
#define MAX_RSP    260
#define FULL_COUNT 20000
#define QUICK_CNT  2000

enum role { ROLE_OURS, ROLE_VPCD, ROLE_FLOOR };

struct apdu {
	const char *label;
	uint8_t cmd[5];
	DWORD rsp_len; /* data and SW */
};

static const struct apdu apdus[NAPDUS] = {
    {"80 34 00 05 05 (5 B)", {0x80, 0x34, 0x00, 0x05, 0x05}, 7},
    {"80 34 01 00 00 (256 B)", {0x80, 0x34, 0x01, 0x00, 0x00}, 258},
};

struct reader {
	const char *label; /* printed */
	const char *match; /* part of the PC/SC reader name */
	char name[256];
	bool present;
	SCARDHANDLE card;
	uint64_t *t[NAPDUS];   /* samples, ns */
	size_t n[NAPDUS];      /* samples taken */
	uint64_t *blk[NAPDUS]; /* median of each block, ns */
	size_t nblk[NAPDUS];
};

struct settings {
	size_t count, warmup, block;
	int only; /* -1: both APDUs, else the index of the one to run */
};

static const char *const role_labels[NREADERS] = {"tokencard (ours)", "vpcd", "null IFD (floor)"};

static int usage(void)
{
	fprintf(stderr,
	        "usage: bench_transmit [--count N] [--warmup N] [--block N] [--apdu 5|256]\n"
	        "                      [--ours NAME] [--vpcd NAME] [--floor NAME]\n");
	return 2;
}

static int parse_args(int argc, char **argv, struct settings *s, struct reader *r)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		if (!strcmp(a, "--count"))
			s->count = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--warmup"))
			s->warmup = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--block"))
			s->block = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--apdu"))
			s->only = !strcmp(v, "5") ? 0 : !strcmp(v, "256") ? 1 : -2;
		else if (!strcmp(a, "--ours"))
			r[ROLE_OURS].match = v;
		else if (!strcmp(a, "--vpcd"))
			r[ROLE_VPCD].match = v;
		else if (!strcmp(a, "--floor"))
			r[ROLE_FLOOR].match = v;
		else
			return usage();
	}
	if (s->count == 0 || s->block == 0 || s->only < -1)
		return usage();
	return 0;
}

static int find_readers(SCARDCONTEXT ctx, struct reader *r)
{
	char buf[4096];
	DWORD len = sizeof(buf);
	LONG rc = SCardListReaders(ctx, NULL, buf, &len);
	if (rc != SCARD_S_SUCCESS) {
		fprintf(stderr, "bench_transmit: SCardListReaders: %s\n", pcsc_stringify_error(rc));
		return -1;
	}
	for (int i = 0; i < NREADERS; i++)
		for (const char *p = buf; *p; p += strlen(p) + 1)
			if (strstr(p, r[i].match)) {
				snprintf(r[i].name, sizeof(r[i].name), "%.255s", p);
				r[i].present = true;
				break;
			}
	return 0;
}

/* Wait until the reader shows a card (vpcd's does once the responder is in). */
static bool wait_card(SCARDCONTEXT ctx, const char *name, unsigned ms)
{
	SCARD_READERSTATE rs = {.szReader = name, .dwCurrentState = SCARD_STATE_UNAWARE};
	uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000u;
	while (bench_now_ns() < end) {
		LONG rc = SCardGetStatusChange(ctx, 500, &rs, 1);
		if (rc == SCARD_E_TIMEOUT)
			continue;
		if (rc != SCARD_S_SUCCESS)
			return false;
		if (rs.dwEventState & SCARD_STATE_PRESENT)
			return true;
		rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	return false;
}

/* Check one answer byte for byte: 00 01 02 ... then 90 00. */
static int check_answer(const struct reader *r, const struct apdu *a)
{
	uint8_t rsp[MAX_RSP];
	DWORD n = sizeof(rsp);
	LONG rc = SCardTransmit(r->card, SCARD_PCI_T0, a->cmd, sizeof(a->cmd), NULL, rsp, &n);
	bool ok = rc == SCARD_S_SUCCESS && n == a->rsp_len && rsp[n - 2] == 0x90 && rsp[n - 1] == 0;
	for (DWORD i = 0; ok && i + 2 < n; i++)
		ok = rsp[i] == (uint8_t)i;
	if (!ok)
		fprintf(stderr, "bench_transmit: %s: wrong answer to %s (%s, %lu bytes)\n",
		        r->label, a->label, pcsc_stringify_error(rc), (unsigned long)n);
	return ok ? 0 : -1;
}

/* Connect with T=0, select the reader test application, check both APDUs. */
static int open_card(SCARDCONTEXT ctx, struct reader *r)
{
	static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0,
	                                 0x00, 0x00, 0x00, 0x18, 0xFF};
	uint8_t rsp[MAX_RSP];
	DWORD proto, n = sizeof(rsp);
	LONG rc =
	    SCardConnect(ctx, r->name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &r->card, &proto);
	if (rc != SCARD_S_SUCCESS) {
		fprintf(stderr, "bench_transmit: %s: SCardConnect: %s\n", r->label,
		        pcsc_stringify_error(rc));
		return -1;
	}
	rc = SCardTransmit(r->card, SCARD_PCI_T0, select, sizeof(select), NULL, rsp, &n);
	if (rc != SCARD_S_SUCCESS || n < 2 || (rsp[n - 2] != 0x90 && rsp[n - 2] != 0x61)) {
		fprintf(stderr, "bench_transmit: %s: SELECT failed (%s)\n", r->label,
		        pcsc_stringify_error(rc));
		return -1;
	}
	for (int a = 0; a < NAPDUS; a++)
		if (check_answer(r, &apdus[a]) != 0)
			return -1;
	return 0;
}

/* count exchanges, each timed into out[i] (out NULL: warm-up, untimed). */
static int exchange(const struct reader *r, const struct apdu *a, size_t count, uint64_t *out)
{
	uint8_t rsp[MAX_RSP];
	for (size_t i = 0; i < count; i++) {
		DWORD n = sizeof(rsp);
		uint64_t t0 = bench_now_ns();
		LONG rc =
		    SCardTransmit(r->card, SCARD_PCI_T0, a->cmd, sizeof(a->cmd), NULL, rsp, &n);
		uint64_t t1 = bench_now_ns();
		if (rc != SCARD_S_SUCCESS || n != a->rsp_len || rsp[n - 2] != 0x90) {
			fprintf(stderr, "bench_transmit: %s: exchange %zu of %s failed: %s\n",
			        r->label, i, a->label, pcsc_stringify_error(rc));
			return -1;
		}
		if (out)
			out[i] = t1 - t0;
	}
	return 0;
}

static bool skipped(const struct settings *s, int a)
{
	return s->only >= 0 && s->only != a;
}

static uint64_t median_of(const uint64_t *v, size_t n, uint64_t *scratch)
{
	memcpy(scratch, v, n * sizeof(*v));
	bench_sort(scratch, n);
	return bench_pct(scratch, n, 50.0);
}

/* The timed run: blocks of s->block exchanges, rotating over APDUs and
 * readers, until each reader has s->count samples of each APDU. */
static int measure(struct reader *r, const struct settings *s)
{
	uint64_t *scratch = malloc(s->block * sizeof(*scratch));
	if (!scratch)
		return -1;
	for (size_t done = 0; done < s->count;) {
		size_t b = s->count - done < s->block ? s->count - done : s->block;
		for (int a = 0; a < NAPDUS; a++)
			for (int i = 0; i < NREADERS; i++) {
				if (!r[i].present || skipped(s, a))
					continue;
				uint64_t *dst = r[i].t[a] + done;
				if (exchange(&r[i], &apdus[a], b, dst) != 0) {
					free(scratch);
					return -1;
				}
				r[i].blk[a][r[i].nblk[a]++] = median_of(dst, b, scratch);
				r[i].n[a] = done + b;
			}
		done += b;
	}
	free(scratch);
	return 0;
}

struct figures {
	double med, p99, blk_lo, blk_hi; /* us */
};

static struct figures figures_of(struct reader *r, int a)
{
	struct figures f = {0};
	bench_sort(r->t[a], r->n[a]);
	f.med = (double)bench_pct(r->t[a], r->n[a], 50.0) / 1000.0;
	f.p99 = (double)bench_pct(r->t[a], r->n[a], 99.0) / 1000.0;
	/* the block medians stay in run order (print_paired); extremes by a scan */
	for (size_t k = 0; k < r->nblk[a]; k++) {
		double v = (double)r->blk[a][k] / 1000.0;
		if (k == 0 || v < f.blk_lo)
			f.blk_lo = v;
		if (k == 0 || v > f.blk_hi)
			f.blk_hi = v;
	}
	return f;
}

static void print_ratio(bool ok, double num, double den)
{
	if (ok && den > 0)
		printf("  %9.2fx", num / den);
	else
		printf("  %10s", "n/a");
}

static void print_targets(const struct figures f[NREADERS][NAPDUS], const struct reader *r,
                          const struct settings *s)
{
	printf("targets (reported, not asserted): ours <= 1.1x floor and <= 0.6x vpcd, medians\n");
	for (int a = 0; a < NAPDUS; a++) {
		if (skipped(s, a))
			continue;
		printf("  %-24s", apdus[a].label);
		if (r[ROLE_FLOOR].present) {
			double x = f[ROLE_OURS][a].med / f[ROLE_FLOOR][a].med;
			printf("  floor %.2fx %-6s", x, x <= 1.1 ? "met" : "missed");
		}
		if (r[ROLE_VPCD].present) {
			double x = f[ROLE_OURS][a].med / f[ROLE_VPCD][a].med;
			printf("  vpcd %.2fx %s", x, x <= 0.6 ? "met" : "missed");
		}
		printf("\n");
	}
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* Ours over another reader, block by block: each of our block medians over
 * the other reader's block median of the same rotation (run right after
 * ours), so that noise which comes and goes falls on both sides of each
 * ratio. Prints the quartiles of those ratios. */
static void print_paired(const struct reader *ours, const struct reader *other, int a)
{
	size_t n = ours->nblk[a] < other->nblk[a] ? ours->nblk[a] : other->nblk[a];
	double *x = malloc((n ? n : 1) * sizeof(*x));
	if (!x || n == 0) {
		free(x);
		printf("  %-24s %-6s n/a\n", apdus[a].label, other->label);
		return;
	}
	for (size_t k = 0; k < n; k++)
		x[k] = (double)ours->blk[a][k] / (double)(other->blk[a][k] ? other->blk[a][k] : 1);
	qsort(x, n, sizeof(*x), cmp_double);
	printf("  %-24s ours/%-16s median %.2fx  quartiles %.2f-%.2f  (%zu blocks)\n",
	       apdus[a].label, other->label, x[n / 2], x[n / 4], x[(3 * n) / 4], n);
	free(x);
}

static void report_paired(const struct reader *r, const struct settings *s)
{
	printf("\nPaired blocks (each of our block medians over the next reader's, same "
	       "rotation):\n");
	for (int a = 0; a < NAPDUS; a++)
		for (int i = ROLE_VPCD; i <= ROLE_FLOOR; i++)
			if (!skipped(s, a) && r[i].present)
				print_paired(&r[ROLE_OURS], &r[i], a);
}

static void report(struct reader *r, const struct settings *s)
{
	struct figures f[NREADERS][NAPDUS] = {{{0}}};
	for (int i = 0; i < NREADERS; i++)
		for (int a = 0; a < NAPDUS; a++)
			if (r[i].present && !skipped(s, a))
				f[i][a] = figures_of(&r[i], a);
	printf("\nSCardTransmit round trip: %zu timed exchanges per reader and APDU, after %zu "
	       "warm-up,\nin blocks of %zu rotating over the readers\n\n",
	       s->count, s->warmup, s->block);
	printf("%-18s %-24s %10s %10s %17s %11s %11s\n", "reader", "APDU", "median us", "p99 us",
	       "block medians us", "ours/floor", "ours/vpcd");
	for (int a = 0; a < NAPDUS; a++)
		for (int i = 0; i < NREADERS; i++) {
			if (skipped(s, a))
				break;
			if (!r[i].present) {
				printf("%-18s %-24s %10s\n", r[i].label, apdus[a].label, "absent");
				continue;
			}
			printf("%-18s %-24s %10.1f %10.1f %8.1f-%-8.1f", r[i].label, apdus[a].label,
			       f[i][a].med, f[i][a].p99, f[i][a].blk_lo, f[i][a].blk_hi);
			if (i == ROLE_OURS) {
				print_ratio(r[ROLE_FLOOR].present, f[i][a].med,
				            f[ROLE_FLOOR][a].med);
				print_ratio(r[ROLE_VPCD].present, f[i][a].med, f[ROLE_VPCD][a].med);
			}
			printf("\n");
		}
	printf("\n");
	if (r[ROLE_OURS].present)
		print_targets((const struct figures(*)[NAPDUS])f, r, s);
	if (r[ROLE_OURS].present)
		report_paired(r, s);
}

/* Find, wait for, connect and check every reader; allocate its samples. */
static int prepare(SCARDCONTEXT ctx, struct reader *r, const struct settings *s)
{
	if (find_readers(ctx, r) != 0)
		return -1;
	size_t nblk = (s->count + s->block - 1) / s->block;
	for (int i = 0; i < NREADERS; i++) {
		if (!r[i].present) {
			fprintf(stderr, "bench_transmit: no reader matching '%s' (%s): skipped\n",
			        r[i].match, r[i].label);
			continue;
		}
		if (!wait_card(ctx, r[i].name, 10000)) {
			fprintf(stderr, "bench_transmit: %s: no card within 10 s\n", r[i].label);
			return -1;
		}
		if (open_card(ctx, &r[i]) != 0)
			return -1;
		for (int a = 0; a < NAPDUS; a++) {
			r[i].t[a] = calloc(s->count, sizeof(uint64_t));
			r[i].blk[a] = calloc(nblk, sizeof(uint64_t));
			if (!r[i].t[a] || !r[i].blk[a])
				return -1;
		}
	}
	return r[ROLE_OURS].present ? 0 : -1;
}

static int warm_up(struct reader *r, const struct settings *s)
{
	for (int i = 0; i < NREADERS; i++)
		for (int a = 0; a < NAPDUS && r[i].present; a++)
			if (!skipped(s, a) && exchange(&r[i], &apdus[a], s->warmup, NULL) != 0)
				return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct reader r[NREADERS] = {
	    [ROLE_OURS] = {.match = "tokencard loopback"},
	    [ROLE_VPCD] = {.match = "vpcd bench"},
	    [ROLE_FLOOR] = {.match = "null ifd bench"},
	};
	struct settings s = {bench_count(FULL_COUNT, QUICK_CNT), bench_quick() ? 200 : 500, 500,
	                     -1};
	SCARDCONTEXT ctx;
	int rc = 1;

	for (int i = 0; i < NREADERS; i++)
		r[i].label = role_labels[i];
	if (parse_args(argc, argv, &s, r) != 0)
		return 2;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS) {
		fprintf(stderr, "bench_transmit: no pcscd (PCSCLITE_CSOCK_NAME?)\n");
		return 1;
	}
	bench_print_load("before the transmit benchmark");
	if (prepare(ctx, r, &s) == 0 && warm_up(r, &s) == 0 && measure(r, &s) == 0) {
		report(r, &s);
		rc = 0;
	}
	bench_print_load("after the transmit benchmark");
	for (int i = 0; i < NREADERS; i++) {
		if (r[i].card)
			(void)SCardDisconnect(r[i].card, SCARD_LEAVE_CARD);
		for (int a = 0; a < NAPDUS; a++) {
			free(r[i].t[a]);
			free(r[i].blk[a]);
		}
	}
	(void)SCardReleaseContext(ctx);
	return rc;
}
