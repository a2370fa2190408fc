/* tc_t0.h: the reader side of ISO/IEC 7816-3 T=0, one TPDU at a time.
 *
 * An event-driven state machine. It never does I/O and never reads a clock:
 * the caller feeds events, each stamped with a time on the virtual clock (card
 * clock cycles, see tc_timing.h), and polls tc_t0r_next() for what to do next.
 *
 * The caller's loop, for one TPDU:
 *
 *   tc_t0r_start(e, hdr, data, now);
 *   for (;;) {
 *       tc_t0r_next(e, &a);
 *       SEND:         put a.bytes[i] on the wire at a.start + i * a.spacing;
 *                     if the card signals a parity error on character i, stop
 *                     sending and call tc_t0r_on_error_signal(e, i, t_i);
 *       SIGNAL_ERROR: hold I/O low from a.start for a.duration clocks;
 *       WAIT:         a character from the card starting at t <= a.deadline ->
 *                     tc_t0r_on_char(); time passing a.deadline (now > deadline)
 *                     -> tc_t0r_on_timeout(e, now);
 *       DONE, FAILED: the TPDU is over; read a.bytes, a.n, a.sw1 a.sw2 or
 *                     a.err, a.reason.
 *   }
 *
 * The engine assumes SEND's characters go out at exactly start + i * spacing
 * (a virtual-clock wire does that); its WT deadlines count from those edges.
 *
 * Timing rules applied (numbers from ISO7816.md):
 *  - reader -> reader characters: leading edges at least 12 + N etu apart
 *    (tc_guard_etu(N, 0)); that is SEND's spacing;
 *  - card -> reader turnaround: the first character sent after a received one
 *    starts at least 12 etu (one character plus the error-signal window) after
 *    the received character's leading edge, 16 etu when D = 64;
 *  - a character repeated after the card's error signal starts at least
 *    max(13, 12 + N) etu after the leading edge of the character in error;
 *  - WT = 960 x WI x D etu bounds the gap between the leading edge of every
 *    character from the card and the previous character in either direction.
 *    A character starting exactly WT after the previous one is in time; the
 *    engine fails with TC_E_TIMEOUT once time is strictly past that instant.
 *  - a received character with a parity error is answered with the error
 *    signal 10.5 etu after its leading edge; the card repeats it.
 *
 * Procedure bytes: 0x60 NULL restarts WT; INS sends/receives all remaining
 * data; INS ^ 0xFF one byte; 0x6X (X != 0) or 0x9X is SW1, SW2 follows; any
 * other value is TC_E_PROTOCOL, as is an ACK when no data is left in either
 * direction (more data than P3 announced). Inside a data transfer every byte
 * is data; the byte after SW1 is SW2, whatever its value. NULLs are unlimited
 * unless max_nulls is set: a card may legitimately keep the line for minutes;
 * the caller bounds the total time. */
#ifndef TC_T0_H
#define TC_T0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_T0_HEADER_LEN      5u
#define TC_T0_MAX_DATA        256u /* P3 = 00 asks 256 bytes from the card */
#define TC_T0_DEFAULT_REPEATS 3u   /* repetitions of one character before TC_E_PARITY */
#define TC_T0_TURNAROUND_ETU  12u  /* received -> sent, D != 64 */
#define TC_T0_ERR_SIGNAL_HALF 3u   /* the reader holds I/O low 1.5 etu */

struct tc_t0r;

struct tc_t0r_params {
	unsigned F;           /* Fi, e.g. 372; 0 means 372 */
	unsigned D;           /* Di, e.g. 1; 0 means 1 */
	unsigned N;           /* TC1 extra guard time, 0..255 */
	unsigned WI;          /* TC2, 0 means the default 10 */
	unsigned max_repeats; /* repetitions per character; 0 means 3 */
	unsigned max_nulls;   /* NULL bytes per TPDU before TC_E_LIMIT; 0 = no limit */
};

enum tc_t0r_state {
	TC_T0R_IDLE,      /* no TPDU started */
	TC_T0R_TX_HEADER, /* header (or its rest after an error signal) to send */
	TC_T0R_WAIT_PROC, /* waiting for a procedure byte (WT) */
	TC_T0R_TX_DATA,   /* command data to send after an ACK */
	TC_T0R_RX_DATA,   /* receiving response data after an ACK (WT) */
	TC_T0R_WAIT_SW2,  /* SW1 received, waiting for SW2 (WT) */
	TC_T0R_DONE,      /* SW1 SW2 received */
	TC_T0R_FAILED,    /* error; see the FAILED action */
	TC_T0R_STATE_COUNT
};

enum tc_t0r_action_kind {
	TC_T0R_ACT_NONE,         /* idle: nothing to do */
	TC_T0R_ACT_SEND,         /* bytes, n, start, spacing */
	TC_T0R_ACT_SIGNAL_ERROR, /* start, duration */
	TC_T0R_ACT_WAIT,         /* deadline */
	TC_T0R_ACT_DONE,         /* bytes (response data), n, sw1, sw2 */
	TC_T0R_ACT_FAILED,       /* err, reason */
};

