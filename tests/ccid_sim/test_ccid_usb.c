/* test_ccid_usb.c: the USB CCID transport (driver/usb*.c) and the reader
 * core, in this process, against the simulated reader of ccid_sim.h in front
 * of a tokencard-sim. Runs under umockdev-wrapper (see CMakeLists.txt).
 *
 * Every exchange level: power up (ATR) and the reader test application's
 * cases 1-4 at several lengths; TPDU level: PPS through SetParameters and
 * SetDataRateAndClockFrequency; time extension; a mute card; a wrong bSeq;
 * the reader unplugged mid-transfer; NotifySlotChange waking the event fd;
 * the reader's dwMaxDataRate and clock / data-rate lists limiting the PPS. */
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
#include <time.h>
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
	/* dwMaxAPDUDataSize: 0 (short APDUs only) for a short-APDU reader. */
	assert_int_equal(tc_slot_max_apdu_data(f.slot), level == CCID_LEVEL_SHORT_APDU ? 0 : 65535);
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

/* --- extended-APDU chaining: dwMaxCCIDMessageLength 271, 261 bytes a piece */

static void chain_start(struct fx *f, unsigned bad)
{
	struct ccid_sim_opts o = {
	    .level = CCID_LEVEL_EXTENDED_APDU, .max_msg_len = 271, .bad_chain = bad};
	fx_start(f, &o, NULL);
	power_up(f);
}

/* An extended case 3 (Lc = lc) in `pieces` pieces; the reader runs exactly it. */
static void chain_case3(struct fx *f, size_t lc, unsigned pieces)
{
	static uint8_t apdu[7 + 65535];
	uint8_t resp[8];
	struct ccid_sim_counts b, a;
	memcpy(apdu,
	       (const uint8_t[]){0x80, 0x32, 0x00, 0x00, 0x00, (uint8_t)(lc >> 8), (uint8_t)lc}, 7);
	for (size_t i = 0; i < lc; i++)
		apdu[7 + i] = (uint8_t)(i * 7 + i / 256);
	ccid_sim_counts(f->sim, &b);
	size_t n = xmit(f, apdu, 7 + lc, resp, sizeof(resp));
	expect_sw(resp, n, 0x90, 0x00);
	ccid_sim_counts(f->sim, &a);
	assert_int_equal(a.chain_in - b.chain_in, pieces);
	assert_int_equal(a.last_apdu_len, 7 + lc);
	assert_int_equal(a.last_apdu_hash, ccid_sim_hash(apdu, 7 + lc));
	assert_int_equal(a.too_long, 0);
}

/* An extended case 2 of le bytes (P1P2 = Le = le) back in `pieces` pieces. */
static void chain_case2(struct fx *f, size_t le, unsigned pieces)
{
	static uint8_t resp[65538];
	const uint8_t hi = (uint8_t)(le >> 8), lo = (uint8_t)le;
	const uint8_t apdu[7] = {0x80, 0x34, hi, lo, 0x00, hi, lo};
	struct ccid_sim_counts b, a;
	ccid_sim_counts(f->sim, &b);
	size_t n = xmit(f, apdu, sizeof(apdu), resp, sizeof(resp));
	assert_int_equal(n, le + 2);
	expect_counting(resp, le);
	expect_sw(resp, n, 0x90, 0x00);
	ccid_sim_counts(f->sim, &a);
	assert_int_equal(a.chain_out - b.chain_out, pieces);
	assert_int_equal(a.chain_in, b.chain_in);
}

/* Command chaining: at 261 bytes whole, at 262 two pieces, 5 kB, the most. */
static void test_chain_case3(void **state)
{
	struct fx f;
	(void)state;
	chain_start(&f, 0);
	chain_case3(&f, 254, 0);   /* 261 bytes: one message */
	chain_case3(&f, 255, 2);   /* 262: 261 + 1 */
	chain_case3(&f, 5000, 20); /* 5007 = 19 x 261 + 48 */
	chain_case3(&f, 65535, 252);
	fx_stop(&f);
}

