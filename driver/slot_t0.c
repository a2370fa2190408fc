/* slot_t0.c: PPS and T=0 exchanges of one slot. */
#include <stdio.h>
#include <string.h>

#include "slot_int.h"
#include "tc_apdu.h"
#include "tc_error.h"
#include "tc_timing.h"

/* Upper bound on engine steps for one TPDU: every character of a maximal
 * TPDU, its repetitions and a generous NULL allowance. */
#define T0_MAX_STEPS 200000u

int slot_t0_setup(struct tc_slot *s)
{
	struct tc_t0r_params p = {
	    .F = s->F,
	    .D = s->D,
	    .N = s->N,
	    .WI = s->WI,
	    .max_repeats = s->cfg.max_repeats,
	};
	tc_t0r_free(s->t0);
	s->t0 = tc_t0r_new(&p);
	if (!s->t0) {
		slot_fail(s, "T=0 engine refused F=%u D=%u N=%u WI=%u", s->F, s->D, s->N, s->WI);
		return TC_E_INVAL;
	}
	return TC_OK;
}

/* Length of a PPS from its first two bytes. */
static size_t pps_len(const uint8_t *b)
{
	size_t n = 3;
	for (unsigned bit = 4; bit <= 6; bit++)
		if (b[1] & (1u << bit))
			n++;
	return n;
}

static int pps_read_answer(struct tc_slot *s, uint8_t *ans, size_t *len)
{
	size_t n = 0, want = 2;
	uint64_t wait = tc_etu_to_clk(TC_FD, TC_DD, TC_INITIAL_WAIT_ETU);
	uint64_t deadline = s->tr->now(s->link) + wait;

	while (n < want && n < TC_PPS_MAX_LEN) {
		struct tc_rx rx;
		int rc = s->tr->recv(s->link, deadline, &rx);
		if (rc < 0)
			return rc;
		if (rx.kind != TC_RX_CHAR)
			continue;
		if (!rx.parity_ok)
			return TC_E_PARITY;
		ans[n++] = rx.byte;
		if (n == 2)
			want = pps_len(ans);
		deadline = rx.time + wait;
	}
	*len = n;
	return TC_OK;
}

static int pps_exchange(struct tc_slot *s, const struct tc_pps_decision *d)
{
	uint8_t req[TC_PPS_MAX_LEN], ans[TC_PPS_MAX_LEN];
	size_t alen = 0;
	struct tc_pps_result res = {0};
	char why[TC_PPS_WHY_LEN] = ""; /* set only by tc_pps_check_answer */

	int n = tc_pps_build(&d->request, req, sizeof(req));
	if (n < 0)
		return n;
	uint64_t start = s->tr->now(s->link) + tc_etu_to_clk(TC_FD, TC_DD, TC_T0_TURNAROUND_ETU);
	uint64_t spacing = tc_etu_to_clk(TC_FD, TC_DD, tc_guard_etu(s->N, 0));
	int rc = s->tr->send(s->link, req, (size_t)n, start, spacing);
	if (rc == TC_OK)
		rc = pps_read_answer(s, ans, &alen);
	if (rc == TC_OK)
		rc = tc_pps_check_answer(&d->request, ans, alen, &res, why, sizeof(why));
	if (rc != TC_OK) {
		slot_fail(s, "PPS failed (%s)%s%s", tc_errname(rc), why[0] ? ": " : "", why);
		return rc == TC_E_NO_CARD || rc == TC_E_IO || rc == TC_E_CLOSED ? rc
		                                                                : TC_E_PPS_FAILED;
	}
	if (res.pps1_accepted) {
		s->F = res.Fi;
		s->D = res.Di;
		if (d->clock_khz != s->clock_khz) {
			rc = s->tr->set_clock(s->link, d->clock_khz * 1000u);
			if (rc < 0) {
				slot_fail(
				    s, "PPS done, but the reader cannot give the card %u kHz: %s",
				    d->clock_khz, slot_tr_why(s, rc));
				return rc;
			}
			s->clock_khz = d->clock_khz;
		}
	}
	rc = s->tr->set_params(s->link, s->atr.inverse, s->F, s->D);
	if (rc < 0)
		slot_fail(s,
		          "PPS done, but the reader cannot run F=%u D=%u (%u baud at %u kHz): %s",
		          s->F, s->D, (unsigned)tc_baud(s->clock_khz * 1000u, s->F, s->D),
		          s->clock_khz, slot_tr_why(s, rc));
	return rc;
}

