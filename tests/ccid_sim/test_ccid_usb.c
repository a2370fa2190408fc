/* test_ccid_usb.c: the USB CCID transport (driver/usb*.c) and the reader
 * core, in this process, against the simulated reader of ccid_sim.h in front
 * of a tokencard-sim. Runs under umockdev-wrapper (see CMakeLists.txt).
 *
 * Every exchange level: power up (ATR) and the reader test application's
 * cases 1-4 at several lengths; TPDU level: PPS through SetParameters and
 * SetDataRateAndClockFrequency; time extension; a mute card; a wrong bSeq;
 * the reader unplugged mid-transfer; NotifySlotChange waking the event fd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ccid_sim.h"
#include "proc.h"
#include "slot.h"
#include "tc_error.h"

struct fx {
	pid_t card;
	char sock[96];
	struct ccid_sim *sim;
	struct tc_slot *slot;
};

/* One line to the card's control socket; its answer must be "ok". */
static void card_ctl(const struct fx *f, const char *line)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char ans[64] = "";
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.ctl", f->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_true(write(fd, line, strlen(line)) == (ssize_t)strlen(line));
	assert_true(write(fd, "\n", 1) == 1);
	assert_true(read(fd, ans, sizeof(ans) - 1) > 0);
	close(fd);
	assert_int_equal(strncmp(ans, "ok", 2), 0);
}

/* The card process: "PROGRAM [--set k=v]..." with --socket sock; it dies
 * with this process, and its output goes to stderr only. */
static pid_t spawn_card(const char *cmd, const char *sock)
{
	static char opt[] = "--socket", path[96];
	char buf[512], *argv[24];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", cmd);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 20;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	snprintf(path, sizeof(path), "%s", sock);
	argv[argc++] = opt;
	argv[argc++] = path;
	argv[argc] = NULL;
	unlink(sock);
	pid_t pid = fork();
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)dup2(2, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Start a card (extra: " --set k=v ..."), the simulated reader, our slot. */
static void fx_start(struct fx *f, struct ccid_sim_opts *o, const char *extra)
{
	char cmd[512];
	const char *sim = getenv("TC_SIM");
	assert_non_null(sim);
	memset(f, 0, sizeof(*f));
	snprintf(f->sock, sizeof(f->sock), "/tmp/tc-ccid-%d.sock", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s%s", sim, extra ? extra : "");
	f->card = spawn_card(cmd, f->sock);
	assert_true(f->card > 0);
	assert_int_equal(proc_wait_socket(f->sock, f->card, 5000), 0);
	o->card_socket = f->sock;
	f->sim = ccid_sim_start(o);
	assert_non_null(f->sim);
	int rc = tc_slot_open(&f->slot, ccid_sim_devname(f->sim), NULL);
	assert_int_equal(rc, TC_OK);
}

static void fx_stop(struct fx *f)
{
	tc_slot_close(f->slot);
	ccid_sim_stop(f->sim);
	if (f->card > 0) {
		kill(f->card, SIGTERM);
		waitpid(f->card, NULL, 0);
	}
	unlink(f->sock);
}

static size_t xmit(struct fx *f, const uint8_t *apdu, size_t n, uint8_t *resp, size_t cap)
{
	size_t got = 0;
	int rc = tc_slot_transmit(f->slot, apdu, n, resp, cap, &got);
	if (rc != TC_OK)
		fprintf(stderr, "transmit: %s (%s)\n", tc_errname(rc), tc_slot_last_error(f->slot));
	assert_int_equal(rc, TC_OK);
	return got;
}

static void expect_sw(const uint8_t *r, size_t n, uint8_t sw1, uint8_t sw2)
{
	assert_true(n >= 2);
	assert_int_equal(r[n - 2], sw1);
	assert_int_equal(r[n - 1], sw2);
}

static void expect_counting(const uint8_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r[i], (uint8_t)i);
}

/* Cases 1-4 of the reader test application at a few lengths. */
static void run_cases(struct fx *f)
{
	static uint8_t apdu[300], resp[300];
	static const unsigned lens[] = {1, 17, 255, 256};
	size_t n;

	memcpy(apdu, (const uint8_t[]){0x80, 0x30, 0x00, 0x00}, 4);
	n = xmit(f, apdu, 4, resp, sizeof(resp));
	assert_int_equal(n, 2);
	expect_sw(resp, n, 0x90, 0x00);
	for (unsigned i = 0; i < 4; i++) {
		unsigned ll = lens[i];
		/* case 2: 80 34 P1P2=LL, Le=LL */
		const uint8_t c2[5] = {0x80, 0x34, (uint8_t)(ll >> 8), (uint8_t)ll, (uint8_t)ll};
		n = xmit(f, c2, 5, resp, sizeof(resp));
		assert_int_equal(n, ll + 2);
		expect_counting(resp, ll);
		expect_sw(resp, n, 0x90, 0x00);
		if (ll > 255)
			continue;
		/* case 3: Lc = LL */
		const uint8_t h3[5] = {0x80, 0x32, 0x00, 0x00, (uint8_t)ll};
		memcpy(apdu, h3, 5);
		for (unsigned k = 0; k < ll; k++)
			apdu[5 + k] = (uint8_t)(k * 7);
		n = xmit(f, apdu, 5 + ll, resp, sizeof(resp));
		expect_sw(resp, n, 0x90, 0x00);
		/* case 4 as pcscd sends it without Le: 61 LL */
		apdu[1] = 0x36;
		apdu[3] = (uint8_t)ll;
		n = xmit(f, apdu, 5 + ll, resp, sizeof(resp));
		assert_int_equal(n, 2);
		expect_sw(resp, n, 0x61, (uint8_t)ll);
		/* case 4 with Le = 00: the data comes back through GET RESPONSE */
		apdu[5 + ll] = 0x00;
		n = xmit(f, apdu, 5 + ll + 1, resp, sizeof(resp));
		assert_int_equal(n, ll + 2);
		expect_counting(resp, ll);
		expect_sw(resp, n, 0x90, 0x00);
	}
}

static void power_up(struct fx *f)
{
	uint8_t atr[33];
	size_t n = 0;
	int rc = tc_slot_power_up(f->slot, false, atr, &n);
	if (rc != TC_OK)
		fprintf(stderr, "power up: %s (%s)\n", tc_errname(rc), tc_slot_last_error(f->slot));
	assert_int_equal(rc, TC_OK);
	assert_true(n >= 2);
	assert_int_equal(atr[0], 0x3B);
}

static void level_test(enum ccid_level level, const char *extra)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = level};
	struct ccid_sim_counts c;
	fx_start(&f, &o, extra);
	power_up(&f);
	run_cases(&f);
	ccid_sim_counts(f.sim, &c);
	assert_true(c.power_on >= 1);
	assert_true(c.xfr >= 1);
	assert_int_equal(c.last_power_select, 3); /* 1.8 V first */
	fx_stop(&f);
}

