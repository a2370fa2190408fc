/* trace_session.c: the session view of a wire record: power, resets, the ATR
 * explained, PPS, T=0 TPDUs with their procedure bytes, data and status
 * words, error signals, removal, silence. Stale messages (section 4 of
 * docs/wire.md) never happened and are skipped; rejected characters are
 * shown once and left out of the bytes they would have belonged to. */
#include <stdio.h>
#include <string.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "tc_timing.h"
#include "trace_int.h"

enum phase {
	PH_OFF,     /* no power, or the card removed */
	PH_ON,      /* powered, RST low */
	PH_ATR,     /* RST high: the ATR comes */
	PH_READY,   /* after the ATR: PPS or the first header */
	PH_PPS_REQ, /* the reader sends a PPS request */
	PH_PPS_ANS, /* the card answers it */
	PH_T0,      /* T=0 TPDUs */
};

enum t0st {
	T0_HEADER, /* reader sends CLA INS P1 P2 P3 */
	T0_PROC,   /* card: procedure byte */
	T0_SW2,    /* card: SW2 after SW1 */
	T0_ACKED,  /* after an ACK: data from either side */
	T0_DATA,   /* data moving, seg bytes left in this part */
};

struct sess {
	struct trace_out *o;
	unsigned conn;
	enum phase ph;
	bool inverse, had_atr;
	uint64_t rst_high;
	uint8_t buf[TC_ATR_MAX_LEN + 1]; /* ATR or PPS being collected */
	size_t nbuf;
	uint64_t t_buf;
	struct tc_pps req;
	bool req_ok;

	enum t0st st;
	uint8_t hdr[5];
	size_t nhdr;
	uint64_t t_hdr, t_sw1;
	bool ack_all;
	unsigned done, seg; /* data bytes moved in this TPDU, left in this part */
	char seg_dir;       /* 'R' data to the card, 'C' data from it */
	uint8_t data[256];
	size_t ndata;
	uint64_t t_data;
	uint8_t sw1;
	unsigned to_card, from_card;
	struct tr_tpdu tp; /* the TPDU as a whole, for the APDU view */

	bool want_card, card_spoke; /* the card's turn; it sent a character */
	bool have_end[2];           /* end of the last character, reader [0] and card [1] */
	uint64_t end[2];
	bool colliding[2]; /* the side's previous character collided too */
	unsigned stale, errors, tpdus, nulls;
	unsigned err_run; /* error signals since the last character taken */
};

static const char *side(char dir)
{
	return dir == 'R' ? "reader" : "card";
}

/* ---- ATR ----------------------------------------------------------------- */

static void atr_ta(struct sess *s, const struct tc_atr *a, unsigned i, unsigned proto, uint8_t v)
{
	if (i == 1)
		tr_note(s->o,
		        "TA1 %02X: Fi %u, Di %u, f(max) %u kHz (offered; Fd 372, Dd 1 until PPS)",
		        v, a->Fi, a->Di, a->fmax_khz);
	else if (i == 2)
		tr_note(s->o, "TA2 %02X: specific mode, T=%u%s%s", v, v & 0x0Fu,
		        v & 0x10 ? ", implicit parameters" : ", parameters of TA1",
		        v & 0x80 ? ", cannot change" : ", can change by a warm reset");
	else if (proto == 15)
		tr_note(s->o, "TA%u %02X: class indicator%s%s%s, clock stop %s", i, v,
		        v & 1 ? " A (5 V)" : "", v & 2 ? " B (3 V)" : "", v & 4 ? " C (1.8 V)" : "",
		        tc_atr_clock_stop_name(v >> 6));
	else if (proto == 1)
		tr_note(s->o, "TA%u %02X: T=1 IFSC %u", i, v, v);
	else
		tr_note(s->o, "TA%u %02X (T=%u)", i, v, proto);
}

