/* test_ccid_quirks.c: the reader quirk table and its lookup
 * (driver/ccid_quirks.h). The mechanism is tested on a table of test entries;
 * the built-in entries are checked for shape and a few documented facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ccid_desc.h"
#include "ccid_quirks.h"
#include "tc_error.h"

/* Test entries only: VID 0xFFF0 is not a real vendor. */
static const struct ccid_quirk test_table[] = {
    {0xFFF0, 0x0001, 0x0100, 0x01FF, CCID_QUIRK_BOGUS_FIRMWARE | CCID_QUIRK_TEST_ONLY, 0, 0,
     "test reader old firmware", "test"},
    {0xFFF0, CCID_ANY_PID, 0x0000, 0xFFFF, CCID_QUIRK_MSG_LEN | CCID_QUIRK_TEST_ONLY, 100, 271,
     "test vendor", "test"},
    {0xFFF0, 0x0002, 0x0000, 0xFFFF, CCID_QUIRK_MSG_LEN | CCID_QUIRK_TEST_ONLY, 200, 300,
     "test reader 2", "test"},
};
#define NTEST ((unsigned)(sizeof(test_table) / sizeof(test_table[0])))

static void test_ccid_quirks_lookup_in(void **state)
{
	(void)state;
	/* bcd range inclusive at both ends */
	assert_ptr_equal(ccid_quirk_lookup_in(test_table, NTEST, 0xFFF0, 0x0001, 0x0100),
	                 &test_table[0]);
	assert_ptr_equal(ccid_quirk_lookup_in(test_table, NTEST, 0xFFF0, 0x0001, 0x01FF),
	                 &test_table[0]);
	/* out of range: falls to the vendor-wide entry */
	assert_ptr_equal(ccid_quirk_lookup_in(test_table, NTEST, 0xFFF0, 0x0001, 0x0200),
	                 &test_table[1]);
	assert_ptr_equal(ccid_quirk_lookup_in(test_table, NTEST, 0xFFF0, 0x0001, 0x00FF),
	                 &test_table[1]);
	/* the exact PID wins over the vendor-wide entry listed before it */
	assert_ptr_equal(ccid_quirk_lookup_in(test_table, NTEST, 0xFFF0, 0x0002, 0x0001),
	                 &test_table[2]);
	assert_null(ccid_quirk_lookup_in(test_table, NTEST, 0xFFF1, 0x0001, 0x0100));
	assert_null(ccid_quirk_lookup_in(NULL, 3, 0xFFF0, 0x0001, 0x0100));
}

static void test_ccid_quirks_apply(void **state)
{
	struct ccid_desc d;
	(void)state;
	memset(&d, 0, sizeof(d));
	d.dwMaxCCIDMessageLength = 100;
	d.max_msg_len = 100;
	assert_true(ccid_quirk_apply(&test_table[1], &d));
	assert_int_equal(d.dwMaxCCIDMessageLength, 271);
	assert_int_equal(d.max_msg_len, 271);
	/* only the documented wrong value is replaced */
	d.dwMaxCCIDMessageLength = 101;
	assert_false(ccid_quirk_apply(&test_table[1], &d));
	assert_int_equal(d.dwMaxCCIDMessageLength, 101);
	assert_false(ccid_quirk_apply(&test_table[0], &d));
	assert_false(ccid_quirk_apply(NULL, &d));
}

static void test_ccid_quirks_builtin(void **state)
{
	unsigned n = 0;
	const struct ccid_quirk *t = ccid_quirk_table(&n);
	(void)state;
	assert_true(n > 0);
	for (unsigned i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_non_null(t[i].source);
		assert_true(t[i].bcd_min <= t[i].bcd_max);
		assert_true(t[i].flags != 0);
		assert_false(t[i].flags & CCID_QUIRK_TEST_ONLY);
		if (t[i].flags & CCID_QUIRK_MSG_LEN)
			assert_true(t[i].msg_len > t[i].bad_msg_len);
	}
	/* SCM SCR 331 (04E6:E001): firmware before 5.16 is refused, 5.16 is not. */
	const struct ccid_quirk *q = ccid_quirk_lookup(0x04E6, 0xE001, 0x0515);
	assert_non_null(q);
	assert_true(q->flags & CCID_QUIRK_BOGUS_FIRMWARE);
	q = ccid_quirk_lookup(0x04E6, 0xE001, 0x0516);
	assert_true(q == NULL || !(q->flags & CCID_QUIRK_BOGUS_FIRMWARE));
	/* SCM readers report dwMaxCCIDMessageLength 263 for 270. */
	struct ccid_desc d;
	memset(&d, 0, sizeof(d));
	d.dwMaxCCIDMessageLength = 263;
	assert_true(ccid_quirk_apply(ccid_quirk_lookup(0x04E6, 0x5116, 0x0100), &d));
	assert_int_equal(d.dwMaxCCIDMessageLength, 270);
	/* An unknown reader has no quirk. */
	assert_null(ccid_quirk_lookup(0x096E, 0x0505, 0x0205));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ccid_quirks_lookup_in),
	    cmocka_unit_test(test_ccid_quirks_apply),
	    cmocka_unit_test(test_ccid_quirks_builtin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
