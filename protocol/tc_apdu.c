/* tc_apdu.c: command APDU parsing and the APDU -> T=0 TPDU mapping (see tc_apdu.h). */
#include "tc_apdu.h"

#include <stdbool.h>
#include <string.h>

#include "tc_error.h"

static const char *const case_names[] = {
    [TC_APDU_CASE_1] = "1",   [TC_APDU_CASE_2S] = "2S", [TC_APDU_CASE_3S] = "3S",
    [TC_APDU_CASE_4S] = "4S", [TC_APDU_CASE_2E] = "2E", [TC_APDU_CASE_3E] = "3E",
    [TC_APDU_CASE_4E] = "4E",
};

const char *tc_apdu_case_name(enum tc_apdu_case c)
{
	if (c < TC_APDU_CASE_1 || c > TC_APDU_CASE_4E)
		return "?";
	return case_names[c];
}

static int bad(const char **reason, const char *why, int err)
{
	if (reason)
		*reason = why;
	return err;
}

/* Body after a short first length byte b4 != 0 (Lc): 3S or 4S. */
static int parse_short_body(const uint8_t *buf, size_t len, struct tc_apdu *a, const char **reason)
{
	size_t lc = buf[4];
	a->nc = lc;
	a->data = buf + 5;
	if (len == 5 + lc) {
		a->kind = TC_APDU_CASE_3S;
		return TC_OK;
	}
	if (len == 6 + lc) {
		a->kind = TC_APDU_CASE_4S;
		a->ne = buf[5 + lc] ? buf[5 + lc] : 256u;
		return TC_OK;
	}
	if (len < 5 + lc)
		return bad(reason, "short Lc announces more data than the APDU holds", TC_E_FORMAT);
	return bad(reason, "APDU longer than short Lc, data and Le", TC_E_FORMAT);
}

/* Body after 00 in byte 4 with more than 5 bytes: 2E, 3E or 4E. */
static int parse_ext_body(const uint8_t *buf, size_t len, struct tc_apdu *a, const char **reason)
{
	if (len < 7)
		return bad(reason, "Lc = 00 in short form, or an extended length cut short",
		           TC_E_SHORT);
	size_t l = ((size_t)buf[5] << 8) | buf[6];
	if (len == 7) {
		a->kind = TC_APDU_CASE_2E;
		a->ne = l ? l : 65536u;
		return TC_OK;
	}
	if (l == 0)
		return bad(reason, "extended Lc = 0000", TC_E_FORMAT);
	a->nc = l;
	a->data = buf + 7;
	if (len == 7 + l) {
		a->kind = TC_APDU_CASE_3E;
		return TC_OK;
	}
	if (len == 9 + l) {
		size_t le = ((size_t)buf[7 + l] << 8) | buf[8 + l];
		a->kind = TC_APDU_CASE_4E;
		a->ne = le ? le : 65536u;
		return TC_OK;
	}
	if (len < 7 + l)
		return bad(reason, "extended Lc announces more data than the APDU holds",
		           TC_E_FORMAT);
	return bad(reason, "APDU longer than extended Lc, data and Le", TC_E_FORMAT);
}

int tc_apdu_parse(const uint8_t *buf, size_t len, struct tc_apdu *out, const char **reason)
{
	if (!buf || !out)
		return bad(reason, "NULL argument", TC_E_INVAL);
	if (len < 4)
		return bad(reason, "APDU shorter than CLA INS P1 P2", TC_E_SHORT);
	if (len > TC_APDU_MAX_LEN)
		return bad(reason, "APDU longer than case 4E allows", TC_E_LONG);
	memset(out, 0, sizeof(*out));
	out->cla = buf[0];
	out->ins = buf[1];
	out->p1 = buf[2];
	out->p2 = buf[3];
	if (buf[0] == 0xFFu)
		return bad(reason, "CLA FF is invalid", TC_E_FORMAT);
	if ((buf[1] & 0xF0u) == 0x60u || (buf[1] & 0xF0u) == 0x90u)
		return bad(reason, "INS 6X and 9X are invalid", TC_E_FORMAT);
	if (len == 4) {
		out->kind = TC_APDU_CASE_1;
		return TC_OK;
	}
	if (len == 5) {
		out->kind = TC_APDU_CASE_2S;
		out->ne = buf[4] ? buf[4] : 256u;
		return TC_OK;
	}
	if (buf[4] != 0)
		return parse_short_body(buf, len, out, reason);
	return parse_ext_body(buf, len, out, reason);
}

