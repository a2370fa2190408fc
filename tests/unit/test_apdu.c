/* test_apdu.c: APDU parsing and the APDU -> TPDU mapping (tc_apdu.h), with an
 * in-memory scripted card behind the TPDU exchange callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_apdu.h"
#include "tc_error.h"

/* ---- the scripted card -------------------------------------------------- */

/* One expected TPDU and the card's answer: n_resp data bytes of value fill
 * (or a counting pattern when fill < 0), then SW1 SW2; or an error rc. */
struct step {
	uint8_t hdr[5];
	int rc;
	size_t n_resp;
	int fill;
	uint8_t sw1, sw2;
};

struct card {
	const struct step *steps;
	size_t n, i;
	bool mismatch;
	/* command data the card received, all TPDUs together */
	uint8_t *got;
	size_t got_n, got_cap;
	size_t resp_len_override; /* answer this length (no SW) when not 0 */
};

static int card_xfer(void *ctx, const uint8_t hdr[5], const uint8_t *data, size_t n_data,
                     uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct card *c = ctx;
	assert_true(cap >= TC_APDU_TPDU_RESP_MAX);
	if (c->i >= c->n) {
		print_error("TPDU %zu not in the script: %02X %02X %02X %02X %02X\n", c->i, hdr[0],
		            hdr[1], hdr[2], hdr[3], hdr[4]);
		c->mismatch = true;
		return TC_E_IO;
	}
	const struct step *s = &c->steps[c->i++];
	if (memcmp(s->hdr, hdr, 5) != 0) {
		print_error(
		    "TPDU %zu: %02X %02X %02X %02X %02X, expected %02X %02X %02X %02X %02X\n",
		    c->i - 1, hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], s->hdr[0], s->hdr[1],
		    s->hdr[2], s->hdr[3], s->hdr[4]);
		c->mismatch = true;
	}
	if (n_data) {
		assert_int_equal(n_data, hdr[4]);
		if (c->got_n + n_data <= c->got_cap) {
			memcpy(c->got + c->got_n, data, n_data);
			c->got_n += n_data;
		}
	}
	if (s->rc != TC_OK)
		return s->rc;
	for (size_t i = 0; i < s->n_resp; i++)
		resp[i] = s->fill < 0 ? (uint8_t)i : (uint8_t)s->fill;
	resp[s->n_resp] = s->sw1;
	resp[s->n_resp + 1] = s->sw2;
	*resp_len = c->resp_len_override ? c->resp_len_override : s->n_resp + 2;
	return TC_OK;
}

struct run {
	int rc;
	const char *reason;
	uint8_t *resp;
	size_t len;
};

static struct run run_apdu(const uint8_t *apdu, size_t len, const struct step *steps, size_t n,
                           unsigned flags, unsigned max_chain, size_t cap)
{
	static uint8_t resp[TC_APDU_MAX_RESP + 16];
	struct card c = {.steps = steps, .n = n};
	struct tc_apdu_link link = {
	    .xfer = card_xfer, .ctx = &c, .flags = flags, .max_chain = max_chain};
	struct run r = {.resp = resp};
	r.rc = tc_apdu_transmit(&link, apdu, len, resp, cap, &r.len, &r.reason);
	if (c.i != n)
		print_error("%zu of %zu scripted TPDUs used\n", c.i, n);
	assert_false(c.mismatch);
	assert_int_equal(c.i, n);
	return r;
}

#define RUN(apdu, steps, flags)                                                                    \
	run_apdu(apdu, sizeof(apdu), steps, sizeof(steps) / sizeof(steps[0]), flags, 0,            \
	         TC_APDU_MAX_RESP)

static void assert_sw(const struct run *r, uint8_t sw1, uint8_t sw2, size_t n_data)
{
	if (r->rc != TC_OK)
		print_error("%s: %s\n", tc_errname(r->rc), r->reason ? r->reason : "");
	assert_int_equal(r->rc, TC_OK);
	assert_int_equal(r->len, n_data + 2);
	assert_int_equal(r->resp[n_data], sw1);
	assert_int_equal(r->resp[n_data + 1], sw2);
}