static void test_level_character(void **state)
{
	(void)state;
	level_test(CCID_LEVEL_CHARACTER, NULL);
}

static void test_level_tpdu(void **state)
{
	(void)state;
	level_test(CCID_LEVEL_TPDU, NULL);
}

static void test_level_short_apdu(void **state)
{
	(void)state;
	level_test(CCID_LEVEL_SHORT_APDU, NULL);
}

static void test_level_extended_apdu(void **state)
{
	(void)state;
	level_test(CCID_LEVEL_EXTENDED_APDU, NULL);
}

/* An extended case 3 at extended-APDU level; refused at short-APDU level. */
static void test_extended_apdu(void **state)
{
	static uint8_t apdu[4 + 3 + 300], resp[64];
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_EXTENDED_APDU};
	size_t n = 0;
	(void)state;
	memcpy(apdu, (const uint8_t[]){0x80, 0x32, 0x00, 0x00, 0x00, 0x01, 0x2C}, 7);
	fx_start(&f, &o, NULL);
	power_up(&f);
	n = xmit(&f, apdu, sizeof(apdu), resp, sizeof(resp));
	expect_sw(resp, n, 0x90, 0x00);
	fx_stop(&f);

	o = (struct ccid_sim_opts){.level = CCID_LEVEL_SHORT_APDU};
	fx_start(&f, &o, NULL);
	power_up(&f);
	assert_int_equal(tc_slot_transmit(f.slot, apdu, sizeof(apdu), resp, sizeof(resp), &n),
	                 TC_E_UNSUPPORTED);
	fx_stop(&f);
}

/* TA1 = 96: PPS through XfrBlock, then SetParameters and the data rate. */
static void test_tpdu_pps(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU};
	struct ccid_sim_counts c;
	unsigned F, D, clk;
	(void)state;
	fx_start(&f, &o, " --set ta1=96");
	power_up(&f);
	run_cases(&f);
	tc_slot_params(f.slot, &F, &D, &clk);
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(D, 32);
	assert_int_equal(c.last_fidi, 0x96);
	assert_true(c.set_rate >= 1);
	assert_int_equal(c.last_clock_khz, clk);
	fx_stop(&f);
}

