/* test_card_testapp.c: the card OS (SELECT, GET RESPONSE, dispatch) and the
 * reader test application, every command and every length 1..256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tc_card_os.h"
#include "tc_error.h"

static const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x00, 0x18, 0xFF};

static struct tc_card_os *new_os(void)
{
	struct tc_card_os *os = tc_card_os_new();
	assert_non_null(os);
	assert_int_equal(tc_card_os_add(os, tc_card_app_test(), NULL, true), TC_OK);
	tc_card_os_reset(os);
	return os;
}

static uint16_t sw(const struct tc_t0c_resp *r)
{
	return (uint16_t)(r->sw1 << 8 | r->sw2);
}

/* A command without data; returns the verdict, resp filled. */
static enum tc_t0c_verdict cmd(struct tc_card_os *os, uint8_t cla, uint8_t ins, uint8_t p1,
                               uint8_t p2, uint8_t p3, struct tc_t0c_resp *r)
{
	const uint8_t h[5] = {cla, ins, p1, p2, p3};
	memset(r, 0, sizeof(*r));
	return tc_card_os_command(os, h, NULL, 0, r);
}

static void cmd_data(struct tc_card_os *os, const uint8_t h[5], const uint8_t *d,
                     struct tc_t0c_resp *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(tc_card_os_command(os, h, NULL, 0, r), TC_T0C_WANT_DATA);
	memset(r, 0, sizeof(*r));
	assert_int_equal(tc_card_os_command(os, h, d, h[4], r), TC_T0C_RESPOND);
}

static void expect_pattern(const struct tc_t0c_resp *r, size_t n)
{
	assert_int_equal(r->len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->data[i], (uint8_t)i);
}

static void test_testapp_select(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	const uint8_t sel[5] = {0x00, 0xA4, 0x04, 0x00, sizeof(aid)};
	const uint8_t bad[6] = {0xA0, 0x00, 0x00, 0x00, 0x18, 0xFE};
	(void)state;
	assert_string_equal(tc_card_os_selected(os), "testapp"); /* default after reset */
	cmd_data(os, sel, aid, &r);
	assert_int_equal(sw(&r), 0x9000);
	cmd_data(os, sel, bad, &r);
	assert_int_equal(sw(&r), 0x6A82);
	assert_string_equal(tc_card_os_selected(os), "testapp");
	assert_int_equal(cmd(os, 0x00, 0xA4, 0x00, 0x00, 0x02, &r), TC_T0C_RESPOND);
	assert_int_equal(sw(&r), 0x6A86);
	/* no default: nothing selected until SELECT */
	tc_card_os_set_default(os, NULL);
	tc_card_os_reset(os);
	assert_string_equal(tc_card_os_selected(os), "");
	(void)cmd(os, 0x80, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6D00);
	cmd_data(os, sel, aid, &r);
	(void)cmd(os, 0x80, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x9000);
	tc_card_os_free(os);
}

static void test_testapp_case1_and_errors(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	(void)state;
	assert_int_equal(cmd(os, 0x80, 0x30, 0, 0, 0, &r), TC_T0C_RESPOND);
	assert_int_equal(sw(&r), 0x9000);
	assert_int_equal(r.len, 0);
	(void)cmd(os, 0x00, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6E00);
	(void)cmd(os, 0x80, 0x3A, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6D00);
	(void)cmd(os, 0x80, 0x34, 0x01, 0x01, 0, &r);
	assert_int_equal(sw(&r), 0x6A86);
	(void)cmd(os, 0xFF, 0x30, 0, 0, 0, &r);
	assert_int_equal(sw(&r), 0x6E00);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 5, &r);
	assert_int_equal(sw(&r), 0x6985);
	tc_card_os_free(os);
}

static void test_testapp_case2_all_lengths(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	(void)state;
	for (unsigned n = 1; n <= 256; n++) {
		assert_int_equal(cmd(os, 0x80, 0x34, (uint8_t)(n >> 8), (uint8_t)n, (uint8_t)n, &r),
		                 TC_T0C_RESPOND);
		assert_int_equal(sw(&r), 0x9000);
		expect_pattern(&r, n);
	}
	tc_card_os_free(os);
}

