/* test_token_app.c: the deposit-token application through the card OS:
 * every command, its status words, the payment both ways, replays, PIN and
 * PUK, expiry, the counter's end, the log, and what the card logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_token_fixture.h"

#define SEND(f, call) FX_CMD(f, call)

static int setup_mem(void **state)
{
	*state = fx_new(false);
	return *state ? 0 : -1;
}

static int setup_file(void **state)
{
	*state = fx_new(true);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	/* Nothing the card logged may hold the card number, the PIN or the PUK. */
	assert_null(strstr(f->logbuf, "1111222233334444"));
	assert_null(strstr(f->logbuf, FX_PIN));
	assert_null(strstr(f->logbuf, FX_PUK));
	fx_free(f);
	return 0;
}

static uint16_t raw(struct fx *f, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                    const uint8_t *data, size_t nc)
{
	uint8_t a[TC_TOK_APDU_MAX] = {cla, ins, p1, p2, (uint8_t)nc};
	if (data)
		memcpy(a + 5, data, nc);
	return fx_send(f, a, 5 + (data ? nc : 0));
}

static enum tc_tok_life life(struct fx *f)
{
	struct tc_tok_status st = {0};
	assert_int_equal(SEND(f, tc_tok_get_data(TC_TOK_DO_LIFECYCLE, out, cap)), 0x9000);
	assert_int_equal(tc_tok_parse_data(TC_TOK_DO_LIFECYCLE, f->resp, f->rlen, &st), TC_OK);
	return st.life;
}

static void test_token_blank_card(void **state)
{
	struct fx *f = *state;
	struct tc_token t;
	struct tc_tok_debit d;
	uint8_t chal[8] = {0};
	assert_int_equal(life(f), TC_TOK_BLANK);
	assert_int_equal(SEND(f, tc_tok_get_data(TC_TOK_DO_ATC, out, cap)), 0x6A88);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x6985);
	assert_int_equal(SEND(f, tc_tok_verify(NULL, out, cap)), 0x6985);
	assert_int_equal(SEND(f, tc_tok_int_auth(chal, 8, out, cap)), 0x6985);
	fx_token(&t);
	assert_int_equal(fx_put_token(f, &t), 0x6985);
	fx_debit_data(&d, 100);
	assert_int_equal(SEND(f, tc_tok_debit_request(&d, out, cap)), 0x6985);
	assert_int_equal(SEND(f, tc_tok_read_record(TC_TOK_SFI_TOKEN, 1, out, cap)), 0x6A83);
	assert_int_equal(SEND(f, tc_tok_read_record(TC_TOK_SFI_LOG, 1, out, cap)), 0x6A83);
}

static void test_token_personalise(void **state)
{
	struct fx *f = *state;
	struct tc_tok_status st = {0};
	assert_int_equal(raw(f, 0x80, 0xE0, 0, 0, NULL, 0), 0x6700);
	assert_int_equal(raw(f, 0x80, 0xE0, 0, 0, (const uint8_t *)"\xDF\x30\x01\x01", 4), 0x6A80);
	assert_int_equal(raw(f, 0x80, 0xE0, 1, 0, (const uint8_t *)"\xDF\x30\x01\x01", 4), 0x6A86);
	assert_int_equal(fx_personalise(f, 5), 0x9000);
	assert_int_equal(fx_personalise(f, 5), 0x6985); /* only once */
	assert_int_equal(life(f), TC_TOK_PERSONALISED);
	assert_int_equal(fx_atc(f), 5);
	const uint16_t tags[] = {TC_TOK_DO_CARD_ID, TC_TOK_DO_PIN_TRIES, TC_TOK_DO_PUK_TRIES,
	                         TC_TOK_DO_KEY_FLAGS, TC_TOK_DO_BALANCE};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(SEND(f, tc_tok_get_data(tags[i], out, cap)), 0x9000);
		assert_int_equal(tc_tok_parse_data(tags[i], f->resp, f->rlen, &st), TC_OK);
	}
	assert_memory_equal(st.card_id, fx_card_id, 8);
	assert_int_equal(st.pin_tries, 3);
	assert_int_equal(st.puk_tries, 10);
	assert_true(st.test_keys);
	assert_int_equal(st.balance, 0);
	assert_int_equal(SEND(f, tc_tok_get_data(0xDF2F, out, cap)), 0x6A88);
	assert_true(strstr(f->logbuf, "TEST KEYS") != NULL);
}

