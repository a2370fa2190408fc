/* tc_t0_reader.c: the reader side of T=0, one TPDU at a time (see tc_t0.h). */
#include "tc_t0.h"

#include <stdlib.h>
#include <string.h>

#include "tc_error.h"
#include "tc_timing.h"

#define SW_LEN 2u

/* Which buffer the last SEND came from. */
enum tx_src { TX_SRC_HEADER, TX_SRC_DATA };

struct tc_t0r {
	struct tc_t0r_params p;
	uint64_t guard_clk;  /* 12 + N etu */
	uint64_t wt_clk;     /* WT */
	uint64_t turn_clk;   /* received -> sent */
	uint64_t repeat_clk; /* character in error -> its repetition */
	uint64_t char_clk;   /* 10 etu */
	uint64_t rx_gap_clk; /* 12 etu, for min_clk */

	enum tc_t0r_state state;
	tc_t0r_log_fn log;
	void *log_ctx;

	uint8_t hdr[TC_T0_HEADER_LEN];
	uint8_t out[TC_T0_MAX_DATA]; /* command data */
	size_t n_out;                /* command data length; 0 for an incoming TPDU */
	size_t n_in_max;             /* incoming: Le (1..256); 0 when outgoing */
	size_t pos;                  /* data bytes sent (outgoing), committed */
	size_t chunk_end;            /* end of the current ACK's data transfer */
	uint8_t in[TC_T0_MAX_DATA];  /* response data */
	size_t n_in;
	uint8_t sw1, sw2;

	/* The last SEND and the pending one. */
	enum tx_src tx_src;
	size_t tx_off;   /* first byte of the pending/last SEND in its buffer */
	size_t tx_end;   /* one past its last byte */
	uint64_t tx_at;  /* earliest start of the pending SEND */
	bool can_signal; /* last SEND still open to an error signal */
	enum tx_src err_src;
	size_t err_pos;   /* character that got the last error signal */
	unsigned tx_errs; /* error signals on err_pos so far */
	unsigned rx_errs; /* parity errors in a row on the card's character */

	bool have_edge; /* line history known */
	bool last_rx;   /* the last character on the line came from the card */
	uint64_t last_edge;

	bool sig_pending;
	uint64_t sig_at;

	int err;
	const char *reason;
	struct tc_t0r_stats st;
};

static const char *const state_names[TC_T0R_STATE_COUNT] = {
    [TC_T0R_IDLE] = "IDLE",           [TC_T0R_TX_HEADER] = "TX_HEADER",
    [TC_T0R_WAIT_PROC] = "WAIT_PROC", [TC_T0R_TX_DATA] = "TX_DATA",
    [TC_T0R_RX_DATA] = "RX_DATA",     [TC_T0R_WAIT_SW2] = "WAIT_SW2",
    [TC_T0R_DONE] = "DONE",           [TC_T0R_FAILED] = "FAILED",
};

static const char *const action_names[] = {
    [TC_T0R_ACT_NONE] = "NONE",
    [TC_T0R_ACT_SEND] = "SEND",
    [TC_T0R_ACT_SIGNAL_ERROR] = "SIGNAL_ERROR",
    [TC_T0R_ACT_WAIT] = "WAIT",
    [TC_T0R_ACT_DONE] = "DONE",
    [TC_T0R_ACT_FAILED] = "FAILED",
};

const char *tc_t0r_state_name(enum tc_t0r_state s)
{
	if ((unsigned)s >= TC_T0R_STATE_COUNT)
		return "?";
	return state_names[s];
}

const char *tc_t0r_action_name(enum tc_t0r_action_kind k)
{
	if ((unsigned)k > TC_T0R_ACT_FAILED)
		return "?";
	return action_names[k];
}

static void set_state(struct tc_t0r *e, enum tc_t0r_state to, const char *why)
{
	enum tc_t0r_state from = e->state;
	e->state = to;
	if (e->log)
		e->log(e->log_ctx, from, to, why);
}

static void fail(struct tc_t0r *e, int err, const char *reason, uint64_t t)
{
	e->err = err;
	e->reason = reason;
	e->st.t_end = t;
	e->sig_pending = false;
	set_state(e, TC_T0R_FAILED, reason);
}

static bool is_waiting(enum tc_t0r_state s)
{
	return s == TC_T0R_WAIT_PROC || s == TC_T0R_RX_DATA || s == TC_T0R_WAIT_SW2;
}