/* Response chaining: 261 bytes whole, 262 in two, 4 kB, the most. */
static void test_chain_case2(void **state)
{
	static uint8_t resp[300];
	struct fx f;
	(void)state;
	chain_start(&f, 0);
	chain_case2(&f, 259, 0); /* 261 bytes: one message */
	chain_case2(&f, 260, 2); /* 262: 261 + 1 */
	chain_case2(&f, 4096, 16);
	chain_case2(&f, 65535, 252);
	/* A buffer too small: the whole chain is read, then refused. */
	const uint8_t big[7] = {0x80, 0x34, 0x04, 0x00, 0x00, 0x04, 0x00};
	size_t n = 0;
	assert_int_equal(tc_slot_transmit(f.slot, big, sizeof(big), resp, sizeof(resp), &n),
	                 TC_E_OVERFLOW);
	chain_case2(&f, 600, 3); /* and the reader is in step */
	fx_stop(&f);
}

/* Extended case 4: both ways chained (609 bytes out, 2050 back), with two
 * time extensions before every DataBlock, acknowledgements included. */
static void test_chain_case4(void **state)
{
	static uint8_t apdu[7 + 600 + 2], resp[2050];
	struct fx f;
	struct ccid_sim_counts c;
	(void)state;
	memcpy(apdu, (const uint8_t[]){0x80, 0x36, 0x08, 0x00, 0x00, 0x02, 0x58}, 7);
	for (size_t i = 0; i < 600; i++)
		apdu[7 + i] = (uint8_t)(i ^ 0x5A);
	apdu[607] = 0x08;
	apdu[608] = 0x00;
	struct ccid_sim_opts o = {
	    .level = CCID_LEVEL_EXTENDED_APDU, .max_msg_len = 271, .time_ext = 2};
	fx_start(&f, &o, NULL);
	power_up(&f);
	size_t n = xmit(&f, apdu, sizeof(apdu), resp, sizeof(resp));
	assert_int_equal(n, 2050);
	expect_counting(resp, 2048);
	expect_sw(resp, n, 0x90, 0x00);
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(c.chain_in, 3);           /* 261 + 261 + 87 */
	assert_int_equal(c.chain_out, 8);          /* 7 x 261 + 223 */
	assert_int_equal(c.time_ext, 2 * (3 + 7)); /* 3 pieces out, 7 asked for */
	assert_int_equal(c.last_apdu_hash, ccid_sim_hash(apdu, sizeof(apdu)));
	fx_stop(&f);
}

/* tc_slot_transmit with stderr (the driver's log) in log. */
static int xmit_logged(struct fx *f, const uint8_t *apdu, size_t n, char *log, size_t cap)
{
	static uint8_t resp[65538];
	char path[] = "/tmp/tc-ccid-log-XXXXXX";
	size_t got = 0;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0 && dup2(fd, 2) == 2);
	int rc = tc_slot_transmit(f->slot, apdu, n, resp, sizeof(resp), &got);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	ssize_t k = pread(fd, log, cap - 1, 0);
	close(fd);
	log[k > 0 ? k : 0] = '\0';
	fputs(log, stderr);
	return rc;
}

/* A reader breaking the chain: a clear error, an abort, the reader usable. */
static void test_chain_broken(void **state)
{
	static uint8_t c3[7 + 1000];
	static const uint8_t c2[7] = {0x80, 0x34, 0x03, 0xE8, 0x00, 0x03, 0xE8};
	static const uint8_t c1[4] = {0x80, 0x30, 0x00, 0x00};
	static const struct {
		const uint8_t *apdu;
		size_t n;
		int rc;
		const char *says;
	} bad[] = {
	    {c2, sizeof(c2), TC_E_PROTOCOL,
	     "response piece 2 says bChainParameter 0x01 (begins, continues), out of order"},
	    {c3, sizeof(c3), TC_E_PROTOCOL,
	     "a piece of the command answered with 0 bytes and bChainParameter 0x00"},
	    {c2, sizeof(c2), TC_E_LONG, "the response exceeds 65538 bytes"},
	};
	char log[4096];
	uint8_t resp[8];
	(void)state;
	memcpy(c3, (const uint8_t[]){0x80, 0x32, 0x00, 0x00, 0x00, 0x03, 0xE8}, 7);
	for (unsigned i = 0; i < 3; i++) {
		struct fx f;
		struct ccid_sim_counts c;
		chain_start(&f, i + 1);
		assert_int_equal(xmit_logged(&f, bad[i].apdu, bad[i].n, log, sizeof(log)),
		                 bad[i].rc);
		assert_non_null(strstr(log, bad[i].says));
		assert_non_null(strstr(log, "abort"));
		/* The slot's message (pcscd's log line) has the sentence too. */
		assert_non_null(strstr(tc_slot_last_error(f.slot), bad[i].says));
		ccid_sim_counts(f.sim, &c);
		assert_int_equal(c.aborts, 2); /* the class request and the bulk message */
		if (!tc_slot_powered(f.slot))
			power_up(&f);
		size_t n = xmit(&f, c1, sizeof(c1), resp, sizeof(resp));
		expect_sw(resp, n, 0x90, 0x00);
		fx_stop(&f);
	}
}

