/* test_ccid_msg.c: CCID bulk and interrupt message codecs (driver/ccid_msg.h).
 * Byte layouts and codes are those of the CCID specification 1.1, chapter 6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ccid_msg.h"
#include "tc_error.h"
#include "tc_hex.h"

static size_t hex(const char *text, uint8_t *buf, size_t cap)
{
	int n = tc_hex_decode(text, buf, cap, NULL);
	assert_true(n >= 0);
	return (size_t)n;
}

static void expect_bytes(int len, const uint8_t *buf, const char *want_hex)
{
	uint8_t want[128];
	size_t n = hex(want_hex, want, sizeof(want));
	assert_int_equal(len, (int)n);
	assert_memory_equal(buf, want, n);
}

static const struct ccid_addr a0 = {.slot = 0, .seq = 0x11, .max_msg_len = 271};

static void test_ccid_msg_build_simple(void **state)
{
	uint8_t b[64];
	struct ccid_addr a = {.slot = 1, .seq = 0x22, .max_msg_len = 0};
	(void)state;
	expect_bytes(ccid_build_power_on(b, sizeof(b), &a, CCID_POWER_3V), b,
	             "62 00000000 01 22 02 0000");
	assert_int_equal(ccid_build_power_on(b, sizeof(b), &a, 4), TC_E_INVAL);
	expect_bytes(ccid_build_power_off(b, sizeof(b), &a), b, "63 00000000 01 22 000000");
	expect_bytes(ccid_build_get_slot_status(b, sizeof(b), &a), b, "65 00000000 01 22 000000");
	expect_bytes(ccid_build_get_parameters(b, sizeof(b), &a), b, "6C 00000000 01 22 000000");
	expect_bytes(ccid_build_abort(b, sizeof(b), &a), b, "72 00000000 01 22 000000");
	assert_int_equal(CCID_ABORT_WVALUE(1, 0x22), 0x2201);
	assert_int_equal(ccid_build_power_off(b, 9, &a), TC_E_OVERFLOW);
	assert_int_equal(ccid_build_power_off(NULL, 64, &a), TC_E_INVAL);
}

static void test_ccid_msg_build_xfr(void **state)
{
	uint8_t b[300], apdu[262];
	(void)state;
	expect_bytes(ccid_build_xfr_block(b, sizeof(b), &a0, 0x05, 0x1234,
	                                  (const uint8_t *)"\x00\xA4\x04\x00", 4),
	             b, "6F 04000000 00 11 05 3412 00A40400");
	memset(apdu, 0xAB, sizeof(apdu));
	/* 261 bytes fit 271; 262 do not. */
	assert_int_equal(ccid_build_xfr_block(b, sizeof(b), &a0, 0, 0, apdu, 261), 271);
	assert_int_equal(ccid_build_xfr_block(b, sizeof(b), &a0, 0, 0, apdu, 262), TC_E_LONG);
	assert_int_equal(ccid_build_xfr_block(b, 100, &a0, 0, 0, apdu, 200), TC_E_OVERFLOW);
	assert_int_equal(ccid_build_xfr_block(b, sizeof(b), &a0, 0, 0, NULL, 3), TC_E_INVAL);
	expect_bytes(ccid_build_escape(b, sizeof(b), &a0, (const uint8_t *)"\x01\x02", 2), b,
	             "6B 02000000 00 11 000000 0102");
}

static void test_ccid_msg_build_parameters(void **state)
{
	uint8_t b[64];
	struct ccid_t0_params p = {.bmFindexDindex = 0x95,
	                           .bmTCCKST0 = 0x02,
	                           .bGuardTimeT0 = 0x01,
	                           .bWaitingIntegerT0 = 0x0A,
	                           .bClockStop = 3};
	(void)state;
	expect_bytes(ccid_build_set_parameters_t0(b, sizeof(b), &a0, &p), b,
	             "61 05000000 00 11 000000 95 02 01 0A 03");
	p.bmTCCKST0 = 0x01;
	assert_int_equal(ccid_build_set_parameters_t0(b, sizeof(b), &a0, &p), TC_E_INVAL);
	p.bmTCCKST0 = 0x00;
	p.bClockStop = 4;
	assert_int_equal(ccid_build_set_parameters_t0(b, sizeof(b), &a0, &p), TC_E_INVAL);
	p.bClockStop = 0;
	p.bmFindexDindex = 0x90; /* DI 0 is RFU */
	assert_int_equal(ccid_build_set_parameters_t0(b, sizeof(b), &a0, &p), TC_E_INVAL);
	/* 4000 kHz, 10752 bps */
	expect_bytes(ccid_build_set_data_rate_clock(b, sizeof(b), &a0, 4000, 10752), b,
	             "73 08000000 00 11 000000 A00F0000 002A0000");
	assert_int_equal(ccid_build_set_data_rate_clock(b, sizeof(b), &a0, 0, 9600), TC_E_INVAL);
}

