/* test_pcsc_faults.c: faults seen through libpcsclite: a card pulled in the
 * middle of an APDU, a mute card, a card that refuses PPS or answers it
 * wrongly, pcscd restarted under a connected client, and card events seen by
 * SCardGetStatusChange within a generous bound. Every test leaves the card
 * inserted, unmuted and with the default settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <winscard.h>

#include "pcsc_rig.h"

#define EVENT_MS 2000 /* generous: the latency itself is a benchmark */

struct fixture {
	struct pcsc_rig *rig;
	SCARDCONTEXT ctx;
	char reader[PCSC_READER_NAME_LEN];
};

static int group_setup(void **state)
{
	static struct fixture f;
	const struct pcsc_rig_opts o = {.readers = 1};

	f.rig = pcsc_rig_start(&o);
	*state = &f;
	return f.rig ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	pcsc_rig_stop(f->rig);
	return 0;
}

/* A fresh context per test: the pcscd restart test kills the old ones. */
static int setup(void **state)
{
	struct fixture *f = *state;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &f->ctx) != SCARD_S_SUCCESS)
		return -1;
	return pcsc_reader_name(f->ctx, 0, f->reader, sizeof(f->reader)) == SCARD_S_SUCCESS ? 0
	                                                                                    : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	(void)SCardReleaseContext(f->ctx);
	return 0;
}

static void check(int rc, const char *why)
{
	if (rc != 0)
		fail_msg("%s", why);
}

static void card(struct fixture *f, const char *line)
{
	char reply[256];
	if (pcsc_rig_card(f->rig, 0, line, reply, sizeof(reply)) != 0)
		fail_msg("card control '%s': %s", line, reply);
}

static void wait_state(struct fixture *f, DWORD want, const char *what)
{
	DWORD st = 0;
	LONG rv = pcsc_wait_state(f->ctx, f->reader, want, EVENT_MS, &st);
	if (rv != SCARD_S_SUCCESS)
		fail_msg("%s: %s (state 0x%lX)", what, pcsc_stringify_error(rv), (unsigned long)st);
}

/* Pull the card and put it back (settings that apply from the next power-on). */
static void reinsert(struct fixture *f)
{
	assert_int_equal(pcsc_rig_remove(f->rig, 0), 0);
	wait_state(f, SCARD_STATE_EMPTY, "card removed");
	assert_int_equal(pcsc_rig_insert(f->rig, 0), 0);
	wait_state(f, SCARD_STATE_PRESENT, "card inserted");
}

static SCARDHANDLE connect_t0(struct fixture *f)
{
	SCARDHANDLE h = 0;
	DWORD proto = 0;
	LONG rv =
	    SCardConnect(f->ctx, f->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &h, &proto);
	if (rv != SCARD_S_SUCCESS)
		fail_msg("SCardConnect: %s (0x%lX)", pcsc_stringify_error(rv), (unsigned long)rv);
	assert_int_equal(proto, SCARD_PROTOCOL_T0);
	return h;
}

static void exchange_ok(SCARDHANDLE h)
{
	char why[PCSC_RIG_WHY_LEN];
	check(testapp_case(h, 4, 200, why, sizeof(why)), why);
	check(testapp_case(h, 2, 256, why, sizeof(why)), why);
}

static bool one_of(LONG rv, const LONG *ok, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rv == ok[i])
			return true;
	return false;
}

/* The card leaves at its 100th character since power-on: the default ATR
 * is 13, the PPS echo 4, the case 2 answer ACK + 256 bytes + SW, so it goes
 * in the data. */