static void atr_group(struct sess *s, const struct tc_atr *a, unsigned g)
{
	const struct tc_atr_group *gr = &a->group[g];
	unsigned i = g + 1;

	if (gr->present & TC_ATR_HAS_TA)
		atr_ta(s, a, i, gr->proto, gr->ta);
	if (gr->present & TC_ATR_HAS_TB) {
		if (i <= 2)
			tr_note(s->o, "TB%u %02X: programming voltage (deprecated, ignored)", i,
			        gr->tb);
		else
			tr_note(s->o, "TB%u %02X (T=%u)%s", i, gr->tb, gr->proto,
			        gr->proto == 1 ? ": T=1 BWI and CWI" : "");
	}
	if (gr->present & TC_ATR_HAS_TC) {
		if (i == 1)
			tr_note(s->o, "TC1 %02X: extra guard time N = %u etu", gr->tc, gr->tc);
		else if (i == 2)
			tr_note(s->o, "TC2 %02X: WI = %u, WT = %llu etu", gr->tc, gr->tc,
			        (unsigned long long)tc_t0_wt_etu(gr->tc, 1));
		else
			tr_note(s->o, "TC%u %02X (T=%u)", i, gr->tc, gr->proto);
	}
	if (gr->present & TC_ATR_HAS_TD)
		tr_note(s->o, "TD%u %02X: T=%u, next group with%s%s%s%s", i, gr->td, gr->td & 0x0Fu,
		        gr->td & 0x10 ? " TA" : "", gr->td & 0x20 ? " TB" : "",
		        gr->td & 0x40 ? " TC" : "", gr->td & 0x80 ? " TD" : "");
}

static void atr_summary(struct sess *s, const struct tc_atr *a)
{
	char hex[64];

	if (a->nhist) {
		char text[TC_ATR_MAX_HIST + 1];
		for (unsigned i = 0; i < a->nhist; i++)
			text[i] = a->hist[i] >= 0x20 && a->hist[i] < 0x7F ? (char)a->hist[i] : '.';
		text[a->nhist] = '\0';
		tr_note(s->o, "historical bytes: %s \"%s\"",
		        tr_hex(a->hist, a->nhist, 16, hex, sizeof(hex)), text);
	}
	tr_note(s->o, "TCK: %s",
	        a->tck == TC_ATR_TCK_ABSENT ? "absent (T=0 only)"
	        : a->tck == TC_ATR_TCK_OK   ? "present, checks"
	                                    : "present, WRONG");
	for (uint32_t bit = 1; bit <= TC_ATR_W_LAST; bit <<= 1)
		if (a->warnings & bit)
			tr_note(s->o, "warning: %s", tc_atr_warning_text(bit));
	if (!a->valid) {
		tr_note(s->o, "=> refused: %s", a->why);
		return;
	}
	tr_note(s->o, "=> valid: protocols%s%s, %s mode, N %u, WI %u (WT %llu etu at Di %u)",
	        a->protocols & 1 ? " T=0" : "", a->protocols & 2 ? " T=1" : "",
	        a->specific_mode ? "specific" : "negotiable", a->N, a->WI,
	        (unsigned long long)tc_t0_wt_etu(a->WI, a->Di ? a->Di : 1), a->Di ? a->Di : 1);
}

static void atr_done(struct sess *s)
{
	struct tc_atr a;
	char hex[120];

	(void)tc_atr_parse(s->buf, s->nbuf, &a);
	tr_event(s->o, s->t_buf, 'C', "ATR %s  (%zu bytes, TS %llu cycles after RST high)",
	         tr_hex(s->buf, s->nbuf, TC_ATR_MAX_LEN + 1, hex, sizeof(hex)), s->nbuf,
	         (unsigned long long)(s->t_buf - s->rst_high));
	tr_note(s->o, "TS %02X: %s convention", s->buf[0],
	        s->inverse          ? "inverse"
	        : s->buf[0] == 0x3B ? "direct"
	                            : "unknown");
	if (s->nbuf > 1)
		tr_note(s->o, "T0 %02X: %u historical bytes, group 1 with%s%s%s%s", a.t0,
		        a.t0 & 0x0Fu, a.t0 & 0x10 ? " TA1" : "", a.t0 & 0x20 ? " TB1" : "",
		        a.t0 & 0x40 ? " TC1" : "", a.t0 & 0x80 ? " TD1" : "");
	for (unsigned g = 0; g < a.ngroups && g < TC_ATR_MAX_GROUPS; g++)
		atr_group(s, &a, g);
	atr_summary(s, &a);
	s->had_atr = true;
	s->ph = PH_READY;
	s->nbuf = 0;
	s->want_card = false;
}

