/* test_wire.c: the loopback wire codec (protocol/tc_wire.c) against docs/wire.md.
 *
 * Round trips of every message type, every malformed case of section 2 with
 * the exact reason text, partial input, and characters in both conventions
 * (section 2.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tc_error.h"
#include "tc_wire.h"

/* ---- helpers ----------------------------------------------------------- */

/* A raw message: header fields as given, payload copied. */
static size_t raw_msg(uint8_t *buf, uint8_t type, uint32_t seq, const uint8_t *payload, size_t len)
{
	memset(buf, 0, TC_WIRE_HDR_LEN);
	buf[0] = type;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[4] = (uint8_t)(seq >> 24);
	buf[5] = (uint8_t)(seq >> 16);
	buf[6] = (uint8_t)(seq >> 8);
	buf[7] = (uint8_t)seq;
	if (len)
		memcpy(buf + TC_WIRE_HDR_LEN, payload, len);
	return TC_WIRE_HDR_LEN + len;
}

/* Decode buf, expect TC_E_FORMAT and exactly the reason `want`. */
static void expect_malformed(const uint8_t *buf, size_t n, const char *want)
{
	struct tc_wire_msg m;
	char why[128];
	int rc = tc_wire_decode(buf, n, &m, why, sizeof(why));
	assert_int_equal(rc, TC_E_FORMAT);
	assert_string_equal(why, want);
}

static void roundtrip(const struct tc_wire_msg *in, size_t want_len)
{
	uint8_t buf[TC_WIRE_MAX_MSG];
	struct tc_wire_msg out;
	char why[128];

	int n = tc_wire_encode(in, buf, sizeof(buf));
	assert_int_equal(n, (int)want_len);
	/* Header layout of section 2. */
	assert_int_equal(buf[0], in->type);
	assert_int_equal(buf[1], in->flags);
	assert_int_equal((buf[2] << 8 | buf[3]), (int)(want_len - TC_WIRE_HDR_LEN));
	for (int i = 12; i < 16; i++)
		assert_int_equal(buf[i], 0);
	/* Every proper prefix is "read more". */
	for (int k = 0; k < n; k++)
		assert_int_equal(tc_wire_decode(buf, (size_t)k, &out, why, sizeof(why)), 0);
	assert_int_equal(tc_wire_decode(buf, (size_t)n, &out, why, sizeof(why)), n);
	assert_string_equal(why, "");
	assert_int_equal(out.type, in->type);
	assert_int_equal(out.flags, in->flags);
	assert_int_equal(out.seq, in->seq);
	assert_int_equal(out.ack, in->ack);
	assert_true(out.time == in->time);
	/* Re-encoding gives the same bytes. */
	uint8_t again[TC_WIRE_MAX_MSG];
	assert_int_equal(tc_wire_encode(&out, again, sizeof(again)), n);
	assert_memory_equal(buf, again, (size_t)n);
}

static struct tc_wire_msg base(uint8_t type)
{
	struct tc_wire_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.seq = 0x01020304u;
	m.ack = 0xA0B0C0D0u;
	m.time = 0x1122334455667788ull;
	return m;
}

/* ---- round trips ------------------------------------------------------- */

static void test_wire_roundtrip_hello(void **state)
{
	(void)state;
	struct tc_wire_msg m = base(TC_WIRE_HELLO);
	m.u.hello.version = 1;
	m.u.hello.role = TC_WIRE_ROLE_CARD;
	m.u.hello.present = 1;
	m.u.hello.realtime = 0;
	strcpy(m.u.hello.name, "wire_card.py");
	roundtrip(&m, TC_WIRE_HDR_LEN + 4 + 12);

	m.u.hello.role = TC_WIRE_ROLE_READER;
	m.u.hello.present = 0;
	m.u.hello.realtime = 1;
	m.u.hello.name[0] = '\0';
	roundtrip(&m, TC_WIRE_HDR_LEN + 4);

	memset(m.u.hello.name, '~', TC_WIRE_NAME_MAX);
	m.u.hello.name[TC_WIRE_NAME_MAX] = '\0';
	roundtrip(&m, TC_WIRE_HDR_LEN + 4 + TC_WIRE_NAME_MAX);
}