/* A TPDU-level reader: PPS travels as a block (or the reader runs it), then
 * the parameters in force go to the reader (SetParameters and, for USB CCID
 * readers without automatic clock and baud rate, the data rate). */
static int block_pps(struct tc_slot *s, const struct tc_pps_decision *d)
{
	uint8_t req[TC_PPS_MAX_LEN], ans[TC_PPS_MAX_LEN];
	size_t alen = 0;
	struct tc_pps_result res = {0};
	char why[TC_PPS_WHY_LEN] = "";

	int n = tc_pps_build(&d->request, req, sizeof(req));
	if (n < 0)
		return n;
	int rc = s->tr->xfr(s->link, req, (size_t)n, ans, sizeof(ans), &alen);
	if (rc == TC_E_UNSUPPORTED) {
		/* The reader negotiates itself from the parameters we set. */
		s->F = d->Fi;
		s->D = d->Di;
		s->clock_khz = d->clock_khz;
		return TC_OK;
	}
	if (rc == TC_OK)
		rc = tc_pps_check_answer(&d->request, ans, alen, &res, why, sizeof(why));
	if (rc != TC_OK) {
		slot_fail(s, "PPS failed (%s)%s%s", tc_errname(rc), why[0] ? ": " : "", why);
		return rc == TC_E_NO_CARD || rc == TC_E_IO || rc == TC_E_CLOSED ? rc
		                                                                : TC_E_PPS_FAILED;
	}
	if (res.pps1_accepted) {
		s->F = res.Fi;
		s->D = res.Di;
		s->clock_khz = d->clock_khz;
	}
	return TC_OK;
}

static int block_set_t0(struct tc_slot *s)
{
	/* FI names f(max) too: the card's own FI when its Fi is in force,
	 * else FI 1 for Fd (as a card without TA1). */
	int fi = s->atr.ta1_present && s->F == s->atr.Fi ? (int)s->atr.fi_nibble
	         : s->F == TC_FD                         ? 1
	                                                 : tc_fi_nibble(s->F);
	int di = tc_di_nibble(s->D);
	struct tc_t0_settings t = {
	    .inverse = s->atr.inverse,
	    .F = s->F,
	    .D = s->D,
	    .N = s->N,
	    .WI = s->WI,
	    .fi_di = (uint8_t)((fi < 0 ? 1 : fi) << 4 | (di < 0 ? 1 : di)),
	    .clock_hz = s->clock_khz * 1000u,
	    .rate_bps = tc_baud(s->clock_khz * 1000u, s->F, s->D),
	};
	int rc = s->tr->set_t0(s->link, &t);
	if (rc < 0)
		slot_fail(s, "the reader refused the T=0 parameters (%s): %s", tc_errname(rc),
		          slot_tr_why(s, rc));
	return rc;
}

static int block_set_protocol(struct tc_slot *s, const struct tc_pps_decision *d)
{
	int rc = TC_OK;
	if (slot_level(s) != TC_LEVEL_TPDU)
		return TC_OK; /* APDU level: the reader negotiates */
	if (d->send_pps)
		rc = block_pps(s, d);
	if (rc == TC_E_PPS_FAILED) {
		uint8_t atr[TC_ATR_MAX_LEN];
		size_t n;
		rc = tc_slot_power_up(s, true, atr, &n);
		s->F = TC_FD;
		s->D = TC_DD;
	}
	if (rc == TC_OK)
		rc = block_set_t0(s);
	return rc;
}

