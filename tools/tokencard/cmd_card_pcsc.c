/* cmd_card_pcsc.c: the token card through PC/SC for "tokencard card": the
 * reader (given, or the first with a card), T=0 or T=1, SELECT of the token
 * application, APDUs with GET RESPONSE and 6Cxx handled here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

#include "cmd_card.h"
#include "tc_error.h"
#include "tc_sw.h"

struct card_conn {
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	char reader[4096];
};

const char *card_sw_text(int sw, char *buf, size_t cap)
{
	char m[96];
	snprintf(buf, cap, "%04X (%s)", (unsigned)sw, tc_sw_meaning((uint16_t)sw, m, sizeof(m)));
	return buf;
}

static void pcsc_fail(const char *what, LONG rv)
{
	fprintf(stderr, "tokencard card: %s: %s (0x%lX)\n", what, pcsc_stringify_error(rv),
	        (unsigned long)rv);
}

/* The first reader whose state shows a card. */
static LONG first_with_card(struct card_conn *c)
{
	char buf[4096];
	DWORD len = sizeof(buf);
	LONG rv = SCardListReaders(c->ctx, NULL, buf, &len);
	if (rv != SCARD_S_SUCCESS)
		return rv;
	for (const char *p = buf; *p; p += strlen(p) + 1) {
		SCARD_READERSTATE rs = {.szReader = p, .dwCurrentState = SCARD_STATE_UNAWARE};
		if (SCardGetStatusChange(c->ctx, 0, &rs, 1) == SCARD_S_SUCCESS &&
		    (rs.dwEventState & SCARD_STATE_PRESENT)) {
			snprintf(c->reader, sizeof(c->reader), "%s", p);
			return SCARD_S_SUCCESS;
		}
	}
	return SCARD_E_NO_SMARTCARD;
}

static int select_app(struct card_conn *c)
{
	uint8_t apdu[TC_TOK_APDU_MAX];
	char sw_text[128];
	int n = tc_tok_select(apdu, sizeof(apdu));
	int sw = n > 0 ? card_transmit(c, apdu, (size_t)n, NULL, 0, NULL) : -1;
	if (sw == TC_SW_OK)
		return 0;
	if (sw >= 0)
		fprintf(stderr,
		        "tokencard card: the card in '%s' has no deposit-token application: SELECT "
		        "answers %s\n",
		        c->reader, card_sw_text(sw, sw_text, sizeof(sw_text)));
	return -1;
}

struct card_conn *card_connect(const char *reader)
{
	struct card_conn *c = calloc(1, sizeof(*c));
	LONG rv;

	if (!c)
		return NULL;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->ctx);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_fail("no PC/SC service (is pcscd running? PCSCLITE_CSOCK_NAME?)", rv);
		free(c);
		return NULL;
	}
	if (reader)
		snprintf(c->reader, sizeof(c->reader), "%s", reader);
	else if ((rv = first_with_card(c)) != SCARD_S_SUCCESS) {
		pcsc_fail("no reader with a card", rv);
		goto fail;
	}
	rv = SCardConnect(c->ctx, c->reader, SCARD_SHARE_EXCLUSIVE,
	                  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->h, &c->proto);
	if (rv != SCARD_S_SUCCESS) {
		char what[4200];
		snprintf(what, sizeof(what), "cannot connect to '%s'", c->reader);
		pcsc_fail(what, rv);
		goto fail;
	}
	if (select_app(c) == 0)
		return c;
fail:
	card_disconnect(c);
	return NULL;
}

void card_disconnect(struct card_conn *c)
{
	if (!c)
		return;
	if (c->h)
		(void)SCardDisconnect(c->h, SCARD_RESET_CARD);
	(void)SCardReleaseContext(c->ctx);
	free(c);
}

/* One exchange: SW; the data appended at data + *ndata (counted even when
 * they do not fit, so that the caller sees the true length). */
static int exchange(struct card_conn *c, const uint8_t *apdu, size_t n, uint8_t *data, size_t cap,
                    size_t *ndata)
{
	uint8_t rx[260];
	DWORD len = sizeof(rx);
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	LONG rv = SCardTransmit(c->h, pci, apdu, (DWORD)n, NULL, rx, &len);

	if (rv != SCARD_S_SUCCESS || len < 2) {
		pcsc_fail("SCardTransmit", rv != SCARD_S_SUCCESS ? rv : SCARD_F_UNKNOWN_ERROR);
		return -1;
	}
	size_t got = len - 2;
	if (data && *ndata + got <= cap)
		memcpy(data + *ndata, rx, got);
	*ndata += got;
	int sw = rx[len - 2] << 8 | rx[len - 1];
	memset(rx, 0, sizeof(rx)); /* may hold a token record */
	return sw;
}

int card_transmit(struct card_conn *c, const uint8_t *apdu, size_t n, uint8_t *data, size_t cap,
                  size_t *ndata)
{
	uint8_t again[TC_TOK_APDU_MAX];
	size_t got = 0;
	int sw = exchange(c, apdu, n, data, cap, &got);

	/* 6Cxx: the same command with Le = xx (case 2 only). */
	if (sw >= 0 && (sw >> 8) == 0x6C && (n == 5 || n == 4) && got == 0) {
		memcpy(again, apdu, 4);
		again[4] = (uint8_t)sw;
		sw = exchange(c, again, 5, data, cap, &got);
	}
	/* 61xx: GET RESPONSE until the card has nothing more. */
	for (int i = 0; sw >= 0 && (sw >> 8) == 0x61 && i < 64; i++) {
		const uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, (uint8_t)sw};
		sw = exchange(c, gr, sizeof(gr), data, cap, &got);
	}
	if (sw >= 0 && got > cap) {
		fprintf(stderr, "tokencard card: the card answered %zu bytes, more than %zu\n", got,
		        cap);
		return -1;
	}
	if (ndata)
		*ndata = got;
	return sw;
}

int card_get_data(struct card_conn *c, uint16_t tag, struct tc_tok_status *st)
{
	uint8_t apdu[8], resp[64];
	size_t n = 0;
	int len = tc_tok_get_data(tag, apdu, sizeof(apdu));
	int sw = len > 0 ? card_transmit(c, apdu, (size_t)len, resp, sizeof(resp), &n) : -1;
	if (sw != TC_SW_OK)
		return sw;
	if (tc_tok_parse_data(tag, resp, n, st) != TC_OK) {
		fprintf(stderr, "tokencard card: GET DATA %04X: the answer is malformed\n", tag);
		return -1;
	}
	return sw;
}