static void test_wire_roundtrip_power(void **state)
{
	(void)state;
	struct tc_wire_msg m = base(TC_WIRE_POWER_ON);
	for (uint8_t cls = TC_CLASS_A; cls <= TC_CLASS_C; cls++) {
		m.u.power_on.cls = cls;
		m.u.power_on.clock_hz = 3571200;
		roundtrip(&m, TC_WIRE_HDR_LEN + 5);
	}
	m = base(TC_WIRE_POWER_OFF);
	roundtrip(&m, TC_WIRE_HDR_LEN);
	m = base(TC_WIRE_CLOCK);
	m.u.clock.clock_hz = 0;
	roundtrip(&m, TC_WIRE_HDR_LEN + 4);
	m.u.clock.clock_hz = 0xFEDCBA98u;
	roundtrip(&m, TC_WIRE_HDR_LEN + 4);
}

static void test_wire_roundtrip_rst_char_error(void **state)
{
	(void)state;
	struct tc_wire_msg m = base(TC_WIRE_RST);
	m.u.rst.level = 0;
	roundtrip(&m, TC_WIRE_HDR_LEN + 1);
	m.u.rst.level = 1;
	roundtrip(&m, TC_WIRE_HDR_LEN + 1);

	m = base(TC_WIRE_CHAR);
	for (unsigned raw = 0; raw < 256; raw++) {
		m.u.chr.raw = (uint8_t)raw;
		m.u.chr.parity = (uint8_t)(raw & 1u);
		roundtrip(&m, TC_WIRE_HDR_LEN + 2);
	}
	m = base(TC_WIRE_ERROR);
	m.u.error.ref = 0xDEADBEEFu;
	roundtrip(&m, TC_WIRE_HDR_LEN + 4);
}

static void test_wire_roundtrip_empty_and_bye(void **state)
{
	(void)state;
	const uint8_t types[] = {TC_WIRE_IDLE, TC_WIRE_INSERT, TC_WIRE_REMOVE};
	for (size_t i = 0; i < sizeof(types); i++) {
		struct tc_wire_msg m = base(types[i]);
		m.flags = 0x80; /* unknown flag bits pass through */
		roundtrip(&m, TC_WIRE_HDR_LEN);
	}
	struct tc_wire_msg m = base(TC_WIRE_BYE);
	roundtrip(&m, TC_WIRE_HDR_LEN);
	strcpy(m.u.bye.reason, "version");
	roundtrip(&m, TC_WIRE_HDR_LEN + 7);
}

static void test_wire_decode_fields(void **state)
{
	(void)state;
	/* A hand-built CHAR: seq 7, ack 5, time 0x0102030405060708. */
	const uint8_t buf[] = {0x20, 0x00, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 5,    0,
	                       0,    0,    0,    1,    2, 3, 4, 5, 6, 7, 8, 0x3B, 1};
	struct tc_wire_msg m;
	assert_int_equal(tc_wire_decode(buf, sizeof(buf), &m, NULL, 0), (int)sizeof(buf));
	assert_int_equal(m.type, TC_WIRE_CHAR);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.ack, 5);
	assert_true(m.time == 0x0102030405060708ull);
	assert_int_equal(m.u.chr.raw, 0x3B);
	assert_int_equal(m.u.chr.parity, 1);
}

static void test_wire_decode_two_in_a_row(void **state)
{
	(void)state;
	uint8_t buf[2 * TC_WIRE_MAX_MSG];
	struct tc_wire_msg a = base(TC_WIRE_CHAR), b = base(TC_WIRE_IDLE), out;
	a.u.chr.raw = 0x90;
	int n1 = tc_wire_encode(&a, buf, sizeof(buf));
	assert_true(n1 > 0);
	int n2 = tc_wire_encode(&b, buf + n1, sizeof(buf) - (size_t)n1);
	assert_true(n2 > 0);
	assert_int_equal(tc_wire_decode(buf, (size_t)(n1 + n2), &out, NULL, 0), n1);
	assert_int_equal(out.type, TC_WIRE_CHAR);
	assert_int_equal(tc_wire_decode(buf + n1, (size_t)n2, &out, NULL, 0), n2);
	assert_int_equal(out.type, TC_WIRE_IDLE);
}

