/* test_reader_caps.c: what a reader can do for PPS, as the transports derive
 * it (tc_transport.caps): a serial reader from its UART options
 * (tc_serial_caps: the crystal, max_baud, nocustom) and a USB CCID reader
 * from its class descriptor and the GET_CLOCK_FREQUENCIES / GET_DATA_RATES
 * lists (ccid_list_parse, ccid_desc_caps); each fed to tc_pps_decide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ccid_desc.h"
#include "serial_int.h"
#include "tc_atr.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_pps.h"

/* The slot's defaults (tc_reader_config_default). */
static struct tc_reader_caps default_caps(void)
{
	struct tc_reader_caps c = {
	    .max_clock_khz = 20000, .default_clock_khz = 3571, .di_mask = 0x3FE, .protocols = 1};
	return c;
}

/* tc_pps_decide for an ATR in hex; returns the decision. */
static struct tc_pps_decision decide(const char *atr_hex, const struct tc_reader_caps *caps)
{
	uint8_t buf[40];
	struct tc_atr atr;
	struct tc_pps_decision d;
	int n = tc_hex_decode(atr_hex, buf, sizeof(buf), NULL);
	assert_true(n > 0);
	assert_int_equal(tc_atr_parse(buf, (size_t)n, &atr), 0);
	assert_int_equal(tc_pps_decide(&atr, caps, &d), 0);
	return d;
}

static void expect_pps1(const char *atr_hex, const struct tc_reader_caps *caps, int pps1)
{
	struct tc_pps_decision d = decide(atr_hex, caps);
	if (pps1 < 0 ? d.request.has_pps1 : !d.request.has_pps1 || d.request.pps1 != pps1)
		fail_msg("%s: PPS1 %s 0x%02X, wanted 0x%02X (%s)", atr_hex,
		         d.request.has_pps1 ? "" : "none", d.request.pps1, (unsigned)pps1, d.why);
}

static struct tc_reader_caps serial_caps(const char *endpoint)
{
	struct tc_serial_opts o;
	char why[200];
	struct tc_reader_caps c = default_caps();
	assert_int_equal(tc_serial_parse_opts(endpoint, &o, why, sizeof(why)), TC_OK);
	tc_serial_caps(&o, &c);
	return c;
}

/* --- serial ------------------------------------------------------------------ */

static void test_serial_std_rate_near(void **state)
{
	(void)state;
	assert_int_equal(tc_serial_std_rate_near(9600), 9600);
	assert_int_equal(tc_serial_std_rate_near(56500), 57600); /* 1.9 % */
	assert_int_equal(tc_serial_std_rate_near(56000), 0);     /* 2.9 % */
	assert_int_equal(tc_serial_std_rate_near(111600), 0);    /* 3.2 % below 115 200 */
	assert_int_equal(tc_serial_std_rate_near(223200), 0);
	assert_int_equal(tc_serial_std_rate_near(117000), 115200);
	assert_int_equal(tc_serial_std_rate_near(1), 0);
}

/* Custom divisors, no max_baud: the crystal is the clock; every valid pair
 * (12 FI x 9 DI) runs. */
static void test_serial_custom(void **state)
{
	(void)state;
	struct tc_reader_caps c = serial_caps("/dev/ttyS0");
	assert_int_equal(c.default_clock_khz, 3571);
	assert_int_equal(c.max_clock_khz, 3571);
	assert_int_equal(c.max_baud, 0);
	assert_int_equal(c.npairs, 108);
	expect_pps1("3B 10 96", &c, 0x96);
}