/* Parse hex as the answer to `req` from slot 0 seq 0x11 (max 271). */
static int parse(const char *text, uint8_t req, struct ccid_reply *r, char *why, size_t cap)
{
	static uint8_t buf[400];
	size_t n = hex(text, buf, sizeof(buf));
	return ccid_reply_parse(buf, n, req, &a0, r, why, cap);
}

static void test_ccid_msg_parse_ok(void **state)
{
	struct ccid_reply r;
	char why[160];
	(void)state;
	assert_int_equal(parse("80 04000000 00 11 00 00 00 3B020000", CCID_PC_ICC_POWER_ON, &r, why,
	                       sizeof(why)),
	                 TC_OK);
	assert_int_equal(r.length, 4);
	assert_memory_equal(r.data, "\x3B\x02\x00\x00", 4);
	assert_int_equal(r.icc, CCID_ICC_ACTIVE);
	assert_int_equal(r.cmd, CCID_CMD_OK);
	assert_int_equal(parse("81 00000000 00 11 01 00 02", CCID_PC_GET_SLOT_STATUS, &r, NULL, 0),
	                 TC_OK);
	assert_int_equal(r.icc, CCID_ICC_INACTIVE);
	assert_int_equal(r.specific, 2); /* bClockStatus: stopped in state H */
	assert_int_equal(
	    parse("82 05000000 00 11 00 00 00 9500010A03", CCID_PC_SET_PARAMETERS, &r, NULL, 0),
	    TC_OK);
	assert_int_equal(r.u.t0.bmFindexDindex, 0x95);
	assert_int_equal(r.u.t0.bWaitingIntegerT0, 0x0A);
	assert_int_equal(r.u.t0.bClockStop, 3);
	assert_int_equal(
	    parse("82 07000000 00 11 00 00 01 1110004D00FE00", CCID_PC_GET_PARAMETERS, &r, NULL, 0),
	    TC_OK);
	assert_int_equal(r.u.t1.bmWaitingIntegersT1, 0x4D);
	assert_int_equal(r.u.t1.bIFSC, 0xFE);
	assert_int_equal(parse("84 08000000 00 11 00 00 00 A00F0000002A0000",
	                       CCID_PC_SET_DATA_RATE_CLK, &r, NULL, 0),
	                 TC_OK);
	assert_int_equal(r.u.rate.clock_khz, 4000);
	assert_int_equal(r.u.rate.rate_bps, 10752);
	assert_int_equal(parse("83 00000000 00 11 00 00 00", CCID_PC_ESCAPE, &r, NULL, 0), TC_OK);
}

static void test_ccid_msg_parse_time_extension(void **state)
{
	struct ccid_reply r;
	char why[160];
	(void)state;
	assert_int_equal(
	    parse("80 00000000 00 11 80 03 00", CCID_PC_XFR_BLOCK, &r, why, sizeof(why)), TC_OK);
	assert_int_equal(r.cmd, CCID_CMD_TIME_EXT);
	assert_int_equal(r.error, 3);
	assert_non_null(strstr(why, "time extension"));
}

struct frame_case {
	const char *hex;
	uint8_t req;
	int rc;
	const char *why;
};

