/* ccid_sbs_client.c: a PC/SC client (libpcsclite) for the side-by-side runs of
 * two IFD handlers (ours and libccid) on the same simulated USB reader.
 *
 *   ccid_sbs_client [--reader PART] transcript [--step K] [--apdu-forms]
 *   ccid_sbs_client [--reader PART] time [--count N] [--warmup N]
 *
 * It takes the first reader (or the first whose name holds PART), waits for a
 * card, connects exclusively with T=0 and runs the reader test application
 * of tokencard-sim (docs/tokencard-sim.md; it is the default application, no
 * SELECT). Every case is run as an application would: an answer 61xx is
 * followed by GET RESPONSE (00 C0 00 00 xx), an answer 6Cxx by the same
 * command with Le = xx; the final data and SW are checked against what the
 * card must give.
 *
 * transcript: case 1 (80 30 00 00 00, the T=0 form docs/tokencard-sim.md gives);
 * case 2 (80 34 P1P2 Le, P1P2 = n) for n = 1..256; case 3 (80 32 00 00 n data)
 * and case 4 without Le (80 36 P1P2 n data, P1P2 = n: n bytes back; the T=0
 * form), n = 1..255. --apdu-forms adds the ISO 7816-4 forms a TPDU-level host
 * must map to T=0 itself: case 4 with Le = 00 (n = 1..255) and, last, case 1
 * as the 4-byte APDU 80 30 00 00. --step K takes every Kth length (and always
 * 1, 255 and 256). One line per case with every raw answer in hex, so two
 * runs can be compared with diff; the reader's name is on stderr only. Exit 1
 * if any case fails.
 *
 * time: N timed runs (after a warm-up) of case 1, case 2 with 16 and 256
 * bytes, case 3 with 16 and case 4 with 16+16 (without Le); one line each:
 * "time LABEL transmits T median_us M p90_us P" (T: SCardTransmit calls a
 * case took). Exit 1 if any answer is wrong. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#define MAX_CMD   262
#define MAX_RSP   (256 + 2)
#define MAX_STEPS 4
#define LINE_MAX_ 2600

enum kind { CASE1, CASE2, CASE3, CASE4, CASE4_LE, CASE1_4 };

struct conn {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	char name[256];
};

/* One case as the application saw it: every raw answer, the final one. */
struct result {
	unsigned steps;
	uint8_t rsp[MAX_STEPS][MAX_RSP];
	DWORD rlen[MAX_STEPS];
	LONG err; /* SCARD_S_SUCCESS or the failing call's code */
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The command of a case at length n (n is P1P2 for case 2, Lc otherwise). */
static size_t build(enum kind k, unsigned n, uint8_t *c)
{
	static const uint8_t ins[] = {0x30, 0x34, 0x32, 0x36, 0x36, 0x30};
	size_t len = 4;
	c[0] = 0x80;
	c[1] = ins[k];
	bool p12 = k == CASE2 || k == CASE4 || k == CASE4_LE;
	c[2] = p12 ? (uint8_t)(n >> 8) : 0;
	c[3] = p12 ? (uint8_t)n : 0;
	if (k == CASE1_4)
		return len;
	c[len++] = k == CASE1 ? 0 : (uint8_t)n; /* P3: Le (256 is 00) or Lc */
	if (k <= CASE2)
		return len;
	for (unsigned i = 0; i < n; i++)
		c[len++] = (uint8_t)i;
	if (k == CASE4_LE)
		c[len++] = 0x00;
	return len;
}

/* Run one case: the command, then GET RESPONSE or the re-sent command. */
static void run_case(struct conn *cn, const uint8_t *cmd, size_t clen, struct result *r)
{
	uint8_t c[MAX_CMD];
	memcpy(c, cmd, clen);
	r->steps = 0;
	r->err = SCARD_S_SUCCESS;
	while (r->steps < MAX_STEPS) {
		DWORD n = MAX_RSP;
		uint8_t *a = r->rsp[r->steps];
		r->err = SCardTransmit(cn->card, SCARD_PCI_T0, c, (DWORD)clen, NULL, a, &n);
		if (r->err != SCARD_S_SUCCESS)
			return;
		r->rlen[r->steps++] = n;
		if (n != 2 || (a[0] != 0x61 && a[0] != 0x6C))
			return;
		if (a[0] == 0x61) {
			const uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, a[1]};
			memcpy(c, gr, sizeof(gr));
			clen = sizeof(gr);
		} else {
			c[4] = a[1]; /* 6Cxx: the same case 2 command, Le = xx */
			clen = 5;
		}
	}
}