/* ---- malformed input (section 2) --------------------------------------- */

static void test_wire_malformed_type(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_MAX_MSG];
	const uint8_t known[] = {0x01, 0x10, 0x11, 0x12, 0x13, 0x20,
	                         0x21, 0x22, 0x23, 0x30, 0x31, 0x3F};
	for (unsigned t = 0; t < 256; t++) {
		if (memchr(known, (int)t, sizeof(known)))
			continue;
		size_t n = raw_msg(buf, (uint8_t)t, 1, NULL, 0);
		char want[64];
		snprintf(want, sizeof(want), "unknown message type 0x%02X", t);
		expect_malformed(buf, n, want);
		assert_string_equal(tc_wire_type_name((uint8_t)t), "?");
	}
}

struct len_case {
	uint8_t type;
	const char *name;
	int min, max;
};

static const struct len_case len_cases[] = {
    {0x01, "HELLO", 4, 36}, {0x10, "POWER_ON", 5, 5}, {0x11, "POWER_OFF", 0, 0},
    {0x12, "RST", 1, 1},    {0x13, "CLOCK", 4, 4},    {0x20, "CHAR", 2, 2},
    {0x21, "ERROR", 4, 4},  {0x22, "IDLE", 0, 0},     {0x30, "INSERT", 0, 0},
    {0x31, "REMOVE", 0, 0}, {0x3F, "BYE", 0, 32},     {0x23, "CHARS", 6, 1028},
};

static void test_wire_malformed_len(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_HDR_LEN];
	for (size_t i = 0; i < sizeof(len_cases) / sizeof(len_cases[0]); i++) {
		const struct len_case *c = &len_cases[i];
		assert_string_equal(tc_wire_type_name(c->type), c->name);
		const unsigned bad[] = {(unsigned)c->min - 1u, (unsigned)c->max + 1u, 0xFFFFu};
		for (size_t j = 0; j < 3; j++) {
			if (bad[j] > 0xFFFFu)
				continue; /* min - 1 wrapped: no length below 0 */
			/* Only the header is needed to judge the length. */
			memset(buf, 0, sizeof(buf));
			buf[0] = c->type;
			buf[2] = (uint8_t)(bad[j] >> 8);
			buf[3] = (uint8_t)bad[j];
			buf[7] = 1;
			char want[96];
			snprintf(want, sizeof(want), "%s payload is %u bytes; it must be %d..%d",
			         c->name, bad[j], c->min, c->max);
			expect_malformed(buf, sizeof(buf), want);
		}
	}
}

static void test_wire_malformed_seq0(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_MAX_MSG];
	const uint8_t chr[] = {0x3B, 1};
	size_t n = raw_msg(buf, TC_WIRE_CHAR, 0, chr, 2);
	expect_malformed(buf, n, "CHAR has seq 0; seq starts at 1");
	n = raw_msg(buf, TC_WIRE_IDLE, 0, NULL, 0);
	expect_malformed(buf, n, "IDLE has seq 0; seq starts at 1");
}

static void test_wire_malformed_fields(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_MAX_MSG];
	size_t n;
	const uint8_t cls0[] = {0, 0, 0x36, 0x7E, 0}, cls4[] = {4, 0, 0x36, 0x7E, 0};
	n = raw_msg(buf, TC_WIRE_POWER_ON, 1, cls0, 5);
	expect_malformed(buf, n, "POWER_ON class 0 is not 1 (A), 2 (B) or 3 (C)");
	n = raw_msg(buf, TC_WIRE_POWER_ON, 1, cls4, 5);
	expect_malformed(buf, n, "POWER_ON class 4 is not 1 (A), 2 (B) or 3 (C)");

	const uint8_t lvl2[] = {2}, lvl255[] = {255};
	n = raw_msg(buf, TC_WIRE_RST, 1, lvl2, 1);
	expect_malformed(buf, n, "RST level 2 is neither 0 nor 1");
	n = raw_msg(buf, TC_WIRE_RST, 1, lvl255, 1);
	expect_malformed(buf, n, "RST level 255 is neither 0 nor 1");

	const uint8_t par2[] = {0x3B, 2};
	n = raw_msg(buf, TC_WIRE_CHAR, 1, par2, 2);
	expect_malformed(buf, n, "CHAR parity bit 2 is neither 0 nor 1");
}

