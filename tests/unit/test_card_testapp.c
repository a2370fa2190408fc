/* test_card_testapp.c: the card OS (SELECT, GET RESPONSE, ENVELOPE, dispatch)
 * and the reader test application, every command and every length 1..256,
 * long responses (61xx chains up to 65535 bytes), extended commands in
 * ENVELOPEs, and the reader's transport layer (tc_apdu.h) against the card OS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_apdu.h"
#include "tc_card_os.h"
#include "tc_error.h"

static const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x00, 0x18, 0xFF};

static struct tc_card_os *new_os(void)
{
	struct tc_card_os *os = tc_card_os_new();
	assert_non_null(os);
	assert_int_equal(tc_card_os_add(os, tc_card_app_test(), NULL, true), TC_OK);
	tc_card_os_reset(os);
	return os;
}

static uint16_t sw(const struct tc_t0c_resp *r)
{
	return (uint16_t)(r->sw1 << 8 | r->sw2);
}

/* A command without data; returns the verdict, resp filled. */
static enum tc_t0c_verdict cmd(struct tc_card_os *os, uint8_t cla, uint8_t ins, uint8_t p1,
                               uint8_t p2, uint8_t p3, struct tc_t0c_resp *r)
{
	const uint8_t h[5] = {cla, ins, p1, p2, p3};
	memset(r, 0, sizeof(*r));
	return tc_card_os_command(os, h, NULL, 0, r);
}

static void cmd_data(struct tc_card_os *os, const uint8_t h[5], const uint8_t *d,
                     struct tc_t0c_resp *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(tc_card_os_command(os, h, NULL, 0, r), TC_T0C_WANT_DATA);
	memset(r, 0, sizeof(*r));
	assert_int_equal(tc_card_os_command(os, h, d, h[4], r), TC_T0C_RESPOND);
}

static void expect_pattern(const struct tc_t0c_resp *r, size_t n)
{
	assert_int_equal(r->len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->data[i], (uint8_t)i);
}

static void test_testapp_select(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	const uint8_t sel[5] = {0x00, 0xA4, 0x04, 0x00, sizeof(aid)};
	const uint8_t bad[6] = {0xA0, 0x00, 0x00, 0x00, 0x18, 0xFE};
	(void)state;
	assert_string_equal(tc_card_os_selected(os), "testapp"); /* default after reset */
	cmd_data(os, sel, aid, &r);
	assert_int_equal(sw(&r), 0x9000);
	cmd_data(os, sel, bad, &r);
	assert_int_equal(sw(&r), 0x6A82);
	assert_string_equal(tc_card_os_selected(os), "testapp");
	assert_int_equal(cmd(os, 0x00, 0xA4, 0x00, 0x00, 0x02, &r), TC_T0C_RESPOND);
	assert_int_equal(sw(&r), 0x6A86);
	/* no default: nothing selected until SELECT */
	tc_card_os_set_default(os, NULL);
	tc_card_os_reset(os);
	assert_string_equal(tc_card_os_selected(os), "");
	(void)cmd(os, 0x80, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6D00);
	cmd_data(os, sel, aid, &r);
	(void)cmd(os, 0x80, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x9000);
	tc_card_os_free(os);
}

static void test_testapp_case1_and_errors(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	(void)state;
	assert_int_equal(cmd(os, 0x80, 0x30, 0, 0, 0, &r), TC_T0C_RESPOND);
	assert_int_equal(sw(&r), 0x9000);
	assert_int_equal(r.len, 0);
	(void)cmd(os, 0x00, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6E00);
	(void)cmd(os, 0x80, 0x3A, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6D00);
	(void)cmd(os, 0x80, 0x34, 0x01, 0x01, 0, &r); /* 257 bytes: 256 now, 1 kept */
	assert_int_equal(sw(&r), 0x6101);
	expect_pattern(&r, 256);
	(void)cmd(os, 0xFF, 0x30, 0, 0, 0, &r); /* refused at once: nothing dropped */
	assert_int_equal(sw(&r), 0x6E00);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 5, &r); /* one byte kept */
	assert_int_equal(sw(&r), 0x6C01);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 1, &r);
	assert_int_equal(sw(&r), 0x9000);
	assert_int_equal(r.len, 1);
	assert_int_equal(r.data[0], 0x00); /* byte 256 */
	(void)cmd(os, 0x00, 0xC0, 0, 0, 5, &r);
	assert_int_equal(sw(&r), 0x6985);
	tc_card_os_free(os);
}