static bool is_running(enum tc_t0r_state s)
{
	return s != TC_T0R_IDLE && s != TC_T0R_DONE && s != TC_T0R_FAILED;
}

uint64_t tc_t0r_etu_clk(const struct tc_t0r *e, uint64_t etu)
{
	return tc_etu_to_clk(e->p.F, e->p.D, etu);
}

uint64_t tc_t0r_wt_clk(const struct tc_t0r *e)
{
	return e->wt_clk;
}

uint64_t tc_t0r_guard_clk(const struct tc_t0r *e)
{
	return e->guard_clk;
}

struct tc_t0r *tc_t0r_new(const struct tc_t0r_params *p)
{
	struct tc_t0r_params q = {0};
	if (p)
		q = *p;
	if (q.F == 0)
		q.F = TC_FD;
	if (q.D == 0)
		q.D = TC_DD;
	if (q.max_repeats == 0)
		q.max_repeats = TC_T0_DEFAULT_REPEATS;
	if (q.N > 255 || q.F > 100000 || q.D > 1000 || q.WI > 255)
		return NULL;
	struct tc_t0r *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->p = q;
	unsigned guard = tc_guard_etu(q.N, 0);
	unsigned turn = tc_needs_turnaround(q.D) ? TC_D64_TURNAROUND_ETU : TC_T0_TURNAROUND_ETU;
	unsigned rep = guard > TC_REPEAT_MIN_ETU ? guard : TC_REPEAT_MIN_ETU;
	e->guard_clk = tc_etu_to_clk(q.F, q.D, guard);
	e->wt_clk = tc_etu_to_clk(q.F, q.D, tc_t0_wt_etu(q.WI, q.D));
	e->turn_clk = tc_etu_to_clk(q.F, q.D, turn);
	e->repeat_clk = tc_etu_to_clk(q.F, q.D, rep);
	e->char_clk = tc_etu_to_clk(q.F, q.D, TC_CHAR_ETU);
	e->rx_gap_clk = tc_etu_to_clk(q.F, q.D, TC_T0_TURNAROUND_ETU);
	e->state = TC_T0R_IDLE;
	return e;
}

void tc_t0r_free(struct tc_t0r *e)
{
	free(e);
}

void tc_t0r_set_log(struct tc_t0r *e, tc_t0r_log_fn fn, void *ctx)
{
	e->log = fn;
	e->log_ctx = ctx;
}

void tc_t0r_reset_line(struct tc_t0r *e)
{
	e->have_edge = false;
}

enum tc_t0r_state tc_t0r_state(const struct tc_t0r *e)
{
	return e->state;
}

void tc_t0r_get_stats(const struct tc_t0r *e, struct tc_t0r_stats *st)
{
	*st = e->st;
}

/* Earliest start of the next character sent by the reader. */
static uint64_t next_tx_time(const struct tc_t0r *e, uint64_t now)
{
	if (!e->have_edge)
		return now;
	uint64_t t = e->last_edge + (e->last_rx ? e->turn_clk : e->guard_clk);
	return t > now ? t : now;
}

/* Shortest duration of this TPDU (see struct tc_t0r_stats). */
static uint64_t min_duration(const struct tc_t0r *e)
{
	uint64_t t = (TC_T0_HEADER_LEN - 1) * e->guard_clk + e->char_clk;
	if (e->n_out == 0) /* (ACK, data,) SW1, SW2 at 12 etu each */
		return t + (SW_LEN + (e->n_in ? 1u : 0u) + e->n_in) * e->rx_gap_clk;
	/* ACK, turnaround, command data at the guard time, SW1 SW2 */
	return t + e->rx_gap_clk + e->turn_clk + (e->n_out - 1) * e->guard_clk +
	       SW_LEN * e->rx_gap_clk;
}

