/* scenario.c: load and run wire scenarios (docs/scenario-format.md). */
#include "scenario_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_apdu.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_t0.h"
#include "tc_timing.h"

/* ---- running: the engine against the scripted card --------------------- */

static void log_cb(void *ctx, enum tc_t0r_state from, enum tc_t0r_state to, const char *why)
{
	struct scenario_result *res = ctx;
	char line[160];
	int n = snprintf(line, sizeof(line), "%s -> %s (%s)\n", tc_t0r_state_name(from),
	                 tc_t0r_state_name(to), why ? why : "");
	if (n < 0)
		return;
	if (res->log_len + (size_t)n >= sizeof(res->log)) {
		res->log_truncated = true;
		return;
	}
	memcpy(res->log + res->log_len, line, (size_t)n + 1);
	res->log_len += (size_t)n;
}

/* A signal-error item before the card's next answer, not yet used. */
static struct item *pending_sigerr(struct runner *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		struct item *it = &r->items[i];
		if (it->consumed || it->kind == IT_READER)
			continue;
		return it->kind == IT_SIGERR ? it : NULL;
	}
	return NULL;
}

static int wire_push(struct runner *r, uint8_t b, uint64_t t)
{
	if (r->wire_n >= SC_MAX_WIRE)
		return -1;
	r->wire_b[r->wire_n] = b;
	r->wire[r->wire_n].t = t;
	r->wire[r->wire_n].prev = r->edge;
	r->wire_n++;
	r->edge = t;
	return 0;
}

static void do_send(struct runner *r, const struct tc_t0r_action *a, int line)
{
	struct item *sig = pending_sigerr(r);
	size_t n = a->n;
	if (sig) {
		if (sig->index >= a->n) {
			sc_fail(r, sig->line,
			        "signal-error %zu: the reader sent only %zu characters", sig->index,
			        a->n);
			return;
		}
		n = sig->index + 1;
	}
	if (!r->t_begin_set) {
		r->t_begin = a->start;
		r->t_begin_set = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (wire_push(r, a->bytes[i], a->start + i * a->spacing) != 0) {
			sc_fail(r, line, "too many reader characters");
			return;
		}
	}
	if (sig) {
		sig->consumed = true;
		int rc = tc_t0r_on_error_signal(r->e, sig->index, r->edge);
		if (rc != TC_OK)
			sc_fail(r, sig->line, "on_error_signal: %s", tc_errname(rc));
	}
}

enum step { STEP_MORE, STEP_WAIT, STEP_END };

static enum step step(struct runner *r, int line)
{
	struct tc_t0r_action a;
	tc_t0r_next(r->e, &a);
	switch (a.kind) {
	case TC_T0R_ACT_SEND:
		do_send(r, &a, line);
		return r->failed ? STEP_END : STEP_MORE;
	case TC_T0R_ACT_SIGNAL_ERROR: {
		uint64_t want = r->edge + r->half_etu21;
		if (a.start != want)
			sc_fail(r, line,
			        "error signal at %" PRIu64 ", expected 10.5 etu after %" PRIu64,
			        a.start, r->edge);
		return STEP_MORE;
	}
	case TC_T0R_ACT_WAIT:
		r->wait_deadline = a.deadline;
		return STEP_WAIT;
	case TC_T0R_ACT_NONE:
	case TC_T0R_ACT_DONE:
	case TC_T0R_ACT_FAILED:
		break;
	}
	return STEP_END;
}

static enum step drain(struct runner *r, int line)
{
	for (unsigned i = 0; i < SC_MAX_STEPS; i++) {
		enum step s = step(r, line);
		if (s != STEP_MORE || r->failed)
			return r->failed ? STEP_END : s;
	}
	sc_fail(r, line, "engine does not settle");
	return STEP_END;
}

