/* test_ccid_desc.c: the CCID class descriptor (driver/ccid_desc.h), on the
 * descriptors of real readers (values as documented in the CCID driver's
 * reader list and in published lsusb -v outputs) and on broken ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ccid_desc.h"
#include "tc_error.h"
#include "tc_hex.h"

/* Feitian SCR310 (096E:0505): CCID 1.00, 5/3/1.8 V, T=0/T=1, 4000-8000 kHz,
 * 10752-600000 bps, IFSD 248, dwFeatures 0x00010230 (TPDU), 271 bytes,
 * bMaxCCIDBusySlots 0. */
static const char feitian[] = "36210001000703000000A00F0000401F000000002A0000C027090000F8000000"
                              "0000000000000000300201000F010000000000000000";
/* Alcor AU9540 (058F:9540): CCID 1.10, 3700 kHz, 9946-318280 bps, 53 rates,
 * sync 2/3-wire and I2C, dwFeatures 0x000404BE (extended APDU), 272 bytes,
 * bClassGetResponse/bClassEnvelope echo (FF). */
static const char alcor[] = "36211001000703000000740E0000740E000001DA26000048DB040035FE000000"
                            "0700000000000000BE04040010010000FFFF00000001";
/* Realtek 0BDA:0161: CCID 1.10, 3750-7500 kHz, 10080-312500 bps,
 * dwFeatures 0x00010030 (TPDU), 271 bytes. */
static const char realtek[] = "36211001000703000000A60E00004C1D00000060270000B4C4040000FE000000"
                              "0000000000000000300001000F010000000000000001";

static void load(const char *text, uint8_t buf[CCID_DESC_LEN])
{
	int n = tc_hex_decode(text, buf, CCID_DESC_LEN, NULL);
	assert_int_equal(n, CCID_DESC_LEN);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_ccid_desc_feitian(void **state)
{
	uint8_t b[CCID_DESC_LEN];
	struct ccid_desc d;
	char why[CCID_WHY_LEN];
	(void)state;
	load(feitian, b);
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, why, sizeof(why)), TC_OK);
	assert_string_equal(why, "");
	assert_int_equal(d.bcdCCID, 0x0100);
	assert_int_equal(d.bVoltageSupport, 7);
	assert_int_equal(d.dwProtocols, 3);
	assert_int_equal(d.dwDefaultClock, 4000);
	assert_int_equal(d.dwMaximumClock, 8000);
	assert_int_equal(d.dwDataRate, 10752);
	assert_int_equal(d.dwMaxDataRate, 600000);
	assert_int_equal(d.dwMaxIFSD, 248);
	assert_int_equal(d.dwFeatures, 0x00010230);
	assert_int_equal(d.dwMaxCCIDMessageLength, 271);
	assert_int_equal(d.max_msg_len, 271);
	assert_int_equal(d.level, CCID_LEVEL_TPDU);
	/* bMaxCCIDBusySlots 0 is wrong but harmless: a warning, not a refusal. */
	assert_int_equal(d.warnings, CCID_WARN_BUSY_SLOTS);
}

static void test_ccid_desc_alcor_realtek(void **state)
{
	uint8_t b[CCID_DESC_LEN];
	struct ccid_desc d;
	(void)state;
	load(alcor, b);
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, NULL, 0), TC_OK);
	assert_int_equal(d.level, CCID_LEVEL_EXTENDED_APDU);
	assert_int_equal(d.bcdCCID, 0x0110);
	assert_int_equal(d.bNumDataRatesSupported, 53);
	assert_int_equal(d.dwSynchProtocols, 7);
	assert_int_equal(d.bClassGetResponse, 0xFF);
	assert_int_equal(d.bClassEnvelope, 0xFF);
	assert_int_equal(d.bMaxCCIDBusySlots, 1);
	assert_int_equal(d.max_msg_len, 272);
	assert_true(d.dwFeatures & CCID_FEAT_AUTO_PPS);
	assert_int_equal(d.warnings, 0);
	load(realtek, b);
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, NULL, 0), TC_OK);
	assert_int_equal(d.level, CCID_LEVEL_TPDU);
	assert_int_equal(d.dwMaximumClock, 7500);
	assert_int_equal(d.warnings, 0);
}

