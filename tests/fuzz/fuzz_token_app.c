/* fuzz_token_app.c: the token card's APDU dispatcher (through the card OS)
 * on arbitrary command sequences. Input: one byte choosing the start state
 * (0 blank, 1 personalised, 2 holding a token with the PIN verified), then
 * commands, each as a length byte and that many bytes of CLA INS P1 P2
 * [P3 [data]]. The card lives in memory. Checks: every answer ends in a
 * status word, response data never exceed the OS buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app_token.h"
#include "tc_card_os.h"
#include "tc_error.h"
#include "tc_token_apdu.h"
#include "fuzz.h"

static uint16_t send(struct tc_card_os *os, const uint8_t *a, size_t n)
{
	uint8_t hdr[5] = {0};
	struct tc_t0c_resp r;

	memcpy(hdr, a, n < 5 ? n : 5);
	memset(&r, 0, sizeof(r));
	if (tc_card_os_command(os, hdr, NULL, 0, &r) == TC_T0C_WANT_DATA) {
		uint8_t buf[256] = {0};
		size_t have = n > 5 ? n - 5 : 0;
		memcpy(buf, a + 5, have < hdr[4] ? have : hdr[4]);
		memset(&r, 0, sizeof(r));
		CHECK(tc_card_os_command(os, hdr, buf, hdr[4], &r) == TC_T0C_RESPOND);
	}
	CHECK(r.len <= sizeof(r.data));
	for (int i = 0; r.sw1 == 0x61 && i < 8; i++) {
		uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, r.sw2};
		memset(&r, 0, sizeof(r));
		(void)tc_card_os_command(os, gr, NULL, 0, &r);
	}
	CHECK((r.sw1 & 0xF0) == 0x60 || (r.sw1 & 0xF0) == 0x90);
	return (uint16_t)(r.sw1 << 8 | r.sw2);
}

static void start(struct tc_card_os *os, uint8_t how)
{
	uint8_t a[TC_TOK_APDU_MAX];
	struct tc_tok_perso p = {
	    .card_id = "FUZZ0001", .card_id_len = 8, .pin = "1234", .puk = "12345678"};
	int n;

	if (how % 3 == 0)
		return;
	n = tc_tok_personalise(&p, a, sizeof(a));
	CHECK(n > 0 && send(os, a, (size_t)n) == 0x9000);
	if (how % 3 == 1)
		return;
	n = tc_tok_verify("1234", a, sizeof(a));
	CHECK(n > 0 && send(os, a, (size_t)n) == 0x9000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_token_card *card = NULL;
	struct tc_card_os *os = tc_card_os_new();
	char err[160];

	if (!os || size == 0 || tc_token_card_open(NULL, &card, err, sizeof(err)) != TC_OK)
		goto out;
	CHECK(tc_card_os_add(os, tc_card_app_token(), card, true) == TC_OK);
	tc_card_os_reset(os);
	start(os, data[0]);
	for (size_t i = 1; i < size;) {
		size_t n = data[i++];
		if (n > size - i)
			n = size - i;
		if (n >= 4)
			(void)send(os, data + i, n);
		else if (n == 0)
			tc_card_os_reset(os);
		i += n;
	}
out:
	tc_card_os_free(os);
	tc_token_card_close(card);
	return 0;
}