static void test_ccid_msg_parse_refuses(void **state)
{
	static const struct frame_case cases[] = {
	    {"80 00000000 00 11 00", CCID_PC_XFR_BLOCK, TC_E_SHORT, "shorter than its 10-byte"},
	    {"81 00000000 00 11 00 00 00", CCID_PC_XFR_BLOCK, TC_E_PROTOCOL,
	     "SlotStatus (0x81), expected DataBlock"},
	    {"80 00000000 00 12 00 00 00", CCID_PC_XFR_BLOCK, TC_E_PROTOCOL, "seq 18, expected"},
	    {"80 00000000 01 11 00 00 00", CCID_PC_XFR_BLOCK, TC_E_PROTOCOL, "slot 1 seq 17"},
	    {"80 03000000 00 11 00 00 00 9000", CCID_PC_XFR_BLOCK, TC_E_SHORT, "announces 13"},
	    {"80 01000000 00 11 00 00 00 9000", CCID_PC_XFR_BLOCK, TC_E_LONG, "1 bytes beyond"},
	    {"80 FFFFFFFF 00 11 00 00 00", CCID_PC_XFR_BLOCK, TC_E_SHORT, "announces 4294967305"},
	    {"80 00000000 00 11 03 00 00", CCID_PC_XFR_BLOCK, TC_E_PROTOCOL, "reserved bStatus"},
	    {"80 00000000 00 11 C0 00 00", CCID_PC_XFR_BLOCK, TC_E_PROTOCOL, "reserved bStatus"},
	    {"81 02000000 00 11 00 00 00 0000", CCID_PC_GET_SLOT_STATUS, TC_E_PROTOCOL,
	     "SlotStatus with 2 bytes"},
	    {"82 07000000 00 11 00 00 00 11000000000000", CCID_PC_SET_PARAMETERS, TC_E_PROTOCOL,
	     "protocol 0 with 7 bytes"},
	    {"84 04000000 00 11 00 00 00 A00F0000", CCID_PC_SET_DATA_RATE_CLK, TC_E_PROTOCOL,
	     "with 4 bytes"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ccid_reply r;
		char why[160] = "";
		int rc = parse(cases[i].hex, cases[i].req, &r, why, sizeof(why));
		if (rc != cases[i].rc || strstr(why, cases[i].why) == NULL)
			fail_msg("%s: rc %s why \"%s\", wanted %s \"%s\"", cases[i].hex,
			         tc_errname(rc), why, tc_errname(cases[i].rc), cases[i].why);
	}
}

static void test_ccid_msg_parse_max_len(void **state)
{
	uint8_t buf[300];
	struct ccid_reply r;
	char why[160];
	struct ccid_addr a = {.slot = 0, .seq = 1, .max_msg_len = 271};
	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = CCID_RDR_DATA_BLOCK;
	buf[1] = 262 & 0xFF;
	buf[2] = 262 >> 8;
	buf[6] = 1;
	assert_int_equal(ccid_reply_parse(buf, 272, CCID_PC_XFR_BLOCK, &a, &r, why, sizeof(why)),
	                 TC_E_LONG);
	assert_non_null(strstr(why, "dwMaxCCIDMessageLength 271"));
	a.max_msg_len = 0;
	assert_int_equal(ccid_reply_parse(buf, 272, CCID_PC_XFR_BLOCK, &a, &r, why, sizeof(why)),
	                 TC_OK);
	assert_int_equal(ccid_reply_parse(buf, 272, 0x99, &a, &r, why, sizeof(why)), TC_E_INVAL);
}

struct err_case {
	uint8_t error;
	uint8_t req;
	int rc;
	const char *name;
};

static void test_ccid_msg_errors(void **state)
{
	static const struct err_case cases[] = {
	    {0xFF, CCID_PC_XFR_BLOCK, TC_E_IO, "CMD_ABORTED"},
	    {0xFE, CCID_PC_ICC_POWER_ON, TC_E_MUTE, "ICC_MUTE"},
	    {0xFE, CCID_PC_XFR_BLOCK, TC_E_TIMEOUT, "ICC_MUTE"},
	    {0xFD, CCID_PC_XFR_BLOCK, TC_E_PARITY, "XFR_PARITY_ERROR"},
	    {0xFC, CCID_PC_XFR_BLOCK, TC_E_IO, "XFR_OVERRUN"},
	    {0xFB, CCID_PC_XFR_BLOCK, TC_E_IO, "HW_ERROR"},
	    {0xF8, CCID_PC_ICC_POWER_ON, TC_E_FORMAT, "BAD_ATR_TS"},
	    {0xF7, CCID_PC_ICC_POWER_ON, TC_E_CHECKSUM, "BAD_ATR_TCK"},
	    {0xF6, CCID_PC_SET_PARAMETERS, TC_E_UNSUPPORTED, "ICC_PROTOCOL_NOT_SUPPORTED"},
	    {0xF5, CCID_PC_ICC_POWER_ON, TC_E_CLASS, "ICC_CLASS_NOT_SUPPORTED"},
	    {0xF4, CCID_PC_XFR_BLOCK, TC_E_PROTOCOL, "PROCEDURE_BYTE_CONFLICT"},
	    {0xF3, CCID_PC_XFR_BLOCK, TC_E_STATE, "DEACTIVATED_PROTOCOL"},
	    {0xF2, CCID_PC_XFR_BLOCK, TC_E_STATE, "BUSY_WITH_AUTO_SEQUENCE"},
	    {0xF0, CCID_PC_XFR_BLOCK, TC_E_TIMEOUT, "PIN_TIMEOUT"},
	    {0xEF, CCID_PC_XFR_BLOCK, TC_E_STATE, "PIN_CANCELLED"},
	    {0xE0, CCID_PC_XFR_BLOCK, TC_E_STATE, "CMD_SLOT_BUSY"},
	    {0x00, CCID_PC_XFR_BLOCK, TC_E_UNSUPPORTED, "CMD_NOT_SUPPORTED"},
	    {0x07, CCID_PC_ICC_POWER_ON, TC_E_INVAL, "BAD_PARAMETER"},
	    {0x90, CCID_PC_XFR_BLOCK, TC_E_IO, "VENDOR"},
	    {0xF9, CCID_PC_XFR_BLOCK, TC_E_IO, "UNKNOWN"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[16] = {
		    ccid_reply_type_for(cases[i].req), 0, 0, 0, 0, 0, 0x11, 0x40, cases[i].error};
		struct ccid_reply r;
		char why[160] = "";
		int rc = ccid_reply_parse(buf, 10, cases[i].req, &a0, &r, why, sizeof(why));
		if (rc != cases[i].rc || strstr(why, cases[i].name) == NULL || r.type == 0 ||
		    r.cmd != CCID_CMD_FAILED)
			fail_msg("bError 0x%02X: rc %s why \"%s\", wanted %s \"%s\"",
			         cases[i].error, tc_errname(rc), why, tc_errname(cases[i].rc),
			         cases[i].name);
		assert_string_equal(ccid_error_name(cases[i].error), cases[i].name);
		assert_true(strlen(ccid_error_text(cases[i].error)) > 5);
	}
}

static void test_ccid_msg_no_card(void **state)
{
	struct ccid_reply r;
	char why[160];
	(void)state;
	/* Failed with the card absent: the absence is what counts. */
	assert_int_equal(
	    parse("80 00000000 00 11 42 FE 00", CCID_PC_ICC_POWER_ON, &r, why, sizeof(why)),
	    TC_E_NO_CARD);
	assert_non_null(strstr(why, "no card in slot 0"));
	/* A mute card that is present. */
	assert_int_equal(
	    parse("80 00000000 00 11 41 FE 00", CCID_PC_ICC_POWER_ON, &r, why, sizeof(why)),
	    TC_E_MUTE);
	assert_non_null(strstr(why, "did not answer"));
	/* GetSlotStatus succeeds and reports the absence. */
	assert_int_equal(parse("81 00000000 00 11 02 00 00", CCID_PC_GET_SLOT_STATUS, &r, NULL, 0),
	                 TC_OK);
	assert_int_equal(r.icc, CCID_ICC_ABSENT);
}

static void test_ccid_msg_reply_types(void **state)
{
	(void)state;
	assert_int_equal(ccid_reply_type_for(CCID_PC_ICC_POWER_ON), CCID_RDR_DATA_BLOCK);
	assert_int_equal(ccid_reply_type_for(CCID_PC_XFR_BLOCK), CCID_RDR_DATA_BLOCK);
	assert_int_equal(ccid_reply_type_for(CCID_PC_ICC_POWER_OFF), CCID_RDR_SLOT_STATUS);
	assert_int_equal(ccid_reply_type_for(CCID_PC_ABORT), CCID_RDR_SLOT_STATUS);
	assert_int_equal(ccid_reply_type_for(CCID_PC_SET_PARAMETERS), CCID_RDR_PARAMETERS);
	assert_int_equal(ccid_reply_type_for(CCID_PC_ESCAPE), CCID_RDR_ESCAPE);
	assert_int_equal(ccid_reply_type_for(CCID_PC_SET_DATA_RATE_CLK), CCID_RDR_DATA_RATE_CLK);
	assert_int_equal(ccid_reply_type_for(0x80), 0);
}

static void test_ccid_msg_interrupt(void **state)
{
	struct ccid_intr in;
	char why[160];
	(void)state;
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x50\x03", 2, 0, &in, why, sizeof(why)),
	                 TC_OK);
	assert_true(ccid_intr_present(&in, 0));
	assert_true(ccid_intr_changed(&in, 0));
	assert_false(ccid_intr_present(&in, 1));
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x50\x02", 2, 0, &in, NULL, 0), TC_OK);
	assert_false(ccid_intr_present(&in, 0));
	assert_true(ccid_intr_changed(&in, 0));
	/* 4 slots: 11 00 01 11 from slot 3 down to slot 0. */
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x50\xC7", 2, 3, &in, NULL, 0), TC_OK);
	assert_true(ccid_intr_present(&in, 0) && ccid_intr_changed(&in, 0));
	assert_true(ccid_intr_present(&in, 1) && !ccid_intr_changed(&in, 1));
	assert_true(!ccid_intr_present(&in, 2) && !ccid_intr_changed(&in, 2));
	assert_true(ccid_intr_present(&in, 3) && ccid_intr_changed(&in, 3));
	/* 5 slots need two bytes of bitmap; padding after the message is fine. */
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x50\xC7", 2, 4, &in, why, sizeof(why)),
	                 TC_E_SHORT);
	assert_non_null(strstr(why, "5 slots need 3"));
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x50\xC7\x01\x00", 4, 4, &in, NULL, 0),
	                 TC_OK);
	assert_true(ccid_intr_present(&in, 4));
	/* HardwareError: slot 1, seq 5, overcurrent. */
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x51\x01\x05\x01", 4, 1, &in, NULL, 0),
	                 TC_OK);
	assert_int_equal(in.type, CCID_RDR_HARDWARE_ERROR);
	assert_int_equal(in.slot, 1);
	assert_int_equal(in.seq, 5);
	assert_int_equal(in.hw_error, CCID_HW_OVERCURRENT);
	assert_false(ccid_intr_present(&in, 1));
	assert_int_equal(
	    ccid_intr_parse((const uint8_t *)"\x51\x02\x05\x01", 4, 1, &in, why, sizeof(why)),
	    TC_E_PROTOCOL);
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x51\x00\x05", 3, 1, &in, NULL, 0),
	                 TC_E_SHORT);
	assert_int_equal(ccid_intr_parse((const uint8_t *)"\x52\x00", 2, 0, &in, why, sizeof(why)),
	                 TC_E_PROTOCOL);
	assert_non_null(strstr(why, "0x52"));
	assert_int_equal(ccid_intr_parse((const uint8_t *)"", 0, 0, &in, NULL, 0), TC_E_SHORT);
}

