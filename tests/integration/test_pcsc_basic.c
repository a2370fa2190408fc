/* test_pcsc_basic.c: one loopback reader with tokencard-sim under a private
 * pcscd, driven through libpcsclite as an application does: readers,
 * card events, T=0 connection, ATR, the reader test application at every
 * length, the part 10 features, extended APDUs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <reader.h>
#include <winscard.h>

#include "pcsc_rig.h"

/* The card offers TA1 = 95 (Fi 512, Di 16), so the connection runs PPS; it
 * keeps the default class indicator (A, B, C), so its ATR ends with a TCK. */
#define CARD_CONFIG "ta1 = 95\nhistorical = 54 43\n"
static const uint8_t card_atr[] = {0x3B, 0x92, 0x95, 0x80, 0x1F, 0x07, 0x54, 0x43, 0x88};

struct fixture {
	struct pcsc_rig *rig;
	SCARDCONTEXT ctx;
	char reader[PCSC_READER_NAME_LEN];
};

static int group_setup(void **state)
{
	static struct fixture f;
	const struct pcsc_rig_opts o = {.readers = 1, .card_config = CARD_CONFIG};

	f.rig = pcsc_rig_start(&o);
	if (!f.rig)
		return -1;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &f.ctx) != SCARD_S_SUCCESS ||
	    pcsc_reader_name(f.ctx, 0, f.reader, sizeof(f.reader)) != SCARD_S_SUCCESS) {
		pcsc_rig_stop(f.rig);
		return -1;
	}
	*state = &f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	(void)SCardReleaseContext(f->ctx);
	pcsc_rig_stop(f->rig);
	return 0;
}

static SCARDHANDLE connect_t0(struct fixture *f)
{
	SCARDHANDLE h = 0;
	DWORD proto = 0;
	DWORD st;
	assert_int_equal(pcsc_wait_state(f->ctx, f->reader, SCARD_STATE_PRESENT, 2000, &st),
	                 SCARD_S_SUCCESS);
	LONG rv =
	    SCardConnect(f->ctx, f->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &h, &proto);
	if (rv != SCARD_S_SUCCESS)
		fail_msg("SCardConnect: %s", pcsc_stringify_error(rv));
	assert_int_equal(proto, SCARD_PROTOCOL_T0);
	return h;
}

static void check(int rc, const char *why)
{
	if (rc != 0)
		fail_msg("%s", why);
}

static void test_pcsc_readers_listed(void **state)
{
	struct fixture *f = *state;
	char buf[1024];
	DWORD len = sizeof(buf);
	unsigned n = 0;

	assert_int_equal(SCardListReaders(f->ctx, NULL, buf, &len), SCARD_S_SUCCESS);
	for (const char *p = buf; *p; p += strlen(p) + 1) {
		print_message("reader: %s\n", p);
		n++;
	}
	assert_int_equal(n, 1);
	assert_string_equal(f->reader, "tokencard loopback 0 00 00");
}

static void test_pcsc_card_seen_with_atr(void **state)
{
	struct fixture *f = *state;
	SCARD_READERSTATE rs = {.szReader = f->reader, .dwCurrentState = SCARD_STATE_UNAWARE};
	long long end = pcsc_now_ms() + 2000;

	do {
		assert_int_equal(SCardGetStatusChange(f->ctx, 500, &rs, 1), SCARD_S_SUCCESS);
		rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	} while (!(rs.dwEventState & SCARD_STATE_PRESENT) && pcsc_now_ms() < end);
	assert_true(rs.dwEventState & SCARD_STATE_PRESENT);
	assert_false(rs.dwEventState & SCARD_STATE_MUTE);
	assert_int_equal(rs.cbAtr, sizeof(card_atr));
	assert_memory_equal(rs.rgbAtr, card_atr, sizeof(card_atr));
}

