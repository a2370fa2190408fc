/* fuzz_t0_reader.c: the T=0 reader engine (tc_t0.h), alone or under the APDU
 * layer (tc_apdu.h), against a card whose bytes, timing and faults come from
 * the input.
 *
 * Input layout:
 *   [0] mode: bit 0 = APDU layer (else one TPDU), bit 1 = raw APDU flag
 *   [1] FI nibble (low) / DI nibble (high); RFU values fall back to 372 / 1
 *   [2] N   [3] WI   [4] max repeats (low 3 bits) / max NULLs (high bits)
 *   TPDU mode: [5..9] header, [10] 1 = command data of P3 bytes from the
 *              input (zero padded); APDU mode: [5..6] APDU length, then the APDU
 *   the rest: card events, 3 bytes each: op (low 2 bits: 0 char, 1 char with
 *   parity error, 2 error signal on reader character value % 8, 3 timeout;
 *   bits 2..7 scale the delay, 63 = exactly the deadline or one clock after),
 *   value, delay in etu.
 * The engine must not crash, hang or read out of bounds; the loop is bounded
 * by the input and a fixed step count. Invariants are checked with abort(). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_apdu.h"
#include "tc_error.h"
#include "tc_t0.h"
#include "tc_timing.h"
#include "fuzz.h"

#define FZ_MAX_STEPS 20000u

struct fz {
	const uint8_t *in;
	size_t n, pos;
	struct tc_t0r *e;
	uint64_t now;
	uint64_t last_send_edge;
	uint64_t last_send_spacing;
	unsigned steps;
};

static int take(struct fz *f)
{
	return f->pos < f->n ? f->in[f->pos++] : -1;
}

static void check_action(const struct fz *f, const struct tc_t0r_action *a)
{
	switch (a->kind) {
	case TC_T0R_ACT_SEND:
		if (a->n == 0 || a->n > TC_T0_MAX_DATA || a->spacing == 0)
			abort();
		break;
	case TC_T0R_ACT_DONE:
		if (a->n > TC_T0_MAX_DATA)
			abort();
		break;
	case TC_T0R_ACT_FAILED:
		if (a->err >= 0 || !a->reason)
			abort();
		break;
	case TC_T0R_ACT_NONE:
	case TC_T0R_ACT_SIGNAL_ERROR:
	case TC_T0R_ACT_WAIT:
		break;
	}
	if (tc_t0r_state_name(tc_t0r_state(f->e))[0] == '?')
		abort();
}

/* One card event while the engine waits; false when the input is used up. */
static bool card_event(struct fz *f, uint64_t deadline)
{
	int op = take(f), b = take(f), dl = take(f);
	if (op < 0 || b < 0 || dl < 0) {
		(void)tc_t0r_on_timeout(f->e, deadline + 1);
		return false;
	}
	uint64_t etu = tc_t0r_etu_clk(f->e, 1);
	uint64_t delay = (uint64_t)dl * etu * (1u + ((unsigned)op >> 2));
	if ((op >> 2) == 63 && deadline >= f->now)
		delay = deadline - f->now + (uint64_t)(dl & 1); /* exactly WT, or one clock more */
	uint64_t t = f->now + delay;
	switch (op & 3) {
	case 0:
	case 1:
		if (tc_t0r_on_char(f->e, (uint8_t)b, (op & 3) == 0, t) == TC_OK)
			f->now = t;
		break;
	case 2:
		(void)tc_t0r_on_error_signal(f->e, (size_t)b % 8u,
		                             f->last_send_edge +
		                                 (uint64_t)(b % 8u) * f->last_send_spacing);
		break;
	default:
		(void)tc_t0r_on_timeout(f->e, t);
		if (t > f->now)
			f->now = t;
		break;
	}
	return true;
}