static void test_token_class_and_ins(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	assert_int_equal(raw(f, 0x80, 0x20, 0, 0x80, NULL, 0), 0x6E00); /* VERIFY is CLA 00 */
	assert_int_equal(raw(f, 0x00, 0xD0, 0, 0, NULL, 0), 0x6E00);    /* DEBIT is CLA 80 */
	assert_int_equal(raw(f, 0x10, 0xCA, 0xDF, 0x21, NULL, 0), 0x6E00);
	assert_int_equal(raw(f, 0x00, 0x50, 0, 0, NULL, 0), 0x6D00);
	assert_int_equal(raw(f, 0x00, 0xB2, 1, 0x0B, NULL, 0), 0x6A86); /* P2 not SFI|4 */
	assert_int_equal(raw(f, 0x00, 0xB2, 0, 0x0C, NULL, 0), 0x6A86); /* record 0 */
	assert_int_equal(raw(f, 0x00, 0xB2, 1, 0x1C, NULL, 0), 0x6A82); /* SFI 3 */
	assert_int_equal(raw(f, 0x00, 0x84, 1, 0, NULL, 8), 0x6A86);
	assert_int_equal(raw(f, 0x00, 0x88, 0, 0, (const uint8_t *)"1234567", 7), 0x6700);
	assert_int_equal(raw(f, 0x00, 0x88, 1, 0, (const uint8_t *)"12345678", 8), 0x6A86);
	assert_int_equal(raw(f, 0x80, 0xDA, 1, 0, (const uint8_t *)"1", 1), 0x6A86);
	assert_int_equal(raw(f, 0x80, 0xD0, 0, 1, (const uint8_t *)"1", 1), 0x6A86);
	assert_int_equal(raw(f, 0x80, 0xD2, 0, 1, (const uint8_t *)"1", 1), 0x6A86);
}

static void test_token_pin_block_and_puk(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	assert_int_equal(SEND(f, tc_tok_verify(NULL, out, cap)), 0x63C3);
	assert_int_equal(SEND(f, tc_tok_verify("0000", out, cap)), 0x63C2);
	assert_int_equal(SEND(f, tc_tok_verify(NULL, out, cap)), 0x63C2); /* no try used */
	assert_int_equal(SEND(f, tc_tok_verify("00000", out, cap)), 0x63C1);
	assert_int_equal(SEND(f, tc_tok_verify("123456789012", out, cap)), 0x63C0);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x6983);
	assert_int_equal(SEND(f, tc_tok_verify(NULL, out, cap)), 0x6983);
	assert_int_equal(SEND(f, tc_tok_change_pin(FX_PIN, "1111", out, cap)), 0x6983);
	assert_int_equal(life(f), TC_TOK_BLOCKED);
	/* Wrong PUK spends a PUK try; the right one unblocks, keeping the PIN. */
	assert_int_equal(SEND(f, tc_tok_reset_retry("00000000", NULL, out, cap)), 0x63C9);
	assert_int_equal(SEND(f, tc_tok_reset_retry(FX_PUK, NULL, out, cap)), 0x9000);
	assert_int_equal(life(f), TC_TOK_PERSONALISED);
	assert_int_equal(SEND(f, tc_tok_verify(NULL, out, cap)), 0x63C3);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x9000);
	/* PUK with a new PIN. */
	assert_int_equal(SEND(f, tc_tok_reset_retry(FX_PUK, "24680", out, cap)), 0x9000);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x63C2);
	assert_int_equal(SEND(f, tc_tok_verify("24680", out, cap)), 0x9000);
	/* Malformed: wrong length, bad block, wrong P1 / P2. */
	assert_int_equal(raw(f, 0x00, 0x20, 0, 0x80, (const uint8_t *)"\x24\x12\x34", 3), 0x6700);
	assert_int_equal(
	    raw(f, 0x00, 0x20, 0, 0x80, (const uint8_t *)"\x24\x12\x3A\xFF\xFF\xFF\xFF\xFF", 8),
	    0x6A80);
	assert_int_equal(raw(f, 0x00, 0x20, 0, 0x81, NULL, 0), 0x6A88);
	assert_int_equal(raw(f, 0x00, 0x20, 1, 0x80, NULL, 0), 0x6A86);
	assert_int_equal(raw(f, 0x00, 0x2C, 2, 0x80, NULL, 0), 0x6A86);
	assert_int_equal(raw(f, 0x00, 0x2C, 0, 0x80, (const uint8_t *)"12345678", 8), 0x6700);
	assert_int_equal(raw(f, 0x00, 0x24, 0, 0x80, (const uint8_t *)"12345678", 8), 0x6700);
}