/* ---- parsing ------------------------------------------------------------ */

static void parse_ok(const uint8_t *b, size_t len, enum tc_apdu_case k, size_t nc, size_t ne)
{
	struct tc_apdu a;
	const char *why = NULL;
	int rc = tc_apdu_parse(b, len, &a, &why);
	if (rc != TC_OK)
		print_error("parse: %s\n", why);
	assert_int_equal(rc, TC_OK);
	assert_int_equal(a.kind, k);
	assert_int_equal(a.nc, nc);
	assert_int_equal(a.ne, ne);
	if (nc)
		assert_ptr_equal(a.data,
		                 b + (len - nc - (ne ? (k >= TC_APDU_CASE_2E ? 2 : 1) : 0)));
}

static void parse_bad(const uint8_t *b, size_t len, int err, const char *word)
{
	struct tc_apdu a;
	const char *why = NULL;
	assert_int_equal(tc_apdu_parse(b, len, &a, &why), err);
	assert_non_null(why);
	if (!strstr(why, word))
		print_error("reason \"%s\" lacks \"%s\"\n", why, word);
	assert_non_null(strstr(why, word));
}

static void test_apdu_parse_cases(void **state)
{
	(void)state;
	static uint8_t b[TC_APDU_MAX_LEN];
	const uint8_t c1[] = {0, 0xA4, 0, 0};
	const uint8_t c2[] = {0, 0xB0, 0, 0, 0x10};
	const uint8_t c2z[] = {0, 0xB0, 0, 0, 0x00};
	const uint8_t c3[] = {0, 0xD6, 0, 0, 2, 1, 2};
	const uint8_t c4[] = {0, 0xA4, 4, 0, 2, 0x3F, 0, 0};
	const uint8_t c2e[] = {0, 0xB0, 0, 0, 0, 0x01, 0x2C};
	const uint8_t c2ez[] = {0, 0xB0, 0, 0, 0, 0, 0};
	parse_ok(c1, sizeof(c1), TC_APDU_CASE_1, 0, 0);
	parse_ok(c2, sizeof(c2), TC_APDU_CASE_2S, 0, 16);
	parse_ok(c2z, sizeof(c2z), TC_APDU_CASE_2S, 0, 256);
	parse_ok(c3, sizeof(c3), TC_APDU_CASE_3S, 2, 0);
	parse_ok(c4, sizeof(c4), TC_APDU_CASE_4S, 2, 256);
	parse_ok(c2e, sizeof(c2e), TC_APDU_CASE_2E, 0, 300);
	parse_ok(c2ez, sizeof(c2ez), TC_APDU_CASE_2E, 0, 65536);
	/* 3E / 4E at the largest Nc; 4E with Le 0000 = 65536 */
	memset(b, 0x5A, sizeof(b));
	b[0] = 0x80;
	b[1] = 0xD6;
	b[4] = 0;
	b[5] = 0xFF;
	b[6] = 0xFF;
	parse_ok(b, 7 + 65535, TC_APDU_CASE_3E, 65535, 0);
	b[7 + 65535] = 0;
	b[8 + 65535] = 0;
	parse_ok(b, 9 + 65535, TC_APDU_CASE_4E, 65535, 65536);
	b[5] = 0;
	b[6] = 1;
	b[8] = 0x01;
	b[9] = 0x00;
	parse_ok(b, 10, TC_APDU_CASE_4E, 1, 256);
	/* short Lc 255, case 4S with Le 01 */
	b[4] = 0xFF;
	b[5 + 255] = 1;
	parse_ok(b, 6 + 255, TC_APDU_CASE_4S, 255, 1);
}