/* wLevelParameter of each piece of a chained command. */
static void test_ccid_msg_chain_tx(void **state)
{
	struct ccid_reply r;
	char why[160];
	(void)state;
	assert_int_equal(ccid_chain_tx_param(0, 10, 10), CCID_XFR_WHOLE);
	assert_int_equal(ccid_chain_tx_param(0, 0, 0), CCID_XFR_WHOLE);
	assert_int_equal(ccid_chain_tx_param(0, 261, 600), CCID_XFR_BEGIN);
	assert_int_equal(ccid_chain_tx_param(261, 261, 600), CCID_XFR_MIDDLE);
	assert_int_equal(ccid_chain_tx_param(522, 78, 600), CCID_XFR_END);
	/* The acknowledgement of a piece: empty, "more, please". */
	assert_int_equal(parse("80 00000000 00 11 00 00 10", CCID_PC_XFR_BLOCK, &r, NULL, 0),
	                 TC_OK);
	assert_int_equal(ccid_chain_tx_ack(&r, why, sizeof(why)), TC_OK);
	assert_int_equal(parse("80 00000000 00 11 00 00 00", CCID_PC_XFR_BLOCK, &r, NULL, 0),
	                 TC_OK);
	assert_int_equal(ccid_chain_tx_ack(&r, why, sizeof(why)), TC_E_PROTOCOL);
	assert_non_null(strstr(why, "0x10"));
	assert_int_equal(parse("80 02000000 00 11 00 00 10 9000", CCID_PC_XFR_BLOCK, &r, NULL, 0),
	                 TC_OK);
	assert_int_equal(ccid_chain_tx_ack(&r, why, sizeof(why)), TC_E_PROTOCOL);
	/* An XfrBlock asking for more of the response is empty, 0x0010. */
	uint8_t buf[16];
	expect_bytes(ccid_build_xfr_block(buf, sizeof(buf), &a0, 0, CCID_XFR_MORE, NULL, 0), buf,
	             "6F 00000000 00 11 00 10 00");
}

