/* test_pps.c: PPS build, parse, answer check and decision (protocol/tc_pps.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_pps.h"
#include "tc_timing.h"

static size_t hex(const char *text, uint8_t *buf, size_t cap)
{
	int n = tc_hex_decode(text, buf, cap, NULL);
	assert_true(n >= 0);
	return (size_t)n;
}

static void test_pps_build(void **state)
{
	uint8_t buf[TC_PPS_MAX_LEN];
	struct tc_pps req = {.protocol = 0, .has_pps1 = true, .pps1 = 0x95};
	(void)state;
	/* The ISO7816.md example: FF 10 95 7A (FF^10^95 = 7A). */
	assert_int_equal(tc_pps_build(&req, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "\xFF\x10\x95\x7A", 4);
	struct tc_pps t1 = {.protocol = 1};
	assert_int_equal(tc_pps_build(&t1, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "\xFF\x01\xFE", 3);
	struct tc_pps all = {.protocol = 1,
	                     .has_pps1 = true,
	                     .pps1 = 0x18,
	                     .has_pps2 = true,
	                     .pps2 = 0x02,
	                     .has_pps3 = true,
	                     .pps3 = 0x03};
	/* FF^71 = 8E, ^18 = 96, ^02 = 94, ^03 = 97 */
	assert_int_equal(tc_pps_build(&all, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "\xFF\x71\x18\x02\x03\x97", 6);
	assert_int_equal(tc_pps_build(&all, buf, 5), TC_E_OVERFLOW);
	struct tc_pps bad = {.protocol = 15};
	assert_int_equal(tc_pps_build(&bad, buf, sizeof(buf)), TC_E_INVAL);
}

static void expect_parse(const char *text, int rc, const char *why_part)
{
	uint8_t buf[16];
	struct tc_pps p;
	char why[TC_PPS_WHY_LEN] = "";
	size_t n = hex(text, buf, sizeof(buf));
	int got = tc_pps_parse_request(buf, n, &p, why, sizeof(why));
	if (got != rc || (why_part && strstr(why, why_part) == NULL))
		fail_msg("%s: rc %s why \"%s\", wanted %s \"%s\"", text, tc_errname(got), why,
		         tc_errname(rc), why_part ? why_part : "");
}

static void test_pps_parse_request(void **state)
{
	uint8_t buf[8];
	struct tc_pps p;
	(void)state;
	size_t n = hex("FF 10 95 7A", buf, sizeof(buf));
	assert_int_equal(tc_pps_parse_request(buf, n, &p, NULL, 0), 0);
	assert_int_equal(p.protocol, 0);
	assert_true(p.has_pps1);
	assert_int_equal(p.pps1, 0x95);
	assert_false(p.has_pps2);
	expect_parse("FF 01 FE", 0, NULL);
	expect_parse("FF 71 18 02 03 97", 0, NULL);
	expect_parse("", TC_E_SHORT, "empty");
	expect_parse("FE 10 95 7A", TC_E_FORMAT, "PPSS is 0xFE");
	expect_parse("FF", TC_E_SHORT, "PPS0 is missing");
	expect_parse("FF 90 95 FA", TC_E_FORMAT, "b8");
	expect_parse("FF 0F F0", TC_E_FORMAT, "T=15");
	expect_parse("FF 10 95", TC_E_SHORT, "announces 4");
	expect_parse("FF 10 95 7A 00", TC_E_LONG, "announces 4");
	expect_parse("FF 10 95 7B", TC_E_CHECKSUM, "PCK should be 0x7A");
	expect_parse("FF 10 75 9A", TC_E_UNSUPPORTED, "RFU Fi");
	expect_parse("FF 10 9A 75", TC_E_UNSUPPORTED, "RFU Di");
}

static void expect_answer(const struct tc_pps *req, const char *ans, int rc, const char *why_part,
                          struct tc_pps_result *res)
{
	uint8_t buf[16];
	char why[TC_PPS_WHY_LEN] = "";
	size_t n = hex(ans, buf, sizeof(buf));
	int got = tc_pps_check_answer(req, buf, n, res, why, sizeof(why));
	if (got != rc || strstr(why, why_part) == NULL)
		fail_msg("answer %s: rc %s why \"%s\", wanted %s \"%s\"", ans, tc_errname(got), why,
		         tc_errname(rc), why_part);
}

static void test_pps_answer(void **state)
{
	struct tc_pps req = {.protocol = 0, .has_pps1 = true, .pps1 = 0x95};
	struct tc_pps_result res;
	(void)state;
	expect_answer(&req, "FF 10 95 7A", 0, "accepted", &res);
	assert_true(res.pps1_accepted);
	assert_int_equal(res.protocol, 0);
	assert_int_equal(res.Fi, 512);
	assert_int_equal(res.Di, 16);
	/* PPS1 left out: Fd/Dd stay. */
	expect_answer(&req, "FF 00 FF", 0, "defaults stay", &res);
	assert_false(res.pps1_accepted);
	assert_int_equal(res.Fi, 372);
	assert_int_equal(res.Di, 1);
	expect_answer(&req, "FF 11 95 7B", TC_E_PPS_FAILED, "answer selects T=1", &res);
	expect_answer(&req, "FF 10 94 7B", TC_E_PPS_FAILED, "PPS1 is 0x94", &res);
	expect_answer(&req, "FF 10 95 7B", TC_E_CHECKSUM, "PCK", &res);
	expect_answer(&req, "FF 10 95 7A 7A", TC_E_LONG, "5 bytes", &res);
	expect_answer(&req, "FF 10 95", TC_E_SHORT, "ends after 3", &res);
	expect_answer(&req, "FF", TC_E_SHORT, "PPS0", &res);
	expect_answer(&req, "", TC_E_SHORT, "empty", &res);
	expect_answer(&req, "FF 30 95 01 5B", TC_E_PPS_FAILED, "PPS2 0x01 that was not asked",
	              &res);
	/* PPS2 asked, left out in the answer: fine. */
	struct tc_pps req2 = {.protocol = 1, .has_pps1 = true, .pps1 = 0x18, .has_pps2 = true};
	expect_answer(&req2, "FF 11 18 F6", 0, "accepted", &res);
	assert_int_equal(res.protocol, 1);
	assert_int_equal(res.Di, 12);
	expect_answer(&req2, "FF 31 18 01 D7", TC_E_PPS_FAILED, "PPS2 is 0x01", &res);
	/* An answer with PPS1 when none was asked. */
	struct tc_pps req3 = {.protocol = 1};
	expect_answer(&req3, "FF 11 95 7B", TC_E_PPS_FAILED, "PPS1 0x95 that was not asked", &res);
}

/* --- decision ---------------------------------------------------------------- */

struct decide_case {
	const char *name;
	const char *atr; /* hex, TCK included where needed */
	struct tc_reader_caps caps;
	int rc;
	bool send;
	int pps1; /* -1: no PPS1 */
	unsigned protocol, Fi, Di, clock_khz;
};

#define ALL_DI 0x03FEu /* DI 1..9 */

static const struct decide_case decide_cases[] = {
    /* TA1 95: Fi 512 Di 16, f(max) 5 MHz; reader up to 4 MHz: clock capped by the reader. */
    {"ta1 95, reader 4 MHz",
     "3B 10 95",
     {4000, 3580, 0, ALL_DI, 0, {0}, 1, 0, {0}},
     0,
     true,
     0x95,
     0,
     512,
     16,
     4000},
    /* Reader up to 20 MHz: f(max) 5 MHz caps the clock. */
    {"ta1 95, fmax caps",
     "3B 10 95",
     {20000, 4000, 0, ALL_DI, 0, {0}, 3, 0, {0}},
     0,
     true,
     0x95,
     0,
     512,
     16,
     5000},
    /* Reader cannot do Di 16 (DI 1..4 only): largest below is Di 8 (DI 4). */
    {"reader without Di 16",
     "3B 10 95",
     {5000, 4000, 0, 0x1E, 0, {0}, 1, 0, {0}},
     0,
     true,
     0x94,
     0,
     512,
     8,
     5000},
    /* TA1 96 (Di 32) at 5 MHz is 312500 baud; max 200000: Di 20 gives 195312. */
    {"baud cap",
     "3B 10 96",
     {5000, 4000, 200000, ALL_DI, 0, {0}, 1, 0, {0}},
     0,
     true,
     0x99,
     0,
     512,
     20,
     5000},
    /* No TA1: no PPS, defaults, default clock. */
    {"no ta1", "3B 00", {5000, 3580, 0, ALL_DI, 0, {0}, 1, 0, {0}}, 0, false, -1, 0, 372, 1, 3580},
    /* TA1 11 is the default pair: nothing to negotiate. */
    {"ta1 11",
     "3B 10 11",
     {5000, 4000, 0, ALL_DI, 0, {0}, 1, 0, {0}},
     0,
     false,
     -1,
     0,
     372,
     1,
     4000},
    /* TA1 13 but the reader only does Di 1: the pick is the default pair. */
    {"reader Di 1 only",
     "3B 10 13",
     {5000, 4000, 0, 0x02, 0, {0}, 1, 0, {0}},
     0,
     false,
     -1,
     0,
     372,
     1,
     4000},
    /* Pairs list: card 96, reader has 11 94 95: asks 95. */
    {"pairs",
     "3B 10 96",
     {5000, 4000, 0, 0, 3, {0x11, 0x94, 0x95}, 1, 0, {0}},
     0,
     true,
     0x95,
     0,
     512,
     16,
     5000},
    /* Pairs list without the card's FI: defaults. */
    {"pairs without FI",
     "3B 10 96",
     {5000, 4000, 0, 0, 2, {0x11, 0x18}, 1, 0, {0}},
     0,
     false,
     -1,
     0,
     372,
     1,
     4000},
    /* Card T=0 then T=1, no TA1; reader only T=1: PPS for the protocol alone. */
    {"protocol only",
     "3B 80 80 01 01",
     {5000, 4000, 0, ALL_DI, 0, {0}, 2, 0, {0}},
     0,
     true,
     -1,
     1,
     372,
     1,
     4000},
    /* Reader supports no offered protocol. */
    {"no protocol",
     "3B 80 01 81",
     {5000, 4000, 0, ALL_DI, 0, {0}, 1, 0, {0}},
     TC_E_UNSUPPORTED,
     false,
     -1,
     0,
     372,
     1,
     4000},
    /* Specific mode T=0 with TA1 96: no PPS, TA1 in force at min(f(max), reader). */
    {"specific",
     "3B 90 96 10 00",
     {4000, 4000, 0, ALL_DI, 0, {0}, 1, 0, {0}},
     0,
     false,
     -1,
     0,
     512,
     32,
     4000},
    /* Specific mode, implicit parameters: defaults. */
    {"specific implicit",
     "3B 90 96 10 10",
     {4000, 4000, 0, ALL_DI, 0, {0}, 1, 0, {0}},
     0,
     false,
     -1,
     0,
     372,
     1,
     4000},
    /* Specific mode at a Di the reader cannot do. */
    {"specific unsupported",
     "3B 90 96 10 00",
     {4000, 4000, 0, 0x1E, 0, {0}, 1, 0, {0}},
     TC_E_UNSUPPORTED,
     false,
     -1,
     0,
     512,
     32,
     0},
    /* TA1 with RFU DI: unusable, defaults stay. */
    {"rfu di",
     "3B 10 9F",
     {5000, 4000, 0, ALL_DI, 0, {0}, 1, 0, {0}},
     0,
     false,
     -1,
     0,
     372,
     1,
     4000},
    /* T=1 card, TA1 18 (Di 12), reader with everything. */
    {"t1 ta1 18",
     "3B 90 18 81 01 08",
     {5000, 4000, 0, ALL_DI, 0, {0}, 3, 0, {0}},
     0,
     true,
     0x18,
     1,
     372,
     12,
     5000},
};

static void run_decide_case(const struct decide_case *c)
{
	uint8_t buf[40];
	struct tc_atr atr;
	struct tc_pps_decision d;
	size_t n = hex(c->atr, buf, sizeof(buf));
	if (tc_atr_parse(buf, n, &atr) != 0)
		fail_msg("%s: ATR refused: %s", c->name, atr.why);
	int rc = tc_pps_decide(&atr, &c->caps, &d);
	if (rc != c->rc)
		fail_msg("%s: rc %s (%s), wanted %s", c->name, tc_errname(rc), d.why,
		         tc_errname(c->rc));
	assert_true(d.why[0] != '\0');
	if (rc != 0)
		return;
	if (d.send_pps != c->send || d.protocol != c->protocol || d.Fi != c->Fi || d.Di != c->Di ||
	    d.clock_khz != c->clock_khz)
		fail_msg("%s: send %d T=%u Fi %u Di %u clock %u (%s)", c->name, d.send_pps,
		         d.protocol, d.Fi, d.Di, d.clock_khz, d.why);
	assert_int_equal(d.request.has_pps1, c->pps1 >= 0);
	if (c->pps1 >= 0)
		assert_int_equal(d.request.pps1, c->pps1);
	if (d.send_pps)
		assert_int_equal(d.request.protocol, c->protocol);
}

static void test_pps_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++)
		run_decide_case(&decide_cases[i]);
}

