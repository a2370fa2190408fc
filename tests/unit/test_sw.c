/* test_sw.c: ISO 7816-4 status word meanings (protocol/tc_sw.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tc_sw.h"

static void expect_meaning(uint16_t sw, const char *want)
{
	char buf[TC_SW_MEANING_MAX];
	const char *got = tc_sw_meaning(sw, buf, sizeof(buf));
	assert_ptr_equal(got, buf);
	assert_string_equal(got, want);
}

static void test_sw_meaning_exact(void **state)
{
	(void)state;
	expect_meaning(TC_SW_OK, "normal processing, no further qualification");
	expect_meaning(0x6400, "execution error, memory unchanged");
	expect_meaning(0x6581, "execution error: memory failure");
	expect_meaning(TC_SW_WRONG_LENGTH, "wrong length");
	expect_meaning(0x6881, "logical channel not supported");
	expect_meaning(0x6882, "secure messaging not supported");
	expect_meaning(0x6981, "command incompatible with file structure");
	expect_meaning(TC_SW_SECURITY_NOT_SATISFIED, "security status not satisfied");
	expect_meaning(TC_SW_AUTH_BLOCKED, "authentication method blocked");
	expect_meaning(0x6984, "reference data not usable");
	expect_meaning(TC_SW_CONDITIONS, "conditions of use not satisfied");
	expect_meaning(0x6986, "command not allowed (no current EF)");
	expect_meaning(TC_SW_WRONG_DATA, "incorrect parameters in the command data field");
	expect_meaning(0x6A81, "function not supported");
	expect_meaning(TC_SW_FILE_NOT_FOUND, "file or application not found");
	expect_meaning(0x6A83, "record not found");
	expect_meaning(0x6A84, "not enough memory space in the file");
	expect_meaning(0x6A85, "Nc inconsistent with TLV structure");
	expect_meaning(0x6A86, "incorrect parameters P1-P2");
	expect_meaning(0x6A87, "Nc inconsistent with parameters P1-P2");
	expect_meaning(TC_SW_DATA_NOT_FOUND, "referenced data or reference data not found");
	expect_meaning(0x6B00, "wrong parameters P1-P2");
	expect_meaning(TC_SW_INS_NOT_SUPPORTED, "instruction code not supported or invalid");
	expect_meaning(TC_SW_CLA_NOT_SUPPORTED, "class not supported");
	expect_meaning(0x6F00, "no precise diagnosis");
	expect_meaning(0x6281, "warning: part of returned data may be corrupted");
	expect_meaning(0x6282, "warning: end of file or record reached before reading Ne bytes");
	expect_meaning(0x6381, "warning: file filled up by the last write");
}

static void test_sw_meaning_parameterised(void **state)
{
	(void)state;
	expect_meaning(0x6110, "normal processing: 16 data bytes still available");
	expect_meaning(0x6100, "normal processing: 256 data bytes still available");
	expect_meaning(0x61FF, "normal processing: 255 data bytes still available");
	expect_meaning(0x6C05, "wrong Le field: 5 data bytes available (exact Le)");
	expect_meaning(0x6C00, "wrong Le field: 256 data bytes available (exact Le)");
	expect_meaning(0x63C0, "warning: counter 0 (meaning depends on the command)");
	expect_meaning(0x63C3, "warning: counter 3 (meaning depends on the command)");
	expect_meaning(0x63CF, "warning: counter 15 (meaning depends on the command)");
	expect_meaning(0x6202, "warning, memory unchanged: triggering by the card (query 02)");
	expect_meaning(0x6480,
	               "execution error, memory unchanged: triggering by the card (query 80)");
}

static void test_sw_meaning_unlisted(void **state)
{
	(void)state;
	expect_meaning(0x6A99, "wrong parameters P1-P2 (SW2 99 not defined by ISO 7816-4)");
	expect_meaning(
	    0x6D01, "instruction code not supported or invalid (SW2 01 not defined by ISO 7816-4)");
	expect_meaning(0x6201, "warning, memory unchanged (SW2 01 not defined by ISO 7816-4)");
	expect_meaning(0x9001, "proprietary (not defined by ISO 7816-4)");
	expect_meaning(0x9F10, "proprietary (not defined by ISO 7816-4)");
	expect_meaning(0x6000, "invalid status word (SW1 60)");
	expect_meaning(0x0000, "invalid status word (SW1 00)");
	expect_meaning(0xFFFF, "invalid status word (SW1 FF)");
	expect_meaning(0x7000, "invalid status word (SW1 70)");
}

/* Every status word gets a non-empty meaning that fits TC_SW_MEANING_MAX. */
static void test_sw_meaning_every_value(void **state)
{
	char buf[TC_SW_MEANING_MAX + 8];
	(void)state;
	for (unsigned sw = 0; sw <= 0xFFFF; sw++) {
		memset(buf, 'x', sizeof(buf));
		tc_sw_meaning((uint16_t)sw, buf, sizeof(buf));
		size_t len = strlen(buf);
		assert_true(len > 0);
		assert_true(len < TC_SW_MEANING_MAX);
	}
}

