/* test_atr.c: ATR parsing and building (protocol/tc_atr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_hex.h"

/* Parses hex text; when add_tck, appends the XOR of T0..end as TCK. */
static int parse_hex_tck(const char *hex, bool add_tck, struct tc_atr *a)
{
	uint8_t buf[64];
	int n = tc_hex_decode(hex, buf, sizeof(buf) - 1, NULL);
	assert_true(n >= 0);
	if (add_tck) {
		uint8_t x = 0;
		for (int i = 1; i < n; i++)
			x ^= buf[i];
		buf[n++] = x;
	}
	/* An exact-size heap copy, so that ASan sees any read beyond len. */
	uint8_t *copy = malloc((size_t)n + 1);
	assert_non_null(copy);
	memcpy(copy, buf, (size_t)n);
	int rc = tc_atr_parse(copy, (size_t)n, a);
	free(copy);
	return rc;
}

static int parse_hex(const char *hex, struct tc_atr *a)
{
	return parse_hex_tck(hex, false, a);
}

static void assert_refused(const char *hex, int err, const char *why_part)
{
	struct tc_atr a;
	int rc = parse_hex(hex, &a);
	if (rc != err || strstr(a.why, why_part) == NULL)
		fail_msg("%s: rc %d (%s) why \"%s\"; wanted %d with \"%s\"", hex, rc,
		         tc_errname(rc), a.why, err, why_part);
	assert_false(a.valid);
	assert_int_equal(a.err, err);
}

/* --- transmission factors: the whole table of ISO7816.md through TA1 ---- */

static void test_atr_fi_di_table(void **state)
{
	static const unsigned fi[16] = {372, 372, 558, 744,  1116, 1488, 1860, 0,
	                                0,   512, 768, 1024, 1536, 2048, 0,    0};
	static const unsigned fmax[16] = {4000, 5000, 6000, 8000,  12000, 16000, 20000, 0,
	                                  0,    5000, 7500, 10000, 15000, 20000, 0,     0};
	static const unsigned di[16] = {0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0};
	(void)state;
	for (unsigned f = 0; f < 16; f++) {
		for (unsigned d = 0; d < 16; d++) {
			uint8_t atr[3] = {0x3B, 0x10, (uint8_t)(f << 4 | d)};
			struct tc_atr a;
			assert_int_equal(tc_atr_parse(atr, 3, &a), 0);
			assert_true(a.valid);
			assert_true(a.ta1_present);
			assert_int_equal(a.fi_nibble, f);
			assert_int_equal(a.di_nibble, d);
			assert_int_equal(a.Fi, fi[f]);
			assert_int_equal(a.fmax_khz, fmax[f]);
			assert_int_equal(a.Di, di[d]);
			assert_int_equal((a.warnings & TC_ATR_W_FI_RFU) != 0, fi[f] == 0);
			assert_int_equal((a.warnings & TC_ATR_W_DI_RFU) != 0, di[d] == 0);
			assert_int_equal(a.tck, TC_ATR_TCK_ABSENT);
		}
	}
}

static void test_atr_defaults_without_ta1(void **state)
{
	struct tc_atr a;
	(void)state;
	assert_int_equal(parse_hex("3B 00", &a), 0);
	assert_false(a.ta1_present);
	assert_int_equal(a.Fi, 372);
	assert_int_equal(a.Di, 1);
	assert_int_equal(a.fmax_khz, 5000);
	assert_int_equal(a.N, 0);
	assert_int_equal(a.WI, 10);
	assert_int_equal(a.protocols, 1);
	assert_int_equal(a.first_protocol, 0);
	assert_false(a.specific_mode);
	assert_false(a.has_class);
	assert_int_equal(a.tck, TC_ATR_TCK_ABSENT);
	assert_int_equal(a.nhist, 0);
	assert_string_equal(a.why, "");
}

/* --- TS and the conventions ---------------------------------------------- */

