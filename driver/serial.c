/* serial.c: the serial transport, for character-level readers of the
 * Phoenix / Smartmouse kind: the card's I/O on a UART's RX and TX (so every
 * byte sent comes back as an echo), RST on RTS or DTR, card detect on a
 * modem input where the reader wires one, a fixed crystal for CLK.
 *
 * DEVICENAME serial:/dev/ttyS0[:option]... (docs/serial.md). Time is real:
 * now() is the monotonic clock counted in cycles of the reader's crystal
 * since open, never earlier than the schedule of what was sent; deadlines
 * get the slack option on top, for OS and adapter latency. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serial_int.h"
#include "tc_error.h"
#include "tc_timing.h"
#include "transport.h"

struct tc_link {
	struct tc_serial_opts o;
	int fd;
	struct tc_serial_lines lines;
	bool present, powered, inverse;
	unsigned F, D;
	uint32_t baud;      /* in force on the UART */
	uint64_t origin_ns; /* now() = 0 */
	uint64_t floor;     /* now() is never below: the end of what was sent/received */
	uint64_t rst_time;  /* last RST edge */
	bool after_rst;     /* no character since RST rose */
	uint64_t last_rx;   /* leading edge of the last character received */
	uint64_t rx_count;  /* characters taken from the tty since open */
	uint32_t rx_id;
	struct tc_serial_rxp rxp;
	uint8_t in[512];
	size_t in_len, in_off;
	bool peer_error; /* an echo came back marked: report it at the next recv */
	size_t peer_index;
	uint64_t peer_time;
	bool warned_signal;
	struct tc_link_stats stats;
	char why[TC_SERIAL_PATH_MAX + 200]; /* the last failure, for the slot's message */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_clk(const struct tc_link *l)
{
	uint64_t ns = mono_ns() - l->origin_ns;
	return ns / 1000000000ull * l->o.clock_hz +
	       ns % 1000000000ull * l->o.clock_hz / 1000000000ull;
}

static uint64_t clk_to_ns(const struct tc_link *l, uint64_t clk)
{
	return clk / l->o.clock_hz * 1000000000ull +
	       clk % l->o.clock_hz * 1000000000ull / l->o.clock_hz;
}

static uint64_t ser_now(const struct tc_link *l)
{
	uint64_t r = real_clk(l);
	return r > l->floor ? r : l->floor;
}

static uint64_t etu(const struct tc_link *l, uint64_t n)
{
	return tc_etu_to_clk(l->F, l->D, n);
}