static void test_token_puk_exhausted(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(SEND(f, tc_tok_reset_retry("00000000", NULL, out, cap)),
		                 0x63C0 | (9 - i));
	assert_int_equal(SEND(f, tc_tok_reset_retry(FX_PUK, NULL, out, cap)), 0x6983);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x6983);
	assert_int_equal(life(f), TC_TOK_BLOCKED);
}

static void test_token_change_pin(void **state)
{
	struct fx *f = *state;
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	assert_int_equal(SEND(f, tc_tok_change_pin("0000", "5555", out, cap)), 0x63C2);
	assert_int_equal(raw(f, 0x00, 0x24, 0, 0x80,
	                     (const uint8_t *)"\x24\x91\x57\xFF\xFF\xFF\xFF\xFF"
	                                      "\x2F\x91\x57\xFF\xFF\xFF\xFF\xFF",
	                     16),
	                 0x6A80);
	assert_int_equal(SEND(f, tc_tok_change_pin(FX_PIN, "5555", out, cap)), 0x9000);
	assert_int_equal(SEND(f, tc_tok_verify(NULL, out, cap)), 0x63C3);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x63C2);
	assert_int_equal(SEND(f, tc_tok_verify("5555", out, cap)), 0x9000);
}

static void test_token_internal_authenticate(void **state)
{
	struct fx *f = *state;
	const uint8_t chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct tc_tok_keys other;
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	assert_int_equal(SEND(f, tc_tok_int_auth(chal, 8, out, cap)), 0x9000);
	assert_int_equal(
	    tc_tok_int_auth_check(f->keys.auth, fx_card_id, 8, chal, 8, f->resp, f->rlen), TC_OK);
	/* A card holding other keys (a copy without the real key) fails. */
	uint8_t master2[16];
	memcpy(master2, fx_master, 16);
	master2[0] ^= 1;
	assert_int_equal(tc_tok_keys_derive(master2, fx_card_id, 8, &other), TC_OK);
	assert_int_equal(
	    tc_tok_int_auth_check(other.auth, fx_card_id, 8, chal, 8, f->resp, f->rlen),
	    TC_E_CHECKSUM);
	/* Another challenge, another answer. */
	uint8_t first[16];
	memcpy(first, f->resp, 16);
	const uint8_t chal2[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	assert_int_equal(SEND(f, tc_tok_int_auth(chal2, 9, out, cap)), 0x9000);
	assert_memory_not_equal(first, f->resp, 16);
}

static void test_token_put_token(void **state)
{
	struct fx *f = *state;
	struct tc_token t, back;
	uint8_t rec[TC_TOKEN_MAX_ENC], cmd[TC_TOK_APDU_MAX];
	size_t cmdlen;
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	fx_token(&t);
	int n = tc_token_encode(&t, rec, sizeof(rec), NULL, 0);
	assert_true(n > 0);
	/* Without a challenge first: conditions not satisfied. */
	assert_int_equal(SEND(f, tc_tok_put_token(rec, (size_t)n, rec, out, cap)), 0x6985);
	/* Altered after the MAC: refused, nothing written. */
	assert_int_equal(fx_put_record(f, rec, (size_t)n, 0x01, NULL, NULL), 0x6982);
	assert_int_equal(life(f), TC_TOK_PERSONALISED);
	/* Good. */
	assert_int_equal(fx_put_record(f, rec, (size_t)n, 0, cmd, &cmdlen), 0x9000);
	assert_int_equal(life(f), TC_TOK_ACTIVE);
	assert_int_equal(fx_balance(f), 40000);
	assert_int_equal(SEND(f, tc_tok_read_record(TC_TOK_SFI_TOKEN, 1, out, cap)), 0x9000);
	assert_int_equal(tc_token_decode(f->resp, f->rlen, &back, NULL, 0), TC_OK);
	assert_int_equal(tc_token_verify(&back, fx_token_key), TC_OK);
	assert_int_equal(SEND(f, tc_tok_read_record(TC_TOK_SFI_TOKEN, 2, out, cap)), 0x6A83);
	/* Replayed as it is: the challenge is spent (6985), or a fresh one
	 * does not match (6982). */
	assert_int_equal(fx_send(f, cmd, cmdlen), 0x6985);
	assert_int_equal(SEND(f, tc_tok_get_challenge(out, cap)), 0x9000);
	assert_int_equal(fx_send(f, cmd, cmdlen), 0x6982);
	/* Forged under another key. */
	struct fx *g = f;
	uint8_t saved[16];
	memcpy(saved, g->keys.token, 16);
	g->keys.token[3] ^= 0x40;
	assert_int_equal(fx_put_record(g, rec, (size_t)n, 0, NULL, NULL), 0x6982);
	memcpy(g->keys.token, saved, 16);
	/* A record with a bad item, MAC'd correctly: wrong data. */
	rec[n - 20] = 'X'; /* a digit of the card number */
	assert_int_equal(fx_put_record(f, rec, (size_t)n, 0, NULL, NULL), 0x6A80);
	/* Malformed data field. */
	assert_int_equal(SEND(f, tc_tok_get_challenge(out, cap)), 0x9000);
	assert_int_equal(raw(f, 0x80, 0xDA, 0, 0, (const uint8_t *)"\xE1\x01\x00", 3), 0x6A80);
	/* An altered token (issuer MAC) is refused by the host's check. */
	back.amount += 1;
	assert_int_equal(tc_token_verify(&back, fx_token_key), TC_E_CHECKSUM);
}

/* DEBIT REQUEST; returns the SW, fills r when 9000. */
static uint16_t debit(struct fx *f, const struct tc_tok_debit *d, struct tc_tok_debit_resp *r)
{
	uint16_t sw = SEND(f, tc_tok_debit_request(d, out, cap));
	if (sw == 0x9000)
		assert_int_equal(tc_tok_parse_debit(f->resp, f->rlen, r), TC_OK);
	return sw;
}

static uint16_t complete(struct fx *f, const struct tc_tok_debit_resp *r, enum tc_tok_outcome o)
{
	uint8_t arpc[16];
	assert_int_equal(tc_tok_arpc(f->keys.mac, r->atc, o, r->arqc, arpc), TC_OK);
	return SEND(f, tc_tok_debit_complete(r->atc, o, arpc, out, cap));
}

static struct tc_tok_log_entry log_rec(struct fx *f, uint8_t n)
{
	struct tc_tok_log_entry e;
	assert_int_equal(SEND(f, tc_tok_read_record(TC_TOK_SFI_LOG, n, out, cap)), 0x9000);
	assert_int_equal(tc_tok_log_decode(f->resp, f->rlen, &e), TC_OK);
	return e;
}

static void test_token_debit_approved(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r;
	uint64_t bal;
	fx_ready(f);
	fx_debit_data(&d, 1234);
	assert_int_equal(debit(f, &d, &r), 0x9000);
	assert_int_equal(r.atc, 1);
	/* The host checks the ARQC and the counter. */
	assert_int_equal(tc_tok_arqc_check(f->keys.mac, fx_card_id, 8, 0, &d, "1234567890", &r),
	                 TC_OK);
	assert_int_equal(tc_tok_arqc_check(f->keys.mac, fx_card_id, 8, 1, &d, "1234567890", &r),
	                 TC_E_STATE);
	assert_int_equal(tc_tok_arqc_check(f->keys.mac, fx_card_id, 8, 0, &d, "1234567891", &r),
	                 TC_E_CHECKSUM);
	assert_int_equal(fx_balance(f), 40000); /* not before completion */
	assert_int_equal(log_rec(f, 1).outcome, TC_TOK_PENDING);
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x9000);
	assert_int_equal(tc_tok_parse_balance(f->resp, f->rlen, &bal), TC_OK);
	assert_int_equal(bal, 40000 - 1234);
	assert_int_equal(fx_balance(f), 40000 - 1234);
	struct tc_tok_log_entry e = log_rec(f, 1);
	assert_int_equal(e.outcome, TC_TOK_APPROVE);
	assert_int_equal(e.atc, 1);
	assert_int_equal(e.amount, 1234);
	assert_int_equal(e.balance, 40000 - 1234);
	assert_memory_equal(e.terminal, "TERM0001", 8);
	/* A second completion of the same request: nothing pending. */
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x6985);
	assert_int_equal(fx_balance(f), 40000 - 1234);
}

