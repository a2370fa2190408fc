/* trace_decode.c: record files parsed into messages, stale and rejected
 * messages marked (docs/wire.md section 4), the raw view, the output helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_error.h"
#include "tc_timing.h"
#include "trace_int.h"

#define TRACE_LINE_LEN 512

/* ---- parsing --------------------------------------------------------------- */

static int fail(struct trace_rec *rec, int err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct trace_rec *rec, int err, size_t off, const char *fmt, ...)
{
	va_list ap;
	rec->err = err;
	rec->err_offset = off;
	va_start(ap, fmt);
	vsnprintf(rec->why, sizeof(rec->why), fmt, ap);
	va_end(ap);
	return err;
}

static int grow(struct trace_rec *rec, size_t *cap)
{
	if (rec->n < *cap)
		return TC_OK;
	size_t ncap = *cap ? *cap * 2 : 256;
	struct trace_msg *p = realloc(rec->msg, ncap * sizeof(*p));
	if (!p)
		return TC_E_NOMEM;
	rec->msg = p;
	*cap = ncap;
	return TC_OK;
}

/* Messages of one side carry seq 1, 2, 3...; a seq that does not grow means
 * a new connection (the driver reconnects to a restarted card process). */
static void assign_conn(struct trace_rec *rec, uint32_t last[2], unsigned *conn)
{
	struct trace_msg *t = &rec->msg[rec->n];
	int side = t->dir == 'R' ? 0 : 1;
	if (*conn == 0 || t->m.seq <= last[side]) {
		(*conn)++;
		last[0] = last[1] = 0;
	}
	last[side] = t->m.seq;
	t->conn = *conn;
}

static int parse_one(struct trace_rec *rec, const uint8_t *buf, size_t len, size_t *off)
{
	char why[TRACE_WHY_LEN - 40];
	struct trace_msg *t = &rec->msg[rec->n];
	size_t at = *off;

	if (buf[at] != 'R' && buf[at] != 'C') {
		return fail(rec, TC_E_FORMAT, at, "direction byte 0x%02X is neither 'R' nor 'C'",
		            buf[at]);
	}
	int n = tc_wire_decode(buf + at + 1, len - at - 1, &t->m, why, sizeof(why));
	if (n == 0)
		return fail(rec, TC_E_SHORT, at, "%s",
		            "the file ends inside a message (truncated record)");
	if (n < 0)
		return fail(rec, TC_E_FORMAT, at, "malformed message: %s", why);
	t->dir = buf[at];
	t->offset = at;
	t->stale = t->rejected = false;
	t->run_i = t->run_n = 0;
	*off = at + 1 + (size_t)n;
	return TC_OK;
}

static void mark(struct trace_rec *rec);

/* A CHARS at msg[n] becomes the CHARs it stands for (docs/wire.md 2.2), each
 * with the run's file offset: every view then shows characters alike. */
static int expand_run(struct trace_rec *rec, size_t *cap, uint32_t last[2], unsigned *conn)
{
	struct trace_msg run = rec->msg[rec->n];

	for (unsigned i = 0; i < run.m.u.chars.n; i++) {
		if (grow(rec, cap) < 0)
			return TC_E_NOMEM;
		struct trace_msg *t = &rec->msg[rec->n];
		*t = run;
		tc_wire_run_char(&run.m, i, &t->m);
		t->run_i = (uint16_t)i;
		t->run_n = run.m.u.chars.n;
		assign_conn(rec, last, conn);
		rec->n++;
	}
	return TC_OK;
}

int trace_parse(const uint8_t *buf, size_t len, struct trace_rec *rec)
{
	size_t cap = 0, off = TC_WIRE_RECORD_MAGIC_LEN;
	uint32_t last[2] = {0, 0};
	unsigned conn = 0;

	memset(rec, 0, sizeof(*rec));
	if (!buf || len < TC_WIRE_RECORD_MAGIC_LEN ||
	    memcmp(buf, TC_WIRE_RECORD_MAGIC, TC_WIRE_RECORD_MAGIC_LEN) != 0)
		return fail(rec, TC_E_FORMAT, 0, "%s",
		            "not a wire record: it does not start with \"TCWIRE1\\n\"");
	while (off < len) {
		if (grow(rec, &cap) < 0)
			return fail(rec, TC_E_NOMEM, off, "%s", "out of memory");
		int rc = parse_one(rec, buf, len, &off);
		if (rc < 0)
			break;
		rec->nwire++;
		if (rec->msg[rec->n].m.type == TC_WIRE_CHARS) {
			if (expand_run(rec, &cap, last, &conn) < 0)
				return fail(rec, TC_E_NOMEM, off, "%s", "out of memory");
			continue;
		}
		assign_conn(rec, last, &conn);
		rec->n++;
	}
	mark(rec);
	return rec->err;
}

