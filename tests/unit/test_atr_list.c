/* test_atr_list.c: every concrete ATR of pcsc-tools' smartcard_list.txt
 * through tc_atr_parse(): each parses, or is refused with a reason, and
 * nothing crashes (run under ASan/UBSan). Then a sample of real ATRs from that
 * list checked field by field against values worked out by hand.
 * The list is read from $TC_SMARTCARD_LIST, else the Debian path; the first
 * test is skipped when the file is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_hex.h"

#define DEFAULT_LIST "/usr/share/pcsc/smartcard_list.txt"
#define NERR         (-TC_ERR_LAST + 1)

struct counts {
	unsigned lines, concrete, not_hex, parsed, refused, with_warnings;
	unsigned by_err[NERR];
	unsigned by_warning[16];
	char example[NERR][200];
};

/* A concrete ATR line: starts with 3B or 3F and has no regular-expression
 * character (the list mixes concrete ATRs and patterns). */
static bool is_concrete(const char *line)
{
	if (strncmp(line, "3B", 2) != 0 && strncmp(line, "3F", 2) != 0)
		return false;
	return strpbrk(line, ".[]*?+(){}|\\^$") == NULL;
}

static void check_line(char *line, struct counts *c)
{
	uint8_t buf[128];
	struct tc_atr a;

	line[strcspn(line, "\r\n")] = '\0';
	int n = tc_hex_decode(line, buf, sizeof(buf), NULL);
	if (n < 0) {
		c->not_hex++;
		return;
	}
	int rc = tc_atr_parse(buf, (size_t)n, &a);
	if (rc == 0) {
		assert_true(a.valid);
		c->parsed++;
		if (a.warnings)
			c->with_warnings++;
		for (unsigned b = 0; b < 16; b++)
			if (a.warnings & (1u << b))
				c->by_warning[b]++;
		return;
	}
	assert_true(rc < 0 && rc >= TC_ERR_LAST);
	assert_false(a.valid);
	if (a.why[0] == '\0')
		fail_msg("refused without a reason: %s", line);
	c->refused++;
	if (c->by_err[-rc]++ == 0)
		(void)snprintf(c->example[-rc], sizeof(c->example[0]), "%.100s -> %.90s", line,
		               a.why);
}

static void print_counts(const struct counts *c)
{
	printf("smartcard_list: %u lines, %u concrete ATRs (%u not hex): %u parsed (%u with "
	       "warnings), %u refused\n",
	       c->lines, c->concrete, c->not_hex, c->parsed, c->with_warnings, c->refused);
	for (int e = 1; e < NERR; e++)
		if (c->by_err[e])
			printf("  refused %-16s %5u  e.g. %s\n", tc_errname(-e), c->by_err[e],
			       c->example[e]);
	for (unsigned b = 0; b < 16; b++)
		if (c->by_warning[b])
			printf("  warning %5u  %s\n", c->by_warning[b],
			       tc_atr_warning_text(1u << b));
}

static void test_atr_list_all_concrete(void **state)
{
	const char *path = getenv("TC_SMARTCARD_LIST");
	struct counts *c = calloc(1, sizeof(*c));
	char line[2048];
	(void)state;

	assert_non_null(c);
	if (!path || !*path)
		path = DEFAULT_LIST;
	FILE *f = fopen(path, "r");
	if (!f) {
		free(c);
		skip();
	}
	while (fgets(line, sizeof(line), f)) {
		c->lines++;
		if (!is_concrete(line))
			continue;
		c->concrete++;
		check_line(line, c);
	}
	fclose(f);
	print_counts(c);
	assert_true(c->concrete > 0);
	assert_int_equal(c->parsed + c->refused + c->not_hex, c->concrete);
	free(c);
}

static void parse(const char *hex, struct tc_atr *a)
{
	uint8_t buf[64];
	int n = tc_hex_decode(hex, buf, sizeof(buf), NULL);
	assert_true(n > 0);
	if (tc_atr_parse(buf, (size_t)n, a) != 0)
		fail_msg("%s refused: %s", hex, a->why);
}

/* Schlumberger Multiflex 3k: 3B 02 14 50.
 * T0 = 02: no interface bytes, K = 2; historical 14 50. No TD1: T=0 only, so
 * no TCK; TA1 absent: Fi 372, Di 1, f(max) 5 MHz; N 0; WI 10. */