static void test_token_debit_declined_refused_absent(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r;
	uint8_t bad[16] = {0};
	fx_ready(f);
	fx_debit_data(&d, 500);
	/* Declined by the host: balance kept, logged. */
	assert_int_equal(debit(f, &d, &r), 0x9000);
	assert_int_equal(complete(f, &r, TC_TOK_DECLINE), 0x9000);
	assert_int_equal(log_rec(f, 1).outcome, TC_TOK_DECLINE);
	/* Wrong cryptogram: refused (6982), logged, one shot. */
	assert_int_equal(debit(f, &d, &r), 0x9000);
	assert_int_equal(SEND(f, tc_tok_debit_complete(r.atc, TC_TOK_APPROVE, bad, out, cap)),
	                 0x6982);
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x6985);
	assert_int_equal(log_rec(f, 1).outcome, TC_TOK_REFUSED);
	/* Absent: the card is reset (reselected) before the completion. */
	assert_int_equal(debit(f, &d, &r), 0x9000);
	tc_card_os_reset(f->os);
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x6985);
	struct tc_tok_log_entry e = log_rec(f, 1);
	assert_int_equal(e.outcome, TC_TOK_PENDING);
	assert_int_equal(e.atc, 3);
	assert_int_equal(fx_balance(f), 40000);
	/* Bad format and outcome byte. */
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x9000);
	assert_int_equal(debit(f, &d, &r), 0x9000);
	assert_int_equal(raw(f, 0x80, 0xD2, 0, 0, bad, 16), 0x6700);
	uint8_t data[21] = {0};
	data[4] = 7;
	assert_int_equal(raw(f, 0x80, 0xD2, 0, 0, data, 21), 0x6A80);
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x9000);
	assert_int_equal(fx_balance(f), 40000 - 500);
}