/* Character level, case 2 of 256 bytes: the XfrBlocks and the time one
 * APDU takes (printed; the time is a figure, not a check). */
static void test_char_round_trips(void **state)
{
	static const uint8_t c2[5] = {0x80, 0x34, 0x01, 0x00, 0x00};
	static uint8_t resp[300];
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_CHARACTER};
	struct ccid_sim_counts b, a;
	struct timespec t0, t1;
	const unsigned rounds = 20;
	(void)state;
	fx_start(&f, &o, NULL);
	power_up(&f);
	(void)xmit(&f, c2, sizeof(c2), resp, sizeof(resp)); /* PPS and the rest done */
	ccid_sim_counts(f.sim, &b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < rounds; i++) {
		size_t n = xmit(&f, c2, sizeof(c2), resp, sizeof(resp));
		assert_int_equal(n, 258);
		expect_counting(resp, 256);
		expect_sw(resp, n, 0x90, 0x00);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ccid_sim_counts(f.sim, &a);
	double ms =
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) /
	    rounds;
	unsigned per = (a.xfr - b.xfr) / rounds;
	printf("character level, case 2 of 256 bytes: %.2f ms and %u XfrBlocks an APDU\n", ms, per);
	/* The header asking for the ACK, then the 256 data bytes with SW1 SW2. */
	assert_int_equal(per, 2);
	fx_stop(&f);
}

/* Reading ahead falls back to one character where T=0 leaves it open: a
 * card acknowledging byte by byte (INS ^ FF) and sending NULLs. */
static void test_char_read_ahead_odd(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_CHARACTER};
	(void)state;
	fx_start(&f, &o, " --set one_by_one=yes --set null_storm=3");
	power_up(&f);
	run_cases(&f);
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

/* --- the reader's clock and data rates feed the PPS decision ------------ */

/* Power up a card with TA1 96 (Fi 512, f(max) 5 MHz, Di 32), run the cases;
 * F, D, clock in force and the simulator's counts come back. */
static void caps_run(struct ccid_sim_opts *o, unsigned *D, unsigned *clk, struct ccid_sim_counts *c)
{
	struct fx f;
	unsigned F;
	fx_start(&f, o, " --set ta1=96");
	power_up(&f);
	run_cases(&f);
	tc_slot_params(f.slot, &F, D, clk);
	ccid_sim_counts(f.sim, c);
	assert_int_equal(F, *D == 1 ? 372 : 512);
	fx_stop(&f);
}

/* dwMaxDataRate 120 000 bps: at 5 MHz Di 32, 20, 16 are too fast
 * (312 500, 195 312, 156 250); the PPS asks Di 12 (117 187). */
static void test_caps_max_rate_tpdu(void **state)
{
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU, .max_data_rate = 120000};
	struct ccid_sim_counts c;
	unsigned D, clk;
	(void)state;
	caps_run(&o, &D, &clk, &c);
	assert_int_equal(c.last_pps_len, 4);
	assert_memory_equal(c.last_pps, "\xFF\x10\x98\x77", 4);
	assert_int_equal(c.last_fidi, 0x98);
	assert_int_equal(D, 12);
	assert_int_equal(clk, 5000);
	assert_int_equal(c.last_clock_khz, 5000);
	assert_int_equal(c.last_rate, 117187);
	assert_int_equal(c.get_clocks + c.get_rates, 0); /* no lists announced */
}

/* One clock (3571 kHz) and a data-rate list: Di 32 (223 187) and Di 20
 * (139 492) are not listed, Di 16 (111 593) is within 2 % of 111 600. */
