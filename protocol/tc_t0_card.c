/* tc_t0_card.c: the card side of T=0 (see tc_t0_card.h for the contract). */
#include "tc_t0_card.h"

#include <stdlib.h>
#include <string.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "tc_timing.h"

#define DEFAULT_ATR_DELAY_CLK 1000u
#define MAX_BUSY_NULLS        600u
#define MAX_SILENT_REJECTS    TC_T0C_DEFAULT_REPEAT

struct burst_char {
	uint8_t byte;
	uint8_t tries;    /* repetitions so far */
	uint8_t bad_left; /* transmissions still to send with a wrong parity bit */
	uint64_t time;
};

struct tc_t0c {
	struct tc_t0c_config cfg;
	const struct tc_t0c_ops *ops;
	void *user;
	tc_t0c_log_fn log;
	void *log_ctx;
	enum tc_t0c_state state;

	/* From the ATR in force. */
	bool inverse;
	unsigned card_fi, card_di; /* TA1 nibbles (1, 1 when absent) */
	unsigned WI;
	uint16_t protocols;
	bool specific;

	unsigned F, D;     /* factors in force (set_fd) */
	uint64_t char_clk; /* 10 etu at F, D in clock cycles: one character */
	uint64_t gap_clk;  /* 12 etu + the configured extra guard: the card's spacing */
	unsigned pend_F, pend_D;
	bool pend_fd; /* PPS answered: new factors from the reader's next character */

	bool has_tx;
	uint64_t last_tx; /* leading edge of the card's latest character */
	uint32_t tx_no, rx_no;
	uint32_t tx_first_no; /* first transmissions only (every-Nth fault) */
	unsigned rx_rejects;  /* consecutive reader characters signalled */

	uint8_t pps[TC_PPS_MAX_LEN];
	size_t npps, pps_need;
	uint8_t hdr[5];
	size_t nhdr;
	uint8_t data[TC_T0C_MAX_DATA];
	size_t ndata, data_need;

	struct burst_char burst[TC_T0C_MAX_BURST];
	unsigned nburst;
	uint32_t burst_no;
	struct tc_t0c_out q[TC_T0C_MAX_BURST + 1];
	unsigned qhead, qlen;
	struct tc_t0c_resp resp; /* scratch for the callback (too big for the stack of fuzzers) */
};

static const char *const state_names[TC_T0C_STATE_COUNT] = {
    [TC_T0C_OFF] = "OFF",       [TC_T0C_RESET] = "RESET",   [TC_T0C_AFTER_ATR] = "AFTER_ATR",
    [TC_T0C_PPS] = "PPS",       [TC_T0C_HEADER] = "HEADER", [TC_T0C_DATA] = "DATA",
    [TC_T0C_SILENT] = "SILENT",
};

const char *tc_t0c_state_name(enum tc_t0c_state s)
{
	if ((unsigned)s >= TC_T0C_STATE_COUNT)
		return "?";
	return state_names[s];
}

static void set_state(struct tc_t0c *c, enum tc_t0c_state s, uint64_t t)
{
	enum tc_t0c_state old = c->state;

	c->state = s;
	if (s == TC_T0C_HEADER)
		c->nhdr = 0;
	if (s == TC_T0C_SILENT || s == TC_T0C_OFF || s == TC_T0C_RESET)
		c->nburst = 0;
	if (c->log && old != s)
		c->log(c->log_ctx, old, s, t);
}

/* The factors in force, and the lengths that every character needs. */
static void set_fd(struct tc_t0c *c, unsigned F, unsigned D)
{
	c->F = F;
	c->D = D;
	c->char_clk = tc_etu_to_clk(F, D, TC_CHAR_ETU);
	c->gap_clk = tc_etu_to_clk(F, D, 12u + (uint64_t)c->cfg.extra_guard_etu);
}

