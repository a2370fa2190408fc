/* loopback.c: the loopback reader, a character-level transport over the
 * loopback wire (docs/wire.md) to a card process such as tokencard-sim.
 *
 * Endpoint: PATH[:record=FILE][:realtime] (pcscd's reader.conf accepts ":" and "=" in a
 * DEVICENAME, not ","; so PATH itself has no ":"). The environment variables
 * TC_WIRE_RECORD and TC_WIRE_REALTIME=1 do the same for every link. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "loopback_int.h"
#include "tc_error.h"
#include "tc_timing.h"
#include "tc_wire.h"
#include "transport.h"

static void lb_disconnect(struct tc_link *l);

/* The etu in force, and the character length derived from it. */
static void set_etu(struct tc_link *l, unsigned F, unsigned D)
{
	l->F = F;
	l->D = D;
	l->char_clk = tc_etu_to_clk(F, D, TC_CHAR_ETU);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall-clock pacing (realtime): wait until virtual time t is due. */
static void pace(struct tc_link *l, uint64_t t)
{
	if (!l->realtime || l->clock_hz == 0 || t < l->pace_origin_clk)
		return;
	uint64_t due = l->pace_origin_ns +
	               (uint64_t)((double)(t - l->pace_origin_clk) * 1e9 / (double)l->clock_hz);
	uint64_t now = mono_ns();
	if (due > now) {
		uint64_t d = due - now;
		struct timespec ts = {(time_t)(d / 1000000000ull), (long)(d % 1000000000ull)};
		(void)nanosleep(&ts, NULL);
	}
}

static void record(struct tc_link *l, char dir, const uint8_t *buf, size_t n)
{
	if (!l->record)
		return;
	(void)fputc(dir, l->record);
	(void)fwrite(buf, 1, n, l->record);
	(void)fflush(l->record);
}

static int write_all(int fd, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == EPIPE || errno == ECONNRESET ? TC_E_CLOSED : TC_E_IO;
		buf += w;
		n -= (size_t)w;
	}
	return TC_OK;
}

/* Stamp, encode and queue one message into the output buffer. */
static int queue_msg(struct tc_link *l, struct tc_wire_msg *m)
{
	m->seq = ++l->seq;
	m->ack = l->peer_seq;
	if (m->type == TC_WIRE_CHARS)
		l->seq += m->u.chars.n - 1u; /* one seq per character */
	if (l->out_len + TC_WIRE_MAX_RUN_MSG > sizeof(l->out)) {
		int rc = lb_flush(l);
		if (rc < 0)
			return rc;
	}
	int n = tc_wire_encode(m, l->out + l->out_len, sizeof(l->out) - l->out_len);
	if (n < 0)
		return n;
	record(l, 'R', l->out + l->out_len, (size_t)n);
	l->out_len += (size_t)n;
	switch (m->type) {
	case TC_WIRE_CHAR:
	case TC_WIRE_CHARS:
		l->last_action = l->seq;
		break;
	case TC_WIRE_ERROR:
	case TC_WIRE_POWER_ON:
	case TC_WIRE_POWER_OFF:
	case TC_WIRE_RST:
	case TC_WIRE_CLOCK:
		l->last_action = m->seq;
		l->last_hard = m->seq;
		l->send_first = 0;
		l->send_n = 0;
		break;
	default:
		break;
	}
	if (m->time > l->now)
		l->now = m->time;
	return TC_OK;
}

int lb_flush(struct tc_link *l)
{
	int rc = write_all(l->fd, l->out, l->out_len);
	l->out_len = 0;
	return rc;
}

static int send_simple(struct tc_link *l, uint8_t type, uint64_t time)
{
	struct tc_wire_msg m = {.type = type, .time = time};
	int rc = queue_msg(l, &m);
	return rc < 0 ? rc : lb_flush(l);
}

/* Read whatever the socket holds into the input buffer, waiting up to
 * timeout_ms for the first byte. TC_E_TIMEOUT when nothing came. */