static void test_testapp_case2_all_lengths(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	(void)state;
	for (unsigned n = 1; n <= 256; n++) {
		assert_int_equal(cmd(os, 0x80, 0x34, (uint8_t)(n >> 8), (uint8_t)n, (uint8_t)n, &r),
		                 TC_T0C_RESPOND);
		assert_int_equal(sw(&r), 0x9000);
		expect_pattern(&r, n);
	}
	tc_card_os_free(os);
}

static void test_testapp_case3_all_lengths(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	uint8_t data[255];
	(void)state;
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	for (unsigned n = 1; n <= 255; n++) {
		const uint8_t h[5] = {0x80, 0x32, 0x00, 0x00, (uint8_t)n};
		cmd_data(os, h, data, &r);
		assert_int_equal(sw(&r), 0x9000);
		assert_int_equal(r.len, 0);
	}
	tc_card_os_free(os);
}

static void test_testapp_case4_all_lengths(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	const uint8_t data[3] = {1, 2, 3};
	(void)state;
	for (unsigned n = 1; n <= 256; n++) {
		const uint8_t h[5] = {0x80, 0x36, (uint8_t)(n >> 8), (uint8_t)n, 3};
		cmd_data(os, h, data, &r);
		assert_int_equal(sw(&r), 0x6100 | (n & 0xFF));
		assert_int_equal(r.len, 0);
		assert_int_equal(cmd(os, 0x00, 0xC0, 0, 0, (uint8_t)n, &r), TC_T0C_RESPOND);
		assert_int_equal(sw(&r), 0x9000);
		expect_pattern(&r, n);
	}
	tc_card_os_free(os);
}

static void test_testapp_get_response_pieces(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	const uint8_t h[5] = {0x80, 0x36, 0x00, 0x0A, 1};
	(void)state;
	cmd_data(os, h, (const uint8_t[]){0}, &r);
	assert_int_equal(sw(&r), 0x610A);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 0x20, &r); /* too long: 6Cxx, nothing lost */
	assert_int_equal(sw(&r), 0x6C0A);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 4, &r);
	assert_int_equal(sw(&r), 0x6106);
	expect_pattern(&r, 4);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 6, &r);
	assert_int_equal(sw(&r), 0x9000);
	assert_int_equal(r.data[0], 4);
	assert_int_equal(r.data[5], 9);
	/* another command drops what was kept */
	cmd_data(os, h, (const uint8_t[]){0}, &r);
	(void)cmd(os, 0x80, 0x30, 0, 0, 0, &r);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 0x0A, &r);
	assert_int_equal(sw(&r), 0x6985);
	tc_card_os_free(os);
}

static void test_testapp_time_request(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	(void)state;
	for (unsigned xy = 0; xy < 256; xy += 51) {
		(void)cmd(os, 0x80, 0x38, 0x00, (uint8_t)xy, 0, &r);
		assert_int_equal(sw(&r), 0x9000);
		assert_int_equal(r.busy_etu, xy * 1000u);
	}
	tc_card_os_free(os);
}

/* GET RESPONSE until the card says 9000; the pattern runs on from `from`.
 * Returns the bytes fetched. */
static size_t drain(struct tc_card_os *os, struct tc_t0c_resp *r, size_t from)
{
	size_t got = 0;
	while (r->sw1 == 0x61) {
		uint8_t le = r->sw2;
		(void)cmd(os, 0x80, 0xC0, 0, 0, le, r);
		assert_int_equal(r->len, le ? le : 256u);
		for (size_t i = 0; i < r->len; i++)
			assert_int_equal(r->data[i], (uint8_t)(from + got + i));
		got += r->len;
	}
	assert_int_equal(sw(r), 0x9000);
	return got;
}