static void test_pps_decide_then_answer(void **state)
{
	uint8_t atr_bytes[] = {0x3B, 0x10, 0x95};
	struct tc_reader_caps caps = {
	    .max_clock_khz = 5000, .default_clock_khz = 4000, .di_mask = ALL_DI, .protocols = 1};
	struct tc_atr atr;
	struct tc_pps_decision d;
	struct tc_pps_result res;
	uint8_t req[TC_PPS_MAX_LEN];
	(void)state;
	assert_int_equal(tc_atr_parse(atr_bytes, sizeof(atr_bytes), &atr), 0);
	assert_int_equal(tc_pps_decide(&atr, &caps, &d), 0);
	int n = tc_pps_build(&d.request, req, sizeof(req));
	assert_int_equal(n, 4);
	assert_memory_equal(req, "\xFF\x10\x95\x7A", 4);
	assert_int_equal(tc_pps_check_answer(&d.request, req, (size_t)n, &res, NULL, 0), 0);
	assert_int_equal(res.Fi, 512);
	assert_int_equal(res.Di, 16);
	/* Invalid ATR: refused. */
	atr.valid = false;
	assert_int_equal(tc_pps_decide(&atr, &caps, &d), TC_E_INVAL);
	assert_int_equal(tc_pps_decide(NULL, &caps, &d), TC_E_INVAL);
}

