/* cmd_pcsc_watch.c: "tokencard watch": card and reader events as they
 * happen, through SCardGetStatusChange and the \\?PnP?\Notification reader. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_pcsc.h"
#include "commands.h"
#include "tc_hex.h"

#define WATCH_PNP_NAME    "\\\\?PnP?\\Notification"
#define WATCH_EVENT_MASK  0xFFFF0000u /* pcsc-lite's event counter, per reader */
#define WATCH_RECONNECT_S 10.0        /* other errors than "no pcscd" while reconnecting */

/* The answers that mean pcscd is gone (stopped, restarted, killed). */
static int service_gone(LONG rv)
{
	return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
	       rv == SCARD_F_COMM_ERROR;
}

struct watch {
	SCARDCONTEXT ctx;
	struct pcsc_readers names[2]; /* the current list and the next one */
	unsigned cur;                 /* index of the current list in names[] */
	SCARD_READERSTATE st[PCSC_MAX_READERS + 1];
	size_t n;         /* readers in st[], the PnP entry after them when pnp */
	int pnp;          /* pcscd announces reader changes */
	long count;       /* stop after this many events; 0: never */
	long events;      /* events printed */
	double limit;     /* stop after this many seconds; 0: never */
	double start;     /* CLOCK_MONOTONIC at start, seconds */
	const char *only; /* watch this reader only (-r), NULL: all */
	char only_buf[256];
};

static double now_s(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void watch_usage(FILE *to)
{
	fprintf(to, "usage: tokencard watch [-r READER] [--count N] [--timeout S]\n"
	            "Print the state of every reader, then each card and reader event as it\n"
	            "happens: card inserted (with its ATR), removed, mute, in use; reader added\n"
	            "or removed. --count N stops after N events, --timeout S after S seconds\n"
	            "(exit status 1 when the N events did not come in time). -r watches one\n"
	            "reader (an index, a name or part of one).\n");
}

/* One event line; returns 1 when --count is reached. */
static int event(struct watch *w, const char *reader, const char *what, const SCARD_READERSTATE *s)
{
	char atr[3 * MAX_ATR_SIZE + 8];
	printf("[%8.3f] %s: %s", now_s() - w->start, reader, what);
	if (s && (s->dwEventState & SCARD_STATE_PRESENT) && s->cbAtr > 0)
		printf(", ATR %s", tc_hex_encode(s->rgbAtr, s->cbAtr, ' ', atr, sizeof(atr)));
	printf("\n");
	w->events++;
	return w->count > 0 && w->events >= w->count;
}

static void print_state(const struct watch *w, const SCARD_READERSTATE *s)
{
	char flags[128], atr[3 * MAX_ATR_SIZE + 8];
	printf("[%8.3f] %s: %s", now_s() - w->start, s->szReader,
	       pcsc_state_text(s->dwEventState, flags, sizeof(flags)));
	if ((s->dwEventState & SCARD_STATE_PRESENT) && s->cbAtr > 0)
		printf(", ATR %s", tc_hex_encode(s->rgbAtr, s->cbAtr, ' ', atr, sizeof(atr)));
	printf("\n");
}

/* The card events between the old and the new state of one reader. */
static int card_events(struct watch *w, const SCARD_READERSTATE *s)
{
	DWORD was = s->dwCurrentState, is = s->dwEventState;
	DWORD changed = was ^ is;
	int done = 0;
	if ((was & SCARD_STATE_PRESENT) && (is & SCARD_STATE_PRESENT) &&
	    ((was ^ is) & WATCH_EVENT_MASK) && !(changed & SCARD_STATE_MUTE))
		done |= event(w, s->szReader, "card removed and inserted again", s);
	if ((changed & SCARD_STATE_EMPTY) && (is & SCARD_STATE_EMPTY))
		done |= event(w, s->szReader, "card removed", NULL);
	if ((changed & SCARD_STATE_PRESENT) && (is & SCARD_STATE_PRESENT))
		done |= event(
		    w, s->szReader,
		    is & SCARD_STATE_MUTE ? "card inserted, mute (no ATR)" : "card inserted", s);
	else if ((changed & SCARD_STATE_MUTE) && (is & SCARD_STATE_PRESENT))
		done |=
		    event(w, s->szReader, is & SCARD_STATE_MUTE ? "card mute" : "card answers", s);
	if ((changed & SCARD_STATE_INUSE) && (is & SCARD_STATE_PRESENT))
		done |=
		    event(w, s->szReader,
		          is & SCARD_STATE_INUSE ? "card in use" : "card no longer in use", NULL);
	if ((changed & SCARD_STATE_EXCLUSIVE) && (is & SCARD_STATE_EXCLUSIVE))
		done |= event(w, s->szReader, "card in exclusive use", NULL);
	return done;
}

static const SCARD_READERSTATE *find_state(const struct watch *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->st[i].szReader, name) == 0)
			return &w->st[i];
	return NULL;
}