/* One broken descriptor: feitian's bytes with `len` bytes at `off` replaced. */
struct bad_case {
	const char *name;
	size_t off;
	uint32_t value;
	unsigned width;
	int rc;
	const char *why;
};

static void test_ccid_desc_refuses(void **state)
{
	static const struct bad_case cases[] = {
	    {"bLength", 0, 0x35, 1, TC_E_FORMAT, "bLength is 53"},
	    {"type", 1, 0x24, 1, TC_E_FORMAT, "type is 0x24"},
	    {"protocols", 6, 0x4, 4, TC_E_FORMAT, "neither T=0 nor T=1"},
	    {"voltage", 5, 0x00, 1, TC_E_FORMAT, "no voltage"},
	    {"default clock", 10, 0, 4, TC_E_FORMAT, "zero clock"},
	    {"max clock", 14, 0, 4, TC_E_FORMAT, "zero clock"},
	    {"clock order", 10, 9000, 4, TC_E_FORMAT, "above the maximum 8000"},
	    {"rate", 19, 0, 4, TC_E_FORMAT, "zero data rate"},
	    {"rate order", 19, 700000, 4, TC_E_FORMAT, "above the maximum 600000"},
	    {"levels", 40, 0x00030000, 4, TC_E_FORMAT, "several exchange levels"},
	    {"msg len", 44, 17, 4, TC_E_FORMAT, "below the minimum 18"},
	    {"ext msg len", 40, 0x00040000, 4, TC_E_FORMAT, "below the minimum 271"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[CCID_DESC_LEN];
		struct ccid_desc d;
		char why[CCID_WHY_LEN] = "";
		load(feitian, b);
		if (cases[i].width == 1)
			b[cases[i].off] = (uint8_t)cases[i].value;
		else
			put32(b + cases[i].off, cases[i].value);
		if (strcmp(cases[i].name, "ext msg len") == 0)
			put32(b + 44, 263); /* SCM's value, too small for extended APDUs */
		int rc = ccid_desc_parse(b, sizeof(b), &d, why, sizeof(why));
		if (rc != cases[i].rc || strstr(why, cases[i].why) == NULL)
			fail_msg("%s: rc %s why \"%s\", wanted %s \"%s\"", cases[i].name,
			         tc_errname(rc), why, tc_errname(cases[i].rc), cases[i].why);
	}
}

static void test_ccid_desc_short_and_trailing(void **state)
{
	uint8_t b[CCID_DESC_LEN + 8];
	struct ccid_desc d;
	char why[CCID_WHY_LEN];
	(void)state;
	load(feitian, b);
	assert_int_equal(ccid_desc_parse(b, 53, &d, why, sizeof(why)), TC_E_SHORT);
	assert_non_null(strstr(why, "53 bytes"));
	assert_int_equal(ccid_desc_parse(NULL, 54, &d, why, sizeof(why)), TC_E_INVAL);
	/* An endpoint descriptor following it is not ours to judge. */
	memcpy(b + CCID_DESC_LEN, "\x07\x05\x81\x03\x04\x00\x20\x00", 8);
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, why, sizeof(why)), TC_OK);
}

