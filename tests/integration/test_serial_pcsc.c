/* test_serial_pcsc.c: the serial transport loaded by a real pcscd. tokencard-
 * sim's serial front end (a pty plus the modem-line side channel, see
 * docs/serial.md) stands for a Phoenix reader; a private pcscd started with
 * `tokencard rig start --readers 0 --reader-conf FILE` loads the build's
 * driver for the DEVICENAME serial:TTY:lines=SOCK:detect=cts of FILE; the
 * test speaks to it through libpcsclite only: the reader and the card's ATR,
 * SCardConnect T=0 with PPS to the rate TA1 offers (the pty's speed read back
 * with TCGETS2), the reader test application's cases 1-4, and a card removal
 * and insertion seen by SCardGetStatusChange.
 *
 * libpcsclite reads PCSCLITE_CSOCK_NAME once per process, so the group has
 * one card and one pcscd; every test leaves the card inserted and powered
 * with the default configuration. */
#define _GNU_SOURCE
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcsc_rig.h"
#include "proc.h"

#define READER_NAME "tokencard serial"

struct fx {
	char dir[64], tty[96], lines[96], rig[96];
	pid_t sim;
	bool rig_up;
	SCARDCONTEXT ctx;
	char reader[PCSC_READER_NAME_LEN];
};

static struct fx fx;
static const char *dev_opts = ""; /* ":nocustom" for the nocustom group */

static const uint8_t default_atr[] = {0x3B, 0x96, 0x96, 0x80, 0x1F, 0x07, 0x80,
                                      0x31, 0xC0, 0x82, 0x90, 0x00, 0xFB};

/* Run `TC_TOOL args...` with stdout into DIR/tool.out (read into out). */
static int run_tool(const char *const *args, char *out, size_t cap)
{
	const char *tool = getenv("TC_TOOL");
	char path[128], strings[2048], *argv[16];
	size_t n = 0, used = 0;

	if (!tool)
		return -1;
	/* execv wants modifiable strings: argv[0] the tool, then args[] */
	for (; n < 15; n++) {
		const char *src = n == 0 ? tool : args[n - 1];
		if (!src)
			break;
		size_t len = strlen(src) + 1;
		if (used + len > sizeof(strings))
			return -1;
		argv[n] = memcpy(strings + used, src, len);
		used += len;
	}
	argv[n] = NULL;
	snprintf(path, sizeof(path), "%s/tool.out", fx.dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)dup2(fd, 1); /* a file: the rig's daemons may keep it open */
		execv(tool, argv);
		_exit(127);
	}
	int status = -1;
	if (pid > 0)
		(void)waitpid(pid, &status, 0);
	if (out && cap) {
		ssize_t got = pread(fd, out, cap - 1, 0);
		out[got > 0 ? got : 0] = '\0';
	}
	close(fd);
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One control line to the card (PATH.ctl); reply gets its answer. 0 on "ok"
 * (or any answer to "status"). */
static int sim_ctl(const char *line, char *reply, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[400] = "";
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.ctl", fx.lines);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t n = strlen(line);
	ssize_t r = -1;
	if (write(fd, line, n) == (ssize_t)n && write(fd, "\n", 1) == 1)
		r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (reply && cap)
		snprintf(reply, cap, "%s", buf);
	if (r < 2)
		return -1;
	return !strncmp(buf, "ok", 2) || !strcmp(line, "status") ? 0 : -1;
}

/* The value of key in the card's status line. */
static void sim_status(const char *key, char *out, size_t cap)
{
	char line[400], want[40];
	assert_int_equal(sim_ctl("status", line, sizeof(line)), 0);
	snprintf(want, sizeof(want), " %s=", key);
	const char *p = strstr(line, want);
	assert_non_null(p);
	p += strlen(want);
	snprintf(out, cap, "%.*s", (int)strcspn(p, " "), p);
}

/* The rate the driver set on the tty, read on the pty slave itself. */
static unsigned tty_rate(void)
{
	struct termios2 t;
	int fd = open(fx.tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TCGETS2, &t), 0);
	close(fd);
	return t.c_ospeed;
}