static void check_reader(struct runner *r, struct item *it)
{
	while (!r->failed && r->wire_n - r->wire_checked < it->n) {
		if (step(r, it->line) != STEP_MORE && !r->failed)
			sc_fail(r, it->line,
			        "reader sent %zu of %zu expected characters (state %s)",
			        r->wire_n - r->wire_checked, it->n,
			        tc_t0r_state_name(tc_t0r_state(r->e)));
	}
	uint64_t d = 0, every = 0;
	if (r->failed || (it->has_delay && sc_eval_delay(r, &it->delay, &d) != 0) ||
	    (it->has_every && sc_eval_delay(r, &it->every, &every) != 0)) {
		sc_fail(r, it->line, "bad timing expression");
		return;
	}
	for (size_t i = 0; i < it->n; i++) {
		size_t k = r->wire_checked + i;
		const struct wire_char *w = &r->wire[k];
		if (r->wire_b[k] != it->bytes[i]) {
			sc_fail(r, it->line, "reader byte %zu is %02X, expected %02X", i,
			        r->wire_b[k], it->bytes[i]);
			return;
		}
		if (i == 0 && it->has_delay && w->t - w->prev != d) {
			sc_fail(r, it->line,
			        "first character %" PRIu64
			        " clk after the previous, expected %" PRIu64,
			        w->t - w->prev, d);
			return;
		}
		if (i > 0 && it->has_every && w->t - w[-1].t != every) {
			sc_fail(r, it->line,
			        "character %zu %" PRIu64
			        " clk after the previous, expected %" PRIu64,
			        i, w->t - w[-1].t, every);
			return;
		}
	}
	r->wire_checked += it->n;
	r->res->checks++;
}

/* One card character; false when the line ends here (timeout, end). */
static bool card_char(struct runner *r, const struct item *it, uint8_t b, uint64_t t)
{
	if (t > r->wait_deadline) {
		(void)tc_t0r_on_timeout(r->e, r->wait_deadline + 1);
		return false;
	}
	int rc = tc_t0r_on_char(r->e, b, !it->parity_error, t);
	if (rc != TC_OK) {
		sc_fail(r, it->line, "on_char: %s", tc_errname(rc));
		return false;
	}
	r->edge = t;
	return true;
}

static void play_card(struct runner *r, struct item *it)
{
	uint64_t d, gap = tc_t0r_etu_clk(r->e, SC_CARD_GAP);
	if (sc_eval_delay(r, &it->delay, &d) != 0 ||
	    (it->has_every && sc_eval_delay(r, &it->every, &gap) != 0)) {
		sc_fail(r, it->line, "bad timing expression");
		return;
	}
	for (size_t i = 0; i < it->n && !r->failed; i++) {
		enum step s = drain(r, it->line);
		if (s != STEP_WAIT) {
			if (!r->failed && tc_t0r_state(r->e) == TC_T0R_DONE)
				sc_fail(r, it->line, "card byte %zu after the end of the TPDU", i);
			return;
		}
		if (!card_char(r, it, it->bytes[i], r->edge + (i ? gap : d)))
			return;
	}
}

static void play_mute(struct runner *r, struct item *it)
{
	if (drain(r, it->line) != STEP_WAIT) {
		sc_fail(r, it->line, "card mute, but the reader is not waiting");
		return;
	}
	uint64_t dl = r->wait_deadline;
	if (tc_t0r_on_timeout(r->e, dl) != TC_OK || tc_t0r_state(r->e) == TC_T0R_FAILED) {
		sc_fail(r, it->line, "reader gave up at the deadline, before WT had passed");
		return;
	}
	(void)tc_t0r_on_timeout(r->e, dl + 1);
	r->now = dl + 1;
}

static struct item *next_item(struct runner *r)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (!r->items[i].consumed)
			return &r->items[i];
	return NULL;
}

/* Feed script items to the running engine until its TPDU ends. */
static void run_tpdu(struct runner *r, int line)
{
	while (!r->failed) {
		enum tc_t0r_state st = tc_t0r_state(r->e);
		if (st == TC_T0R_DONE || st == TC_T0R_FAILED)
			return;
		struct item *it = next_item(r);
		bool script_for_engine = it && (it->kind == IT_READER || it->kind == IT_CARD ||
		                                it->kind == IT_MUTE || it->kind == IT_SIGERR);
		if (!script_for_engine || it->kind == IT_CARD || it->kind == IT_MUTE) {
			enum step s = drain(r, it ? it->line : line);
			if (s == STEP_END)
				return;
			if (!script_for_engine) {
				sc_fail(r, it ? it->line : line,
				        "the script has no card event, the reader waits (state %s)",
				        tc_t0r_state_name(tc_t0r_state(r->e)));
				return;
			}
		}
		it->consumed = true;
		if (it->kind == IT_READER)
			check_reader(r, it);
		else if (it->kind == IT_CARD)
			play_card(r, it);
		else if (it->kind == IT_MUTE)
			play_mute(r, it);
		else
			sc_fail(r, it->line,
			        "signal-error without a reader transmission before it");
	}
}