static void test_apdu_parse_malformed(void **state)
{
	(void)state;
	static uint8_t b[TC_APDU_MAX_LEN + 2];
	const uint8_t lc0[] = {0, 0xD6, 0, 0, 0, 1};
	const uint8_t lc_long[] = {0, 0xD6, 0, 0, 3, 1, 2};
	const uint8_t lc_short[] = {0, 0xD6, 0, 0, 1, 1, 2, 3};
	const uint8_t ext_lc0[] = {0, 0xD6, 0, 0, 0, 0, 0, 1};
	const uint8_t ext_mis[] = {0, 0xD6, 0, 0, 0, 0, 2, 1, 2, 3};
	const uint8_t ext_cut[] = {0, 0xD6, 0, 0, 0, 0, 4, 1};
	const uint8_t cla_ff[] = {0xFF, 0xA4, 0, 0};
	const uint8_t ins_6x[] = {0, 0x6A, 0, 0};
	const uint8_t ins_9x[] = {0, 0x9F, 0, 0, 0};
	parse_bad(lc0, 3, TC_E_SHORT, "shorter");
	parse_bad(lc0, sizeof(lc0), TC_E_SHORT, "Lc = 00");
	parse_bad(lc_long, sizeof(lc_long), TC_E_FORMAT, "more data");
	parse_bad(lc_short, sizeof(lc_short), TC_E_FORMAT, "longer");
	parse_bad(ext_lc0, sizeof(ext_lc0), TC_E_FORMAT, "0000");
	parse_bad(ext_mis, sizeof(ext_mis), TC_E_FORMAT, "longer");
	parse_bad(ext_cut, sizeof(ext_cut), TC_E_FORMAT, "more data");
	parse_bad(cla_ff, sizeof(cla_ff), TC_E_FORMAT, "CLA");
	parse_bad(ins_6x, sizeof(ins_6x), TC_E_FORMAT, "INS");
	parse_bad(ins_9x, sizeof(ins_9x), TC_E_FORMAT, "INS");
	parse_bad(b, TC_APDU_MAX_LEN + 1, TC_E_LONG, "longer");
	struct tc_apdu a;
	assert_int_equal(tc_apdu_parse(NULL, 4, &a, NULL), TC_E_INVAL);
	assert_string_equal(tc_apdu_case_name(TC_APDU_CASE_4E), "4E");
	assert_string_equal(tc_apdu_case_name((enum tc_apdu_case)0), "?");
}

/* ---- mapping: short cases ---------------------------------------------- */

static void test_apdu_case1(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0x80, 0x10, 1, 2};
	const struct step s[] = {{{0x80, 0x10, 1, 2, 0}, 0, 0, 0, 0x61, 0x10}};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x61, 0x10, 0); /* no Le: 61xx is returned as it is */
	const struct step s2[] = {{{0x80, 0x10, 1, 2, 0}, 0, 3, 0, 0x90, 0x00}};
	r = RUN(apdu, s2, 0);
	assert_int_equal(r.rc, TC_E_PROTOCOL);
}

static void test_apdu_case2_6c_reissue(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0, 0xB0, 0, 0, 0};
	const struct step s[] = {
	    {{0, 0xB0, 0, 0, 0}, 0, 0, 0, 0x6C, 0x08},
	    {{0, 0xB0, 0, 0, 8}, 0, 8, -1, 0x90, 0x00},
	};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x90, 0x00, 8);
	assert_int_equal(r.resp[7], 7);
	/* once only */
	const struct step s2[] = {
	    {{0, 0xB0, 0, 0, 0}, 0, 0, 0, 0x6C, 0x08},
	    {{0, 0xB0, 0, 0, 8}, 0, 0, 0, 0x6C, 0x04},
	};
	r = RUN(apdu, s2, 0);
	assert_sw(&r, 0x6C, 0x04, 0);
	/* raw: not at all */
	const struct step s3[] = {{{0, 0xB0, 0, 0, 0}, 0, 0, 0, 0x6C, 0x08}};
	r = RUN(apdu, s3, TC_APDU_RAW);
	assert_sw(&r, 0x6C, 0x08, 0);
}

