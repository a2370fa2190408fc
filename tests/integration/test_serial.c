/* test_serial.c: the serial transport (driver/serial.c) over a pty pair
 * against tokencard-sim's serial front end (docs/serial.md): ATR at 9600,
 * the test application's cases 1-4, PPS and the tty's speed following it,
 * the PPS limited to what the UART runs (nocustom, max_baud),
 * echo removal, the inverse convention, parity marks both ways, card
 * removal on the detect line, and a mute card timing out in real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <asm/termbits.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "serial_int.h"
#include "slot.h"
#include "tc_error.h"

struct fx {
	char dir[64], tty[96], lines[96];
	pid_t pid;
	struct tc_slot *slot;
};

static int sim_ctl(struct fx *f, const char *line);
static struct fx *current; /* for the teardown when an assertion jumps out */

/* Start the card with extra --set arguments (space separated) and open the
 * slot with the endpoint options opts ("" or ":opt..."). */
static void start(struct fx *f, const char *sets, const char *opts)
{
	char cmd[512], dev[256];
	const char *sim = getenv("TC_SIM");

	assert_non_null(sim);
	current = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tc-serial-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->tty, sizeof(f->tty), "%s/tty", f->dir);
	snprintf(f->lines, sizeof(f->lines), "%s/lines", f->dir);
	snprintf(cmd, sizeof(cmd), "%s --serial %s --lines {} %s", sim, f->tty, sets);
	assert_int_equal(proc_spawn(cmd, f->lines, f->dir, "sim", &f->pid), 0);
	assert_int_equal(proc_wait_socket(f->lines, f->pid, 5000), 0);
	struct tc_reader_config cfg;
	tc_reader_config_default(&cfg);
	cfg.caps.default_clock_khz = 3571;
	cfg.caps.max_clock_khz = 3571; /* the reader's crystal */
	snprintf(dev, sizeof(dev), "serial:%s:lines=%s:detect=cts%s", f->tty, f->lines, opts);
	/* The socket file exists from bind(); until listen() a connection is
	 * refused (TC_E_IO): a loaded machine can see that window. */
	int rc = TC_E_IO;
	for (int i = 0; i < 100 && rc == TC_E_IO; i++) {
		rc = tc_slot_open(&f->slot, dev, &cfg);
		if (rc == TC_E_IO)
			nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	assert_int_equal(rc, TC_OK);
}

static void stop(struct fx *f)
{
	current = NULL;
	tc_slot_close(f->slot);
	f->slot = NULL;
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
}

/* One control command to the card; 0 when it answered "ok". */
static int sim_ctl(struct fx *f, const char *line)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char reply[300] = "";
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.ctl", f->lines);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t n = strlen(line);
	ssize_t r = -1;
	if (write(fd, line, n) == (ssize_t)n && write(fd, "\n", 1) == 1)
		r = read(fd, reply, sizeof(reply) - 1);
	close(fd);
	return r >= 2 && !strncmp(reply, "ok", 2) ? 0 : -1;
}

/* The tty's output rate and flags, read on the pty itself. */
static uint32_t tty_rate(struct fx *f, bool *odd)
{
	struct termios2 t;
	int fd = open(f->tty, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TCGETS2, &t), 0);
	close(fd);
	if (odd)
		*odd = (t.c_cflag & PARODD) != 0;
	return t.c_ospeed;
}

static void power_up(struct fx *f, uint8_t ts)
{
	uint8_t atr[40];
	size_t n = 0;
	int rc = tc_slot_power_up(f->slot, false, atr, &n);
	if (rc != TC_OK)
		fprintf(stderr, "power up: %s: %s\n", tc_errname(rc), tc_slot_last_error(f->slot));
	assert_int_equal(rc, TC_OK);
	assert_true(n >= 2);
	assert_int_equal(atr[0], ts);
}

static int xmit(struct fx *f, const uint8_t *apdu, size_t n, uint8_t *resp, size_t *rn)
{
	int rc = tc_slot_transmit(f->slot, apdu, n, resp, 300, rn);
	if (rc != TC_OK)
		fprintf(stderr, "transmit: %s: %s\n", tc_errname(rc), tc_slot_last_error(f->slot));
	return rc;
}