/* The final answer must be n bytes 00 01 02 ... (cases 2 and 4), then 90 00. */
static bool check(enum kind k, unsigned n, const struct result *r)
{
	if (r->err != SCARD_S_SUCCESS || r->steps == 0)
		return false;
	const uint8_t *a = r->rsp[r->steps - 1];
	DWORD len = r->rlen[r->steps - 1];
	size_t want = k == CASE2 || k == CASE4 || k == CASE4_LE ? n : 0;
	if (len != want + 2 || a[want] != 0x90 || a[want + 1] != 0x00)
		return false;
	for (size_t i = 0; i < want; i++)
		if (a[i] != (uint8_t)i)
			return false;
	return true;
}

static void print_result(const char *label, unsigned n, bool ok, const struct result *r)
{
	static char line[LINE_MAX_ * MAX_STEPS];
	int off = snprintf(line, sizeof(line), "%s %03u:", label, n);
	for (unsigned s = 0; s < r->steps; s++) {
		off += snprintf(line + off, sizeof(line) - (size_t)off, "%s ", s ? " ;" : "");
		for (DWORD i = 0; i < r->rlen[s]; i++)
			off +=
			    snprintf(line + off, sizeof(line) - (size_t)off, "%02X", r->rsp[s][i]);
	}
	if (r->err != SCARD_S_SUCCESS)
		(void)snprintf(line + off, sizeof(line) - (size_t)off, " error %s",
		               pcsc_stringify_error(r->err));
	printf("%s %s\n", line, ok ? "ok" : "FAILED");
}

static const char *const labels[] = {"case1", "case2", "case3", "case4", "case4le", "case1-4b"};

static int transcript(struct conn *cn, unsigned step, bool apdu_forms)
{
	static const unsigned top[] = {1, 256, 255, 255, 255, 1};
	uint8_t cmd[MAX_CMD];
	struct result r;
	int fails = 0;
	for (enum kind k = CASE1; k <= (apdu_forms ? CASE1_4 : CASE4); k++) {
		for (unsigned n = 1; n <= top[k]; n++) {
			if (step > 1 && n != 1 && n < 255 && n % step != 0)
				continue;
			size_t len = build(k, n, cmd);
			run_case(cn, cmd, len, &r);
			bool ok = check(k, n, &r);
			fails += !ok;
			print_result(labels[k], n, ok, &r);
		}
	}
	printf("failed %d\n", fails);
	return fails ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One figure: count timed runs of a case after warmup untimed ones. */
static int time_one(struct conn *cn, const char *label, enum kind k, unsigned n, size_t count,
                    size_t warmup, uint64_t *t)
{
	uint8_t cmd[MAX_CMD];
	struct result r;
	size_t len = build(k, n, cmd);
	for (size_t i = 0; i < warmup + count; i++) {
		uint64_t t0 = now_ns();
		run_case(cn, cmd, len, &r);
		uint64_t t1 = now_ns();
		if (!check(k, n, &r)) {
			print_result(label, n, false, &r);
			return 1;
		}
		if (i >= warmup)
			t[i - warmup] = t1 - t0;
	}
	qsort(t, count, sizeof(*t), cmp_u64);
	size_t p90 = (count * 9 + 9) / 10, mid = (count - 1) / 2;
	printf("time %s transmits %u median_us %.1f p90_us %.1f\n", label, r.steps,
	       (double)t[mid] / 1000.0, (double)t[p90 ? p90 - 1 : 0] / 1000.0);
	fflush(stdout);
	return 0;
}

static int timing(struct conn *cn, size_t count, size_t warmup)
{
	static const struct {
		const char *label;
		enum kind k;
		unsigned n;
	} set[] = {
	    {"case1", CASE1, 0},     {"case2-16", CASE2, 16},    {"case2-256", CASE2, 256},
	    {"case3-16", CASE3, 16}, {"case4-16+16", CASE4, 16},
	};
	uint64_t *t = calloc(count ? count : 1, sizeof(*t));
	int rc = 0;
	if (!t || !count)
		return 2;
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]) && !rc; i++)
		rc = time_one(cn, set[i].label, set[i].k, set[i].n, count, warmup, t);
	free(t);
	return rc;
}

