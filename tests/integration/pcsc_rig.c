/* pcsc_rig.c: the private pcscd rig for integration tests (see pcsc_rig.h). */
#define _GNU_SOURCE
#include "pcsc_rig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RIG_MAX_ARGS 16

struct pcsc_rig {
	char dir[64];
	char tool[PATH_MAX];
	char sim[PATH_MAX];
	char card_cmd[PATH_MAX + 200];
	bool running;
};

long long pcsc_now_ms(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* TC_TOOL, else the tool of the build that made TC_SIM (BUILD/card/sim). */
static int find_tool(struct pcsc_rig *r)
{
	const char *tool = getenv("TC_TOOL");
	const char *sim = getenv("TC_SIM");

	snprintf(r->sim, sizeof(r->sim), "%s", sim ? sim : "");
	if (tool && *tool) {
		snprintf(r->tool, sizeof(r->tool), "%s", tool);
		return access(r->tool, X_OK);
	}
	if (!sim || !*sim) {
		fprintf(stderr, "pcsc_rig: neither TC_TOOL nor TC_SIM is set\n");
		return -1;
	}
	snprintf(r->tool, sizeof(r->tool), "%s", sim);
	char *slash = strrchr(r->tool, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(r->tool, '/');
	if (!slash)
		return -1;
	snprintf(slash, sizeof(r->tool) - (size_t)(slash - r->tool), "/tools/tokencard");
	if (access(r->tool, X_OK) != 0) {
		fprintf(stderr, "pcsc_rig: no tokencard tool at %s (set TC_TOOL)\n", r->tool);
		return -1;
	}
	return 0;
}

/* Run the tool with argv[1..] (NULL-terminated), its stdout into out (cap
 * bytes, may be NULL). Returns its exit status, -1 when it did not run. */
static int run_tool(struct pcsc_rig *r, const char *const *args, char *out, size_t cap)
{
	char path[128], strings[4 * PATH_MAX], *argv[RIG_MAX_ARGS + 2] = {r->tool};
	size_t n = 0, used = 0;

	/* execv wants modifiable strings: copy them */
	while (args[n] && n < RIG_MAX_ARGS) {
		size_t len = strlen(args[n]) + 1;
		if (used + len > sizeof(strings))
			return -1;
		argv[n + 1] = memcpy(strings + used, args[n], len);
		used += len;
		n++;
	}
	snprintf(path, sizeof(path), "%s/tool.out", r->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		/* the tool dies with the test; the rig's --owner watchdog does the rest */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		int nul = open("/dev/null", O_RDONLY);
		(void)dup2(nul, 0);
		(void)dup2(fd, 1); /* a file: the rig's daemons may keep it open */
		execv(r->tool, argv);
		_exit(127);
	}
	int status = -1;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out && cap) {
		ssize_t got = pread(fd, out, cap - 1, 0);
		out[got > 0 ? got : 0] = '\0';
	}
	(void)close(fd);
	if (pid < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int write_config(struct pcsc_rig *r, const struct pcsc_rig_opts *o)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/card.conf", r->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(o->card_config ? o->card_config : "", f);
	fputc('\n', f);
	if (fclose(f) != 0)
		return -1;
	if (r->sim[0])
		snprintf(r->card_cmd, sizeof(r->card_cmd), "%s --socket {} --config %s%s%s%s",
		         r->sim, path, o->realtime ? " --realtime" : "", o->card_args ? " " : "",
		         o->card_args ? o->card_args : "");
	else
		r->card_cmd[0] = '\0';
	return 0;
}

static int start(struct pcsc_rig *r, const struct pcsc_rig_opts *o)
{
	char readers[16], owner[24], out[512], sock[128];

	if (write_config(r, o) != 0)
		return -1;
	snprintf(readers, sizeof(readers), "%u", o->readers ? o->readers : 1u);
	snprintf(owner, sizeof(owner), "%ld", (long)getpid());
	const char *args[16] = {"rig",     "start", "--dir",     r->dir,
	                        "--owner", owner,   "--readers", readers};
	size_t n = 8;
	if (getenv("TC_RIG_DEBUG")) /* pcscd --debug into DIR/pcscd.log */
		args[n++] = "--debug";
	if (r->card_cmd[0]) {
		args[n++] = "--card";
		args[n++] = r->card_cmd;
	}
	if (o->token_store) {
		args[n++] = "--token-card";
		args[n++] = o->token_store;
	}
	int rc = run_tool(r, args, out, sizeof(out));
	snprintf(sock, sizeof(sock), "PCSCLITE_CSOCK_NAME=%s/pcscd.comm", r->dir);
	char *line = strstr(out, "PCSCLITE_CSOCK_NAME=");
	if (rc != 0 || !line || strncmp(line, sock, strlen(sock)) != 0) {
		fprintf(stderr, "pcsc_rig: rig start failed (%d); logs in %s\n", rc, r->dir);
		return -1;
	}
	r->running = true;
	/* libpcsclite reads it once: same value for every rig of this process */
	return setenv("PCSCLITE_CSOCK_NAME", sock + strlen("PCSCLITE_CSOCK_NAME="), 1);
}

struct pcsc_rig *pcsc_rig_start(const struct pcsc_rig_opts *o)
{
	struct pcsc_rig *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->dir, sizeof(r->dir), "/tmp/tc-pcsc-XXXXXX");
	if (find_tool(r) != 0 || !mkdtemp(r->dir)) {
		free(r);
		return NULL;
	}
	if (start(r, o) != 0) {
		pcsc_rig_stop(r);
		return NULL;
	}
	return r;
}

static void stop(struct pcsc_rig *r)
{
	const char *args[] = {"rig", "stop", "--dir", r->dir, NULL};
	if (r->running)
		(void)run_tool(r, args, NULL, 0);
	r->running = false;
}

int pcsc_rig_restart(struct pcsc_rig *r, const struct pcsc_rig_opts *o)
{
	stop(r);
	return start(r, o);
}

void pcsc_rig_stop(struct pcsc_rig *r)
{
	static const char *const files[] = {"card.conf", "tool.out",  "pcscd.log", "card0.log",
	                                    "card1.log", "card2.log", "card3.log"};
	char path[128];

	if (!r)
		return;
	stop(r);
	if (!getenv("TC_KEEP_RIG")) {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", r->dir, files[i]);
			(void)unlink(path);
		}
		(void)rmdir(r->dir);
	}
	free(r);
}