static void test_caps_rate_list_tpdu(void **state)
{
	static const uint32_t clocks[] = {3571};
	static const uint32_t rates[] = {9600, 19200, 38400, 57600, 111600, 115200};
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU,
	                          .clocks_khz = clocks,
	                          .nclocks = 1,
	                          .rates_bps = rates,
	                          .nrates = 6};
	struct ccid_sim_counts c;
	unsigned D, clk;
	(void)state;
	caps_run(&o, &D, &clk, &c);
	assert_int_equal(c.get_clocks, 1);
	assert_int_equal(c.get_rates, 1);
	assert_int_equal(c.last_pps_len, 4);
	assert_memory_equal(c.last_pps, "\xFF\x10\x95\x7A", 4);
	assert_int_equal(c.last_fidi, 0x95);
	assert_int_equal(D, 16);
	assert_int_equal(clk, 3571);
	assert_int_equal(c.last_clock_khz, 3571);
	assert_int_equal(c.last_rate, 111600); /* the listed rate, not 111 593 */
}

/* A card with TA1 95 on the reader of o; the protocol change gives rc, and,
 * when want is not NULL, a message that says it. The fixture stays up. */
static void set_protocol_ta1_95(struct fx *f, struct ccid_sim_opts *o, int rc, const char *want)
{
	fx_start(f, o, " --set ta1=95");
	power_up(f);
	assert_int_equal(tc_slot_set_protocol(f->slot, 0), rc);
	if (!want)
		return;
	const char *why = tc_slot_last_error(f->slot);
	fprintf(stderr, "protocol change refused: %s\n", why);
	assert_non_null(strstr(why, want));
}

/* The reader answers SetDataRateAndClockFrequency with a rate that cannot
 * stand for the one asked (57 600 for 111 600): a clear error, not garbled
 * characters. The same answer when it is within 2 % is accepted. */
static void test_rate_answer_checked(void **state)
{
	static const uint32_t clocks[] = {3571};
	static const uint32_t rates[] = {9600, 57600, 111600};
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU,
	                          .clocks_khz = clocks,
	                          .nclocks = 1,
	                          .rates_bps = rates,
	                          .nrates = 3,
	                          .rate_answer = 57600};
	struct fx f;
	(void)state;
	set_protocol_ta1_95(&f, &o, TC_E_PROTOCOL,
	                    "the reader runs the card at 57600 bps (3571 kHz) where "
	                    "111600 bps was asked");
	fx_stop(&f);

	o.rate_answer = 111000; /* 0.5 % off: the reader's own divisor, accepted */
	set_protocol_ta1_95(&f, &o, TC_OK, NULL);
	run_cases(&f);
	fx_stop(&f);
}

/* A data-rate list with no rate for Fi 512 at 5 MHz (Di 1 would be 9765,
 * Di 2 19 531): no PPS at all, Fd/Dd stay and the exchanges work. */
static void test_caps_rate_list_none(void **state)
{
	static const uint32_t rates[] = {10752, 21505, 43010};
	struct ccid_sim_opts o = {.level = CCID_LEVEL_TPDU, .rates_bps = rates, .nrates = 2};
	struct ccid_sim_counts c;
	unsigned D, clk;
	(void)state;
	caps_run(&o, &D, &clk, &c);
	assert_int_equal(c.get_rates, 1);
	assert_int_equal(c.last_pps_len, 0);
	assert_int_equal(D, 1);
	assert_int_equal(c.last_fidi, 0x11);
}

/* Character level, the lists announced but GET_DATA_RATES stalls: the
 * descriptor's dwMaxDataRate (120 000) still limits the PPS (Di 12). */
static void test_caps_lists_stall_character(void **state)
{
	static const uint32_t rates[] = {9600, 312500};
	struct ccid_sim_opts o = {.level = CCID_LEVEL_CHARACTER,
	                          .max_data_rate = 120000,
	                          .rates_bps = rates,
	                          .nrates = 2,
	                          .lists_stall = true};
	struct ccid_sim_counts c;
	unsigned D, clk;
	(void)state;
	caps_run(&o, &D, &clk, &c);
	assert_int_equal(c.get_rates, 1);
	assert_int_equal(c.last_pps_len, 4);
	assert_memory_equal(c.last_pps, "\xFF\x10\x98\x77", 4);
	assert_int_equal(c.last_fidi, 0x98);
	assert_int_equal(D, 12);
}

