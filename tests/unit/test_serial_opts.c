/* test_serial_opts.c: the pure parts of the serial transport (driver/serial_opts.c):
 * endpoint options, baud mapping, inverse-convention coding, PARMRK parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "serial_int.h"
#include "tc_error.h"
#include "tc_wire.h"

static void test_opts_defaults(void **state)
{
	struct tc_serial_opts o;
	char why[200];
	(void)state;
	assert_int_equal(tc_serial_parse_opts("/dev/ttyS0", &o, why, sizeof(why)), TC_OK);
	assert_string_equal(o.path, "/dev/ttyS0");
	assert_int_equal(o.reset, TC_SERIAL_LINE_RTS);
	assert_false(o.reset_inv);
	assert_int_equal(o.detect, TC_SERIAL_LINE_NONE);
	assert_int_equal(o.clock_hz, 3571200);
	assert_int_equal(o.cls, 1);
	assert_true(o.echo);
	assert_true(o.custom);
	assert_string_equal(o.lines, "");
}

static void test_opts_all(void **state)
{
	struct tc_serial_opts o;
	char why[200];
	(void)state;
	assert_int_equal(tc_serial_parse_opts("/dev/ttyUSB1:reset=dtr-inv:detect=dcd-inv:clock="
	                                      "6000000:class=B:noecho:nocustom:max_baud=115200:"
	                                      "slack=5:lines=/tmp/l",
	                                      &o, why, sizeof(why)),
	                 TC_OK);
	assert_int_equal(o.reset, TC_SERIAL_LINE_DTR);
	assert_true(o.reset_inv);
	assert_int_equal(o.detect, TC_SERIAL_LINE_DCD);
	assert_true(o.detect_inv);
	assert_int_equal(o.clock_hz, 6000000);
	assert_int_equal(o.cls, 2);
	assert_false(o.echo);
	assert_false(o.custom);
	assert_int_equal(o.max_baud, 115200);
	assert_int_equal(o.slack_ms, 5);
	assert_string_equal(o.lines, "/tmp/l");
}

static void test_opts_errors(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "bad tty path"},
	    {"dev/ttyS0", "absolute path"},
	    {"/dev/ttyS0:colour=red", "unknown serial option 'colour=red'"},
	    {"/dev/ttyS0:reset=cts", "bad reset line 'cts'"},
	    {"/dev/ttyS0:detect=none-inv", "bad detect line"},
	    {"/dev/ttyS0:clock=12", "bad clock '12': expected a number 1000000..20000000"},
	    {"/dev/ttyS0:clock=", "bad clock"},
	    {"/dev/ttyS0:class=D", "bad class 'D'"},
	    {"/dev/ttyS0:lines=", "bad lines socket path"},
	    {"/dev/ttyS0:", "unknown serial option ''"},
	    {"/dev/ttyS0:echo=1", "unknown serial option"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tc_serial_opts o;
		char why[200] = "";
		assert_int_equal(tc_serial_parse_opts(bad[i].in, &o, why, sizeof(why)),
		                 TC_E_FORMAT);
		assert_non_null(strstr(why, bad[i].why));
	}
}

static void test_baud(void **state)
{
	(void)state;
	assert_int_equal(tc_serial_baud(3571200, 372, 1), 9600);
	assert_int_equal(tc_serial_baud(3571200, 372, 12), 115200);
	assert_int_equal(tc_serial_baud(3571200, 372, 4), 38400);
	assert_int_equal(tc_serial_baud(3571200, 512, 32), 223200);
	assert_int_equal(tc_serial_baud(3571200, 0, 1), 0);
	assert_int_equal(tc_serial_std_rate(9600), 9600);
	assert_int_equal(tc_serial_std_rate(9599), 9600); /* 3.571 MHz / 372 */
	assert_int_equal(tc_serial_std_rate(223200), 0);  /* a custom divisor */
	assert_int_equal(tc_serial_std_rate(76800), 0);
	assert_true(tc_serial_rate_close(223200, 223214));
	assert_false(tc_serial_rate_close(223200, 230400));
}

static void test_inverse_coding(void **state)
{
	(void)state;
	/* TS: 3F in the inverse convention reads 03 on a direct UART */
	assert_int_equal(tc_serial_encode(0x3F, true), 0x03);
	assert_int_equal(tc_serial_decode(0x03, true), 0x3F);
	assert_int_equal(tc_serial_encode(0x01, true), 0x7F); /* LSB first -> MSB first, low = 1 */
	for (unsigned b = 0; b < 256; b++) {
		uint8_t raw, par;
		assert_int_equal(tc_serial_encode((uint8_t)b, false), b);
		assert_int_equal(tc_serial_decode(tc_serial_encode((uint8_t)b, true), true), b);
		tc_wire_char_make((uint8_t)b, true, &raw, &par);
		assert_int_equal(tc_serial_encode((uint8_t)b, true), raw);
	}
}

static void test_parmrk(void **state)
{
	const uint8_t in[] = {0x41, 0xFF, 0xFF, 0xFF, 0x00, 0x42, 0xFF, 0x43, 0x44};
	uint8_t out[16];
	bool errs[16];
	size_t n = 0;
	struct tc_serial_rxp p = {0};
	(void)state;
	for (size_t i = 0; i < sizeof(in); i++) {
		uint8_t b;
		bool e;
		if (tc_serial_rxp_feed(&p, in[i], &b, &e)) {
			out[n] = b;
			errs[n++] = e;
		}
		while (tc_serial_rxp_spare(&p, &b, &e)) {
			out[n] = b;
			errs[n++] = e;
		}
	}
	const uint8_t want[] = {0x41, 0xFF, 0x42, 0xFF, 0x43, 0x44};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, n);
	assert_false(errs[0]);
	assert_false(errs[1]);
	assert_true(errs[2]); /* FF 00 42: 42 with a parity error */
	assert_false(errs[3]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opts_defaults),  cmocka_unit_test(test_opts_all),
	    cmocka_unit_test(test_opts_errors),    cmocka_unit_test(test_baud),
	    cmocka_unit_test(test_inverse_coding), cmocka_unit_test(test_parmrk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