uint64_t tc_t0c_etu_clk(const struct tc_t0c *c, uint64_t etu)
{
	if (etu == TC_CHAR_ETU)
		return c->char_clk;
	return tc_etu_to_clk(c->F, c->D, etu);
}

static bool listed(const uint32_t *list, unsigned n, uint32_t every, uint32_t no)
{
	if (every && no % every == 0)
		return true;
	for (unsigned i = 0; i < n && i < TC_T0C_MAX_FAULT_IDX; i++)
		if (list[i] == no)
			return true;
	return false;
}

static unsigned max_repeat(const struct tc_t0c *c)
{
	return c->cfg.max_repeat ? c->cfg.max_repeat : TC_T0C_DEFAULT_REPEAT;
}

static void push(struct tc_t0c *c, const struct tc_t0c_out *o)
{
	if (c->qlen >= TC_T0C_MAX_BURST + 1)
		return; /* the caller did not drain; the burst limit keeps this unreachable */
	unsigned i = c->qhead + c->qlen;
	if (i >= TC_T0C_MAX_BURST + 1)
		i -= TC_T0C_MAX_BURST + 1;
	c->q[i] = *o;
	c->qlen++;
}

/* Send burst character idx (again when repeat). */
static void transmit(struct tc_t0c *c, unsigned idx, bool repeat)
{
	struct tc_t0c_out o = {.kind = TC_T0C_OUT_CHAR};

	struct burst_char *b = &c->burst[idx];

	c->tx_no++;
	if (!repeat) {
		c->tx_first_no++;
		b->bad_left = 0;
		if (listed(NULL, 0, c->cfg.tx_bad_every, c->tx_first_no))
			b->bad_left = 1;
		if (listed(c->cfg.tx_bad, c->cfg.n_tx_bad, 0, c->tx_first_no))
			b->bad_left = c->cfg.tx_bad_times ? c->cfg.tx_bad_times : 1;
	}
	o.byte = b->byte;
	o.time = b->time;
	o.index = idx;
	o.tx_no = c->tx_no;
	o.burst = c->burst_no;
	o.bad_parity = b->bad_left > 0;
	if (b->bad_left > 0)
		b->bad_left--;
	c->has_tx = true;
	c->last_tx = o.time;
	push(c, &o);
}

static void begin_burst(struct tc_t0c *c)
{
	c->nburst = 0;
	c->burst_no++;
}

/* Append one character no earlier than `earliest`; returns its time. */
static uint64_t emit(struct tc_t0c *c, uint8_t byte, uint64_t earliest)
{
	uint64_t t = earliest;

	if (c->nburst >= TC_T0C_MAX_BURST)
		return t;
	if (c->has_tx) {
		if (t < c->last_tx + c->gap_clk)
			t = c->last_tx + c->gap_clk;
	}
	c->burst[c->nburst].byte = byte;
	c->burst[c->nburst].tries = 0;
	c->burst[c->nburst].time = t;
	transmit(c, c->nburst, false);
	c->nburst++;
	return t;
}

static void parse_atr_params(struct tc_t0c *c)
{
	struct tc_atr a;

	c->inverse = c->cfg.atr_len > 0 && c->cfg.atr[0] == TC_ATR_TS_INVERSE;
	c->card_fi = 1;
	c->card_di = 1;
	c->WI = TC_DEFAULT_WI;
	c->protocols = 1;
	c->specific = false;
	(void)tc_atr_parse(c->cfg.atr, c->cfg.atr_len, &a);
	if (a.ngroups == 0)
		return; /* a deliberately broken ATR: defaults */
	if (a.ta1_present && tc_fi(a.fi_nibble) && tc_di(a.di_nibble)) {
		c->card_fi = a.fi_nibble;
		c->card_di = a.di_nibble;
	}
	if (a.WI)
		c->WI = a.WI;
	c->protocols = a.protocols ? a.protocols : 1;
	c->specific = a.specific_mode;
}

/* --- life cycle ------------------------------------------------------------ */

