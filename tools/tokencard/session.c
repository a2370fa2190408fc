/* session.c: start a card process on a private socket and open a slot on it. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tc_error.h"

#define SESSION_START_WAIT_MS 5000
#define SESSION_MAX_ARGS      32

/* Default card: tokencard-sim from the build tree beside us, else PATH. */
static void default_card_cmd(const char *argv0, char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	(void)argv0;
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			char cand[PATH_MAX + 64];
			snprintf(cand, sizeof(cand), "%s/../card/tokencard-sim", self);
			if (access(cand, X_OK) == 0) {
				snprintf(out, cap, "%s --socket {}", cand);
				return;
			}
			snprintf(cand, sizeof(cand), "%s/tokencard-sim", self);
			if (access(cand, X_OK) == 0) {
				snprintf(out, cap, "%s --socket {}", cand);
				return;
			}
		}
	}
	snprintf(out, cap, "tokencard-sim --socket {}");
}

/* Split cmd at spaces into argv, replacing "{}" by the socket path. */
static int build_argv(char *buf, size_t cap, const char *cmd, const char *sock, char **argv)
{
	size_t o = 0;
	int argc = 0;
	for (const char *p = cmd; *p && o + 1 < cap;) {
		if (p[0] == '{' && p[1] == '}') {
			size_t l = strlen(sock);
			if (o + l + 1 >= cap)
				return -1;
			memcpy(buf + o, sock, l);
			o += l;
			p += 2;
		} else {
			buf[o++] = *p++;
		}
	}
	buf[o] = '\0';
	for (char *tok = strtok(buf, " "); tok && argc < SESSION_MAX_ARGS - 1;
	     tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return argc;
}

static int spawn_card(struct session *s, const char *cmd)
{
	static char buf[4096];
	char *argv[SESSION_MAX_ARGS];
	if (build_argv(buf, sizeof(buf), cmd, s->socket, argv) <= 0) {
		fprintf(stderr, "tokencard: bad card command '%s'\n", cmd);
		return TC_E_INVAL;
	}
	pid_t pid = fork();
	if (pid < 0)
		return TC_E_IO;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "tokencard: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	s->card_pid = pid;
	return TC_OK;
}

/* Wait until the card's socket exists (or the card process died). */
static int wait_socket(struct session *s)
{
	for (int ms = 0; ms < SESSION_START_WAIT_MS; ms += 10) {
		struct stat st;
		if (stat(s->socket, &st) == 0 && S_ISSOCK(st.st_mode))
			return TC_OK;
		int status;
		if (s->card_pid && waitpid(s->card_pid, &status, WNOHANG) == s->card_pid) {
			s->card_pid = 0;
			fprintf(stderr, "tokencard: the card process exited before listening\n");
			return TC_E_CLOSED;
		}
		struct timespec ts = {0, 10 * 1000000L};
		(void)nanosleep(&ts, NULL);
	}
	fprintf(stderr, "tokencard: no card socket at %s after %d ms\n", s->socket,
	        SESSION_START_WAIT_MS);
	return TC_E_TIMEOUT;
}

static void reader_config(const struct session_opts *opts, struct tc_reader_config *cfg)
{
	tc_reader_config_default(cfg);
	if (opts->no_pps)
		cfg->caps.di_mask = 1u << 1; /* Di = 1 only: no PPS1 to ask */
}

static int open_slot(struct session *s, const struct session_opts *opts)
{
	char dev[512];
	struct tc_reader_config cfg;
	int n = snprintf(dev, sizeof(dev), "loopback:%s%s%s%s", s->socket,
	                 opts->record ? ",record=" : "", opts->record ? opts->record : "",
	                 opts->realtime ? ",realtime" : "");
	if (n < 0 || (size_t)n >= sizeof(dev))
		return TC_E_INVAL;
	reader_config(opts, &cfg);
	int rc = tc_slot_open(&s->slot, dev, &cfg);
	if (rc < 0)
		fprintf(stderr, "tokencard: cannot open the loopback reader on %s: %s\n", s->socket,
		        tc_strerror(rc));
	return rc;
}

int session_start(struct session *s, const struct session_opts *opts)
{
	char cmd[1024];
	int rc;

	memset(s, 0, sizeof(*s));
	if (opts->socket) {
		snprintf(s->socket, sizeof(s->socket), "%s", opts->socket);
		return open_slot(s, opts);
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(s->dir, sizeof(s->dir), "%s/tokencard.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		fprintf(stderr, "tokencard: mkdtemp: %s\n", strerror(errno));
		s->dir[0] = '\0';
		return TC_E_IO;
	}
	snprintf(s->socket, sizeof(s->socket), "%s/card.sock", s->dir);
	if (opts->card_cmd)
		snprintf(cmd, sizeof(cmd), "%s", opts->card_cmd);
	else
		default_card_cmd(opts->argv0, cmd, sizeof(cmd));
	rc = spawn_card(s, cmd);
	if (rc == TC_OK)
		rc = wait_socket(s);
	if (rc == TC_OK)
		rc = open_slot(s, opts);
	if (rc < 0)
		session_stop(s);
	return rc;
}

void session_stop(struct session *s)
{
	if (s->slot) {
		tc_slot_close(s->slot);
		s->slot = NULL;
	}
	if (s->card_pid > 0) {
		int status;
		(void)kill(s->card_pid, SIGTERM);
		for (int i = 0; i < 200; i++) {
			if (waitpid(s->card_pid, &status, WNOHANG) == s->card_pid)
				break;
			struct timespec ts = {0, 10 * 1000000L};
			(void)nanosleep(&ts, NULL);
			if (i == 199) {
				(void)kill(s->card_pid, SIGKILL);
				(void)waitpid(s->card_pid, &status, 0);
			}
		}
		s->card_pid = 0;
	}
	if (s->dir[0]) {
		(void)unlink(s->socket);
		char ctl[320];
		snprintf(ctl, sizeof(ctl), "%s.ctl", s->socket);
		(void)unlink(ctl);
		(void)rmdir(s->dir);
		s->dir[0] = '\0';
	}
}

int session_apdu(struct session *s, const uint8_t *apdu, size_t n, uint8_t *resp, size_t cap,
                 size_t *resp_len)
{
	return tc_slot_transmit(s->slot, apdu, n, resp, cap, resp_len);
}

const char *sw_meaning(uint8_t sw1, uint8_t sw2)
{
	unsigned sw = (unsigned)sw1 << 8 | sw2;
	if (sw == 0x9000)
		return "success";
	if (sw1 == 0x61)
		return "more data available (GET RESPONSE)";
	if (sw1 == 0x6C)
		return "wrong Le; the card gives the right one";
	if (sw1 == 0x63 && (sw2 & 0xF0) == 0xC0)
		return "verification failed; tries left in the low nibble";
	switch (sw) {
	case 0x6700:
		return "wrong length";
	case 0x6982:
		return "security status not satisfied";
	case 0x6983:
		return "authentication method blocked";
	case 0x6985:
		return "conditions of use not satisfied";
	case 0x6A80:
		return "incorrect data";
	case 0x6A82:
		return "file or application not found";
	case 0x6A86:
		return "incorrect P1 P2";
	case 0x6A88:
		return "referenced data not found";
	case 0x6B00:
		return "wrong parameters P1 P2";
	case 0x6D00:
		return "instruction not supported";
	case 0x6E00:
		return "class not supported";
	case 0x6F00:
		return "no precise diagnosis";
	default:
		return "";
	}
}