static void atr_char(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	if (s->nbuf == 0)
		s->t_buf = t->m.time;
	s->buf[s->nbuf++] = b;
	struct tc_atr a;
	int rc = tc_atr_parse(s->buf, s->nbuf, &a);
	if (rc != TC_E_SHORT || s->nbuf >= TC_ATR_MAX_LEN)
		atr_done(s);
}

/* ---- PPS ------------------------------------------------------------------ */

/* Length a PPS starting with buf[0..n) will have; 0 while unknown. */
static size_t pps_len(const uint8_t *buf, size_t n)
{
	if (n < 2)
		return 0;
	unsigned k = 0;
	for (unsigned bit = 0x10; bit <= 0x40; bit <<= 1)
		k += (buf[1] & bit) != 0;
	return 3 + k;
}

static void pps_request(struct sess *s)
{
	char hex[32], why[TC_PPS_WHY_LEN];

	tr_event(s->o, s->t_buf, 'R', "PPS request %s",
	         tr_hex(s->buf, s->nbuf, 8, hex, sizeof(hex)));
	s->req_ok = tc_pps_parse(s->buf, s->nbuf, &s->req, why, sizeof(why)) == TC_OK;
	if (!s->req_ok)
		tr_note(s->o, "malformed: %s", why);
	else if (s->req.has_pps1)
		tr_note(s->o, "asks T=%u, PPS1 %02X: Fi %u, Di %u", s->req.protocol, s->req.pps1,
		        tc_fi(s->req.pps1 >> 4), tc_di(s->req.pps1 & 0x0F));
	else
		tr_note(s->o, "asks T=%u with the default Fd 372, Dd 1", s->req.protocol);
	s->ph = PH_PPS_ANS;
	s->nbuf = 0;
	s->want_card = true;
	s->card_spoke = false;
}

static void pps_answer(struct sess *s)
{
	char hex[32], why[TC_PPS_WHY_LEN] = "";
	struct tc_pps_result res;

	if (s->nbuf == 0) {
		tr_note(s->o, "no PPS answer: the exchange failed (the reader resets)");
	} else {
		tr_event(s->o, s->t_buf, 'C', "PPS answer %s",
		         tr_hex(s->buf, s->nbuf, 8, hex, sizeof(hex)));
		int rc = s->req_ok
		             ? tc_pps_check_answer(&s->req, s->buf, s->nbuf, &res, why, sizeof(why))
		             : TC_E_FORMAT;
		if (rc < 0)
			tr_note(s->o, "=> failed: %s", why[0] ? why : "the request was malformed");
		else if (res.pps1_accepted)
			tr_note(s->o,
			        "=> accepted: T=%u, Fi %u, Di %u from now on (etu = %u cycles)",
			        res.protocol, res.Fi, res.Di, res.Fi / (res.Di ? res.Di : 1));
		else
			tr_note(s->o, "=> accepted: T=%u, PPS1 left out: Fd 372, Dd 1 stay",
			        res.protocol);
		if (rc == 0 && res.pps1_accepted && res.Fi && res.Di) {
			s->o->F = res.Fi;
			s->o->D = res.Di;
		}
	}
	s->ph = PH_T0;
	s->st = T0_HEADER;
	s->nbuf = 0;
	s->want_card = false;
}

static void pps_char(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	if (s->nbuf == 0)
		s->t_buf = t->m.time;
	if (s->nbuf < TC_PPS_MAX_LEN)
		s->buf[s->nbuf++] = b;
	size_t want = pps_len(s->buf, s->nbuf);
	if (s->nbuf >= TC_PPS_MAX_LEN || (want && s->nbuf >= want)) {
		if (s->ph == PH_PPS_REQ)
			pps_request(s);
		else
			pps_answer(s);
	}
}

/* ---- T=0 ------------------------------------------------------------------ */