int tc_t0r_start(struct tc_t0r *e, const uint8_t header[5], const uint8_t *data, uint64_t now)
{
	if (!e || !header)
		return TC_E_INVAL;
	if (is_running(e->state))
		return TC_E_STATE;
	if (data && header[4] == 0)
		return TC_E_INVAL;
	memcpy(e->hdr, header, TC_T0_HEADER_LEN);
	e->n_out = data ? header[4] : 0;
	if (data)
		memcpy(e->out, data, e->n_out);
	e->n_in_max = data ? 0 : (header[4] ? header[4] : TC_T0_MAX_DATA);
	e->pos = 0;
	e->chunk_end = 0;
	e->n_in = 0;
	e->sw1 = e->sw2 = 0;
	e->tx_src = TX_SRC_HEADER;
	e->tx_off = 0;
	e->tx_end = TC_T0_HEADER_LEN;
	e->tx_at = next_tx_time(e, now);
	e->can_signal = false;
	e->tx_errs = 0;
	e->rx_errs = 0;
	e->sig_pending = false;
	e->err = TC_OK;
	e->reason = NULL;
	memset(&e->st, 0, sizeof(e->st));
	e->st.t_first = e->tx_at;
	uint8_t hi = header[1] & 0xF0u;
	if (hi == 0x60u || hi == 0x90u) {
		fail(e, TC_E_PROTOCOL, "INS 6X and 9X are invalid in T=0", e->tx_at);
		return TC_E_PROTOCOL;
	}
	set_state(e, TC_T0R_TX_HEADER, "start");
	return TC_OK;
}

/* A procedure byte in WAIT_PROC. */
static void on_procedure(struct tc_t0r *e, uint8_t b, uint64_t t)
{
	unsigned ins = e->hdr[1];
	unsigned ack1 = ins ^ 0xFFu;
	uint8_t hi = b & 0xF0u;
	if (b == 0x60u) {
		e->st.nulls++;
		if (e->p.max_nulls && e->st.nulls > e->p.max_nulls)
			fail(e, TC_E_LIMIT, "too many NULL procedure bytes", t);
		return;
	}
	if (hi == 0x60u || hi == 0x90u) {
		e->sw1 = b;
		set_state(e, TC_T0R_WAIT_SW2, "SW1");
		return;
	}
	if (b != ins && b != ack1) {
		fail(e, TC_E_PROTOCOL, "unexpected procedure byte", t);
		return;
	}
	bool all = b == ins;
	if (e->n_out) {
		if (e->pos >= e->n_out) {
			fail(e, TC_E_PROTOCOL, "ACK with no command data left", t);
			return;
		}
		e->chunk_end = all ? e->n_out : e->pos + 1;
		e->tx_src = TX_SRC_DATA;
		e->tx_off = e->pos;
		e->tx_end = e->chunk_end;
		e->tx_at = next_tx_time(e, t);
		set_state(e, TC_T0R_TX_DATA, all ? "ACK INS" : "ACK INS^FF");
		return;
	}
	if (e->n_in >= e->n_in_max) {
		fail(e, TC_E_PROTOCOL, "ACK with more data than announced", t);
		return;
	}
	e->chunk_end = all ? e->n_in_max : e->n_in + 1;
	set_state(e, TC_T0R_RX_DATA, all ? "ACK INS" : "ACK INS^FF");
}

static void on_good_char(struct tc_t0r *e, uint8_t b, uint64_t t)
{
	switch (e->state) {
	case TC_T0R_WAIT_PROC:
		on_procedure(e, b, t);
		break;
	case TC_T0R_RX_DATA:
		e->in[e->n_in++] = b;
		if (e->n_in >= e->chunk_end)
			set_state(e, TC_T0R_WAIT_PROC, "data received");
		break;
	case TC_T0R_WAIT_SW2:
		e->sw2 = b;
		e->st.t_end = t + e->char_clk;
		e->st.min_clk = min_duration(e);
		set_state(e, TC_T0R_DONE, "SW2");
		break;
	case TC_T0R_IDLE:
	case TC_T0R_TX_HEADER:
	case TC_T0R_TX_DATA:
	case TC_T0R_DONE:
	case TC_T0R_FAILED:
	case TC_T0R_STATE_COUNT:
		break;
	}
}

int tc_t0r_on_char(struct tc_t0r *e, uint8_t byte, bool parity_ok, uint64_t t)
{
	if (!e)
		return TC_E_INVAL;
	if (!is_waiting(e->state))
		return TC_E_STATE;
	if (e->have_edge && t < e->last_edge)
		return TC_E_INVAL;
	if (e->have_edge && t - e->last_edge > e->wt_clk) {
		fail(e, TC_E_TIMEOUT, "character from the card later than WT",
		     e->last_edge + e->wt_clk + 1);
		return TC_OK;
	}
	e->have_edge = true;
	e->last_rx = true;
	e->last_edge = t;
	e->can_signal = false;
	e->st.rx_chars++;
	if (!parity_ok) {
		e->st.rx_repeats++;
		if (++e->rx_errs > e->p.max_repeats) {
			fail(e, TC_E_PARITY, "card character still wrong after the repetitions",
			     t + e->char_clk);
			return TC_OK;
		}
		e->sig_pending = true;
		e->sig_at = t + tc_half_etu_to_clk(e->p.F, e->p.D, TC_ERR_SIGNAL_HALF_ETU);
		return TC_OK;
	}
	e->rx_errs = 0;
	on_good_char(e, byte, t);
	return TC_OK;
}

