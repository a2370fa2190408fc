/* cmd_pcsc.c: "tokencard readers", and what the PC/SC commands share
 * (cmd_pcsc.h). */
#include "cmd_pcsc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tc_hex.h"

void pcsc_report(const char *who, const char *call, LONG rv)
{
	fprintf(stderr, "tokencard %s: %s: %s (0x%08lX)\n", who, call, pcsc_stringify_error(rv),
	        (unsigned long)rv);
	if (rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED) {
		const char *sock = getenv("PCSCLITE_CSOCK_NAME");
		fprintf(stderr,
		        "  pcscd is not reachable at %s (PCSCLITE_CSOCK_NAME%s); "
		        "'tokencard rig start' runs a private one\n",
		        sock ? sock : "its default socket", sock ? "" : " unset");
	}
}

int pcsc_open(const char *who, SCARDCONTEXT *ctx)
{
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, ctx);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report(who, "SCardEstablishContext", rv);
		return -1;
	}
	return 0;
}

LONG pcsc_list(SCARDCONTEXT ctx, struct pcsc_readers *r)
{
	DWORD len = sizeof(r->buf);
	r->n = 0;
	LONG rv = SCardListReaders(ctx, NULL, r->buf, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return SCARD_S_SUCCESS;
	if (rv != SCARD_S_SUCCESS)
		return rv;
	r->buf[sizeof(r->buf) - 1] = '\0';
	for (const char *p = r->buf; *p && p < r->buf + len && r->n < PCSC_MAX_READERS;
	     p += strlen(p) + 1)
		r->name[r->n++] = p;
	return SCARD_S_SUCCESS;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

const char *pcsc_pick(const struct pcsc_readers *r, const char *spec, const char *who)
{
	const char *found = NULL;
	size_t hits = 0;
	if (r->n == 0) {
		fprintf(stderr, "tokencard %s: no PC/SC reader\n", who);
		return NULL;
	}
	if (all_digits(spec)) {
		unsigned long i = strtoul(spec, NULL, 10);
		if (i < r->n)
			return r->name[i];
		fprintf(stderr, "tokencard %s: no reader %lu (there are %zu)\n", who, i, r->n);
		return NULL;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->name[i], spec) == 0)
			return r->name[i];
		if (strstr(r->name[i], spec)) {
			found = r->name[i];
			hits++;
		}
	}
	if (hits == 1)
		return found;
	fprintf(stderr, "tokencard %s: %s reader matches '%s' ('tokencard readers' lists them)\n",
	        who, hits ? "more than one" : "no", spec);
	return NULL;
}

const char *pcsc_state_text(DWORD state, char *buf, size_t n)
{
	static const struct {
		DWORD flag;
		const char *text;
	} flags[] = {
	    {SCARD_STATE_UNKNOWN, "unknown reader"},
	    {SCARD_STATE_UNAVAILABLE, "unavailable"},
	    {SCARD_STATE_EMPTY, "empty"},
	    {SCARD_STATE_PRESENT, "present"},
	    {SCARD_STATE_MUTE, "mute"},
	    {SCARD_STATE_UNPOWERED, "unpowered"},
	    {SCARD_STATE_EXCLUSIVE, "exclusive"},
	    {SCARD_STATE_INUSE, "in use"},
	};
	size_t used = 0;
	if (n == 0)
		return "";
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!(state & flags[i].flag))
			continue;
		int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", flags[i].text);
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	if (used == 0)
		(void)snprintf(buf, n, "no state");
	return buf;
}

static void readers_usage(FILE *to)
{
	fprintf(to, "usage: tokencard readers\n"
	            "List the PC/SC readers (index, name), the state of their card and its ATR.\n"
	            "Uses pcscd at PCSCLITE_CSOCK_NAME, as every PC/SC client does.\n");
}

static void print_reader(size_t i, const SCARD_READERSTATE *st)
{
	char flags[128], atr[3 * MAX_ATR_SIZE + 8];
	printf("%zu: %s\n", i, st->szReader);
	printf("   card: %s\n", pcsc_state_text(st->dwEventState, flags, sizeof(flags)));
	if ((st->dwEventState & SCARD_STATE_PRESENT) && st->cbAtr > 0)
		printf("   ATR:  %s\n",
		       tc_hex_encode(st->rgbAtr, st->cbAtr, ' ', atr, sizeof(atr)));
}

static int list_readers(SCARDCONTEXT ctx)
{
	struct pcsc_readers r;
	SCARD_READERSTATE st[PCSC_MAX_READERS];
	LONG rv = pcsc_list(ctx, &r);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report("readers", "SCardListReaders", rv);
		return 1;
	}
	if (r.n == 0) {
		printf("no PC/SC reader\n");
		return 0;
	}
	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < r.n; i++) {
		st[i].szReader = r.name[i];
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	rv = SCardGetStatusChange(ctx, 0, st, (DWORD)r.n);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		pcsc_report("readers", "SCardGetStatusChange", rv);
		return 1;
	}
	for (size_t i = 0; i < r.n; i++)
		print_reader(i, &st[i]);
	return 0;
}

int cmd_readers(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		readers_usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (pcsc_open("readers", &ctx) != 0)
		return 1;
	int rc = list_readers(ctx);
	(void)SCardReleaseContext(ctx);
	return rc;
}