const char *tr_ins_name(const uint8_t *h)
{
	static const struct {
		uint8_t cla, ins; /* cla 0xFF: any */
		const char *name;
	} names[] = {
	    {0xFF, 0xA4, "SELECT"},
	    {0xFF, 0xC0, "GET RESPONSE"},
	    {0xFF, 0xB0, "READ BINARY"},
	    {0xFF, 0xB2, "READ RECORD"},
	    {0xFF, 0xD6, "UPDATE BINARY"},
	    {0xFF, 0x20, "VERIFY"},
	    {0xFF, 0x84, "GET CHALLENGE"},
	    {0xFF, 0x88, "INTERNAL AUTHENTICATE"},
	    {0xFF, 0xCA, "GET DATA"},
	    {0xFF, 0xC2, "ENVELOPE"},
	    {0x80, 0x30, "test app case 1"},
	    {0x80, 0x32, "test app case 3"},
	    {0x80, 0x34, "test app case 2"},
	    {0x80, 0x36, "test app case 4"},
	    {0x80, 0x38, "test app time request"},
	};
	for (size_t i = sizeof(names) / sizeof(names[0]); i-- > 0;)
		if (names[i].ins == h[1] && (names[i].cla == 0xFF || names[i].cla == h[0]))
			return names[i].name;
	return (h[1] & 0xF0) == 0x60 || (h[1] & 0xF0) == 0x90 ? "INVALID INS" : "";
}

/* Data that a trace never shows: what goes to the card with VERIFY (20, 21),
 * CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C) (PIN blocks) and the
 * token card's PERSONALISE (80 E0: keys, PIN, PUK). */
static bool secret_data(const struct sess *s)
{
	uint8_t ins = s->hdr[1];
	return s->seg_dir == 'R' && (ins == 0x20 || ins == 0x21 || ins == 0x24 || ins == 0x2C ||
	                             (s->hdr[0] == 0x80 && ins == 0xE0));
}

/* A card number is never shown whole: in a run of 12 or more ASCII digits
 * every byte but the last four becomes "**" in the hex dump. */
void tr_mask_digit_runs(const uint8_t *d, size_t n, bool *masked)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && d[j] >= '0' && d[j] <= '9')
			j++;
		for (size_t k = i; j - i >= 12 && k + 4 < j; k++)
			masked[k] = true;
		i = j > i ? j : i + 1;
	}
}

const char *tr_masked_hex(const uint8_t *d, const bool *m, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= cap; i++) {
		if (m[i])
			snprintf(out + o, cap - o, "%s**", i ? " " : "");
		else
			snprintf(out + o, cap - o, "%s%02X", i ? " " : "", d[i]);
		o += strlen(out + o);
	}
	return out;
}

static void data_flush(struct sess *s)
{
	char hex[64];
	bool masked[sizeof(s->data)] = {false};

	if (s->ndata == 0)
		return;
	if (secret_data(s)) {
		tr_event(s->o, s->t_data, s->seg_dir,
		         "data to card (%zu byte%s): not shown (PIN, PUK or key material)",
		         s->ndata, s->ndata == 1 ? "" : "s");
		s->ndata = 0;
		return;
	}
	tr_mask_digit_runs(s->data, s->ndata, masked);
	for (size_t at = 0; at < s->ndata; at += 16) {
		size_t len = s->ndata - at > 16 ? 16 : s->ndata - at;
		if (at == 0)
			tr_event(s->o, s->t_data, s->seg_dir, "data %s card (%zu byte%s): %s",
			         s->seg_dir == 'R' ? "to" : "from", s->ndata,
			         s->ndata == 1 ? "" : "s",
			         tr_masked_hex(s->data, masked, len, hex, sizeof(hex)));
		else
			tr_note(s->o, "%s",
			        tr_masked_hex(s->data + at, masked + at, len, hex, sizeof(hex)));
	}
	s->ndata = 0;
}

