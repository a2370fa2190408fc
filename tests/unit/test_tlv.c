/* test_tlv.c: BER-TLV parse, walk, validate and build (protocol/tc_tlv.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tc_error.h"
#include "tc_hex.h"
#include "tc_tlv.h"

static size_t hex(const char *text, uint8_t *buf, size_t cap)
{
	int n = tc_hex_decode(text, buf, cap, NULL);
	assert_true(n >= 0);
	return (size_t)n;
}

static void test_tlv_parse_primitive(void **state)
{
	uint8_t b[32];
	struct tc_tlv t;
	size_t n = hex("5A 08 1111222233334444 FF", b, sizeof(b));
	(void)state;
	assert_int_equal(tc_tlv_parse(b, n, &t, NULL), TC_OK);
	assert_int_equal(t.tag, 0x5A);
	assert_int_equal(t.tag_len, 1);
	assert_int_equal(t.cls, TC_TLV_APPLICATION);
	assert_false(t.constructed);
	assert_int_equal(t.len, 8);
	assert_int_equal(t.hdr_len, 2);
	assert_ptr_equal(t.value, b + 2);
}

static void test_tlv_parse_multibyte_tags(void **state)
{
	uint8_t b[16];
	struct tc_tlv t;
	(void)state;
	size_t n = hex("5F20 01 41", b, sizeof(b));
	assert_int_equal(tc_tlv_parse(b, n, &t, NULL), TC_OK);
	assert_int_equal(t.tag, 0x5F20);
	assert_int_equal(t.tag_len, 2);
	n = hex("DF8101 00", b, sizeof(b));
	assert_int_equal(tc_tlv_parse(b, n, &t, NULL), TC_OK);
	assert_int_equal(t.tag, 0xDF8101);
	assert_int_equal(t.tag_len, 3);
	assert_int_equal(t.cls, TC_TLV_PRIVATE);
	assert_null(t.value);
	n = hex("BF0C 00", b, sizeof(b));
	assert_int_equal(tc_tlv_parse(b, n, &t, NULL), TC_OK);
	assert_true(t.constructed);
	assert_int_equal(t.cls, TC_TLV_CONTEXT);
}

static void test_tlv_parse_lengths(void **state)
{
	uint8_t b[300];
	struct tc_tlv t;
	struct tc_tlv_error e;
	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 0x04;
	b[1] = 0x81;
	b[2] = 0x80;
	assert_int_equal(tc_tlv_parse(b, 3 + 0x80, &t, &e), TC_OK);
	assert_int_equal(t.len, 0x80);
	assert_int_equal(t.hdr_len, 3);
	b[1] = 0x82;
	b[2] = 0x01;
	b[3] = 0x00;
	assert_int_equal(tc_tlv_parse(b, 4 + 256, &t, &e), TC_OK);
	assert_int_equal(t.len, 256);
	/* 83 00 01 00: leading zero byte, not minimal. */
	memcpy(b, "\x04\x83\x00\x01\x00", 5);
	assert_int_equal(tc_tlv_parse(b, 5 + 256, &t, &e), TC_E_FORMAT);
	assert_int_equal(e.offset, 1);
	assert_string_equal(e.what, "length in the long form is not minimal");
	/* 83 01 00 00 = 65536: valid but more than the input. */
	memcpy(b, "\x04\x83\x01\x00\x00", 5);
	assert_int_equal(tc_tlv_parse(b, 300, &t, &e), TC_E_SHORT);
	assert_string_equal(e.what, "value runs past the end of the input");
}

struct bad_case {
	const char *hex;
	int rc;
	size_t offset;
	const char *what;
};