int tc_slot_set_protocol(struct tc_slot *s, unsigned protocol)
{
	struct tc_pps_decision d;

	if (!s->powered)
		return TC_E_NO_CARD;
	if (protocol != 0 || !(s->atr.protocols & 1u)) {
		slot_fail(s, "only T=0 is supported; the card offers protocol mask 0x%X",
		          s->atr.protocols & 0x7FFFu);
		return TC_E_UNSUPPORTED;
	}
	if (s->protocol_set)
		return TC_OK;
	struct tc_reader_caps caps = s->cfg.caps;
	caps.protocols &= 1u << 0; /* this driver speaks T=0 only */
	int rc = tc_pps_decide(&s->atr, &caps, &d);
	if (rc < 0) {
		slot_fail(s, "no usable parameters: %s", d.why);
		return rc;
	}
	if (slot_level(s) != TC_LEVEL_CHAR) {
		rc = block_set_protocol(s, &d);
		if (rc < 0)
			return rc;
	} else if (d.send_pps) {
		rc = pps_exchange(s, &d);
		if (rc == TC_E_PPS_FAILED) {
			/* ISO/IEC 7816-3: reset and go on with the defaults. */
			uint8_t atr[TC_ATR_MAX_LEN];
			size_t n;
			rc = tc_slot_power_up(s, true, atr, &n);
			s->F = TC_FD;
			s->D = TC_DD;
			(void)s->tr->set_params(s->link, s->atr.inverse, s->F, s->D);
		}
		if (rc < 0)
			return rc;
	}
	s->protocol = 0;
	s->protocol_set = true;
	return slot_t0_setup(s);
}

/* Feed one event from the transport into the engine. */
static int t0_wait(struct tc_slot *s, const struct tc_t0r_action *a)
{
	struct tc_rx rx;
	int rc = s->tr->recv(s->link, a->deadline, &rx);

	if (rc == TC_E_TIMEOUT)
		return tc_t0r_on_timeout(s->t0, a->deadline + 1);
	if (rc < 0)
		return rc;
	if (rx.kind == TC_RX_PEER_ERROR)
		return tc_t0r_on_error_signal(s->t0, rx.index, rx.time);
	s->last_rx_id = rx.id;
	s->xs.t_last = rx.time;
	return tc_t0r_on_char(s->t0, rx.byte, rx.parity_ok, rx.time);
}

/* Run one TPDU to its end. resp receives data + SW1 SW2. */
int slot_run_tpdu(struct tc_slot *s, const uint8_t hdr[5], const uint8_t *data, uint8_t *resp,
                  size_t cap, size_t *resp_len)
{
	int rc = tc_t0r_start(s->t0, hdr, data, s->tr->now(s->link));
	if (rc < 0)
		return rc;
	for (unsigned step = 0; step < T0_MAX_STEPS; step++) {
		struct tc_t0r_action a;
		tc_t0r_next(s->t0, &a);
		switch (a.kind) {
		case TC_T0R_ACT_SEND:
			if (s->xs.t_first == UINT64_MAX)
				s->xs.t_first =
				    a.start > s->tr->now(s->link) ? a.start : s->tr->now(s->link);
			rc = s->tr->send(s->link, a.bytes, a.n, a.start, a.spacing);
			break;
		case TC_T0R_ACT_SIGNAL_ERROR:
			rc = s->tr->signal_error(s->link, s->last_rx_id, a.start);
			break;
		case TC_T0R_ACT_WAIT:
			rc = t0_wait(s, &a);
			break;
		case TC_T0R_ACT_DONE:
			if (a.n + 2 > cap)
				return TC_E_OVERFLOW;
			if (a.n)
				memcpy(resp, a.bytes, a.n);
			resp[a.n] = a.sw1;
			resp[a.n + 1] = a.sw2;
			*resp_len = a.n + 2;
			return TC_OK;
		case TC_T0R_ACT_FAILED:
			slot_fail(s, "T=0: %s", a.reason ? a.reason : tc_strerror(a.err));
			return a.err ? a.err : TC_E_PROTOCOL;
		case TC_T0R_ACT_NONE:
			return TC_E_STATE;
		}
		if (rc < 0 && rc != TC_E_STATE && rc != TC_E_INVAL)
			return rc;
	}
	slot_fail(s, "T=0: more than %u steps in one TPDU", T0_MAX_STEPS);
	return TC_E_LIMIT;
}

static int tpdu_xfer(void *ctx, const uint8_t hdr[5], const uint8_t *data, size_t n_data,
                     uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct tc_slot *s = ctx;
	s->xs.tpdus++;
	if (slot_level(s) == TC_LEVEL_TPDU) {
		uint8_t tpdu[5 + 255];
		if (n_data > 255)
			return TC_E_INVAL;
		memcpy(tpdu, hdr, 5);
		if (n_data)
			memcpy(tpdu + 5, data, n_data);
		int rc = s->tr->xfr(s->link, tpdu, 5 + n_data, resp, cap, resp_len);
		if (rc == TC_OK && *resp_len < 2) {
			slot_fail(s, "the reader answered a TPDU with %zu bytes", *resp_len);
			rc = TC_E_PROTOCOL;
		}
		return rc;
	}
	return slot_run_tpdu(s, hdr, n_data ? data : NULL, resp, cap, resp_len);
}