static void test_pcsc_connect_t0_status_atr(void **state)
{
	struct fixture *f = *state;
	SCARDHANDLE h = connect_t0(f);
	char name[PCSC_READER_NAME_LEN];
	DWORD name_len = sizeof(name), st = 0, proto = 0, atr_len = MAX_ATR_SIZE;
	uint8_t atr[MAX_ATR_SIZE];

	assert_int_equal(SCardStatus(h, name, &name_len, &st, &proto, atr, &atr_len),
	                 SCARD_S_SUCCESS);
	assert_string_equal(name, f->reader);
	assert_int_equal(proto, SCARD_PROTOCOL_T0);
	print_message("SCardStatus state 0x%lX\n", (unsigned long)st);
	assert_true(st & SCARD_PRESENT);
	assert_true(st & SCARD_POWERED);
	assert_int_equal(atr_len, sizeof(card_atr));
	assert_memory_equal(atr, card_atr, sizeof(card_atr));
	/* PPS took the card's TA1. The sim's status shows the new factors only
	 * from the reader's first character after PPS: send one APDU first. */
	char F[16], D[16], why[PCSC_RIG_WHY_LEN];
	check(testapp_select(h, why, sizeof(why)), why);
	assert_int_equal(pcsc_rig_card_status(f->rig, 0, "F", F, sizeof(F)), 0);
	assert_int_equal(pcsc_rig_card_status(f->rig, 0, "D", D, sizeof(D)), 0);
	assert_string_equal(F, "512");
	assert_string_equal(D, "16");
	assert_int_equal(SCardDisconnect(h, SCARD_LEAVE_CARD), SCARD_S_SUCCESS);
}

static void test_pcsc_testapp_every_length(void **state)
{
	struct fixture *f = *state;
	SCARDHANDLE h = connect_t0(f);
	char why[PCSC_RIG_WHY_LEN];
	static const uint8_t times[] = {0x00, 0x01, 0x05, 0x20};

	long long t0 = pcsc_now_ms();
	check(testapp_select(h, why, sizeof(why)), why);
	for (unsigned len = 1; len <= 256; len++) {
		check(testapp_case(h, 2, len, why, sizeof(why)), why);
		if (len <= 255)
			check(testapp_case(h, 3, len, why, sizeof(why)), why);
		check(testapp_case(h, 4, len, why, sizeof(why)), why);
	}
	check(testapp_case(h, 1, 0, why, sizeof(why)), why);
	for (size_t i = 0; i < sizeof(times); i++)
		check(testapp_time(h, times[i], why, sizeof(why)), why);
	print_message("%d APDUs in %lld ms\n", 3 * 256 + 1 + (int)sizeof(times),
	              pcsc_now_ms() - t0);
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
}

/* The control code of feature tag in a GET_FEATURE_REQUEST answer, 0 when absent. */
static DWORD feature_code(const uint8_t *p, DWORD n, uint8_t tag)
{
	for (DWORD i = 0; i + 6 <= n; i += 6)
		if (p[i] == tag && p[i + 1] == 4)
			return (DWORD)p[i + 2] << 24 | (DWORD)p[i + 3] << 16 |
			       (DWORD)p[i + 4] << 8 | p[i + 5];
	return 0;
}

/* A little-endian TLV property value; -1 when absent. */
static long long tlv_property(const uint8_t *p, DWORD n, uint8_t tag)
{
	for (DWORD i = 0; i + 2 <= n && i + 2 + p[i + 1] <= n; i += 2u + p[i + 1]) {
		if (p[i] != tag)
			continue;
		long long v = 0;
		for (int k = p[i + 1] - 1; k >= 0; k--)
			v = v << 8 | p[i + 2 + k];
		return v;
	}
	return -1;
}