static void test_pcsc_card_pulled_mid_apdu(void **state)
{
	struct fixture *f = *state;
	static const LONG clean[] = {SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD,
	                             SCARD_W_RESET_CARD};
	uint8_t resp[258];
	size_t n;
	uint16_t sw;

	assert_int_equal(pcsc_rig_remove(f->rig, 0), 0);
	wait_state(f, SCARD_STATE_EMPTY, "card removed");
	card(f, "set remove_at=100"); /* counted from the next power-on */
	assert_int_equal(pcsc_rig_insert(f->rig, 0), 0);
	wait_state(f, SCARD_STATE_PRESENT, "card inserted");
	SCARDHANDLE h = connect_t0(f);
	const uint8_t apdu[] = {0x80, 0x34, 0x01, 0x00, 0x00};
	LONG rv = pcsc_apdu(h, apdu, sizeof(apdu), resp, sizeof(resp), &n, &sw);
	print_message("transmit with the card pulled: %s (0x%lX)\n", pcsc_stringify_error(rv),
	              (unsigned long)rv);
	if (!one_of(rv, clean, 3))
		fail_msg("card pulled mid-APDU: %s (0x%lX), expected a removed-card error",
		         pcsc_stringify_error(rv), (unsigned long)rv);
	wait_state(f, SCARD_STATE_EMPTY, "card gone after the pull");
	rv = pcsc_apdu(h, apdu, sizeof(apdu), resp, sizeof(resp), &n, &sw);
	assert_true(one_of(rv, clean, 3));
	(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	/* the next insertion works */
	assert_int_equal(pcsc_rig_insert(f->rig, 0), 0);
	wait_state(f, SCARD_STATE_PRESENT, "card inserted again");
	h = connect_t0(f);
	exchange_ok(h);
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
}

static void test_pcsc_mute_card_then_unmuted(void **state)
{
	struct fixture *f = *state;
	SCARDHANDLE h = 0;
	DWORD proto = 0, st = 0;
	/* pcsc-lite 1.9 retries the power-up in SCardConnect and, when it fails
	 * again, answers SCARD_W_UNPOWERED_CARD ("Card Not Powered") */
	static const LONG clean[] = {SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD,
	                             SCARD_E_NO_SMARTCARD};

	card(f, "set mute=yes");
	reinsert(f);
	LONG rv = pcsc_wait_state(f->ctx, f->reader, SCARD_STATE_MUTE, EVENT_MS, &st);
	print_message("mute card: reader state 0x%lX\n", (unsigned long)st);
	if (rv != SCARD_S_SUCCESS) {
		card(f, "set mute=no");
		fail_msg("a mute card is not reported SCARD_STATE_MUTE: %s",
		         pcsc_stringify_error(rv));
	}
	rv = SCardConnect(f->ctx, f->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &h, &proto);
	print_message("SCardConnect to a mute card: %s (0x%lX)\n", pcsc_stringify_error(rv),
	              (unsigned long)rv);
	card(f, "set mute=no");
	if (rv == SCARD_S_SUCCESS)
		(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	assert_true(one_of(rv, clean, 3));
	/* un-muted: a new connection powers the card again */
	rv = SCardConnect(f->ctx, f->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &h, &proto);
	print_message("SCardConnect after un-muting: %s (0x%lX)\n", pcsc_stringify_error(rv),
	              (unsigned long)rv);
	if (rv != SCARD_S_SUCCESS) {
		reinsert(f); /* leave the card usable for the next tests */
		fail_msg("un-muted card still refused without a re-insertion: %s",
		         pcsc_stringify_error(rv));
	}
	exchange_ok(h);
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
}

/* A card offering TA1 = 95 (Fi 512, Di 16) whose PPS goes wrong in mode
 * `mode` still works, at Fd/Dd. */
static void pps_fails(struct fixture *f, const char *mode)
{
	char line[64], F[16], D[16];

	card(f, "set ta1=95");
	snprintf(line, sizeof(line), "set pps=%s", mode);
	card(f, line);
	reinsert(f); /* the ATR applies from the next reset */
	SCARDHANDLE h = connect_t0(f);
	/* the default ATR with TA1 95 offered (and its TCK) */
	static const uint8_t offer[] = {0x3B, 0x96, 0x95, 0x80, 0x1F, 0x07, 0x80,
	                                0x31, 0xC0, 0x82, 0x90, 0x00, 0xF8};
	uint8_t atr[MAX_ATR_SIZE];
	DWORD atr_len = sizeof(atr), st, proto;
	assert_int_equal(SCardStatus(h, NULL, NULL, &st, &proto, atr, &atr_len), SCARD_S_SUCCESS);
	assert_int_equal(atr_len, sizeof(offer));
	assert_memory_equal(atr, offer, sizeof(offer));
	exchange_ok(h);
	assert_int_equal(pcsc_rig_card_status(f->rig, 0, "F", F, sizeof(F)), 0);
	assert_int_equal(pcsc_rig_card_status(f->rig, 0, "D", D, sizeof(D)), 0);
	print_message("pps=%s: the card runs at F=%s D=%s\n", mode, F, D);
	assert_string_equal(F, "372");
	assert_string_equal(D, "1");
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
	card(f, "set pps=accept");
	card(f, "set ta1=96"); /* the default */
	reinsert(f);
}

static void test_pcsc_pps_refused_default_speed(void **state)
{
	pps_fails(*state, "refuse");
}

static void test_pcsc_pps_wrong_answer_default_speed(void **state)
{
	pps_fails(*state, "wrong");
}

static void test_pcsc_pcscd_restarted_under_client(void **state)
{
	struct fixture *f = *state;
	static const LONG clean[] = {SCARD_E_NO_SERVICE, SCARD_E_INVALID_HANDLE, SCARD_F_COMM_ERROR,
	                             SCARD_E_SERVICE_STOPPED, SCARD_E_READER_UNAVAILABLE};
	SCARDHANDLE h = connect_t0(f);
	exchange_ok(h);
	assert_int_equal(pcsc_rig_restart_pcscd(f->rig), 0);
	const uint8_t apdu[] = {0x80, 0x30, 0x00, 0x00};
	uint16_t sw;
	LONG rv = pcsc_apdu(h, apdu, sizeof(apdu), NULL, 0, NULL, &sw);
	print_message("transmit after the pcscd restart: %s (0x%lX)\n", pcsc_stringify_error(rv),
	              (unsigned long)rv);
	if (!one_of(rv, clean, sizeof(clean) / sizeof(clean[0])))
		fail_msg("old handle after pcscd restart: %s (0x%lX)", pcsc_stringify_error(rv),
		         (unsigned long)rv);
	(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	(void)SCardReleaseContext(f->ctx);
	/* a fresh context works */
	assert_int_equal(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &f->ctx),
	                 SCARD_S_SUCCESS);
	assert_int_equal(pcsc_reader_name(f->ctx, 0, f->reader, sizeof(f->reader)),
	                 SCARD_S_SUCCESS);
	wait_state(f, SCARD_STATE_PRESENT, "card after the restart");
	h = connect_t0(f);
	exchange_ok(h);
	assert_int_equal(SCardDisconnect(h, SCARD_RESET_CARD), SCARD_S_SUCCESS);
}

/* Time from the control command to the event, against the current state. */
static long long event_ms(struct fixture *f, bool insert, DWORD want)
{
	SCARD_READERSTATE rs = {.szReader = f->reader, .dwCurrentState = SCARD_STATE_UNAWARE};
	assert_int_equal(SCardGetStatusChange(f->ctx, 0, &rs, 1), SCARD_S_SUCCESS);
	rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	long long t0 = pcsc_now_ms();
	assert_int_equal(insert ? pcsc_rig_insert(f->rig, 0) : pcsc_rig_remove(f->rig, 0), 0);
	while (!(rs.dwEventState & want)) {
		long long left = t0 + EVENT_MS - pcsc_now_ms();
		if (left <= 0)
			fail_msg("no %s event within %d ms", insert ? "insertion" : "removal",
			         EVENT_MS);
		LONG rv = SCardGetStatusChange(f->ctx, (DWORD)left, &rs, 1);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			fail_msg("SCardGetStatusChange: %s", pcsc_stringify_error(rv));
		rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	return pcsc_now_ms() - t0;
}

static void test_pcsc_events_seen_quickly(void **state)
{
	struct fixture *f = *state;
	wait_state(f, SCARD_STATE_PRESENT, "card present");
	long long out = event_ms(f, false, SCARD_STATE_EMPTY);
	long long in = event_ms(f, true, SCARD_STATE_PRESENT);
	print_message("removal seen after %lld ms, insertion after %lld ms\n", out, in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pcsc_card_pulled_mid_apdu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcsc_mute_card_then_unmuted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcsc_pps_refused_default_speed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcsc_pps_wrong_answer_default_speed, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_pcsc_events_seen_quickly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcsc_pcscd_restarted_under_client, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests_name("pcsc_faults", tests, group_setup, group_teardown);
}