/* Start and run one TPDU; its end in *a. */
static int tpdu_once(struct runner *r, const uint8_t hdr[5], const uint8_t *data, int line,
                     struct tc_t0r_action *a)
{
	int rc = tc_t0r_start(r->e, hdr, data, r->now);
	if (rc != TC_OK)
		return rc;
	r->tpdus++;
	run_tpdu(r, line);
	if (r->failed)
		return TC_E_IO;
	tc_t0r_next(r->e, a);
	struct tc_t0r_stats st;
	tc_t0r_get_stats(r->e, &st);
	r->sum.tx_chars += st.tx_chars;
	r->sum.rx_chars += st.rx_chars;
	r->sum.tx_repeats += st.tx_repeats;
	r->sum.rx_repeats += st.rx_repeats;
	r->sum.nulls += st.nulls;
	r->sum.min_clk += st.min_clk;
	r->t_end = st.t_end;
	if (r->now < st.t_end)
		r->now = st.t_end;
	return TC_OK;
}

static int xfer(void *ctx, const uint8_t hdr[5], const uint8_t *data, size_t n_data, uint8_t *resp,
                size_t cap, size_t *resp_len)
{
	struct runner *r = ctx;
	struct tc_t0r_action a;
	if (n_data && n_data != hdr[4])
		return TC_E_INVAL;
	int rc = tpdu_once(r, hdr, n_data ? data : NULL, r->line, &a);
	if (rc != TC_OK)
		return rc;
	if (a.kind == TC_T0R_ACT_FAILED) {
		r->reason = a.reason;
		return a.err;
	}
	if (a.kind != TC_T0R_ACT_DONE || a.n + 2 > cap)
		return TC_E_STATE;
	memcpy(resp, a.bytes, a.n);
	resp[a.n] = a.sw1;
	resp[a.n + 1] = a.sw2;
	*resp_len = a.n + 2;
	return TC_OK;
}

/* ---- commands and expectations ------------------------------------------ */

static void begin_command(struct runner *r, const struct item *it)
{
	if (r->have_outcome && r->rc != TC_OK && !r->error_checked)
		sc_fail(r, r->line, "unexpected %s (%s)", tc_errname(r->rc),
		        r->reason ? r->reason : "");
	if (!r->e) {
		r->e = tc_t0r_new(&r->params);
		if (!r->e) {
			sc_fail(r, it->line, "invalid parameters");
			return;
		}
		tc_t0r_set_log(r->e, log_cb, r->res);
		r->half_etu21 = tc_half_etu_to_clk(r->params.F ? r->params.F : TC_FD,
		                                   r->params.D ? r->params.D : TC_DD, 21);
	}
	r->have_outcome = false;
	r->error_checked = false;
	r->line = it->line;
	r->rc = TC_OK;
	r->reason = NULL;
	r->resp_len = 0;
	r->t_begin_set = false;
	r->tpdus = 0;
	memset(&r->sum, 0, sizeof(r->sum));
	r->res->commands++;
}

static void run_tpdu_item(struct runner *r, const struct item *it)
{
	struct tc_t0r_action a;
	if (it->n < 5 || (it->n > 5 && it->n != 5u + it->bytes[4])) {
		sc_fail(r, it->line, "tpdu: 5 header bytes and P3 data bytes (or none)");
		return;
	}
	int rc = tpdu_once(r, it->bytes, it->n > 5 ? it->bytes + 5 : NULL, it->line, &a);
	if (r->failed)
		return;
	r->have_outcome = true;
	r->rc = rc;
	if (rc != TC_OK) {
		tc_t0r_next(r->e, &a);
		r->reason =
		    a.kind == TC_T0R_ACT_FAILED ? a.reason : "tc_t0r_start refused the TPDU";
	} else if (a.kind == TC_T0R_ACT_FAILED) {
		r->rc = a.err;
		r->reason = a.reason;
	} else {
		memcpy(r->resp, a.bytes, a.n);
		r->resp[a.n] = a.sw1;
		r->resp[a.n + 1] = a.sw2;
		r->resp_len = a.n + 2;
	}
}

static void run_apdu_item(struct runner *r, const struct item *it)
{
	struct tc_apdu_link link = {
	    .xfer = xfer, .ctx = r, .flags = r->flags, .max_chain = r->max_chain};
	const char *why = NULL;
	int rc = tc_apdu_transmit(&link, it->bytes, it->n, r->resp, TC_APDU_MAX_RESP, &r->resp_len,
	                          &why);
	if (r->failed)
		return;
	r->have_outcome = true;
	r->rc = rc;
	if (rc != TC_OK && !r->reason)
		r->reason = why;
}

