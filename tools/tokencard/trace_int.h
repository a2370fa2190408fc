/* trace_int.h: what the parts of the trace decoder share (not a public API). */
#ifndef TOKENCARD_TRACE_INT_H
#define TOKENCARD_TRACE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* The output and the time base of the connection being printed. */
struct trace_out {
	trace_emit_fn emit;
	void *ctx;
	bool have_clock;   /* a POWER_ON gave the clock frequency */
	uint32_t hz;       /* clock in force (0: stopped) */
	uint64_t base_clk; /* time of the last clock change ... */
	double base_us;    /* ... in microseconds since the connection opened */
	unsigned F, D;     /* etu in force: F/D clock cycles */
	bool have_prev;    /* prev_t holds the time of the previous event line */
	uint64_t prev_t;
	bool quiet;             /* tr_event and tr_note print nothing (APDU view) */
	struct tr_apdus *apdus; /* the APDU view's state; NULL in other views */
};

/* One T=0 TPDU as the session view decoded it, for the APDU view. */
struct tr_tpdu {
	uint8_t hdr[5];
	uint8_t to[255], from[256]; /* data to the card, from the card */
	size_t nto, nfrom;
	bool secret; /* data to the card that a trace never shows */
	uint8_t sw1, sw2;
	uint64_t t_start, t_end; /* first header character, end of SW2 */
};

/* The APDU view: TPDUs merged back into the APDUs the T=0 transport layer made
 * of them (trace_apdu.c). */
struct tr_apdus *tr_apdus_new(void);
void tr_apdus_free(struct tr_apdus *a);
/* A TPDU ended with its SW: it continues the open APDU or starts one. */
void tr_apdus_tpdu(struct tr_apdus *a, struct trace_out *o, const struct tr_tpdu *t);
/* The open APDU ends here (reset, power off, removal, end of record); a TPDU
 * cut before its SW (partial, or NULL) is shown as an APDU without answer. */
void tr_apdus_end(struct tr_apdus *a, struct trace_out *o, const struct tr_tpdu *partial,
                  const char *why);
unsigned tr_apdus_count(const struct tr_apdus *a);

/* The name of a command from its CLA INS ("SELECT"), "" when unknown. */
const char *tr_ins_name(const uint8_t *h);

/* Card numbers are never shown whole: runs of 12 or more ASCII digits get
 * every byte but the last four masked. */
void tr_mask_digit_runs(const uint8_t *d, size_t n, bool *masked);
const char *tr_masked_hex(const uint8_t *d, const bool *m, size_t n, char *out, size_t cap);

void tr_out_init(struct trace_out *o, trace_emit_fn emit, void *ctx);
/* A new connection: time restarts at 0 and the clock is unknown. */
void tr_out_reset(struct trace_out *o);
/* The clock frequency changes to hz at time t (POWER_ON, CLOCK). */
void tr_clock(struct trace_out *o, uint64_t t, uint32_t hz);

/* One line as it is. */
void tr_text(struct trace_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An event line: time columns (cycles, us, etu since the previous event),
 * the direction ('R', 'C' or ' ') and the text. */
void tr_event(struct trace_out *o, uint64_t t, char dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A continuation line under the previous event, indented past the columns. */
void tr_note(struct trace_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "12.5 us" or "-" before the clock is known, into buf. */
const char *tr_us(const struct trace_out *o, uint64_t t, char *buf, size_t cap);

/* Hex of n bytes, at most max shown ("... (n bytes)" after), into buf. */
const char *tr_hex(const uint8_t *b, size_t n, size_t max, char *buf, size_t cap);

/* Meaning of a status word, "" when unknown. */
const char *tr_sw_text(uint8_t sw1, uint8_t sw2);

/* The session view of a parsed record. */
void trace_session(const struct trace_rec *rec, struct trace_out *o);

#endif