/* A reader that negotiates itself gets SetParameters, no PPS block. */
static void test_tpdu_auto_pps(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU,
	                          .features_add = 0x80 | 0x10 | 0x20}; /* auto PPS, clock, baud */
	struct ccid_sim_counts c;
	(void)state;
	fx_start(&f, &o, " --set ta1=11");
	power_up(&f);
	run_cases(&f);
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(c.set_rate, 0);
	assert_true(c.set_params >= 1);
	fx_stop(&f);
}

static void test_time_extension(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU, .time_ext = 3};
	struct ccid_sim_counts c;
	(void)state;
	fx_start(&f, &o, NULL);
	power_up(&f);
	run_cases(&f);
	ccid_sim_counts(f.sim, &c);
	assert_true(c.time_ext >= 3 * c.xfr);
	fx_stop(&f);
}

static void test_mute_card(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU};
	struct ccid_sim_counts c;
	uint8_t atr[33];
	size_t n = 0;
	(void)state;
	fx_start(&f, &o, " --set mute=yes");
	assert_int_equal(tc_slot_power_up(f.slot, false, atr, &n), TC_E_MUTE);
	assert_false(tc_slot_powered(f.slot));
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(c.power_on, 3); /* classes C, B, A */
	fx_stop(&f);
}

static void test_wrong_seq(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_SHORT_APDU, .wrong_seq = true};
	const uint8_t c1[4] = {0x80, 0x30, 0x00, 0x00};
	uint8_t resp[16];
	size_t n = 0;
	(void)state;
	fx_start(&f, &o, NULL);
	power_up(&f);
	assert_int_equal(tc_slot_transmit(f.slot, c1, 4, resp, sizeof(resp), &n), TC_E_PROTOCOL);
	fx_stop(&f);
}

static void test_unplug(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_SHORT_APDU, .unplug_at_xfr = 2};
	const uint8_t c1[4] = {0x80, 0x30, 0x00, 0x00};
	uint8_t resp[16];
	size_t n = 0;
	bool present = true;
	(void)state;
	fx_start(&f, &o, NULL);
	power_up(&f);
	n = xmit(&f, c1, 4, resp, sizeof(resp));
	expect_sw(resp, n, 0x90, 0x00);
	assert_int_equal(tc_slot_transmit(f.slot, c1, 4, resp, sizeof(resp), &n), TC_E_CLOSED);
	assert_int_equal(tc_slot_presence(f.slot, 0, &present), TC_OK);
	assert_false(present);
	fx_stop(&f);
}

/* NotifySlotChange makes the event fd readable; presence follows it. */
static void test_notify(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_SHORT_APDU};
	bool present = false;
	(void)state;
	fx_start(&f, &o, NULL);
	assert_int_equal(tc_slot_presence(f.slot, 0, &present), TC_OK);
	assert_true(present);
	int fd = tc_slot_event_fd(f.slot);
	assert_true(fd >= 0);
	card_ctl(&f, "remove");
	ccid_sim_notify(f.sim, false);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 10000), 1); /* a generous bound, not a speed check */
	assert_int_equal(tc_slot_presence(f.slot, 0, &present), TC_OK);
	assert_false(present);
	card_ctl(&f, "insert");
	ccid_sim_notify(f.sim, true);
	assert_int_equal(tc_slot_presence(f.slot, 10000, &present), TC_OK);
	assert_true(present);
	power_up(&f);
	fx_stop(&f);
}

/* A reader of 5 V and 3 V only: the first activation is at 3 V. */
static void test_voltage(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU, .volts = 0x03};
	struct ccid_sim_counts c;
	(void)state;
	fx_start(&f, &o, NULL);
	power_up(&f);
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(c.power_on, 1);
	assert_int_equal(c.last_power_select, 2);
	fx_stop(&f);
}

/* The character level carries PPS as characters; then SetParameters. */
static void test_character_pps(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_CHARACTER};
	struct ccid_sim_counts c;
	unsigned F, D, clk;
	(void)state;
	fx_start(&f, &o, " --set ta1=95");
	power_up(&f);
	run_cases(&f);
	tc_slot_params(f.slot, &F, &D, &clk);
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(D, 16);
	assert_int_equal(c.last_fidi, 0x95);
	fx_stop(&f);
}