static int wanted(const struct watch *w, const char *name)
{
	return !w->only || strcmp(w->only, name) == 0;
}

/* Build st[] from the list names[next]: keep the state of known readers,
 * query the new ones. *fresh gets a bit per new reader. */
static LONG rebuild(struct watch *w, unsigned next, unsigned long long *fresh)
{
	SCARD_READERSTATE st[PCSC_MAX_READERS + 1];
	const struct pcsc_readers *r = &w->names[next];
	size_t n = 0;
	memset(st, 0, sizeof(st));
	*fresh = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!wanted(w, r->name[i]))
			continue;
		const SCARD_READERSTATE *old = find_state(w, r->name[i]);
		if (old)
			st[n] = *old;
		else
			*fresh |= 1ull << n;
		st[n].szReader = r->name[i];
		n++;
	}
	if (w->pnp) {
		st[n].szReader = WATCH_PNP_NAME;
		st[n].dwCurrentState = w->st[w->n].dwCurrentState;
	}
	memcpy(w->st, st, sizeof(st));
	w->n = n;
	w->cur = next;
	if (*fresh == 0)
		return SCARD_S_SUCCESS;
	/* UNAWARE entries answer at once; the others, unchanged, do not wait. */
	SCARD_READERSTATE q[PCSC_MAX_READERS];
	size_t nq = 0;
	for (size_t i = 0; i < n; i++)
		if (*fresh & (1ull << i))
			q[nq++] = st[i];
	LONG rv = SCardGetStatusChange(w->ctx, 0, q, (DWORD)nq);
	nq = 0;
	for (size_t i = 0; rv == SCARD_S_SUCCESS && i < n; i++)
		if (*fresh & (1ull << i)) {
			w->st[i] = q[nq++];
			w->st[i].dwCurrentState = w->st[i].dwEventState & ~SCARD_STATE_CHANGED;
		}
	return rv;
}

/* Re-list the readers after a PnP event: reader added / removed. */
static int relist(struct watch *w, LONG *rv)
{
	unsigned next = w->cur ^ 1u;
	unsigned long long fresh;
	int done = 0;
	*rv = pcsc_list(w->ctx, &w->names[next]);
	if (*rv != SCARD_S_SUCCESS)
		return 0;
	for (size_t i = 0; i < w->n; i++) {
		int still = 0;
		for (size_t j = 0; j < w->names[next].n; j++)
			still |= strcmp(w->st[i].szReader, w->names[next].name[j]) == 0;
		if (!still)
			done |= event(w, w->st[i].szReader, "reader removed", NULL);
	}
	*rv = rebuild(w, next, &fresh);
	for (size_t i = 0; *rv == SCARD_S_SUCCESS && i < w->n; i++)
		if (fresh & (1ull << i)) {
			done |= event(w, w->st[i].szReader, "reader added", NULL);
			print_state(w, &w->st[i]);
		}
	return done;
}

/* Seconds left before --timeout, or -1 without one. */
static double left_s(const struct watch *w)
{
	if (w->limit <= 0)
		return -1;
	double left = w->limit - (now_s() - w->start);
	return left > 0 ? left : 0;
}

/* pcscd went away: every reader with it. Wait for it to come back (until
 * --timeout), then announce the readers again. 1 to stop, 0 to go on, -1 on
 * an error. */
static int reconnect(struct watch *w)
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	LONG rv;
	int done = event(w, "pcscd", "service stopped", NULL);
	for (size_t i = 0; i < w->n; i++)
		done |= event(w, w->st[i].szReader, "reader removed", NULL);
	w->n = 0;
	memset(&w->st[0], 0, sizeof(w->st[0]));
	w->st[0].szReader = WATCH_PNP_NAME;
	(void)SCardReleaseContext(w->ctx);
	w->ctx = 0;
	if (done)
		return 1;
	/* A pcscd starting or stopping may refuse in other ways too (access
	 * denied...): retry whatever the error, for a bounded time. */
	double give_up = now_s() + WATCH_RECONNECT_S;
	for (;;) {
		if (left_s(w) == 0)
			return 0;
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &w->ctx);
		if (rv == SCARD_S_SUCCESS)
			break;
		if (!service_gone(rv) && now_s() > give_up) {
			pcsc_report("watch", "SCardEstablishContext", rv);
			return -1;
		}
		(void)nanosleep(&pause, NULL);
	}
	done = event(w, "pcscd", "service back", NULL);
	done |= relist(w, &rv);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report("watch", "SCardListReaders", rv);
		return -1;
	}
	return done;
}

