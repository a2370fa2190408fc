/* test_card_config.c: tokencard-sim configuration, good and bad files with
 * the exact messages, --set arguments, the ATR built from the keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_config.h"
#include "tc_atr.h"
#include "tc_error.h"

static int load(struct tc_sim_config *c, const char *file, char *err, size_t cap)
{
	char path[512], text[4096];
	const char *dir = getenv("TC_DATA_DIR");
	snprintf(path, sizeof(path), "%s/card/%s", dir ? dir : "tests/data", file);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	return tc_sim_config_parse(c, text, n, file, err, cap);
}

static void test_config_defaults(void **state)
{
	struct tc_sim_config c;
	struct tc_t0c_config e;
	char why[TC_SIM_ERR_LEN];
	(void)state;
	tc_sim_config_init(&c);
	assert_int_equal(tc_sim_config_engine(&c, &e, why, sizeof(why)), TC_OK);
	static const uint8_t atr[] = {0x3B, 0x96, 0x96, 0x80, 0x1F, 0x07, 0x80,
	                              0x31, 0xC0, 0x82, 0x90, 0x00, 0xFB};
	assert_int_equal(e.atr_len, sizeof(atr));
	assert_memory_equal(e.atr, atr, sizeof(atr));
	/* every "none" takes the ATR back to the bare 3B 00 */
	static const char *const bare[] = {"ta1=none", "classes=none", "historical=none"};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(tc_sim_config_set_arg(&c, bare[i], why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_engine(&c, &e, why, sizeof(why)), TC_OK);
	assert_int_equal(e.atr_len, 2);
	assert_int_equal(e.atr[0], 0x3B);
	assert_int_equal(e.atr[1], 0x00);
	assert_int_equal(e.atr_delay_clk, 1000);
	assert_int_equal(e.pps_mode, TC_T0C_PPS_ACCEPT);
	assert_true(c.present);
	assert_string_equal(c.default_app, "testapp");
}

static void test_config_good_file(void **state)
{
	struct tc_sim_config c;
	struct tc_t0c_config e;
	struct tc_atr a;
	char err[TC_SIM_ERR_LEN];
	(void)state;
	tc_sim_config_init(&c);
	assert_int_equal(load(&c, "good.conf", err, sizeof(err)), TC_OK);
	assert_int_equal(tc_sim_config_engine(&c, &e, err, sizeof(err)), TC_OK);
	assert_int_equal(e.atr[0], 0x3F);
	assert_int_equal(tc_atr_parse(e.atr, e.atr_len, &a), TC_OK);
	assert_true(a.inverse);
	assert_int_equal(a.Fi, 512);
	assert_int_equal(a.Di, 32);
	assert_int_equal(a.N, 2);
	assert_int_equal(a.WI, 20);
	assert_true(a.has_class);
	assert_int_equal(a.classes, TC_ATR_CLASS_A | TC_ATR_CLASS_B);
	assert_int_equal(a.protocols & 3, 3);
	assert_int_equal(a.nhist, 3);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
	assert_int_equal(e.pps_mode, TC_T0C_PPS_NO_PPS1);
	assert_int_equal(e.atr_delay_clk, 2000);
	assert_int_equal(e.extra_guard_etu, 1);
	assert_int_equal(e.proc_etu, 50);
	assert_int_equal(e.null_interval_etu, 1000);
	assert_int_equal(e.n_tx_bad, 2);
	assert_int_equal(e.tx_bad[1], 7);
	assert_int_equal(e.rx_bad_every, 10);
	assert_true(e.wrong_proc);
	assert_int_equal(e.wrong_proc_byte, 0x6A);
	assert_int_equal(c.remove_at, 40);
	assert_int_equal(c.answer_classes, TC_ATR_CLASS_B);
	assert_string_equal(c.name, "test card");
}

static void test_config_bad_files(void **state)
{
	struct tc_sim_config c;
	char err[TC_SIM_ERR_LEN];
	(void)state;
	tc_sim_config_init(&c);
	assert_int_equal(load(&c, "bad_key.conf", err, sizeof(err)), TC_E_FORMAT);
	assert_string_equal(err, "bad_key.conf:3: unknown key 'foo'");
	assert_int_equal(load(&c, "bad_value.conf", err, sizeof(err)), TC_E_FORMAT);
	assert_string_equal(err, "bad_value.conf:3: bad value '300' for tc1: expected a number "
	                         "0..255 or none");
	assert_int_equal(load(&c, "bad_syntax.conf", err, sizeof(err)), TC_E_FORMAT);
	assert_string_equal(err, "bad_syntax.conf:2: expected 'key = value'");
}

struct bad_case {
	const char *arg;
	const char *why;
};

