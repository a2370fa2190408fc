/* transport.h: the driver's transports, one const table of operations per
 * kind of reader. A character-level transport moves single characters on a
 * clock-cycle time base (protocol/tc_timing.h); the ISO 7816-3 work (ATR,
 * PPS, T=0) is done above it by reader.c, the same for every transport.
 *
 * Every operation returns a tc_err (0 or negative). */
#ifndef TC_TRANSPORT_H
#define TC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_pps.h"

struct tc_link; /* one open slot of one reader; private to its transport */

enum tc_rx_kind {
	TC_RX_CHAR = 1,   /* a character from the card */
	TC_RX_PEER_ERROR, /* the card signalled a parity error on one of ours */
};

struct tc_rx {
	enum tc_rx_kind kind;
	uint8_t byte;   /* TC_RX_CHAR: the logical byte */
	bool parity_ok; /* TC_RX_CHAR: parity checked in the convention in force */
	uint64_t time;  /* leading edge of the character (received, or refused by the card) */
	uint32_t id;    /* CHAR: handle for signal_error(); */
	size_t index;   /* PEER_ERROR: index in our last send() of the rejected char */
};

/* Counters of a link, for the wire-efficiency figures. */
struct tc_link_stats {
	uint64_t chars_to_card;
	uint64_t chars_from_card;
	uint64_t errors_signalled; /* error signals each way */
	uint64_t stale_dropped;    /* messages dropped by the stale rule */
};

/* Who moves the characters (tc_transport.level). */
enum tc_level {
	TC_LEVEL_CHAR = 0,      /* the driver: the character operations */
	TC_LEVEL_TPDU,          /* the reader sends the driver's TPDUs */
	TC_LEVEL_SHORT_APDU,    /* the reader takes short APDUs */
	TC_LEVEL_EXTENDED_APDU, /* the reader takes short and extended APDUs */
};

/* T=0 parameters for a TPDU-level reader (tc_transport.set_t0). */
struct tc_t0_settings {
	bool inverse;
	unsigned F, D, N, WI;
	uint8_t fi_di;     /* FI << 4 | DI, as TA1 / PPS1 */
	uint32_t clock_hz; /* 0: leave the clock */
	uint32_t rate_bps; /* data rate at that clock, F and D */
};

struct tc_transport {
	/* Name, and the DEVICENAME prefix that selects it ("loopback" for
	 * "loopback:PATH"). Required. */
	const char *name;

	/* Open the endpoint (the DEVICENAME after "name:"). Required. */
	int (*open)(struct tc_link **out, const char *endpoint);
	/* Close and free. Required; NULL is a no-op. */
	void (*close)(struct tc_link *link);

	/* Vcc on at class (1 A, 2 B, 3 C), CLK at clock_hz, RST low, I/O in
	 * reception. Required. */
	int (*power_on)(struct tc_link *link, unsigned cls, uint32_t clock_hz);
	/* Deactivate. Required. */
	int (*power_off)(struct tc_link *link);
	/* Drive RST; the transport keeps >= 400 clock cycles between edges.
	 * *edge_time receives the time of the edge. Required. */
	int (*set_rst)(struct tc_link *link, int level, uint64_t *edge_time);
	/* Convention and F/D in force, for characters and etu. Required. */
	int (*set_params)(struct tc_link *link, bool inverse, unsigned F, unsigned D);

	/* Send n characters, the first at `start` (or the link's now, if later),
	 * the next ones `spacing` clock cycles apart. Required. */
	int (*send)(struct tc_link *link, const uint8_t *bytes, size_t n, uint64_t start,
	            uint64_t spacing);
	/* Wait for the next event from the card no later than `deadline`:
	 * TC_OK with *rx filled, TC_E_TIMEOUT when the deadline passes (the
	 * link's now is then the deadline), TC_E_NO_CARD when the card left.
	 * Required. */
	int (*recv)(struct tc_link *link, uint64_t deadline, struct tc_rx *rx);
	/* Reject the character `id` received earlier (parity error): hold I/O
	 * low from `time`. Required for T=0. */
	int (*signal_error)(struct tc_link *link, uint32_t id, uint64_t time);
	/* Change the clock frequency given to the card. Required. */
	int (*set_clock)(struct tc_link *link, uint32_t clock_hz);

	/* Current time on the link's clock. Required. */
	uint64_t (*now)(const struct tc_link *link);
	/* Wait up to timeout_ms (0: do not wait) for a change of card presence;
	 * *present receives the state. Required. */
	int (*presence)(struct tc_link *link, int timeout_ms, bool *present);
	/* A file descriptor that becomes readable when presence may have
	 * changed, or -1. Optional (NULL). */
	int (*event_fd)(const struct tc_link *link);
	/* Counters. Optional (NULL). */
	void (*stats)(const struct tc_link *link, struct tc_link_stats *out);

	/* Block-level readers (USB CCID at TPDU or APDU level) move no single
	 * characters: the reader does the activation, the characters and, at
	 * APDU level, T=0 and PPS. Optional: NULL, or TC_LEVEL_CHAR from
	 * level(), means the character operations above. Otherwise slot.c uses
	 * activate, xfr and set_t0 instead of power_on, set_rst, send, recv,
	 * signal_error, set_params and set_clock (which may then be NULL). */
	enum tc_level (*level)(const struct tc_link *link);
	/* Activate (cold) at class cls (1 A, 2 B, 3 C; 0: the reader chooses)
	 * and read the ATR into atr (cap bytes). TC_E_MUTE: no ATR. */
	int (*activate)(struct tc_link *link, unsigned cls, uint8_t *atr, size_t cap, size_t *n);
	/* Exchange one TPDU (TPDU level: CLA INS P1 P2 P3 [data]) or one command
	 * APDU (APDU levels); rx receives data + SW1 SW2. At TPDU level a PPS
	 * request (first byte FF) is also carried, rx receiving the answer;
	 * TC_E_UNSUPPORTED when the reader runs PPS itself. */
	int (*xfr)(struct tc_link *link, const uint8_t *tx, size_t n, uint8_t *rx, size_t cap,
	           size_t *rlen);
	/* TPDU level: the T=0 parameters in force after PPS (convention, F, D,
	 * extra guard time N, WI) and the clock. */
	int (*set_t0)(struct tc_link *link, const struct tc_t0_settings *t0);

	/* What the reader can do for PPS. caps comes filled with the slot's
	 * configuration (tc_reader_config_default's figures unless the caller
	 * gave others); the transport narrows it to its reader: lower limits,
	 * a pairs or clock list, and sets the reader's own clock figures (its
	 * default clock; a fixed crystal is also its maximum). Called once,
	 * after open. Optional (NULL: the configuration stays). */
	int (*caps)(const struct tc_link *link, struct tc_reader_caps *caps);
	/* A sentence about the last failed operation ("" when none), for the
	 * slot's error message. Optional (NULL). */
	const char *(*last_error)(const struct tc_link *link);
};

extern const struct tc_transport tc_transport_loopback;
extern const struct tc_transport tc_transport_usb;
extern const struct tc_transport tc_transport_serial;

/* Find the transport for a DEVICENAME ("loopback:/tmp/card.sock"); *endpoint
 * receives what follows the prefix. NULL when none matches. */
const struct tc_transport *tc_transport_find(const char *devicename, const char **endpoint);

#endif