/* The reader test application's cases 1-4 at length len (1..256). */
static void cases(struct fx *f, unsigned len)
{
	uint8_t a[300], r[300];
	size_t rn;
	const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	assert_int_equal(xmit(f, c1, sizeof(c1), r, &rn), TC_OK);
	assert_int_equal(rn, 2);
	assert_int_equal(r[0] << 8 | r[1], 0x9000);

	uint8_t c2[] = {0x80, 0x34, (uint8_t)(len >> 8), (uint8_t)len, (uint8_t)len};
	assert_int_equal(xmit(f, c2, sizeof(c2), r, &rn), TC_OK);
	assert_int_equal(rn, len + 2);
	for (unsigned i = 0; i < len; i++)
		assert_int_equal(r[i], (uint8_t)i);
	assert_int_equal(r[len] << 8 | r[len + 1], 0x9000);

	unsigned lc = len > 255 ? 255 : len;
	memcpy(a, (uint8_t[]){0x80, 0x32, 0x00, 0x00, (uint8_t)lc}, 5);
	for (unsigned i = 0; i < lc; i++)
		a[5 + i] = (uint8_t)(0xA5 ^ i);
	assert_int_equal(xmit(f, a, 5 + lc, r, &rn), TC_OK);
	assert_int_equal(rn, 2);
	assert_int_equal(r[0] << 8 | r[1], 0x9000);

	a[1] = 0x36;
	a[2] = (uint8_t)(len >> 8);
	a[3] = (uint8_t)len;
	a[5 + lc] = (uint8_t)len; /* Le: the transport layer fetches with GET RESPONSE */
	assert_int_equal(xmit(f, a, 6 + lc, r, &rn), TC_OK);
	assert_int_equal(rn, len + 2);
	for (unsigned i = 0; i < len; i++)
		assert_int_equal(r[i], (uint8_t)i);
	assert_int_equal(r[len] << 8 | r[len + 1], 0x9000);
}

static const uint8_t default_atr[] = {0x3B, 0x96, 0x96, 0x80, 0x1F, 0x07, 0x80,
                                      0x31, 0xC0, 0x82, 0x90, 0x00, 0xFB};

static void test_atr_9600(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	uint8_t atr[40];
	size_t n = 0;
	(void)state;
	start(&f, "", "");
	assert_int_equal(tc_slot_power_up(f.slot, false, atr, &n), TC_OK);
	assert_int_equal(n, sizeof(default_atr));
	assert_memory_equal(atr, default_atr, n);
	assert_int_equal(tty_rate(&f, NULL), 9600);
	stop(&f);
}

/* No PPS (TA1 = 11): every case at 9600 baud; the echo is gone. */
static void test_cases_9600_echo_removed(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	uint8_t r[8];
	size_t rn;
	struct tc_exchange_stats xs;
	(void)state;
	start(&f, "--set ta1=11", "");
	power_up(&f, 0x3B);
	const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	assert_int_equal(xmit(&f, c1, sizeof(c1), r, &rn), TC_OK);
	tc_slot_exchange_stats(f.slot, &xs);
	/* 5 header bytes out; 90 00 in: the 5 echoes were taken away */
	assert_int_equal(xs.chars_to_card, 5);
	assert_int_equal(xs.chars_from_card, 2);
	for (unsigned len = 1; len <= 256; len = len < 16 ? len * 4 : len * 16)
		cases(&f, len);
	cases(&f, 256);
	assert_int_equal(tty_rate(&f, NULL), 9600);
	stop(&f);
}

/* TA1 = 18 (Fi 372, Di 12): 115 200 baud, a standard rate. */
static void test_pps_standard_rate(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	(void)state;
	start(&f, "--set ta1=18", "");
	power_up(&f, 0x3B);
	assert_int_equal(tc_slot_set_protocol(f.slot, 0), TC_OK);
	assert_int_equal(tty_rate(&f, NULL), 115200);
	cases(&f, 256);
	stop(&f);
}