static bool config_ok(const struct tc_t0c_config *cfg)
{
	return cfg && cfg->atr_len > 0 && cfg->atr_len <= TC_T0C_MAX_ATR &&
	       cfg->pps_alt_len <= sizeof(cfg->pps_alt) && cfg->n_tx_bad <= TC_T0C_MAX_FAULT_IDX &&
	       cfg->n_rx_bad <= TC_T0C_MAX_FAULT_IDX;
}

struct tc_t0c *tc_t0c_new(const struct tc_t0c_config *cfg, const struct tc_t0c_ops *ops, void *user)
{
	if (!config_ok(cfg) || !ops || !ops->command)
		return NULL;
	struct tc_t0c *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->ops = ops;
	c->user = user;
	c->state = TC_T0C_OFF;
	set_fd(c, TC_FD, TC_DD);
	parse_atr_params(c);
	return c;
}

void tc_t0c_free(struct tc_t0c *c)
{
	free(c);
}

int tc_t0c_configure(struct tc_t0c *c, const struct tc_t0c_config *cfg)
{
	if (!c || !config_ok(cfg))
		return TC_E_INVAL;
	c->cfg = *cfg;
	set_fd(c, c->F, c->D); /* the extra guard time may have changed */
	return TC_OK;
}

void tc_t0c_set_log(struct tc_t0c *c, tc_t0c_log_fn fn, void *ctx)
{
	c->log = fn;
	c->log_ctx = ctx;
}

enum tc_t0c_state tc_t0c_state(const struct tc_t0c *c)
{
	return c->state;
}

bool tc_t0c_inverse(const struct tc_t0c *c)
{
	return c->inverse;
}

void tc_t0c_factors(const struct tc_t0c *c, unsigned *F, unsigned *D)
{
	*F = c->F;
	*D = c->D;
}

uint32_t tc_t0c_tx_count(const struct tc_t0c *c)
{
	return c->tx_no;
}

bool tc_t0c_next(struct tc_t0c *c, struct tc_t0c_out *o)
{
	if (c->qlen == 0)
		return false;
	*o = c->q[c->qhead];
	c->qlen--;
	if (c->qlen == 0)
		c->qhead = 0; /* a drained queue starts again at 0: pushing rarely wraps */
	else if (++c->qhead == TC_T0C_MAX_BURST + 1)
		c->qhead = 0;
	return true;
}

static void line_reset(struct tc_t0c *c)
{
	set_fd(c, TC_FD, TC_DD);
	c->pend_fd = false;
	c->has_tx = false;
	c->rx_rejects = 0;
	c->nburst = 0;
}

int tc_t0c_power_on(struct tc_t0c *c, uint64_t t)
{
	line_reset(c);
	c->tx_no = 0;
	c->tx_first_no = 0;
	c->rx_no = 0;
	set_state(c, TC_T0C_RESET, t);
	return TC_OK;
}

int tc_t0c_power_off(struct tc_t0c *c, uint64_t t)
{
	line_reset(c);
	set_state(c, TC_T0C_OFF, t);
	return TC_OK;
}

int tc_t0c_rst(struct tc_t0c *c, bool high, uint64_t t)
{
	if (c->state == TC_T0C_OFF)
		return TC_E_STATE;
	line_reset(c);
	if (!high) {
		set_state(c, TC_T0C_RESET, t);
		return TC_OK;
	}
	if (c->state != TC_T0C_RESET)
		return TC_E_STATE; /* RST was already high */
	parse_atr_params(c);
	if (c->ops->reset)
		c->ops->reset(c->user);
	if (c->cfg.mute) {
		set_state(c, TC_T0C_SILENT, t);
		return TC_OK;
	}
	uint32_t delay = c->cfg.atr_delay_clk ? c->cfg.atr_delay_clk : DEFAULT_ATR_DELAY_CLK;
	begin_burst(c);
	for (size_t i = 0; i < c->cfg.atr_len; i++)
		(void)emit(c, c->cfg.atr[i], t + delay);
	set_state(c, TC_T0C_AFTER_ATR, t);
	return TC_OK;
}