/* nocustom at 3.5712 MHz: only pairs at a standard rate within 2 %. */
static void test_serial_nocustom(void **state)
{
	(void)state;
	struct tc_reader_caps c = serial_caps("/dev/ttyS0:nocustom");
	static const uint8_t yes[] = {0x11, 0x12, 0x13, 0x18, 0x31, 0x32, 0x33, 0x34, 0x38, 0x52};
	static const uint8_t no[] = {0x14, 0x15, 0x16, 0x19, 0x91, 0x94, 0x95, 0x96, 0x98, 0x21};
	for (size_t i = 0; i < sizeof(yes); i++)
		if (!tc_pps_reader_has(&c, yes[i]))
			fail_msg("pair 0x%02X missing", yes[i]);
	for (size_t i = 0; i < sizeof(no); i++)
		if (tc_pps_reader_has(&c, no[i]))
			fail_msg("pair 0x%02X present", no[i]);
	/* Fi 512 has no standard rate for any Di: Fd/Dd, no PPS at all. */
	struct tc_pps_decision d = decide("3B 10 96", &c);
	assert_false(d.send_pps);
	assert_int_equal(d.Fi, 372);
	assert_int_equal(d.Di, 1);
	/* Di 32 (307 200) and 20, 16: none; Di 12 = 115 200. */
	expect_pps1("3B 10 16", &c, 0x18);
	expect_pps1("3B 10 15", &c, 0x18);
	expect_pps1("3B 10 14", &c, 0x13); /* 76 800: none; 38 400 */
}

/* max_baud caps the choice, custom divisors or not. */
static void test_serial_max_baud(void **state)
{
	(void)state;
	struct tc_reader_caps c = serial_caps("/dev/ttyS0:max_baud=57600");
	assert_int_equal(c.max_baud, 57600);
	assert_true(tc_pps_reader_has(&c, 0x13));
	assert_false(tc_pps_reader_has(&c, 0x14));
	expect_pps1("3B 10 18", &c, 0x13);
	expect_pps1("3B 10 96", &c, 0x94); /* Di 8: 55 800 by a custom divisor */
	c = serial_caps("/dev/ttyS0:max_baud=57600:nocustom");
	expect_pps1("3B 10 96", &c, -1);
	expect_pps1("3B 10 18", &c, 0x13);
	/* A lower limit of the configuration stays. */
	struct tc_serial_opts o;
	char why[100];
	assert_int_equal(tc_serial_parse_opts("/dev/ttyS0:max_baud=57600", &o, why, sizeof(why)),
	                 TC_OK);
	c = default_caps();
	c.max_baud = 20000;
	tc_serial_caps(&o, &c);
	assert_int_equal(c.max_baud, 20000);
}

/* A 6 MHz crystal is above f(max) of FI 0 and 1: those pairs go, the card
 * cannot be given a lower clock after PPS. */
static void test_serial_fast_crystal(void **state)
{
	(void)state;
	struct tc_reader_caps c = serial_caps("/dev/ttyS0:clock=6000000");
	assert_int_equal(c.max_clock_khz, 6000);
	assert_false(tc_pps_reader_has(&c, 0x18));
	assert_false(tc_pps_reader_has(&c, 0x08));
	assert_true(tc_pps_reader_has(&c, 0x28));
	expect_pps1("3B 10 18", &c, -1);
	expect_pps1("3B 10 28", &c, 0x28);
}

/* --- USB CCID lists ------------------------------------------------------------ */

static size_t put_list(uint8_t *b, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		b[4 * i] = (uint8_t)v[i];
		b[4 * i + 1] = (uint8_t)(v[i] >> 8);
		b[4 * i + 2] = (uint8_t)(v[i] >> 16);
		b[4 * i + 3] = (uint8_t)(v[i] >> 24);
	}
	return 4 * n;
}

