/* test_token_tools.c: the deposit-token card through the real pcscd, the
 * driver and the loopback readers, for what test_token_pcsc.c does not
 * cover: `tokencard rig start --token-card` (with and without STORE, one
 * card per reader); `tokencard card verify` under a real pseudo-terminal
 * (the PIN not echoed, echo back on afterwards, also after Ctrl-C);
 * --pin-fd; `card change-pin` (CHANGE REFERENCE DATA) and `card unblock`
 * with a new PIN; GET CHALLENGE; INTERNAL AUTHENTICATE telling the genuine
 * card from a copy of everything it shows; the log cyclic over eleven
 * payments; a date after the expiry making the card expired, reported by
 * `card info`. The tests run in order on the same two cards. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <utmp.h>

#include <cmocka.h>
#include <winscard.h>

#include "pcsc_rig.h"
#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_sw.h"
#include "tc_token_apdu.h"
#include "tc_token_mac.h"

/* Test data of tests/data/token/holder.txt and keys.txt (TEST KEYS). */
#define PAN      "1111222233334444"
#define PIN      "9157"
#define PIN2     "24680135" /* the PIN after change-pin */
#define PIN3     "5555"     /* the PIN set by unblock */
#define PUK      "87654321"
#define CARD_ID  "TC00000001"
#define CURRENCY 840u
#define FAR_AWAY 60000 /* ms: a guard against a hang, never a timing assertion */
#define OUT_LEN  65536u
#define PIN_FD   5

static const uint8_t master[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};

struct fixture {
	struct pcsc_rig *rig;
	char work[64];
	char store[128];
	char data[512];
	struct tc_tok_keys keys;
	SCARDCONTEXT ctx;
	char reader[2][PCSC_READER_NAME_LEN];
	char out[OUT_LEN]; /* the latest tool output */
	char all[OUT_LEN * 4];
	size_t all_len; /* every output of this test, searched at the end */
};

static struct fixture fx;

/* ---- the tool ---------------------------------------------------------------- */

struct run {
	const char *in;    /* stdin (a pipe), or NULL: empty */
	const char *fd_in; /* written to fd PIN_FD, or NULL: no such fd */
	const char *sock;  /* PCSCLITE_CSOCK_NAME for the tool, or NULL: ours */
};

static void keep_output(size_t n)
{
	if (fx.all_len + n < sizeof(fx.all)) {
		memcpy(fx.all + fx.all_len, fx.out, n);
		fx.all_len += n;
	}
}