static void test_token_debit_replayed_cryptogram(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r1, r2;
	uint8_t arpc1[16];
	fx_ready(f);
	fx_debit_data(&d, 1000);
	assert_int_equal(debit(f, &d, &r1), 0x9000);
	assert_int_equal(tc_tok_arpc(f->keys.mac, r1.atc, TC_TOK_APPROVE, r1.arqc, arpc1), TC_OK);
	assert_int_equal(SEND(f, tc_tok_debit_complete(r1.atc, TC_TOK_APPROVE, arpc1, out, cap)),
	                 0x9000);
	/* The same answer again, for a new request (same data): refused. */
	assert_int_equal(debit(f, &d, &r2), 0x9000);
	assert_int_equal(r2.atc, r1.atc + 1);
	assert_memory_not_equal(r1.arqc, r2.arqc, 16);
	assert_int_equal(SEND(f, tc_tok_debit_complete(r1.atc, TC_TOK_APPROVE, arpc1, out, cap)),
	                 0x6982);
	/* ... even with the new counter in front of the old cryptogram. */
	assert_int_equal(debit(f, &d, &r2), 0x9000);
	assert_int_equal(SEND(f, tc_tok_debit_complete(r2.atc, TC_TOK_APPROVE, arpc1, out, cap)),
	                 0x6982);
	assert_int_equal(fx_balance(f), 40000 - 1000);
	/* The host refuses a replayed request (counter not above the last). */
	assert_int_equal(
	    tc_tok_arqc_check(f->keys.mac, fx_card_id, 8, r2.atc, &d, "1234567890", &r1),
	    TC_E_STATE);
}

static void test_token_debit_conditions(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r;
	struct tc_token t;
	fx_ready(f);
	fx_debit_data(&d, 40001);
	assert_int_equal(debit(f, &d, &r), 0x6985); /* above the balance */
	fx_debit_data(&d, 100);
	d.currency = 392;
	assert_int_equal(debit(f, &d, &r), 0x6A80);
	assert_int_equal(raw(f, 0x80, 0xD0, 0, 0, (const uint8_t *)"12345", 5), 0x6700);
	uint8_t data[30];
	fx_debit_data(&d, 100);
	tc_tok_debit_encode(&d, data);
	data[12] = 13; /* month 13 */
	assert_int_equal(raw(f, 0x80, 0xD0, 0, 0, data, 30), 0x6A80);
	assert_int_equal(fx_atc(f), 0); /* nothing counted */
	/* PIN not verified after a reset. */
	tc_card_os_reset(f->os);
	assert_int_equal(debit(f, &d, &r), 0x6982);
	/* Expired: a debit dated after the expiry. */
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x9000);
	d.date = (struct tc_date){2002, 11, 16};
	assert_int_equal(debit(f, &d, &r), 0x6985);
	assert_int_equal(life(f), TC_TOK_EXPIRED);
	d.date = (struct tc_date){2002, 11, 15};
	assert_int_equal(debit(f, &d, &r), 0x6985);
	/* A new token makes the card active again. */
	fx_token(&t);
	t.expiry = (struct tc_date){2003, 3, 31};
	assert_int_equal(tc_token_seal(&t, fx_token_key), TC_OK);
	assert_int_equal(fx_put_token(f, &t), 0x9000);
	assert_int_equal(life(f), TC_TOK_ACTIVE);
	assert_int_equal(debit(f, &d, &r), 0x9000);
}