static int fill(struct tc_link *l, int timeout_ms)
{
	/* Decoded messages leave by an offset; move the rest down only here,
	 * once per read rather than once per message. */
	if (l->in_off > 0) {
		memmove(l->in, l->in + l->in_off, l->in_len - l->in_off);
		l->in_len -= l->in_off;
		l->in_off = 0;
	}
	if (l->in_len == sizeof(l->in))
		return TC_E_LIMIT;
	for (int attempt = 0; attempt < 2; attempt++) {
		/* Read what is there first; wait only when nothing is. */
		ssize_t n = recv(l->fd, l->in + l->in_len, sizeof(l->in) - l->in_len, MSG_DONTWAIT);
		if (n > 0) {
			l->in_len += (size_t)n;
			return TC_OK;
		}
		if (n == 0)
			return TC_E_CLOSED;
		if (errno == EINTR)
			return TC_OK;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return TC_E_IO;
		if (attempt == 1 || timeout_ms == 0)
			break;
		struct pollfd p = {.fd = l->fd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return TC_E_IO;
		if (r == 0)
			break;
	}
	return TC_E_TIMEOUT;
}

/* Take the next message of the card, reading the socket as needed. */
static bool run_pending(const struct tc_link *l)
{
	return l->run_next < l->run.u.chars.n;
}

/* The next character of the run being handed out, as its CHAR. */
static void run_take(struct tc_link *l, struct tc_wire_msg *m)
{
	tc_wire_run_char(&l->run, l->run_next++, m);
	l->peer_seq = m->seq;
}

/* A decoded CHARS: keep its characters (the input buffer moves on). */
static void run_start(struct tc_link *l, const struct tc_wire_msg *m)
{
	l->run = *m;
	memcpy(l->run_pairs, m->u.chars.pairs, 2 * (size_t)m->u.chars.n);
	l->run.u.chars.pairs = l->run_pairs;
	l->run_next = 0;
}

/* The message m of n bytes at the front of the input buffer is taken. */
static void consume(struct tc_link *l, const struct tc_wire_msg *m, size_t n)
{
	record(l, 'C', l->in + l->in_off, n);
	l->peer_seq = m->seq; /* a run's characters move it on one by one */
	l->in_off += n;
	if (l->in_off == l->in_len)
		l->in_off = l->in_len = 0;
}

static int next_msg(struct tc_link *l, struct tc_wire_msg *m, int timeout_ms)
{
	if (run_pending(l)) {
		run_take(l, m);
		return TC_OK;
	}
	for (;;) {
		char why[96];
		int n =
		    tc_wire_decode(l->in + l->in_off, l->in_len - l->in_off, m, why, sizeof(why));
		if (n < 0) {
			fprintf(stderr, "tokencard loopback: malformed message from card: %s\n",
			        why);
			return TC_E_PROTOCOL;
		}
		if (n > 0) {
			if (m->type == TC_WIRE_CHARS) {
				run_start(l, m); /* before the buffer moves on */
				consume(l, m, (size_t)n);
				run_take(l, m);
			} else {
				consume(l, m, (size_t)n);
			}
			return TC_OK;
		}
		if (l->fd < 0)
			return TC_E_CLOSED;
		int rc = fill(l, timeout_ms);
		if (rc == TC_E_CLOSED || rc == TC_E_IO || rc == TC_E_LIMIT) {
			lb_disconnect(l);
			return TC_E_CLOSED;
		}
		if (rc < 0)
			return rc;
	}
}

/* The stale rule of docs/wire.md section 4. */
static bool is_stale(const struct tc_link *l, const struct tc_wire_msg *m)
{
	switch (m->type) {
	case TC_WIRE_CHAR:
	case TC_WIRE_IDLE:
		return m->ack < l->last_action;
	case TC_WIRE_ERROR:
		return m->ack < l->last_hard || l->send_n == 0 || m->u.error.ref < l->send_first ||
		       m->u.error.ref >= l->send_first + l->send_n;
	default:
		return false;
	}
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return TC_E_INVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return TC_E_IO;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return TC_E_IO;
	}
	return fd;
}