static void test_tlv_parse_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"", TC_E_SHORT, 0, "input ends where a tag is expected"},
	    {"00 01 00", TC_E_FORMAT, 0, "tag byte 00 or FF (padding) where a tag is expected"},
	    {"FF 00", TC_E_FORMAT, 0, "tag byte 00 or FF (padding) where a tag is expected"},
	    {"5F", TC_E_SHORT, 1, "input ends inside a multi-byte tag"},
	    {"5F 81", TC_E_SHORT, 2, "input ends inside a multi-byte tag"},
	    {"5F 80 01 00", TC_E_FORMAT, 1, "tag number with leading zero bits"},
	    {"5F 81 81 01 00", TC_E_UNSUPPORTED, 0, "tag longer than three bytes"},
	    {"5A", TC_E_SHORT, 1, "input ends before the length"},
	    {"5A 80 00 00", TC_E_UNSUPPORTED, 1, "indefinite length (80) is not supported"},
	    {"5A 84 00 00 00 01 00", TC_E_UNSUPPORTED, 1, "length field of more than three bytes"},
	    {"5A 82 01", TC_E_SHORT, 3, "input ends inside the length field"},
	    {"5A 81 05 0102030405", TC_E_FORMAT, 1, "length in the long form is not minimal"},
	    {"5A 03 0102", TC_E_SHORT, 1, "value runs past the end of the input"},
	};
	uint8_t b[32];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tc_tlv t;
		struct tc_tlv_error e = {99, NULL};
		size_t n = hex(cases[i].hex, b, sizeof(b));
		int rc = tc_tlv_parse(n ? b : NULL, n, &t, &e);
		if (rc != cases[i].rc || e.offset != cases[i].offset ||
		    strcmp(e.what, cases[i].what) != 0)
			fail_msg("case %zu (%s): rc %d at %zu: %s", i, cases[i].hex, rc, e.offset,
			         e.what ? e.what : "(null)");
	}
}

static void test_tlv_iterate_nested(void **state)
{
	uint8_t b[64];
	struct tc_tlv t, inner;
	struct tc_tlv_iter it, sub;
	struct tc_tlv_error e;
	size_t n = hex("70 0C 5F20 04 5441524F 9F36 02 0001  82 01 FF", b, sizeof(b));
	(void)state;
	tc_tlv_iter_init(&it, b, n);
	assert_int_equal(tc_tlv_iter_next(&it, &t, &e), 1);
	assert_int_equal(t.tag, 0x70);
	assert_true(t.constructed);
	tc_tlv_iter_into(&sub, &t);
	assert_int_equal(tc_tlv_iter_next(&sub, &inner, &e), 1);
	assert_int_equal(inner.tag, 0x5F20);
	assert_memory_equal(inner.value, "TARO", 4);
	assert_int_equal(inner.offset, 2);
	assert_int_equal(tc_tlv_iter_next(&sub, &inner, &e), 1);
	assert_int_equal(inner.tag, 0x9F36);
	assert_int_equal(inner.offset, 9);
	assert_int_equal(tc_tlv_iter_next(&sub, &inner, &e), 0);
	assert_int_equal(tc_tlv_iter_next(&it, &t, &e), 1);
	assert_int_equal(t.tag, 0x82);
	assert_int_equal(tc_tlv_iter_next(&it, &t, &e), 0);
	assert_int_equal(tc_tlv_validate(b, n, &e), TC_OK);
	assert_int_equal(tc_tlv_find(b, n, 0x82, &t, &e), 1);
	assert_int_equal(t.value[0], 0xFF);
	assert_int_equal(tc_tlv_find(b, n, 0x5F20, &t, &e), 0); /* nested: not top level */
}

static void test_tlv_validate_errors(void **state)
{
	uint8_t b[64];
	struct tc_tlv_error e;
	struct tc_tlv t;
	(void)state;
	/* Inner object runs past its parent's value (offset counts from the start). */
	size_t n = hex("70 04 5F20 05 41 42 43 44 45", b, sizeof(b));
	assert_int_equal(tc_tlv_validate(b, n, &e), TC_E_SHORT);
	assert_int_equal(e.offset, 4);
	/* Trailing garbage after a good object. */
	n = hex("5A 01 00 5F", b, sizeof(b));
	assert_int_equal(tc_tlv_validate(b, n, &e), TC_E_SHORT);
	assert_int_equal(e.offset, 4);
	assert_int_equal(tc_tlv_find(b, n, 0x5A, &t, &e), TC_E_SHORT);
	/* Nine levels of nesting. */
	n = hex("70 10 70 0E 70 0C 70 0A 70 08 70 06 70 04 70 02 70 00", b, sizeof(b));
	assert_int_equal(tc_tlv_validate(b, n, &e), TC_E_LIMIT);
	n = hex("70 0E 70 0C 70 0A 70 08 70 06 70 04 70 02 70 00", b, sizeof(b));
	assert_int_equal(tc_tlv_validate(b, n, &e), TC_OK);
}