static void test_wire_malformed_text(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_MAX_MSG];
	uint8_t hello[] = {1, 1, 0, 0, 'a', 'b', 'c'};
	const uint8_t bad_bytes[] = {0x00, 0x1F, 0x7F, 0x80, 0xFF};
	for (size_t i = 0; i < sizeof(bad_bytes); i++) {
		hello[5] = bad_bytes[i];
		size_t n = raw_msg(buf, TC_WIRE_HELLO, 1, hello, sizeof(hello));
		expect_malformed(buf, n, "HELLO name is not printable ASCII");
		n = raw_msg(buf, TC_WIRE_BYE, 1, hello + 4, 3);
		expect_malformed(buf, n, "BYE reason is not printable ASCII");
	}
	/* The edges 0x20 and 0x7E are printable. */
	hello[4] = 0x20;
	hello[5] = 0x7E;
	struct tc_wire_msg m;
	size_t n = raw_msg(buf, TC_WIRE_HELLO, 1, hello, sizeof(hello));
	assert_int_equal(tc_wire_decode(buf, n, &m, NULL, 0), (int)n);
	assert_string_equal(m.u.hello.name, " ~c");
}

/* Not in docs/wire.md section 2, but the codec refuses it: a HELLO role
 * other than 1 or 2. */
static void test_wire_malformed_role(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_MAX_MSG];
	const uint8_t hello[] = {1, 3, 0, 0};
	size_t n = raw_msg(buf, TC_WIRE_HELLO, 1, hello, sizeof(hello));
	expect_malformed(buf, n, "HELLO role 3 is neither 1 (reader) nor 2 (card)");
}

static void test_wire_partial_bad_len_needs_header(void **state)
{
	(void)state;
	/* An unknown type is only judged once the header is complete. */
	uint8_t buf[TC_WIRE_HDR_LEN] = {0xEE};
	struct tc_wire_msg m;
	for (size_t k = 0; k < TC_WIRE_HDR_LEN; k++)
		assert_int_equal(tc_wire_decode(buf, k, &m, NULL, 0), 0);
}

static void test_wire_encode_refuses(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_MAX_MSG];
	struct tc_wire_msg m = base(0x77);
	assert_int_equal(tc_wire_encode(&m, buf, sizeof(buf)), TC_E_INVAL);
	m = base(TC_WIRE_POWER_ON);
	m.u.power_on.cls = 0;
	assert_int_equal(tc_wire_encode(&m, buf, sizeof(buf)), TC_E_INVAL);
	m = base(TC_WIRE_RST);
	m.u.rst.level = 2;
	assert_int_equal(tc_wire_encode(&m, buf, sizeof(buf)), TC_E_INVAL);
	m = base(TC_WIRE_CHAR);
	m.u.chr.parity = 2;
	assert_int_equal(tc_wire_encode(&m, buf, sizeof(buf)), TC_E_INVAL);
	m = base(TC_WIRE_CHAR);
	assert_int_equal(tc_wire_encode(&m, buf, TC_WIRE_HDR_LEN + 1), TC_E_OVERFLOW);
}

/* ---- runs of characters (section 2.2) ----------------------------------- */

/* A CHARS of n characters from seq 100, ack 7, time 5000, spacing 12 * 372:
 * decodes to its fields, each character is the CHAR it stands for, and it
 * encodes back to the same bytes. */