static void test_atr_ts(void **state)
{
	struct tc_atr a;
	(void)state;
	assert_int_equal(parse_hex("3B 00", &a), 0);
	assert_false(a.inverse);
	assert_int_equal(parse_hex("3F 00", &a), 0);
	assert_true(a.inverse);
	assert_refused("3C 00", TC_E_FORMAT, "TS 0x3C is neither 0x3B (direct) nor 0x3F (inverse)");
	assert_refused("03 00", TC_E_FORMAT, "tc_inverse_byte");
	assert_refused("3B", TC_E_SHORT, "T0 is missing");
	assert_int_equal(tc_atr_parse((const uint8_t *)"", 0, &a), TC_E_SHORT);
	assert_int_equal(tc_atr_parse(NULL, 0, NULL), TC_E_INVAL);
}

static void test_atr_inverse_byte(void **state)
{
	(void)state;
	assert_int_equal(tc_inverse_byte(0x03), 0x3F);
	assert_int_equal(tc_inverse_byte(0x3F), 0x03);
	assert_int_equal(tc_inverse_byte(0xFF), 0x00);
	assert_int_equal(tc_inverse_byte(0x80), 0xFE); /* ~0x80 = 0x7F, reversed = 0xFE */
	for (unsigned v = 0; v < 256; v++)
		assert_int_equal(tc_inverse_byte(tc_inverse_byte((uint8_t)v)), v);
}

/* --- each interface byte --------------------------------------------------- */

static void test_atr_interface_bytes(void **state)
{
	struct tc_atr a;
	(void)state;
	/* T0=F0: TA1 TB1 TC1 TD1; TD1=00 (T=0, nothing more). */
	assert_int_equal(parse_hex("3B F0 96 00 FF 00", &a), 0);
	assert_int_equal(a.ngroups, 2);
	assert_int_equal(a.group[0].present, 0xF);
	assert_int_equal(a.group[0].ta, 0x96);
	assert_int_equal(a.group[0].tb, 0x00);
	assert_int_equal(a.group[0].tc, 0xFF);
	assert_int_equal(a.group[0].td, 0x00);
	assert_int_equal(a.group[1].present, 0);
	assert_int_equal(a.Fi, 512);
	assert_int_equal(a.Di, 32);
	assert_int_equal(a.N, 255);
	assert_int_equal(a.protocols, 1);
	assert_int_equal(a.tck, TC_ATR_TCK_ABSENT);
	/* TC2 = WI; TD1 = 0x40 announces TC2, T=0. */
	assert_int_equal(parse_hex("3B 80 40 32", &a), 0);
	assert_int_equal(a.WI, 0x32);
	assert_int_equal(a.group[1].offset, 3);
	assert_refused("3B 80 40 00", TC_E_FORMAT, "TC2 is 0x00");
	/* TB1 is kept raw and otherwise ignored. */
	assert_int_equal(parse_hex("3B 20 25", &a), 0);
	assert_int_equal(a.group[0].tb, 0x25);
}

static void test_atr_class_indicator(void **state)
{
	struct tc_atr a;
	(void)state;
	/* TD1 80: TD2, T=0; TD2 1F: TA3, T=15; TA3 C3: clock stop 11, classes A+B.
	 * T=15 with T=0 makes the TCK mandatory. */
	assert_int_equal(parse_hex_tck("3B 80 80 1F C3", true, &a), 0);
	assert_true(a.has_class);
	assert_int_equal(a.classes, TC_ATR_CLASS_A | TC_ATR_CLASS_B);
	assert_int_equal(a.clock_stop, 3);
	assert_int_equal(a.protocols, 1u | 1u << 15);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
	/* Without TCK, T=15 with T=0: short. */
	assert_refused("3B 80 80 1F C3", TC_E_SHORT, "and a TCK");
	/* Clock stop 01 (L), class C only. */
	assert_int_equal(parse_hex_tck("3B 80 80 1F 44", true, &a), 0);
	assert_int_equal(a.classes, TC_ATR_CLASS_C);
	assert_int_equal(a.clock_stop, 1);
	/* Only the first TAi after T=15 is the class indicator. */
	assert_int_equal(parse_hex_tck("3B 80 80 9F 02 1F 07", true, &a), 0);
	assert_int_equal(a.classes, TC_ATR_CLASS_B);
	/* TA2 after TD1 = T=15 is TA2 (specific mode), not the class indicator. */
	assert_int_equal(parse_hex_tck("3B 80 1F 01", true, &a), 0);
	assert_false(a.has_class);
	assert_true(a.specific_mode);
	assert_true(a.warnings & TC_ATR_W_T15_IN_TD1);
	/* No class bit. */
	assert_int_equal(parse_hex_tck("3B 80 80 1F 00", true, &a), 0);
	assert_true(a.warnings & TC_ATR_W_NO_CLASS);
}