/* ---- transport --------------------------------------------------------- */

struct xfer_state {
	const struct tc_apdu_link *link;
	const char **reason;
	bool raw;
	unsigned budget; /* TPDUs left after the first */
	uint8_t cla;
	uint8_t *resp; /* the caller's buffer: data accumulates here */
	size_t cap;
	size_t len; /* data bytes so far */
	uint8_t sw1, sw2;
	uint8_t tpdu[TC_APDU_TPDU_RESP_MAX];
	size_t tpdu_n; /* data bytes of the last TPDU */
};

static int spend(struct xfer_state *x)
{
	if (x->budget == 0)
		return bad(x->reason, "GET RESPONSE / re-issue chain too long", TC_E_LIMIT);
	x->budget--;
	return TC_OK;
}

/* One TPDU; checks the answer's shape and keeps its SW and data. */
static int tpdu(struct xfer_state *x, const uint8_t hdr[5], const uint8_t *data, size_t n)
{
	size_t rlen = 0;
	int rc = x->link->xfer(x->link->ctx, hdr, data, n, x->tpdu, sizeof(x->tpdu), &rlen);
	if (rc != TC_OK)
		return bad(x->reason, "TPDU exchange failed", rc);
	if (rlen < 2 || rlen > sizeof(x->tpdu))
		return bad(x->reason, "TPDU answer without SW1 SW2", TC_E_PROTOCOL);
	size_t max = n ? 0u : (hdr[4] ? hdr[4] : 256u);
	if (rlen - 2 > max)
		return bad(x->reason, "TPDU answer longer than P3 announced", TC_E_PROTOCOL);
	x->tpdu_n = rlen - 2;
	x->sw1 = x->tpdu[rlen - 2];
	x->sw2 = x->tpdu[rlen - 1];
	return TC_OK;
}

static int append(struct xfer_state *x)
{
	if (x->len + x->tpdu_n + 2 > x->cap)
		return bad(x->reason, "response larger than the caller's buffer", TC_E_OVERFLOW);
	memcpy(x->resp + x->len, x->tpdu, x->tpdu_n);
	x->len += x->tpdu_n;
	return TC_OK;
}

/* An incoming TPDU (case 2, GET RESPONSE); 6Cxx re-issues it once. */
static int tpdu_in(struct xfer_state *x, const uint8_t hdr[5])
{
	int rc = tpdu(x, hdr, NULL, 0);
	if (rc == TC_OK && !x->raw && x->sw1 == 0x6Cu) {
		uint8_t again[5] = {hdr[0], hdr[1], hdr[2], hdr[3], x->sw2};
		rc = spend(x);
		if (rc == TC_OK)
			rc = tpdu(x, again, NULL, 0);
	}
	if (rc == TC_OK)
		rc = append(x);
	return rc;
}

static uint8_t p3_of(size_t n)
{
	return n >= 256u ? 0u : (uint8_t)n;
}

static int get_response(struct xfer_state *x, size_t want)
{
	uint8_t hdr[5] = {x->cla, TC_APDU_INS_GET_RESPONSE, 0, 0, p3_of(want)};
	int rc = spend(x);
	return rc == TC_OK ? tpdu_in(x, hdr) : rc;
}

/* While 61xx and fewer than ne bytes: GET RESPONSE min(xx, ne - received). */
static int chain(struct xfer_state *x, size_t ne)
{
	int rc = TC_OK;
	while (rc == TC_OK && !x->raw && x->sw1 == 0x61u && x->len < ne) {
		size_t want = x->sw2 ? x->sw2 : 256u;
		if (want > ne - x->len)
			want = ne - x->len;
		rc = get_response(x, want);
	}
	return rc;
}