static void test_wire_chars_roundtrip(void **state)
{
	(void)state;
	static uint8_t buf[TC_WIRE_MAX_RUN_MSG], again[TC_WIRE_MAX_RUN_MSG];
	uint8_t pairs[2 * TC_WIRE_MAX_RUN];
	const unsigned counts[] = {1, 2, 259, TC_WIRE_MAX_RUN};

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k];
		for (size_t i = 0; i < n; i++)
			tc_wire_char_make((uint8_t)(i * 7u), false, &pairs[2 * i],
			                  &pairs[2 * i + 1]);
		struct tc_wire_msg m = base(TC_WIRE_CHARS), out, c;
		m.seq = 100;
		m.ack = 7;
		m.time = 5000;
		m.u.chars.spacing = 12 * 372;
		m.u.chars.n = (uint16_t)n;
		m.u.chars.pairs = pairs;
		int len = tc_wire_encode(&m, buf, sizeof(buf));
		assert_int_equal(len, TC_WIRE_HDR_LEN + 4 + 2 * (int)n);
		char why[128];
		assert_int_equal(tc_wire_decode(buf, (size_t)len - 1, &out, why, sizeof(why)), 0);
		assert_int_equal(tc_wire_decode(buf, (size_t)len, &out, why, sizeof(why)), len);
		assert_int_equal(out.u.chars.n, n);
		assert_int_equal(out.u.chars.spacing, 12 * 372);
		assert_ptr_equal(out.u.chars.pairs, buf + TC_WIRE_HDR_LEN + 4);
		for (unsigned i = 0; i < n; i++) {
			bool ok;
			tc_wire_run_char(&out, i, &c);
			assert_int_equal(c.type, TC_WIRE_CHAR);
			assert_int_equal(c.seq, 100 + i);
			assert_int_equal(c.ack, 7);
			assert_true(c.time == 5000 + (uint64_t)i * 12 * 372);
			assert_int_equal(tc_wire_char_read(c.u.chr.raw, c.u.chr.parity, false, &ok),
			                 (uint8_t)(i * 7u));
			assert_true(ok);
		}
		assert_int_equal(tc_wire_encode(&out, again, sizeof(again)), len);
		assert_memory_equal(buf, again, (size_t)len);
		assert_int_equal(tc_wire_encode(&m, buf, (size_t)len - 1), TC_E_OVERFLOW);
	}
}

static void test_wire_chars_malformed(void **state)
{
	(void)state;
	uint8_t buf[TC_WIRE_HDR_LEN + 16];
	const uint8_t odd[] = {0, 0, 0x11, 0x70, 0x41, 0, 0x42};
	const uint8_t zero[] = {0, 0, 0, 0, 0x41, 0, 0x42, 0};
	const uint8_t par[] = {0, 0, 0x11, 0x70, 0x41, 0, 0x42, 2};

	size_t n = raw_msg(buf, TC_WIRE_CHARS, 1, odd, sizeof(odd));
	expect_malformed(buf, n, "CHARS payload is 7 bytes; it must be 4 + 2 per character");
	n = raw_msg(buf, TC_WIRE_CHARS, 1, zero, sizeof(zero));
	expect_malformed(buf, n, "CHARS spacing is 0 cycles");
	n = raw_msg(buf, TC_WIRE_CHARS, 1, par, sizeof(par));
	expect_malformed(buf, n, "CHARS character 1 has parity bit 2, neither 0 nor 1");
	n = raw_msg(buf, TC_WIRE_CHARS, 0xFFFFFFFFu, par, 8);
	expect_malformed(buf, n, "CHARS of 2 characters from seq 4294967295 runs past seq 2^32-1");

	/* The encoder refuses what the decoder would. */
	uint8_t pairs[4] = {0x41, 0, 0x42, 1}, out[TC_WIRE_MAX_RUN_MSG];
	struct tc_wire_msg m = base(TC_WIRE_CHARS);
	m.u.chars.spacing = 4464;
	m.u.chars.n = 2;
	m.u.chars.pairs = pairs;
	assert_true(tc_wire_encode(&m, out, sizeof(out)) > 0);
	m.u.chars.n = 0;
	assert_int_equal(tc_wire_encode(&m, out, sizeof(out)), TC_E_INVAL);
	m.u.chars.n = TC_WIRE_MAX_RUN + 1;
	assert_int_equal(tc_wire_encode(&m, out, sizeof(out)), TC_E_INVAL);
	m.u.chars.n = 2;
	m.u.chars.spacing = 0;
	assert_int_equal(tc_wire_encode(&m, out, sizeof(out)), TC_E_INVAL);
	m.u.chars.spacing = 4464;
	pairs[3] = 2;
	assert_int_equal(tc_wire_encode(&m, out, sizeof(out)), TC_E_INVAL);
	pairs[3] = 1;
	m.u.chars.pairs = NULL;
	assert_int_equal(tc_wire_encode(&m, out, sizeof(out)), TC_E_INVAL);
}