static void tpdu_abandon(struct sess *s, const char *why)
{
	data_flush(s);
	if (s->o->apdus) /* a header not yet complete is no APDU yet */
		tr_apdus_end(s->o->apdus, s->o, s->st != T0_HEADER ? &s->tp : NULL, why);
	if (s->st != T0_HEADER || s->nhdr > 0)
		tr_note(s->o, "TPDU %s", why);
	s->st = T0_HEADER;
	s->nhdr = 0;
	s->want_card = false;
}

static void header_char(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	char hex[32];
	const char *name;

	if (s->nhdr == 0) {
		memset(&s->tp, 0, sizeof(s->tp));
		s->tp.t_start = t->m.time;
		s->t_hdr = t->m.time;
		s->to_card = s->from_card = 0;
		s->done = 0;
		s->nulls = 0;
	}
	s->hdr[s->nhdr++] = b;
	if (s->nhdr < 5)
		return;
	memcpy(s->tp.hdr, s->hdr, 5);
	name = tr_ins_name(s->hdr);
	tr_event(s->o, s->t_hdr, 'R', "TPDU header %s%s%s%s",
	         tr_hex(s->hdr, 5, 5, hex, sizeof(hex)), name[0] ? "  (" : "", name,
	         name[0] ? ")" : "");
	s->nhdr = 0;
	s->st = T0_PROC;
	s->want_card = true;
	s->card_spoke = false;
}

static void sw_done(struct sess *s, const struct trace_msg *t, uint8_t sw2)
{
	uint64_t end = t->m.time + tc_etu_to_clk(s->o->F, s->o->D, TC_CHAR_ETU);
	const char *text = tr_sw_text(s->sw1, sw2);

	tr_event(s->o, s->t_sw1, 'C', "SW %02X %02X%s%s", s->sw1, sw2, text[0] ? ": " : "", text);
	if (s->sw1 == 0x61)
		tr_note(s->o,
		        "%u byte%s wait: the reader sends GET RESPONSE (INS C0) with P3 = %02X",
		        sw2 ? sw2 : 256u, sw2 == 1 ? "" : "s", sw2);
	else if (s->sw1 == 0x6C)
		tr_note(s->o, "the reader re-issues the command with P3 = %02X", sw2);
	tr_note(s->o,
	        "TPDU: %u bytes to the card, %u from it%s, %.0f etu from the header to the "
	        "end of SW2",
	        s->to_card, s->from_card + 1, s->nulls ? " (NULLs included)" : "",
	        t->m.time >= s->t_hdr ? tc_clk_to_etu(s->o->F, s->o->D, end - s->t_hdr) : 0.0);
	s->tpdus++;
	s->st = T0_HEADER;
	s->want_card = false;
	if (s->o->apdus) {
		s->tp.sw1 = s->sw1;
		s->tp.sw2 = sw2;
		s->tp.t_end = end;
		tr_apdus_tpdu(s->o->apdus, s->o, &s->tp);
	}
}

static void proc_byte(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	uint8_t ins = s->hdr[1], nins = (uint8_t)(ins ^ 0xFFu);

	if (b == 0x60) {
		s->nulls++;
		tr_event(s->o, t->m.time, 'C', "NULL (60): the card asks for more time");
	} else if ((b & 0xF0) == 0x60 || (b & 0xF0) == 0x90) {
		s->sw1 = b;
		s->t_sw1 = t->m.time;
		s->st = T0_SW2;
	} else if (b == ins || b == nins) {
		s->ack_all = b == ins;
		tr_event(s->o, t->m.time, 'C', "ACK %02X: %s", b,
		         s->ack_all ? "all remaining data" : "one data byte");
		s->st = T0_ACKED;
		s->want_card = false;
	} else {
		tr_event(s->o, t->m.time, 'C',
		         "procedure byte %02X: neither NULL, ACK (%02X/%02X) "
		         "nor SW1: protocol error",
		         b, ins, ins ^ 0xFF);
		s->st = T0_HEADER;
		s->want_card = false;
	}
}

static void data_start(struct sess *s, const struct trace_msg *t)
{
	unsigned total = s->hdr[4];
	if (total == 0 && t->dir == 'C')
		total = 256;
	s->seg_dir = (char)t->dir;
	s->tp.secret = s->tp.secret || secret_data(s);
	s->seg = s->ack_all ? (total > s->done ? total - s->done : 1) : 1;
	s->t_data = t->m.time;
	s->ndata = 0;
	s->st = T0_DATA;
}