/* Handle one answer of SCardGetStatusChange: 1 when --count is reached. */
static int handle(struct watch *w, LONG *rv)
{
	int done = 0, again = 0;
	for (size_t i = 0; i < w->n; i++) {
		SCARD_READERSTATE *s = &w->st[i];
		if (!(s->dwEventState & SCARD_STATE_CHANGED))
			continue;
		if (s->dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE))
			again = 1;
		else
			done |= card_events(w, s);
		s->dwCurrentState = s->dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	SCARD_READERSTATE *pnp = &w->st[w->n];
	if (w->pnp && (pnp->dwEventState & SCARD_STATE_CHANGED)) {
		again = 1;
		pnp->dwCurrentState = pnp->dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	*rv = SCARD_S_SUCCESS;
	if (again)
		done |= relist(w, rv);
	return done;
}

/* The event loop: 0 when done (count or timeout), 1 on an error. */
static int watch_loop(struct watch *w)
{
	for (;;) {
		double left = left_s(w);
		if (left == 0) {
			if (w->count > 0 && w->events < w->count) {
				fprintf(stderr, "tokencard watch: %ld of %ld events in %g s\n",
				        w->events, w->count, w->limit);
				return 1;
			}
			return 0;
		}
		DWORD tmo = left < 0 ? INFINITE : (DWORD)(left * 1000.0) + 1;
		LONG rv =
		    SCardGetStatusChange(w->ctx, tmo, w->st, (DWORD)(w->n + (w->pnp ? 1 : 0)));
		int done = 0;
		if (rv == SCARD_E_TIMEOUT)
			continue;
		if (service_gone(rv)) {
			done = reconnect(w);
			if (done < 0)
				return 1;
		} else if (rv == SCARD_E_UNKNOWN_READER) {
			done = relist(w, &rv);
		} else if (rv == SCARD_S_SUCCESS) {
			done = handle(w, &rv);
		}
		if (rv != SCARD_S_SUCCESS && !service_gone(rv)) {
			pcsc_report("watch", "SCardGetStatusChange", rv);
			return 1;
		}
		if (done)
			return 0;
	}
}

/* 0 to go on, 1 for --help, 2 for a usage error. */
static int parse_args(int argc, char **argv, struct watch *w, const char **reader)
{
	static const struct option opts[] = {{"reader", required_argument, 0, 'r'},
	                                     {"count", required_argument, 0, 'n'},
	                                     {"timeout", required_argument, 0, 't'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	int c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:n:t:h", opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'r') {
			*reader = optarg;
			continue;
		}
		if (c != 'n' && c != 't')
			return 2;
		double v = strtod(optarg, &end);
		if (*end || end == optarg || !(v > 0) || v > 1e7) {
			fprintf(stderr, "tokencard watch: bad number '%s'\n", optarg);
			return 2;
		}
		if (c == 'n')
			w->count = (long)v;
		else
			w->limit = v;
	}
	return optind < argc ? 2 : 0;
}

/* The first list, the PnP reader, the states to start from. */
static int watch_setup(struct watch *w, const char *reader)
{
	unsigned long long fresh;
	LONG rv = pcsc_list(w->ctx, &w->names[0]);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report("watch", "SCardListReaders", rv);
		return -1;
	}
	if (reader) {
		const char *name = pcsc_pick(&w->names[0], reader, "watch");
		if (!name)
			return -1;
		(void)snprintf(w->only_buf, sizeof(w->only_buf), "%s", name);
		w->only = w->only_buf;
	}
	SCARD_READERSTATE pnp = {.szReader = WATCH_PNP_NAME, .dwCurrentState = SCARD_STATE_UNAWARE};
	rv = SCardGetStatusChange(w->ctx, 0, &pnp, 1);
	w->pnp = (rv == SCARD_S_SUCCESS || rv == SCARD_E_TIMEOUT) &&
	         !(pnp.dwEventState & SCARD_STATE_UNKNOWN);
	w->st[0] = pnp;
	w->st[0].dwCurrentState = pnp.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	w->n = 0;
	rv = rebuild(w, 0, &fresh);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report("watch", "SCardGetStatusChange", rv);
		return -1;
	}
	if (!w->pnp)
		printf("(pcscd does not announce reader changes: card events only)\n");
	for (size_t i = 0; i < w->n; i++)
		print_state(w, &w->st[i]);
	if (w->n == 0)
		printf("[%8.3f] no PC/SC reader yet\n", now_s() - w->start);
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	const char *reader = NULL;
	struct watch *w = calloc(1, sizeof(*w));
	if (!w) {
		fprintf(stderr, "tokencard watch: out of memory\n");
		return 1;
	}
	int rc = parse_args(argc, argv, w, &reader);
	if (rc) {
		watch_usage(rc == 1 ? stdout : stderr);
		free(w);
		return rc == 1 ? 0 : 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	w->start = now_s();
	rc = pcsc_open("watch", &w->ctx) == 0 ? 0 : 1;
	if (rc == 0 && watch_setup(w, reader) != 0)
		rc = 1;
	if (rc == 0 && w->n == 0 && !w->pnp) {
		fprintf(stderr, "tokencard watch: no reader and no reader announcements\n");
		rc = 1;
	}
	if (rc == 0)
		rc = watch_loop(w);
	if (w->ctx)
		(void)SCardReleaseContext(w->ctx);
	free(w);
	return rc;
}