static void test_testapp_case3_all_lengths(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	uint8_t data[255];
	(void)state;
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	for (unsigned n = 1; n <= 255; n++) {
		const uint8_t h[5] = {0x80, 0x32, 0x00, 0x00, (uint8_t)n};
		cmd_data(os, h, data, &r);
		assert_int_equal(sw(&r), 0x9000);
		assert_int_equal(r.len, 0);
	}
	tc_card_os_free(os);
}

static void test_testapp_case4_all_lengths(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	const uint8_t data[3] = {1, 2, 3};
	(void)state;
	for (unsigned n = 1; n <= 256; n++) {
		const uint8_t h[5] = {0x80, 0x36, (uint8_t)(n >> 8), (uint8_t)n, 3};
		cmd_data(os, h, data, &r);
		assert_int_equal(sw(&r), 0x6100 | (n & 0xFF));
		assert_int_equal(r.len, 0);
		assert_int_equal(cmd(os, 0x00, 0xC0, 0, 0, (uint8_t)n, &r), TC_T0C_RESPOND);
		assert_int_equal(sw(&r), 0x9000);
		expect_pattern(&r, n);
	}
	tc_card_os_free(os);
}

static void test_testapp_get_response_pieces(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	const uint8_t h[5] = {0x80, 0x36, 0x00, 0x0A, 1};
	(void)state;
	cmd_data(os, h, (const uint8_t[]){0}, &r);
	assert_int_equal(sw(&r), 0x610A);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 0x20, &r); /* too long: 6Cxx, nothing lost */
	assert_int_equal(sw(&r), 0x6C0A);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 4, &r);
	assert_int_equal(sw(&r), 0x6106);
	expect_pattern(&r, 4);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 6, &r);
	assert_int_equal(sw(&r), 0x9000);
	assert_int_equal(r.data[0], 4);
	assert_int_equal(r.data[5], 9);
	/* another command drops what was kept */
	cmd_data(os, h, (const uint8_t[]){0}, &r);
	(void)cmd(os, 0x80, 0x30, 0, 0, 0, &r);
	(void)cmd(os, 0x00, 0xC0, 0, 0, 0x0A, &r);
	assert_int_equal(sw(&r), 0x6985);
	tc_card_os_free(os);
}

static void test_testapp_time_request(void **state)
{
	struct tc_card_os *os = new_os();
	struct tc_t0c_resp r;
	(void)state;
	for (unsigned xy = 0; xy < 256; xy += 51) {
		(void)cmd(os, 0x80, 0x38, 0x00, (uint8_t)xy, 0, &r);
		assert_int_equal(sw(&r), 0x9000);
		assert_int_equal(r.busy_etu, xy * 1000u);
	}
	tc_card_os_free(os);
}

static void test_testapp_table(void **state)
{
	const struct tc_card_app *a = tc_card_app_test();
	struct tc_card_os *os = tc_card_os_new();
	static const struct tc_card_app broken = {.name = "x"};
	(void)state;
	assert_string_equal(a->name, "testapp");
	assert_int_equal(a->aid_len, 6);
	assert_memory_equal(a->aid, aid, 6);
	assert_int_equal(tc_card_os_add(os, &broken, NULL, false), TC_E_INVAL);
	for (unsigned i = 0; i < TC_CARD_MAX_APPS; i++)
		assert_int_equal(tc_card_os_add(os, a, NULL, false), TC_OK);
	assert_int_equal(tc_card_os_add(os, a, NULL, false), TC_E_LIMIT);
	tc_card_os_free(os);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_testapp_select),
	    cmocka_unit_test(test_testapp_case1_and_errors),
	    cmocka_unit_test(test_testapp_case2_all_lengths),
	    cmocka_unit_test(test_testapp_case3_all_lengths),
	    cmocka_unit_test(test_testapp_case4_all_lengths),
	    cmocka_unit_test(test_testapp_get_response_pieces),
	    cmocka_unit_test(test_testapp_time_request),
	    cmocka_unit_test(test_testapp_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