/* A reader that never answers: timeout, ABORT request and PC_to_RDR_Abort. */
static void test_abort_on_timeout(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_SHORT_APDU, .silent_at_xfr = 1};
	struct ccid_sim_counts c;
	const uint8_t c1[4] = {0x80, 0x30, 0x00, 0x00};
	uint8_t resp[16];
	size_t n = 0;
	(void)state;
	setenv("TC_USB_TIMEOUT_MS", "300", 1);
	fx_start(&f, &o, NULL);
	power_up(&f);
	assert_int_equal(tc_slot_transmit(f.slot, c1, 4, resp, sizeof(resp), &n), TC_E_TIMEOUT);
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(c.aborts, 2); /* the class request and the bulk message */
	/* The reader works again afterwards. */
	power_up(&f);
	n = xmit(&f, c1, 4, resp, sizeof(resp));
	expect_sw(resp, n, 0x90, 0x00);
	fx_stop(&f);
	unsetenv("TC_USB_TIMEOUT_MS");
}

/* A descriptor below the minimum message length is refused at open. */
static void test_broken_descriptor(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU, .max_msg_len = 12};
	struct tc_slot *slot = NULL;
	(void)state;
	o.no_interrupt = true;
	memset(&f, 0, sizeof(f));
	snprintf(f.sock, sizeof(f.sock), "/tmp/tc-ccid-%d.sock", (int)getpid());
	f.card = spawn_card(getenv("TC_SIM"), f.sock);
	assert_int_equal(proc_wait_socket(f.sock, f.card, 5000), 0);
	o.card_socket = f.sock;
	f.sim = ccid_sim_start(&o);
	assert_non_null(f.sim);
	assert_int_equal(tc_slot_open(&slot, ccid_sim_devname(f.sim), NULL), TC_E_FORMAT);
	fx_stop(&f);
}

/* Without an interrupt endpoint presence comes from GetSlotStatus. */
static void test_no_interrupt(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU, .no_interrupt = true};
	bool present = false;
	(void)state;
	fx_start(&f, &o, NULL);
	assert_int_equal(tc_slot_event_fd(f.slot), -1);
	assert_int_equal(tc_slot_presence(f.slot, 0, &present), TC_OK);
	assert_true(present);
	card_ctl(&f, "remove");
	assert_int_equal(tc_slot_presence(f.slot, 0, &present), TC_OK);
	assert_false(present);
	fx_stop(&f);
}

/* --serve LEVEL: a card and the simulated reader for another process
 * (pcscd under umockdev-wrapper with UMOCKDEV_DIR): prints "UMOCKDEV_DIR=..."
 * and "DEVICE=..." and serves until stdin closes. LEVEL: 0 character,
 * 1 TPDU, 2 short APDU, 3 extended APDU. */
static int serve(const char *level)
{
	char sock[96], buf[16];
	struct ccid_sim_opts o = {.level = (enum ccid_level)atoi(level)};
	snprintf(sock, sizeof(sock), "/tmp/tc-ccid-%d.sock", (int)getpid());
	pid_t card = spawn_card(getenv("TC_SIM"), sock);
	if (card <= 0 || proc_wait_socket(sock, card, 5000) != 0)
		return 1;
	o.card_socket = sock;
	struct ccid_sim *sim = ccid_sim_start(&o);
	if (!sim)
		return 1;
	char *root = ccid_sim_root(sim);
	printf("UMOCKDEV_DIR=%s\nDEVICE=%s\n", root, ccid_sim_devname(sim));
	fflush(stdout);
	free(root);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	ccid_sim_stop(sim);
	kill(card, SIGTERM);
	waitpid(card, NULL, 0);
	unlink(sock);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_level_tpdu),
	    cmocka_unit_test(test_level_short_apdu),
	    cmocka_unit_test(test_level_extended_apdu),
	    cmocka_unit_test(test_level_character),
	    cmocka_unit_test(test_extended_apdu),
	    cmocka_unit_test(test_tpdu_pps),
	    cmocka_unit_test(test_tpdu_auto_pps),
	    cmocka_unit_test(test_time_extension),
	    cmocka_unit_test(test_mute_card),
	    cmocka_unit_test(test_wrong_seq),
	    cmocka_unit_test(test_unplug),
	    cmocka_unit_test(test_notify),
	    cmocka_unit_test(test_voltage),
	    cmocka_unit_test(test_character_pps),
	    cmocka_unit_test(test_abort_on_timeout),
	    cmocka_unit_test(test_broken_descriptor),
	    cmocka_unit_test(test_no_interrupt),
	};
	if (argc > 2 && strcmp(argv[1], "--serve") == 0)
		return serve(argv[2]);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