const char *pcsc_rig_dir(const struct pcsc_rig *r)
{
	return r->dir;
}

static int card_verb(struct pcsc_rig *r, const char *verb, unsigned n, const char *line,
                     char *reply, size_t cap)
{
	char num[16], out[512];
	snprintf(num, sizeof(num), "%u", n);
	const char *args[] = {
	    "rig", verb, num, line ? line : "--dir", line ? "--dir" : r->dir, line ? r->dir : NULL,
	    NULL};
	int rc = run_tool(r, args, out, sizeof(out));
	out[strcspn(out, "\n")] = '\0';
	if (reply && cap)
		snprintf(reply, cap, "%s", out);
	return rc == 0 ? 0 : -1;
}

int pcsc_rig_card(struct pcsc_rig *r, unsigned n, const char *line, char *reply, size_t cap)
{
	char out[512];
	int rc = card_verb(r, "card", n, line, out, sizeof(out));
	if (reply && cap)
		snprintf(reply, cap, "%s", out);
	return rc == 0 || (strcmp(line, "status") == 0 && strstr(out, "present=")) ? 0 : -1;
}

int pcsc_rig_card_status(struct pcsc_rig *r, unsigned n, const char *key, char *out, size_t cap)
{
	char line[512], want[40];
	if (pcsc_rig_card(r, n, "status", line, sizeof(line)) != 0)
		return -1;
	snprintf(want, sizeof(want), " %s=", key);
	char *p = strstr(line, want);
	if (!p && strncmp(line, want + 1, strlen(want + 1)) == 0)
		p = line - 1;
	if (!p)
		return -1;
	p += strlen(want);
	snprintf(out, cap, "%.*s", (int)strcspn(p, " "), p);
	return 0;
}

int pcsc_rig_insert(struct pcsc_rig *r, unsigned n)
{
	return card_verb(r, "insert", n, NULL, NULL, 0);
}

int pcsc_rig_remove(struct pcsc_rig *r, unsigned n)
{
	return card_verb(r, "remove", n, NULL, NULL, 0);
}

int pcsc_rig_restart_pcscd(struct pcsc_rig *r)
{
	const char *args[] = {"rig", "restart-pcscd", "--dir", r->dir, NULL};
	return run_tool(r, args, NULL, 0) == 0 ? 0 : -1;
}

/* ---- PC/SC helpers ------------------------------------------------------ */

LONG pcsc_reader_name(SCARDCONTEXT ctx, unsigned n, char *out, size_t cap)
{
	char buf[2048], prefix[48];
	DWORD len = sizeof(buf);
	LONG rv = SCardListReaders(ctx, NULL, buf, &len);
	if (rv != SCARD_S_SUCCESS)
		return rv;
	snprintf(prefix, sizeof(prefix), "tokencard loopback %u ", n);
	for (const char *p = buf; *p; p += strlen(p) + 1)
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			snprintf(out, cap, "%s", p);
			return SCARD_S_SUCCESS;
		}
	return SCARD_E_UNKNOWN_READER;
}