/* Case 2E: P1P2 above 256 with P3 = 00: 256 bytes and 61xx, the rest in a
 * GET RESPONSE chain; P3 below 256: that many bytes first. */
static void test_testapp_case2_long(void **state)
{
	static const unsigned lens[] = {257, 300, 511, 512, 513, 1000, 4096, 65535};
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp *r = malloc(sizeof(*r));
	(void)state;
	assert_non_null(r);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		unsigned n = lens[k], left = n - 256;
		(void)cmd(os, 0x80, 0x34, (uint8_t)(n >> 8), (uint8_t)n, 0, r);
		expect_pattern(r, 256);
		assert_int_equal(sw(r), 0x6100 | (left >= 256 ? 0 : left));
		assert_int_equal(drain(os, r, 256), left);
	}
	(void)cmd(os, 0x80, 0x34, 0x01, 0x2C, 0x10, r); /* 300 bytes, Le 16 */
	expect_pattern(r, 16);
	assert_int_equal(sw(r), 0x6100); /* 284 left: 256 or more */
	(void)cmd(os, 0x80, 0xC0, 0, 0, 0x20, r);
	assert_int_equal(sw(r), 0x61FC);
	assert_int_equal(r->data[0], 16);
	assert_int_equal(drain(os, r, 48), 252);
	free(r);
	tc_card_os_free(os);
}

/* Case 4 with more than 256 bytes of response: 6100, then the chain. */
static void test_testapp_case4_long(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp *r = malloc(sizeof(*r));
	const uint8_t h[5] = {0x80, 0x36, 0x03, 0xE8, 2};
	(void)state;
	assert_non_null(r);
	cmd_data(os, h, (const uint8_t[]){7, 8}, r);
	assert_int_equal(sw(r), 0x6100);
	assert_int_equal(r->len, 0);
	assert_int_equal(drain(os, r, 0), 1000);
	free(r);
	tc_card_os_free(os);
}

/* An application that answers the data it got (INS 10), to see what the OS
 * put together out of ENVELOPEs. */
static const uint8_t echo_aid[] = {0xF0, 0x00, 0x00, 0x0E, 0xC0};

static bool echo_has_data(void *priv, const uint8_t hdr[5])
{
	(void)priv;
	return hdr[1] == 0x10;
}

static void echo_process(void *priv, const struct tc_card_apdu *c, struct tc_card_rapdu *r)
{
	(void)priv;
	if (c->ins != 0x10) {
		r->sw = 0x6D00;
		return;
	}
	if (c->nc)
		memcpy(r->data, c->data, c->nc);
	r->len = c->nc;
	r->sw = 0x9000;
}

static const struct tc_card_app echo_app = {
    .name = "echo",
    .aid = echo_aid,
    .aid_len = sizeof(echo_aid),
    .has_data = echo_has_data,
    .process = echo_process,
};

static struct tc_card_os *new_echo_os(void)
{
	struct tc_card_os *os = tc_card_os_new();
	assert_non_null(os);
	assert_int_equal(tc_card_os_add(os, &echo_app, NULL, true), TC_OK);
	assert_int_equal(tc_card_os_add(os, tc_card_app_test(), NULL, false), TC_OK);
	tc_card_os_reset(os);
	return os;
}

/* One ENVELOPE piece (P3 = n, 0 for an empty ENVELOPE). */
static void env(struct tc_card_os *os, const uint8_t *piece, size_t n, struct tc_t0c_resp *r)
{
	const uint8_t h[5] = {0x80, 0xC2, 0x00, 0x00, (uint8_t)n};
	memset(r, 0, sizeof(*r));
	if (n == 0) {
		assert_int_equal(tc_card_os_command(os, h, NULL, 0, r), TC_T0C_RESPOND);
		return;
	}
	cmd_data(os, h, piece, r);
}

/* An extended case 4 APDU of nc data bytes (i * 7 + 1) for the echo app,
 * with Le (2 bytes) when with_le. Returns its length. */