static int parse_endpoint(struct tc_link *l, const char *endpoint, char *path, size_t cap)
{
	const char *comma = strchr(endpoint, ':');
	size_t n = comma ? (size_t)(comma - endpoint) : strlen(endpoint);
	if (n == 0 || n >= cap)
		return TC_E_INVAL;
	memcpy(path, endpoint, n);
	path[n] = '\0';
	while (comma) {
		const char *opt = comma + 1;
		comma = strchr(opt, ':');
		size_t len = comma ? (size_t)(comma - opt) : strlen(opt);
		if (len == 8 && strncmp(opt, "realtime", 8) == 0) {
			l->realtime = true;
		} else if (len > 7 && strncmp(opt, "record=", 7) == 0 &&
		           len - 7 < sizeof(l->record_path)) {
			memcpy(l->record_path, opt + 7, len - 7);
			l->record_path[len - 7] = '\0';
		} else {
			fprintf(stderr, "tokencard loopback: unknown endpoint option '%.*s'\n",
			        (int)len, opt);
			return TC_E_INVAL;
		}
	}
	return TC_OK;
}

static int open_record(struct tc_link *l)
{
	const char *env = getenv("TC_WIRE_RECORD");
	if (!l->record_path[0] && env && env[0])
		snprintf(l->record_path, sizeof(l->record_path), "%s", env);
	if (!l->record_path[0])
		return TC_OK;
	l->record = fopen(l->record_path, "wb");
	if (!l->record)
		return TC_E_IO;
	(void)fwrite(TC_WIRE_RECORD_MAGIC, 1, TC_WIRE_RECORD_MAGIC_LEN, l->record);
	return TC_OK;
}

/* TC_WIRE_RUNS=0: neither accept nor send CHARS (to compare both wires). */
static bool runs_off(void)
{
	const char *e = getenv("TC_WIRE_RUNS");
	return e && strcmp(e, "0") == 0;
}

static int hello(struct tc_link *l)
{
	struct tc_wire_msg m = {.type = TC_WIRE_HELLO};
	m.u.hello.version = TC_WIRE_VERSION;
	m.u.hello.role = TC_WIRE_ROLE_READER;
	m.u.hello.realtime = l->realtime;
	m.flags = runs_off() ? 0 : TC_WIRE_HELLO_RUNS;
	snprintf(m.u.hello.name, sizeof(m.u.hello.name), "tokencard-driver");
	int rc = queue_msg(l, &m);
	if (rc == TC_OK)
		rc = lb_flush(l);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = next_msg(l, &m, LB_WALL_TIMEOUT_MS);
		if (rc < 0)
			return rc;
		if (m.type == TC_WIRE_BYE)
			return TC_E_CLOSED;
		if (m.type != TC_WIRE_HELLO)
			continue;
		if (m.u.hello.version != TC_WIRE_VERSION || m.u.hello.role != TC_WIRE_ROLE_CARD) {
			fprintf(stderr, "tokencard loopback: peer speaks wire version %u role %u\n",
			        m.u.hello.version, m.u.hello.role);
			return TC_E_UNSUPPORTED;
		}
		l->present = m.u.hello.present != 0;
		/* runs only where nothing paces the wire: pacing is per message */
		l->runs = (m.flags & TC_WIRE_HELLO_RUNS) && !runs_off() && !l->realtime;
		return TC_OK;
	}
}

static void lb_disconnect(struct tc_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->present = false;
	l->in_len = 0;
	l->in_off = 0;
	l->out_len = 0;
	l->has_held = false;
	l->peer_idle = false;
	l->run_next = l->run.u.chars.n = 0;
	l->runs = false;
}

/* Connect to the card process and say HELLO; a new connection starts a new
 * message numbering. */
static int lb_connect(struct tc_link *l)
{
	l->seq = l->peer_seq = l->last_action = l->last_hard = 0;
	l->send_first = l->send_n = 0;
	l->fd = open_socket(l->path);
	if (l->fd < 0) {
		int rc = l->fd;
		l->fd = -1;
		return rc;
	}
	int rc = hello(l);
	if (rc < 0)
		lb_disconnect(l);
	return rc;
}

/* Opening succeeds without the card process: the reader is then empty and
 * presence() connects as soon as the card's socket answers. */
static int lb_open(struct tc_link **out, const char *endpoint)
{
	struct tc_link *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return TC_E_NOMEM;
	l->fd = -1;
	set_etu(l, TC_FD, TC_DD);
	const char *rt = getenv("TC_WIRE_REALTIME");
	l->realtime = rt && strcmp(rt, "1") == 0;
	rc = parse_endpoint(l, endpoint, l->path, sizeof(l->path));
	if (rc == TC_OK)
		rc = open_record(l);
	if (rc < 0) {
		tc_transport_loopback.close(l);
		return rc;
	}
	(void)lb_connect(l);
	*out = l;
	return TC_OK;
}