static void test_apdu_case2_61_chain_bounded_by_ne(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0x84, 0xCA, 0, 0, 0x30}; /* Ne = 48 */
	const struct step s[] = {
	    {{0x84, 0xCA, 0, 0, 0x30}, 0, 16, 1, 0x61, 0x40},
	    {{0x84, 0xC0, 0, 0, 0x20}, 0, 32, 2, 0x61, 0x20}, /* min(0x40, 48 - 16) */
	};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x61, 0x20, 48); /* Ne reached: the 61xx is the caller's */
	assert_int_equal(r.resp[15], 1);
	assert_int_equal(r.resp[16], 2);
}

static void test_apdu_case3(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0, 0xD6, 0, 0, 3, 7, 8, 9};
	const struct step s[] = {{{0, 0xD6, 0, 0, 3}, 0, 0, 0, 0x61, 0x05}};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x61, 0x05, 0); /* Ne = 0: no GET RESPONSE */
}

static void test_apdu_case4_61xx(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0, 0xA4, 4, 0, 2, 0x3F, 0, 0};
	const struct step s[] = {
	    {{0, 0xA4, 4, 0, 2}, 0, 0, 0, 0x61, 0x00},
	    {{0, 0xC0, 0, 0, 0}, 0, 256, -1, 0x61, 0x10},
	};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x61, 0x10, 256); /* Ne = 256 reached */
	const struct step s2[] = {{{0, 0xA4, 4, 0, 2}, 0, 0, 0, 0x61, 0x00}};
	r = RUN(apdu, s2, TC_APDU_RAW);
	assert_sw(&r, 0x61, 0x00, 0);
}

static void test_apdu_case4_9000(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0x80, 0x88, 0, 0, 1, 0x11, 0x08};
	const struct step s[] = {
	    {{0x80, 0x88, 0, 0, 1}, 0, 0, 0, 0x90, 0x00},
	    {{0x80, 0xC0, 0, 0, 8}, 0, 8, 0xAB, 0x90, 0x00},
	};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x90, 0x00, 8);
	/* GET RESPONSE answered 6Cxx: re-issued, then data */
	const struct step s2[] = {
	    {{0x80, 0x88, 0, 0, 1}, 0, 0, 0, 0x90, 0x00},
	    {{0x80, 0xC0, 0, 0, 8}, 0, 0, 0, 0x6C, 0x04},
	    {{0x80, 0xC0, 0, 0, 4}, 0, 4, 0xAB, 0x90, 0x00},
	};
	r = RUN(apdu, s2, 0);
	assert_sw(&r, 0x90, 0x00, 4);
	/* refused: the command's 9000 stands */
	const struct step s3[] = {
	    {{0x80, 0x88, 0, 0, 1}, 0, 0, 0, 0x90, 0x00},
	    {{0x80, 0xC0, 0, 0, 8}, 0, 0, 0, 0x6A, 0x88},
	};
	r = RUN(apdu, s3, 0);
	assert_sw(&r, 0x90, 0x00, 0);
	/* other SW: as it is */
	const struct step s4[] = {{{0x80, 0x88, 0, 0, 1}, 0, 0, 0, 0x69, 0x82}};
	r = RUN(apdu, s4, 0);
	assert_sw(&r, 0x69, 0x82, 0);
}

/* ---- extended ----------------------------------------------------------- */

static void test_apdu_case2e_full(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0, 0xB0, 0, 0, 0, 0, 0}; /* Ne = 65536 */
	static struct step s[257];
	s[0] = (struct step){{0, 0xB0, 0, 0, 0}, 0, 256, 0, 0x61, 0x00};
	for (size_t i = 1; i < 256; i++)
		s[i] = (struct step){{0, 0xC0, 0, 0, 0}, 0, 256, (int)i, 0x61, 0x00};
	struct run r = run_apdu(apdu, sizeof(apdu), s, 256, 0, 0, TC_APDU_MAX_RESP);
	assert_sw(&r, 0x61, 0x00, 65536);
	assert_int_equal(r.resp[65535], 255);
	/* the caller's buffer one byte short */
	r = run_apdu(apdu, sizeof(apdu), s, 256, 0, 0, TC_APDU_MAX_RESP - 1);
	assert_int_equal(r.rc, TC_E_OVERFLOW);
	/* Ne <= 256 in extended form: P3 = Ne */
	const uint8_t small[] = {0, 0xB0, 0, 0, 0, 0, 0x20};
	const struct step s2[] = {{{0, 0xB0, 0, 0, 0x20}, 0, 32, 0, 0x90, 0x00}};
	r = RUN(small, s2, 0);
	assert_sw(&r, 0x90, 0x00, 32);
}