static size_t echo_apdu(uint8_t *a, size_t nc, bool with_le)
{
	memcpy(a, (const uint8_t[]){0x80, 0x10, 0x00, 0x00, 0x00, (uint8_t)(nc >> 8), (uint8_t)nc},
	       7);
	for (size_t i = 0; i < nc; i++)
		a[7 + i] = (uint8_t)(i * 7 + 1);
	if (with_le)
		a[7 + nc] = a[8 + nc] = 0x00;
	return 7 + nc + (with_le ? 2 : 0);
}

static void expect_echo(struct tc_card_os *os, struct tc_t0c_resp *r, size_t nc)
{
	size_t got = 0;
	assert_int_equal(r->sw1, 0x61);
	while (r->sw1 == 0x61) {
		(void)cmd(os, 0x80, 0xC0, 0, 0, r->sw2, r);
		for (size_t i = 0; i < r->len; i++)
			assert_int_equal(r->data[i], (uint8_t)((got + i) * 7 + 1));
		got += r->len;
	}
	assert_int_equal(sw(r), 0x9000);
	assert_int_equal(got, nc);
}

/* 255-byte pieces as the reader sends them: 9000 until the data is complete,
 * then the command's answer; Le in a piece of its own, or split. */
static void test_envelope_pieces(void **state)
{
	static uint8_t a[7 + 600 + 2];
	struct tc_card_os *os = new_echo_os();
	struct tc_t0c_resp r;
	(void)state;
	/* Lc 300 with Le: 255 + 54, Le in the last piece */
	size_t len = echo_apdu(a, 300, true);
	env(os, a, 255, &r);
	assert_int_equal(sw(&r), 0x9000);
	env(os, a + 255, len - 255, &r);
	expect_echo(os, &r, 300);
	/* Lc 503: the data ends with the second full piece; Le follows alone */
	len = echo_apdu(a, 503, true);
	env(os, a, 255, &r);
	assert_int_equal(sw(&r), 0x9000);
	env(os, a + 255, 255, &r);
	assert_int_equal(sw(&r), 0x6100); /* the command ran */
	env(os, a + 510, 2, &r);          /* its Le: the kept data is announced again */
	assert_int_equal(sw(&r), 0x6100);
	expect_echo(os, &r, 503);
	/* Lc 502: Le split over two pieces */
	len = echo_apdu(a, 502, true);
	env(os, a, 255, &r);
	env(os, a + 255, 255, &r);
	assert_int_equal(sw(&r), 0x6100);
	env(os, a + 510, 1, &r);
	assert_int_equal(sw(&r), 0x6100);
	expect_echo(os, &r, 502);
	/* no Le (case 3E) in small pieces */
	len = echo_apdu(a, 600, false);
	for (size_t off = 0; off < len; off += 100) {
		env(os, a + off, len - off < 100 ? len - off : 100, &r);
		if (off + 100 < len)
			assert_int_equal(sw(&r), 0x9000);
	}
	expect_echo(os, &r, 600);
	/* a short command in an ENVELOPE: 80 10 00 00 03 a b c Le */
	env(os, (const uint8_t[]){0x80, 0x10, 0x00, 0x00, 0x03, 9, 8, 7, 0x00}, 9, &r);
	assert_int_equal(sw(&r), 0x6103);
	(void)cmd(os, 0x80, 0xC0, 0, 0, 3, &r);
	assert_int_equal(sw(&r), 0x9000);
	assert_memory_equal(r.data, ((const uint8_t[]){9, 8, 7}), 3);
	tc_card_os_free(os);
}

