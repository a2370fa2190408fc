/* cmd_card_verify.c: "tokencard card verify" and "unblock": the PIN (and
 * PUK) read without echo from the terminal, or one line from a file
 * descriptor for scripts and tests; every buffer that held one is wiped.
 * "change-pin" (CHANGE REFERENCE DATA) is here too. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd_card.h"
#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_sw.h"

#define SECRET_MAX 32

struct verify_opts {
	const char *reader;
	int pin_fd; /* -1: the terminal, else stdin */
	bool tries;
};

/* One line from fd, without its newline; no stdio buffer keeps a copy. */
static int read_line_fd(int fd, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		if (ch == '\r')
			continue;
		if (n + 1 >= cap) {
			tc_wipe(out, cap);
			return -1;
		}
		out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

/* The terminal's settings while echo is off, for the signal handler. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_quiet;

/* Ctrl-C (or a kill) while the PIN is typed: echo back on, then die of it. */
static void restore_tty(int sig)
{
	if (tty_quiet)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_quiet = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from the terminal with echo off: echo goes off before the prompt
 * is shown, so nothing typed after the prompt is ever echoed. */
static int read_tty(const char *prompt, char *out, size_t cap)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
	struct sigaction sa = {.sa_handler = restore_tty}, old_sa[4];
	struct termios quiet;
	if (tcgetattr(STDIN_FILENO, &saved_tty) != 0)
		return -1;
	quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &sa, &old_sa[i]);
	tty_quiet = 1;
	int rc = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0 ? 0 : -1;
	if (rc == 0) {
		fprintf(stderr, "%s: ", prompt);
		fflush(stderr);
		rc = read_line_fd(STDIN_FILENO, out, cap);
		fprintf(stderr, "\n");
	}
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_quiet = 0;
	for (size_t i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &old_sa[i], NULL);
	return rc;
}

/* The secret: from --pin-fd, else from the terminal with echo off (the
 * prompt on stderr), else a line of stdin. */
static int read_secret(const struct verify_opts *o, const char *prompt, char *out, size_t cap)
{
	if (o->pin_fd >= 0)
		return read_line_fd(o->pin_fd, out, cap);
	if (!isatty(STDIN_FILENO))
		return read_line_fd(STDIN_FILENO, out, cap);
	return read_tty(prompt, out, cap);
}

static int parse_opts(int argc, char **argv, struct verify_opts *o, bool tries)
{
	static const struct option opts[] = {{"reader", required_argument, 0, 'r'},
	                                     {"pin-fd", required_argument, 0, 'f'},
	                                     {"tries", no_argument, 0, 't'},
	                                     {0, 0, 0, 0}};
	int c;
	char *end;
	o->pin_fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		if (c == 'r') {
			o->reader = optarg;
		} else if (c == 'f') {
			long fd = strtol(optarg, &end, 10);
			if (*end || fd < 0 || fd > 1023) {
				fprintf(stderr,
				        "tokencard card: --pin-fd wants a descriptor number\n");
				return 2;
			}
			o->pin_fd = (int)fd;
		} else if (c == 't' && tries) {
			o->tries = true;
		} else {
			fprintf(stderr, "usage: tokencard card %s [-r READER] [--pin-fd N]%s\n",
			        argv[0], tries ? " [--tries]" : "");
			return 2;
		}
	}
	return optind == argc ? 0 : 2;
}

/* The answer of VERIFY / RESET RETRY COUNTER in words; 0 for 9000. */
static int report(int sw, const char *what, const char *ok)
{
	char swt[128];
	int tries = tc_tok_sw_tries((uint16_t)sw);
	if (sw == TC_SW_OK) {
		printf("%s\n", ok);
		return 0;
	}
	if (tries >= 0)
		printf("%s wrong: %d tr%s left%s\n", what, tries, tries == 1 ? "y" : "ies",
		       tries == 0 ? " (blocked)" : "");
	else if (sw == TC_SW_AUTH_BLOCKED)
		printf("%s blocked%s\n", what,
		       strcmp(what, "PIN") ? ""
		                           : ": unblock it with the PUK (tokencard card unblock)");
	else if (sw >= 0)
		printf("%s refused: %s\n", what, card_sw_text(sw, swt, sizeof(swt)));
	return 1;
}