/* ---- characters (section 2.1) ------------------------------------------ */

static unsigned ones(unsigned b)
{
	unsigned n = 0;
	for (; b; b >>= 1)
		n += b & 1u;
	return n;
}

static uint8_t reverse(uint8_t b)
{
	uint8_t r = 0;
	for (int i = 0; i < 8; i++)
		r = (uint8_t)(r << 1 | ((b >> i) & 1u));
	return r;
}

static void test_wire_char_direct(void **state)
{
	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		uint8_t raw, par;
		bool ok = false;
		tc_wire_char_make((uint8_t)b, false, &raw, &par);
		assert_int_equal(raw, b);
		assert_int_equal((ones(raw) + par) % 2, 0); /* even on the line */
		assert_int_equal(tc_wire_char_read(raw, par, false, &ok), b);
		assert_true(ok);
		assert_int_equal(tc_wire_char_read(raw, par ^ 1u, false, &ok), b);
		assert_false(ok);
	}
}

static void test_wire_char_inverse(void **state)
{
	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		uint8_t raw, par;
		bool ok = false;
		tc_wire_char_make((uint8_t)b, true, &raw, &par);
		assert_int_equal(raw, reverse((uint8_t)~b));
		/* parity is the complement of the byte's even-parity bit */
		assert_int_equal(par, (ones(b) % 2) ^ 1u);
		/* so a direct-mode receiver sees odd parity */
		assert_int_equal((ones(raw) + par) % 2, 1);
		assert_int_equal(tc_wire_char_read(raw, par, true, &ok), b);
		assert_true(ok);
		assert_int_equal(tc_wire_char_read(raw, par ^ 1u, true, &ok), b);
		assert_false(ok);
		/* read in the wrong convention: parity fails */
		(void)tc_wire_char_read(raw, par, false, &ok);
		assert_false(ok);
	}
}

static void test_wire_char_inverse_ts(void **state)
{
	(void)state;
	uint8_t raw, par;
	bool ok = false;
	tc_wire_char_make(0x3F, true, &raw, &par);
	assert_int_equal(raw, 0x03);
	assert_int_equal(par, 1);
	assert_int_equal(tc_wire_char_read(0x03, 1, true, &ok), 0x3F);
	assert_true(ok);
	tc_wire_char_make(0x3B, false, &raw, &par);
	assert_int_equal(raw, 0x3B);
	assert_int_equal(par, 1);
	/* parity_ok may be NULL */
	assert_int_equal(tc_wire_char_read(0x03, 1, true, NULL), 0x3F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wire_roundtrip_hello),
	    cmocka_unit_test(test_wire_roundtrip_power),
	    cmocka_unit_test(test_wire_roundtrip_rst_char_error),
	    cmocka_unit_test(test_wire_roundtrip_empty_and_bye),
	    cmocka_unit_test(test_wire_decode_fields),
	    cmocka_unit_test(test_wire_decode_two_in_a_row),
	    cmocka_unit_test(test_wire_malformed_type),
	    cmocka_unit_test(test_wire_malformed_len),
	    cmocka_unit_test(test_wire_malformed_seq0),
	    cmocka_unit_test(test_wire_malformed_fields),
	    cmocka_unit_test(test_wire_malformed_text),
	    cmocka_unit_test(test_wire_malformed_role),
	    cmocka_unit_test(test_wire_partial_bad_len_needs_header),
	    cmocka_unit_test(test_wire_encode_refuses),
	    cmocka_unit_test(test_wire_chars_roundtrip),
	    cmocka_unit_test(test_wire_chars_malformed),
	    cmocka_unit_test(test_wire_char_direct),
	    cmocka_unit_test(test_wire_char_inverse),
	    cmocka_unit_test(test_wire_char_inverse_ts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