static void test_tlv_build(void **state)
{
	uint8_t out[512], want[64], big[200];
	struct tc_tlv_builder b;
	(void)state;
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_open(&b, 0x70);
	tc_tlv_put(&b, 0x5F20, "TARO", 4);
	tc_tlv_put_uint(&b, 0x9F36, 1, 2);
	tc_tlv_close(&b);
	tc_tlv_put(&b, 0x82, "\xFF", 1);
	size_t n = hex("70 0C 5F20 04 5441524F 9F36 02 0001 82 01 FF", want, sizeof(want));
	assert_int_equal(tc_tlv_finish(&b), (int)n);
	assert_memory_equal(out, want, n);

	/* A constructed object whose length needs 81 xx: the value moves. */
	memset(big, 0xAB, sizeof(big));
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_open(&b, 0xE1);
	tc_tlv_put(&b, 0xDF8101, big, sizeof(big));
	tc_tlv_close(&b);
	assert_int_equal(tc_tlv_finish(&b), 3 + 3 + 2 + 200);
	assert_memory_equal(out, "\xE1\x81\xCD\xDF\x81\x01\x81\xC8\xAB", 9);
	assert_int_equal(tc_tlv_validate(out, 208, NULL), TC_OK);
}

static void test_tlv_build_errors(void **state)
{
	uint8_t out[8], wide[64];
	struct tc_tlv_builder b;
	(void)state;
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_put(&b, 0x5A, "123456789", 9);
	assert_int_equal(tc_tlv_finish(&b), TC_E_OVERFLOW);
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_put(&b, 0x5F80, "", 0); /* not a valid tag */
	assert_int_equal(tc_tlv_finish(&b), TC_E_INVAL);
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_open(&b, 0x5A); /* primitive tag */
	assert_int_equal(tc_tlv_finish(&b), TC_E_INVAL);
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_open(&b, 0x70);
	assert_int_equal(tc_tlv_finish(&b), TC_E_STATE);
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_close(&b);
	assert_int_equal(tc_tlv_finish(&b), TC_E_STATE);
	tc_tlv_builder_init(&b, out, sizeof(out));
	tc_tlv_put_uint(&b, 0x9F36, 0x10000, 2);
	assert_int_equal(tc_tlv_finish(&b), TC_E_INVAL);
	tc_tlv_builder_init(&b, wide, sizeof(wide));
	for (int i = 0; i < 9; i++)
		tc_tlv_open(&b, 0x70);
	assert_int_equal(tc_tlv_finish(&b), TC_E_LIMIT);
}

static void test_tlv_sizes(void **state)
{
	(void)state;
	assert_int_equal(tc_tlv_tag_size(0x5A), 1);
	assert_int_equal(tc_tlv_tag_size(0x9F36), 2);
	assert_int_equal(tc_tlv_tag_size(0xDF8101), 3);
	assert_int_equal(tc_tlv_tag_size(0), 0);
	assert_int_equal(tc_tlv_tag_size(0x1F), 0);     /* announces more bytes */
	assert_int_equal(tc_tlv_tag_size(0x9F8181), 0); /* announces a fourth byte */
	assert_int_equal(tc_tlv_tag_size(0x5A01), 0);   /* 5A is a one-byte tag */
	assert_int_equal(tc_tlv_len_size(127), 1);
	assert_int_equal(tc_tlv_len_size(128), 2);
	assert_int_equal(tc_tlv_len_size(256), 3);
	assert_int_equal(tc_tlv_len_size(70000), 4);
	assert_int_equal(tc_tlv_len_size(0x1000000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tlv_parse_primitive),
	    cmocka_unit_test(test_tlv_parse_multibyte_tags),
	    cmocka_unit_test(test_tlv_parse_lengths),
	    cmocka_unit_test(test_tlv_parse_errors),
	    cmocka_unit_test(test_tlv_iterate_nested),
	    cmocka_unit_test(test_tlv_validate_errors),
	    cmocka_unit_test(test_tlv_build),
	    cmocka_unit_test(test_tlv_build_errors),
	    cmocka_unit_test(test_tlv_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