struct tc_t0r_action {
	enum tc_t0r_action_kind kind;
	const uint8_t *bytes; /* SEND: characters; DONE: response data (valid until next start) */
	size_t n;             /* SEND: count; DONE: response data length (0..256) */
	uint64_t start;       /* SEND: earliest leading edge of bytes[0]; SIGNAL_ERROR: I/O low */
	uint64_t spacing;     /* SEND: distance between leading edges, clocks */
	uint64_t duration;    /* SIGNAL_ERROR: how long I/O is held low, clocks */
	uint64_t deadline;    /* WAIT: last instant at which the card's character may start */
	uint8_t sw1, sw2;     /* DONE */
	int err;              /* FAILED: enum tc_err */
	const char *reason;   /* FAILED: static text */
};

/* Bookkeeping for wire efficiency, reset by tc_t0r_start(). */
struct tc_t0r_stats {
	uint32_t tx_chars;   /* characters sent by the reader, repetitions included */
	uint32_t rx_chars;   /* characters received, NULLs and bad copies included */
	uint32_t tx_repeats; /* reader characters repeated after an error signal */
	uint32_t rx_repeats; /* received characters with a parity error */
	uint32_t nulls;      /* NULL procedure bytes */
	uint64_t t_first;    /* leading edge of the first header character */
	uint64_t t_end;      /* end of SW2 (edge + 10 etu), or the time of the failure */
	/* Shortest possible duration of the same TPDU: header and command data at
	 * the guard time, one ACK, response data and SW1 SW2 at 12 etu each, plus
	 * the turnarounds; set when the TPDU ends with DONE (0 otherwise).
	 * efficiency = min_clk / (t_end - t_first). */
	uint64_t min_clk;
};

/* Called by set_state() on every change of state; why is static text. */
typedef void (*tc_t0r_log_fn)(void *ctx, enum tc_t0r_state from, enum tc_t0r_state to,
                              const char *why);

/* NULL on allocation failure or parameters out of range (N or WI > 255,
 * F > 100000, D > 1000); p NULL means all defaults. */
struct tc_t0r *tc_t0r_new(const struct tc_t0r_params *p);
void tc_t0r_free(struct tc_t0r *e);
/* Optional transition log; fn NULL turns it off. */
void tc_t0r_set_log(struct tc_t0r *e, tc_t0r_log_fn fn, void *ctx);
/* Forget the line history (after a reset): the next TPDU may start at once. */
void tc_t0r_reset_line(struct tc_t0r *e);

/* Start one TPDU. header = CLA INS P1 P2 P3. data NULL: the card may send up
 * to P3 bytes (00 = 256), case 1 and 2. data not NULL: P3 (1..255) bytes of
 * command data, copied. The header's first character is sent no earlier than
 * now and respects the guard/turnaround after the previous TPDU on the line.
 * TC_E_INVAL for data with P3 = 0; TC_E_STATE while a TPDU runs. INS 6X / 9X
 * (they would read as SW1) puts the engine in FAILED with TC_E_PROTOCOL, sends
 * nothing and returns TC_E_PROTOCOL. */
int tc_t0r_start(struct tc_t0r *e, const uint8_t header[5], const uint8_t *data, uint64_t now);

/* A character from the card whose leading edge was at t. Returns TC_OK when
 * the event was taken (the engine may now be FAILED: poll), TC_E_STATE when
 * the engine is not waiting for the card, TC_E_INVAL when t lies before the
 * previous character. */
int tc_t0r_on_char(struct tc_t0r *e, uint8_t byte, bool parity_ok, uint64_t t);

/* The card held I/O low after character number index (0-based) of the last
 * SEND action, whose leading edge was at t: that character and the ones after
 * it are sent again (after the repetition limit: TC_E_PARITY). TC_E_STATE
 * when no SEND is outstanding (the card has answered since), TC_E_INVAL for
 * an index outside the last SEND or t before that character's start. */
int tc_t0r_on_error_signal(struct tc_t0r *e, size_t index, uint64_t t);

/* Time reached now without a character. Fails with TC_E_TIMEOUT when now is
 * past the WAIT deadline, otherwise changes nothing. TC_E_STATE when the
 * engine is not waiting. */
int tc_t0r_on_timeout(struct tc_t0r *e, uint64_t now);

/* The next thing to do. Always succeeds; SEND and SIGNAL_ERROR are yielded
 * once, WAIT / DONE / FAILED until an event changes them. */
void tc_t0r_next(struct tc_t0r *e, struct tc_t0r_action *a);

enum tc_t0r_state tc_t0r_state(const struct tc_t0r *e);
/* "WAIT_PROC"; "?" for a value outside the enum. */
const char *tc_t0r_state_name(enum tc_t0r_state s);
const char *tc_t0r_action_name(enum tc_t0r_action_kind k);
void tc_t0r_get_stats(const struct tc_t0r *e, struct tc_t0r_stats *st);

/* Derived clock figures of the parameters, for callers and tests. */
uint64_t tc_t0r_wt_clk(const struct tc_t0r *e);
uint64_t tc_t0r_guard_clk(const struct tc_t0r *e);
uint64_t tc_t0r_etu_clk(const struct tc_t0r *e, uint64_t etu);

#endif