static void test_ccid_desc_levels_and_voltage(void **state)
{
	static const struct {
		uint32_t features;
		enum ccid_level level;
	} lv[] = {
	    {0x00000000, CCID_LEVEL_CHARACTER},
	    {0x00010000, CCID_LEVEL_TPDU},
	    {0x00020000, CCID_LEVEL_SHORT_APDU},
	    {0x000400FE, CCID_LEVEL_EXTENDED_APDU},
	};
	uint8_t b[CCID_DESC_LEN];
	struct ccid_desc d;
	(void)state;
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		load(feitian, b);
		put32(b + 40, lv[i].features);
		assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, NULL, 0), TC_OK);
		assert_int_equal(d.level, lv[i].level);
	}
	/* No voltage listed is fine when the reader selects it itself. */
	load(feitian, b);
	b[5] = 0;
	put32(b + 40, CCID_FEAT_AUTO_VOLTAGE | CCID_FEAT_LEVEL_SHORT);
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, NULL, 0), TC_OK);
}

static void test_ccid_desc_warnings(void **state)
{
	uint8_t b[CCID_DESC_LEN];
	struct ccid_desc d;
	(void)state;
	load(realtek, b);
	b[2] = 0x00;
	b[3] = 0x02;               /* bcdCCID 2.00 */
	b[5] = 0x0F;               /* RFU voltage bit */
	put32(b + 6, 0x7);         /* RFU protocol bit */
	put32(b + 28, 0);          /* T=1 with IFSD 0 */
	put32(b + 40, 0x00810030); /* unknown feature bit */
	put32(b + 44, 0x00200000); /* above 65554: clamped */
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, NULL, 0), TC_OK);
	assert_int_equal(d.warnings, CCID_WARN_BCD | CCID_WARN_VOLT_RFU | CCID_WARN_PROTO_RFU |
	                                 CCID_WARN_IFSD | CCID_WARN_FEAT_RFU |
	                                 CCID_WARN_MSG_LEN_CLAMP);
	assert_int_equal(d.max_msg_len, CCID_MSG_LEN_EXTENDED);
	assert_int_equal(d.dwMaxCCIDMessageLength, 0x00200000);
}

static void test_ccid_desc_encode_roundtrip(void **state)
{
	const char *all[] = {feitian, alcor, realtek};
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		uint8_t b[CCID_DESC_LEN], out[CCID_DESC_LEN];
		struct ccid_desc d;
		load(all[i], b);
		assert_int_equal(ccid_desc_decode(b, sizeof(b), &d), TC_OK);
		assert_int_equal(ccid_desc_encode(&d, out, sizeof(out)), CCID_DESC_LEN);
		assert_memory_equal(b, out, CCID_DESC_LEN);
		assert_int_equal(ccid_desc_encode(&d, out, CCID_DESC_LEN - 1), TC_E_OVERFLOW);
	}
}

static void test_ccid_desc_describe(void **state)
{
	uint8_t b[CCID_DESC_LEN];
	struct ccid_desc d;
	char text[400], tiny[12];
	(void)state;
	load(feitian, b);
	assert_int_equal(ccid_desc_parse(b, sizeof(b), &d, NULL, 0), TC_OK);
	ccid_desc_describe(&d, text, sizeof(text));
	const char *want[] = {"CCID 1.00",
	                      "1 slot,",
	                      "5V/3V/1.8V, T=0/T=1,",
	                      "clock 4000-8000 kHz",
	                      "10752-600000 bps",
	                      "TPDU level",
	                      "max message 271",
	                      "IFSD 248",
	                      "auto: clock baud",
	                      "warnings: [bMaxCCIDBusySlots]"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", text, want[i]);
	assert_ptr_equal(ccid_desc_describe(&d, tiny, sizeof(tiny)), tiny);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_string_equal(ccid_level_name(CCID_LEVEL_SHORT_APDU), "short APDU");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ccid_desc_feitian),
	    cmocka_unit_test(test_ccid_desc_alcor_realtek),
	    cmocka_unit_test(test_ccid_desc_refuses),
	    cmocka_unit_test(test_ccid_desc_short_and_trailing),
	    cmocka_unit_test(test_ccid_desc_levels_and_voltage),
	    cmocka_unit_test(test_ccid_desc_warnings),
	    cmocka_unit_test(test_ccid_desc_encode_roundtrip),
	    cmocka_unit_test(test_ccid_desc_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
