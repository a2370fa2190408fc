/* test_token_proto.c: the deposit-token protocol (protocol/tc_token*.h):
 * command builders against their bytes, response parsers and round trips,
 * the token record encoded, decoded, sealed and verified, and every
 * cryptogram of tests/data/token/cryptograms.txt (made with the openssl
 * command line by tests/data/token/vectors.sh) recomputed by our code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_token.h"
#include "tc_token_apdu.h"
#include "tc_token_mac.h"

static size_t unhex(const char *text, uint8_t *out, size_t cap)
{
	int n = tc_hex_decode(text, out, cap, NULL);
	assert_true(n >= 0);
	return (size_t)n;
}

static uint32_t u32(const char *hex8)
{
	uint8_t b[4];
	assert_int_equal(unhex(hex8, b, 4), 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void expect_mac(const uint8_t got[16], const char *want_hex, unsigned line)
{
	uint8_t want[16];
	assert_int_equal(unhex(want_hex, want, 16), 16);
	if (memcmp(got, want, 16) != 0)
		fail_msg("cryptograms.txt line %u: our code gives another value", line);
}

/* The sealed record built around the items of an issuer vector. */
static size_t issuer_record(const uint8_t *items, size_t n, const uint8_t mac[16], uint8_t *out)
{
	size_t body = n + 3 + 16, o = 0;
	out[o++] = 0xE1;
	if (body >= 128)
		out[o++] = 0x81;
	out[o++] = (uint8_t)body;
	memcpy(out + o, items, n);
	o += n;
	out[o++] = 0xDF;
	out[o++] = 0x0F;
	out[o++] = 0x10;
	memcpy(out + o, mac, 16);
	return o + 16;
}

static void check_issuer(char **f, unsigned line)
{
	uint8_t key[16], items[200], mac[16], rec[256], again[256];
	char why[TC_TOKEN_WHY_LEN];
	struct tc_token t;
	assert_int_equal(unhex(f[1], key, 16), 16);
	size_t n = unhex(f[2], items, sizeof(items));
	assert_int_equal(unhex(f[3], mac, 16), 16);
	size_t rn = issuer_record(items, n, mac, rec);
	assert_int_equal(tc_token_decode(rec, rn, &t, why, sizeof(why)), TC_OK);
	assert_int_equal(tc_token_verify(&t, key), TC_OK);
	assert_string_equal(t.card_number, "1111222233334444");
	assert_int_equal(t.amount, 40000);
	memset(t.issuer_mac, 0, 16);
	assert_int_equal(tc_token_verify(&t, key), TC_E_CHECKSUM);
	assert_int_equal(tc_token_seal(&t, key), TC_OK);
	expect_mac(t.issuer_mac, f[3], line);
	/* encode gives the same bytes back */
	assert_int_equal(tc_token_encode(&t, again, sizeof(again), why, sizeof(why)), (int)rn);
	assert_memory_equal(again, rec, rn);
	/* one item changed: the MAC no longer verifies */
	t.amount++;
	assert_int_equal(tc_token_verify(&t, key), TC_E_CHECKSUM);
}

struct vec_keys {
	uint8_t id[32];
	size_t idn;
	struct tc_tok_keys k;
};

static void keys_of(char **f, struct vec_keys *v)
{
	uint8_t master[16];
	assert_int_equal(unhex(f[1], master, 16), 16);
	v->idn = unhex(f[2], v->id, sizeof(v->id));
	assert_int_equal(tc_tok_keys_derive(master, v->id, v->idn, &v->k), TC_OK);
}

static void check_arqc(char **f, unsigned line)
{
	struct vec_keys v;
	uint8_t data[TC_TOK_DEBIT_REQ], out[16];
	struct tc_tok_debit d;
	keys_of(f, &v);
	assert_int_equal(unhex(f[4], data, sizeof(data)), TC_TOK_DEBIT_REQ);
	assert_int_equal(tc_tok_debit_decode(data, sizeof(data), &d), TC_OK);
	assert_int_equal(tc_tok_arqc(v.k.mac, v.id, v.idn, u32(f[3]), &d, f[5], out), TC_OK);
	expect_mac(out, f[6], line);
	/* the host's check: good, replayed, altered */
	struct tc_tok_debit_resp r = {.atc = u32(f[3])};
	memcpy(r.arqc, out, 16);
	assert_int_equal(tc_tok_arqc_check(v.k.mac, v.id, v.idn, 0, &d, f[5], &r), TC_OK);
	assert_int_equal(tc_tok_arqc_check(v.k.mac, v.id, v.idn, r.atc, &d, f[5], &r), TC_E_STATE);
	d.amount ^= 1;
	assert_int_equal(tc_tok_arqc_check(v.k.mac, v.id, v.idn, 0, &d, f[5], &r), TC_E_CHECKSUM);
}