/* TA1 = 96 (Fi 512, Di 32) at 3.5712 MHz: 223 200 baud, a custom divisor. */
static void test_pps_custom_rate(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	(void)state;
	start(&f, "", "");
	power_up(&f, 0x3B);
	assert_int_equal(tc_slot_set_protocol(f.slot, 0), TC_OK);
	assert_int_equal(tty_rate(&f, NULL), 223200);
	cases(&f, 200);
	stop(&f);
}

/* The F, D and tty rate in force after set_protocol. */
static void expect_params(struct fx *f, unsigned F, unsigned D, uint32_t rate)
{
	unsigned gf, gd, clk;
	int rc = tc_slot_set_protocol(f->slot, 0);
	if (rc != TC_OK)
		fprintf(stderr, "set_protocol: %s: %s\n", tc_errname(rc),
		        tc_slot_last_error(f->slot));
	assert_int_equal(rc, TC_OK);
	tc_slot_params(f->slot, &gf, &gd, &clk);
	assert_int_equal(gf, F);
	assert_int_equal(gd, D);
	assert_int_equal(tty_rate(f, NULL), rate);
}

/* A UART without custom divisors: TA1 96 (Fi 512) has no standard rate for
 * any Di at 3.5712 MHz (223 200, 111 600, 55 800 are 3 % off), so no PPS1
 * is asked and the card works at Fd/Dd, 9600 baud. */
static void test_nocustom_default_rate(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	(void)state;
	start(&f, "", ":nocustom");
	power_up(&f, 0x3B);
	const struct tc_reader_caps *caps = tc_slot_caps(f.slot);
	assert_true(caps->npairs > 0);
	assert_false(tc_pps_reader_has(caps, 0x96));
	assert_true(tc_pps_reader_has(caps, 0x18));
	expect_params(&f, 372, 1, 9600);
	cases(&f, 100);
	stop(&f);
}

/* nocustom, TA1 16 (Fi 372, Di 32: 307 200, no standard rate): the fastest
 * the UART runs is Di 12, 115 200 (Di 20 and 16 are 192 000 and 153 600). */
static void test_nocustom_standard_rate(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	(void)state;
	start(&f, "--set ta1=16", ":nocustom");
	power_up(&f, 0x3B);
	expect_params(&f, 372, 12, 115200);
	cases(&f, 256);
	stop(&f);
}

/* A card in specific mode (TA2 00) at TA1 96 cannot be run by a nocustom
 * UART and cannot be negotiated down: set_protocol refuses, and says why. */
static void test_nocustom_specific_mode(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	(void)state;
	start(&f, "--set ta2=00", ":nocustom");
	power_up(&f, 0x3B);
	assert_int_equal(tc_slot_set_protocol(f.slot, 0), TC_E_UNSUPPORTED);
	const char *why = tc_slot_last_error(f.slot);
	fprintf(stderr, "specific mode, nocustom: %s\n", why);
	assert_non_null(strstr(why, "specific mode at FI/DI 0x96"));
	assert_non_null(strstr(why, "warm reset"));
	stop(&f);
}

/* max_baud=57600, TA1 18 (Di 12, 115 200): Di 8 (76 800) is above too, Di 4
 * gives 38 400. */
static void test_max_baud(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	(void)state;
	start(&f, "--set ta1=18", ":max_baud=57600");
	power_up(&f, 0x3B);
	expect_params(&f, 372, 4, 38400);
	cases(&f, 200);
	stop(&f);
}

static void test_inverse(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	bool odd = false;
	(void)state;
	start(&f, "--set convention=inverse --set ta1=13", "");
	power_up(&f, 0x3F);
	assert_int_equal(tc_slot_set_protocol(f.slot, 0), TC_OK);
	assert_int_equal(tty_rate(&f, &odd), 38400);
	assert_true(odd);
	cases(&f, 100);
	stop(&f);
}

/* The card signals a parity error against our 7th character: the echo comes
 * back marked and the character is repeated. */
static void test_parity_from_card_signal(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	uint8_t r[8];
	size_t rn;
	struct tc_exchange_stats xs;
	(void)state;
	start(&f, "--set ta1=11 --set parity_rx=7", "");
	power_up(&f, 0x3B);
	const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	assert_int_equal(xmit(&f, c1, sizeof(c1), r, &rn), TC_OK);
	assert_int_equal(xmit(&f, c1, sizeof(c1), r, &rn), TC_OK);
	assert_int_equal(r[0] << 8 | r[1], 0x9000);
	tc_slot_exchange_stats(f.slot, &xs);
	assert_int_equal(xs.chars_to_card, 6); /* 5 + the repetition */
	stop(&f);
}