/* Sleep until clock time t (real). */
static void sleep_until(const struct tc_link *l, uint64_t t)
{
	uint64_t r = real_clk(l);
	if (t <= r)
		return;
	uint64_t ns = clk_to_ns(l, t - r);
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int apply_tty(struct tc_link *l, uint32_t baud, bool odd)
{
	char why[160];
	uint32_t got = 0;

	if (l->o.max_baud && baud > l->o.max_baud) {
		snprintf(l->why, sizeof(l->why), "%u baud is above the reader's max_baud %u",
		         (unsigned)baud, (unsigned)l->o.max_baud);
		fprintf(stderr, "tokencard serial: %s\n", l->why);
		return TC_E_UNSUPPORTED;
	}
	int rc = tc_serial_tty_setup(l->fd, baud, odd, l->o.custom, &got, why, sizeof(why));
	if (rc != TC_OK) {
		snprintf(l->why, sizeof(l->why), "%s: %s", l->o.path, why);
		fprintf(stderr, "tokencard serial: %s\n", l->why);
		return rc;
	}
	l->baud = baud;
	l->why[0] = '\0';
	return TC_OK;
}

static int ser_open(struct tc_link **out, const char *endpoint)
{
	char why[200];
	struct tc_link *l = calloc(1, sizeof(*l));
	if (!l)
		return TC_E_NOMEM;
	l->fd = -1;
	int rc = tc_serial_parse_opts(endpoint, &l->o, why, sizeof(why));
	if (rc == TC_OK) {
		l->fd = tc_serial_tty_open(l->o.path, why, sizeof(why));
		rc = l->fd < 0 ? l->fd : TC_OK;
	}
	if (rc != TC_OK) {
		fprintf(stderr, "tokencard serial: %s\n", why);
		free(l);
		return rc;
	}
	l->F = TC_FD;
	l->D = TC_DD;
	l->origin_ns = mono_ns();
	rc = l->o.lines[0] ? tc_serial_lines_socket(&l->lines, &l->o)
	                   : tc_serial_lines_ioctl(&l->lines, l->fd, &l->o);
	if (rc == TC_OK)
		rc = apply_tty(l, tc_serial_baud(l->o.clock_hz, TC_FD, TC_DD), false);
	if (rc == TC_OK)
		rc = l->lines.set_rst(l->lines.ctx, 0);
	if (rc != TC_OK) {
		if (l->lines.close)
			l->lines.close(l->lines.ctx);
		close(l->fd);
		free(l);
		return rc;
	}
	(void)l->lines.get_detect(l->lines.ctx, &l->present);
	*out = l;
	return TC_OK;
}

static void ser_close(struct tc_link *l)
{
	if (!l)
		return;
	(void)l->lines.set_rst(l->lines.ctx, 0);
	l->lines.close(l->lines.ctx);
	close(l->fd);
	free(l);
}

/* Read what the tty holds, waiting up to wait_ms for the first byte.
 * TC_E_TIMEOUT when nothing came. */
static int fill(struct tc_link *l, int wait_ms)
{
	if (l->in_off == l->in_len)
		l->in_off = l->in_len = 0;
	struct pollfd p = {.fd = l->fd, .events = POLLIN};
	int r = poll(&p, 1, wait_ms > 0 ? wait_ms : 0);
	if (r < 0 && errno != EINTR)
		return TC_E_IO;
	if (r <= 0)
		return TC_E_TIMEOUT;
	ssize_t n = read(l->fd, l->in + l->in_len, sizeof(l->in) - l->in_len);
	if (n > 0) {
		l->in_len += (size_t)n;
		return TC_OK;
	}
	/* raw mode with VMIN = VTIME = 0 reads 0 when empty; only a hangup ends */
	if ((n == 0 && !(p.revents & (POLLHUP | POLLERR))) ||
	    (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return TC_E_TIMEOUT;
	fprintf(stderr, "tokencard serial: %s: read: %s\n", l->o.path,
	        n == 0 ? "end of file" : strerror(errno));
	return TC_E_IO;
}

/* The next character in the input buffer (no I/O). 1 with *b and *err. */
static int take_char(struct tc_link *l, uint8_t *b, bool *err)
{
	int got = tc_serial_rxp_spare(&l->rxp, b, err);
	while (!got && l->in_off < l->in_len)
		got = tc_serial_rxp_feed(&l->rxp, l->in[l->in_off++], b, err);
	if (!got)
		return 0;
	if (l->lines.rx_error(l->lines.ctx, l->rx_count))
		*err = true;
	l->rx_count++;
	return 1;
}

/* Wait for the next character until real clock time `until` (+ slack).
 * TC_OK with *b, *err and *t (its real arrival), or TC_E_TIMEOUT. */
static int next_char(struct tc_link *l, uint64_t until, uint8_t *b, bool *err, uint64_t *t)
{
	for (;;) {
		if (take_char(l, b, err)) {
			*t = real_clk(l);
			return TC_OK;
		}
		uint64_t r = real_clk(l);
		uint64_t wait_ns = until > r ? clk_to_ns(l, until - r) : 0;
		wait_ns += (uint64_t)l->o.slack_ms * 1000000ull;
		int ms = (int)((wait_ns + 999999ull) / 1000000ull);
		if (l->o.detect != TC_SERIAL_LINE_NONE && ms > 20)
			ms = 20; /* look at the detect line now and then */
		int rc = fill(l, ms);
		if (rc == TC_E_IO)
			return rc;
		if (l->o.detect != TC_SERIAL_LINE_NONE) {
			bool present = true;
			(void)l->lines.get_detect(l->lines.ctx, &present);
			if (!present) {
				l->present = l->powered = false;
				return TC_E_NO_CARD;
			}
		}
		if (rc == TC_E_TIMEOUT && real_clk(l) >= until &&
		    clk_to_ns(l, real_clk(l) - until) >= (uint64_t)l->o.slack_ms * 1000000ull)
			return TC_E_TIMEOUT;
	}
}

/* Drop what the tty holds (counted, so the side channel stays in step). */
static void drain(struct tc_link *l)
{
	uint8_t b;
	bool err;
	while (fill(l, 0) == TC_OK)
		while (take_char(l, &b, &err))
			;
	while (take_char(l, &b, &err))
		;
}

static int ser_power_on(struct tc_link *l, unsigned cls, uint32_t clock_hz)
{
	(void)clock_hz; /* the reader's crystal gives the clock */
	(void)l->lines.get_detect(l->lines.ctx, &l->present);
	if (!l->present)
		return TC_E_NO_CARD;
	if (cls != 0 && cls != l->o.cls)
		return TC_E_MUTE; /* a serial reader powers the card at one class only */
	int rc = l->lines.set_rst(l->lines.ctx, 0);
	if (rc == TC_OK && (l->inverse || l->baud != tc_serial_baud(l->o.clock_hz, TC_FD, TC_DD)))
		rc = apply_tty(l, tc_serial_baud(l->o.clock_hz, TC_FD, TC_DD), false);
	l->F = TC_FD;
	l->D = TC_DD;
	l->inverse = false;
	l->powered = rc == TC_OK;
	l->peer_error = false;
	l->rst_time = ser_now(l);
	drain(l);
	return rc;
}

static int ser_power_off(struct tc_link *l)
{
	l->powered = false;
	l->peer_error = false;
	return l->lines.set_rst(l->lines.ctx, 0);
}

static int ser_set_rst(struct tc_link *l, int level, uint64_t *edge_time)
{
	sleep_until(l, l->rst_time + TC_RST_LOW_MIN_CLK);
	if (level)
		drain(l);
	int rc = l->lines.set_rst(l->lines.ctx, level);
	l->rst_time = ser_now(l);
	l->floor = l->rst_time;
	l->after_rst = level != 0;
	l->peer_error = false;
	if (edge_time)
		*edge_time = l->rst_time;
	return rc;
}

static int ser_set_params(struct tc_link *l, bool inverse, unsigned F, unsigned D)
{
	if (F == 0 || D == 0)
		return TC_E_INVAL;
	uint32_t baud = tc_serial_baud(l->o.clock_hz, F, D);
	if (baud != l->baud || inverse != l->inverse) {
		int rc = apply_tty(l, baud, inverse);
		if (rc != TC_OK)
			return rc;
	}
	l->inverse = inverse;
	l->F = F;
	l->D = D;
	return TC_OK;
}

/* Wait for the echo of the byte just sent. */
static int take_echo(struct tc_link *l, uint8_t sent, size_t index, uint64_t edge)
{
	uint8_t b;
	bool err;
	uint64_t t;
	int rc = next_char(l, edge + etu(l, 12), &b, &err, &t);
	if (rc == TC_E_TIMEOUT) {
		fprintf(stderr,
		        "tokencard serial: %s: no echo (is this an echoing reader? "
		        "else use the noecho option)\n",
		        l->o.path);
		return TC_E_IO;
	}
	if (rc != TC_OK)
		return rc;
	if (err) {
		/* the card held I/O low in our stop bits: its error signal */
		l->peer_error = true;
		l->peer_index = index;
		l->peer_time = edge;
		l->stats.errors_signalled++;
	} else if (b != sent) {
		fprintf(stderr, "tokencard serial: echo %02X for %02X sent\n", b, sent);
		return TC_E_IO;
	}
	return TC_OK;
}

/* One byte at a time, each after the echo of the one before: the guard
 * time holds (8E2 gives 12 etu; more is waited), and an error signal stops
 * the burst where the card wants the repetition. */
static int ser_send(struct tc_link *l, const uint8_t *bytes, size_t n, uint64_t start,
                    uint64_t spacing)
{
	if (!l->powered)
		return TC_E_NO_CARD;
	l->peer_error = false;
	for (size_t i = 0; i < n; i++) {
		uint64_t due = start + i * spacing;
		sleep_until(l, due);
		uint64_t edge = ser_now(l);
		uint8_t u = tc_serial_encode(bytes[i], l->inverse);
		ssize_t w;
		do
			w = write(l->fd, &u, 1);
		while (w < 0 && errno == EINTR);
		if (w != 1) {
			fprintf(stderr, "tokencard serial: %s: write: %s\n", l->o.path,
			        strerror(errno));
			return TC_E_IO;
		}
		l->stats.chars_to_card++;
		uint64_t end = (due > edge ? due : edge) + etu(l, TC_CHAR_ETU);
		if (end > l->floor)
			l->floor = end;
		if (l->o.echo) {
			int rc = take_echo(l, u, i, due > edge ? due : edge);
			if (rc != TC_OK || l->peer_error)
				return rc;
		}
	}
	return TC_OK;
}

/* The leading edge of a character read at real time r: one character
 * earlier, but after the previous one and never inside what we sent; the
 * first after RST no earlier than the 400 clocks a UART cannot resolve. */
static uint64_t stamp(struct tc_link *l, uint64_t r, uint64_t deadline)
{
	uint64_t t = r > etu(l, 12) ? r - etu(l, 12) : 0;
	if (t < l->floor)
		t = l->floor;
	if (l->rx_id > 0 && !l->after_rst && t < l->last_rx + etu(l, 12))
		t = l->last_rx + etu(l, 12);
	if (l->after_rst && t < l->rst_time + TC_ATR_MIN_CLK)
		t = l->rst_time + TC_ATR_MIN_CLK;
	if (t > deadline)
		t = deadline; /* read within the slack: in time (latency is not the card's) */
	return t;
}

static int ser_recv(struct tc_link *l, uint64_t deadline, struct tc_rx *rx)
{
	if (!l->powered)
		return TC_E_NO_CARD;
	if (l->peer_error) {
		l->peer_error = false;
		*rx = (struct tc_rx){
		    .kind = TC_RX_PEER_ERROR, .time = l->peer_time, .index = l->peer_index};
		return TC_OK;
	}
	uint8_t b;
	bool err;
	uint64_t r;
	int rc = next_char(l, deadline, &b, &err, &r);
	if (rc == TC_E_TIMEOUT) {
		if (deadline > l->floor)
			l->floor = deadline;
		return rc;
	}
	if (rc != TC_OK)
		return rc;
	uint64_t t = stamp(l, r, deadline);
	l->after_rst = false;
	l->last_rx = t;
	if (t + etu(l, TC_CHAR_ETU) > l->floor)
		l->floor = t + etu(l, TC_CHAR_ETU);
	*rx = (struct tc_rx){.kind = TC_RX_CHAR,
	                     .byte = tc_serial_decode(b, l->inverse),
	                     .parity_ok = !err,
	                     .time = t,
	                     .id = ++l->rx_id};
	l->stats.chars_from_card++;
	return TC_OK;
}

static int ser_signal_error(struct tc_link *l, uint32_t id, uint64_t time)
{
	(void)id;
	(void)time;
	if (!l->warned_signal)
		fprintf(stderr,
		        "tokencard serial: %s: parity error from the card; a serial "
		        "reader cannot signal it (I/O is the UART's TX)\n",
		        l->o.path);
	l->warned_signal = true;
	return TC_E_PARITY;
}

static int ser_set_clock(struct tc_link *l, uint32_t clock_hz)
{
	/* The crystal is fixed. A card allowed a faster clock runs fine on a
	 * slower one (F and D count clock cycles); a slower one cannot be had. */
	if ((uint64_t)clock_hz * 101 >= (uint64_t)l->o.clock_hz * 100)
		return TC_OK;
	snprintf(l->why, sizeof(l->why), "the reader's clock is fixed at %u Hz; %u Hz asked",
	         (unsigned)l->o.clock_hz, (unsigned)clock_hz);
	fprintf(stderr, "tokencard serial: %s\n", l->why);
	return TC_E_UNSUPPORTED;
}

static int ser_caps(const struct tc_link *l, struct tc_reader_caps *caps)
{
	tc_serial_caps(&l->o, caps);
	return TC_OK;
}

static const char *ser_last_error(const struct tc_link *l)
{
	return l->why;
}

static uint64_t ser_now_op(const struct tc_link *l)
{
	return ser_now(l);
}

static int ser_presence(struct tc_link *l, int timeout_ms, bool *present)
{
	bool before = l->present;
	uint64_t end = mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;

	for (;;) {
		bool now = true;
		int rc = l->lines.get_detect(l->lines.ctx, &now);
		if (rc != TC_OK)
			return rc;
		l->present = now;
		if (!now)
			l->powered = false;
		uint64_t m = mono_ns();
		if (now != before || m >= end)
			break;
		int fd = l->lines.event_fd(l->lines.ctx);
		int ms = (int)((end - m + 999999ull) / 1000000ull);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		(void)poll(&p, fd >= 0 ? 1 : 0, fd >= 0 && ms < 200 ? ms : ms < 20 ? ms : 20);
	}
	*present = l->present;
	return TC_OK;
}

static int ser_event_fd(const struct tc_link *l)
{
	return l->lines.event_fd(l->lines.ctx);
}

static void ser_stats(const struct tc_link *l, struct tc_link_stats *out)
{
	*out = l->stats;
}

const struct tc_transport tc_transport_serial = {
    .name = "serial",
    .open = ser_open,
    .close = ser_close,
    .power_on = ser_power_on,
    .power_off = ser_power_off,
    .set_rst = ser_set_rst,
    .set_params = ser_set_params,
    .send = ser_send,
    .recv = ser_recv,
    .signal_error = ser_signal_error,
    .set_clock = ser_set_clock,
    .now = ser_now_op,
    .presence = ser_presence,
    .event_fd = ser_event_fd,
    .stats = ser_stats,
    .caps = ser_caps,
    .last_error = ser_last_error,
};