/* Counting expectations: "expect <key> <number>"; false for another key. */
static bool expect_count(struct runner *r, const struct item *it)
{
	const struct {
		const char *key;
		uint64_t got;
	} counts[] = {
	    {"data-len", r->resp_len >= 2 ? r->resp_len - 2 : 0},
	    {"tpdus", r->tpdus},
	    {"tx-chars", r->sum.tx_chars},
	    {"rx-chars", r->sum.rx_chars},
	    {"tx-repeats", r->sum.tx_repeats},
	    {"rx-repeats", r->sum.rx_repeats},
	    {"nulls", r->sum.nulls},
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint64_t want;
		if (strcmp(counts[i].key, it->key) != 0)
			continue;
		if (sc_parse_u64(it->arg, &want) != 0)
			sc_fail(r, it->line, "expect %s: a number", it->key);
		else if (counts[i].got != want)
			sc_fail(r, it->line, "%s is %" PRIu64 ", expected %" PRIu64, it->key,
			        counts[i].got, want);
		return true;
	}
	return false;
}

static void expect_time(struct runner *r, const struct item *it)
{
	char op[3] = {0};
	size_t k = strspn(it->arg, "<>=");
	struct delay d;
	uint64_t want;
	if (k == 0 || k > 2) {
		sc_fail(r, it->line, "expect time: <= < == >= > followed by a delay");
		return;
	}
	memcpy(op, it->arg, k);
	char *expr = strdup(it->arg + k);
	if (!expr) {
		sc_fail(r, it->line, "out of memory");
		return;
	}
	size_t o = 0;
	for (const char *p = it->arg + k; *p; p++)
		if (*p != ' ')
			expr[o++] = *p;
	expr[o] = '\0';
	int rc = sc_parse_delay(expr, &d);
	free(expr);
	if (rc != 0 || sc_eval_delay(r, &d, &want) != 0) {
		sc_fail(r, it->line, "expect time: bad delay");
		return;
	}
	uint64_t got = r->t_end - r->t_begin;
	bool ok = (!strcmp(op, "<=") && got <= want) || (!strcmp(op, "<") && got < want) ||
	          (!strcmp(op, "==") && got == want) || (!strcmp(op, ">=") && got >= want) ||
	          (!strcmp(op, ">") && got > want);
	if (!ok)
		sc_fail(r, it->line,
		        "time %" PRIu64 " clk (%" PRIu64 " etu), expected %s %" PRIu64 " clk", got,
		        got / tc_t0r_etu_clk(r->e, 1), op, want);
}

static void expect_bytes(struct runner *r, const struct item *it, bool sw)
{
	if (r->rc != TC_OK || r->resp_len < 2) {
		sc_fail(r, it->line, "no response: %s (%s)", tc_errname(r->rc),
		        r->reason ? r->reason : "");
		return;
	}
	uint8_t *want = malloc(SC_MAX_BYTES);
	char *copy = strdup(it->arg);
	size_t n = 0;
	int rc = want && copy ? 0 : -1;
	if (rc == 0 && (sw || strcmp(copy, "none") != 0))
		for (char *p = strtok(copy, " "); p && rc == 0; p = strtok(NULL, " "))
			rc = sc_parse_hex_token(p, want, &n);
	const uint8_t *have = sw ? r->resp + r->resp_len - 2 : r->resp;
	size_t have_n = sw ? 2 : r->resp_len - 2;
	if (rc != 0) {
		sc_fail(r, it->line, "bad hex");
	} else if (have_n != n || memcmp(have, want, n) != 0) {
		char h[97], w[97];
		sc_fail(r, it->line, "%s is [%s] (%zu bytes), expected [%s] (%zu bytes)",
		        sw ? "SW" : "data", tc_hex_encode(have, have_n, ' ', h, sizeof(h)), have_n,
		        tc_hex_encode(want, n, ' ', w, sizeof(w)), n);
	}
	free(copy);
	free(want);
}

static void expect_item(struct runner *r, const struct item *it)
{
	const char *k = it->key;
	r->res->checks++;
	if (!r->have_outcome) {
		sc_fail(r, it->line, "expect before any tpdu or apdu");
		return;
	}
	if (!strcmp(k, "error")) {
		r->error_checked = true;
		if (strcmp(tc_errname(r->rc), it->arg) != 0)
			sc_fail(r, it->line, "outcome %s (%s), expected %s", tc_errname(r->rc),
			        r->reason ? r->reason : "ok", it->arg);
	} else if (!strcmp(k, "reason")) {
		if (!r->reason || !strstr(r->reason, it->arg))
			sc_fail(r, it->line, "reason \"%s\" does not contain \"%s\"",
			        r->reason ? r->reason : "", it->arg);
	} else if (!strcmp(k, "sw") || !strcmp(k, "data")) {
		expect_bytes(r, it, k[0] == 's');
	} else if (!strcmp(k, "time")) {
		expect_time(r, it);
	} else if (!expect_count(r, it)) {
		sc_fail(r, it->line, "unknown expectation \"%s\"", k);
	}
}