static void check_arpc(char **f, unsigned line)
{
	struct vec_keys v;
	uint8_t arqc[16], o[1], out[16];
	keys_of(f, &v);
	assert_int_equal(unhex(f[4], o, 1), 1);
	assert_int_equal(unhex(f[5], arqc, 16), 16);
	assert_int_equal(tc_tok_arpc(v.k.mac, u32(f[3]), (enum tc_tok_outcome)o[0], arqc, out),
	                 TC_OK);
	expect_mac(out, f[6], line);
}

static void check_put(char **f, unsigned line)
{
	struct vec_keys v;
	uint8_t chal[8], rec[256], out[16];
	keys_of(f, &v);
	assert_int_equal(unhex(f[3], chal, 8), 8);
	size_t n = unhex(f[5], rec, sizeof(rec));
	assert_int_equal(tc_tok_put_token_mac(v.k.token, v.id, v.idn, chal, u32(f[4]), rec, n, out),
	                 TC_OK);
	expect_mac(out, f[6], line);
}

static void check_auth(char **f, unsigned line)
{
	struct vec_keys v;
	uint8_t chal[32], out[16];
	keys_of(f, &v);
	size_t n = unhex(f[3], chal, sizeof(chal));
	assert_int_equal(tc_tok_int_auth_mac(v.k.auth, v.id, v.idn, chal, n, out), TC_OK);
	expect_mac(out, f[4], line);
	assert_int_equal(tc_tok_int_auth_check(v.k.auth, v.id, v.idn, chal, n, out, 16), TC_OK);
	out[0] ^= 1;
	assert_int_equal(tc_tok_int_auth_check(v.k.auth, v.id, v.idn, chal, n, out, 16),
	                 TC_E_CHECKSUM);
}

static void test_token_cryptogram_vectors(void **state)
{
	char path[512], line[2048];
	const char *dir = getenv("TC_DATA_DIR");
	unsigned no = 0, kinds[5] = {0};
	(void)state;
	snprintf(path, sizeof(path), "%s/token/cryptograms.txt", dir ? dir : "tests/data");
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *f[8] = {0}, *save = NULL;
		int nf = 0;
		no++;
		for (char *tok = strtok_r(line, " \n", &save); tok && nf < 8;
		     tok = strtok_r(NULL, " \n", &save))
			f[nf++] = tok;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (!strcmp(f[0], "issuer") && nf == 4)
			check_issuer(f, no), kinds[0]++;
		else if (!strcmp(f[0], "arqc") && nf == 7)
			check_arqc(f, no), kinds[1]++;
		else if (!strcmp(f[0], "arpc") && nf == 7)
			check_arpc(f, no), kinds[2]++;
		else if (!strcmp(f[0], "put") && nf == 7)
			check_put(f, no), kinds[3]++;
		else if (!strcmp(f[0], "auth") && nf == 5)
			check_auth(f, no), kinds[4]++;
		else
			fail_msg("cryptograms.txt line %u: unknown line", no);
	}
	fclose(fp);
	for (int i = 0; i < 5; i++)
		assert_true(kinds[i] > 0);
}

/* ---- builders and parsers ------------------------------------------------- */

