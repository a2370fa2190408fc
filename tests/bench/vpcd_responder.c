/* vpcd_responder.c: a minimal virtual card for vsmartcard's vpcd driver, for
 * the benchmarks. vpcd listens on a TCP port of its own; this program
 * connects to it on the loopback interface and answers.
 *
 *   vpcd_responder [--port N]     (default 35999; reconnects when dropped)
 *
 * vpcd's messages: a 2-byte big-endian length, then the payload. A 1-byte
 * payload is a control message: 00 power off, 01 power on, 02 reset (none
 * answered), 04 "send your ATR" (answered with the ATR). Anything longer is a
 * command APDU, answered with a response APDU (bench_card.h).
 *
 * Debian's vpcd writes the length and the payload in two writes and does not
 * set TCP_NODELAY; to keep the ~40 ms delayed-ACK timer out of the figures,
 * this side sets TCP_NODELAY and TCP_QUICKACK after every read and answers
 * each message with one write. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_card.h"
#include "bench_stats.h"

#define VPCD_MSG_MAX  0xFFFFu
#define VPCD_CTRL_ATR 0x04
#define CONNECT_TRIES 600 /* 50 ms apart: 30 s */
#define DEFAULT_PORT  35999

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void tune(int fd)
{
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int connect_vpcd(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < CONNECT_TRIES && !stop_requested; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			tune(fd);
			return fd;
		}
		(void)close(fd);
		bench_sleep_ms(50);
	}
	return -1;
}

/* Read exactly n bytes; re-arm the socket options after every read. */
static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR && !stop_requested)
			continue;
		if (r <= 0)
			return -1;
		tune(fd);
		got += (size_t)r;
	}
	return 0;
}

static int write_msg(int fd, const uint8_t *payload, size_t n)
{
	uint8_t out[2 + 258];
	if (n > sizeof(out) - 2)
		return -1;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	memcpy(out + 2, payload, n);
	return write(fd, out, n + 2) == (ssize_t)(n + 2) ? 0 : -1;
}

/* Serve one connection until vpcd drops it. */
static int serve(int fd)
{
	static uint8_t msg[VPCD_MSG_MAX];
	uint8_t hdr[2], rsp[258];
	for (;;) {
		if (read_full(fd, hdr, 2) != 0)
			return -1;
		size_t n = (size_t)hdr[0] << 8 | hdr[1];
		if (read_full(fd, msg, n) != 0)
			return -1;
		if (n == 1) {
			if (msg[0] == VPCD_CTRL_ATR &&
			    write_msg(fd, bench_card_atr, sizeof(bench_card_atr)) != 0)
				return -1;
			continue; /* power off, on, reset: no answer */
		}
		size_t r = bench_card_answer(msg, n, rsp, sizeof(rsp));
		if (write_msg(fd, rsp, r) != 0)
			return -1;
	}
}

int main(int argc, char **argv)
{
	unsigned port = DEFAULT_PORT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = (unsigned)strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: vpcd_responder [--port N]\n");
			return 2;
		}
	}
	struct sigaction sa = {.sa_handler = on_signal};
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	while (!stop_requested) {
		int fd = connect_vpcd(port);
		if (fd < 0) {
			fprintf(stderr, "vpcd_responder: no vpcd on 127.0.0.1:%u\n", port);
			return 1;
		}
		(void)serve(fd);
		(void)close(fd);
	}
	return 0;
}