static void test_token_counter_end(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r;
	struct tc_token t;
	fx_token(&t);
	assert_int_equal(fx_personalise(f, UINT32_MAX - 1), 0x9000);
	assert_int_equal(fx_put_token(f, &t), 0x9000);
	assert_int_equal(SEND(f, tc_tok_verify(FX_PIN, out, cap)), 0x9000);
	fx_debit_data(&d, 1);
	assert_int_equal(debit(f, &d, &r), 0x9000);
	assert_int_equal(r.atc, UINT32_MAX);
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x9000);
	assert_int_equal(debit(f, &d, &r), 0x6985); /* never wraps */
	assert_int_equal(fx_atc(f), UINT32_MAX);
}

static void test_token_log_is_cyclic(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r;
	fx_ready(f);
	fx_debit_data(&d, 10);
	for (unsigned i = 0; i < 13; i++) {
		assert_int_equal(debit(f, &d, &r), 0x9000);
		assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x9000);
	}
	for (uint8_t k = 1; k <= 10; k++)
		assert_int_equal(log_rec(f, k).atc, 14 - k);
	assert_int_equal(SEND(f, tc_tok_read_record(TC_TOK_SFI_LOG, 11, out, cap)), 0x6A83);
	assert_int_equal(fx_balance(f), 40000 - 130);
}

static void test_token_persists(void **state)
{
	struct fx *f = *state;
	struct tc_tok_debit d;
	struct tc_tok_debit_resp r;
	fx_ready(f);
	fx_debit_data(&d, 700);
	assert_int_equal(debit(f, &d, &r), 0x9000);
	assert_int_equal(complete(f, &r, TC_TOK_APPROVE), 0x9000);
	fx_close(f);
	assert_int_equal(fx_open(f), TC_OK);
	assert_int_equal(fx_balance(f), 40000 - 700);
	assert_int_equal(fx_atc(f), 1);
	assert_int_equal(life(f), TC_TOK_ACTIVE);
	assert_int_equal(log_rec(f, 1).outcome, TC_TOK_APPROVE);
	assert_int_equal(debit(f, &d, &r), 0x6982); /* the PIN is not remembered */
}

static void test_token_open_errors(void **state)
{
	struct fx *f = *state;
	struct tc_token_card *c = NULL;
	char err[160];
	FILE *fp;
	fx_close(f);
	/* Not a card memory at all. */
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("hello", fp);
	fclose(fp);
	assert_true(tc_token_card_open(f->path, &c, err, sizeof(err)) < 0);
	assert_true(err[0] != '\0');
	/* A valid memory holding garbage (not a token card image). */
	unlink(f->path);
	struct tc_store *s;
	uint8_t img[TC_TOKEN_STORE_SIZE] = {'X'};
	assert_int_equal(tc_store_open(f->path, sizeof(img), &s), TC_OK);
	assert_int_equal(tc_store_commit(s, img, sizeof(img)), TC_OK);
	tc_store_close(s);
	assert_int_equal(tc_token_card_open(f->path, &c, err, sizeof(err)), TC_E_CORRUPT);
	unlink(f->path);
	assert_int_equal(fx_open(f), TC_OK);
}

int main(void)
{
#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup_mem, teardown)
#define TF(fn) cmocka_unit_test_setup_teardown(fn, setup_file, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_token_blank_card),
	    T(test_token_personalise),
	    T(test_token_class_and_ins),
	    T(test_token_pin_block_and_puk),
	    T(test_token_puk_exhausted),
	    T(test_token_change_pin),
	    T(test_token_internal_authenticate),
	    T(test_token_put_token),
	    TF(test_token_debit_approved),
	    T(test_token_debit_declined_refused_absent),
	    T(test_token_debit_replayed_cryptogram),
	    T(test_token_debit_conditions),
	    T(test_token_counter_end),
	    T(test_token_log_is_cyclic),
	    TF(test_token_persists),
	    TF(test_token_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
