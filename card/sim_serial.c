/* sim_serial.c: tokencard-sim's serial front end (docs/serial.md).
 *
 * The card sits behind a pty as behind a Phoenix reader: every byte the
 * reader writes comes back as its echo, the card's characters follow on the
 * same line, RST comes from RTS (or DTR), the card detect goes out on CTS
 * and DCD. A pty carries neither modem lines nor parity, so those travel on
 * the side channel socket: the reader sends "RTS 0|1" / "DTR 0|1", the card
 * side sends "CTS 0|1", "DCD 0|1", "DSR 0|1" and "PERR n" (the n-th byte
 * written to the pty, counted from 0 since the side channel connected,
 * carries a parity or framing error) before that byte.
 *
 * The card engine runs on a clock of 3.5712 MHz counted on the wall clock;
 * its characters are written when their time comes, so the reader sees
 * real timing (WT, NULLs). */
#define _GNU_SOURCE
#include "sim_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sim_int.h"
#include "tc_error.h"

#define SER_CLOCK_HZ 3571200u
#define SER_QUEUE    2048u
#define SER_CTL_MAX  4

struct qchar {
	uint8_t uart;
	bool bad;
	uint64_t t;
};

struct ctl {
	int fd;
	char buf[600];
	size_t n;
};

struct ser {
	struct tc_sim *sim;
	const struct sim_serial_opts *o;
	int mfd, sfd; /* pty master; the slave held open so the master never hangs up */
	int lfd, cfd; /* side channel: listening, connected reader */
	int ctl_lfd;  /* control: PATH.ctl */
	struct ctl ctl[SER_CTL_MAX];
	char lbuf[256]; /* side channel input */
	size_t ln;
	bool line_asserted; /* the reset line as the reader drives it */
	bool rst_high;
	bool was_present;
	uint64_t w0;      /* wall ns at clock 0 */
	uint64_t last_rx; /* leading edge of the reader's last character */
	uint64_t last_tx; /* leading edge of the card's last character */
	uint64_t tx_count;
	struct qchar q[SER_QUEUE];
	size_t qh, qn;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t clk_now(const struct ser *s)
{
	uint64_t ns = mono_ns() - s->w0;
	return ns / 1000000000ull * SER_CLOCK_HZ +
	       ns % 1000000000ull * SER_CLOCK_HZ / 1000000000ull;
}

static void side_send(struct ser *s, const char *msg)
{
	if (s->cfd >= 0 && send(s->cfd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		SIM_INFO(&s->sim->log, "side channel: %s", strerror(errno));
}

static void send_detect(struct ser *s)
{
	bool p = s->sim->present;
	side_send(s, p ? "CTS 1\nDCD 1\nDSR 1\n" : "CTS 0\nDCD 0\nDSR 0\n");
}

/* One byte to the pty, its parity mark first. */
static void pty_put(struct ser *s, uint8_t b, bool bad)
{
	if (bad) {
		char m[40];
		snprintf(m, sizeof(m), "PERR %llu\n", (unsigned long long)s->tx_count);
		side_send(s, m);
	}
	if (write(s->mfd, &b, 1) != 1)
		SIM_INFO(&s->sim->log, "pty write: %s", strerror(errno));
	s->tx_count++;
}

static void card_power(struct ser *s, bool on)
{
	struct tc_sim_link *l = &s->sim->link;
	s->qn = 0;
	l->powered = on;
	l->cls = 1;
	l->clock_hz = SER_CLOCK_HZ;
	if (on)
		(void)tc_t0c_power_on(s->sim->card, clk_now(s));
	else
		(void)tc_t0c_power_off(s->sim->card, clk_now(s));
	if (on && s->rst_high) /* RST already high: the card waits for the next edge */
		SIM_DEBUG(&s->sim->log, "powered with RST high");
}

/* Follow the card's presence after control commands and remove_at. */
static void sync_presence(struct ser *s)
{
	if (s->sim->present == s->was_present)
		return;
	s->was_present = s->sim->present;
	card_power(s, s->sim->present);
	send_detect(s);
}

/* Queue what the card engine produced; *signal: an error signal against
 * the reader's character just given. */
static void drain_card(struct ser *s, bool *signal)
{
	struct tc_sim *sim = s->sim;
	struct tc_t0c_out o;

	while (tc_t0c_next(sim->card, &o)) {
		if (o.kind == TC_T0C_OUT_SIGNAL) {
			if (signal)
				*signal = true;
			continue;
		}
		if (sim->cfg.remove_at && o.tx_no == sim->cfg.remove_at) {
			sim->cfg.remove_at = 0; /* once */
			tc_sim_do_remove(sim, o.time);
			sync_presence(s);
			return;
		}
		if (s->qn == SER_QUEUE)
			continue;
		struct qchar *q = &s->q[(s->qh + s->qn++) % SER_QUEUE];
		uint8_t par;
		tc_wire_char_make(o.byte, tc_t0c_inverse(sim->card), &q->uart, &par);
		q->bad = o.bad_parity;
		q->t = o.time;
		sim->link.tx_chars++;
	}
}

/* Write the card's characters that are due; the ns until the next one. */
static int64_t flush_due(struct ser *s)
{
	while (s->qn > 0) {
		struct qchar *q = &s->q[s->qh];
		uint64_t now = clk_now(s);
		if (q->t > now)
			return (int64_t)((q->t - now) * 1000000000ull / SER_CLOCK_HZ) + 1;
		pty_put(s, q->uart, q->bad);
		s->last_tx = q->t;
		s->qh = (s->qh + 1) % SER_QUEUE;
		s->qn--;
	}
	return -1;
}

/* A byte from the reader: the card takes it, the reader hardware echoes it
 * (marked when the card signalled a parity error against it). */
static void reader_byte(struct ser *s, uint8_t u)
{
	struct tc_sim *sim = s->sim;
	bool signal = false;
	uint64_t t = clk_now(s);
	uint64_t spacing = tc_t0c_etu_clk(sim->card, 12);

	if (t < s->last_rx + spacing)
		t = s->last_rx + spacing;
	if (t < s->last_tx + spacing)
		t = s->last_tx + spacing;
	s->last_rx = t;
	if (sim->present && s->rst_high) {
		uint8_t logical = tc_wire_char_read(u, 0, tc_t0c_inverse(sim->card), NULL);
		sim->link.rx_chars++;
		(void)tc_t0c_on_char(sim->card, logical, true, t);
		drain_card(s, &signal);
	}
	pty_put(s, u, signal);
}

static void set_reset_line(struct ser *s, bool asserted)
{
	s->line_asserted = asserted;
	bool high = s->o->reset_inv ? asserted : !asserted;
	if (high == s->rst_high)
		return;
	s->rst_high = high;
	s->qn = 0; /* what the card had still to send never happens */
	if (!s->sim->present)
		return;
	if (tc_t0c_rst(s->sim->card, high, clk_now(s)) != TC_OK)
		SIM_DEBUG(&s->sim->log, "RST %d ignored", high);
	drain_card(s, NULL);
}

static void side_line(struct ser *s, const char *line)
{
	char name[8];
	int v;
	if (sscanf(line, "%7s %d", name, &v) != 2) {
		SIM_INFO(&s->sim->log, "side channel: bad line '%.40s'", line);
		return;
	}
	SIM_DEBUG(&s->sim->log, "side channel: %s %d", name, v);
	if (!strcmp(name, s->o->reset_dtr ? "DTR" : "RTS"))
		set_reset_line(s, v != 0);
}

static void side_input(struct ser *s)
{
	ssize_t r = read(s->cfd, s->lbuf + s->ln, sizeof(s->lbuf) - 1 - s->ln);
	if (r <= 0) {
		SIM_INFO(&s->sim->log, "side channel closed");
		close(s->cfd);
		s->cfd = -1;
		set_reset_line(s, true);
		return;
	}
	s->ln += (size_t)r;
	char *nl;
	while ((nl = memchr(s->lbuf, '\n', s->ln)) != NULL) {
		*nl = '\0';
		side_line(s, s->lbuf);
		size_t used = (size_t)(nl - s->lbuf) + 1;
		memmove(s->lbuf, nl + 1, s->ln - used);
		s->ln -= used;
	}
	if (s->ln >= sizeof(s->lbuf) - 1)
		s->ln = 0;
}

static void side_accept(struct ser *s)
{
	int fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return;
	if (s->cfd >= 0)
		close(s->cfd); /* a new reader replaces the old one */
	s->cfd = fd;
	s->ln = 0;
	s->tx_count = 0;
	s->rst_high = false;
	s->line_asserted = !s->o->reset_inv;
	card_power(s, s->sim->present);
	SIM_INFO(&s->sim->log, "reader on the side channel");
	send_detect(s);
}

static void ctl_input(struct ser *s, struct ctl *c)
{
	ssize_t r = read(c->fd, c->buf + c->n, sizeof(c->buf) - 1 - c->n);
	if (r <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->n += (size_t)r;
	char *nl;
	while ((nl = memchr(c->buf, '\n', c->n)) != NULL) {
		char reply[TC_SIM_STATUS_LEN + 64];
		*nl = '\0';
		(void)tc_sim_control(s->sim, c->buf, reply, sizeof(reply));
		sync_presence(s);
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->n - used);
		c->n -= used;
		size_t len = strlen(reply);
		reply[len++] = '\n';
		if (write(c->fd, reply, len) != (ssize_t)len)
			break;
	}
	if (c->n >= sizeof(c->buf) - 1)
		c->n = 0;
}

static void ctl_accept(struct ser *s)
{
	int fd = accept(s->ctl_lfd, NULL, NULL);
	if (fd < 0)
		return;
	for (int i = 0; i < SER_CTL_MAX; i++)
		if (s->ctl[i].fd < 0) {
			s->ctl[i] = (struct ctl){.fd = fd};
			return;
		}
	close(fd);
}

static void pty_input(struct ser *s)
{
	uint8_t buf[256];
	ssize_t r = read(s->mfd, buf, sizeof(buf));
	for (ssize_t i = 0; i < r; i++)
		reader_byte(s, buf[i]);
}

/* One round of ppoll. */
static void loop_once(struct ser *s)
{
	struct pollfd p[4 + SER_CTL_MAX];
	int n = 0;
	p[n++] = (struct pollfd){.fd = s->mfd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = s->cfd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = s->ctl_lfd, .events = POLLIN};
	for (int i = 0; i < SER_CTL_MAX; i++)
		p[n++] = (struct pollfd){.fd = s->ctl[i].fd, .events = POLLIN};
	int64_t due = flush_due(s);
	if (due < 0 || due > 200000000)
		due = 200000000;
	struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
	if (ppoll(p, (nfds_t)n, &ts, NULL) <= 0)
		return;
	if (p[0].revents & POLLIN)
		pty_input(s);
	if (p[2].fd >= 0 && p[2].revents)
		side_input(s);
	if (p[1].revents)
		side_accept(s);
	for (int i = 0; i < SER_CTL_MAX; i++)
		if (p[4 + i].fd >= 0 && p[4 + i].revents)
			ctl_input(s, &s->ctl[i]);
	if (p[3].revents)
		ctl_accept(s);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tokencard-sim: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0) {
		fprintf(stderr, "tokencard-sim: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	return fd;
}

/* A new pty; its slave held open, the link path a symlink to it. */
static int open_pty(struct ser *s)
{
	struct stat st;
	s->mfd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (s->mfd < 0 || grantpt(s->mfd) != 0 || unlockpt(s->mfd) != 0) {
		fprintf(stderr, "tokencard-sim: cannot make a pty: %s\n", strerror(errno));
		return -1;
	}
	const char *slave = ptsname(s->mfd);
	s->sfd = slave ? open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (s->sfd < 0) {
		fprintf(stderr, "tokencard-sim: cannot open the pty slave: %s\n", strerror(errno));
		return -1;
	}
	if (lstat(s->o->link_path, &st) == 0 && S_ISLNK(st.st_mode))
		(void)unlink(s->o->link_path);
	if (symlink(slave, s->o->link_path) != 0) {
		fprintf(stderr, "tokencard-sim: cannot link %s to %s: %s\n", s->o->link_path, slave,
		        strerror(errno));
		return -1;
	}
	SIM_INFO(&s->sim->log, "serial card on %s (%s)", s->o->link_path, slave);
	return 0;
}

static void cleanup(struct ser *s, const char *ctl_path)
{
	for (int i = 0; i < SER_CTL_MAX; i++)
		if (s->ctl[i].fd >= 0)
			close(s->ctl[i].fd);
	int fds[] = {s->mfd, s->sfd, s->lfd, s->cfd, s->ctl_lfd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	(void)unlink(s->o->link_path);
	if (s->o->lines_path)
		(void)unlink(s->o->lines_path);
	(void)unlink(ctl_path);
}

int sim_serial_run(struct tc_sim *sim, const struct sim_serial_opts *o, volatile sig_atomic_t *stop)
{
	char ctl_path[300];
	struct ser *s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	*s = (struct ser){.sim = sim,
	                  .o = o,
	                  .mfd = -1,
	                  .sfd = -1,
	                  .lfd = -1,
	                  .cfd = -1,
	                  .ctl_lfd = -1,
	                  .w0 = mono_ns(),
	                  .was_present = sim->present,
	                  .line_asserted = !o->reset_inv};
	for (int i = 0; i < SER_CTL_MAX; i++)
		s->ctl[i].fd = -1;
	snprintf(ctl_path, sizeof(ctl_path), "%s.ctl", o->lines_path);
	int rc = open_pty(s);
	if (rc == 0) {
		s->ctl_lfd = listen_unix(ctl_path);
		/* the lines socket last: once it exists, everything is ready */
		s->lfd = s->ctl_lfd >= 0 ? listen_unix(o->lines_path) : -1;
		rc = s->lfd >= 0 ? 0 : -1;
	}
	card_power(s, sim->present);
	while (rc == 0 && !*stop)
		loop_once(s);
	cleanup(s, ctl_path);
	free(s);
	return rc == 0 ? 0 : 1;
}