static void lb_close(struct tc_link *l)
{
	if (!l)
		return;
	if (l->fd >= 0) {
		struct tc_wire_msg m = {.type = TC_WIRE_BYE, .time = l->now};
		snprintf(m.u.bye.reason, sizeof(m.u.bye.reason), "reader closed");
		if (queue_msg(l, &m) == TC_OK)
			(void)lb_flush(l);
		close(l->fd);
	}
	if (l->record)
		fclose(l->record);
	free(l);
}

static int lb_power_on(struct tc_link *l, unsigned cls, uint32_t clock_hz)
{
	if (!l->present)
		return TC_E_NO_CARD;
	struct tc_wire_msg m = {.type = TC_WIRE_POWER_ON, .time = l->now};
	m.u.power_on.cls = (uint8_t)cls;
	m.u.power_on.clock_hz = clock_hz;
	l->clock_hz = clock_hz;
	l->pace_origin_clk = l->now;
	l->pace_origin_ns = mono_ns();
	l->rst_time = l->now;
	l->rst_level = 0;
	l->peer_idle = false;
	set_etu(l, TC_FD, TC_DD);
	l->inverse = false;
	int rc = queue_msg(l, &m);
	return rc < 0 ? rc : lb_flush(l);
}

static int lb_power_off(struct tc_link *l)
{
	l->peer_idle = false;
	return send_simple(l, TC_WIRE_POWER_OFF, l->now);
}

static int lb_set_rst(struct tc_link *l, int level, uint64_t *edge_time)
{
	uint64_t t = l->now;
	if (t < l->rst_time + TC_RST_LOW_MIN_CLK)
		t = l->rst_time + TC_RST_LOW_MIN_CLK;
	struct tc_wire_msg m = {.type = TC_WIRE_RST, .time = t};
	m.u.rst.level = level ? 1 : 0;
	l->rst_time = t;
	l->rst_level = m.u.rst.level;
	l->peer_idle = false;
	pace(l, t);
	int rc = queue_msg(l, &m);
	if (rc == TC_OK)
		rc = lb_flush(l);
	if (edge_time)
		*edge_time = t;
	return rc;
}

static int lb_set_params(struct tc_link *l, bool inverse, unsigned F, unsigned D)
{
	if (F == 0 || D == 0)
		return TC_E_INVAL;
	l->inverse = inverse;
	set_etu(l, F, D);
	return TC_OK;
}

/* Queue n characters from t, one CHAR each (pacing them when realtime). */
static int queue_chars(struct tc_link *l, const uint8_t *bytes, size_t n, uint64_t t,
                       uint64_t spacing)
{
	int rc = TC_OK;
	for (size_t i = 0; i < n && rc == TC_OK; i++) {
		struct tc_wire_msg m = {.type = TC_WIRE_CHAR, .time = t + i * spacing};
		tc_wire_char_make(bytes[i], l->inverse, &m.u.chr.raw, &m.u.chr.parity);
		pace(l, m.time);
		rc = queue_msg(l, &m);
	}
	return rc;
}

/* The same as CHARS runs of up to TC_WIRE_MAX_RUN characters. */
static int queue_runs(struct tc_link *l, const uint8_t *bytes, size_t n, uint64_t t,
                      uint64_t spacing)
{
	uint8_t pairs[2 * TC_WIRE_MAX_RUN];
	int rc = TC_OK;
	for (size_t done = 0; done < n && rc == TC_OK;) {
		size_t k = n - done < TC_WIRE_MAX_RUN ? n - done : TC_WIRE_MAX_RUN;
		struct tc_wire_msg m = {.type = TC_WIRE_CHARS, .time = t + done * spacing};
		for (size_t i = 0; i < k; i++)
			tc_wire_char_make(bytes[done + i], l->inverse, &pairs[2 * i],
			                  &pairs[2 * i + 1]);
		m.u.chars.spacing = (uint32_t)spacing;
		m.u.chars.n = (uint16_t)k;
		m.u.chars.pairs = pairs;
		rc = queue_msg(l, &m);
		done += k;
	}
	return rc;
}