static void feed(int fd, const char *text)
{
	if (text)
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void child_exec(char **args, const struct run *r, const int in[2], const int pin[2], int out)
{
	int pfd = pin[0];
	close(in[1]); /* the write ends: stdin and fd N must see their end */
	if (pin[1] >= 0)
		close(pin[1]);
	if (r->sock)
		setenv("PCSCLITE_CSOCK_NAME", r->sock, 1);
	(void)dup2(in[0], 0);
	(void)dup2(out, 1);
	(void)dup2(out, 2);
	if (pfd >= 0)
		(void)dup2(pfd, PIN_FD);
	execv(args[0], args);
	_exit(127);
}

/* Run `tokencard ARGS...` (NULL-terminated); stdout and stderr into fx.out. */
static int toolv(const struct run *r, va_list ap)
{
	char *args[20] = {getenv("TC_TOOL")};
	int n = 1, in[2], pin[2] = {-1, -1};
	bool has_r = false;
	while (n < 17 && (args[n] = va_arg(ap, char *)) != NULL)
		has_r |= strcmp(args[n++], "-r") == 0;
	if (!strcmp(args[1], "card") && !has_r && !r->sock) { /* the genuine card */
		args[n++] = "-r";
		args[n++] = fx.reader[0];
	}
	args[n] = NULL;
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	assert_int_equal(pipe(in), 0);
	if (r->fd_in)
		assert_int_equal(pipe(pin), 0);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(args, r, in, pin, fileno(tmp));
	close(in[0]);
	feed(in[1], r->in);
	if (r->fd_in) {
		close(pin[0]);
		feed(pin[1], r->fd_in);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ssize_t got = pread(fileno(tmp), fx.out, sizeof(fx.out) - 1, 0);
	fx.out[got > 0 ? got : 0] = '\0';
	fclose(tmp);
	keep_output(got > 0 ? (size_t)got : 0);
	print_message("tokencard %s %s -> %d\n%s", args[1], args[2] ? args[2] : "",
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1, fx.out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int tool(const struct run *r, ...)
{
	va_list ap;
	va_start(ap, r);
	int rc = toolv(r, ap);
	va_end(ap);
	return rc;
}

#define RUN(...) (&(const struct run){__VA_ARGS__})

static void expect_out(const char *text)
{
	if (!strstr(fx.out, text))
		fail_msg("expected '%s' in the tool's output", text);
}

/* ---- the tool under a pseudo-terminal ----------------------------------------- */

struct pty_run {
	int master, slave;
	pid_t pid;
	size_t len;
	bool echo_at_prompt; /* ECHO was on when a prompt was seen */
	int prompts;
};

/* Read what the tool wrote; answers[i] is typed after prompt i ("...: "). */
static void pty_pump(struct pty_run *p, const char *const *answers, int nanswers)
{
	long long end = pcsc_now_ms() + FAR_AWAY;
	int st = 0;
	bool done = false;
	while (!done && pcsc_now_ms() < end) {
		struct pollfd pfd = {.fd = p->master, .events = POLLIN};
		if (poll(&pfd, 1, 50) > 0) {
			ssize_t n = read(p->master, fx.out + p->len, sizeof(fx.out) - 1 - p->len);
			if (n > 0)
				p->len += (size_t)n;
			fx.out[p->len] = '\0';
		}
		/* a new prompt: the last ": " in the output, not yet answered */
		const char *last = NULL;
		for (const char *s = fx.out; (s = strstr(s, ": ")) != NULL; s += 2)
			last = s;
		int seen = 0;
		for (const char *s = fx.out; (s = strstr(s, "PIN")) != NULL; s += 3)
			seen += strncmp(s + 3, ": ", 2) == 0 || strncmp(s + 3, " again: ", 8) == 0;
		for (const char *s = fx.out; (s = strstr(s, "PUK: ")) != NULL; s += 5)
			seen++;
		if (last && last[2] == '\0' && seen > p->prompts && p->prompts < nanswers) {
			struct termios t;
			assert_int_equal(tcgetattr(p->slave, &t), 0);
			p->echo_at_prompt |= (t.c_lflag & ECHO) != 0;
			const char *a = answers[p->prompts++];
			assert_int_equal(write(p->master, a, strlen(a)), (ssize_t)strlen(a));
		}
		if (waitpid(p->pid, &st, WNOHANG) == p->pid)
			done = true;
	}
	if (!done)
		fail_msg("the tool did not end; its output: %s", fx.out);
	p->pid = st; /* the wait status */
}

/* Run `tokencard card VERB` on a new pty; returns the wait status. After
 * it, *echo_after says whether the terminal's ECHO is on again. */
static int pty_tool(const char *verb, const char *const *answers, int nanswers, bool *echo_at,
                    bool *echo_after)
{
	struct pty_run p = {0};
	struct termios t;
	assert_int_equal(openpty(&p.master, &p.slave, NULL, NULL, NULL), 0);
	assert_int_equal(tcgetattr(p.slave, &t), 0);
	assert_true((t.c_lflag & ECHO) != 0); /* a terminal that echoes, as a user's does */
	p.pid = fork();
	if (p.pid == 0) {
		close(p.master);
		if (login_tty(p.slave) != 0) /* own session, the pty its terminal */
			_exit(126);
		execl(getenv("TC_TOOL"), getenv("TC_TOOL"), "card", verb, "-r", fx.reader[0],
		      (char *)NULL);
		_exit(127);
	}
	pty_pump(&p, answers, nanswers);
	/* drain what is left */
	ssize_t n;
	(void)fcntl(p.master, F_SETFL, O_NONBLOCK);
	while ((n = read(p.master, fx.out + p.len, sizeof(fx.out) - 1 - p.len)) > 0)
		p.len += (size_t)n;
	fx.out[p.len] = '\0';
	keep_output(p.len);
	assert_int_equal(tcgetattr(p.slave, &t), 0);
	*echo_after = (t.c_lflag & ECHO) != 0;
	*echo_at = p.echo_at_prompt;
	close(p.master);
	close(p.slave);
	print_message("pty: tokencard card %s -> status 0x%x, %d prompt(s)\n%s\n", verb, p.pid,
	              p.prompts, fx.out);
	return p.pid;
}

/* ---- PC/SC as the host ---------------------------------------------------------- */

static SCARDHANDLE open_app(unsigned n)
{
	SCARDHANDLE h = 0;
	DWORD proto = 0, st = 0;
	uint8_t a[TC_TOK_APDU_MAX];
	uint16_t sw = 0;
	assert_int_equal(pcsc_wait_state(fx.ctx, fx.reader[n], SCARD_STATE_PRESENT, FAR_AWAY, &st),
	                 SCARD_S_SUCCESS);
	assert_int_equal(SCardConnect(fx.ctx, fx.reader[n], SCARD_SHARE_EXCLUSIVE,
	                              SCARD_PROTOCOL_T0, &h, &proto),
	                 SCARD_S_SUCCESS);
	int len = tc_tok_select(a, sizeof(a));
	assert_int_equal(pcsc_apdu(h, a, (size_t)len, NULL, 0, NULL, &sw), SCARD_S_SUCCESS);
	assert_int_equal(sw, TC_SW_OK);
	return h;
}

static void close_app(SCARDHANDLE h)
{
	(void)SCardDisconnect(h, SCARD_RESET_CARD);
}

/* One command (len from a builder); GET RESPONSE after 61xx. The SW. */
static int cmd(SCARDHANDLE h, int len, const uint8_t *apdu, uint8_t *out, size_t *nout)
{
	uint8_t buf[300];
	size_t got = 0, n = 0;
	uint16_t sw = 0;
	assert_true(len > 0);
	assert_int_equal(pcsc_apdu(h, apdu, (size_t)len, buf, sizeof(buf), &n, &sw),
	                 SCARD_S_SUCCESS);
	for (;;) {
		if (out && got + n <= 300)
			memcpy(out + got, buf, n);
		got += n;
		if ((sw >> 8) != 0x61)
			break;
		const uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, (uint8_t)sw};
		assert_int_equal(pcsc_apdu(h, gr, 5, buf, sizeof(buf), &n, &sw), SCARD_S_SUCCESS);
	}
	if (nout)
		*nout = got;
	return sw;
}

static void get(SCARDHANDLE h, uint16_t tag, struct tc_tok_status *st)
{
	uint8_t a[8], r[64];
	size_t n = 0;
	assert_int_equal(cmd(h, tc_tok_get_data(tag, a, sizeof(a)), a, r, &n), TC_SW_OK);
	assert_int_equal(tc_tok_parse_data(tag, r, n, st), TC_OK);
}

static unsigned pin_tries(void)
{
	struct tc_tok_status st;
	SCARDHANDLE h = open_app(0);
	get(h, TC_TOK_DO_PIN_TRIES, &st);
	close_app(h);
	return st.pin_tries;
}

static void verify(SCARDHANDLE h, const char *pin)
{
	uint8_t a[TC_TOK_APDU_MAX];
	assert_int_equal(cmd(h, tc_tok_verify(pin, a, sizeof(a)), a, NULL, NULL), TC_SW_OK);
}

/* ---- rig start --token-card --------------------------------------------------- */

/* `tokencard rig start --token-card` without STORE, two readers, in a
 * directory of its own: each card is a blank token card with its memory in
 * DIR/tokenN.mem, and the tool talks to it. */
static void test_rig_token_card_default_store(void **state)
{
	char dir[96], sock[160], owner[24], path[160];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/rig2", fx.work);
	snprintf(sock, sizeof(sock), "%s/pcscd.comm", dir);
	snprintf(owner, sizeof(owner), "%ld", (long)getpid());
	assert_int_equal(tool(RUN(0), "rig", "start", "--dir", dir, "--readers", "2", "--owner",
	                      owner, "--token-card", NULL),
	                 0);
	expect_out("PCSCLITE_CSOCK_NAME=");
	for (unsigned n = 0; n < 2; n++) {
		snprintf(path, sizeof(path), "%s/token%u.mem", dir, n);
		if (access(path, F_OK) != 0)
			fail_msg("no card memory at %s", path);
	}
	int rc = tool(RUN(.sock = sock), "card", "info", NULL);
	int rc2 = tool(RUN(.sock = sock), "card", "info", "-r", "tokencard loopback 1", NULL);
	bool blank = strstr(fx.out, "lifecycle        blank") != NULL;
	assert_int_equal(tool(RUN(0), "rig", "stop", "--dir", dir, NULL), 0);
	assert_int_equal(rc, 0);
	(void)rc2; /* -r takes the full PC/SC name; the short one may not match */
	assert_true(blank || rc2 != 0);
	/* a stray argument is refused, not ignored */
	assert_int_equal(tool(RUN(0), "rig", "start", "--dir", dir, "--token-card", "a", "b", NULL),
	                 2);
	expect_out("unexpected argument 'b'");
	for (unsigned n = 0; n < 2; n++) {
		snprintf(path, sizeof(path), "%s/token%u.mem", dir, n);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

/* The genuine card in reader 0 (STORE), personalised with the test keys. */
static void test_personalise_genuine(void **state)
{
	char holder[600], keys[600];
	(void)state;
	snprintf(holder, sizeof(holder), "%s/holder.txt", fx.data);
	snprintf(keys, sizeof(keys), "%s/keys.txt", fx.data);
	assert_int_equal(access(fx.store, F_OK), 0); /* the rig's --token-card STORE */
	assert_int_equal(
	    tool(RUN(0), "card", "personalise", "-r", fx.reader[0], "--keys", keys, holder, NULL),
	    0);
	expect_out("balance 400.00 USD (840)");
	assert_int_equal(tool(RUN(0), "card", "info", "-r", fx.reader[0], NULL), 0);
	expect_out("lifecycle        active");
	expect_out("balance          400.00 USD (840)");
	expect_out("amount deposited   400.00 USD (840)");
	expect_out("expiry date        2002-11-15");
	expect_out("card number        ************4444");
}

/* ---- the PIN without echo ----------------------------------------------------- */

static void test_verify_under_pty(void **state)
{
	static const char *const right[] = {PIN "\n"}, *const wrong[] = {"0000\n"};
	bool at = true, after = false;
	(void)state;
	int st = pty_tool("verify", right, 1, &at, &after);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	expect_out("PIN: ");
	expect_out("PIN correct");
	assert_null(strstr(fx.out, PIN)); /* the terminal did not echo it */
	assert_false(at);                 /* echo was off when the prompt showed */
	assert_true(after);               /* and on again afterwards */
	st = pty_tool("verify", wrong, 1, &at, &after);
	assert_int_equal(WEXITSTATUS(st), 1);
	expect_out("PIN wrong: 2 tries left");
	assert_null(strstr(fx.out, "0000"));
	assert_false(at);
	assert_true(after);
	assert_int_equal(pin_tries(), 2);
}

/* Ctrl-C at the prompt: the tool dies of SIGINT, the terminal echoes again. */
static void test_verify_pty_interrupted(void **state)
{
	static const char *const intr[] = {"\003"};
	bool at = true, after = false;
	(void)state;
	int st = pty_tool("verify", intr, 1, &at, &after);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGINT);
	assert_false(at);
	assert_true(after);
	assert_int_equal(pin_tries(), 2); /* nothing was sent */
}

/* --pin-fd N: the PIN comes from fd N, not from stdin. */
static void test_pin_fd(void **state)
{
	(void)state;
	assert_int_equal(
	    tool(RUN(.in = "0000\n", .fd_in = PIN "\n"), "card", "verify", "--pin-fd", "5", NULL),
	    0);
	expect_out("PIN correct");
	assert_int_equal(pin_tries(), 3);
	assert_int_equal(
	    tool(RUN(.in = PIN "\n", .fd_in = "1234\n"), "card", "verify", "--pin-fd", "5", NULL),
	    1);
	expect_out("PIN wrong: 2 tries left");
	assert_int_equal(tool(RUN(.fd_in = PIN "\n"), "card", "verify", "--pin-fd", "5", NULL), 0);
	assert_int_equal(pin_tries(), 3);
	/* not a descriptor, and a descriptor with nothing: usage errors */
	assert_int_equal(tool(RUN(0), "card", "verify", "--pin-fd", "five", NULL), 2);
	expect_out("--pin-fd wants a descriptor number");
	assert_int_equal(tool(RUN(.fd_in = ""), "card", "verify", "--pin-fd", "5", NULL), 2);
	assert_int_equal(pin_tries(), 3);
}

/* ---- change-pin, unblock with a new PIN ----------------------------------------- */

static void test_change_pin(void **state)
{
	static const char *const differ[] = {PIN "\n", "1111\n", "2222\n"};
	static const char *const same[] = {PIN "\n", PIN2 "\n", PIN2 "\n"};
	bool at = true, after = false;
	(void)state;
	/* a wrong old PIN costs a try, the PIN stays */
	assert_int_equal(
	    tool(RUN(.fd_in = "0000\n" PIN2 "\n"), "card", "change-pin", "--pin-fd", "5", NULL), 1);
	expect_out("PIN wrong: 2 tries left");
	/* a new PIN of 3 digits: refused by the tool, nothing sent */
	assert_int_equal(
	    tool(RUN(.fd_in = PIN "\n123\n"), "card", "change-pin", "--pin-fd", "5", NULL), 2);
	assert_int_equal(pin_tries(), 2);
	/* from a terminal the new PIN is typed twice; two that differ: nothing sent */
	int st = pty_tool("change-pin", differ, 3, &at, &after);
	assert_int_equal(WEXITSTATUS(st), 2);
	expect_out("the two new PINs differ");
	assert_false(at);
	assert_true(after);
	st = pty_tool("change-pin", same, 3, &at, &after);
	assert_int_equal(WEXITSTATUS(st), 0);
	expect_out("PIN changed");
	assert_null(strstr(fx.out, PIN2));
	assert_int_equal(pin_tries(), 3);
	/* the old PIN no longer works, the new one does */
	assert_int_equal(tool(RUN(.in = PIN "\n"), "card", "verify", NULL), 1);
	assert_int_equal(tool(RUN(.in = PIN2 "\n"), "card", "verify", NULL), 0);
	expect_out("PIN correct");
}

static void test_unblock_with_new_pin(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(tool(RUN(.in = "0000\n"), "card", "verify", NULL), 1);
	expect_out("0 tries left (blocked)");
	assert_int_equal(tool(RUN(.in = PIN2 "\n"), "card", "verify", NULL), 1);
	expect_out("PIN blocked");
	assert_int_equal(
	    tool(RUN(.fd_in = PUK "\n" PIN3 "\n"), "card", "unblock", "--pin-fd", "5", NULL), 0);
	expect_out("PIN unblocked: 3 tries");
	assert_int_equal(tool(RUN(.in = PIN2 "\n"), "card", "verify", NULL), 1);
	assert_int_equal(tool(RUN(.in = PIN3 "\n"), "card", "verify", NULL), 0);
	/* a PUK is 8 digits: refused by the tool, no PUK try used */
	assert_int_equal(tool(RUN(.in = "1234\n\n"), "card", "unblock", NULL), 2);
	assert_int_equal(tool(RUN(0), "card", "info", NULL), 0);
	expect_out("PUK tries left   10 of 10");
	/* back to the PIN of the holder file for the tests that follow */
	assert_int_equal(
	    tool(RUN(.fd_in = PIN3 "\n" PIN "\n"), "card", "change-pin", "--pin-fd", "5", NULL), 0);
}

/* ---- GET CHALLENGE, INTERNAL AUTHENTICATE, a copied card ------------------------- */

static void test_get_challenge(void **state)
{
	uint8_t a[8], c1[16], c2[16];
	size_t n1 = 0, n2 = 0;
	(void)state;
	SCARDHANDLE h = open_app(0);
	assert_int_equal(cmd(h, tc_tok_get_challenge(a, sizeof(a)), a, c1, &n1), TC_SW_OK);
	assert_int_equal(cmd(h, tc_tok_get_challenge(a, sizeof(a)), a, c2, &n2), TC_SW_OK);
	assert_int_equal(n1, TC_TOK_CHALLENGE);
	assert_int_equal(n2, TC_TOK_CHALLENGE);
	assert_memory_not_equal(c1, c2, TC_TOK_CHALLENGE);
	const uint8_t bad_p1[5] = {0x00, 0x84, 0x01, 0x00, 0x08};
	assert_int_equal(cmd(h, 5, bad_p1, NULL, NULL), TC_SW_WRONG_P1P2);
	close_app(h);
}

/* INTERNAL AUTHENTICATE with a fresh challenge; 0 when the answer checks
 * under the genuine card's key. */
static int authenticate(unsigned reader)
{
	uint8_t a[TC_TOK_APDU_MAX], chal[8], r[64];
	size_t n = 0;
	assert_int_equal(tc_random(chal, sizeof(chal)), TC_OK);
	SCARDHANDLE h = open_app(reader);
	assert_int_equal(cmd(h, tc_tok_int_auth(chal, sizeof(chal), a, sizeof(a)), a, r, &n),
	                 TC_SW_OK);
	close_app(h);
	assert_int_equal(n, TC_TOK_MAC_LEN);
	return tc_tok_int_auth_check(fx.keys.auth, (const uint8_t *)CARD_ID, strlen(CARD_ID), chal,
	                             sizeof(chal), r, n);
}

static void read_token(unsigned reader, uint8_t *rec, size_t *n)
{
	uint8_t a[8];
	SCARDHANDLE h = open_app(reader);
	assert_int_equal(cmd(h, tc_tok_read_record(TC_TOK_SFI_TOKEN, 1, a, sizeof(a)), a, rec, n),
	                 TC_SW_OK);
	close_app(h);
}

/* The key NAME ("master", "token_key") of a key file written by
 * personalise --new-keys: "NAME = 32 hex digits". */
static void key_of(const char *path, const char *name, uint8_t key[16])
{
	char line[256];
	bool found = false;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		const char *h = strchr(line, '=');
		if (strncmp(line, name, strlen(name)) != 0 || !h)
			continue;
		h += 1 + strspn(h + 1, " ");
		for (size_t i = 0; i < 16; i++)
			assert_int_equal(sscanf(h + 2 * i, "%2hhx", &key[i]), 1);
		found = true;
	}
	fclose(f);
	if (!found)
		fail_msg("no %s in %s", name, path);
}

/* The copy (reader 1, STORE.1): the same card ID, holder, token record and
 * issuer MAC byte for byte, under keys of its own (the genuine keys never
 * leave the card). PUT TOKEN writes the genuine record on it. */
static void make_copy(void)
{
	char holder[600], keys[128];
	uint8_t rec[300], a[TC_TOK_APDU_MAX], chal[16], mac[16], m[16];
	size_t n = 0, nc = 0;
	struct tc_tok_keys ck;
	struct tc_tok_status st;
	snprintf(holder, sizeof(holder), "%s/holder.txt", fx.data);
	snprintf(keys, sizeof(keys), "%s/copy-keys.txt", fx.work);
	assert_int_equal(tool(RUN(0), "card", "personalise", "-r", fx.reader[1], "--new-keys", keys,
	                      holder, NULL),
	                 0);
	read_token(0, rec, &n);
	key_of(keys, "master", m); /* the copier's own master key */
	(void)unlink(keys);
	assert_int_equal(tc_tok_keys_derive(m, (const uint8_t *)CARD_ID, strlen(CARD_ID), &ck), 0);
	SCARDHANDLE h = open_app(1);
	get(h, TC_TOK_DO_ATC, &st);
	assert_int_equal(cmd(h, tc_tok_get_challenge(a, sizeof(a)), a, chal, &nc), TC_SW_OK);
	assert_int_equal(tc_tok_put_token_mac(ck.token, (const uint8_t *)CARD_ID, strlen(CARD_ID),
	                                      chal, st.atc, rec, n, mac),
	                 TC_OK);
	assert_int_equal(cmd(h, tc_tok_put_token(rec, n, mac, a, sizeof(a)), a, NULL, NULL),
	                 TC_SW_OK);
	close_app(h);
	tc_wipe(&ck, sizeof(ck));
	tc_wipe(m, sizeof(m));
}

static void test_internal_authenticate_copy_fails(void **state)
{
	uint8_t r0[300], r1[300];
	size_t n0 = 0, n1 = 0;
	char keys[600];
	(void)state;
	make_copy();
	read_token(0, r0, &n0);
	read_token(1, r1, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(r0, r1, n0); /* everything the card shows is the same */
	snprintf(keys, sizeof(keys), "%s/keys.txt", fx.data);
	assert_int_equal(tool(RUN(0), "card", "info", "-r", fx.reader[1], "--keys", keys, NULL), 0);
	expect_out("card ID          " CARD_ID);
	expect_out("issuer MAC         valid under the key for tokens");
	/* only the genuine card answers the challenge under its key */
	assert_int_equal(authenticate(0), TC_OK);
	assert_int_equal(authenticate(0), TC_OK);
	assert_int_equal(authenticate(1), TC_E_CHECKSUM);
	/* INTERNAL AUTHENTICATE with a challenge of 7 bytes: 6700 */
	uint8_t a[TC_TOK_APDU_MAX] = {0x00, 0x88, 0x00, 0x00, 0x07, 1, 2, 3, 4, 5, 6, 7};
	SCARDHANDLE h = open_app(0);
	assert_int_equal(cmd(h, 12, a, NULL, NULL), TC_SW_WRONG_LENGTH);
	close_app(h);
}

/* ---- payments: the log is cyclic; a late date makes the card expired ------------ */

static struct tc_tok_debit debit(uint64_t amount, struct tc_date date)
{
	struct tc_tok_debit d = {.amount = amount, .currency = CURRENCY, .date = date};
	memcpy(d.terminal, "TERM0002", 8);
	assert_int_equal(tc_random(d.nonce, sizeof(d.nonce)), TC_OK);
	return d;
}

/* DEBIT REQUEST; the SW, *resp filled on 9000. */
static int request(SCARDHANDLE h, const struct tc_tok_debit *d, struct tc_tok_debit_resp *resp)
{
	uint8_t a[TC_TOK_APDU_MAX], r[64];
	size_t n = 0;
	int sw = cmd(h, tc_tok_debit_request(d, a, sizeof(a)), a, r, &n);
	if (sw == TC_SW_OK)
		assert_int_equal(tc_tok_parse_debit(r, n, resp), TC_OK);
	return sw;
}

static void pay(SCARDHANDLE h, uint64_t amount, uint32_t *atc)
{
	uint8_t a[TC_TOK_APDU_MAX], arpc[16];
	struct tc_tok_debit d = debit(amount, (struct tc_date){2002, 10, 1});
	struct tc_tok_debit_resp r;
	assert_int_equal(request(h, &d, &r), TC_SW_OK);
	assert_int_equal(tc_tok_arpc(fx.keys.mac, r.atc, TC_TOK_APPROVE, r.arqc, arpc), TC_OK);
	assert_int_equal(
	    cmd(h, tc_tok_debit_complete(r.atc, TC_TOK_APPROVE, arpc, a, sizeof(a)), a, NULL, NULL),
	    TC_SW_OK);
	*atc = r.atc;
}

static void test_log_is_cyclic(void **state)
{
	uint8_t a[8], r[64];
	size_t n = 0;
	uint32_t atc = 0;
	struct tc_tok_log_entry e;
	(void)state;
	SCARDHANDLE h = open_app(0);
	verify(h, PIN);
	for (int i = 0; i < (int)TC_TOK_LOG_MAX + 2; i++)
		pay(h, 100 + (uint64_t)i, &atc);
	for (unsigned rec = 1; rec <= TC_TOK_LOG_MAX; rec++) {
		int len = tc_tok_read_record(TC_TOK_SFI_LOG, (uint8_t)rec, a, sizeof(a));
		assert_int_equal(cmd(h, len, a, r, &n), TC_SW_OK);
		assert_int_equal(tc_tok_log_decode(r, n, &e), TC_OK);
		assert_int_equal(e.atc, atc - (rec - 1)); /* newest first */
		assert_int_equal(e.amount, 100 + TC_TOK_LOG_MAX + 2 - rec);
		assert_int_equal(e.outcome, TC_TOK_APPROVE);
	}
	int len = tc_tok_read_record(TC_TOK_SFI_LOG, TC_TOK_LOG_MAX + 1, a, sizeof(a));
	assert_int_equal(cmd(h, len, a, NULL, NULL), TC_SW_RECORD_NOT_FOUND);
	close_app(h);
	assert_int_equal(tool(RUN(0), "card", "log", "-r", fx.reader[0], NULL), 0);
	expect_out(" 1  ");
	expect_out("10  ");
	assert_null(strstr(fx.out, "\n11  "));
	expect_out("USD");
	expect_out("TERM0002");
}

/* A debit dated after the token's expiry: 6985 and the card is expired for
 * good (committed): GET DATA, `card info`, the next debit refused. */
static void test_expired(void **state)
{
	struct tc_tok_status st;
	struct tc_tok_debit_resp r;
	(void)state;
	SCARDHANDLE h = open_app(0);
	verify(h, PIN);
	struct tc_tok_debit d = debit(100, (struct tc_date){2002, 11, 15}); /* the last day */
	assert_int_equal(request(h, &d, &r), TC_SW_OK);
	d = debit(100, (struct tc_date){2002, 11, 16});
	assert_int_equal(request(h, &d, &r), TC_SW_CONDITIONS);
	get(h, TC_TOK_DO_LIFECYCLE, &st);
	assert_int_equal(st.life, TC_TOK_EXPIRED);
	d = debit(100, (struct tc_date){2002, 10, 1});
	assert_int_equal(request(h, &d, &r), TC_SW_CONDITIONS);
	close_app(h);
	assert_int_equal(tool(RUN(0), "card", "info", "-r", fx.reader[0], NULL), 0);
	expect_out("lifecycle        expired");
	expect_out("expiry date        2002-11-15");
	/* the copy in reader 1 is not affected */
	h = open_app(1);
	get(h, TC_TOK_DO_LIFECYCLE, &st);
	assert_int_equal(st.life, TC_TOK_ACTIVE);
	close_app(h);
}

/* No PAN, PIN or PUK in anything the tool printed in this test. */
static void test_no_secret_in_outputs(void **state)
{
	static const char *const secrets[] = {PAN, PIN, PIN2, PIN3, PUK};
	(void)state;
	assert_true(fx.all_len > 2000);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (memmem(fx.all, fx.all_len, secrets[i], strlen(secrets[i])))
			fail_msg("the tool's output holds '%s'", secrets[i]);
}

/* ---- setup ---------------------------------------------------------------------- */

static int group_setup(void **state)
{
	const char *src = getenv("TC_SOURCE_DIR");
	(void)state;
	if (!src || !getenv("TC_SIM") || !getenv("TC_TOOL"))
		return -1;
	snprintf(fx.work, sizeof(fx.work), "/tmp/tc-toktools-XXXXXX");
	if (!mkdtemp(fx.work))
		return -1;
	snprintf(fx.data, sizeof(fx.data), "%s/tests/data/token", src);
	snprintf(fx.store, sizeof(fx.store), "%s/card.mem", fx.work);
	if (tc_tok_keys_derive(master, (const uint8_t *)CARD_ID, strlen(CARD_ID), &fx.keys) != 0)
		return -1;
	struct pcsc_rig_opts o = {.readers = 2, .token_store = fx.store};
	fx.rig = pcsc_rig_start(&o);
	if (!fx.rig ||
	    SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &fx.ctx) != SCARD_S_SUCCESS)
		return -1;
	for (unsigned n = 0; n < 2; n++)
		if (pcsc_reader_name(fx.ctx, n, fx.reader[n], sizeof(fx.reader[n])) !=
		    SCARD_S_SUCCESS)
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	static const char *const files[] = {"card.mem", "card.mem.1", "card.mem.tmp",
	                                    "card.mem.1.tmp"};
	char path[160];
	(void)state;
	if (fx.ctx)
		(void)SCardReleaseContext(fx.ctx);
	pcsc_rig_stop(fx.rig);
	tc_wipe(&fx.keys, sizeof(fx.keys));
	if (getenv("TC_KEEP_WORK"))
		return 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx.work, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(fx.work);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rig_token_card_default_store),
	    cmocka_unit_test(test_personalise_genuine),
	    cmocka_unit_test(test_verify_under_pty),
	    cmocka_unit_test(test_verify_pty_interrupted),
	    cmocka_unit_test(test_pin_fd),
	    cmocka_unit_test(test_change_pin),
	    cmocka_unit_test(test_unblock_with_new_pin),
	    cmocka_unit_test(test_get_challenge),
	    cmocka_unit_test(test_internal_authenticate_copy_fails),
	    cmocka_unit_test(test_log_is_cyclic),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_no_secret_in_outputs),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