void trace_rec_free(struct trace_rec *rec)
{
	free(rec->msg);
	rec->msg = NULL;
	rec->n = 0;
}

/* ---- stale and rejected messages ------------------------------------------- */

/* The actions of one side in one connection, in seq order: for each, its seq
 * and ack. The receiver of a message x had sent exactly the actions whose
 * ack < x.seq before it processed x (ack only grows). */
struct acts {
	uint32_t *seq, *ack;
	size_t n;
};

static bool is_action(uint8_t type, bool hard_only)
{
	switch (type) {
	case TC_WIRE_CHAR:
		return !hard_only;
	case TC_WIRE_ERROR:
	case TC_WIRE_POWER_ON:
	case TC_WIRE_POWER_OFF:
	case TC_WIRE_RST:
	case TC_WIRE_CLOCK:
		return true;
	default:
		return false;
	}
}

/* seq of the last action of a with ack < seq, 0 when none. */
static uint32_t last_before(const struct acts *a, uint32_t seq)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->ack[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? a->seq[lo - 1] : 0;
}

static void collect(const struct trace_rec *rec, size_t a, size_t b, uint8_t dir, bool hard,
                    struct acts *out)
{
	out->n = 0;
	for (size_t i = a; i < b; i++) {
		const struct trace_msg *t = &rec->msg[i];
		if (t->dir == dir && is_action(t->m.type, hard)) {
			out->seq[out->n] = t->m.seq;
			out->ack[out->n] = t->m.ack;
			out->n++;
		}
	}
}

/* The CHAR of side dir with this seq in [a, b), or NULL. */
static struct trace_msg *find_char(struct trace_rec *rec, size_t a, size_t b, uint8_t dir,
                                   uint32_t seq)
{
	for (size_t i = b; i-- > a;)
		if (rec->msg[i].dir == dir && rec->msg[i].m.seq == seq)
			return rec->msg[i].m.type == TC_WIRE_CHAR ? &rec->msg[i] : NULL;
	return NULL;
}

static void mark_msg(struct trace_rec *rec, size_t a, size_t i, struct acts peer[2][2])
{
	struct trace_msg *t = &rec->msg[i];
	int p = t->dir == 'R' ? 1 : 0; /* index of the receiver */
	uint8_t pdir = t->dir == 'R' ? 'C' : 'R';

	if (t->m.type == TC_WIRE_CHAR || t->m.type == TC_WIRE_IDLE) {
		t->stale = t->m.ack < last_before(&peer[p][0], t->m.seq);
	} else if (t->m.type == TC_WIRE_ERROR) {
		uint32_t hard = last_before(&peer[p][1], t->m.seq);
		struct trace_msg *ref = find_char(rec, a, i, pdir, t->m.u.error.ref);
		t->stale = t->m.ack < hard || t->m.u.error.ref <= hard || !ref;
		if (!t->stale)
			ref->rejected = true;
	}
}

static void mark_conn(struct trace_rec *rec, size_t a, size_t b, struct acts peer[2][2])
{
	collect(rec, a, b, 'R', false, &peer[0][0]);
	collect(rec, a, b, 'R', true, &peer[0][1]);
	collect(rec, a, b, 'C', false, &peer[1][0]);
	collect(rec, a, b, 'C', true, &peer[1][1]);
	for (size_t i = a; i < b; i++)
		mark_msg(rec, a, i, peer);
}

static void mark(struct trace_rec *rec)
{
	struct acts peer[2][2];
	uint32_t *mem = rec->n ? malloc(8 * rec->n * sizeof(uint32_t)) : NULL;

	if (!mem)
		return; /* nothing to mark, or no memory: everything counts as current */
	for (int s = 0; s < 2; s++)
		for (int h = 0; h < 2; h++) {
			peer[s][h].seq = mem + (size_t)(4 * s + 2 * h) * rec->n;
			peer[s][h].ack = peer[s][h].seq + rec->n;
		}
	for (size_t a = 0, b; a < rec->n; a = b) {
		for (b = a; b < rec->n && rec->msg[b].conn == rec->msg[a].conn; b++)
			;
		mark_conn(rec, a, b, peer);
	}
	free(mem);
}