/* The clock after PPS, with and without a clock list. */
static void test_pps_clock(void **state)
{
	struct tc_reader_caps caps = {.max_clock_khz = 8000, .default_clock_khz = 3571};
	(void)state;
	assert_int_equal(tc_pps_clock_khz(&caps, 5000), 5000);
	assert_int_equal(tc_pps_clock_khz(&caps, 20000), 8000);
	caps.nclocks = 3;
	caps.clocks_khz[0] = 7160;
	caps.clocks_khz[1] = 3571;
	caps.clocks_khz[2] = 4800;
	assert_int_equal(tc_pps_clock_khz(&caps, 5000), 4800);
	assert_int_equal(tc_pps_clock_khz(&caps, 20000), 7160);
	assert_int_equal(tc_pps_clock_khz(&caps, 4000), 3571);
	/* Nothing listed below f(max): the default clock (capped). */
	caps.clocks_khz[1] = 4500;
	assert_int_equal(tc_pps_clock_khz(&caps, 4000), 3571);
	caps.default_clock_khz = 4500;
	assert_int_equal(tc_pps_clock_khz(&caps, 4000), 4000);
	/* The decision follows: TA1 95 (f(max) 5 MHz) runs at 4800 kHz. */
	uint8_t atr_bytes[] = {0x3B, 0x10, 0x95};
	struct tc_atr atr;
	struct tc_pps_decision d;
	caps.di_mask = ALL_DI;
	caps.protocols = 1;
	assert_int_equal(tc_atr_parse(atr_bytes, sizeof(atr_bytes), &atr), 0);
	assert_int_equal(tc_pps_decide(&atr, &caps, &d), 0);
	assert_int_equal(d.clock_khz, 4800);
	assert_int_equal(d.request.pps1, 0x95);
	/* With max_baud 100 000: Di 16 at 4.8 MHz is 150 000, Di 8 is 75 000. */
	caps.max_baud = 100000;
	assert_int_equal(tc_pps_decide(&atr, &caps, &d), 0);
	assert_int_equal(d.request.pps1, 0x94);
}

