/* serial_lines.c: the modem-control lines of a serial reader, through one
 * interface (struct tc_serial_lines) with two implementations:
 *  - ioctl: TIOCMBIS / TIOCMBIC / TIOCMGET on the UART (real hardware);
 *  - socket: the test side channel of docs/serial.md, for a pty, which
 *    carries neither the lines nor the parity. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "serial_int.h"
#include "tc_error.h"

/* The RST level to the level of the reset line (asserted or not). */
static bool reset_asserted(const struct tc_serial_opts *o, int level)
{
	return o->reset_inv ? level != 0 : level == 0;
}

/* --- ioctl ------------------------------------------------------------------- */

struct lines_ioctl {
	int fd;
	struct tc_serial_opts o;
};

static int io_set_rst(void *ctx, int level)
{
	struct lines_ioctl *c = ctx;
	int bit = c->o.reset == TC_SERIAL_LINE_DTR ? TIOCM_DTR : TIOCM_RTS;
	if (ioctl(c->fd, reset_asserted(&c->o, level) ? TIOCMBIS : TIOCMBIC, &bit) != 0) {
		fprintf(stderr, "tokencard serial: cannot drive the reset line: %s\n",
		        strerror(errno));
		return TC_E_IO;
	}
	return TC_OK;
}

static int io_get_detect(void *ctx, bool *present)
{
	struct lines_ioctl *c = ctx;
	int bits = 0, mask;

	static const int masks[] = {[TC_SERIAL_LINE_CTS] = TIOCM_CTS,
	                            [TC_SERIAL_LINE_DCD] = TIOCM_CAR,
	                            [TC_SERIAL_LINE_DSR] = TIOCM_DSR,
	                            [TC_SERIAL_LINE_RI] = TIOCM_RNG};
	mask = c->o.detect <= TC_SERIAL_LINE_RI ? masks[c->o.detect] : 0;
	if (!mask) {
		*present = true;
		return TC_OK;
	}
	if (ioctl(c->fd, TIOCMGET, &bits) != 0)
		return TC_E_IO;
	*present = ((bits & mask) != 0) != c->o.detect_inv;
	return TC_OK;
}

static int io_event_fd(void *ctx)
{
	(void)ctx;
	return -1; /* TIOCMIWAIT blocks; presence() polls the line instead */
}

static bool io_rx_error(void *ctx, uint64_t idx)
{
	(void)ctx;
	(void)idx;
	return false; /* the UART marks errors in-band (PARMRK) */
}

static void io_close(void *ctx)
{
	free(ctx);
}

int tc_serial_lines_ioctl(struct tc_serial_lines *out, int fd, const struct tc_serial_opts *o)
{
	struct lines_ioctl *c = calloc(1, sizeof(*c));
	if (!c)
		return TC_E_NOMEM;
	c->fd = fd;
	c->o = *o;
	*out = (struct tc_serial_lines){.ctx = c,
	                                .set_rst = io_set_rst,
	                                .get_detect = io_get_detect,
	                                .event_fd = io_event_fd,
	                                .rx_error = io_rx_error,
	                                .close = io_close};
	return TC_OK;
}

/* --- socket (test side channel) ------------------------------------------------ */

struct lines_sock {
	int fd;
	struct tc_serial_opts o;
	bool level[TC_SERIAL_LINE_RI + 1]; /* input lines as the card side reports them */
	uint64_t perr[TC_SERIAL_MAX_PERR]; /* received byte indices marked in error */
	size_t nperr;
	char buf[256];
	size_t n;
};

static void sock_line(struct lines_sock *c, const char *s)
{
	static const char *const names[] = {"", "RTS", "DTR", "CTS", "DCD", "DSR", "RI"};
	unsigned long long idx;
	char name[8];
	int v;

	if (sscanf(s, "PERR %llu", &idx) == 1) {
		if (c->nperr < TC_SERIAL_MAX_PERR)
			c->perr[c->nperr++] = idx;
		return;
	}
	if (sscanf(s, "%7s %d", name, &v) == 2)
		for (int i = TC_SERIAL_LINE_CTS; i <= TC_SERIAL_LINE_RI; i++)
			if (!strcmp(name, names[i]))
				c->level[i] = v != 0;
}

/* Take every line the card side has sent (non-blocking). */
static int sock_pump(struct lines_sock *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->buf + c->n, sizeof(c->buf) - 1 - c->n, MSG_DONTWAIT);
		if (r == 0)
			return TC_E_CLOSED;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? TC_OK
			                                                                 : TC_E_IO;
		c->n += (size_t)r;
		char *nl;
		while ((nl = memchr(c->buf, '\n', c->n)) != NULL) {
			*nl = '\0';
			sock_line(c, c->buf);
			size_t used = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->n - used);
			c->n -= used;
		}
		if (c->n >= sizeof(c->buf) - 1)
			c->n = 0; /* an overlong line: dropped */
	}
}

static int sock_set_rst(void *ctx, int level)
{
	struct lines_sock *c = ctx;
	char msg[16];
	int n =
	    snprintf(msg, sizeof(msg), "%s %d\n", c->o.reset == TC_SERIAL_LINE_DTR ? "DTR" : "RTS",
	             reset_asserted(&c->o, level) ? 1 : 0);
	if (send(c->fd, msg, (size_t)n, MSG_NOSIGNAL) != n)
		return TC_E_IO;
	return TC_OK;
}

static int sock_get_detect(void *ctx, bool *present)
{
	struct lines_sock *c = ctx;
	int rc = sock_pump(c);
	if (c->o.detect == TC_SERIAL_LINE_NONE)
		*present = true;
	else
		*present = c->level[c->o.detect] != c->o.detect_inv;
	if (rc != TC_OK)
		*present = false; /* the card side is gone */
	return TC_OK;
}

static int sock_event_fd(void *ctx)
{
	return ((struct lines_sock *)ctx)->fd;
}

static bool sock_rx_error(void *ctx, uint64_t idx)
{
	struct lines_sock *c = ctx;
	bool hit = false;
	size_t keep = 0;

	(void)sock_pump(c);
	for (size_t i = 0; i < c->nperr; i++) {
		if (c->perr[i] == idx)
			hit = true;
		else if (c->perr[i] > idx)
			c->perr[keep++] = c->perr[i]; /* still to come */
	}
	c->nperr = keep;
	return hit;
}

static void sock_close(void *ctx)
{
	struct lines_sock *c = ctx;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int tc_serial_lines_socket(struct tc_serial_lines *out, const struct tc_serial_opts *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(o->lines) >= sizeof(sa.sun_path))
		return TC_E_INVAL;
	memcpy(sa.sun_path, o->lines, strlen(o->lines) + 1);
	struct lines_sock *c = calloc(1, sizeof(*c));
	if (!c)
		return TC_E_NOMEM;
	c->o = *o;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "tokencard serial: cannot reach the lines socket %s: %s\n",
		        o->lines, strerror(errno));
		sock_close(c);
		return TC_E_IO;
	}
	/* the card side sends its lines at once: wait a moment for them */
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	(void)poll(&p, 1, 1000);
	(void)sock_pump(c);
	*out = (struct tc_serial_lines){.ctx = c,
	                                .set_rst = sock_set_rst,
	                                .get_detect = sock_get_detect,
	                                .event_fd = sock_event_fd,
	                                .rx_error = sock_rx_error,
	                                .close = sock_close};
	return TC_OK;
}