static void test_atr_tck(void **state)
{
	struct tc_atr a;
	(void)state;
	/* 3B 80 01 + TCK: TD1 = 01 (T=1). XOR 80^01 = 81. */
	assert_int_equal(parse_hex("3B 80 01 81", &a), 0);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
	assert_int_equal(a.tck_value, 0x81);
	assert_int_equal(a.protocols, 2);
	assert_int_equal(a.first_protocol, 1);
	assert_refused("3B 80 01 12", TC_E_CHECKSUM,
	               "TCK is 0x12 but XOR of T0..TCK gives 0x93 (TCK should be 0x81)");
	assert_int_equal(parse_hex("3B 80 01 12", &a), TC_E_CHECKSUM);
	assert_int_equal(a.tck, TC_ATR_TCK_BAD);
	assert_int_equal(a.first_protocol, 1); /* decoded all the same */
	assert_refused("3B 80 01", TC_E_SHORT, "and a TCK");
	/* Only T=0, explicitly: no TCK. */
	assert_int_equal(parse_hex("3B 80 00", &a), 0);
	assert_int_equal(a.tck, TC_ATR_TCK_ABSENT);
	assert_refused("3B 80 00 80", TC_E_LONG, "TCK must be absent");
	/* T=0 then T=1: TCK required. 80^80^01 = 01. */
	assert_int_equal(parse_hex("3B 80 80 01 01", &a), 0);
	assert_int_equal(a.protocols, 3);
}

static void test_atr_truncated_and_long(void **state)
{
	uint8_t buf[40];
	struct tc_atr a;
	(void)state;
	/* T0=93: TA1 TD1, K=3; TD1=F1: TA2 TB2 TC2 TD2, T=1; 4 bytes only. */
	assert_refused("3B 93 11 F1", TC_E_SHORT,
	               "ATR ends after 4 bytes but T0/TD1 announce 6 interface bytes and 3 "
	               "historical bytes and a TCK");
	assert_refused("3B 95 13 81 01 80 73 FF", TC_E_SHORT, "ends after 8 bytes");
	assert_refused("3B 02 14", TC_E_SHORT, "ends after 3 bytes but T0 announce 0 interface");
	/* More than K historical bytes. */
	assert_refused("3B 02 14 50 77 78", TC_E_LONG, "ATR has 6 bytes, 2 more than the 4");
	/* Structure over 33 bytes: T0=FF then TD1=FF... */
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x3B;
	buf[1] = 0x8F;
	for (unsigned i = 2; i < 40; i++)
		buf[i] = 0x80;
	assert_int_equal(tc_atr_parse(buf, sizeof(buf), &a), TC_E_LONG);
	assert_non_null(strstr(a.why, "more than the 33"));
	/* 15 historical bytes plus 17 interface bytes: 34 bytes announced. */
	assert_refused("3B FF 11 00 00 F0 11 00 00 F0 11 00 00 F0 11 00 00 F0 00", TC_E_LONG,
	               "more than the 33");
	/* A valid 33-byte ATR: TS T0, 15 interface bytes, 15 historical, TCK. */
	assert_int_equal(parse_hex_tck("3B FF 11 00 00 F1 11 00 01 F1 11 00 00 71 11 00 00 "
	                               "41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F",
	                               true, &a),
	                 0);
	assert_int_equal(a.len, 33);
	assert_int_equal(a.nhist, 15);
	assert_memory_equal(a.hist, "ABCDEFGHIJKLMNO", 15);
}