/* --- answers ---------------------------------------------------------------- */

static uint64_t null_interval_clk(const struct tc_t0c *c, uint64_t busy_etu)
{
	uint64_t iv = c->cfg.null_interval_etu;

	if (iv == 0)
		iv = tc_t0_wt_etu(c->WI, c->D) / 2;
	if (iv == 0)
		iv = 1;
	if (busy_etu / iv > MAX_BUSY_NULLS)
		iv = busy_etu / MAX_BUSY_NULLS + 1;
	return tc_t0c_etu_clk(c, iv);
}

/* NULL storm and working time before an answer. Returns the earliest time of
 * the first real procedure byte. */
static uint64_t work(struct tc_t0c *c, uint64_t start, uint64_t busy_etu)
{
	uint32_t storm = c->cfg.null_storm;

	if (storm > TC_T0C_MAX_NULL_STORM)
		storm = TC_T0C_MAX_NULL_STORM;
	for (uint32_t i = 0; i < storm; i++)
		(void)emit(c, TC_T0C_NULL, start);
	if (busy_etu == 0)
		return start;
	uint64_t end = start + tc_t0c_etu_clk(c, busy_etu);
	uint64_t iv = null_interval_clk(c, busy_etu);
	for (uint64_t t = start + iv; t < end; t += iv)
		(void)emit(c, TC_T0C_NULL, t);
	return end;
}

static uint8_t first_proc(const struct tc_t0c *c, uint8_t normal)
{
	return c->cfg.wrong_proc ? c->cfg.wrong_proc_byte : normal;
}

static void send_sw(struct tc_t0c *c, uint64_t t, uint8_t sw1, uint8_t sw2, bool first)
{
	t = emit(c, first ? first_proc(c, sw1) : sw1, t);
	(void)emit(c, sw2, t);
}

/* Answer with resp at `start` (reader's last leading edge + turnaround).
 * with_data: a case 2 answer is possible (header phase). */
static void answer(struct tc_t0c *c, uint64_t start, const struct tc_t0c_resp *r, bool with_data)
{
	uint8_t ins = c->hdr[1];
	uint64_t t;

	begin_burst(c);
	t = work(c, start, (uint64_t)c->cfg.proc_etu + r->busy_etu);
	set_state(c, TC_T0C_HEADER, t);
	if (!with_data || r->len == 0 || r->len > TC_T0C_MAX_DATA) {
		send_sw(c, t, r->sw1, r->sw2, true);
		return;
	}
	size_t le = c->hdr[4] ? c->hdr[4] : 256u;
	if (r->len != le) {
		send_sw(c, t, 0x6C, (uint8_t)r->len, true);
		return;
	}
	if (!c->cfg.one_by_one)
		t = emit(c, first_proc(c, ins), t);
	for (size_t i = 0; i < r->len; i++) {
		if (c->cfg.one_by_one)
			t = emit(c, i == 0 ? first_proc(c, (uint8_t)~ins) : (uint8_t)~ins, t);
		t = emit(c, r->data[i], t);
	}
	send_sw(c, t, r->sw1, r->sw2, false);
}

static uint64_t turnaround(const struct tc_t0c *c, uint64_t rx_t)
{
	return rx_t + tc_t0c_etu_clk(c, TC_T0C_TURNAROUND_ETU);
}

static void call_with_data(struct tc_t0c *c, uint64_t t)
{
	memset(&c->resp, 0, sizeof(c->resp));
	(void)c->ops->command(c->user, c->hdr, c->data, c->ndata, &c->resp);
	answer(c, turnaround(c, t), &c->resp, false);
}