/* Feed a DataBlock of n bytes with bChainParameter p. */
static int chain_piece(struct ccid_chain *c, uint8_t p, uint32_t n, char *why, size_t cap)
{
	struct ccid_reply r;
	memset(&r, 0, sizeof(r));
	r.type = CCID_RDR_DATA_BLOCK;
	r.specific = p;
	r.length = n;
	return ccid_chain_rx(c, &r, why, cap);
}

static void test_ccid_msg_chain_rx(void **state)
{
	struct ccid_chain c;
	char why[160];
	(void)state;
	/* Whole in one. */
	ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_WHOLE, 258, why, sizeof(why)), TC_OK);
	assert_true(c.done);
	assert_int_equal(c.got, 258);
	/* Begin, continue, end. */
	ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_BEGIN, 261, why, sizeof(why)), TC_OK);
	assert_false(c.done);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_MIDDLE, 261, why, sizeof(why)), TC_OK);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_END, 2, why, sizeof(why)), TC_OK);
	assert_true(c.done);
	assert_int_equal(c.got, 524);
	assert_int_equal(c.pieces, 3);
	/* Nothing after the end. */
	assert_int_equal(chain_piece(&c, CCID_CHAIN_END, 2, why, sizeof(why)), TC_E_INVAL);
	/* Out of order: continuing first, beginning twice, 0x10, reserved. */
	static const uint8_t bad_first[] = {CCID_CHAIN_END, CCID_CHAIN_MIDDLE, CCID_CHAIN_MORE,
	                                    0x04};
	for (size_t i = 0; i < sizeof(bad_first); i++) {
		ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
		why[0] = '\0';
		assert_int_equal(chain_piece(&c, bad_first[i], 4, why, sizeof(why)), TC_E_PROTOCOL);
		assert_non_null(strstr(why, "out of order"));
	}
	static const uint8_t bad_next[] = {CCID_CHAIN_WHOLE, CCID_CHAIN_BEGIN, CCID_CHAIN_MORE,
	                                   0x83};
	for (size_t i = 0; i < sizeof(bad_next); i++) {
		ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
		assert_int_equal(chain_piece(&c, CCID_CHAIN_BEGIN, 4, why, sizeof(why)), TC_OK);
		assert_int_equal(chain_piece(&c, bad_next[i], 4, why, sizeof(why)), TC_E_PROTOCOL);
	}
	/* An empty piece announcing more would never end. */
	ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_BEGIN, 0, why, sizeof(why)), TC_E_PROTOCOL);
	assert_non_null(strstr(why, "empty"));
	/* Bounded: a chain that keeps going stops at the limit. */
	ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
	int rc = chain_piece(&c, CCID_CHAIN_BEGIN, 30000, why, sizeof(why));
	unsigned steps = 0;
	while (rc == TC_OK && steps++ < 10)
		rc = chain_piece(&c, CCID_CHAIN_MIDDLE, 30000, why, sizeof(why));
	assert_int_equal(rc, TC_E_LONG);
	assert_int_equal(steps, 2);
	assert_int_equal(c.got, 60000);
	assert_non_null(strstr(why, "65538"));
	/* Exactly at the limit is fine. */
	ccid_chain_init(&c, 10);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_BEGIN, 6, why, sizeof(why)), TC_OK);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_END, 4, why, sizeof(why)), TC_OK);
	ccid_chain_init(&c, 10);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_BEGIN, 6, why, sizeof(why)), TC_OK);
	assert_int_equal(chain_piece(&c, CCID_CHAIN_END, 5, why, sizeof(why)), TC_E_LONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ccid_msg_build_simple),
	    cmocka_unit_test(test_ccid_msg_build_xfr),
	    cmocka_unit_test(test_ccid_msg_build_parameters),
	    cmocka_unit_test(test_ccid_msg_parse_ok),
	    cmocka_unit_test(test_ccid_msg_parse_time_extension),
	    cmocka_unit_test(test_ccid_msg_parse_refuses),
	    cmocka_unit_test(test_ccid_msg_parse_max_len),
	    cmocka_unit_test(test_ccid_msg_errors),
	    cmocka_unit_test(test_ccid_msg_no_card),
	    cmocka_unit_test(test_ccid_msg_reply_types),
	    cmocka_unit_test(test_ccid_msg_interrupt),
	    cmocka_unit_test(test_ccid_msg_chain_tx),
	    cmocka_unit_test(test_ccid_msg_chain_rx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