static void test_pps_rate_near(void **state)
{
	(void)state;
	assert_true(tc_pps_rate_near(115200, 115200));
	assert_true(tc_pps_rate_near(111600, 113832)); /* +2 % */
	assert_false(tc_pps_rate_near(111600, 113833));
	assert_true(tc_pps_rate_near(111600, 109368)); /* -2 % */
	assert_false(tc_pps_rate_near(111600, 109367));
	assert_false(tc_pps_rate_near(111600, 115200));
	assert_false(tc_pps_rate_near(0xFFFFFFFFu, 1));
}

static bool keep_fi1(const void *ctx, unsigned fi, unsigned di)
{
	unsigned *asked = (unsigned *)(uintptr_t)ctx;
	(*asked)++;
	assert_true(tc_fi(fi) != 0 && tc_di(di) != 0);
	return fi == 1;
}

/* Narrowing to a pairs list: every valid pair fits; asked only for pairs
 * the reader already had; an empty result clears di_mask too. */
static void test_pps_caps_keep(void **state)
{
	static unsigned asked;
	struct tc_reader_caps caps = {.max_clock_khz = 5000, .di_mask = ALL_DI, .protocols = 1};
	(void)state;
	asked = 0;
	tc_pps_caps_keep(&caps, keep_fi1, &asked);
	assert_int_equal(asked, 108); /* 12 FI x 9 DI */
	assert_int_equal(caps.npairs, 9);
	assert_true(tc_pps_reader_has(&caps, 0x18));
	assert_false(tc_pps_reader_has(&caps, 0x98));
	caps.npairs = 2;
	caps.pairs[0] = 0x95;
	caps.pairs[1] = 0x13;
	asked = 0;
	tc_pps_caps_keep(&caps, keep_fi1, &asked);
	assert_int_equal(asked, 2);
	assert_int_equal(caps.npairs, 1);
	assert_int_equal(caps.pairs[0], 0x13);
	caps.pairs[0] = 0x95;
	tc_pps_caps_keep(&caps, keep_fi1, &asked);
	assert_int_equal(caps.npairs, 0);
	assert_int_equal(caps.di_mask, 0);
	assert_false(tc_pps_reader_has(&caps, 0x13));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pps_build),
	    cmocka_unit_test(test_pps_parse_request),
	    cmocka_unit_test(test_pps_answer),
	    cmocka_unit_test(test_pps_decide_table),
	    cmocka_unit_test(test_pps_decide_then_answer),
	    cmocka_unit_test(test_pps_clock),
	    cmocka_unit_test(test_pps_rate_near),
	    cmocka_unit_test(test_pps_caps_keep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