/* The reader (the first, or the first whose name holds part) and its card. */
static int connect_card(struct conn *cn, const char *part)
{
	char list[4096];
	DWORD len = sizeof(list), proto = 0;
	SCARD_READERSTATE st = {0};
	LONG e = SCARD_E_NO_SERVICE;
	/* pcscd may still be starting, its hot-plug not yet done: 10 s. */
	for (int i = 0; i < 100 && e != SCARD_S_SUCCESS; i++) {
		if (i)
			nanosleep(&(struct timespec){0, 100000000}, NULL);
		if (!cn->ctx && SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &cn->ctx) !=
		                    SCARD_S_SUCCESS) {
			cn->ctx = 0;
			continue;
		}
		len = sizeof(list);
		e = SCardListReaders(cn->ctx, NULL, list, &len);
	}
	if (e != SCARD_S_SUCCESS) {
		fprintf(stderr, "ccid_sbs_client: no reader: %s\n", pcsc_stringify_error(e));
		return -1;
	}
	const char *p = list;
	while (*p && part && !strstr(p, part))
		p += strlen(p) + 1;
	if (!*p) {
		fprintf(stderr, "ccid_sbs_client: no reader named like \"%s\"\n", part);
		return -1;
	}
	size_t nl = strlen(p);
	if (nl >= sizeof(cn->name))
		nl = sizeof(cn->name) - 1;
	memcpy(cn->name, p, nl);
	cn->name[nl] = '\0';
	st.szReader = cn->name;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	for (int i = 0; i < 50; i++) {
		(void)SCardGetStatusChange(cn->ctx, 200, &st, 1);
		if (st.dwEventState & SCARD_STATE_PRESENT)
			break;
		st.dwCurrentState = st.dwEventState;
	}
	e = SCardConnect(cn->ctx, cn->name, SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0, &cn->card,
	                 &proto);
	if (e != SCARD_S_SUCCESS) {
		fprintf(stderr, "ccid_sbs_client: connect %s: %s\n", cn->name,
		        pcsc_stringify_error(e));
		return -1;
	}
	fprintf(stderr, "ccid_sbs_client: reader \"%s\"\n", cn->name);
	return 0;
}

/* The ATR and protocol are part of the transcript. */
static void print_status(struct conn *cn)
{
	uint8_t atr[MAX_ATR_SIZE];
	char name[256];
	DWORD alen = sizeof(atr), state = 0, proto = 0, nlen = sizeof(name);
	LONG e = SCardStatus(cn->card, name, &nlen, &state, &proto, atr, &alen);
	if (e != SCARD_S_SUCCESS) {
		printf("status error %s\n", pcsc_stringify_error(e));
		return;
	}
	printf("atr ");
	for (DWORD i = 0; i < alen; i++)
		printf("%02X", atr[i]);
	printf("\nprotocol %s\n", proto == SCARD_PROTOCOL_T0 ? "T=0" : "other");
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: ccid_sbs_client [--reader PART] transcript [--step K] [--apdu-forms]\n"
	        "       ccid_sbs_client [--reader PART] time [--count N] [--warmup N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *part = NULL, *mode = NULL;
	unsigned long step = 1, count = 1000, warmup = 100;
	bool apdu_forms = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--apdu-forms")) {
			apdu_forms = true;
			continue;
		}
		if (!strcmp(a, "transcript") || !strcmp(a, "time")) {
			mode = a;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		if (!strcmp(a, "--reader"))
			part = v;
		else if (!strcmp(a, "--step"))
			step = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--count"))
			count = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--warmup"))
			warmup = strtoul(v, NULL, 10);
		else
			return usage();
	}
	if (!mode || !count || count > 10000000 || step > 256)
		return usage();
	struct conn cn = {0};
	if (connect_card(&cn, part) < 0)
		return 1;
	int rc;
	if (!strcmp(mode, "transcript")) {
		print_status(&cn);
		rc = transcript(&cn, (unsigned)step, apdu_forms);
	} else {
		rc = timing(&cn, count, warmup);
	}
	SCardDisconnect(cn.card, SCARD_UNPOWER_CARD);
	SCardReleaseContext(cn.ctx);
	return rc;
}