static void on_header(struct tc_t0c *c, uint64_t t)
{
	uint8_t ins = c->hdr[1];

	memset(&c->resp, 0, sizeof(c->resp));
	if ((ins & 0xF0) == 0x60 || (ins & 0xF0) == 0x90) {
		c->resp.sw1 = 0x6D;
		answer(c, turnaround(c, t), &c->resp, false);
		return;
	}
	enum tc_t0c_verdict v = c->ops->command(c->user, c->hdr, NULL, 0, &c->resp);
	if (v != TC_T0C_WANT_DATA) {
		answer(c, turnaround(c, t), &c->resp, true);
		return;
	}
	c->ndata = 0;
	c->data_need = c->hdr[4];
	if (c->data_need == 0) {
		call_with_data(c, t);
		return;
	}
	begin_burst(c);
	uint64_t at = work(c, turnaround(c, t), c->cfg.proc_etu);
	(void)emit(c, first_proc(c, c->cfg.one_by_one ? (uint8_t)~ins : ins), at);
	set_state(c, TC_T0C_DATA, t);
}

static void on_data(struct tc_t0c *c, uint8_t b, uint64_t t)
{
	c->data[c->ndata++] = b;
	if (c->ndata >= c->data_need) {
		call_with_data(c, t);
		return;
	}
	if (c->cfg.one_by_one) {
		begin_burst(c);
		(void)emit(c, (uint8_t)~c->hdr[1], turnaround(c, t));
	}
}

/* --- PPS -------------------------------------------------------------------- */

static bool pps_honourable(const struct tc_t0c *c, const struct tc_pps *p)
{
	if (c->specific || p->protocol != 0 || !(c->protocols & 1u))
		return false; /* this engine speaks T=0 only */
	if (!p->has_pps1)
		return true;
	unsigned fi = p->pps1 >> 4, di = p->pps1 & 0x0F;
	if (fi != c->card_fi && tc_fi(fi) != TC_FD)
		return false;
	return tc_di(di) != 0 && tc_di(di) <= tc_di(c->card_di);
}

/* Build the answer for an honourable request; returns its length. */
static size_t pps_answer(struct tc_t0c *c, const struct tc_pps *p, uint8_t *ans)
{
	struct tc_pps echo = *p;
	int n;

	switch (c->cfg.pps_mode) {
	case TC_T0C_PPS_NO_PPS1:
		echo.has_pps1 = false;
		break;
	case TC_T0C_PPS_WRONG:
		echo.protocol ^= 1u;
		break;
	case TC_T0C_PPS_ALT:
		memcpy(ans, c->cfg.pps_alt, c->cfg.pps_alt_len);
		return c->cfg.pps_alt_len;
	case TC_T0C_PPS_ACCEPT:
	case TC_T0C_PPS_REFUSE:
		break;
	}
	n = tc_pps_build(&echo, ans, TC_PPS_MAX_LEN);
	return n > 0 ? (size_t)n : 0;
}

static void pps_apply(struct tc_t0c *c, const uint8_t *ans, size_t n)
{
	struct tc_pps got;

	if (tc_pps_parse(ans, n, &got, NULL, 0) != TC_OK || got.protocol != 0 || !got.has_pps1)
		return;
	unsigned F = tc_fi(got.pps1 >> 4), D = tc_di(got.pps1 & 0x0F);
	if (F && D) {
		c->pend_F = F;
		c->pend_D = D;
		c->pend_fd = true;
	}
}

static void on_pps_complete(struct tc_t0c *c, uint64_t t)
{
	struct tc_pps req;
	uint8_t ans[TC_PPS_MAX_LEN];

	set_state(c, TC_T0C_HEADER, t);
	if (c->cfg.pps_mode == TC_T0C_PPS_REFUSE)
		return;
	if (tc_pps_parse_request(c->pps, c->npps, &req, NULL, 0) != TC_OK)
		return;
	if (c->cfg.pps_mode != TC_T0C_PPS_ALT && !pps_honourable(c, &req))
		return;
	size_t n = pps_answer(c, &req, ans);
	begin_burst(c);
	uint64_t at = turnaround(c, t);
	for (size_t i = 0; i < n; i++)
		at = emit(c, ans[i], at);
	pps_apply(c, ans, n);
}