static void set_param(struct runner *r, const struct item *it)
{
	uint64_t v;
	if (r->e) {
		sc_fail(r, it->line, "param after the first command");
		return;
	}
	if (sc_parse_u64(it->arg, &v) != 0 || v > 100000) {
		sc_fail(r, it->line, "param %s: a number", it->key);
		return;
	}
	unsigned u = (unsigned)v;
	if (!strcmp(it->key, "F"))
		r->params.F = u;
	else if (!strcmp(it->key, "D"))
		r->params.D = u;
	else if (!strcmp(it->key, "N"))
		r->params.N = u;
	else if (!strcmp(it->key, "WI"))
		r->params.WI = u;
	else if (!strcmp(it->key, "repeats"))
		r->params.max_repeats = u;
	else if (!strcmp(it->key, "nulls"))
		r->params.max_nulls = u;
	else
		sc_fail(r, it->line, "unknown param %s", it->key);
}

static void set_option(struct runner *r, const struct item *it)
{
	uint64_t v;
	if (!strcmp(it->key, "raw"))
		r->flags |= TC_APDU_RAW;
	else if (!strcmp(it->key, "max-chain") && sc_parse_u64(it->arg, &v) == 0 && v < 100000)
		r->max_chain = (unsigned)v;
	else
		sc_fail(r, it->line, "unknown option %s", it->key);
}

static void run_items(struct runner *r)
{
	struct item *it;
	while (!r->failed && (it = next_item(r)) != NULL) {
		it->consumed = true;
		switch (it->kind) {
		case IT_NAME:
			break;
		case IT_PARAM:
			set_param(r, it);
			break;
		case IT_OPTION:
			set_option(r, it);
			break;
		case IT_TPDU:
		case IT_APDU:
			begin_command(r, it);
			if (!r->failed && it->kind == IT_TPDU)
				run_tpdu_item(r, it);
			else if (!r->failed)
				run_apdu_item(r, it);
			break;
		case IT_EXPECT:
			expect_item(r, it);
			break;
		case IT_READER:
		case IT_CARD:
		case IT_MUTE:
		case IT_SIGERR:
			sc_fail(r, it->line, "%s line left over: the exchange ended before it (%s)",
			        it->kind == IT_READER ? "reader" : "card", tc_errname(r->rc));
			break;
		}
	}
	if (!r->failed && r->have_outcome && r->rc != TC_OK && !r->error_checked)
		sc_fail(r, r->line, "unexpected %s (%s)", tc_errname(r->rc),
		        r->reason ? r->reason : "");
	if (!r->failed && r->wire_checked < r->wire_n)
		sc_fail(r, r->line, "%zu reader characters not checked by reader lines",
		        r->wire_n - r->wire_checked);
	if (!r->failed && r->res->commands == 0)
		sc_fail(r, 0, "no tpdu or apdu line");
}

int scenario_run_text(const char *text, const char *name, struct scenario_result *res)
{
	struct runner r = {.name = name ? name : "scenario", .res = res};
	memset(res, 0, sizeof(*res));
	res->ok = true;
	char *copy = strdup(text);
	r.wire = malloc(SC_MAX_WIRE * sizeof(*r.wire));
	r.wire_b = malloc(SC_MAX_WIRE);
	r.resp = malloc(TC_APDU_MAX_RESP);
	if (!copy || !r.wire || !r.wire_b || !r.resp)
		sc_fail(&r, 0, "out of memory");
	else if (sc_load(&r, copy) == 0)
		run_items(&r);
	for (size_t i = 0; i < r.n_items; i++) {
		free(r.items[i].bytes);
		free(r.items[i].arg);
	}
	free(r.items);
	tc_t0r_free(r.e);
	free(r.resp);
	free(r.wire_b);
	free(r.wire);
	free(copy);
	return res->ok ? 0 : -1;
}

int scenario_run_file(const char *path, struct scenario_result *res)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(SC_MAX_FILE + 1);
	size_t n = 0;
	if (f && buf)
		n = fread(buf, 1, SC_MAX_FILE, f);
	if (f)
		fclose(f);
	if (!f || !buf) {
		free(buf);
		memset(res, 0, sizeof(*res));
		snprintf(res->msg, sizeof(res->msg), "%s: cannot read", path);
		return -1;
	}
	buf[n] = '\0';
	const char *base = strrchr(path, '/');
	int rc = scenario_run_text(buf, base ? base + 1 : path, res);
	free(buf);
	return rc;
}