static void test_config_set_messages(void **state)
{
	static const struct bad_case cases[] = {
	    {"tc2=0", "bad value '0' for tc2: expected a number 1..255 or none"},
	    {"convention=sideways",
	     "bad value 'sideways' for convention: expected direct or inverse"},
	    {"atr=3B", "bad value '3B' for atr: expected 2..33 hex bytes or auto"},
	    {"atr=3G 00", "bad value '3G 00' for atr: expected 2..33 hex bytes or auto"},
	    {"pps=maybe", "bad value 'maybe' for pps: expected accept, refuse, wrong or no-pps1"},
	    {"mute=perhaps", "bad value 'perhaps' for mute: expected yes or no"},
	    {"classes=D", "bad value 'D' for classes: expected classes like A,B,C or none"},
	    {"answer_classes=none",
	     "bad value 'none' for answer_classes: expected classes like A,B,C"},
	    {"parity_tx=0", "bad value '0' for parity_tx: expected up to 16 character numbers >= "
	                    "1, or none"},
	    {"ta2=E0", "bad value 'E0' for ta2: expected one hex byte (b6, b7 zero) or none"},
	    {"null_storm=513", "bad value '513' for null_storm: expected a number 0..512"},
	    {"atr_delay=-5", "bad value '-5' for atr_delay: expected clock cycles 1..1000000"},
	    {"default_app=bank",
	     "bad value 'bank' for default_app: expected testapp, token or none"},
	    {"token_store=a\tb", "bad value 'a\tb' for token_store: expected a file path, or none "
	                         "(memory only)"},
	    {"protocols=1", "bad value '1' for protocols: expected 0 or 0,1"},
	    {"nokey", "expected 'key = value'"},
	    {"=5", "expected 'key = value'"},
	    {"tc1=", "no value for tc1"},
	    {"colour=red", "unknown key 'colour'"},
	};
	struct tc_sim_config c;
	char why[TC_SIM_ERR_LEN];
	(void)state;
	tc_sim_config_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tc_sim_config_set_arg(&c, cases[i].arg, why, sizeof(why)),
		                 TC_E_FORMAT);
		assert_string_equal(why, cases[i].why);
	}
}

static void test_config_set_values(void **state)
{
	struct tc_sim_config c;
	struct tc_t0c_config e;
	char why[TC_SIM_ERR_LEN];
	(void)state;
	tc_sim_config_init(&c);
	assert_int_equal(tc_sim_config_set_arg(&c, " atr = 3B 10 95 ", why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_set_arg(&c, "pps_answer=FF 10 11 FE", why, sizeof(why)),
	                 TC_OK);
	assert_int_equal(tc_sim_config_set_arg(&c, "parity_rx=1,2,3", why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_set_arg(&c, "mute=yes", why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_engine(&c, &e, why, sizeof(why)), TC_OK);
	assert_int_equal(e.atr_len, 3);
	assert_int_equal(e.atr[2], 0x95);
	assert_int_equal(e.pps_mode, TC_T0C_PPS_ALT);
	assert_int_equal(e.pps_alt_len, 4);
	assert_int_equal(e.n_rx_bad, 3);
	assert_true(e.mute);
	/* back to the built ATR, with a wrong TCK on purpose */
	assert_int_equal(tc_sim_config_set_arg(&c, "atr=auto", why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_set_arg(&c, "bad_tck=yes", why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_set_arg(&c, "protocols=0,1", why, sizeof(why)), TC_OK);
	assert_int_equal(tc_sim_config_engine(&c, &e, why, sizeof(why)), TC_OK);
	struct tc_atr a;
	assert_int_equal(tc_atr_parse(e.atr, e.atr_len, &a), TC_E_CHECKSUM);
	assert_string_equal(tc_sim_pps_name(TC_T0C_PPS_NO_PPS1), "no-pps1");
}

/* The deposit-token card: its memory file and its default selection. */
static void test_config_token_store(void **state)
{
	struct tc_sim_config c;
	char why[TC_SIM_ERR_LEN], arg[TC_SIM_LINE_MAX + 16];
	(void)state;
	tc_sim_config_init(&c);
	assert_string_equal(c.token_store, "");
	assert_int_equal(
	    tc_sim_config_set_arg(&c, "token_store = /tmp/x/card.mem", why, sizeof(why)), TC_OK);
	assert_string_equal(c.token_store, "/tmp/x/card.mem");
	assert_int_equal(tc_sim_config_set_arg(&c, "default_app=token", why, sizeof(why)), TC_OK);
	assert_string_equal(c.default_app, "token");
	assert_int_equal(tc_sim_config_parse(&c, "token_store = none\n", 19, "f", why, sizeof(why)),
	                 TC_OK);
	assert_string_equal(c.token_store, "");
	/* a path too long for one setting line is refused as such */
	memset(arg, 'p', sizeof(arg) - 1);
	memcpy(arg, "token_store=", 12);
	arg[sizeof(arg) - 1] = '\0';
	assert_int_equal(tc_sim_config_set_arg(&c, arg, why, sizeof(why)), TC_E_FORMAT);
	assert_string_equal(why, "setting longer than 511 characters");
	assert_string_equal(c.token_store, "");
}

static void test_config_odd_input(void **state)
{
	struct tc_sim_config c;
	char err[TC_SIM_ERR_LEN];
	static const char nul[] = "mute = no\nt\0c1 = 1\n";
	char longline[700];
	(void)state;
	tc_sim_config_init(&c);
	assert_int_equal(tc_sim_config_parse(&c, nul, sizeof(nul) - 1, "x", err, sizeof(err)),
	                 TC_E_FORMAT);
	assert_string_equal(err, "x:2: NUL byte in line");
	memset(longline, 'a', sizeof(longline));
	assert_int_equal(tc_sim_config_parse(&c, longline, sizeof(longline), "y", err, sizeof(err)),
	                 TC_E_FORMAT);
	assert_string_equal(err, "y:1: line longer than 511 characters");
	assert_int_equal(tc_sim_config_parse(&c, "# only\r\n\n  \n", 12, "z", err, sizeof(err)),
	                 TC_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_defaults),    cmocka_unit_test(test_config_good_file),
	    cmocka_unit_test(test_config_bad_files),   cmocka_unit_test(test_config_set_messages),
	    cmocka_unit_test(test_config_set_values),  cmocka_unit_test(test_config_odd_input),
	    cmocka_unit_test(test_config_token_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
