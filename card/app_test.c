/* app_test.c: the reader test application that driver validators expect.
 *
 * AID A0 00 00 00 18 FF, CLA 80. Data bytes run 00 01 02 ... modulo 256.
 *   80 30 00 00 00          case 1: 9000
 *   80 32 00 00 Lc data     case 3: 9000 (any data)
 *   80 34 P1 P2 Le          case 2: P1P2 bytes (0100 = 256, with Le 00);
 *                           Le different from P1P2: 6Cxx (by the engine);
 *                           P1P2 above 0100 (case 2E): Le bytes and 61xx, the
 *                           rest through GET RESPONSE (by the card OS)
 *   80 36 P1 P2 Lc data     case 4: 61xx, GET RESPONSE gives the P1P2 bytes
 *                           (any P1P2 up to FFFF; Lc extended through ENVELOPE)
 *   80 38 00 xy 00          time request: works xy x 1000 etu (NULL bytes
 *                           meanwhile), then 9000
 * Another CLA: 6E00. Another INS: 6D00. */
#include <string.h>

#include "tc_card_app.h"

#define TESTAPP_CLA      0x80
#define TESTAPP_TIME_ETU 1000u

static const uint8_t test_aid[] = {0xA0, 0x00, 0x00, 0x00, 0x18, 0xFF};

static bool testapp_has_data(void *priv, const uint8_t hdr[5])
{
	(void)priv;
	return hdr[1] == 0x32 || hdr[1] == 0x36;
}

static void pattern(struct tc_card_rapdu *r, const struct tc_card_apdu *c)
{
	size_t n = (size_t)c->p1 << 8 | c->p2; /* at most FFFF < TC_CARD_MAX_RESP */

	for (size_t i = 0; i < n; i++)
		r->data[i] = (uint8_t)i;
	r->len = n;
	r->sw = 0x9000;
}

static void testapp_process(void *priv, const struct tc_card_apdu *c, struct tc_card_rapdu *r)
{
	(void)priv;
	if (c->cla != TESTAPP_CLA) {
		r->sw = 0x6E00;
		return;
	}
	switch (c->ins) {
	case 0x30:
	case 0x32:
		r->sw = 0x9000;
		return;
	case 0x34:
	case 0x36:
		pattern(r, c);
		return;
	case 0x38:
		r->busy_etu = (uint64_t)c->p2 * TESTAPP_TIME_ETU;
		r->sw = 0x9000;
		return;
	default:
		r->sw = 0x6D00;
		return;
	}
}

static const struct tc_card_app testapp = {
    .name = "testapp",
    .aid = test_aid,
    .aid_len = sizeof(test_aid),
    .select = NULL,
    .has_data = testapp_has_data,
    .process = testapp_process,
};

const struct tc_card_app *tc_card_app_test(void)
{
	return &testapp;
}