/* ---- output ---------------------------------------------------------------- */

void tr_out_init(struct trace_out *o, trace_emit_fn emit, void *ctx)
{
	memset(o, 0, sizeof(*o));
	o->emit = emit;
	o->ctx = ctx;
	tr_out_reset(o);
}

void tr_out_reset(struct trace_out *o)
{
	o->have_clock = false;
	o->hz = 0;
	o->base_clk = 0;
	o->base_us = 0;
	o->F = TC_FD;
	o->D = TC_DD;
	o->have_prev = false;
}

static double us_at(const struct trace_out *o, uint64_t t)
{
	double d = t >= o->base_clk ? (double)(t - o->base_clk) : -(double)(o->base_clk - t);
	return o->hz ? o->base_us + d * 1e6 / o->hz : o->base_us;
}

void tr_clock(struct trace_out *o, uint64_t t, uint32_t hz)
{
	if (o->have_clock)
		o->base_us = us_at(o, t);
	else
		o->base_us = 0; /* microseconds count from the first POWER_ON */
	o->base_clk = t;
	o->hz = hz;
	o->have_clock = true;
}

const char *tr_us(const struct trace_out *o, uint64_t t, char *buf, size_t cap)
{
	if (!o->have_clock)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.1f", us_at(o, t));
	return buf;
}