int tc_t0r_on_error_signal(struct tc_t0r *e, size_t index, uint64_t t)
{
	if (!e)
		return TC_E_INVAL;
	if (!e->can_signal || e->state != TC_T0R_WAIT_PROC)
		return TC_E_STATE;
	if (index >= e->tx_end - e->tx_off || t < e->tx_at + index * e->guard_clk)
		return TC_E_INVAL;
	size_t p = e->tx_off + index;
	if (e->tx_errs && e->err_src == e->tx_src && e->err_pos == p) {
		e->tx_errs++;
	} else {
		e->err_src = e->tx_src;
		e->err_pos = p;
		e->tx_errs = 1;
	}
	e->can_signal = false;
	/* Characters after the one in error were never sent. */
	e->st.tx_chars -= (uint32_t)(e->tx_end - p - 1);
	e->last_edge = t;
	if (e->tx_errs > e->p.max_repeats) {
		fail(e, TC_E_PARITY, "reader character refused after the repetitions",
		     t + e->repeat_clk);
		return TC_OK;
	}
	e->st.tx_repeats++;
	e->tx_off = p;
	e->tx_at = t + e->repeat_clk;
	if (e->tx_src == TX_SRC_DATA)
		e->pos = p;
	set_state(e, e->tx_src == TX_SRC_HEADER ? TC_T0R_TX_HEADER : TC_T0R_TX_DATA,
	          "error signal");
	return TC_OK;
}

int tc_t0r_on_timeout(struct tc_t0r *e, uint64_t now)
{
	if (!e)
		return TC_E_INVAL;
	if (!is_waiting(e->state))
		return TC_E_STATE;
	if (now <= e->last_edge + e->wt_clk)
		return TC_OK;
	fail(e, TC_E_TIMEOUT, "no character from the card within WT", now);
	return TC_OK;
}

static void emit_send(struct tc_t0r *e, struct tc_t0r_action *a)
{
	const uint8_t *buf = e->tx_src == TX_SRC_HEADER ? e->hdr : e->out;
	size_t n = e->tx_end - e->tx_off;
	a->kind = TC_T0R_ACT_SEND;
	a->bytes = buf + e->tx_off;
	a->n = n;
	a->start = e->tx_at;
	a->spacing = e->guard_clk;
	e->have_edge = true;
	e->last_rx = false;
	e->last_edge = e->tx_at + (n - 1) * e->guard_clk;
	e->can_signal = true;
	e->st.tx_chars += (uint32_t)n;
	if (e->tx_src == TX_SRC_DATA)
		e->pos = e->tx_end;
	set_state(e, TC_T0R_WAIT_PROC, e->tx_src == TX_SRC_HEADER ? "header sent" : "data sent");
}

void tc_t0r_next(struct tc_t0r *e, struct tc_t0r_action *a)
{
	memset(a, 0, sizeof(*a));
	if (e->sig_pending) {
		e->sig_pending = false;
		a->kind = TC_T0R_ACT_SIGNAL_ERROR;
		a->start = e->sig_at;
		a->duration = tc_half_etu_to_clk(e->p.F, e->p.D, TC_T0_ERR_SIGNAL_HALF);
		return;
	}
	switch (e->state) {
	case TC_T0R_TX_HEADER:
	case TC_T0R_TX_DATA:
		emit_send(e, a);
		break;
	case TC_T0R_WAIT_PROC:
	case TC_T0R_RX_DATA:
	case TC_T0R_WAIT_SW2:
		a->kind = TC_T0R_ACT_WAIT;
		a->deadline = e->last_edge + e->wt_clk;
		break;
	case TC_T0R_DONE:
		a->kind = TC_T0R_ACT_DONE;
		a->bytes = e->in;
		a->n = e->n_in;
		a->sw1 = e->sw1;
		a->sw2 = e->sw2;
		break;
	case TC_T0R_FAILED:
		a->kind = TC_T0R_ACT_FAILED;
		a->err = e->err;
		a->reason = e->reason;
		break;
	case TC_T0R_IDLE:
	case TC_T0R_STATE_COUNT:
		a->kind = TC_T0R_ACT_NONE;
		break;
	}
}