static void on_pps_byte(struct tc_t0c *c, uint8_t b, uint64_t t)
{
	c->pps[c->npps++] = b;
	if (c->npps == 2) {
		unsigned opt = ((b >> 4) & 1u) + ((b >> 5) & 1u) + ((b >> 6) & 1u);
		c->pps_need = 3 + opt;
	}
	if (c->npps >= c->pps_need || c->npps >= TC_PPS_MAX_LEN)
		on_pps_complete(c, t);
}

/* --- reception -------------------------------------------------------------- */

static void signal_error(struct tc_t0c *c, uint64_t t)
{
	struct tc_t0c_out o = {.kind = TC_T0C_OUT_SIGNAL};

	o.time = t + tc_half_etu_to_clk(c->F, c->D, TC_ERR_SIGNAL_HALF_ETU);
	push(c, &o);
	if (++c->rx_rejects > MAX_SILENT_REJECTS)
		set_state(c, TC_T0C_SILENT, t);
}

static void on_header_byte(struct tc_t0c *c, uint8_t byte, uint64_t t)
{
	c->hdr[c->nhdr++] = byte;
	if (c->nhdr == 5)
		on_header(c, t);
}

static bool receiving(enum tc_t0c_state s)
{
	return s == TC_T0C_AFTER_ATR || s == TC_T0C_PPS || s == TC_T0C_HEADER || s == TC_T0C_DATA;
}

int tc_t0c_on_char(struct tc_t0c *c, uint8_t byte, bool parity_ok, uint64_t t)
{
	if (!receiving(c->state))
		return TC_E_STATE;
	c->rx_no++;
	if (c->pend_fd) {
		set_fd(c, c->pend_F, c->pend_D);
		c->pend_fd = false;
	}
	if (!parity_ok || listed(c->cfg.rx_bad, c->cfg.n_rx_bad, c->cfg.rx_bad_every, c->rx_no)) {
		signal_error(c, t);
		return TC_OK;
	}
	c->rx_rejects = 0;
	switch (c->state) {
	case TC_T0C_AFTER_ATR:
		if (byte == TC_PPS_PPSS) {
			c->npps = 0;
			c->pps_need = 2;
			set_state(c, TC_T0C_PPS, t);
			on_pps_byte(c, byte, t);
			return TC_OK;
		}
		set_state(c, TC_T0C_HEADER, t);
		on_header_byte(c, byte, t); /* the byte is CLA */
		return TC_OK;
	case TC_T0C_HEADER:
		on_header_byte(c, byte, t);
		return TC_OK;
	case TC_T0C_PPS:
		on_pps_byte(c, byte, t);
		return TC_OK;
	case TC_T0C_DATA:
		on_data(c, byte, t);
		return TC_OK;
	case TC_T0C_OFF:
	case TC_T0C_RESET:
	case TC_T0C_SILENT:
	case TC_T0C_STATE_COUNT:
		break;
	}
	return TC_E_STATE;
}

int tc_t0c_on_error(struct tc_t0c *c, unsigned index, uint64_t t)
{
	if (!receiving(c->state) || index >= c->nburst)
		return TC_E_STATE;
	struct burst_char *b = &c->burst[index];
	if (b->tries >= max_repeat(c)) {
		set_state(c, TC_T0C_SILENT, t);
		return TC_E_PARITY;
	}
	b->tries++;
	uint64_t at = b->time + tc_t0c_etu_clk(c, TC_REPEAT_MIN_ETU);
	uint64_t after_sig = t + tc_t0c_etu_clk(c, 2);
	if (at < after_sig)
		at = after_sig;
	uint64_t delta = at - b->time;
	for (unsigned i = index; i < c->nburst; i++) {
		c->burst[i].time += delta;
		transmit(c, i, true);
	}
	return TC_OK;
}