static void vline(struct trace_out *o, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vline(struct trace_out *o, const char *prefix, const char *fmt, va_list ap)
{
	char line[TRACE_LINE_LEN];
	int n = snprintf(line, sizeof(line), "%s", prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	o->emit(o->ctx, line);
}

void tr_text(struct trace_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(o, "", fmt, ap);
	va_end(ap);
}

void tr_event(struct trace_out *o, uint64_t t, char dir, const char *fmt, ...)
{
	char prefix[96], us[32], etu[32] = "";
	va_list ap;

	if (o->quiet)
		return;
	if (o->have_prev) {
		bool later = t >= o->prev_t;
		uint64_t d = later ? t - o->prev_t : o->prev_t - t;
		snprintf(etu, sizeof(etu), "%c%.1f", later ? '+' : '-',
		         tc_clk_to_etu(o->F, o->D, d));
	}
	snprintf(prefix, sizeof(prefix), "%12llu %12s %9s  %c  ", (unsigned long long)t,
	         tr_us(o, t, us, sizeof(us)), etu, dir);
	o->have_prev = true;
	o->prev_t = t;
	va_start(ap, fmt);
	vline(o, prefix, fmt, ap);
	va_end(ap);
}

void tr_note(struct trace_out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->quiet)
		return;
	va_start(ap, fmt);
	vline(o, "                                           ", fmt, ap);
	va_end(ap);
}

const char *tr_hex(const uint8_t *b, size_t n, size_t max, char *buf, size_t cap)
{
	size_t shown = n > max ? max : n;
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < shown && at + 4 < cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%02X", i ? " " : "", b[i]);
	if (shown < n && at < cap)
		snprintf(buf + at, cap - at, " ... (%zu bytes)", n);
	return buf;
}

const char *tr_sw_text(uint8_t sw1, uint8_t sw2)
{
	switch (sw1) {
	case 0x90:
		return sw2 == 0 ? "success" : "";
	case 0x61:
		return "success, response bytes wait for GET RESPONSE";
	case 0x62:
	case 0x63:
		return "warning";
	case 0x64:
	case 0x65:
		return "execution error";
	case 0x67:
		return "wrong length";
	case 0x68:
		return "function in CLA not supported";
	case 0x69:
		return sw2 == 0x85 ? "conditions of use not satisfied" : "command not allowed";
	case 0x6A:
		return sw2 == 0x82 ? "file or application not found" : "wrong parameters P1-P2";
	case 0x6B:
		return "wrong parameters P1-P2";
	case 0x6C:
		return "wrong Le: re-issue with Le = SW2";
	case 0x6D:
		return "INS not supported";
	case 0x6E:
		return "CLA not supported";
	case 0x6F:
		return "no precise diagnosis";
	default:
		return "";
	}
}

/* ---- raw view -------------------------------------------------------------- */

static void raw_fields(const struct trace_msg *t, bool inverse, char *buf, size_t cap)
{
	const struct tc_wire_msg *m = &t->m;
	bool ok = true;
	uint8_t b;

	switch (m->type) {
	case TC_WIRE_HELLO:
		snprintf(buf, cap, "version %u role %u present %u realtime %u \"%s\"",
		         m->u.hello.version, m->u.hello.role, m->u.hello.present,
		         m->u.hello.realtime, m->u.hello.name);
		break;
	case TC_WIRE_POWER_ON:
		snprintf(buf, cap, "class %c, clock %lu Hz", "?ABC"[m->u.power_on.cls & 3],
		         (unsigned long)m -> u.power_on.clock_hz);
		break;
	case TC_WIRE_RST:
		snprintf(buf, cap, "%s", m->u.rst.level ? "high" : "low");
		break;
	case TC_WIRE_CLOCK:
		snprintf(buf, cap, "%lu Hz", (unsigned long)m->u.clock.clock_hz);
		break;
	case TC_WIRE_CHAR:
		b = tc_wire_char_read(m->u.chr.raw, m->u.chr.parity, inverse, &ok);
		snprintf(buf, cap, "raw %02X parity %u = %02X%s", m->u.chr.raw, m->u.chr.parity, b,
		         ok ? "" : " PARITY ERROR");
		if (t->run_n) {
			size_t k = strlen(buf);
			snprintf(buf + k, cap - k, "  (CHARS %u/%u)", t->run_i + 1u, t->run_n);
		}
		break;
	case TC_WIRE_ERROR:
		snprintf(buf, cap, "against seq %lu", (unsigned long)m->u.error.ref);
		break;
	case TC_WIRE_BYE:
		snprintf(buf, cap, "\"%s\"", m->u.bye.reason);
		break;
	default:
		buf[0] = '\0';
	}
}

static void raw_view(const struct trace_rec *rec, struct trace_out *o)
{
	unsigned conn = 0;
	bool inverse = false, want_ts = false;

	tr_text(o, "  offset dir   seq   ack       time (cycles)      us  type       fields");
	for (size_t i = 0; i < rec->n; i++) {
		const struct trace_msg *t = &rec->msg[i];
		char f[160], us[32];
		if (t->conn != conn) {
			conn = t->conn;
			tr_out_reset(o);
			inverse = want_ts = false;
		}
		if (t->m.type == TC_WIRE_POWER_ON)
			tr_clock(o, t->m.time, t->m.u.power_on.clock_hz);
		else if (t->m.type == TC_WIRE_CLOCK)
			tr_clock(o, t->m.time, t->m.u.clock.clock_hz);
		else if (t->m.type == TC_WIRE_RST)
			want_ts = t->m.u.rst.level == 1;
		if (want_ts && t->m.type == TC_WIRE_CHAR && t->dir == 'C' && !t->stale) {
			inverse = t->m.u.chr.raw == 0x03; /* TS sets the convention */
			want_ts = false;
		}
		raw_fields(t, inverse, f, sizeof(f));
		tr_text(o, "%8zu  %c %5lu %5lu %19llu %10s  %-9s  %s%s%s", t->offset, t->dir,
		        (unsigned long)t->m.seq, (unsigned long)t->m.ack,
		        (unsigned long long)t->m.time, tr_us(o, t->m.time, us, sizeof(us)),
		        tc_wire_type_name(t->m.type), f, t->stale ? "  [stale]" : "",
		        t->rejected ? "  [rejected]" : "");
	}
}

static void err_line(const struct trace_rec *rec, struct trace_out *o)
{
	if (rec->err < 0)
		tr_text(o, "error at offset %zu (after %zu messages): %s", rec->err_offset, rec->n,
		        rec->why);
}

int trace_print(const uint8_t *buf, size_t len, enum trace_view view, trace_emit_fn emit, void *ctx)
{
	struct trace_rec rec;
	struct trace_out o;

	tr_out_init(&o, emit, ctx);
	int rc = trace_parse(buf, len, &rec);
	if (view == TRACE_RAW) {
		raw_view(&rec, &o);
	} else if (view == TRACE_APDU) {
		o.apdus = tr_apdus_new();
		o.quiet = true;
		if (o.apdus)
			trace_session(&rec, &o);
		else
			tr_text(&o, "out of memory");
		o.quiet = false;
		tr_apdus_free(o.apdus);
		o.apdus = NULL;
	} else {
		trace_session(&rec, &o);
	}
	err_line(&rec, &o);
	trace_rec_free(&rec);
	return rc;
}
