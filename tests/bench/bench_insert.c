/* bench_insert.c: card insert and remove to SCardGetStatusChange returning.
 *
 *   bench_insert --ctl PATH [--reader NAME] [--count N] [--gap-ms MS]
 *
 * PATH is the control socket of the card (a rig's DIR/card0.sock.ctl); NAME a
 * part of the reader's name (default "tokencard loopback"). A waiter thread,
 * with its own PC/SC context, sits in SCardGetStatusChange (no timeout but a
 * long one) on the reader; the main thread waits MS ms plus a random part (so
 * that no polling period of pcscd or the driver locks on to the rhythm),
 * writes "remove" or "insert" on the control socket and measures from that
 * write to the return of SCardGetStatusChange with the new state. N of each.
 * Prints figures; fails only when the card or pcscd does not answer. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <winscard.h>

#include "bench_stats.h"

#define FULL_COUNT     200
#define QUICK_COUNT    40
#define WAIT_MS        15000 /* the longest any event may take */
#define DEFAULT_GAP_MS 30
#define JITTER_MS      30

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	SCARDCONTEXT ctx;
	const char *reader;
	DWORD want;   /* SCARD_STATE_PRESENT or SCARD_STATE_EMPTY; 0: idle */
	bool waiting; /* about to enter SCardGetStatusChange for want */
	bool done;
	bool quit;
	LONG err;
	uint64_t t_ret; /* when SCardGetStatusChange returned with want */
	DWORD current;  /* the last state seen */
};

/* Block until the reader's state has the want bit; record when. */
static LONG wait_state(struct waiter *w, DWORD want, uint64_t *when)
{
	SCARD_READERSTATE rs = {.szReader = w->reader};
	for (;;) {
		rs.dwCurrentState = w->current;
		LONG rc = SCardGetStatusChange(w->ctx, WAIT_MS, &rs, 1);
		*when = bench_now_ns();
		if (rc != SCARD_S_SUCCESS)
			return rc;
		w->current = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		if (rs.dwEventState & want)
			return SCARD_S_SUCCESS;
	}
}

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->want && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		DWORD want = w->want;
		w->waiting = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		uint64_t t = 0;
		LONG rc = wait_state(w, want, &t);
		pthread_mutex_lock(&w->mu);
		w->err = rc;
		w->t_ret = t;
		w->want = 0;
		w->waiting = false;
		w->done = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int ctl_open(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "bench_insert: no card control socket at %s\n", path);
	return fd;
}

/* Read the card's one-line answer; 0 when it is "ok". */
static int ctl_reply(int fd)
{
	char line[256];
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		ssize_t r = read(fd, line + n, 1);
		if (r <= 0)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (strncmp(line, "ok", 2) != 0) {
		fprintf(stderr, "bench_insert: the card answered '%s'\n", line);
		return -1;
	}
	return 0;
}

struct run {
	int ctl;
	size_t count;
	unsigned gap_ms;
	uint32_t seed;
	uint64_t *t[2]; /* 0: remove, 1: insert; ns */
};

static unsigned jitter(struct run *r)
{
	r->seed ^= r->seed << 13;
	r->seed ^= r->seed >> 17;
	r->seed ^= r->seed << 5;
	return r->seed % JITTER_MS;
}

/* One event: arm the waiter, give it time to settle in pcscd, move the card,
 * wait for the waiter; *out = command write to return. */