static void data_char(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	if (s->ndata < sizeof(s->data))
		s->data[s->ndata++] = b;
	if (s->seg_dir == 'R' && s->tp.nto < sizeof(s->tp.to))
		s->tp.to[s->tp.nto++] = b;
	else if (s->seg_dir == 'C' && s->tp.nfrom < sizeof(s->tp.from))
		s->tp.from[s->tp.nfrom++] = b;
	s->done++;
	if (--s->seg > 0)
		return;
	/* Several one-byte parts in a row are shown as one line. */
	if (s->ack_all || s->done >= (s->hdr[4] ? s->hdr[4] : 256u))
		data_flush(s);
	s->st = T0_PROC;
	s->want_card = true;
	s->card_spoke = false;
	(void)t;
}

static void t0_char(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	bool reader = t->dir == 'R';

	if (s->st == T0_DATA && (char)t->dir != s->seg_dir) {
		data_flush(s);
		s->st = reader ? T0_HEADER : T0_PROC;
		if (reader)
			tr_note(s->o,
			        "the reader stops sending data before the card asked for all");
	}
	if (s->st == T0_ACKED)
		data_start(s, t);
	if (s->st == T0_DATA) {
		data_char(s, t, b);
	} else if (reader) {
		if (s->st != T0_HEADER)
			tpdu_abandon(s,
			             "abandoned: the reader sends again before the card's status");
		header_char(s, t, b);
	} else if (s->st == T0_PROC) {
		data_flush(s);
		proc_byte(s, t, b);
	} else if (s->st == T0_SW2) {
		sw_done(s, t, b);
	} else {
		tr_event(s->o, t->m.time, 'C', "card sends %02X outside a TPDU", b);
	}
	if (reader)
		s->to_card++;
	else
		s->from_card++;
}

/* ---- characters ------------------------------------------------------------ */

/* A character taken (not rejected), by phase. */
static void take_char(struct sess *s, const struct trace_msg *t, uint8_t b)
{
	if (s->ph == PH_ATR && t->dir == 'R') {
		if (s->nbuf)
			atr_done(s);
		else
			s->ph = PH_READY;
	}
	if (s->ph == PH_PPS_ANS && t->dir == 'R')
		pps_answer(s);
	if (s->ph == PH_READY && t->dir == 'R')
		s->ph = b == TC_PPS_PPSS ? PH_PPS_REQ : PH_T0;
	switch (s->ph) {
	case PH_ATR:
		atr_char(s, t, b);
		break;
	case PH_PPS_REQ:
	case PH_PPS_ANS:
		if ((t->dir == 'R') == (s->ph == PH_PPS_REQ))
			pps_char(s, t, b);
		else
			tr_event(s->o, t->m.time, (char)t->dir, "%s sends %02X during PPS",
			         side((char)t->dir), b);
		break;
	case PH_T0:
		t0_char(s, t, b);
		break;
	case PH_OFF:
	case PH_ON:
	case PH_READY:
		tr_event(s->o, t->m.time, (char)t->dir, "%s sends %02X %s", side((char)t->dir), b,
		         s->ph == PH_OFF ? "while the card is not powered" : "after its ATR");
	}
}