static void test_list_parse(void **state)
{
	static const uint32_t in[] = {115200, 9600, 0, 38400, 9600, 2000000, 19200};
	uint8_t b[1100];
	uint32_t out[CCID_MAX_LIST];
	size_t n = 0;
	unsigned dropped = 0;
	char why[CCID_WHY_LEN];
	(void)state;
	size_t len = put_list(b, in, 7);
	assert_int_equal(ccid_list_parse(b, len, 1000000, "data rate", out, CCID_MAX_LIST, &n,
	                                 &dropped, why, sizeof(why)),
	                 TC_OK);
	assert_int_equal(n, 4); /* sorted, the duplicate 9600 once */
	assert_int_equal(out[0], 9600);
	assert_int_equal(out[1], 19200);
	assert_int_equal(out[2], 38400);
	assert_int_equal(out[3], 115200);
	assert_int_equal(dropped, 2); /* 0 and 2 000 000 > max */
	/* Room for two: the two highest stay. */
	assert_int_equal(
	    ccid_list_parse(b, len, 1000000, "data rate", out, 2, &n, &dropped, why, sizeof(why)),
	    TC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 38400);
	assert_int_equal(out[1], 115200);
	/* Garbage. */
	assert_int_equal(ccid_list_parse(b, 6, 1000000, "clock", out, CCID_MAX_LIST, &n, &dropped,
	                                 why, sizeof(why)),
	                 TC_E_FORMAT);
	assert_non_null(strstr(why, "clock list of 6 bytes"));
	assert_int_equal(ccid_list_parse(b, 0, 1000000, "clock", out, CCID_MAX_LIST, &n, &dropped,
	                                 why, sizeof(why)),
	                 TC_E_FORMAT);
	assert_non_null(strstr(why, "empty"));
	memset(b, 0, sizeof(b));
	assert_int_equal(ccid_list_parse(b, 1024, 1000000, "clock", out, CCID_MAX_LIST, &n,
	                                 &dropped, why, sizeof(why)),
	                 TC_E_FORMAT);
	assert_non_null(strstr(why, "256 entries"));
	assert_int_equal(ccid_list_parse(b, 16, 1000000, "clock", out, CCID_MAX_LIST, &n, &dropped,
	                                 why, sizeof(why)),
	                 TC_E_FORMAT);
	assert_non_null(strstr(why, "no usable entry"));
	assert_int_equal(n, 0);
}

static struct ccid_desc usb_desc(uint32_t max_rate)
{
	struct ccid_desc d = {.bLength = CCID_DESC_LEN,
	                      .bDescriptorType = CCID_DESC_TYPE,
	                      .dwProtocols = CCID_PROTO_T0,
	                      .dwDefaultClock = 3571,
	                      .dwMaximumClock = 20000,
	                      .dwDataRate = 9600,
	                      .dwMaxDataRate = max_rate};
	return d;
}

/* The descriptor alone: default clock, maximum clock, maximum data rate. */
static void test_usb_descriptor(void **state)
{
	(void)state;
	struct ccid_desc d = usb_desc(120000);
	d.dwDefaultClock = 4000;
	d.dwMaximumClock = 12000;
	struct tc_reader_caps c = default_caps();
	ccid_desc_caps(&d, NULL, 0, NULL, 0, &c);
	assert_int_equal(c.default_clock_khz, 4000);
	assert_int_equal(c.max_clock_khz, 12000);
	assert_int_equal(c.max_baud, 120000);
	assert_int_equal(c.npairs, 0);
	assert_int_equal(c.protocols, 1);
	/* TA1 96 at 5 MHz: Di 32, 20, 16 above 120 000; Di 12 = 117 187. */
	struct tc_pps_decision dd = decide("3B 10 96", &c);
	assert_int_equal(dd.request.pps1, 0x98);
	assert_int_equal(dd.clock_khz, 5000);
	/* A fast reader: the card's own Di. */
	d = usb_desc(1000000);
	c = default_caps();
	ccid_desc_caps(&d, NULL, 0, NULL, 0, &c);
	expect_pps1("3B 10 96", &c, 0x96);
	/* A T=1-only reader leaves T=0 no protocol. */
	d.dwProtocols = CCID_PROTO_T1;
	c = default_caps();
	ccid_desc_caps(&d, NULL, 0, NULL, 0, &c);
	assert_int_equal(c.protocols, 0);
}