static int write_reader_conf(char *path, size_t cap)
{
	char lib[4096];
	const char *sim = getenv("TC_SIM");
	/* BUILD/card/tokencard-sim -> BUILD/driver/libifd-tokencard.so */
	snprintf(lib, sizeof(lib), "%s", sim);
	char *slash = strrchr(lib, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	slash = strrchr(lib, '/');
	if (!slash)
		return -1;
	snprintf(slash, sizeof(lib) - (size_t)(slash - lib), "/driver/libifd-tokencard.so");
	if (access(lib, R_OK) != 0) {
		fprintf(stderr, "no driver at %s\n", lib);
		return -1;
	}
	snprintf(path, cap, "%s/serial.conf", fx.dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "# a Phoenix reader on the test pty, detect on CTS (docs/serial.md)\n");
	fprintf(f, "FRIENDLYNAME \"%s\"\n", READER_NAME);
	fprintf(f, "DEVICENAME serial:%s:lines=%s:detect=cts%s\n", fx.tty, fx.lines, dev_opts);
	fprintf(f, "LIBPATH %s\n", lib);
	fprintf(f, "CHANNELID 0\n");
	return fclose(f);
}

static int start_rig(void)
{
	char conf[160], owner[24], out[512];
	snprintf(fx.rig, sizeof(fx.rig), "%s/rig", fx.dir);
	snprintf(owner, sizeof(owner), "%ld", (long)getpid());
	if (write_reader_conf(conf, sizeof(conf)) != 0)
		return -1;
	const char *args[] = {"rig",
	                      "start",
	                      "--dir",
	                      fx.rig,
	                      "--owner",
	                      owner,
	                      "--readers",
	                      "0",
	                      "--reader-conf",
	                      conf,
	                      getenv("TC_RIG_DEBUG") ? "--debug" : NULL,
	                      NULL};
	int rc = run_tool(args, out, sizeof(out));
	const char *line = strstr(out, "PCSCLITE_CSOCK_NAME=");
	if (rc != 0 || !line) {
		fprintf(stderr, "rig start failed (%d); logs in %s\n", rc, fx.rig);
		return -1;
	}
	fx.rig_up = true;
	char sock[160];
	snprintf(sock, sizeof(sock), "%s/pcscd.comm", fx.rig);
	return setenv("PCSCLITE_CSOCK_NAME", sock, 1);
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.ctx)
		(void)SCardReleaseContext(fx.ctx);
	if (fx.rig_up) {
		const char *args[] = {"rig", "stop", "--dir", fx.rig, NULL};
		(void)run_tool(args, NULL, 0);
	}
	if (fx.sim > 0) {
		kill(fx.sim, SIGTERM);
		waitpid(fx.sim, NULL, 0);
	}
	if (fx.dir[0] && !getenv("TC_KEEP_RIG")) {
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", fx.dir);
	}
	return 0;
}

static int group_setup(void **state)
{
	char cmd[600];
	const char *sim = getenv("TC_SIM");
	(void)state;
	if (!sim || !getenv("TC_TOOL")) {
		fprintf(stderr, "TC_SIM and TC_TOOL must be set\n");
		return -1;
	}
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/tc-serpcsc-XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	snprintf(fx.tty, sizeof(fx.tty), "%s/tty", fx.dir);
	snprintf(fx.lines, sizeof(fx.lines), "%s/lines", fx.dir);
	snprintf(cmd, sizeof(cmd), "%s --serial %s --lines {}", sim, fx.tty);
	if (proc_spawn(cmd, fx.lines, fx.dir, "sim", &fx.sim) != 0 ||
	    proc_wait_socket(fx.lines, fx.sim, 5000) != 0 || start_rig() != 0 ||
	    SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &fx.ctx) != SCARD_S_SUCCESS) {
		group_teardown(state);
		return -1;
	}
	return 0;
}

/* The reader's full PC/SC name (FRIENDLYNAME plus pcscd's numbers). */
static void find_reader(void)
{
	char buf[2048];
	DWORD len = sizeof(buf);
	assert_int_equal(SCardListReaders(fx.ctx, NULL, buf, &len), SCARD_S_SUCCESS);
	for (const char *p = buf; *p; p += strlen(p) + 1)
		if (!strncmp(p, READER_NAME " ", strlen(READER_NAME " "))) {
			snprintf(fx.reader, sizeof(fx.reader), "%.*s", (int)sizeof(fx.reader) - 1,
			         p);
			return;
		}
	fail_msg("no reader '%s' in the list", READER_NAME);
}

static void wait_state(DWORD want)
{
	DWORD st = 0;
	LONG rv = pcsc_wait_state(fx.ctx, fx.reader, want, 10000, &st);
	if (rv != SCARD_S_SUCCESS)
		fail_msg("reader state 0x%lX, waited for 0x%lX: %s", (unsigned long)st,
		         (unsigned long)want, pcsc_stringify_error(rv));
}

