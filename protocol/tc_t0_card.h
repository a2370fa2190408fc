/* tc_t0_card.h: the card side of ISO/IEC 7816-3 T=0, as a pure engine.
 *
 * The engine is what the card's UART and its T=0 firmware do: after RST
 * rises it sends the ATR, then takes either a PPS request or T=0 headers,
 * hands complete commands to an application callback and produces procedure
 * bytes, data and status words. It does no I/O and reads no clock: every
 * input carries its time (card clock cycles, see tc_timing.h) and every
 * output character carries the time its start bit leaves the card.
 *
 * Inputs: power on/off, RST edges, one received character at a time (its
 * logical byte, whether its parity checked, its leading edge), and the
 * reader's error signal against one of the card's characters. Outputs are
 * queued; the caller drains them with tc_t0c_next() after every input. All
 * outputs of one input form a burst: the card sends it at once and then
 * waits for the reader (docs/wire.md section 4).
 *
 * Timing rules the engine applies (etu = F/D clock cycles, F/D in force):
 *  - ATR: first character atr_delay_clk after RST rises (ISO: 400..40 000);
 *    characters 12 + extra_guard_etu apart (F = 372, D = 1).
 *  - Answer to the reader: the first character no earlier than 12 etu after
 *    the leading edge of the reader's last character (its 10 etu plus the
 *    error-signal window) plus proc_etu; the card's own characters at least
 *    12 + extra_guard_etu etu apart.
 *  - Busy time: while an answer is delayed (proc_etu, or the application's
 *    busy_etu), a NULL (0x60) goes out every null_interval_etu (0: half the
 *    waiting time 960 x WI x D), so the reader's WT never runs out.
 *  - Error signal against a reader character: 10.5 etu after its leading edge.
 *  - Repetition after the reader's error signal: at least 13 etu after the
 *    first attempt and 2 etu after the signal; the rest of the burst follows
 *    with its spacing kept. At most max_repeat repetitions of one character;
 *    one more error signal and the card falls silent until the next reset.
 *
 * Answers to headers (no application involved):
 *  - INS 6X or 9X (invalid in T=0): status 6D00 at once (INS not supported),
 *    no procedure byte. A card cannot take such a header apart from a
 *    procedure byte, so it refuses the command like an unknown instruction.
 *  - The application's response of a different length than Le (P3, 00 = 256)
 *    in a case 2 exchange: 6Cxx with xx = the length it has (00 = 256).
 *
 * PPS (the first character after the ATR is FF): the request is collected as
 * PPS0 announces, validated with tc_pps_parse_request(), and answered as
 * pps_mode says. An echo (or an echo without PPS1) makes the new Fi/Di apply
 * from the card's next character on. A request the card cannot honour (bad
 * PCK, protocol not offered, Fi other than TA1's or the default, Di larger
 * than TA1's) gets no answer; the card keeps Fd/Dd and waits for a header. */
#ifndef TC_T0_CARD_H
#define TC_T0_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_T0C_MAX_ATR        33u
#define TC_T0C_MAX_DATA       256u
#define TC_T0C_MAX_BURST      1024u /* characters in one burst (NULL storms included) */
#define TC_T0C_MAX_FAULT_IDX  16u   /* entries in each parity-fault index list */
#define TC_T0C_MAX_NULL_STORM 512u
#define TC_T0C_DEFAULT_REPEAT 3u
#define TC_T0C_TURNAROUND_ETU 12u
#define TC_T0C_NULL           0x60u

struct tc_t0c;

enum tc_t0c_state {
	TC_T0C_OFF = 0,   /* no Vcc */
	TC_T0C_RESET,     /* Vcc on, RST low: I/O in reception, nothing sent */
	TC_T0C_AFTER_ATR, /* ATR sent: a PPS request or a header may come */
	TC_T0C_PPS,       /* collecting a PPS request */
	TC_T0C_HEADER,    /* collecting a header (CLA INS P1 P2 P3) */
	TC_T0C_DATA,      /* ACK sent: collecting command data */
	TC_T0C_SILENT,    /* mute card, or repetition limit hit: silent until reset */
	TC_T0C_STATE_COUNT
};

enum tc_t0c_pps_mode {
	TC_T0C_PPS_ACCEPT = 0, /* echo a request the card can honour */
	TC_T0C_PPS_REFUSE,     /* never answer (silence) */
	TC_T0C_PPS_WRONG,      /* answer with the protocol nibble changed (fault) */
	TC_T0C_PPS_NO_PPS1,    /* echo without PPS1: Fd/Dd stay */
	TC_T0C_PPS_ALT,        /* answer with pps_alt[] verbatim (fault or test) */
};

