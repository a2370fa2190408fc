/* ccid_hotplug_client.c: a PC/SC client (libpcsclite) that plugs the
 * simulated USB reader in and out while pcscd runs, and checks what pcscd
 * makes of it.
 *
 *   ccid_hotplug_client [--rounds N] [--bound-ms MS]
 *
 * stdout goes to `test_ccid_usb --serve LEVEL unplugged` (its commands
 * "plug" and "unplug"), stdin comes from it ("ok plug", "ok unplug"); the
 * report is on stderr. Each round:
 *   1. no reader of ours is listed;
 *   2. "plug"; the reader must be listed within the bound (the time from the
 *      command to the listing is printed), a card must be in it;
 *   3. connect (T=0) and run case 1 (80 30 00 00), case 2 with 16 bytes
 *      (80 34 00 10 10: 00..0F 90 00) and case 3 with 3 bytes
 *      (80 32 00 00 03 01 02 03: 90 00) of tokencard-sim's reader test
 *      application;
 *   4. "unplug" with the card still connected; the reader must leave the
 *      list within the bound (time printed); a transmit on the old handle
 *      must fail.
 * At the end a new context must still work (pcscd alive and answering).
 * Readers are watched with SCardGetStatusChange on "\\?PnP?\Notification"
 * (woken by pcscd's reader-list changes) and SCardListReaders. Exit 0 when
 * every round passes, 1 otherwise. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#define OURS "tokencard simulated CCID reader"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Our reader's full name into name (when given); true when it is listed. */
static bool listed(SCARDCONTEXT ctx, char *name, size_t cap, LONG *rv)
{
	char buf[4096];
	DWORD len = sizeof(buf);
	*rv = SCardListReaders(ctx, NULL, buf, &len);
	if (*rv == SCARD_E_NO_READERS_AVAILABLE) {
		*rv = SCARD_S_SUCCESS;
		return false;
	}
	if (*rv != SCARD_S_SUCCESS)
		return false;
	for (const char *p = buf; p < buf + len && *p; p += strlen(p) + 1) {
		if (strncmp(p, OURS, strlen(OURS)) == 0) {
			if (name)
				snprintf(name, cap, "%s", p);
			return true;
		}
	}
	return false;
}

/* Wait until our reader is listed (want) or not; false on timeout or a
 * PC/SC error. */
static bool wait_listed(SCARDCONTEXT ctx, bool want, double bound_ms, char *name, size_t cap)
{
	double end = now_ms() + bound_ms;
	/* pcscd keeps the reader count in the upper 16 bits of the PnP
	 * state; waiting from the last state seen wakes at the next change. */
	SCARD_READERSTATE pnp = {.szReader = "\\\\?PnP?\\Notification",
	                         .dwCurrentState = SCARD_STATE_UNAWARE};
	LONG rv = SCardGetStatusChange(ctx, 0, &pnp, 1);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		fprintf(stderr, "SCardGetStatusChange(PnP): %s\n", pcsc_stringify_error(rv));
		return false;
	}
	for (;;) {
		bool is = listed(ctx, name, cap, &rv);
		if (rv != SCARD_S_SUCCESS) {
			fprintf(stderr, "SCardListReaders: %s\n", pcsc_stringify_error(rv));
			return false;
		}
		if (is == want)
			return true;
		double left = end - now_ms();
		if (left <= 0)
			return false;
		/* Woken by a change of the reader list; the 100 ms cap is only
		 * a safety net. */
		pnp.dwCurrentState = pnp.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		rv = SCardGetStatusChange(ctx, left < 100 ? (DWORD)left + 1 : 100, &pnp, 1);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
			fprintf(stderr, "SCardGetStatusChange(PnP): %s\n",
			        pcsc_stringify_error(rv));
			return false;
		}
	}
}

/* Wait for a card in the reader. Each pass asks afresh (UNAWARE) and then
 * waits at most 100 ms for a change. pcscd 1.9.9 lists a hot-plugged reader
 * before its handler has started: asked then, the state is 0 (only
 * SCARD_STATE_CHANGED), and when the start sets it to PRESENT no client is
 * woken, so a plain wait from that state sleeps until the next event or its
 * timeout (seen here: 100 ms and more, once the whole 10 s bound). */
static bool wait_card(SCARDCONTEXT ctx, const char *name, double bound_ms)
{
	double end = now_ms() + bound_ms;
	SCARD_READERSTATE st = {.szReader = name};
	LONG rv;
	do {
		st.dwCurrentState = SCARD_STATE_UNAWARE;
		rv = SCardGetStatusChange(ctx, 0, &st, 1);
		if (rv != SCARD_S_SUCCESS)
			break;
		if (st.dwEventState & SCARD_STATE_PRESENT)
			return true;
		st.dwCurrentState = st.dwEventState;
		rv = SCardGetStatusChange(ctx, 100, &st, 1);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			break;
	} while (now_ms() < end);
	fprintf(stderr, "waiting for the card: %s, reader state 0x%lX\n", pcsc_stringify_error(rv),
	        (unsigned long)st.dwEventState);
	return false;
}