/* Run the engine's current TPDU to its end. */
static void run_tpdu(struct fz *f)
{
	struct tc_t0r_action a;
	while (f->steps++ < FZ_MAX_STEPS) {
		tc_t0r_next(f->e, &a);
		check_action(f, &a);
		if (a.kind == TC_T0R_ACT_SEND) {
			f->last_send_edge = a.start;
			f->last_send_spacing = a.spacing;
			f->now = a.start + (a.n - 1) * a.spacing;
		} else if (a.kind == TC_T0R_ACT_WAIT) {
			if (a.deadline < f->now && f->now - a.deadline > tc_t0r_wt_clk(f->e))
				abort();
			if (!card_event(f, a.deadline) && tc_t0r_state(f->e) != TC_T0R_FAILED)
				abort(); /* a timeout past the deadline must end the wait */
		} else if (a.kind != TC_T0R_ACT_SIGNAL_ERROR) {
			return;
		}
	}
	(void)tc_t0r_on_timeout(f->e, UINT64_MAX / 2);
}

static int fz_xfer(void *ctx, const uint8_t hdr[5], const uint8_t *data, size_t n_data,
                   uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct fz *f = ctx;
	struct tc_t0r_action a;
	int rc = tc_t0r_start(f->e, hdr, n_data ? data : NULL, f->now);
	if (rc != TC_OK)
		return rc;
	run_tpdu(f);
	tc_t0r_next(f->e, &a);
	if (a.kind == TC_T0R_ACT_FAILED)
		return a.err;
	if (a.kind != TC_T0R_ACT_DONE)
		return TC_E_STATE;
	if (a.n + 2 > cap)
		abort();
	memcpy(resp, a.bytes, a.n);
	resp[a.n] = a.sw1;
	resp[a.n + 1] = a.sw2;
	*resp_len = a.n + 2;
	return TC_OK;
}

static void run_apdu(struct fz *f, bool raw)
{
	static uint8_t resp[TC_APDU_MAX_RESP];
	int hi = take(f), lo = take(f);
	if (hi < 0 || lo < 0)
		return;
	size_t len = ((size_t)hi << 8 | (size_t)lo) % 600u;
	if (len > f->n - f->pos)
		len = f->n - f->pos;
	const uint8_t *apdu = f->in + f->pos;
	f->pos += len;
	struct tc_apdu_link link = {.xfer = fz_xfer, .ctx = f, .flags = raw ? TC_APDU_RAW : 0};
	size_t rlen = 0;
	const char *why = NULL;
	int rc = tc_apdu_transmit(&link, apdu, len, resp, sizeof(resp), &rlen, &why);
	if (rc == TC_OK && (rlen < 2 || rlen > sizeof(resp)))
		abort();
	if (rc != TC_OK && !why)
		abort();
}

static void run_one_tpdu(struct fz *f)
{
	uint8_t hdr[5] = {0}, cmd[TC_T0_MAX_DATA] = {0};
	for (size_t i = 0; i < 5; i++) {
		int b = take(f);
		hdr[i] = b < 0 ? 0 : (uint8_t)b;
	}
	bool out = take(f) == 1 && hdr[4] != 0;
	for (size_t i = 0; out && i < hdr[4]; i++) {
		int b = take(f);
		cmd[i] = b < 0 ? 0 : (uint8_t)b;
	}
	if (tc_t0r_start(f->e, hdr, out ? cmd : NULL, f->now) == TC_OK)
		run_tpdu(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	struct tc_t0r_params p = {
	    .F = tc_fi(data[1] & 15u),
	    .D = tc_di(data[1] >> 4),
	    .N = data[2],
	    .WI = data[3],
	    .max_repeats = data[4] & 7u,
	    .max_nulls = data[4] >> 3,
	};
	struct fz f = {.in = data, .n = size, .pos = 5};
	f.e = tc_t0r_new(&p);
	if (!f.e)
		return 0;
	if (data[0] & 1u)
		run_apdu(&f, (data[0] & 2u) != 0);
	else
		run_one_tpdu(&f);
	tc_t0r_free(f.e);
	return 0;
}
