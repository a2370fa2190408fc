/* slot_int.h: private state of a slot (slot.c, slot_t0.c). */
#ifndef TC_SLOT_INT_H
#define TC_SLOT_INT_H

#include <stdarg.h>

#include "slot.h"
#include "tc_t0.h"
#include "transport.h"

#define TC_ATR_CLASS_ORDER_N 3

struct tc_slot {
	const struct tc_transport *tr;
	struct tc_link *link;
	struct tc_reader_config cfg;

	bool powered;
	uint8_t cls; /* TC_ATR_CLASS_* in use */
	uint8_t atr_raw[TC_ATR_MAX_LEN];
	size_t atr_len;
	struct tc_atr atr;
	unsigned F, D, N, WI;
	unsigned clock_khz;
	unsigned protocol;
	bool protocol_set;

	struct tc_t0r *t0;
	uint32_t last_rx_id; /* for error signals */
	struct tc_exchange_stats xs;
	char err[200];
};

/* The transport's exchange level (TC_LEVEL_CHAR without a level op). */
enum tc_level slot_level(const struct tc_slot *s);
void slot_fail(struct tc_slot *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The transport's sentence about its last failure, or tc_strerror(rc). */
const char *slot_tr_why(const struct tc_slot *s, int rc);
/* (Re)create the T=0 engine for the parameters in force. */
int slot_t0_setup(struct tc_slot *s);
/* Run one TPDU to its end; resp receives data + SW1 SW2. */
int slot_run_tpdu(struct tc_slot *s, const uint8_t hdr[5], const uint8_t *data, uint8_t *resp,
                  size_t cap, size_t *resp_len);

#endif