/* Configuration. Zero-initialise, set atr/atr_len, and what else you need. */
struct tc_t0c_config {
	uint8_t atr[TC_T0C_MAX_ATR]; /* logical bytes, TS first (3B or 3F) */
	size_t atr_len;
	bool mute;              /* no ATR at all */
	uint32_t atr_delay_clk; /* RST high -> TS leading edge; 0 means 1000 */
	uint32_t extra_guard_etu;
	uint32_t proc_etu;          /* processing time before each answer */
	uint32_t null_interval_etu; /* 0: WT / 2 */
	uint32_t null_storm;        /* NULLs before every answer (fault) */
	bool one_by_one;            /* INS ^ FF for every data byte, never ACK = INS */
	bool wrong_proc;            /* send wrong_proc_byte in place of each first procedure byte */
	uint8_t wrong_proc_byte;
	enum tc_t0c_pps_mode pps_mode;
	uint8_t pps_alt[6];
	size_t pps_alt_len;
	unsigned max_repeat; /* 0 means TC_T0C_DEFAULT_REPEAT */
	/* Parity faults, numbers 1-based, counted from power on. Card characters
	 * sent with the parity bit inverted, counted as the card's character
	 * stream (a repetition is not a new character): each listed character
	 * goes wrong on its first tx_bad_times transmissions (0 means 1; 4 makes
	 * the reader give up after 3 repetitions); every tx_bad_every-th
	 * character goes wrong once. Reader characters the card signals although
	 * they are right: every character received counts, repetitions too. */
	uint32_t tx_bad[TC_T0C_MAX_FAULT_IDX];
	unsigned n_tx_bad;
	uint8_t tx_bad_times;
	uint32_t tx_bad_every; /* 0 off */
	uint32_t rx_bad[TC_T0C_MAX_FAULT_IDX];
	unsigned n_rx_bad;
	uint32_t rx_bad_every;
};

/* What the application callback gets and gives. */
enum tc_t0c_verdict {
	TC_T0C_RESPOND = 0,   /* resp holds the answer */
	TC_T0C_WANT_DATA = 1, /* send me the P3 bytes (case 3/4); called again with them */
};

struct tc_t0c_resp {
	uint8_t sw1, sw2;
	uint8_t data[TC_T0C_MAX_DATA]; /* case 2 only: sent after ACK */
	size_t len;
	uint64_t busy_etu; /* extra working time before the answer (NULLs meanwhile) */
};

/* The card operating system's side. */
struct tc_t0c_ops {
	/* RST rose (cold or warm reset): forget the session. Optional. */
	void (*reset)(void *user);
	/* A command. First call: header only (data NULL, n 0); return
	 * TC_T0C_WANT_DATA to receive the P3 data bytes (the engine then calls
	 * again with them), or TC_T0C_RESPOND with resp filled. Second call:
	 * must respond; data in resp is then ignored (use 61xx). Required. */
	enum tc_t0c_verdict (*command)(void *user, const uint8_t hdr[5], const uint8_t *data,
	                               size_t n, struct tc_t0c_resp *resp);
};

enum tc_t0c_out_kind {
	TC_T0C_OUT_CHAR = 1,   /* a character from the card */
	TC_T0C_OUT_SIGNAL = 2, /* error signal against the reader character just given */
};

struct tc_t0c_out {
	enum tc_t0c_out_kind kind;
	uint8_t byte;    /* CHAR: logical byte */
	bool bad_parity; /* CHAR: send with the parity bit inverted (fault) */
	uint64_t time;   /* leading edge (CHAR) or start of the signal (SIGNAL) */
	unsigned index;  /* CHAR: position in the current burst (tc_t0c_on_error) */
	uint32_t tx_no;  /* CHAR: 1-based number since power on, repetitions counted */
	uint32_t burst;  /* CHAR: number of the burst it belongs to (changes per burst) */
};

/* Transition log: called on every state change. Optional. */
typedef void (*tc_t0c_log_fn)(void *ctx, enum tc_t0c_state from, enum tc_t0c_state to, uint64_t t);

/* Create an engine. Returns NULL on bad arguments (no command callback, ATR
 * length 0 or > 33) or no memory. The config is copied. */
struct tc_t0c *tc_t0c_new(const struct tc_t0c_config *cfg, const struct tc_t0c_ops *ops,
                          void *user);
void tc_t0c_free(struct tc_t0c *c);
/* Replace the configuration; the ATR applies from the next reset. */
int tc_t0c_configure(struct tc_t0c *c, const struct tc_t0c_config *cfg);
void tc_t0c_set_log(struct tc_t0c *c, tc_t0c_log_fn fn, void *ctx);

/* Events. Each returns 0 or a negative tc_err (TC_E_STATE when it cannot
 * apply, TC_E_PARITY when the repetition limit is hit); outputs are queued. */
int tc_t0c_power_on(struct tc_t0c *c, uint64_t t);
int tc_t0c_power_off(struct tc_t0c *c, uint64_t t);
int tc_t0c_rst(struct tc_t0c *c, bool high, uint64_t t);
int tc_t0c_on_char(struct tc_t0c *c, uint8_t byte, bool parity_ok, uint64_t t);
/* The reader signalled an error against burst character `index` at t. */
int tc_t0c_on_error(struct tc_t0c *c, unsigned index, uint64_t t);

/* Next queued output; false when none. */
bool tc_t0c_next(struct tc_t0c *c, struct tc_t0c_out *o);

enum tc_t0c_state tc_t0c_state(const struct tc_t0c *c);
const char *tc_t0c_state_name(enum tc_t0c_state s);
bool tc_t0c_inverse(const struct tc_t0c *c); /* convention of the ATR in force */
void tc_t0c_factors(const struct tc_t0c *c, unsigned *F, unsigned *D);
uint64_t tc_t0c_etu_clk(const struct tc_t0c *c, uint64_t etu);
/* Card characters sent since power on (repetitions counted). */
uint32_t tc_t0c_tx_count(const struct tc_t0c *c);

#endif