static void test_atr_list_multiflex(void **state)
{
	struct tc_atr a;
	(void)state;
	parse("3B 02 14 50", &a);
	assert_false(a.inverse);
	assert_int_equal(a.ngroups, 1);
	assert_int_equal(a.Fi, 372);
	assert_int_equal(a.Di, 1);
	assert_int_equal(a.fmax_khz, 5000);
	assert_int_equal(a.N, 0);
	assert_int_equal(a.WI, 10);
	assert_int_equal(a.protocols, 1);
	assert_int_equal(a.tck, TC_ATR_TCK_ABSENT);
	assert_int_equal(a.nhist, 2);
	assert_memory_equal(a.hist, "\x14\x50", 2);
	/* The list also has "3B 02 14 50 11" (a bank card): one byte after the two
	 * historical bytes while only T=0 is indicated: refused. */
	uint8_t bad[] = {0x3B, 0x02, 0x14, 0x50, 0x11};
	assert_int_equal(tc_atr_parse(bad, sizeof(bad), &a), TC_E_LONG);
	assert_non_null(strstr(a.why, "TCK must be absent"));
}

/* NXP J2A080: 3B F6 18 00 FF 81 31 FE 45 4A 32 41 30 38 30 1B.
 * T0 = F6: TA1 TB1 TC1 TD1, K = 6. TA1 = 18: FI 1 -> Fi 372, f(max) 5 MHz;
 * DI 8 -> Di 12. TB1 = 00. TC1 = FF -> N 255. TD1 = 81: TD2, T=1. TD2 = 31:
 * TA3 TB3, T=1. TA3 = FE -> IFSC 254. TB3 = 45 -> BWI 4, CWI 5. Historical
 * 4A 32 41 30 38 30 = "J2A080". TCK 1B = XOR of F6..30. */
static void test_atr_list_j2a080(void **state)
{
	struct tc_atr a;
	(void)state;
	parse("3B F6 18 00 FF 81 31 FE 45 4A 32 41 30 38 30 1B", &a);
	assert_int_equal(a.Fi, 372);
	assert_int_equal(a.Di, 12);
	assert_int_equal(a.fmax_khz, 5000);
	assert_int_equal(a.N, 255);
	assert_int_equal(a.protocols, 1u << 1);
	assert_int_equal(a.first_protocol, 1);
	assert_int_equal(a.t1.ifsc, 254);
	assert_int_equal(a.t1.bwi, 4);
	assert_int_equal(a.t1.cwi, 5);
	assert_int_equal(a.t1.edc, TC_ATR_EDC_LRC);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
	assert_int_equal(a.nhist, 6);
	assert_memory_equal(a.hist, "J2A080", 6);
	assert_false(a.specific_mode);
}

/* 3B D0 96 FF 81 B1 FE 45 1F C7 EA (a JavaCard in the list).
 * T0 = D0: TA1 TC1 TD1, K = 0. TA1 = 96: FI 9 -> Fi 512, f(max) 5 MHz; DI 6
 * -> Di 32. TC1 = FF -> N 255. TD1 = 81: TD2, T=1. TD2 = B1: TA3 TB3 TD3,
 * T=1. TA3 = FE -> IFSC 254; TB3 = 45 -> BWI 4, CWI 5. TD3 = 1F: TA4, T=15.
 * TA4 = C7: b8-b7 = 11 (clock stop: no preference), b3..b1 = 111 (A, B, C).
 * TCK EA. */
static void test_atr_list_class_indicator(void **state)
{
	struct tc_atr a;
	(void)state;
	parse("3B D0 96 FF 81 B1 FE 45 1F C7 EA", &a);
	assert_int_equal(a.Fi, 512);
	assert_int_equal(a.Di, 32);
	assert_int_equal(a.fmax_khz, 5000);
	assert_int_equal(a.N, 255);
	assert_int_equal(a.protocols, 1u << 1 | 1u << 15);
	assert_int_equal(a.t1.ifsc, 254);
	assert_int_equal(a.t1.bwi, 4);
	assert_int_equal(a.t1.cwi, 5);
	assert_true(a.has_class);
	assert_int_equal(a.classes, 7);
	assert_int_equal(a.clock_stop, 3);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
	assert_int_equal(a.nhist, 0);
}