static void test_apdu_case3e_envelopes(void **state)
{
	(void)state;
	static uint8_t apdu[7 + 65535];
	static uint8_t got[sizeof(apdu)];
	static struct step s[260];
	apdu[0] = 0x80;
	apdu[1] = 0xD6;
	apdu[5] = 0xFF;
	apdu[6] = 0xFF;
	for (size_t i = 7; i < sizeof(apdu); i++)
		apdu[i] = (uint8_t)(i * 7);
	size_t pieces = (sizeof(apdu) + 254) / 255;
	for (size_t i = 0; i < pieces; i++) {
		size_t n = i + 1 < pieces ? 255 : sizeof(apdu) - 255 * i;
		s[i] = (struct step){{0x80, 0xC2, 0, 0, (uint8_t)n}, 0, 0, 0, 0x90, 0x00};
	}
	struct card c = {.steps = s, .n = pieces, .got = got, .got_cap = sizeof(got)};
	struct tc_apdu_link link = {.xfer = card_xfer, .ctx = &c};
	uint8_t resp[2];
	size_t len = 0;
	assert_int_equal(tc_apdu_transmit(&link, apdu, sizeof(apdu), resp, 2, &len, NULL), TC_OK);
	assert_false(c.mismatch);
	assert_int_equal(c.i, pieces);
	assert_int_equal(c.got_n, sizeof(apdu));
	assert_memory_equal(got, apdu, sizeof(apdu));
	assert_int_equal(len, 2);
	/* refused midway: that SW, no more pieces */
	s[1].sw1 = 0x6A;
	s[1].sw2 = 0x80;
	struct run r = run_apdu(apdu, sizeof(apdu), s, 2, 0, 0, 2);
	assert_sw(&r, 0x6A, 0x80, 0);
}

static void test_apdu_case4e(void **state)
{
	(void)state;
	/* Nc <= 255: the case-3 TPDU, then 61xx up to Ne = 0x0180 */
	const uint8_t apdu[] = {0, 0x2A, 0x9E, 0x9A, 0, 0, 2, 0xAA, 0xBB, 0x01, 0x80};
	const struct step s[] = {
	    {{0, 0x2A, 0x9E, 0x9A, 2}, 0, 0, 0, 0x61, 0x00},
	    {{0, 0xC0, 0, 0, 0}, 0, 256, 1, 0x61, 0x00},
	    {{0, 0xC0, 0, 0, 0x80}, 0, 128, 2, 0x90, 0x00},
	};
	struct run r = RUN(apdu, s, 0);
	assert_sw(&r, 0x90, 0x00, 384);
	/* Nc > 255 with 9000 at the end: GET RESPONSE min(Ne, 256) */
	static uint8_t big[7 + 300 + 2];
	big[1] = 0x2A;
	big[5] = 0x01;
	big[6] = 0x2C;
	big[307] = 0x00;
	big[308] = 0x10;
	const struct step s2[] = {
	    {{0, 0xC2, 0, 0, 255}, 0, 0, 0, 0x90, 0x00},
	    {{0, 0xC2, 0, 0, 54}, 0, 0, 0, 0x90, 0x00},
	    {{0, 0xC0, 0, 0, 0x10}, 0, 16, 0, 0x90, 0x00},
	};
	r = RUN(big, s2, 0);
	assert_sw(&r, 0x90, 0x00, 16);
}

/* ---- limits and errors -------------------------------------------------- */