static void test_pcsc_features_max_apdu(void **state)
{
	struct fixture *f = *state;
	SCARDHANDLE h = connect_t0(f);
	uint8_t buf[256];
	DWORD n = 0;

	assert_int_equal(
	    SCardControl(h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof(buf), &n),
	    SCARD_S_SUCCESS);
	DWORD code = feature_code(buf, n, FEATURE_GET_TLV_PROPERTIES);
	assert_int_not_equal(code, 0);
	assert_int_equal(SCardControl(h, code, NULL, 0, buf, sizeof(buf), &n), SCARD_S_SUCCESS);
	long long max = tlv_property(buf, n, PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize);
	print_message("dwMaxAPDUDataSize = %lld\n", max);
	assert_int_equal(max, 65535);
	assert_int_equal(SCardDisconnect(h, SCARD_LEAVE_CARD), SCARD_S_SUCCESS);
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

/* Case 2E: Le above 256. With P1P2 = 0100 the card has 256 bytes, which the
 * driver's P3 = 00 fetches; with P1P2 = 03E8 and FFFF the card answers 256
 * bytes and 61xx, and the driver chains GET RESPONSE. */
static void test_pcsc_extended_case_2e(void **state)
{
	struct fixture *f = *state;
	SCARDHANDLE h = connect_t0(f);
	static uint8_t resp[65538];
	size_t got;
	uint16_t sw;
	char why[PCSC_RIG_WHY_LEN];
	static const uint8_t apdus[][7] = {{0x80, 0x34, 0x01, 0x00, 0x00, 0x02, 0x00},
	                                   {0x80, 0x34, 0x03, 0xE8, 0x00, 0x03, 0xE8},
	                                   {0x80, 0x34, 0xFF, 0xFF, 0x00, 0x00, 0x00}};
	static const size_t want[] = {256, 1000, 65535};

	check(testapp_select(h, why, sizeof(why)), why);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(
		    pcsc_apdu(h, apdus[k], sizeof(apdus[k]), resp, sizeof(resp), &got, &sw),
		    SCARD_S_SUCCESS);
		assert_int_equal(sw, 0x9000);
		assert_int_equal(got, want[k]);
		for (size_t i = 0; i < got; i++)
			assert_int_equal(resp[i], (uint8_t)i);
	}
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
}

/* Case 3E (Lc 300) and 4E (Lc 300, Le 256; Lc 503, Le 1000, whose data ends
 * with the second full ENVELOPE, 7 + 503 = 510 bytes, and whose Le goes
 * alone): the driver cuts the command into ENVELOPE (INS C2) TPDUs. */
static void test_pcsc_extended_case_3e_4e(void **state)
{
	struct fixture *f = *state;
	SCARDHANDLE h = connect_t0(f);
	static uint8_t apdu[4 + 3 + 503 + 2], resp[1024];
	size_t got;
	uint16_t sw;
	char why[PCSC_RIG_WHY_LEN];

	check(testapp_select(h, why, sizeof(why)), why);
	memcpy(apdu, (const uint8_t[]){0x80, 0x32, 0x00, 0x00, 0x00, 0x01, 0x2C}, 7);
	fill_pattern(apdu + 7, 300, 0x40);
	assert_int_equal(pcsc_apdu(h, apdu, 7 + 300, resp, sizeof(resp), &got, &sw),
	                 SCARD_S_SUCCESS);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(got, 0);
	apdu[1] = 0x36;
	apdu[2] = 0x01;
	apdu[7 + 300] = 0x01; /* Le 0100 */
	apdu[7 + 301] = 0x00;
	assert_int_equal(pcsc_apdu(h, apdu, 7 + 300 + 2, resp, sizeof(resp), &got, &sw),
	                 SCARD_S_SUCCESS);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(got, 256);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(resp[i], (uint8_t)i);
	memcpy(apdu, (const uint8_t[]){0x80, 0x36, 0x03, 0xE8, 0x00, 0x01, 0xF7}, 7); /* Lc 503 */
	fill_pattern(apdu + 7, 503, 0x40);
	apdu[7 + 503] = 0x03; /* Le 03E8 */
	apdu[7 + 504] = 0xE8;
	assert_int_equal(pcsc_apdu(h, apdu, sizeof(apdu), resp, sizeof(resp), &got, &sw),
	                 SCARD_S_SUCCESS);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(got, 1000);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(resp[i], (uint8_t)i);
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcsc_readers_listed),
	    cmocka_unit_test(test_pcsc_card_seen_with_atr),
	    cmocka_unit_test(test_pcsc_connect_t0_status_atr),
	    cmocka_unit_test(test_pcsc_testapp_every_length),
	    cmocka_unit_test(test_pcsc_features_max_apdu),
	    cmocka_unit_test(test_pcsc_extended_case_2e),
	    cmocka_unit_test(test_pcsc_extended_case_3e_4e),
	};
	return cmocka_run_group_tests_name("pcsc_basic", tests, group_setup, group_teardown);
}