static int one_event(struct waiter *w, struct run *r, bool remove, uint64_t *out)
{
	const char *cmd = remove ? "remove\n" : "insert\n";
	pthread_mutex_lock(&w->mu);
	w->want = remove ? SCARD_STATE_EMPTY : SCARD_STATE_PRESENT;
	w->done = false;
	pthread_cond_broadcast(&w->cv);
	while (!w->waiting && !w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	bench_sleep_ms(r->gap_ms + jitter(r));
	uint64_t t0 = bench_now_ns();
	if (write(r->ctl, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || ctl_reply(r->ctl) != 0)
		return -1;
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	LONG err = w->err;
	uint64_t t1 = w->t_ret;
	pthread_mutex_unlock(&w->mu);
	if (err != SCARD_S_SUCCESS || t1 < t0) {
		fprintf(stderr, "bench_insert: %s: %s\n", remove ? "remove" : "insert",
		        err != SCARD_S_SUCCESS ? pcsc_stringify_error(err)
		                               : "state changed before the command");
		return -1;
	}
	*out = t1 - t0;
	return 0;
}

/* Learn the reader's state; insert the card first when it is out. */
static int start_state(struct waiter *w, struct run *r)
{
	SCARD_READERSTATE rs = {.szReader = w->reader, .dwCurrentState = SCARD_STATE_UNAWARE};
	LONG rc = SCardGetStatusChange(w->ctx, 0, &rs, 1);
	if (rc != SCARD_S_SUCCESS) {
		fprintf(stderr, "bench_insert: %s: %s\n", w->reader, pcsc_stringify_error(rc));
		return -1;
	}
	w->current = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	if (w->current & SCARD_STATE_PRESENT)
		return 0;
	uint64_t ignored;
	return one_event(w, r, false, &ignored);
}

static void print_row(const char *what, uint64_t *v, size_t n)
{
	bench_sort(v, n);
	double med = (double)bench_pct(v, n, 50.0) / 1e6, p99 = (double)bench_pct(v, n, 99.0) / 1e6;
	printf("%-8s %10.2f %10.2f %10.2f %10.2f   median<10 ms %-6s p99<40 ms %s\n", what,
	       (double)v[0] / 1e6, med, p99, (double)v[n - 1] / 1e6, med < 10.0 ? "met" : "missed",
	       p99 < 40.0 ? "met" : "missed");
}

static int measure(struct waiter *w, struct run *r)
{
	if (start_state(w, r) != 0)
		return -1;
	for (size_t i = 0; i < r->count; i++)
		if (one_event(w, r, true, &r->t[0][i]) != 0 ||
		    one_event(w, r, false, &r->t[1][i]) != 0)
			return -1;
	printf("\nCard movement to SCardGetStatusChange returning: %zu removals and %zu "
	       "insertions,\n%u-%u ms apart (targets reported, not asserted)\n\n",
	       r->count, r->count, r->gap_ms, r->gap_ms + JITTER_MS - 1);
	printf("%-8s %10s %10s %10s %10s\n", "event", "min ms", "median ms", "p99 ms", "max ms");
	print_row("remove", r->t[0], r->count);
	print_row("insert", r->t[1], r->count);
	printf("\n");
	return 0;
}

static int find_reader(SCARDCONTEXT ctx, const char *match, char *out, size_t cap)
{
	char buf[4096];
	DWORD len = sizeof(buf);
	if (SCardListReaders(ctx, NULL, buf, &len) == SCARD_S_SUCCESS)
		for (const char *p = buf; *p; p += strlen(p) + 1)
			if (strstr(p, match)) {
				snprintf(out, cap, "%s", p);
				return 0;
			}
	fprintf(stderr, "bench_insert: no reader matching '%s'\n", match);
	return -1;
}

static int parse_args(int argc, char **argv, struct run *r, const char **ctl, const char **match)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--ctl"))
			*ctl = v;
		else if (!strcmp(a, "--reader"))
			*match = v;
		else if (!strcmp(a, "--count"))
			r->count = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--gap-ms"))
			r->gap_ms = (unsigned)strtoul(v, NULL, 10);
		else
			break;
	}
	if (argc % 2 == 0 || !*ctl || r->count == 0) {
		fprintf(stderr, "usage: bench_insert --ctl PATH [--reader NAME] [--count N] "
		                "[--gap-ms MS]\n");
		return -1;
	}
	return 0;
}

static int run_with_waiter(struct waiter *w, struct run *r)
{
	pthread_t th;
	if (pthread_create(&th, NULL, waiter_main, w) != 0)
		return -1;
	int rc = measure(w, r);
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (rc != 0)
		(void)SCardCancel(w->ctx);
	(void)pthread_join(th, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	struct run r = {.count = bench_count(FULL_COUNT, QUICK_COUNT),
	                .gap_ms = DEFAULT_GAP_MS,
	                .seed = 0x9E3779B9u};
	struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	const char *ctl = NULL, *match = "tokencard loopback";
	char reader[256];
	int rc = 1;

	if (parse_args(argc, argv, &r, &ctl, &match) != 0)
		return 2;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &w.ctx) != SCARD_S_SUCCESS) {
		fprintf(stderr, "bench_insert: no pcscd (PCSCLITE_CSOCK_NAME?)\n");
		return 1;
	}
	r.ctl = ctl_open(ctl);
	r.t[0] = calloc(r.count, sizeof(uint64_t));
	r.t[1] = calloc(r.count, sizeof(uint64_t));
	if (r.ctl >= 0 && r.t[0] && r.t[1] &&
	    find_reader(w.ctx, match, reader, sizeof(reader)) == 0) {
		w.reader = reader;
		bench_print_load("before the insert/remove benchmark");
		rc = run_with_waiter(&w, &r) == 0 ? 0 : 1;
		bench_print_load("after the insert/remove benchmark");
	}
	if (r.ctl >= 0)
		(void)close(r.ctl);
	free(r.t[0]);
	free(r.t[1]);
	(void)SCardReleaseContext(w.ctx);
	return rc;
}
