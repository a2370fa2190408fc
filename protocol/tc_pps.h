/* tc_pps.h: protocol and parameters selection (ISO/IEC 7816-3 PPS).
 *
 * Pure: no I/O. A PPS is PPSS (0xFF), PPS0 (b5/b6/b7 announce PPS1/PPS2/PPS3,
 * b1-b4 = T, b8 = 0), the optional PPS1 (FI/DI as TA1), PPS2, PPS3, and PCK
 * so that XOR of PPSS..PCK = 0. Example: FF 10 95 7A asks T=0, Fi=512, Di=16.
 *
 * The decision rule (tc_pps_decide):
 *  - Specific mode (TA2 present): never send a PPS. The protocol is TA2's T;
 *    the factors are TA1's (defaults when TA1 absent) unless TA2 b5 (implicit)
 *    is set, in which case the defaults Fd/Dd are used (we know no other
 *    "implicit" values). If the reader cannot do that protocol or Fi/Di, the
 *    answer is TC_E_UNSUPPORTED; why says whether a warm reset may help (TA2
 *    b8 = 0: the card can change to negotiable mode).
 *  - Negotiable mode: the protocol is the first offered one (T of TD1) when
 *    the reader supports it, else the lowest offered one it supports, else
 *    TC_E_UNSUPPORTED. PPS1 asks exactly the card's FI (never another Fi) with
 *    the largest Di <= the card's Di that the reader supports (di_mask, or the
 *    pairs list when npairs > 0) and for which the baud rate clock x Di / Fi
 *    stays <= max_baud, the clock being min(card f(max), reader max clock).
 *    No PPS1 when TA1 is absent or RFU, when the pick equals the defaults
 *    (Fi 372, Di 1), or when no Di fits; then the defaults stay and the clock
 *    is min(default clock, 5 MHz = f(max) of Fd).
 *    A PPS is sent when PPS1 is needed or the protocol is not the first offered.
 *  - On a failed PPS exchange the caller resets and uses the defaults. */
#ifndef TC_PPS_H
#define TC_PPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_atr.h"

#define TC_PPS_MAX_LEN    6 /* PPSS PPS0 PPS1 PPS2 PPS3 PCK */
#define TC_PPS_PPSS       0xFF
#define TC_PPS_WHY_LEN    160
#define TC_PPS_MAX_PAIRS  128 /* room for every valid FI/DI pair (12 x 9) */
#define TC_PPS_MAX_CLOCKS 16
/* ISO/IEC 7816-3 lets each moment of a character start (n +- 0.2) etu after
 * the start bit's leading edge: 0.2 etu over the 10 etu of a character, so a
 * rate at most 2 % away from clock x D / F is still the card's. */
#define TC_PPS_RATE_TOLERANCE_PCT 2

/* A PPS request or answer, decoded. */
struct tc_pps {
	uint8_t protocol; /* PPS0 b1-b4 */
	bool has_pps1, has_pps2, has_pps3;
	uint8_t pps1, pps2, pps3;
};

/* Parameters in force after a successful exchange. */
struct tc_pps_result {
	unsigned protocol;
	bool pps1_accepted; /* false: PPS1 not asked or left out: Fd/Dd stay */
	uint8_t fi_nibble, di_nibble;
	unsigned Fi, Di;
};

/* What a reader can do. A transport narrows these to its reader
 * (tc_transport.caps): serial readers from their UART, USB CCID readers from
 * the class descriptor and its clock and data-rate lists. */
struct tc_reader_caps {
	unsigned max_clock_khz;                 /* highest clock it can give the card */
	unsigned default_clock_khz;             /* clock during the ATR */
	uint32_t max_baud;                      /* highest baud rate; 0 = no limit */
	uint16_t di_mask;                       /* bit n set: DI nibble n supported (any FI) */
	unsigned npairs;                        /* when > 0, pairs[] replaces di_mask */
	uint8_t pairs[TC_PPS_MAX_PAIRS];        /* supported FI/DI bytes (as TA1) */
	uint16_t protocols;                     /* bit T: protocol T supported */
	unsigned nclocks;                       /* when > 0, clocks_khz[] are the only */
	uint32_t clocks_khz[TC_PPS_MAX_CLOCKS]; /* clocks after PPS (kHz) */
};

struct tc_pps_decision {
	bool send_pps;
	struct tc_pps request; /* valid when send_pps */
	unsigned protocol;     /* protocol to use (after success) */
	unsigned Fi, Di;       /* factors to use after success (specific: at once) */
	unsigned clock_khz;    /* clock to run the card at after the exchange */
	bool specific_mode;
	char why[TC_PPS_WHY_LEN]; /* one sentence explaining the choice */
};

/* Write the request (PCK computed) into out. Returns the length (3..6),
 * TC_E_INVAL for protocol > 14, TC_E_OVERFLOW when cap is too small. */
int tc_pps_build(const struct tc_pps *req, uint8_t *out, size_t cap);

/* Parse a PPS (request or answer) of len bytes. Returns 0, or TC_E_SHORT,
 * TC_E_LONG, TC_E_FORMAT (PPSS not FF, PPS0 b8 set, T = 15), TC_E_CHECKSUM
 * (PCK); why (whylen bytes, may be NULL) gets the reason. */
int tc_pps_parse(const uint8_t *buf, size_t len, struct tc_pps *out, char *why, size_t whylen);

/* Card side: parse a request and also refuse a PPS1 with RFU FI or DI
 * (TC_E_UNSUPPORTED). */
int tc_pps_parse_request(const uint8_t *buf, size_t len, struct tc_pps *out, char *why,
                         size_t whylen);

/* Reader side: check the card's answer against the request. Success:
 * PPSS and the protocol echoed, PPS1 echoed (factors from it) or absent
 * (Fd/Dd stay), PPS2/PPS3 echoed or absent, PCK right, nothing extra.
 * Returns 0 with res filled, or TC_E_PPS_FAILED (or the tc_pps_parse error
 * for a malformed answer) with why set. */
int tc_pps_check_answer(const struct tc_pps *req, const uint8_t *ans, size_t len,
                        struct tc_pps_result *res, char *why, size_t whylen);

/* The clock a reader gives, after PPS, a card whose Fi allows fmax_khz:
 * min(fmax_khz, max_clock_khz); with a clock list, the largest listed clock
 * not above that or, when none is, the lower of that and the default clock. */
unsigned tc_pps_clock_khz(const struct tc_reader_caps *caps, unsigned fmax_khz);

/* Whether the reader supports FI/DI byte fidi (pairs list, else di_mask). */
bool tc_pps_reader_has(const struct tc_reader_caps *caps, uint8_t fidi);

/* Narrow caps to the supported pairs (FI, DI) that keep(ctx, FI, DI) also
 * accepts: caps then has a pairs list (npairs may become 0: no pair beyond
 * the defaults, and di_mask is cleared). Only valid FI and DI are asked. */
void tc_pps_caps_keep(struct tc_reader_caps *caps,
                      bool (*keep)(const void *ctx, unsigned fi, unsigned di), const void *ctx);

/* Whether a rate `have` may stand for `want`: at most
 * TC_PPS_RATE_TOLERANCE_PCT away from it. */
bool tc_pps_rate_near(uint32_t want, uint32_t have);

/* Decide whether and what to negotiate (rule at the top of this file).
 * Returns 0, TC_E_INVAL (NULL or invalid ATR), TC_E_UNSUPPORTED. */
int tc_pps_decide(const struct tc_atr *atr, const struct tc_reader_caps *caps,
                  struct tc_pps_decision *out);

#endif
