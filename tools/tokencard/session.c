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

#include "proc.h"
#include "tc_error.h"
#include "tc_sw.h"

#define SESSION_START_WAIT_MS   5000
#define SESSION_PRESENT_WAIT_MS 1000 /* a card that says it is empty: go on after */

static void reader_config(const struct session_opts *opts, struct tc_reader_config *cfg)
{
	tc_reader_config_default(cfg);
	if (opts->no_pps) {
		/* Fd/Dd (FI 1, DI 1) only: a card's TA1 has no pair to ask for, so no
		 * PPS1 is sent and the card stays at the defaults */
		cfg->caps.di_mask = 1u << 1;
		cfg->caps.npairs = 1;
		cfg->caps.pairs[0] = 0x11;
	}
}

static int open_slot(struct session *s, const struct session_opts *opts)
{
	char dev[512];
	struct tc_reader_config cfg;
	int n = snprintf(dev, sizeof(dev), "loopback:%s%s%s%s", s->socket,
	                 opts->record ? ":record=" : "", opts->record ? opts->record : "",
	                 opts->realtime ? ":realtime" : "");
	if (n < 0 || (size_t)n >= sizeof(dev))
		return TC_E_INVAL;
	reader_config(opts, &cfg);
	int rc = tc_slot_open(&s->slot, dev, &cfg);
	if (rc < 0) {
		fprintf(stderr, "tokencard: cannot open the loopback reader on %s: %s\n", s->socket,
		        tc_strerror(rc));
		return rc;
	}
	/* The socket file appears at bind(), a moment before the card process
	 * listens: until then the reader is empty. Give it that moment. */
	bool present = false;
	for (int t = 0; t < SESSION_PRESENT_WAIT_MS && !present; t += 10) {
		if (tc_slot_presence(s->slot, 0, &present) != TC_OK || !present)
			proc_sleep_ms(10);
	}
	return TC_OK;
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
		proc_default_card(cmd, sizeof(cmd));
	rc = proc_spawn(cmd, s->socket, NULL, NULL, &s->card_pid) < 0 ? TC_E_IO : TC_OK;
	if (rc == TC_OK)
		rc = proc_wait_socket(s->socket, s->card_pid, SESSION_START_WAIT_MS) < 0
		         ? TC_E_TIMEOUT
		         : TC_OK;
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
	static char buf[96]; /* the tool is single-threaded where it prints */
	return tc_sw_meaning((uint16_t)(sw1 << 8 | sw2), buf, sizeof(buf));
}