static int lb_send(struct tc_link *l, const uint8_t *bytes, size_t n, uint64_t start,
                   uint64_t spacing)
{
	uint64_t t = start > l->now ? start : l->now;
	bool run = l->runs && n > 1 && spacing > 0 && spacing <= UINT32_MAX;

	l->peer_idle = false;
	l->send_first = l->seq + 1; /* every character takes the next seq */
	l->send_n = (uint32_t)n;
	int rc = run ? queue_runs(l, bytes, n, t, spacing) : queue_chars(l, bytes, n, t, spacing);
	l->stats.chars_to_card += n;
	if (rc == TC_OK)
		rc = lb_flush(l);
	if (n > 0)
		l->now = t + (n - 1) * spacing + l->char_clk;
	return rc;
}

/* A current CHAR due by the deadline, handed to the engine. */
static void char_to_rx(struct tc_link *l, const struct tc_wire_msg *m, struct tc_rx *rx)
{
	rx->kind = TC_RX_CHAR;
	rx->byte = tc_wire_char_read(m->u.chr.raw, m->u.chr.parity, l->inverse, &rx->parity_ok);
	rx->time = m->time;
	rx->id = m->seq;
	rx->index = 0;
	/* The character holds I/O for 10 etu from its leading edge
	 * (wire.md section 3): nothing of ours may start before that. */
	if (m->time + l->char_clk > l->now)
		l->now = m->time + l->char_clk;
	l->stats.chars_from_card++;
}

/* Act on a current message from the card during recv(). Returns 1 when
 * *rx was filled, 0 to go on reading, or a negative tc_err. */
static int take(struct tc_link *l, const struct tc_wire_msg *m, uint64_t deadline, struct tc_rx *rx)
{
	switch (m->type) {
	case TC_WIRE_CHAR:
		if (m->time > deadline) {
			l->held = *m;
			l->has_held = true;
			l->now = deadline > l->now ? deadline : l->now;
			return TC_E_TIMEOUT;
		}
		char_to_rx(l, m, rx);
		return 1;
	case TC_WIRE_ERROR:
		rx->kind = TC_RX_PEER_ERROR;
		/* The error signal starts 10.5 etu after the refused character's
		 * leading edge; report that leading edge. */
		rx->time = m->time - tc_half_etu_to_clk(l->F, l->D, TC_ERR_SIGNAL_HALF_ETU);
		rx->id = m->u.error.ref;
		rx->index = m->u.error.ref - l->send_first;
		if (m->time > l->now)
			l->now = m->time;
		l->stats.errors_signalled++;
		return 1;
	case TC_WIRE_IDLE:
		l->peer_idle = true;
		return 0;
	case TC_WIRE_REMOVE:
		l->present = false;
		return TC_E_NO_CARD;
	case TC_WIRE_INSERT:
		l->present = true;
		return 0;
	case TC_WIRE_BYE:
		return TC_E_CLOSED;
	default:
		return 0;
	}
}

/* The common case of lb_recv(), without the general machinery: the next
 * bytes in the input buffer are a whole, well-formed, current CHAR due by the
 * deadline (wire.md sections 2 to 4 give it the same meaning as take()).
 * Returns false, having changed nothing, for anything else. */
static bool take_char_fast(struct tc_link *l, uint64_t deadline, struct tc_rx *rx)
{
	struct tc_wire_msg m;

	if (l->has_held)
		return false;
	if (run_pending(l)) {
		uint64_t t = l->run.time + (uint64_t)l->run_next * l->run.u.chars.spacing;
		if (l->run.ack < l->last_action || t > deadline)
			return false;
		run_take(l, &m);
	} else {
		if (l->in_len - l->in_off < TC_WIRE_HDR_LEN + 2 || l->in[l->in_off] != TC_WIRE_CHAR)
			return false;
		int n = tc_wire_decode(l->in + l->in_off, l->in_len - l->in_off, &m, NULL, 0);
		if (n <= 0 || m.type != TC_WIRE_CHAR || m.ack < l->last_action || m.time > deadline)
			return false;
		consume(l, &m, (size_t)n);
	}
	char_to_rx(l, &m, rx);
	return true;
}