/* A character of the card with a wrong parity: the reader cannot signal it
 * (its I/O is the UART's TX), so the exchange fails with TC_E_PARITY. */
static void test_parity_to_card_unsignalled(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	uint8_t r[8];
	size_t rn;
	(void)state;
	start(&f, "--set ta1=11 --set parity_tx=15", "");
	power_up(&f, 0x3B);
	const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	assert_int_equal(xmit(&f, c1, sizeof(c1), r, &rn), TC_E_PARITY);
	stop(&f);
}

static void test_removal_by_detect(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	uint8_t r[300];
	size_t rn;
	bool present = false;
	(void)state;
	start(&f, "--set ta1=11", "");
	assert_int_equal(tc_slot_presence(f.slot, 0, &present), TC_OK);
	assert_true(present);
	power_up(&f, 0x3B);
	assert_int_equal(sim_ctl(&f, "remove"), 0);
	assert_int_equal(tc_slot_presence(f.slot, 2000, &present), TC_OK);
	assert_false(present);
	const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	assert_int_not_equal(xmit(&f, c1, sizeof(c1), r, &rn), TC_OK);
	assert_int_equal(sim_ctl(&f, "insert"), 0);
	assert_int_equal(tc_slot_presence(f.slot, 2000, &present), TC_OK);
	assert_true(present);
	power_up(&f, 0x3B);
	/* pulled in the middle of a 256-byte answer */
	assert_int_equal(sim_ctl(&f, "set remove_at=100"), 0);
	const uint8_t c2[] = {0x80, 0x34, 0x01, 0x00, 0x00};
	assert_int_equal(xmit(&f, c2, sizeof(c2), r, &rn), TC_E_NO_CARD);
	stop(&f);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* WI = 1: WT = 960 etu = 100 ms at 9600 baud; the card works 16 000 etu
 * with NULLs only every 5000 etu, so the reader gives up on WT. */
static void test_mute_card_times_out(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	uint8_t r[8], atr[40];
	size_t rn, n;
	(void)state;
	start(&f, "--set ta1=11 --set tc2=1 --set null_interval=5000", "");
	power_up(&f, 0x3B);
	const uint8_t c[] = {0x80, 0x38, 0x00, 0x10, 0x00};
	double t0 = now_ms();
	assert_int_equal(xmit(&f, c, sizeof(c), r, &rn), TC_E_TIMEOUT);
	printf("serial: WT of 960 etu (100 ms) ran out after %.1f ms (slack 50 ms)\n",
	       now_ms() - t0);
	stop(&f);
	/* and a card that gives no ATR at all */
	start(&f, "--set mute=yes", "");
	assert_int_equal(tc_slot_power_up(f.slot, false, atr, &n), TC_E_MUTE);
	stop(&f);
}

static int teardown(void **state)
{
	(void)state;
	if (current)
		stop(current);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_atr_9600, teardown),
	    cmocka_unit_test_teardown(test_cases_9600_echo_removed, teardown),
	    cmocka_unit_test_teardown(test_pps_standard_rate, teardown),
	    cmocka_unit_test_teardown(test_pps_custom_rate, teardown),
	    cmocka_unit_test_teardown(test_nocustom_default_rate, teardown),
	    cmocka_unit_test_teardown(test_nocustom_standard_rate, teardown),
	    cmocka_unit_test_teardown(test_max_baud, teardown),
	    cmocka_unit_test_teardown(test_nocustom_specific_mode, teardown),
	    cmocka_unit_test_teardown(test_inverse, teardown),
	    cmocka_unit_test_teardown(test_parity_from_card_signal, teardown),
	    cmocka_unit_test_teardown(test_parity_to_card_unsignalled, teardown),
	    cmocka_unit_test_teardown(test_removal_by_detect, teardown),
	    cmocka_unit_test_teardown(test_mute_card_times_out, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