static void test_token_builders_bytes(void **state)
{
	uint8_t a[TC_TOK_APDU_MAX];
	(void)state;
	static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0xF0,
	                              0x54, 0x4F, 0x4B, 0x45, 0x4E, 0x01};
	int n = tc_tok_select(a, sizeof(a));
	assert_true(n >= (int)sizeof(sel));
	assert_memory_equal(a, sel, sizeof(sel));
	static const uint8_t ver[] = {0x00, 0x20, 0x00, 0x80, 0x08, 0x24, 0x91,
	                              0x57, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_int_equal(tc_tok_verify("9157", a, sizeof(a)), sizeof(ver));
	assert_memory_equal(a, ver, sizeof(ver));
	assert_int_equal(tc_tok_verify(NULL, a, sizeof(a)), 4);
	assert_int_equal(tc_tok_verify("123", a, sizeof(a)), TC_E_FORMAT);
	assert_int_equal(tc_tok_verify("9157", a, 5), TC_E_OVERFLOW);
	static const uint8_t gd[] = {0x00, 0xCA, 0xDF, 0x20, 0x00};
	assert_int_equal(tc_tok_get_data(TC_TOK_DO_BALANCE, a, sizeof(a)), 5);
	assert_memory_equal(a, gd, 5);
	static const uint8_t rr[] = {0x00, 0xB2, 0x03, 0x14, 0x00};
	assert_int_equal(tc_tok_read_record(TC_TOK_SFI_LOG, 3, a, sizeof(a)), 5);
	assert_memory_equal(a, rr, 5);
	static const uint8_t rrc[] = {0x00, 0x2C, 0x01, 0x80, 0x08, 0x28, 0x87,
	                              0x65, 0x43, 0x21, 0xFF, 0xFF, 0xFF};
	assert_int_equal(tc_tok_reset_retry("87654321", NULL, a, sizeof(a)), sizeof(rrc));
	assert_memory_equal(a, rrc, sizeof(rrc));
	assert_int_equal(tc_tok_reset_retry("87654321", "1234", a, sizeof(a)), 5 + 16);
	assert_int_equal(a[2], 0x00);
}

static void test_token_debit_and_log_round_trip(void **state)
{
	uint8_t b[TC_TOK_DEBIT_REQ], a[TC_TOK_APDU_MAX], arpc[16] = {1, 2, 3}, r[TC_TOK_LOG_REC];
	struct tc_tok_debit d = {.amount = 1250, .currency = 840}, d2;
	(void)state;
	d.date = (struct tc_date){2002, 10, 1};
	memcpy(d.terminal, "TERM0001", 8);
	memset(d.nonce, 0xA5, 8);
	tc_tok_debit_encode(&d, b);
	assert_int_equal(tc_tok_debit_decode(b, sizeof(b), &d2), TC_OK);
	assert_int_equal(d2.amount, 1250);
	assert_int_equal(d2.date.day, 1);
	assert_memory_equal(d2.nonce, d.nonce, 8);
	assert_int_equal(tc_tok_debit_decode(b, sizeof(b) - 1, &d2), TC_E_FORMAT);
	b[12] = 13; /* month 13 */
	assert_true(tc_tok_debit_decode(b, sizeof(b), &d2) < 0);
	int n = tc_tok_debit_request(&d, a, sizeof(a));
	assert_int_equal(n, 5 + TC_TOK_DEBIT_REQ + 1);
	assert_int_equal(a[0], 0x80);
	assert_int_equal(a[1], 0xD0);
	n = tc_tok_debit_complete(7, TC_TOK_DECLINE, arpc, a, sizeof(a));
	assert_int_equal(n, 5 + TC_TOK_DEBIT_CPL + 1);
	assert_int_equal(a[8], 7);
	assert_int_equal(a[9], TC_TOK_DECLINE);
	/* parsers */
	struct tc_tok_debit_resp dr;
	uint8_t resp[20] = {0, 0, 1, 2};
	assert_int_equal(tc_tok_parse_debit(resp, 20, &dr), TC_OK);
	assert_int_equal(dr.atc, 0x102);
	assert_true(tc_tok_parse_debit(resp, 19, &dr) < 0);
	uint64_t bal = 0;
	uint8_t b8[8] = {0, 0, 0, 0, 0, 0, 0x9C, 0x40};
	assert_int_equal(tc_tok_parse_balance(b8, 8, &bal), TC_OK);
	assert_int_equal(bal, 40000);
	struct tc_tok_log_entry e = {.atc = 9,
	                             .amount = 1250,
	                             .currency = 840,
	                             .outcome = TC_TOK_REFUSED,
	                             .balance = 38750},
	                        e2;
	e.date = d.date;
	memcpy(e.terminal, d.terminal, 8);
	tc_tok_log_encode(&e, r);
	assert_int_equal(tc_tok_log_decode(r, sizeof(r), &e2), TC_OK);
	assert_int_equal(e2.atc, 9);
	assert_int_equal(e2.outcome, TC_TOK_REFUSED);
	assert_int_equal(e2.balance, 38750);
	r[26] = 9; /* no such outcome */
	assert_true(tc_tok_log_decode(r, sizeof(r), &e2) < 0);
}