static void finish_stats(struct tc_slot *s, size_t apdu_len, size_t resp_len)
{
	struct tc_link_stats ls = {0};
	if (s->tr->stats)
		s->tr->stats(s->link, &ls);
	s->xs.apdu_len = apdu_len;
	s->xs.resp_len = resp_len;
	s->xs.F = s->F;
	s->xs.D = s->D;
	s->xs.etu_min = 12.0 * (double)(apdu_len + resp_len);
	if (s->xs.t_first == UINT64_MAX)
		s->xs.t_first = 0;
	s->xs.etu_spent = s->xs.t_last > s->xs.t_first
	                      ? tc_clk_to_etu(s->F, s->D, s->xs.t_last - s->xs.t_first) + 12.0
	                      : 0.0;
	s->xs.chars_to_card = (uint32_t)ls.chars_to_card;
	s->xs.chars_from_card = (uint32_t)ls.chars_from_card;
}

/* An APDU-level reader takes the whole APDU; a short-APDU reader no
 * extended one. */
static int apdu_block(struct tc_slot *s, enum tc_level level, const uint8_t *apdu, size_t n,
                      uint8_t *resp, size_t cap, size_t *resp_len, const char **reason)
{
	struct tc_apdu a;
	int rc = tc_apdu_parse(apdu, n, &a, reason);
	if (rc < 0)
		return rc;
	if (level == TC_LEVEL_SHORT_APDU && a.kind >= TC_APDU_CASE_2E) {
		*reason = "the reader takes short APDUs only";
		return TC_E_UNSUPPORTED;
	}
	s->xs.tpdus = 1;
	rc = s->tr->xfr(s->link, apdu, n, resp, cap, resp_len);
	if (rc < 0)
		*reason = slot_tr_why(s, rc); /* xfr cleared the transport's first */
	if (rc == TC_OK && *resp_len < 2) {
		*reason = "the reader answered an APDU without a status word";
		rc = TC_E_PROTOCOL;
	}
	return rc;
}

int tc_slot_transmit(struct tc_slot *s, const uint8_t *apdu, size_t n, uint8_t *resp, size_t cap,
                     size_t *resp_len)
{
	const char *reason = NULL;
	struct tc_apdu_link link = {
	    .xfer = tpdu_xfer,
	    .ctx = s,
	    .flags = s->cfg.raw_tpdu ? TC_APDU_RAW : 0,
	};
	struct tc_link_stats before = {0};

	if (!s->powered)
		return TC_E_NO_CARD;
	if (!s->protocol_set) {
		int rc = tc_slot_set_protocol(s, 0);
		if (rc < 0)
			return rc;
	}
	if (s->tr->stats)
		s->tr->stats(s->link, &before);
	memset(&s->xs, 0, sizeof(s->xs));
	s->xs.t_first = UINT64_MAX; /* set at the first character sent */
	s->err[0] = '\0';
	int rc;
	enum tc_level level = slot_level(s);
	if (level == TC_LEVEL_SHORT_APDU || level == TC_LEVEL_EXTENDED_APDU)
		rc = apdu_block(s, level, apdu, n, resp, cap, resp_len, &reason);
	else
		rc = tc_apdu_transmit(&link, apdu, n, resp, cap, resp_len, &reason);
	finish_stats(s, n, rc == TC_OK ? *resp_len : 0);
	s->xs.chars_to_card -= (uint32_t)before.chars_to_card;
	s->xs.chars_from_card -= (uint32_t)before.chars_from_card;
	if (rc < 0) {
		if (!s->err[0])
			slot_fail(s, "%s", reason ? reason : tc_strerror(rc));
		/* A card that broke T=0 is deactivated; the next use powers it up. */
		if (rc == TC_E_TIMEOUT || rc == TC_E_PARITY || rc == TC_E_PROTOCOL ||
		    rc == TC_E_NO_CARD)
			(void)tc_slot_power_down(s);
	}
	return rc;
}