static void test_atr_never_reads_beyond_len(void **state)
{
	static const char *const samples[] = {
	    "3B FF 11 00 00 F1 11 00 00 F1 11 00 00 F1 11 00 01 41 42 43 44 45 46 47 48 49 4A "
	    "4B 4C 4D 4E 4F 00",
	    "3B 9F 95 80 1F C7 80 31 E0 73 FE 21 13 57 86 81 06 86 62 3E", "3B 80 80 1F C3 5C"};
	(void)state;
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		uint8_t buf[64];
		int n = tc_hex_decode(samples[s], buf, sizeof(buf), NULL);
		assert_true(n > 0);
		for (int len = 0; len <= n; len++) {
			uint8_t *copy = malloc((size_t)len + 1);
			assert_non_null(copy);
			memcpy(copy, buf, (size_t)len);
			struct tc_atr a;
			int rc = tc_atr_parse(copy, (size_t)len, &a);
			free(copy);
			if (rc != 0)
				assert_true(a.why[0] != '\0');
		}
	}
}

static void test_atr_specific_mode(void **state)
{
	struct tc_atr a;
	(void)state;
	/* TA1=18 TD1=10 TA2=81: specific T=1, cannot change, TA1 parameters. Then
	 * TCK since T=0 is... TD1 says T=0; TA2 asks T=1 not offered: warning. */
	assert_int_equal(parse_hex("3B 90 18 10 81", &a), 0);
	assert_true(a.specific_mode);
	assert_false(a.can_change_mode);
	assert_false(a.implicit_params);
	assert_int_equal(a.specific_protocol, 1);
	assert_true(a.warnings & TC_ATR_W_TA2_NOT_OFFER);
	/* TA2 = 10: T=0, can change, implicit parameters. */
	assert_int_equal(parse_hex("3B 90 96 10 10", &a), 0);
	assert_true(a.specific_mode);
	assert_true(a.can_change_mode);
	assert_true(a.implicit_params);
	assert_int_equal(a.specific_protocol, 0);
	assert_int_equal(a.warnings, 0);
	/* TA2 RFU bits. */
	assert_int_equal(parse_hex("3B 90 96 10 60", &a), 0);
	assert_true(a.warnings & TC_ATR_W_TA2_RFU_BITS);
}

static void test_atr_t1_parameters(void **state)
{
	struct tc_atr a;
	(void)state;
	/* TD1 81: TD2, T=1; TD2 71: TA3 TB3 TC3, T=1; IFSC FE, BWI 4 CWI 5, CRC. */
	assert_int_equal(parse_hex_tck("3B 80 81 71 FE 45 01", true, &a), 0);
	assert_int_equal(a.t1.ifsc, 254);
	assert_int_equal(a.t1.bwi, 4);
	assert_int_equal(a.t1.cwi, 5);
	assert_int_equal(a.t1.edc, TC_ATR_EDC_CRC);
	assert_int_equal(a.protocols, 2);
	/* Defaults when absent. */
	assert_int_equal(parse_hex_tck("3B 80 01", true, &a), 0);
	assert_int_equal(a.t1.ifsc, 32);
	assert_int_equal(a.t1.bwi, 4);
	assert_int_equal(a.t1.cwi, 13);
	assert_int_equal(a.t1.edc, TC_ATR_EDC_LRC);
	/* IFSC 00 and FF are invalid. */
	assert_int_equal(parse_hex_tck("3B 80 81 11 00", true, &a), TC_E_FORMAT);
	assert_non_null(strstr(a.why, "TA3 is 0x00"));
	assert_int_equal(parse_hex_tck("3B 80 81 11 FF", true, &a), TC_E_FORMAT);
	assert_non_null(strstr(a.why, "IFSC must be 1..254"));
	/* BWI RFU. */
	assert_int_equal(parse_hex_tck("3B 80 81 21 A5", true, &a), 0);
	assert_true(a.warnings & TC_ATR_W_BWI_RFU);
	/* TA2 after T=1 in TD1 is not IFSC (i must be >= 3). */
	assert_int_equal(parse_hex_tck("3B 80 11 01", true, &a), 0);
	assert_int_equal(a.t1.ifsc, 32);
	assert_true(a.specific_mode);
}