/* After the case-3 TPDU of a case 4 command. */
static int case4_tail(struct xfer_state *x, size_t ne)
{
	if (x->raw)
		return TC_OK;
	if (x->sw1 == 0x61u)
		return chain(x, ne);
	if (x->sw1 != 0x90u || x->sw2 != 0x00u)
		return TC_OK;
	int rc = get_response(x, ne);
	if (rc != TC_OK)
		return rc;
	if (x->sw1 == 0x61u)
		return chain(x, ne);
	if (x->sw1 != 0x90u) { /* refused: the command's 9000 stands, no data */
		x->len = 0;
		x->sw1 = 0x90u;
		x->sw2 = 0x00u;
	}
	return TC_OK;
}

/* 3E / 4E with Nc > 255: the APDU in ENVELOPE pieces. */
static int envelopes(struct xfer_state *x, const uint8_t *apdu, size_t len)
{
	size_t off = 0;
	while (off < len) {
		size_t n = len - off;
		if (n > TC_APDU_ENVELOPE_PIECE)
			n = TC_APDU_ENVELOPE_PIECE;
		uint8_t hdr[5] = {x->cla, TC_APDU_INS_ENVELOPE, 0, 0, (uint8_t)n};
		int rc = tpdu(x, hdr, apdu + off, n);
		if (rc != TC_OK)
			return rc;
		off += n;
		if (off < len && (x->sw1 != 0x90u || x->sw2 != 0x00u))
			break; /* refused midway: return that SW */
	}
	return TC_OK;
}

static int run_command(struct xfer_state *x, const struct tc_apdu *a, const uint8_t *apdu,
                       size_t len)
{
	uint8_t hdr[5] = {a->cla, a->ins, a->p1, a->p2, 0};
	int rc;
	switch (a->kind) {
	case TC_APDU_CASE_1:
		rc = tpdu(x, hdr, NULL, 0);
		if (rc == TC_OK && x->tpdu_n)
			rc = bad(x->reason, "card sent data to a case 1 command", TC_E_PROTOCOL);
		return rc;
	case TC_APDU_CASE_2S:
	case TC_APDU_CASE_2E:
		hdr[4] = p3_of(a->ne);
		rc = tpdu_in(x, hdr);
		return rc == TC_OK ? chain(x, a->ne) : rc;
	case TC_APDU_CASE_3S:
	case TC_APDU_CASE_4S:
	case TC_APDU_CASE_3E:
	case TC_APDU_CASE_4E:
		break;
	}
	if (a->nc > TC_APDU_ENVELOPE_PIECE) {
		rc = envelopes(x, apdu, len);
	} else {
		hdr[4] = (uint8_t)a->nc;
		rc = tpdu(x, hdr, a->data, a->nc);
	}
	if (rc != TC_OK || a->kind == TC_APDU_CASE_3S || a->kind == TC_APDU_CASE_3E)
		return rc;
	return case4_tail(x, a->ne);
}

int tc_apdu_transmit(const struct tc_apdu_link *link, const uint8_t *apdu, size_t len,
                     uint8_t *resp, size_t cap, size_t *resp_len, const char **reason)
{
	struct tc_apdu a;
	if (!link || !link->xfer || !resp || !resp_len)
		return bad(reason, "NULL argument", TC_E_INVAL);
	*resp_len = 0;
	int rc = tc_apdu_parse(apdu, len, &a, reason);
	if (rc != TC_OK)
		return rc;
	if (cap < 2)
		return bad(reason, "response buffer smaller than SW1 SW2", TC_E_OVERFLOW);
	struct xfer_state x = {
	    .link = link,
	    .reason = reason,
	    .raw = (link->flags & TC_APDU_RAW) != 0,
	    .budget = link->max_chain ? link->max_chain : TC_APDU_DEFAULT_MAX_CHAIN,
	    .cla = a.cla,
	    .resp = resp,
	    .cap = cap,
	};
	rc = run_command(&x, &a, apdu, len);
	if (rc != TC_OK)
		return rc;
	resp[x.len] = x.sw1;
	resp[x.len + 1] = x.sw2;
	*resp_len = x.len + 2;
	return TC_OK;
}