static int lb_recv(struct tc_link *l, uint64_t deadline, struct tc_rx *rx)
{
	struct tc_wire_msg m;
	int rc;

	if (!l->present)
		return TC_E_NO_CARD;
	if (take_char_fast(l, deadline, rx))
		return TC_OK;
	for (;;) {
		if (l->has_held && !is_stale(l, &l->held)) {
			m = l->held;
			l->has_held = false;
		} else {
			l->has_held = false;
			if (l->peer_idle && l->in_len - l->in_off < TC_WIRE_HDR_LEN &&
			    !run_pending(l)) {
				/* The card said it is silent: the deadline passes. */
				if (deadline > l->now)
					l->now = deadline;
				return TC_E_TIMEOUT;
			}
			rc = next_msg(l, &m, LB_WALL_TIMEOUT_MS);
			if (rc == TC_E_TIMEOUT) {
				fprintf(stderr,
				        "tokencard loopback: the card process sent nothing "
				        "for %d ms\n",
				        LB_WALL_TIMEOUT_MS);
				return TC_E_IO;
			}
			if (rc < 0)
				return rc;
			if (is_stale(l, &m)) {
				l->stats.stale_dropped++;
				continue;
			}
		}
		rc = take(l, &m, deadline, rx);
		if (rc != 0)
			return rc > 0 ? TC_OK : rc;
	}
}

static int lb_signal_error(struct tc_link *l, uint32_t id, uint64_t time)
{
	struct tc_wire_msg m = {.type = TC_WIRE_ERROR};
	m.u.error.ref = id;
	m.time = time > l->now ? time : l->now;
	l->peer_idle = false;
	l->has_held = false;
	l->stats.errors_signalled++;
	pace(l, m.time);
	int rc = queue_msg(l, &m);
	return rc < 0 ? rc : lb_flush(l);
}

static int lb_set_clock(struct tc_link *l, uint32_t clock_hz)
{
	struct tc_wire_msg m = {.type = TC_WIRE_CLOCK, .time = l->now};
	m.u.clock.clock_hz = clock_hz;
	/* Keep pacing continuous across the change of frequency. */
	l->pace_origin_ns =
	    l->pace_origin_ns + (uint64_t)((double)(l->now - l->pace_origin_clk) * 1e9 /
	                                   (double)(l->clock_hz ? l->clock_hz : 1));
	l->pace_origin_clk = l->now;
	l->clock_hz = clock_hz;
	l->peer_idle = false;
	int rc = queue_msg(l, &m);
	return rc < 0 ? rc : lb_flush(l);
}

static uint64_t lb_now(const struct tc_link *l)
{
	return l->now;
}

static int lb_presence(struct tc_link *l, int timeout_ms, bool *present)
{
	bool before = l->present;
	int wait = timeout_ms;

	if (l->fd < 0 && lb_connect(l) < 0) {
		*present = false;
		return TC_OK;
	}

	for (;;) {
		struct tc_wire_msg m;
		int rc = next_msg(l, &m, wait);
		if (rc == TC_E_TIMEOUT)
			break;
		if (rc == TC_E_CLOSED) {
			*present = false;
			return TC_OK;
		}
		if (rc < 0) {
			*present = l->present;
			return rc;
		}
		if (m.type == TC_WIRE_INSERT)
			l->present = true;
		else if (m.type == TC_WIRE_REMOVE)
			l->present = false;
		else if (m.type == TC_WIRE_BYE)
			lb_disconnect(l);
		if (l->present != before)
			break;
		wait = 0;
	}
	*present = l->present;
	return TC_OK;
}

static int lb_event_fd(const struct tc_link *l)
{
	return l->fd; /* -1 while disconnected */
}

static void lb_stats(const struct tc_link *l, struct tc_link_stats *out)
{
	*out = l->stats;
}

const struct tc_transport tc_transport_loopback = {
    .name = "loopback",
    .open = lb_open,
    .close = lb_close,
    .power_on = lb_power_on,
    .power_off = lb_power_off,
    .set_rst = lb_set_rst,
    .set_params = lb_set_params,
    .send = lb_send,
    .recv = lb_recv,
    .signal_error = lb_signal_error,
    .set_clock = lb_set_clock,
    .now = lb_now,
    .presence = lb_presence,
    .event_fd = lb_event_fd,
    .stats = lb_stats,
};