/* 3F 28 00 00 11 14 00 03 68 90 00 (inverse convention).
 * TS = 3F: inverse. T0 = 28: TB1 only, K = 8. TB1 = 00. Historical
 * 00 11 14 00 03 68 90 00. T=0 only: no TCK; defaults Fi 372, Di 1. */
static void test_atr_list_inverse(void **state)
{
	struct tc_atr a;
	(void)state;
	parse("3F 28 00 00 11 14 00 03 68 90 00", &a);
	assert_true(a.inverse);
	assert_int_equal(a.group[0].present, TC_ATR_HAS_TB);
	assert_int_equal(a.group[0].tb, 0x00);
	assert_false(a.ta1_present);
	assert_int_equal(a.Fi, 372);
	assert_int_equal(a.Di, 1);
	assert_int_equal(a.protocols, 1);
	assert_int_equal(a.tck, TC_ATR_TCK_ABSENT);
	assert_int_equal(a.nhist, 8);
	assert_memory_equal(a.hist, "\x00\x11\x14\x00\x03\x68\x90\x00", 8);
}

/* Latvian eID: 3B 8E 80 01 00 51 00 63 1F 6D 01 73 9F 20 C0 C0 90 00 12.
 * T0 = 8E: TD1, K = 14. TD1 = 80: TD2, T=0. TD2 = 01: T=1, nothing more.
 * Protocols T=0 and T=1, first T=0; T=1 defaults IFSC 32, BWI 4, CWI 13.
 * 14 historical bytes from offset 4. TCK 12. */
static void test_atr_list_t0_t1(void **state)
{
	struct tc_atr a;
	(void)state;
	parse("3B 8E 80 01 00 51 00 63 1F 6D 01 73 9F 20 C0 C0 90 00 12", &a);
	assert_int_equal(a.protocols, 3);
	assert_int_equal(a.first_protocol, 0);
	assert_false(a.ta1_present);
	assert_int_equal(a.t1.ifsc, 32);
	assert_int_equal(a.t1.cwi, 13);
	assert_int_equal(a.hist_offset, 4);
	assert_int_equal(a.nhist, 14);
	assert_int_equal(a.hist[13], 0x00);
	assert_int_equal(a.tck_value, 0x12);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
}

/* Idemia: 3B 9F 95 80 1F C7 80 31 A0 73 B6 A1 00 67 CF 17 13 C4 1D 2D 36 49.
 * T0 = 9F: TA1 TD1, K = 15. TA1 = 95: FI 9 -> Fi 512, f(max) 5 MHz; DI 5 ->
 * Di 16. TD1 = 80: TD2, T=0. TD2 = 1F: TA3, T=15. TA3 = C7: classes A, B, C,
 * clock stop no preference. 15 historical bytes 80 .. 36, TCK 49.
 * 2 + 4 + 15 + 1 = 22 bytes. T=0 WI 10 (TC2 absent). */
static void test_atr_list_t0_class(void **state)
{
	struct tc_atr a;
	(void)state;
	parse("3B 9F 95 80 1F C7 80 31 A0 73 B6 A1 00 67 CF 17 13 C4 1D 2D 36 49", &a);
	assert_int_equal(a.len, 22);
	assert_int_equal(a.Fi, 512);
	assert_int_equal(a.Di, 16);
	assert_int_equal(a.fmax_khz, 5000);
	assert_int_equal(a.WI, 10);
	assert_int_equal(a.protocols, 1u | 1u << 15);
	assert_int_equal(a.first_protocol, 0);
	assert_true(a.has_class);
	assert_int_equal(a.classes, 7);
	assert_int_equal(a.clock_stop, 3);
	assert_int_equal(a.nhist, 15);
	assert_int_equal(a.hist[0], 0x80);
	assert_int_equal(a.hist[14], 0x36);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_atr_list_all_concrete),
	    cmocka_unit_test(test_atr_list_multiflex),
	    cmocka_unit_test(test_atr_list_j2a080),
	    cmocka_unit_test(test_atr_list_class_indicator),
	    cmocka_unit_test(test_atr_list_inverse),
	    cmocka_unit_test(test_atr_list_t0_t1),
	    cmocka_unit_test(test_atr_list_t0_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