static void char_msg(struct sess *s, const struct trace_msg *t)
{
	bool ok = true;
	uint8_t raw = t->m.u.chr.raw;

	if (t->dir == 'C' && s->ph == PH_ATR && s->nbuf == 0)
		s->inverse = raw == TC_ATR_TS_INVERSE_RAW; /* TS sets the convention */
	uint8_t b = tc_wire_char_read(raw, t->m.u.chr.parity, s->inverse, &ok);
	if (t->dir == 'C')
		s->card_spoke = true;
	int me = t->dir == 'R' ? 0 : 1;
	bool collides = s->have_end[!me] && t->m.time < s->end[!me];
	uint64_t overlap = collides ? s->end[!me] - t->m.time : 0;
	s->have_end[me] = true;
	s->end[me] = t->m.time + tc_etu_to_clk(s->o->F, s->o->D, TC_CHAR_ETU);
	if (t->rejected) {
		tr_event(s->o, t->m.time, (char)t->dir,
		         "%s sends %02X: %s; the %s signals an error", side((char)t->dir), b,
		         !ok        ? "PARITY ERROR"
		         : collides ? "it starts while the peer's character is on the line"
		                    : "parity right",
		         side(t->dir == 'R' ? 'C' : 'R'));
		return;
	}
	s->err_run = 0;
	bool first_collision = collides && !s->colliding[me];
	s->colliding[me] = collides;
	if (first_collision)
		tr_event(s->o, t->m.time, (char)t->dir,
		         "%s character %02X starts %llu cycles before the end of the %s's last "
		         "character: collision on I/O (later characters may collide too)",
		         side((char)t->dir), b, (unsigned long long)overlap,
		         side(t->dir == 'R' ? 'C' : 'R'));
	if (!ok)
		tr_event(s->o, t->m.time, (char)t->dir,
		         "%s sends %02X with a PARITY ERROR (not signalled)", side((char)t->dir),
		         b);
	take_char(s, t, b);
}

/* ---- other messages ------------------------------------------------------- */

/* Whatever was being collected ends here (reset, power off, removal). */
static void cut(struct sess *s, const char *why)
{
	if (s->ph == PH_ATR && s->nbuf)
		atr_done(s);
	else if (s->ph == PH_PPS_ANS)
		pps_answer(s);
	else if (s->ph == PH_T0)
		tpdu_abandon(s, why);
	s->nbuf = 0;
	s->want_card = false;
}

static void hello_msg(struct sess *s, const struct trace_msg *t)
{
	const struct tc_wire_msg *m = &t->m;
	if (t->dir == 'R')
		tr_event(s->o, m->time, 'R', "HELLO from reader \"%s\", wire version %u%s",
		         m->u.hello.name, m->u.hello.version,
		         m->u.hello.realtime ? ", real-time pacing asked" : "");
	else
		tr_event(s->o, m->time, 'C', "HELLO from card \"%s\", wire version %u, %s",
		         m->u.hello.name, m->u.hello.version,
		         m->u.hello.present ? "card present" : "slot empty");
}

static void power_msg(struct sess *s, const struct trace_msg *t)
{
	const struct tc_wire_msg *m = &t->m;
	static const char *const volts[] = {"?", "5 V", "3 V", "1.8 V"};

	cut(s, "cut by the power change");
	if (m->type == TC_WIRE_POWER_ON) {
		tr_clock(s->o, m->time, m->u.power_on.clock_hz);
		s->o->F = TC_FD;
		s->o->D = TC_DD;
		tr_event(s->o, m->time, 'R', "POWER_ON class %c (%s), clock %.4g MHz: etu %.1f us",
		         "?ABC"[m->u.power_on.cls & 3], volts[m->u.power_on.cls & 3],
		         m -> u.power_on.clock_hz / 1e6,
		         m->u.power_on.clock_hz ? 372e6 / m->u.power_on.clock_hz : 0.0);
		s->ph = PH_ON;
		s->had_atr = false;
	} else {
		tr_event(s->o, m->time, 'R', "POWER_OFF: deactivation");
		s->ph = PH_OFF;
	}
}

static void rst_msg(struct sess *s, const struct trace_msg *t)
{
	const struct tc_wire_msg *m = &t->m;

	cut(s, "cut by a reset");
	if (m->u.rst.level == 0) {
		tr_event(s->o, m->time, 'R', "RST low");
		if (s->ph != PH_OFF)
			s->ph = PH_ON;
		return;
	}
	tr_event(s->o, m->time, 'R', "RST high: %s reset; the ATR is due 400..40000 cycles later",
	         s->had_atr ? "warm" : "cold");
	if (s->ph == PH_OFF) {
		tr_note(s->o, "(the card is not powered)");
		return;
	}
	s->ph = PH_ATR;
	s->rst_high = m->time;
	s->o->F = TC_FD;
	s->o->D = TC_DD;
	s->inverse = false;
	s->nbuf = 0;
	s->want_card = true;
	s->card_spoke = false;
}

