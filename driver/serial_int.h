/* serial_int.h: the serial transport for character-level readers of the
 * Phoenix / Smartmouse kind (docs/serial.md), private to driver/serial*.c,
 * the unit tests and the fuzz target.
 *
 *   serial_opts.c   endpoint options, baud mapping, convention coding and
 *                   the PARMRK receive parser: pure, no I/O
 *   serial_tty.c    termios2 on the tty (speed, parity, raw mode)
 *   serial_lines.c  the modem lines: ioctl on a real UART, or the test side
 *                   channel of docs/serial.md
 *   serial.c        the transport operations (transport.h) */
#ifndef TC_SERIAL_INT_H
#define TC_SERIAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_SERIAL_PATH_MAX         256u
#define TC_SERIAL_DEFAULT_CLK      3571200u /* 372 x 9600: 9600 baud at Fd/Dd */
#define TC_SERIAL_DEFAULT_SLACK_MS 50u      /* latency allowance on every deadline */
#define TC_SERIAL_MAX_PERR         64u      /* pending parity marks of the side channel */

/* A modem-control line. */
enum tc_serial_line {
	TC_SERIAL_LINE_NONE = 0,
	TC_SERIAL_LINE_RTS,
	TC_SERIAL_LINE_DTR,
	TC_SERIAL_LINE_CTS,
	TC_SERIAL_LINE_DCD,
	TC_SERIAL_LINE_DSR,
	TC_SERIAL_LINE_RI,
};

/* The endpoint: PATH[:option]... (docs/serial.md). */
struct tc_serial_opts {
	char path[TC_SERIAL_PATH_MAX];  /* the tty */
	char lines[TC_SERIAL_PATH_MAX]; /* lines=SOCKET: the test side channel; "" = ioctl */
	enum tc_serial_line reset;      /* RTS (default) or DTR */
	bool reset_inv;                 /* asserted = RST high (default: asserted = RST low) */
	enum tc_serial_line detect;     /* NONE (default), CTS, DCD, DSR, RI */
	bool detect_inv;                /* deasserted = card present */
	uint32_t clock_hz;              /* the reader's crystal */
	uint8_t cls;                    /* the class it powers the card at: 1 A, 2 B, 3 C */
	bool echo;                      /* the reader loops every byte sent back (default) */
	bool custom;                    /* custom divisors allowed (default) */
	uint32_t max_baud;              /* 0: no limit */
	unsigned slack_ms;              /* added to every deadline, for OS and adapter latency */
};

/* Parse an endpoint. TC_OK, or TC_E_FORMAT with a sentence in why. */
int tc_serial_parse_opts(const char *endpoint, struct tc_serial_opts *o, char *why, size_t cap);

/* The UART rate for clock f and F, D: f x D / F, rounded to the nearest. */
uint32_t tc_serial_baud(uint32_t clock_hz, unsigned F, unsigned D);
/* The standard termios rate within 1 % of baud, or 0 when none is. */
uint32_t tc_serial_std_rate(uint32_t baud);
/* Whether the UART rate got (read back) is within 2 % of the rate wanted. */
bool tc_serial_rate_close(uint32_t want, uint32_t got);
/* The standard termios rate nearest to baud and within the 2 % ISO/IEC
 * 7816-3 allows (TC_PPS_RATE_TOLERANCE_PCT), or 0: what a UART without
 * custom divisors (nocustom) runs for baud. */
uint32_t tc_serial_std_rate_near(uint32_t baud);

struct tc_reader_caps;
/* What this reader can do for PPS (tc_transport.caps), narrowing caps: its
 * crystal is the default and the only clock; max_baud; and the FI/DI
 * pairs the UART can run at the crystal: rate clock x D / F not above
 * max_baud, a standard rate within 2 % when nocustom, and the card's f(max)
 * for FI not below the crystal (the clock cannot be lowered). */
void tc_serial_caps(const struct tc_serial_opts *o, struct tc_reader_caps *caps);

/* Convention coding: a logical byte as the UART sends it (LSB first, high =
 * 1) and back. Direct: unchanged. Inverse: complemented and bit-reversed
 * (the parity then goes odd, which the UART does: tc_serial_tty_setup). */
uint8_t tc_serial_encode(uint8_t logical, bool inverse);
uint8_t tc_serial_decode(uint8_t uart, bool inverse);

/* The tty's input with PARMRK: FF FF is FF, FF 00 c is c received with a
 * parity or framing error, anything else is itself. */
struct tc_serial_rxp {
	uint8_t state;  /* 0 plain, 1 after FF, 2 after FF 00 */
	bool has_spare; /* a byte held back after a lone FF */
	uint8_t spare;
};
/* Feed one byte of the tty. 1: *out (and *err) hold a character; 0: more
 * bytes are needed. A lone FF followed by another byte gives FF, and the
 * other byte comes out of tc_serial_rxp_spare(). */
int tc_serial_rxp_feed(struct tc_serial_rxp *p, uint8_t in, uint8_t *out, bool *err);
int tc_serial_rxp_spare(struct tc_serial_rxp *p, uint8_t *out, bool *err);

/* --- the tty (serial_tty.c) --------------------------------------------------- */

/* Open the tty non-blocking, raw. fd or a negative tc_err (why filled). */
int tc_serial_tty_open(const char *path, char *why, size_t cap);
/* 8 data bits, parity even (odd when odd), 2 stop bits, at baud: a standard
 * rate, else a custom divisor (BOTHER) when custom. *got: the rate read back.
 * TC_E_UNSUPPORTED when the UART refuses or ends more than 2 % away. */
int tc_serial_tty_setup(int fd, uint32_t baud, bool odd, bool custom, uint32_t *got, char *why,
                        size_t cap);
/* The output rate the tty has now. */
int tc_serial_tty_rate(int fd, uint32_t *baud);

/* --- the modem lines (serial_lines.c) ----------------------------------------- */

/* The one interface through which the transport reaches the lines. */
struct tc_serial_lines {
	void *ctx;
	/* Drive the card's RST (0 or 1) through the reset line and polarity. */
	int (*set_rst)(void *ctx, int level);
	/* Card present per the detect line (always true without one). */
	int (*get_detect)(void *ctx, bool *present);
	/* A descriptor readable when the detect line may have changed, or -1. */
	int (*event_fd)(void *ctx);
	/* Whether received byte number idx (0-based, counted since open) came
	 * with an error the tty could not mark in-band (side channel only). */
	bool (*rx_error)(void *ctx, uint64_t idx);
	void (*close)(void *ctx);
};

/* Lines by ioctl (TIOCMBIS/TIOCMBIC/TIOCMGET) on the tty fd. */
int tc_serial_lines_ioctl(struct tc_serial_lines *out, int fd, const struct tc_serial_opts *o);
/* Lines over the side channel socket o->lines (docs/serial.md). */
int tc_serial_lines_socket(struct tc_serial_lines *out, const struct tc_serial_opts *o);

#endif