/* A clock list: the clock after PPS is the largest listed one under the
 * card's f(max); the rates follow it. */
static void test_usb_clock_list(void **state)
{
	static const uint32_t clocks[] = {3571, 4800, 7160};
	(void)state;
	struct ccid_desc d = usb_desc(1000000);
	struct tc_reader_caps c = default_caps();
	ccid_desc_caps(&d, clocks, 3, NULL, 0, &c);
	assert_int_equal(c.nclocks, 3);
	assert_int_equal(tc_pps_clock_khz(&c, 5000), 4800);
	assert_int_equal(tc_pps_clock_khz(&c, 4000), 3571);
	assert_int_equal(tc_pps_clock_khz(&c, 20000), 7160);
	struct tc_pps_decision dd = decide("3B 10 96", &c);
	assert_int_equal(dd.clock_khz, 4800);
	/* More than TC_PPS_MAX_CLOCKS, some above the maximum: the highest
	 * usable ones stay. */
	uint32_t many[40];
	for (unsigned i = 0; i < 40; i++)
		many[i] = 1000 + 1000 * i; /* 1000 .. 40000 */
	c = default_caps();
	ccid_desc_caps(&d, many, 40, NULL, 0, &c);
	assert_int_equal(c.nclocks, TC_PPS_MAX_CLOCKS);
	assert_int_equal(tc_pps_clock_khz(&c, 20000), 20000);
	assert_int_equal(tc_pps_clock_khz(&c, 5000), 5000);
	for (unsigned i = 0; i < c.nclocks; i++)
		assert_true(c.clocks_khz[i] >= 5000 && c.clocks_khz[i] <= 20000);
}

/* A data-rate list: the pairs whose rate at the decision's clock is listed
 * (within 2 %). */
static void test_usb_rate_list(void **state)
{
	static const uint32_t clocks[] = {3571};
	static const uint32_t rates[] = {9600, 19200, 38400, 57600, 111600, 115200};
	(void)state;
	struct ccid_desc d = usb_desc(1000000);
	struct tc_reader_caps c = default_caps();
	ccid_desc_caps(&d, clocks, 1, rates, 6, &c);
	assert_true(c.npairs > 0);
	assert_true(tc_pps_reader_has(&c, 0x95));  /* 111 593 */
	assert_false(tc_pps_reader_has(&c, 0x96)); /* 223 187 */
	assert_true(tc_pps_reader_has(&c, 0x18));  /* 115 193 */
	assert_false(tc_pps_reader_has(&c, 0x14)); /* 76 795 */
	expect_pps1("3B 10 96", &c, 0x95);
	expect_pps1("3B 10 16", &c, 0x18);
	/* Nothing listed for Fi 512 at 5 MHz: no PPS1. */
	static const uint32_t slow[] = {10752, 21505};
	c = default_caps();
	ccid_desc_caps(&d, NULL, 0, slow, 2, &c);
	expect_pps1("3B 10 96", &c, -1);
	/* A list and a lower dwMaxDataRate: both hold. */
	d = usb_desc(100000);
	c = default_caps();
	ccid_desc_caps(&d, clocks, 1, rates, 6, &c);
	/* Fi 512: Di 16 is above 100 000, Di 12 (83 695) and Di 8 (55 796)
	 * are not listed; Fi 372: Di 12 is above, Di 8 not listed, Di 4 is. */
	expect_pps1("3B 10 96", &c, -1);
	expect_pps1("3B 10 18", &c, 0x13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_serial_std_rate_near), cmocka_unit_test(test_serial_custom),
	    cmocka_unit_test(test_serial_nocustom),      cmocka_unit_test(test_serial_max_baud),
	    cmocka_unit_test(test_serial_fast_crystal),  cmocka_unit_test(test_list_parse),
	    cmocka_unit_test(test_usb_descriptor),       cmocka_unit_test(test_usb_clock_list),
	    cmocka_unit_test(test_usb_rate_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