static void test_sw_meaning_small_buffer(void **state)
{
	char buf[8];
	(void)state;
	assert_string_equal(tc_sw_meaning(0x6C10, buf, sizeof(buf)), "wrong L");
	assert_string_equal(tc_sw_meaning(0x9000, buf, 1), "");
	assert_string_equal(tc_sw_meaning(0x9000, NULL, 10), "");
	assert_string_equal(tc_sw_meaning(0x9000, buf, 0), "");
}

static void test_sw_kind(void **state)
{
	(void)state;
	assert_int_equal(tc_sw_kind(0x9000), TC_SW_KIND_NORMAL);
	assert_int_equal(tc_sw_kind(0x6120), TC_SW_KIND_NORMAL);
	assert_int_equal(tc_sw_kind(0x6283), TC_SW_KIND_WARNING);
	assert_int_equal(tc_sw_kind(0x63C1), TC_SW_KIND_WARNING);
	assert_int_equal(tc_sw_kind(0x6400), TC_SW_KIND_EXEC_ERROR);
	assert_int_equal(tc_sw_kind(0x6581), TC_SW_KIND_EXEC_ERROR);
	assert_int_equal(tc_sw_kind(0x6700), TC_SW_KIND_CHECK_ERROR);
	assert_int_equal(tc_sw_kind(0x6F00), TC_SW_KIND_CHECK_ERROR);
	assert_int_equal(tc_sw_kind(0x9100), TC_SW_KIND_PROPRIETARY);
	assert_int_equal(tc_sw_kind(0x6000), TC_SW_KIND_INVALID);
	assert_int_equal(tc_sw_kind(0xA000), TC_SW_KIND_INVALID);
	assert_string_equal(tc_sw_kind_name(TC_SW_KIND_CHECK_ERROR), "checking error");
	assert_string_equal(tc_sw_kind_name(TC_SW_KIND_NORMAL), "normal processing");
	assert_string_equal(tc_sw_kind_name((enum tc_sw_kind)99), "invalid status word");
}

static void test_sw_of(void **state)
{
	(void)state;
	assert_int_equal(tc_sw_of((const uint8_t *)"\x01\x02\x90\x00", 4), 0x9000);
	assert_int_equal(tc_sw_of((const uint8_t *)"\x6C\x10", 2), 0x6C10);
	assert_int_equal(tc_sw_of((const uint8_t *)"\x90", 1), -1);
	assert_int_equal(tc_sw_of(NULL, 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sw_meaning_exact),
	    cmocka_unit_test(test_sw_meaning_parameterised),
	    cmocka_unit_test(test_sw_meaning_unlisted),
	    cmocka_unit_test(test_sw_meaning_every_value),
	    cmocka_unit_test(test_sw_meaning_small_buffer),
	    cmocka_unit_test(test_sw_kind),
	    cmocka_unit_test(test_sw_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