LONG pcsc_wait_state(SCARDCONTEXT ctx, const char *reader, DWORD want, int timeout_ms, DWORD *state)
{
	SCARD_READERSTATE rs = {.szReader = reader, .dwCurrentState = SCARD_STATE_UNAWARE};
	long long end = pcsc_now_ms() + timeout_ms;
	LONG rv;

	for (;;) {
		long long left = end - pcsc_now_ms();
		rv = SCardGetStatusChange(ctx, left > 0 ? (DWORD)left : 0, &rs, 1);
		if (rv == SCARD_S_SUCCESS) {
			*state = rs.dwEventState;
			rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
			if ((rs.dwEventState & want) == want)
				return SCARD_S_SUCCESS;
		}
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			return rv;
		if (pcsc_now_ms() >= end)
			return SCARD_E_TIMEOUT;
	}
}

LONG pcsc_apdu(SCARDHANDLE h, const uint8_t *apdu, size_t n, uint8_t *data, size_t cap,
               size_t *ndata, uint16_t *sw)
{
	uint8_t sink[258];
	uint8_t *rx = data ? data : sink;
	DWORD len = (DWORD)(data ? cap : sizeof(sink));
	LONG rv = SCardTransmit(h, SCARD_PCI_T0, apdu, (DWORD)n, NULL, rx, &len);

	*sw = 0;
	if (ndata)
		*ndata = 0;
	if (rv != SCARD_S_SUCCESS)
		return rv;
	if (len < 2)
		return SCARD_F_UNKNOWN_ERROR;
	*sw = (uint16_t)(rx[len - 2] << 8 | rx[len - 1]);
	if (ndata)
		*ndata = len - 2;
	return SCARD_S_SUCCESS;
}

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* Send apdu, expect SW 9000 and exactly `want` pattern bytes 00 01 02 ... */
static int expect_pattern(SCARDHANDLE h, const uint8_t *apdu, size_t n, size_t want,
                          const char *what, char *why, size_t cap)
{
	uint8_t resp[258];
	size_t got;
	uint16_t sw;
	LONG rv = pcsc_apdu(h, apdu, n, resp, sizeof(resp), &got, &sw);

	if (rv != SCARD_S_SUCCESS)
		return fail(why, cap, "%s: SCardTransmit: %s (0x%lX)", what,
		            pcsc_stringify_error(rv), (unsigned long)rv);
	if (sw != 0x9000)
		return fail(why, cap, "%s: SW %04X, expected 9000", what, sw);
	if (got != want)
		return fail(why, cap, "%s: %zu data bytes, expected %zu", what, got, want);
	for (size_t i = 0; i < got; i++)
		if (resp[i] != (uint8_t)i)
			return fail(why, cap, "%s: data byte %zu is %02X, expected %02X", what, i,
			            resp[i], (unsigned)(uint8_t)i);
	return 0;
}

int testapp_select(SCARDHANDLE h, char *why, size_t cap)
{
	static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0,
	                              0x00, 0x00, 0x00, 0x18, 0xFF};
	return expect_pattern(h, sel, sizeof(sel), 0, "SELECT A0 00 00 00 18 FF", why, cap);
}

int testapp_time(SCARDHANDLE h, uint8_t xy, char *why, size_t cap)
{
	char what[40];
	const uint8_t apdu[] = {TESTAPP_CLA, TESTAPP_INS_TIME, 0x00, xy};
	snprintf(what, sizeof(what), "time request 80 38 00 %02X", xy);
	return expect_pattern(h, apdu, sizeof(apdu), 0, what, why, cap);
}

int testapp_case(SCARDHANDLE h, int kase, unsigned len, char *why, size_t cap)
{
	uint8_t apdu[5 + 255 + 1];
	size_t n = 0;
	char what[48];

	if (kase < 1 || kase > 4 || (kase != 1 && (len < 1 || len > (kase == 3 ? 255u : 256u))))
		return fail(why, cap, "case %d length %u: not a test application case", kase, len);
	static const uint8_t ins[] = {0, TESTAPP_INS_C1, TESTAPP_INS_C2, TESTAPP_INS_C3,
	                              TESTAPP_INS_C4};
	apdu[n++] = TESTAPP_CLA;
	apdu[n++] = ins[kase];
	apdu[n++] = kase == 2 || kase == 4 ? (uint8_t)(len >> 8) : 0;
	apdu[n++] = kase == 2 || kase == 4 ? (uint8_t)len : 0;
	if (kase == 3 || kase == 4) {
		unsigned lc = len > 255 ? 255 : len;
		apdu[n++] = (uint8_t)lc;
		for (unsigned i = 0; i < lc; i++)
			apdu[n++] = (uint8_t)(0xFF - i);
	}
	if (kase == 2 || kase == 4)
		apdu[n++] = (uint8_t)(len % 256); /* Le: 00 = 256 */
	snprintf(what, sizeof(what), "case %d length %u", kase, kase == 1 ? 0 : len);
	return expect_pattern(h, apdu, n, kase == 2 || kase == 4 ? len : 0, what, why, cap);
}