int card_verify(int argc, char **argv)
{
	struct verify_opts o = {0};
	char pin[SECRET_MAX];
	uint8_t apdu[TC_TOK_APDU_MAX];
	int rc = parse_opts(argc, argv, &o, true);
	if (rc)
		return rc;
	struct card_conn *c = card_connect(o.reader);
	if (!c)
		return 1;
	if (o.tries) {
		int n = tc_tok_verify(NULL, apdu, sizeof(apdu));
		int sw = card_transmit(c, apdu, (size_t)n, NULL, 0, NULL);
		int left = tc_tok_sw_tries((uint16_t)sw);
		card_disconnect(c);
		if (left >= 0)
			printf("PIN tries left: %d\n", left);
		return left >= 0 ? 0 : report(sw, "PIN", "");
	}
	if (read_secret(&o, "PIN", pin, sizeof(pin)) != 0) {
		fprintf(stderr, "tokencard card: no PIN read\n");
		card_disconnect(c);
		return 2;
	}
	int n = tc_tok_verify(pin, apdu, sizeof(apdu));
	tc_wipe(pin, sizeof(pin));
	if (n < 0) {
		fprintf(stderr, "tokencard card: a PIN is 4 to 12 digits\n");
		card_disconnect(c);
		return 2;
	}
	int sw = card_transmit(c, apdu, (size_t)n, NULL, 0, NULL);
	tc_wipe(apdu, sizeof(apdu));
	card_disconnect(c);
	return report(sw, "PIN", "PIN correct");
}

int card_unblock(int argc, char **argv)
{
	struct verify_opts o = {0};
	char puk[SECRET_MAX], pin[SECRET_MAX];
	uint8_t apdu[TC_TOK_APDU_MAX];
	int rc = parse_opts(argc, argv, &o, false);
	if (rc)
		return rc;
	struct card_conn *c = card_connect(o.reader);
	if (!c)
		return 1;
	int n = -1;
	if (read_secret(&o, "PUK", puk, sizeof(puk)) == 0 &&
	    read_secret(&o, "new PIN (empty: keep the PIN)", pin, sizeof(pin)) == 0)
		n = tc_tok_reset_retry(puk, pin[0] ? pin : NULL, apdu, sizeof(apdu));
	tc_wipe(puk, sizeof(puk));
	tc_wipe(pin, sizeof(pin));
	if (n < 0) {
		fprintf(stderr, "tokencard card: a PUK is 8 digits, a PIN 4 to 12\n");
		card_disconnect(c);
		return 2;
	}
	int sw = card_transmit(c, apdu, (size_t)n, NULL, 0, NULL);
	tc_wipe(apdu, sizeof(apdu));
	card_disconnect(c);
	return report(sw, "PUK", "PIN unblocked: 3 tries");
}

/* The new PIN, typed twice when it comes from the terminal. 0, 2 when the
 * two differ or nothing was read. */
static int read_new_pin(const struct verify_opts *o, char *pin, size_t cap)
{
	char again[SECRET_MAX];
	if (read_secret(o, "new PIN", pin, cap) != 0)
		return 2;
	if (o->pin_fd >= 0 || !isatty(STDIN_FILENO))
		return 0;
	int rc =
	    read_secret(o, "new PIN again", again, sizeof(again)) == 0 && strcmp(pin, again) == 0
	        ? 0
	        : 2;
	tc_wipe(again, sizeof(again));
	if (rc)
		fprintf(stderr, "tokencard card: the two new PINs differ; nothing changed\n");
	return rc;
}

int card_change_pin(int argc, char **argv)
{
	struct verify_opts o = {0};
	char old[SECRET_MAX], pin[SECRET_MAX];
	uint8_t apdu[TC_TOK_APDU_MAX];
	int rc = parse_opts(argc, argv, &o, false);
	if (rc)
		return rc;
	struct card_conn *c = card_connect(o.reader);
	if (!c)
		return 1;
	int n = -1;
	rc = 2;
	memset(pin, 0, sizeof(pin));
	if (read_secret(&o, "PIN", old, sizeof(old)) == 0 &&
	    (rc = read_new_pin(&o, pin, sizeof(pin))) == 0)
		n = tc_tok_change_pin(old, pin, apdu, sizeof(apdu));
	tc_wipe(old, sizeof(old));
	tc_wipe(pin, sizeof(pin));
	if (n < 0) {
		if (rc == 0)
			fprintf(stderr, "tokencard card: a PIN is 4 to 12 digits\n");
		card_disconnect(c);
		return 2;
	}
	int sw = card_transmit(c, apdu, (size_t)n, NULL, 0, NULL);
	tc_wipe(apdu, sizeof(apdu));
	card_disconnect(c);
	return report(sw, "PIN", "PIN changed");
}
