/* cmd_demo_pcsc.c: "tokencard demo" through pcscd: a private pcscd with the
 * tokencard driver and one loopback reader (tokencard rig), read through the
 * PC/SC client library as any application would. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <winscard.h>

#include "demo.h"
#include "rig.h"
#include "session.h"
#include "tc_hex.h"

#define DEMO_CARD_WAIT_MS 3000

static int pcsc_fail(const char *call, LONG rv)
{
	printf("  ! %s: %s\n", call, pcsc_stringify_error(rv));
	return -1;
}

static int demo_step_pcsc(SCARDHANDLE card, const struct demo_step *st)
{
	uint8_t apdu[300], resp[600];
	char hex[160];
	DWORD rlen = sizeof(resp);
	int n = tc_hex_decode(st->apdu, apdu, sizeof(apdu), NULL);
	if (n < 0)
		return -1;
	printf("\n%s\n  > %s\n", st->what, tc_hex_encode(apdu, (size_t)n, ' ', hex, sizeof(hex)));
	LONG rv = SCardTransmit(card, SCARD_PCI_T0, apdu, (DWORD)n, NULL, resp, &rlen);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardTransmit", rv);
	if (rlen < 2) {
		printf("  ! answer of %lu bytes\n", (unsigned long)rlen);
		return -1;
	}
	printf("  < %s\n    SW %02X%02X %s, %lu data bytes\n",
	       tc_hex_encode(resp, rlen, ' ', hex, sizeof(hex)), resp[rlen - 2], resp[rlen - 1],
	       sw_meaning(resp[rlen - 2], resp[rlen - 1]), (unsigned long)rlen - 2);
	return 0;
}

static int wait_card(SCARDCONTEXT ctx, const char *reader)
{
	SCARD_READERSTATE st = {.szReader = reader, .dwCurrentState = SCARD_STATE_UNAWARE};
	for (int i = 0; i < 2; i++) {
		LONG rv = SCardGetStatusChange(ctx, DEMO_CARD_WAIT_MS, &st, 1);
		if (rv != SCARD_S_SUCCESS)
			return pcsc_fail("SCardGetStatusChange", rv);
		if (st.dwEventState & SCARD_STATE_PRESENT)
			return 0;
		st.dwCurrentState = st.dwEventState;
	}
	printf("  ! no card in %s\n", reader);
	return -1;
}

static int demo_session(SCARDCONTEXT ctx)
{
	char readers[1024], hex[128];
	DWORD len = sizeof(readers), proto = 0, alen = 40, rlen = sizeof(hex), state;
	uint8_t atr[40];
	SCARDHANDLE card;

	LONG rv = SCardListReaders(ctx, NULL, readers, &len);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardListReaders", rv);
	printf("\nPC/SC readers:\n");
	for (char *p = readers; *p; p += strlen(p) + 1)
		printf("  %s\n", p);
	if (wait_card(ctx, readers) != 0)
		return -1;
	rv = SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &card, &proto);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardConnect", rv);
	rv = SCardStatus(card, NULL, &rlen, &state, &proto, atr, &alen);
	if (rv == SCARD_S_SUCCESS)
		printf("Connected with T=%d; ATR %s ('tokencard atr' explains it)\n",
		       proto == SCARD_PROTOCOL_T0 ? 0 : 1,
		       tc_hex_encode(atr, alen, ' ', hex, sizeof(hex)));
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < demo_nsteps; i++)
		rc = demo_step_pcsc(card, &demo_steps[i]);
	(void)SCardDisconnect(card, SCARD_UNPOWER_CARD);
	return rc;
}

int demo_pcsc(const char *record, const char *card_cmd)
{
	char dir[] = "/tmp/tokencard-demo.XXXXXX";
	SCARDCONTEXT ctx;

	if (!mkdtemp(dir)) {
		perror("tokencard demo: mkdtemp");
		return -1;
	}
	struct rig_opts o = {
	    .dir = dir, .readers = 1, .card = card_cmd, .record = record, .owner = (int)getpid()};
	printf("Starting a private pcscd with the tokencard driver and a simulated card:\n");
	if (rig_start(&o) != 0) {
		(void)rmdir(dir);
		return -1;
	}
	int rc = -1;
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv == SCARD_S_SUCCESS) {
		rc = demo_session(ctx);
		(void)SCardReleaseContext(ctx);
	} else {
		(void)pcsc_fail("SCardEstablishContext", rv);
	}
	(void)rig_stop(dir);
	char path[PATH_MAX];
	static const char *const logs[] = {"pcscd.log", "card0.log"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, logs[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
	return rc;
}