/* One command to the serve process and its "ok CMD". */
static bool command(const char *cmd)
{
	char line[128], want[64];
	printf("%s\n", cmd);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "%s: no answer from the simulated reader\n", cmd);
		return false;
	}
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(want, sizeof(want), "ok %s", cmd);
	if (strcmp(line, want) != 0) {
		fprintf(stderr, "%s: the simulated reader says \"%s\"\n", cmd, line);
		return false;
	}
	return true;
}

static bool xmit(SCARDHANDLE card, const uint8_t *apdu, DWORD n, const uint8_t *want, DWORD wn)
{
	uint8_t rsp[258];
	DWORD rn = sizeof(rsp);
	LONG rv = SCardTransmit(card, SCARD_PCI_T0, apdu, n, NULL, rsp, &rn);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "SCardTransmit: %s\n", pcsc_stringify_error(rv));
		return false;
	}
	if (rn != wn || memcmp(rsp, want, wn) != 0) {
		fprintf(stderr, "APDU %02X %02X: %u bytes back, not the %u expected\n", apdu[0],
		        apdu[1], (unsigned)rn, (unsigned)wn);
		return false;
	}
	return true;
}

/* Cases 1, 2 (16 bytes) and 3 (3 bytes); the handle stays connected. */
static bool transact(SCARDCONTEXT ctx, const char *name, SCARDHANDLE *card)
{
	static const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00}, ok[] = {0x90, 0x00};
	static const uint8_t c2[] = {0x80, 0x34, 0x00, 0x10, 0x10};
	static const uint8_t c3[] = {0x80, 0x32, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03};
	uint8_t r2[18];
	DWORD proto = 0;
	for (unsigned i = 0; i < 16; i++)
		r2[i] = (uint8_t)i;
	r2[16] = 0x90;
	r2[17] = 0x00;
	LONG rv = SCardConnect(ctx, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, card, &proto);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "SCardConnect: %s\n", pcsc_stringify_error(rv));
		return false;
	}
	return xmit(*card, c1, sizeof(c1), ok, 2) && xmit(*card, c2, sizeof(c2), r2, 18) &&
	       xmit(*card, c3, sizeof(c3), ok, 2);
}

static bool round_trip(SCARDCONTEXT ctx, unsigned r, double bound)
{
	char name[256];
	SCARDHANDLE card = 0;
	LONG rv;
	if (listed(ctx, NULL, 0, &rv) || rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "round %u: our reader is listed before the plug (%s)\n", r,
		        pcsc_stringify_error(rv));
		return false;
	}
	double t0 = now_ms();
	if (!command("plug"))
		return false;
	if (!wait_listed(ctx, true, bound, name, sizeof(name))) {
		fprintf(stderr, "round %u: the reader did not appear within %.0f ms\n", r, bound);
		return false;
	}
	double t1 = now_ms();
	fprintf(stderr, "round %u: plug -> \"%s\" listed in %.1f ms\n", r, name, t1 - t0);
	if (!wait_card(ctx, name, bound) || !transact(ctx, name, &card)) {
		fprintf(stderr, "round %u: no transaction through the plugged reader\n", r);
		return false;
	}
	fprintf(stderr, "round %u: cases 1, 2, 3 ok %.1f ms after the plug\n", r, now_ms() - t0);
	t0 = now_ms();
	if (!command("unplug"))
		return false;
	if (!wait_listed(ctx, false, bound, NULL, 0)) {
		fprintf(stderr, "round %u: the reader was still listed %.0f ms after unplug\n", r,
		        bound);
		return false;
	}
	fprintf(stderr, "round %u: unplug -> reader gone in %.1f ms\n", r, now_ms() - t0);
	static const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	uint8_t rsp[8];
	DWORD rn = sizeof(rsp);
	rv = SCardTransmit(card, SCARD_PCI_T0, c1, sizeof(c1), NULL, rsp, &rn);
	if (rv == SCARD_S_SUCCESS) {
		fprintf(stderr, "round %u: a transmit through the unplugged reader worked\n", r);
		return false;
	}
	fprintf(stderr, "round %u: old handle after unplug: %s\n", r, pcsc_stringify_error(rv));
	(void)SCardDisconnect(card, SCARD_LEAVE_CARD);
	return true;
}

int main(int argc, char **argv)
{
	unsigned rounds = 2;
	double bound = 10000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rounds") == 0)
			rounds = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--bound-ms") == 0)
			bound = strtod(argv[i + 1], NULL);
	}
	SCARDCONTEXT ctx;
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "SCardEstablishContext: %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	bool ok = rounds > 0;
	for (unsigned r = 1; ok && r <= rounds; r++)
		ok = round_trip(ctx, r, bound);
	(void)SCardReleaseContext(ctx);
	/* pcscd is still there and answers a new client. */
	if (ok) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		bool is = rv == SCARD_S_SUCCESS && listed(ctx, NULL, 0, &rv);
		if (rv != SCARD_S_SUCCESS || is) {
			fprintf(stderr, "after the rounds: %s%s\n", pcsc_stringify_error(rv),
			        is ? ", our reader still listed" : "");
			ok = false;
		}
		if (rv == SCARD_S_SUCCESS)
			(void)SCardReleaseContext(ctx);
	}
	fprintf(stderr, "%s\n", ok ? "hotplug: all rounds ok" : "hotplug: FAILED");
	return ok ? 0 : 1;
}