static void error_msg(struct sess *s, const struct trace_msg *t)
{
	s->errors++;
	s->err_run++;
	tr_event(s->o, t->m.time, (char)t->dir,
	         "ERROR signal from the %s against %s character seq %lu (%u in a row)",
	         side((char)t->dir), side(t->dir == 'R' ? 'C' : 'R'),
	         (unsigned long)t->m.u.error.ref, s->err_run);
}

static void misc_msg(struct sess *s, const struct trace_msg *t)
{
	const struct tc_wire_msg *m = &t->m;

	switch (m->type) {
	case TC_WIRE_CLOCK:
		tr_clock(s->o, m->time, m->u.clock.clock_hz);
		if (m->u.clock.clock_hz)
			tr_event(s->o, m->time, 'R', "CLOCK %.4g MHz: etu %.2f us",
			         m->u.clock.clock_hz / 1e6,
			         (double)s->o->F / s->o->D * 1e6 / m->u.clock.clock_hz);
		else
			tr_event(s->o, m->time, 'R', "CLOCK stopped");
		break;
	case TC_WIRE_IDLE:
		if (t->dir == 'C' && s->want_card && !s->card_spoke) {
			tr_event(s->o, m->time, 'C', "IDLE: the card sends nothing (silent)");
			s->want_card = false;
		}
		break;
	case TC_WIRE_INSERT:
		tr_event(s->o, m->time, 'C', "INSERT: a card enters the slot");
		break;
	case TC_WIRE_REMOVE:
		cut(s, "cut by the card's removal");
		tr_event(s->o, m->time, 'C', "REMOVE: the card leaves the slot");
		s->ph = PH_OFF;
		break;
	case TC_WIRE_BYE:
		tr_event(s->o, m->time, (char)t->dir, "BYE from the %s: \"%s\"", side((char)t->dir),
		         m->u.bye.reason);
		break;
	default:
		break;
	}
}

static void new_conn(struct sess *s, struct trace_out *o, unsigned conn)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->conn = conn;
	tr_out_reset(o);
	tr_text(o, "%s== connection %u%s", conn > 1 ? "\n" : "", conn,
	        conn > 1 ? " (the reader connected again)" : "");
	tr_text(o, "      cycles           us       etu dir event");
}

static void one_msg(struct sess *s, const struct trace_msg *t)
{
	switch (t->m.type) {
	case TC_WIRE_HELLO:
		hello_msg(s, t);
		break;
	case TC_WIRE_POWER_ON:
	case TC_WIRE_POWER_OFF:
		power_msg(s, t);
		break;
	case TC_WIRE_RST:
		rst_msg(s, t);
		break;
	case TC_WIRE_CHAR:
		char_msg(s, t);
		break;
	case TC_WIRE_ERROR:
		error_msg(s, t);
		break;
	default:
		misc_msg(s, t);
	}
}

void trace_session(const struct trace_rec *rec, struct trace_out *o)
{
	struct sess s;
	unsigned stale = 0, errors = 0, tpdus = 0;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < rec->n; i++) {
		const struct trace_msg *t = &rec->msg[i];
		if (t->conn != s.conn) {
			if (o->apdus)
				tr_apdus_end(o->apdus, o, NULL, NULL);
			tpdus += s.tpdus;
			errors += s.errors;
			new_conn(&s, o, t->conn);
		}
		if (t->stale) {
			stale++;
			continue;
		}
		one_msg(&s, t);
	}
	cut(&s, "unfinished at the end of the record");
	tpdus += s.tpdus;
	errors += s.errors;
	if (o->apdus) {
		tr_text(o, "\n%u APDUs in %u TPDUs", tr_apdus_count(o->apdus), tpdus);
		return;
	}
	tr_text(o,
	        "\n%zu messages, %u TPDUs, %u error signals, %u stale messages dropped "
	        "(interrupted bursts; a CHARS run counts as its characters)",
	        rec->nwire, tpdus, errors, stale);
}