static SCARDHANDLE connect_t0(void)
{
	SCARDHANDLE h = 0;
	DWORD proto = 0;
	LONG rv =
	    SCardConnect(fx.ctx, fx.reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, &h, &proto);
	if (rv != SCARD_S_SUCCESS)
		fail_msg("SCardConnect T=0: %s (0x%lX)", pcsc_stringify_error(rv),
		         (unsigned long)rv);
	assert_int_equal(proto, SCARD_PROTOCOL_T0);
	return h;
}

/* SELECT and cases 1-4 at a spread of lengths, the extremes included. */
static void run_cases(SCARDHANDLE h)
{
	static const unsigned lens[] = {1, 2, 16, 100, 255, 256};
	char why[PCSC_RIG_WHY_LEN];
	if (testapp_select(h, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (int k = 1; k <= 4; k++) {
			if (k == 1 && i > 0)
				continue;
			if (testapp_case(h, k, k == 3 && lens[i] > 255 ? 255 : lens[i], why,
			                 sizeof(why)) != 0)
				fail_msg("%s", why);
		}
}

/* The reader is listed, its card present, with the sim's ATR. */
static void test_reader_and_atr(void **state)
{
	(void)state;
	find_reader();
	wait_state(SCARD_STATE_PRESENT);
	SCARD_READERSTATE rs = {.szReader = fx.reader, .dwCurrentState = SCARD_STATE_UNAWARE};
	assert_int_equal(SCardGetStatusChange(fx.ctx, 0, &rs, 1), SCARD_S_SUCCESS);
	assert_int_equal(rs.cbAtr, sizeof(default_atr));
	assert_memory_equal(rs.rgbAtr, default_atr, sizeof(default_atr));
	assert_int_equal(tty_rate(), 9600); /* the ATR came at 9600 baud */
}

/* SCardConnect T=0: pcscd's protocol choice runs the driver's PPS to TA1 96
 * (Fi 512, Di 32): 223 200 baud at 3.5712 MHz, a custom divisor. */
static void test_connect_pps_cases(void **state)
{
	char f[16], d[16];
	uint8_t atr[40];
	DWORD alen = sizeof(atr), st = 0, proto = 0, nlen = 0;
	(void)state;
	if (!fx.reader[0])
		find_reader();
	SCARDHANDLE h = connect_t0();
	assert_int_equal(SCardStatus(h, NULL, &nlen, &st, &proto, atr, &alen), SCARD_S_SUCCESS);
	assert_int_equal(alen, sizeof(default_atr));
	assert_memory_equal(atr, default_atr, alen);
	assert_int_equal(proto, SCARD_PROTOCOL_T0);
	assert_int_equal(tty_rate(), 223200);
	run_cases(h);
	/* 16 000 etu of work, NULL bytes every WT / 2 (4 800 etu), in real time */
	char why[PCSC_RIG_WHY_LEN];
	if (testapp_time(h, 0x10, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	/* the card takes the new factors with the first character after PPS */
	sim_status("F", f, sizeof(f));
	sim_status("D", d, sizeof(d));
	assert_string_equal(f, "512");
	assert_string_equal(d, "32");
	printf("serial under pcscd: PPS F=%s D=%s, tty at %u baud, cases 1-4 passed\n", f, d,
	       tty_rate());
	assert_int_equal(SCardDisconnect(h, SCARD_LEAVE_CARD), SCARD_S_SUCCESS);
}

/* Pulled and put back: SCardGetStatusChange sees EMPTY then PRESENT, the old
 * handle reports the removal, a new connection works. */
static void test_removal_insertion(void **state)
{
	uint8_t r[8];
	size_t rn;
	uint16_t sw;
	char why[PCSC_RIG_WHY_LEN];
	const uint8_t c1[] = {0x80, 0x30, 0x00, 0x00};
	(void)state;
	if (!fx.reader[0])
		find_reader();
	SCARDHANDLE h = connect_t0();
	if (testapp_select(h, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_int_equal(sim_ctl("remove", NULL, 0), 0);
	wait_state(SCARD_STATE_EMPTY);
	LONG rv = pcsc_apdu(h, c1, sizeof(c1), r, sizeof(r), &rn, &sw);
	printf("serial under pcscd: APDU on the old handle after removal: %s (0x%lX)\n",
	       pcsc_stringify_error(rv), (unsigned long)rv);
	assert_int_equal(rv, SCARD_W_REMOVED_CARD);
	(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	assert_int_equal(sim_ctl("insert", NULL, 0), 0);
	wait_state(SCARD_STATE_PRESENT);
	h = connect_t0();
	assert_int_equal(tty_rate(), 223200);
	run_cases(h);
	assert_int_equal(SCardDisconnect(h, SCARD_LEAVE_CARD), SCARD_S_SUCCESS);
}

/* Pulled in the middle of a 256-byte answer (card character 150 since
 * power-on: ATR 13, PPS 4, SELECT 3, then the answer): SCardTransmit fails,
 * the reader turns EMPTY; put back, it works again. */
static void test_removed_mid_answer(void **state)
{
	char why[PCSC_RIG_WHY_LEN];
	uint8_t r[300];
	size_t rn;
	uint16_t sw;
	const uint8_t c2[] = {TESTAPP_CLA, TESTAPP_INS_C2, 0x01, 0x00, 0x00};
	(void)state;
	if (!fx.reader[0])
		find_reader();
	assert_int_equal(sim_ctl("remove", NULL, 0), 0);
	wait_state(SCARD_STATE_EMPTY);
	assert_int_equal(sim_ctl("set remove_at=150", NULL, 0), 0);
	assert_int_equal(sim_ctl("insert", NULL, 0), 0);
	wait_state(SCARD_STATE_PRESENT);
	SCARDHANDLE h = connect_t0();
	if (testapp_select(h, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	LONG rv = pcsc_apdu(h, c2, sizeof(c2), r, sizeof(r), &rn, &sw);
	if (rv == SCARD_S_SUCCESS)
		fail_msg("the answer came whole (%zu bytes, SW %04X) though the card left", rn, sw);
	printf("serial under pcscd: card pulled mid-answer: %s (0x%lX)\n", pcsc_stringify_error(rv),
	       (unsigned long)rv);
	wait_state(SCARD_STATE_EMPTY);
	(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	assert_int_equal(sim_ctl("insert", NULL, 0), 0);
	wait_state(SCARD_STATE_PRESENT);
	h = connect_t0();
	if (testapp_case(h, 2, 256, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_int_equal(SCardDisconnect(h, SCARD_LEAVE_CARD), SCARD_S_SUCCESS);
}

/* Take the card out, set key=value, put it back. */
static void reinsert_with(const char *set)
{
	assert_int_equal(sim_ctl("remove", NULL, 0), 0);
	wait_state(SCARD_STATE_EMPTY);
	assert_int_equal(sim_ctl(set, NULL, 0), 0);
	assert_int_equal(sim_ctl("insert", NULL, 0), 0);
	wait_state(SCARD_STATE_PRESENT);
}

/* Connect with T=0: the UART runs at rate and the card's D is d; the test
 * application's cases pass; disconnect. */
static void connect_at(unsigned rate, const char *d)
{
	char got[16];
	SCARDHANDLE h = connect_t0();
	assert_int_equal(tty_rate(), rate);
	run_cases(h);
	sim_status("D", got, sizeof(got));
	assert_string_equal(got, d);
	assert_int_equal(SCardDisconnect(h, SCARD_LEAVE_CARD), SCARD_S_SUCCESS);
}

/* A card offering TA1 18 (Fi 372, Di 12) after a reinsertion: PPS to
 * 115 200 baud, a standard rate; then back to the default card. */
static void test_pps_standard_rate(void **state)
{
	(void)state;
	if (!fx.reader[0])
		find_reader();
	reinsert_with("set ta1=18");
	connect_at(115200, "12");
	reinsert_with("set ta1=96");
}

/* nocustom (a UART without custom divisors): TA1 96 needs 223 200 baud and
 * no Di of Fi 512 has a standard rate at 3.5712 MHz, so the driver asks no
 * PPS1 and the card works at 9600; TA1 16 (Di 32, 307 200) gets Di 12 at
 * 115 200, the fastest standard rate. Before the reader's caps fed the PPS
 * decision, both failed in SCardConnect after a successful PPS. */
static void test_nocustom_connect(void **state)
{
	(void)state;
	find_reader();
	connect_at(9600, "1");
	reinsert_with("set ta1=16");
	connect_at(115200, "12");
	reinsert_with("set ta1=96");
}

/* Argument "nocustom": the reader.conf entry has :nocustom and the nocustom
 * group runs. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader_and_atr),    cmocka_unit_test(test_connect_pps_cases),
	    cmocka_unit_test(test_removal_insertion), cmocka_unit_test(test_removed_mid_answer),
	    cmocka_unit_test(test_pps_standard_rate),
	};
	const struct CMUnitTest nocustom[] = {
	    cmocka_unit_test(test_nocustom_connect),
	};
	if (argc > 1 && strcmp(argv[1], "nocustom") == 0) {
		dev_opts = ":nocustom";
		return cmocka_run_group_tests(nocustom, group_setup, group_teardown);
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