static void test_atr_protocol_warnings(void **state)
{
	struct tc_atr a;
	(void)state;
	assert_int_equal(parse_hex_tck("3B 80 81 00", true, &a), 0);
	assert_true(a.warnings & TC_ATR_W_PROTO_ORDER);
	assert_int_equal(parse_hex_tck("3B 80 05", true, &a), 0);
	assert_true(a.warnings & TC_ATR_W_PROTO_RFU);
	assert_int_equal(parse_hex_tck("3B 80 0E", true, &a), 0);
	assert_int_equal(a.warnings, 0);
	for (uint32_t bit = 1; bit <= TC_ATR_W_LAST; bit <<= 1)
		assert_true(tc_atr_warning_text(bit)[0] != '\0');
}

/* --- build / parse round trips --------------------------------------------- */

static void check_round_trip(const struct tc_atr_spec *s)
{
	uint8_t buf[TC_ATR_MAX_LEN];
	struct tc_atr a;
	int n = tc_atr_build(s, buf, sizeof(buf));
	assert_true(n > 0);
	int rc = tc_atr_parse(buf, (size_t)n, &a);
	if (rc != 0)
		fail_msg("round trip refused: %s", a.why);
	assert_int_equal(a.inverse, s->inverse);
	assert_int_equal(a.ta1_present, s->ta1_present);
	if (s->ta1_present) {
		assert_int_equal(a.fi_nibble, s->fi_nibble);
		assert_int_equal(a.di_nibble, s->di_nibble);
	}
	assert_int_equal(a.N, s->tc1_present ? s->N : 0);
	assert_int_equal(a.WI, s->tc2_present ? s->WI : 10);
	assert_int_equal(a.specific_mode, s->ta2_present);
	if (s->ta2_present) {
		assert_int_equal(a.can_change_mode, !s->ta2_cannot_change);
		assert_int_equal(a.implicit_params, s->ta2_implicit);
		assert_int_equal(a.specific_protocol, s->ta2_protocol);
	}
	uint16_t p = s->protocols ? s->protocols : 1;
	assert_int_equal(a.protocols & 0x7FFF, p);
	assert_int_equal(a.has_class, s->has_class);
	if (s->has_class) {
		assert_int_equal(a.classes, s->classes);
		assert_int_equal(a.clock_stop, s->clock_stop);
	}
	if (p & 2) {
		assert_int_equal(a.t1.ifsc, s->ifsc ? s->ifsc : 32);
		assert_int_equal(a.t1.bwi, s->bwi);
		assert_int_equal(a.t1.cwi, s->cwi);
		assert_int_equal(a.t1.edc, s->edc_crc ? TC_ATR_EDC_CRC : TC_ATR_EDC_LRC);
	}
	assert_int_equal(a.tck, (p != 1 || s->has_class) ? TC_ATR_TCK_OK : TC_ATR_TCK_ABSENT);
	assert_int_equal(a.nhist, s->nhist);
	assert_memory_equal(a.hist, s->hist, s->nhist);
}