/* Commands on stdin, one a line, until it closes: "plug" and "unplug"
 * (ccid_sim_plug/unplug, with their uevents); each is answered on stdout
 * with "ok CMD" or "error CMD" once done. */
static void serve_commands(struct ccid_sim *sim)
{
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		int rc = -1;
		if (strcmp(line, "plug") == 0)
			rc = ccid_sim_plug(sim);
		else if (strcmp(line, "unplug") == 0)
			rc = ccid_sim_unplug(sim);
		else
			fprintf(stderr, "serve: unknown command \"%s\"\n", line);
		printf("%s %s\n", rc == 0 ? "ok" : "error", line);
		fflush(stdout);
	}
}

/* Character level, TA1 95: the PPS succeeds, then the reader refuses the
 * SetParameters for Fi 512 Di 16. The failure says what was wrong (it was
 * an empty sentence in pcscd's log). */
static void test_params_refused_reason(void **state)
{
	struct fx f;
	struct ccid_sim_opts o = {.level = CCID_LEVEL_CHARACTER, .refuse_params = true};
	struct ccid_sim_counts c;
	(void)state;
	set_protocol_ta1_95(&f, &o, TC_E_UNSUPPORTED,
	                    "PPS done, but the reader cannot run F=512 D=16");
	ccid_sim_counts(f.sim, &c);
	assert_int_equal(c.last_pps_len, 4);
	assert_true(c.set_params >= 1);
	fx_stop(&f);
}

/* --serve LEVEL [unplugged]: a card and the simulated reader for another
 * process (pcscd under umockdev-wrapper with UMOCKDEV_DIR): prints
 * "UMOCKDEV_DIR=..." and "DEVICE=..." and serves until stdin closes, taking
 * the commands of serve_commands(). LEVEL: 0 character, 1 TPDU, 2 short
 * APDU, 3 extended APDU. "unplugged": the testbed starts without the device
 * (hot-plug tests plug it in later). CCID_SIM_MAX_MSG in the environment sets
 * the reader's dwMaxCCIDMessageLength. */
static int serve(const char *level, const char *mode)
{
	char sock[96];
	struct ccid_sim_opts o = {.level = (enum ccid_level)atoi(level)};
	if (mode && strcmp(mode, "unplugged") != 0) {
		fprintf(stderr, "serve: unknown mode \"%s\"\n", mode);
		return 2;
	}
	o.unplugged = mode != NULL;
	if (getenv("CCID_SIM_MAX_MSG")) /* dwMaxCCIDMessageLength, e.g. 271 to chain */
		o.max_msg_len = (uint32_t)strtoul(getenv("CCID_SIM_MAX_MSG"), NULL, 10);
	/* In $TMPDIR when set: a run in its own PID namespace has small PIDs. */
	const char *tmp = getenv("TMPDIR");
	if ((size_t)snprintf(sock, sizeof(sock), "%s/tc-ccid-%d.sock", tmp && *tmp ? tmp : "/tmp",
	                     (int)getpid()) >= sizeof(sock)) {
		fprintf(stderr, "serve: TMPDIR too long for a socket path\n");
		return 2;
	}
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
	serve_commands(sim);
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
	    cmocka_unit_test(test_chain_case3),
	    cmocka_unit_test(test_chain_case2),
	    cmocka_unit_test(test_chain_case4),
	    cmocka_unit_test(test_chain_broken),
	    cmocka_unit_test(test_char_round_trips),
	    cmocka_unit_test(test_char_read_ahead_odd),
	    cmocka_unit_test(test_caps_max_rate_tpdu),
	    cmocka_unit_test(test_caps_rate_list_tpdu),
	    cmocka_unit_test(test_caps_rate_list_none),
	    cmocka_unit_test(test_caps_lists_stall_character),
	    cmocka_unit_test(test_params_refused_reason),
	    cmocka_unit_test(test_rate_answer_checked),
	};
	if (argc > 2 && strcmp(argv[1], "--serve") == 0)
		return serve(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