static void test_envelope_errors(void **state)
{
	static uint8_t a[7 + 300 + 2];
	struct tc_card_os *os = new_echo_os();
	struct tc_t0c_resp r;
	const uint8_t h[5] = {0x80, 0xC2, 0x00, 0x01, 1};
	(void)state;
	size_t len = echo_apdu(a, 300, true);
	cmd_data(os, h, a, &r); /* P1P2 other than 0000 */
	assert_int_equal(sw(&r), 0x6A86);
	env(os, NULL, 0, &r); /* an empty ENVELOPE with nothing collected */
	assert_int_equal(sw(&r), 0x9000);
	env(os, a, 255, &r); /* cut short by an empty ENVELOPE */
	env(os, NULL, 0, &r);
	assert_int_equal(sw(&r), 0x6700);
	env(os, a, 255, &r); /* cut short by another command: the chain is gone */
	(void)cmd(os, 0x80, 0x10, 0, 0, 0, &r);
	/* the rest is taken as the start of a new command (its 5th byte, E5, as
	 * a short Lc that 54 bytes do not fill), which an empty ENVELOPE drops */
	env(os, a + 255, len - 255, &r);
	assert_int_equal(sw(&r), 0x9000);
	env(os, NULL, 0, &r);
	assert_int_equal(sw(&r), 0x6700);
	env(os, (const uint8_t[]){0x80, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05}, 8, &r);
	assert_int_equal(sw(&r), 0x6700); /* extended Lc 0000 */
	env(os, (const uint8_t[]){0x80, 0x10, 0x00, 0x00, 0x01, 0x55, 0x01, 0x02}, 8, &r);
	assert_int_equal(sw(&r), 0x6700); /* a byte beyond Le */
	env(os, (const uint8_t[]){0x80, 0xC0, 0x00, 0x00, 0x01, 0x55}, 6, &r);
	assert_int_equal(sw(&r), 0x6D00); /* GET RESPONSE inside */
	env(os, (const uint8_t[]){0xFF, 0x10, 0x00, 0x00, 0x01, 0x55}, 6, &r);
	assert_int_equal(sw(&r), 0x6E00);
	/* SELECT inside an ENVELOPE */
	env(os, (const uint8_t[]){0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0, 0x00, 0x00, 0x00, 0x18, 0xFF},
	    11, &r);
	assert_int_equal(sw(&r), 0x9000);
	assert_string_equal(tc_card_os_selected(os), "testapp");
	tc_card_os_free(os);
}

/* The reader's transport layer (protocol/tc_apdu.c) straight on the card OS:
 * each TPDU as the card engine would answer it (6Cxx for a case 2 length
 * other than Le). */
static int os_xfer(void *ctx, const uint8_t hdr[5], const uint8_t *data, size_t n, uint8_t *resp,
                   size_t cap, size_t *resp_len)
{
	static struct tc_t0c_resp r;
	struct tc_card_os *os = ctx;
	memset(&r, 0, sizeof(r));
	enum tc_t0c_verdict v = tc_card_os_command(os, hdr, NULL, 0, &r);
	bool case2 = v == TC_T0C_RESPOND;
	if (v == TC_T0C_WANT_DATA) {
		assert_int_equal(n, hdr[4]);
		memset(&r, 0, sizeof(r));
		assert_int_equal(tc_card_os_command(os, hdr, data, n, &r), TC_T0C_RESPOND);
		r.len = 0;
	}
	size_t le = hdr[4] ? hdr[4] : 256u;
	if (case2 && r.len > 0 && r.len != le) {
		r.sw1 = 0x6C;
		r.sw2 = (uint8_t)r.len;
		r.len = 0;
	}
	assert_true(r.len + 2 <= cap);
	memcpy(resp, r.data, r.len);
	resp[r.len] = r.sw1;
	resp[r.len + 1] = r.sw2;
	*resp_len = r.len + 2;
	return TC_OK;
}

static void transmit(struct tc_card_os *os, const uint8_t *a, size_t len, uint8_t *resp,
                     size_t *got)
{
	const struct tc_apdu_link link = {.xfer = os_xfer, .ctx = os};
	const char *why = NULL;
	int rc = tc_apdu_transmit(&link, a, len, resp, TC_APDU_MAX_RESP, got, &why);
	if (rc != TC_OK)
		fail_msg("tc_apdu_transmit: %s", why ? why : "?");
}

static int transmit_select_testapp(struct tc_card_os *os)
{
	static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0,
	                              0x00, 0x00, 0x00, 0x18, 0xFF};
	uint8_t resp[TC_APDU_MAX_RESP];
	size_t got;
	transmit(os, sel, sizeof(sel), resp, &got);
	return got == 2 && resp[0] == 0x90 && resp[1] == 0x00 ? 0 : -1;
}