static void test_apdu_chain_limit(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0, 0xCA, 0, 0, 0};
	static struct step s[8];
	s[0] = (struct step){{0, 0xCA, 0, 0, 0}, 0, 1, 0, 0x61, 0x01};
	for (size_t i = 1; i < 8; i++)
		s[i] = (struct step){{0, 0xC0, 0, 0, 1}, 0, 1, 0, 0x61, 0x01};
	struct run r = run_apdu(apdu, sizeof(apdu), s, 5, 0, 4, TC_APDU_MAX_RESP);
	assert_int_equal(r.rc, TC_E_LIMIT);
	assert_non_null(strstr(r.reason, "chain"));
	/* the default limit covers a full 65536-byte response but not more */
	assert_true(TC_APDU_DEFAULT_MAX_CHAIN >= 256);
}

static void test_apdu_xfer_errors(void **state)
{
	(void)state;
	const uint8_t apdu[] = {0, 0xB0, 0, 0, 4};
	const struct step s[] = {{{0, 0xB0, 0, 0, 4}, TC_E_TIMEOUT, 0, 0, 0, 0}};
	struct run r = RUN(apdu, s, 0);
	assert_int_equal(r.rc, TC_E_TIMEOUT);
	assert_non_null(r.reason);
	/* more data than P3 */
	const struct step s2[] = {{{0, 0xB0, 0, 0, 4}, 0, 5, 0, 0x90, 0x00}};
	r = RUN(apdu, s2, 0);
	assert_int_equal(r.rc, TC_E_PROTOCOL);
	/* data to an outgoing TPDU */
	const uint8_t c3[] = {0, 0xD6, 0, 0, 1, 1};
	const struct step s3[] = {{{0, 0xD6, 0, 0, 1}, 0, 1, 0, 0x90, 0x00}};
	r = RUN(c3, s3, 0);
	assert_int_equal(r.rc, TC_E_PROTOCOL);
	/* an answer without SW */
	struct card c = {.steps = s2, .n = 1, .resp_len_override = 1};
	struct tc_apdu_link link = {.xfer = card_xfer, .ctx = &c};
	uint8_t resp[300];
	size_t len;
	const char *why = NULL;
	assert_int_equal(
	    tc_apdu_transmit(&link, apdu, sizeof(apdu), resp, sizeof(resp), &len, &why),
	    TC_E_PROTOCOL);
	assert_non_null(strstr(why, "SW1 SW2"));
	/* a caller buffer without room for SW; a malformed APDU; no callback */
	assert_int_equal(tc_apdu_transmit(&link, apdu, sizeof(apdu), resp, 1, &len, NULL),
	                 TC_E_OVERFLOW);
	assert_int_equal(tc_apdu_transmit(&link, apdu, 3, resp, sizeof(resp), &len, &why),
	                 TC_E_SHORT);
	struct tc_apdu_link none = {0};
	assert_int_equal(
	    tc_apdu_transmit(&none, apdu, sizeof(apdu), resp, sizeof(resp), &len, NULL),
	    TC_E_INVAL);
	/* a small caller buffer */
	const struct step s4[] = {{{0, 0xB0, 0, 0, 4}, 0, 4, 0, 0x90, 0x00}};
	r = run_apdu(apdu, sizeof(apdu), s4, 1, 0, 0, 5);
	assert_int_equal(r.rc, TC_E_OVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_apdu_parse_cases),
	    cmocka_unit_test(test_apdu_parse_malformed),
	    cmocka_unit_test(test_apdu_case1),
	    cmocka_unit_test(test_apdu_case2_6c_reissue),
	    cmocka_unit_test(test_apdu_case2_61_chain_bounded_by_ne),
	    cmocka_unit_test(test_apdu_case3),
	    cmocka_unit_test(test_apdu_case4_61xx),
	    cmocka_unit_test(test_apdu_case4_9000),
	    cmocka_unit_test(test_apdu_case2e_full),
	    cmocka_unit_test(test_apdu_case3e_envelopes),
	    cmocka_unit_test(test_apdu_case4e),
	    cmocka_unit_test(test_apdu_chain_limit),
	    cmocka_unit_test(test_apdu_xfer_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