static void test_token_status_and_perso(void **state)
{
	struct tc_tok_status st = {0};
	struct tc_tok_perso p = {.card_id_len = 3, .atc = 5, .test_keys = true}, q;
	uint8_t buf[TC_TOK_APDU_MAX];
	char why[96];
	(void)state;
	static const uint8_t bal[] = {0xDF, 0x20, 0x0A, 0, 0, 0, 0, 0, 0, 0x9C, 0x40, 0x03, 0x48};
	assert_int_equal(tc_tok_parse_data(TC_TOK_DO_BALANCE, bal, sizeof(bal), &st), TC_OK);
	assert_int_equal(st.balance, 40000);
	assert_int_equal(st.currency, 840);
	static const uint8_t life[] = {0xDF, 0x23, 0x01, 0x03};
	assert_int_equal(tc_tok_parse_data(TC_TOK_DO_LIFECYCLE, life, 4, &st), TC_OK);
	assert_int_equal(st.life, TC_TOK_BLOCKED);
	static const uint8_t bad[] = {0xDF, 0x23, 0x01, 0x09};
	assert_true(tc_tok_parse_data(TC_TOK_DO_LIFECYCLE, bad, 4, &st) < 0);
	assert_true(tc_tok_parse_data(TC_TOK_DO_ATC, life, 4, &st) < 0);
	assert_int_equal(tc_tok_sw_tries(0x63C2), 2);
	assert_int_equal(tc_tok_sw_tries(0x6983), -1);
	memcpy(p.card_id, "TC1", 3);
	memset(p.key_auth, 1, 16);
	memset(p.key_mac, 2, 16);
	memset(p.key_token, 3, 16);
	snprintf(p.pin, sizeof(p.pin), "9157");
	snprintf(p.puk, sizeof(p.puk), "87654321");
	int n = tc_tok_perso_encode(&p, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(tc_tok_perso_decode(buf, (size_t)n, &q, why, sizeof(why)), TC_OK);
	assert_int_equal(q.card_id_len, 3);
	assert_int_equal(q.atc, 5);
	assert_true(q.test_keys);
	assert_string_equal(q.pin, "9157");
	assert_memory_equal(q.key_token, p.key_token, 16);
	assert_true(tc_tok_perso_decode(buf, (size_t)n - 1, &q, why, sizeof(why)) < 0);
	char pin[13];
	uint8_t blk[8];
	assert_int_equal(tc_tok_pin_block("123456789012", blk), TC_OK);
	assert_int_equal(tc_tok_pin_unblock(blk, pin), TC_OK);
	assert_string_equal(pin, "123456789012");
	blk[0] = 0x1C;
	assert_true(tc_tok_pin_unblock(blk, pin) < 0);
}

/* Money: integer minor units, the ISO 4217 code shown with the amount. */
static void test_token_money_format(void **state)
{
	char out[48];
	uint16_t cur = 0;
	(void)state;
	tc_money_format(40000, 840, out, sizeof(out));
	assert_string_equal(out, "400.00 USD (840)");
	tc_money_format(5, 978, out, sizeof(out));
	assert_string_equal(out, "0.05 EUR (978)");
	tc_money_format(40000, 392, out, sizeof(out));
	assert_string_equal(out, "40000 JPY (392)");
	tc_money_format(1234567, 414, out, sizeof(out));
	assert_string_equal(out, "1234.567 KWD (414)");
	tc_money_format(UINT64_MAX, 840, out, sizeof(out));
	assert_string_equal(out, "184467440737095516.15 USD (840)");
	tc_money_format(100, 999, out, sizeof(out)); /* a code outside the table */
	assert_string_equal(out, "1.00 (999)");
	tc_money_format(100, 36, out, sizeof(out));
	assert_string_equal(out, "1.00 AUD (036)");
	assert_int_equal(tc_currency_from_alpha("GBP", &cur), TC_OK);
	assert_int_equal(cur, 826);
	assert_string_equal(tc_currency_alpha(cur), "GBP");
	assert_int_equal(tc_currency_from_alpha("usd", &cur), TC_E_FORMAT);
	assert_int_equal(tc_currency_from_alpha("", &cur), TC_E_FORMAT);
	assert_int_equal(tc_currency_from_alpha(NULL, &cur), TC_E_FORMAT);
	assert_null(tc_currency_alpha(0));
	tc_money_format(40000, 840, out, 8); /* truncated, terminated */
	assert_int_equal(strlen(out), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_cryptogram_vectors),
	    cmocka_unit_test(test_token_builders_bytes),
	    cmocka_unit_test(test_token_debit_and_log_round_trip),
	    cmocka_unit_test(test_token_status_and_perso),
	    cmocka_unit_test(test_token_money_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