static void test_atr_build_round_trip(void **state)
{
	static const struct tc_atr_spec specs[] = {
	    {0},
	    {.inverse = true, .ta1_present = true, .fi_nibble = 9, .di_nibble = 5},
	    {.tc1_present = true, .N = 255, .tc2_present = true, .WI = 0x80},
	    {.ta2_present = true, .ta2_protocol = 0, .ta2_implicit = true},
	    {.ta2_present = true, .ta2_protocol = 1, .ta2_cannot_change = true, .protocols = 3},
	    {.has_class = true, .classes = 7, .clock_stop = 2},
	    {.protocols = 3, .ifsc = 254, .bwi = 4, .cwi = 5, .edc_crc = true},
	    {.protocols = 2, .ifsc = 32, .bwi = 7, .cwi = 13, .has_class = true, .classes = 3},
	    {.protocols = 2, .ta1_present = true, .fi_nibble = 1, .di_nibble = 8},
	    {.ta1_present = true,
	     .fi_nibble = 0xD,
	     .di_nibble = 7,
	     .tc1_present = true,
	     .N = 2,
	     .tc2_present = true,
	     .WI = 1,
	     .protocols = 3,
	     .ifsc = 1,
	     .bwi = 9,
	     .cwi = 0,
	     .has_class = true,
	     .classes = 4,
	     .clock_stop = 1,
	     .hist = {0x80, 0x31, 0x80, 0x65, 0xB0, 0x85, 0x03, 0x00, 0xEF, 0x12, 0x0F, 0xFF, 0x82,
	              0x90, 0x00},
	     .nhist = 15},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		check_round_trip(&specs[i]);
}

static void test_atr_build_bytes(void **state)
{
	uint8_t buf[TC_ATR_MAX_LEN];
	struct tc_atr_spec s = {
	    .ta1_present = true, .fi_nibble = 9, .di_nibble = 5, .nhist = 2, .hist = {0x41, 0x42}};
	static const uint8_t want[] = {0x3B, 0x12, 0x95, 0x41, 0x42};
	(void)state;
	assert_int_equal(tc_atr_build(&s, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, want, 5);
	assert_int_equal(tc_atr_build(&s, buf, 4), TC_E_OVERFLOW);
	/* T=0 and T=1: 3B 80 80 01 TCK=01. */
	struct tc_atr_spec t = {.protocols = 3, .ifsc = 32, .bwi = 4, .cwi = 13};
	static const uint8_t want2[] = {0x3B, 0x80, 0x80, 0x31, 0x20, 0x4D, 0x5C};
	assert_int_equal(tc_atr_build(&t, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, want2, 7);
	/* Deliberately wrong TCK. */
	t.bad_tck = true;
	int n = tc_atr_build(&t, buf, sizeof(buf));
	struct tc_atr a;
	assert_int_equal(tc_atr_parse(buf, (size_t)n, &a), TC_E_CHECKSUM);
	assert_int_equal(a.tck, TC_ATR_TCK_BAD);
	/* Impossible specs. */
	struct tc_atr_spec bad = {.tc2_present = true, .WI = 0};
	assert_int_equal(tc_atr_build(&bad, buf, sizeof(buf)), TC_E_INVAL);
	struct tc_atr_spec bad2 = {.protocols = 2, .ifsc = 255};
	assert_int_equal(tc_atr_build(&bad2, buf, sizeof(buf)), TC_E_INVAL);
	struct tc_atr_spec bad3 = {.protocols = 4};
	assert_int_equal(tc_atr_build(&bad3, buf, sizeof(buf)), TC_E_INVAL);
	struct tc_atr_spec bad4 = {.nhist = 16};
	assert_int_equal(tc_atr_build(&bad4, buf, sizeof(buf)), TC_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_atr_fi_di_table),
	    cmocka_unit_test(test_atr_defaults_without_ta1),
	    cmocka_unit_test(test_atr_ts),
	    cmocka_unit_test(test_atr_inverse_byte),
	    cmocka_unit_test(test_atr_interface_bytes),
	    cmocka_unit_test(test_atr_class_indicator),
	    cmocka_unit_test(test_atr_tck),
	    cmocka_unit_test(test_atr_truncated_and_long),
	    cmocka_unit_test(test_atr_never_reads_beyond_len),
	    cmocka_unit_test(test_atr_specific_mode),
	    cmocka_unit_test(test_atr_t1_parameters),
	    cmocka_unit_test(test_atr_protocol_warnings),
	    cmocka_unit_test(test_atr_build_round_trip),
	    cmocka_unit_test(test_atr_build_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