static void expect_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], (uint8_t)i);
}

static void test_transport_extended(void **state)
{
	static const size_t ncs[] = {256, 300, 502, 503, 504, 1000, 65535};
	static uint8_t a[TC_APDU_MAX_LEN], resp[TC_APDU_MAX_RESP];
	struct tc_card_os *os = new_echo_os();
	size_t got;
	(void)state;
	for (size_t k = 0; k < sizeof(ncs) / sizeof(ncs[0]); k++) {
		for (int with_le = 0; with_le < 2; with_le++) {
			size_t len = echo_apdu(a, ncs[k], with_le);
			transmit(os, a, len, resp, &got);
			/* 3E asks no data: the echo's 61xx comes back as it is */
			size_t want = with_le ? ncs[k] : 0;
			assert_int_equal(got, want + 2);
			assert_int_equal(resp[want], with_le ? 0x90 : 0x61);
			for (size_t i = 0; i < want; i++)
				assert_int_equal(resp[i], (uint8_t)(i * 7 + 1));
		}
	}
	/* the test application: 2E with Le 1000 and 0000 (65536: P1P2 FFFF) */
	assert_int_equal(transmit_select_testapp(os), 0);
	static const uint8_t c2e[][7] = {{0x80, 0x34, 0x03, 0xE8, 0x00, 0x03, 0xE8},
	                                 {0x80, 0x34, 0xFF, 0xFF, 0x00, 0x00, 0x00}};
	static const size_t c2e_len[] = {1000, 65535};
	for (size_t k = 0; k < 2; k++) {
		transmit(os, c2e[k], 7, resp, &got);
		assert_int_equal(got, c2e_len[k] + 2);
		expect_bytes(resp, c2e_len[k]);
		assert_int_equal(resp[c2e_len[k]], 0x90);
	}
	/* 3E and 4E (Lc 300, Le 1000) of the test application through ENVELOPE */
	size_t len = echo_apdu(a, 300, true);
	a[1] = 0x32;
	transmit(os, a, len - 2, resp, &got);
	assert_int_equal(got, 2);
	assert_int_equal(resp[0], 0x90);
	a[1] = 0x36;
	a[2] = 0x03;
	a[3] = 0xE8;
	a[len - 2] = 0x03;
	a[len - 1] = 0xE8;
	transmit(os, a, len, resp, &got);
	assert_int_equal(got, 1002);
	expect_bytes(resp, 1000);
	assert_int_equal(resp[1000], 0x90);
	tc_card_os_free(os);
}

static void test_testapp_table(void **state)
{
	const struct tc_card_app *a = tc_card_app_test();
	struct tc_card_os *os = tc_card_os_new();
	static const struct tc_card_app broken = {.name = "x"};
	(void)state;
	assert_string_equal(a->name, "testapp");
	assert_int_equal(a->aid_len, 6);
	assert_memory_equal(a->aid, aid, 6);
	assert_int_equal(tc_card_os_add(os, &broken, NULL, false), TC_E_INVAL);
	for (unsigned i = 0; i < TC_CARD_MAX_APPS; i++)
		assert_int_equal(tc_card_os_add(os, a, NULL, false), TC_OK);
	assert_int_equal(tc_card_os_add(os, a, NULL, false), TC_E_LIMIT);
	tc_card_os_free(os);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_testapp_select),
	    cmocka_unit_test(test_testapp_case1_and_errors),
	    cmocka_unit_test(test_testapp_case2_all_lengths),
	    cmocka_unit_test(test_testapp_case3_all_lengths),
	    cmocka_unit_test(test_testapp_case4_all_lengths),
	    cmocka_unit_test(test_testapp_get_response_pieces),
	    cmocka_unit_test(test_testapp_time_request),
	    cmocka_unit_test(test_testapp_case2_long),
	    cmocka_unit_test(test_testapp_case4_long),
	    cmocka_unit_test(test_envelope_pieces),
	    cmocka_unit_test(test_envelope_errors),
	    cmocka_unit_test(test_transport_extended),
	    cmocka_unit_test(test_testapp_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
