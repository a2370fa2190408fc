/* slot.h: one slot of one reader, driven the ISO/IEC 7816-3 way over any
 * character-level transport: activation through the voltage classes, the
 * ATR, PPS, and APDUs through T=0 and its transport layer (tc_apdu.h).
 *
 * Not thread safe: one slot is used by one thread at a time (the IFD handler
 * serialises with its reader table lock). */
#ifndef TC_SLOT_H
#define TC_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_atr.h"
#include "tc_pps.h"

struct tc_slot;

/* What the reader hardware can do. tc_reader_config_default() fills a
 * loopback reader's figures. */
struct tc_reader_config {
	uint8_t classes;            /* TC_ATR_CLASS_* the reader can supply */
	struct tc_reader_caps caps; /* clock, baud, Di, protocols for PPS */
	unsigned max_repeats;       /* parity repetitions per character */
	bool raw_tpdu;              /* true: no automatic 61xx/6Cxx handling */
};

void tc_reader_config_default(struct tc_reader_config *cfg);

/* Figures of the last APDU exchange, for the wire-efficiency report. */
struct tc_exchange_stats {
	unsigned tpdus;         /* TPDUs the APDU took */
	size_t apdu_len;        /* bytes of the APDU */
	size_t resp_len;        /* bytes of the response, SW included */
	uint64_t t_first;       /* leading edge of the first header character */
	uint64_t t_last;        /* leading edge of the last character received */
	unsigned F, D;          /* in force */
	double etu_spent;       /* t_first .. t_last + 12 etu */
	double etu_min;         /* 12 etu x (apdu_len + resp_len) */
	uint32_t chars_to_card; /* every character, repetitions included */
	uint32_t chars_from_card;
};

/* Open the slot named by DEVICENAME ("loopback:/run/card.sock"). cfg NULL
 * means the defaults. */
int tc_slot_open(struct tc_slot **out, const char *devicename, const struct tc_reader_config *cfg);
void tc_slot_close(struct tc_slot *s);

/* Activate (cold) or reset (warm) the card and read its ATR. Cold: the
 * lowest class the reader supplies first, the next class when the card is
 * mute or its class indicator excludes the class; a warm reset when the ATR
 * is unusable. atr (cap >= 33) receives the ATR, *atr_len its length. */
int tc_slot_power_up(struct tc_slot *s, bool warm, uint8_t *atr, size_t *atr_len);
int tc_slot_power_down(struct tc_slot *s);

/* Select the protocol (only T=0 is offered by this driver) and run PPS as
 * tc_pps_decide() says. A failed PPS resets the card and keeps the defaults.
 * TC_E_UNSUPPORTED when the card does not offer T=0. */
int tc_slot_set_protocol(struct tc_slot *s, unsigned protocol);

/* Exchange one APDU (short or extended) and return the response data and
 * SW1 SW2 in resp. */
int tc_slot_transmit(struct tc_slot *s, const uint8_t *apdu, size_t n, uint8_t *resp, size_t cap,
                     size_t *resp_len);

/* Card presence, waiting up to timeout_ms for a change. */
int tc_slot_presence(struct tc_slot *s, int timeout_ms, bool *present);
/* Descriptor readable when presence may change, or -1. */
int tc_slot_event_fd(const struct tc_slot *s);

bool tc_slot_powered(const struct tc_slot *s);
/* The ATR in force (NULL when unpowered). */
const struct tc_atr *tc_slot_atr(const struct tc_slot *s);
/* F, D, protocol and clock in force. */
void tc_slot_params(const struct tc_slot *s, unsigned *F, unsigned *D, unsigned *clock_khz);
/* A sentence about the last failure ("" when none). */
const char *tc_slot_last_error(const struct tc_slot *s);
/* What the reader can do for PPS: the configuration narrowed by the
 * transport (tc_transport.caps) at open. */
const struct tc_reader_caps *tc_slot_caps(const struct tc_slot *s);
/* The class the card answered at (TC_ATR_CLASS_*), 0 when unpowered. */
uint8_t tc_slot_class(const struct tc_slot *s);
/* The largest APDU data field this slot carries, as PC/SC part 10's
 * dwMaxAPDUDataSize: 65535, or 0 (short APDUs only) for a short-APDU reader. */
uint32_t tc_slot_max_apdu_data(const struct tc_slot *s);
void tc_slot_exchange_stats(const struct tc_slot *s, struct tc_exchange_stats *out);

#endif
