/* tc_atr.c: the Answer to Reset, parsed and built (see tc_atr.h). */
#include "tc_atr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tc_error.h"
#include "tc_timing.h"

#define T1_DEFAULT_IFSC 32u
#define T1_DEFAULT_BWI  4u
#define T1_DEFAULT_CWI  13u

uint8_t tc_inverse_byte(uint8_t raw)
{
	uint8_t c = (uint8_t)~raw;
	uint8_t r = 0;

	for (unsigned i = 0; i < 8; i++)
		if (c & (1u << i))
			r |= (uint8_t)(0x80u >> i);
	return r;
}

static const struct {
	uint32_t bit;
	const char *text;
} warning_texts[] = {
    {TC_ATR_W_FI_RFU, "TA1 FI is RFU: the card cannot be run at its own Fi"},
    {TC_ATR_W_DI_RFU, "TA1 DI is RFU: the card cannot be run at its own Di"},
    {TC_ATR_W_PROTO_RFU, "a TDi announces an RFU protocol (T=4..T=13)"},
    {TC_ATR_W_T15_IN_TD1, "TD1 announces T=15, which ISO 7816-3 forbids in TD1"},
    {TC_ATR_W_PROTO_ORDER, "protocols are not announced in ascending order"},
    {TC_ATR_W_TA2_NOT_OFFER, "TA2 names a protocol that no TDi offers"},
    {TC_ATR_W_TA2_RFU_BITS, "TA2 has RFU bits b6-b7 set"},
    {TC_ATR_W_NO_CLASS, "the class indicator names no class"},
    {TC_ATR_W_BWI_RFU, "T=1 BWI above 9 is RFU"},
};

const char *tc_atr_warning_text(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(warning_texts) / sizeof(warning_texts[0]); i++)
		if (warning_texts[i].bit == bit)
			return warning_texts[i].text;
	return "";
}

const char *tc_atr_clock_stop_name(unsigned clock_stop)
{
	static const char *const names[4] = {"not supported", "state L", "state H",
	                                     "no preference"};
	return clock_stop < 4 ? names[clock_stop] : "?";
}

/* Records the first refusal only; later ones are consequences. */
__attribute__((format(printf, 3, 4))) static int fail(struct tc_atr *out, int err, const char *fmt,
                                                      ...)
{
	if (out->err != 0)
		return out->err;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	out->err = err;
	out->valid = false;
	return err;
}

static unsigned popcount4(unsigned y)
{
	return (y & 1u) + (y >> 1 & 1u) + (y >> 2 & 1u) + (y >> 3 & 1u);
}

/* "T0", "T0/TD1", "T0/TD1..TD3": the indicator bytes read so far. */
static void indicators(unsigned ntd, char *buf, size_t cap)
{
	if (ntd == 0)
		(void)snprintf(buf, cap, "T0");
	else if (ntd == 1)
		(void)snprintf(buf, cap, "T0/TD1");
	else
		(void)snprintf(buf, cap, "T0/TD1..TD%u", ntd);
}

static int fail_short(struct tc_atr *out, size_t len, unsigned ntd, unsigned nif, bool tck)
{
	char ind[24];
	indicators(ntd, ind, sizeof(ind));
	return fail(out, TC_E_SHORT,
	            "ATR ends after %zu bytes but %s announce %u interface bytes and %u "
	            "historical bytes%s",
	            len, ind, nif, out->t0 & 15u, tck ? " and a TCK" : "");
}

/* Reads the groups of interface bytes. On success *nif is their count,
 * *ntd the number of TDi and *need_tck whether a T other than 0 appears. */
static int walk_groups(const uint8_t *atr, size_t len, struct tc_atr *out, unsigned *nif,
                       unsigned *ntd, bool *need_tck)
{
	static const uint8_t bits[4] = {TC_ATR_HAS_TA, TC_ATR_HAS_TB, TC_ATR_HAS_TC, TC_ATR_HAS_TD};
	size_t pos = 2;
	unsigned y = out->t0 >> 4;
	unsigned proto = 0;

	*nif = 0;
	*ntd = 0;
	*need_tck = false;
	for (unsigned i = 0; i < TC_ATR_MAX_GROUPS; i++) {
		struct tc_atr_group *g = &out->group[i];
		g->present = (uint8_t)y;
		g->proto = (uint8_t)proto;
		g->offset = (uint8_t)pos;
		out->ngroups = i + 1;
		*nif += popcount4(y);
		if (2u + *nif + (out->t0 & 15u) + *need_tck > TC_ATR_MAX_LEN) {
			char ind[24];
			indicators(*ntd, ind, sizeof(ind));
			return fail(
			    out, TC_E_LONG,
			    "%s announce %u interface bytes and %u historical bytes%s: more "
			    "than the 33 bytes an ATR may have",
			    ind, *nif, out->t0 & 15u, *need_tck ? " and a TCK" : "");
		}
		uint8_t *slot[4] = {&g->ta, &g->tb, &g->tc, &g->td};
		for (unsigned b = 0; b < 4; b++) {
			if (!(y & bits[b]))
				continue;
			if (pos >= len)
				return fail_short(out, len, *ntd, *nif, *need_tck);
			*slot[b] = atr[pos++];
		}
		if (!(y & TC_ATR_HAS_TD))
			return 0;
		(*ntd)++;
		proto = g->td & 15u;
		if (proto != 0)
			*need_tck = true;
		y = g->td >> 4;
	}
	return fail(out, TC_E_LONG, "more than %u groups of interface bytes", TC_ATR_MAX_GROUPS);
}

/* Checks the total length against the structure and reads the historical
 * bytes and the TCK. */
static int check_length(const uint8_t *atr, size_t len, struct tc_atr *out, unsigned nif,
                        unsigned ntd, bool need_tck)
{
	unsigned k = out->t0 & 15u;
	size_t expected = 2u + nif + k + (need_tck ? 1u : 0u);
	char ind[24];

	indicators(ntd, ind, sizeof(ind));
	out->expected_len = expected;
	if (expected > TC_ATR_MAX_LEN)
		return fail(out, TC_E_LONG,
		            "%s announce %zu bytes in all, more than the 33 an ATR may have", ind,
		            expected);
	out->hist_offset = (uint8_t)(2u + nif);
	for (unsigned i = 0; i < k && out->hist_offset + i < len; i++)
		out->hist[out->nhist++] = atr[out->hist_offset + i];
	if (len < expected)
		return fail_short(out, len, ntd, nif, need_tck);
	if (len > expected && !need_tck && len == expected + 1)
		return fail(out, TC_E_LONG,
		            "ATR has %zu bytes but %s announce %zu: a TCK must be absent when only "
		            "T=0 is indicated",
		            len, ind, expected);
	if (len > expected)
		return fail(out, TC_E_LONG,
		            "ATR has %zu bytes, %zu more than the %zu that %s announce", len,
		            len - expected, expected, ind);
	if (!need_tck) {
		out->tck = TC_ATR_TCK_ABSENT;
		return 0;
	}
	uint8_t x = 0;
	for (size_t i = 1; i < expected; i++)
		x ^= atr[i];
	out->tck_value = atr[expected - 1];
	out->tck = x == 0 ? TC_ATR_TCK_OK : TC_ATR_TCK_BAD;
	if (x != 0)
		return fail(out, TC_E_CHECKSUM,
		            "TCK is 0x%02X but XOR of T0..TCK gives 0x%02X (TCK should be 0x%02X)",
		            out->tck_value, x, (unsigned)(out->tck_value ^ x));
	return 0;
}

static void decode_ta1(struct tc_atr *out)
{
	const struct tc_atr_group *g = &out->group[0];

	out->ta1_present = (g->present & TC_ATR_HAS_TA) != 0;
	out->fi_nibble = out->ta1_present ? (uint8_t)(g->ta >> 4) : 1;
	out->di_nibble = out->ta1_present ? (uint8_t)(g->ta & 15u) : 1;
	out->Fi = tc_fi(out->fi_nibble);
	out->fmax_khz = tc_fmax_khz(out->fi_nibble);
	out->Di = tc_di(out->di_nibble);
	if (out->Fi == 0)
		out->warnings |= TC_ATR_W_FI_RFU;
	if (out->Di == 0)
		out->warnings |= TC_ATR_W_DI_RFU;
	if (g->present & TC_ATR_HAS_TC)
		out->N = g->tc;
}

static void decode_group2(struct tc_atr *out)
{
	const struct tc_atr_group *g = &out->group[1];

	if (out->ngroups < 2)
		return;
	if (g->present & TC_ATR_HAS_TA) {
		out->specific_mode = true;
		out->can_change_mode = (g->ta & 0x80u) == 0;
		out->implicit_params = (g->ta & 0x10u) != 0;
		out->specific_protocol = g->ta & 15u;
		if (g->ta & 0x60u)
			out->warnings |= TC_ATR_W_TA2_RFU_BITS;
	}
	if (g->present & TC_ATR_HAS_TC) {
		out->WI = g->tc;
		if (g->tc == 0)
			(void)fail(out, TC_E_FORMAT, "TC2 is 0x00: WI = 0 is RFU");
	}
}

static void decode_protocols(struct tc_atr *out)
{
	unsigned last = 0;

	if (out->ngroups < 2) {
		out->protocols = 1u;
		return;
	}
	out->protocols = 0;
	out->first_protocol = out->group[1].proto;
	if (out->first_protocol == 15)
		out->warnings |= TC_ATR_W_T15_IN_TD1;
	for (unsigned i = 1; i < out->ngroups; i++) {
		unsigned t = out->group[i].proto;
		out->protocols |= (uint16_t)(1u << t);
		if (t >= 4 && t <= 13)
			out->warnings |= TC_ATR_W_PROTO_RFU;
		if (t < last)
			out->warnings |= TC_ATR_W_PROTO_ORDER;
		last = t;
	}
	if (out->specific_mode && !(out->protocols & (1u << out->specific_protocol)))
		out->warnings |= TC_ATR_W_TA2_NOT_OFFER;
}

static void decode_t1_group(struct tc_atr *out, const struct tc_atr_group *g, unsigned idx,
                            unsigned *seen)
{
	if ((g->present & TC_ATR_HAS_TA) && !(*seen & TC_ATR_HAS_TA)) {
		out->t1.ifsc = g->ta;
		if (g->ta == 0 || g->ta == 0xFF)
			(void)fail(out, TC_E_FORMAT, "TA%u is 0x%02X: T=1 IFSC must be 1..254", idx,
			           g->ta);
	}
	if ((g->present & TC_ATR_HAS_TB) && !(*seen & TC_ATR_HAS_TB)) {
		out->t1.bwi = g->tb >> 4;
		out->t1.cwi = g->tb & 15u;
		if (out->t1.bwi > 9)
			out->warnings |= TC_ATR_W_BWI_RFU;
	}
	if ((g->present & TC_ATR_HAS_TC) && !(*seen & TC_ATR_HAS_TC))
		out->t1.edc = (g->tc & 1u) ? TC_ATR_EDC_CRC : TC_ATR_EDC_LRC;
	*seen |= g->present;
}

/* Groups 3 and later: T=1 specific bytes and the T=15 class indicator. */
static void decode_specific(struct tc_atr *out)
{
	unsigned t1_seen = 0;

	for (unsigned i = 2; i < out->ngroups; i++) {
		const struct tc_atr_group *g = &out->group[i];
		if (g->proto == 1)
			decode_t1_group(out, g, i + 1, &t1_seen);
		if (g->proto == 15 && (g->present & TC_ATR_HAS_TA) && !out->has_class) {
			out->has_class = true;
			out->classes = g->ta & 0x3Fu;
			out->clock_stop = g->ta >> 6;
			if ((out->classes & 7u) == 0)
				out->warnings |= TC_ATR_W_NO_CLASS;
		}
	}
}

static void set_defaults(struct tc_atr *out)
{
	memset(out, 0, sizeof(*out));
	out->fi_nibble = 1;
	out->di_nibble = 1;
	out->Fi = TC_FD;
	out->Di = TC_DD;
	out->fmax_khz = tc_fmax_khz(1);
	out->WI = TC_DEFAULT_WI;
	out->protocols = 1u;
	out->t1.ifsc = T1_DEFAULT_IFSC;
	out->t1.bwi = T1_DEFAULT_BWI;
	out->t1.cwi = T1_DEFAULT_CWI;
}

int tc_atr_parse(const uint8_t *atr, size_t len, struct tc_atr *out)
{
	unsigned nif, ntd;
	bool need_tck;

	if (!out)
		return TC_E_INVAL;
	set_defaults(out);
	if (!atr)
		return fail(out, TC_E_INVAL, "no ATR given");
	out->len = len;
	memcpy(out->raw, atr, len < TC_ATR_MAX_LEN ? len : TC_ATR_MAX_LEN);
	if (len == 0)
		return fail(out, TC_E_SHORT, "ATR is empty");
	out->ts = atr[0];
	if (atr[0] == TC_ATR_TS_INVERSE_RAW)
		return fail(
		    out, TC_E_FORMAT,
		    "TS 0x03 is an inverse-convention TS read in direct convention: convert "
		    "the bytes with tc_inverse_byte() first");
	if (atr[0] != TC_ATR_TS_DIRECT && atr[0] != TC_ATR_TS_INVERSE)
		return fail(out, TC_E_FORMAT,
		            "TS 0x%02X is neither 0x3B (direct) nor 0x3F (inverse)", atr[0]);
	out->inverse = atr[0] == TC_ATR_TS_INVERSE;
	if (len < 2)
		return fail(out, TC_E_SHORT, "ATR ends after TS: T0 is missing");
	out->t0 = atr[1];
	int rc = walk_groups(atr, len, out, &nif, &ntd, &need_tck);
	if (rc != 0)
		return rc;
	rc = check_length(atr, len, out, nif, ntd, need_tck);
	if (rc != 0 && rc != TC_E_CHECKSUM)
		return rc;
	decode_ta1(out);
	decode_group2(out);
	decode_protocols(out);
	decode_specific(out);
	out->valid = out->err == 0;
	return out->err;
}

/* --- build ------------------------------------------------------------------ */

struct plan_group {
	uint8_t present, proto, ta, tb, tc;
};

static int spec_check(const struct tc_atr_spec *s)
{
	if (s->nhist > TC_ATR_MAX_HIST || (s->tc2_present && s->WI == 0))
		return TC_E_INVAL;
	if (s->ifsc == 255 || s->ifsc > 255 || (s->protocols & ~3u) != 0)
		return TC_E_INVAL;
	if (s->clock_stop > 3 || s->classes > 0x3F || s->ta2_protocol > 15)
		return TC_E_INVAL;
	if (s->fi_nibble > 15 || s->di_nibble > 15 || s->bwi > 15 || s->cwi > 15)
		return TC_E_INVAL;
	return 0;
}

static unsigned plan(const struct tc_atr_spec *s, struct plan_group *g)
{
	bool t0 = s->protocols == 0 || (s->protocols & 1u);
	bool t1 = (s->protocols & 2u) != 0;
	unsigned n = 1;

	memset(g, 0, 4 * sizeof(*g));
	g[0].present =
	    (uint8_t)((s->ta1_present ? TC_ATR_HAS_TA : 0) | (s->tc1_present ? TC_ATR_HAS_TC : 0));
	g[0].ta = (uint8_t)(s->fi_nibble << 4 | s->di_nibble);
	g[0].tc = s->N;
	if (!(s->ta2_present || s->tc2_present || t1 || s->has_class))
		return n;
	g[1].proto = t0 ? 0 : 1;
	g[1].present =
	    (uint8_t)((s->ta2_present ? TC_ATR_HAS_TA : 0) | (s->tc2_present ? TC_ATR_HAS_TC : 0));
	g[1].ta = (uint8_t)((s->ta2_cannot_change ? 0x80u : 0) | (s->ta2_implicit ? 0x10u : 0) |
	                    s->ta2_protocol);
	g[1].tc = s->WI;
	n = 2;
	if (t1) {
		g[n].proto = 1;
		g[n].present =
		    (uint8_t)(TC_ATR_HAS_TA | TC_ATR_HAS_TB | (s->edc_crc ? TC_ATR_HAS_TC : 0));
		g[n].ta = (uint8_t)(s->ifsc ? s->ifsc : T1_DEFAULT_IFSC);
		g[n].tb = (uint8_t)(s->bwi << 4 | s->cwi);
		g[n].tc = 1;
		n++;
	}
	if (s->has_class) {
		g[n].proto = 15;
		g[n].present = TC_ATR_HAS_TA;
		g[n].ta = (uint8_t)(s->clock_stop << 6 | s->classes);
		n++;
	}
	return n;
}

int tc_atr_build(const struct tc_atr_spec *spec, uint8_t *out, size_t cap)
{
	struct plan_group g[4];
	uint8_t b[TC_ATR_MAX_LEN + 16];
	size_t n = 0;

	if (!spec || (!out && cap > 0))
		return TC_E_INVAL;
	int rc = spec_check(spec);
	if (rc != 0)
		return rc;
	unsigned ng = plan(spec, g);
	b[n++] = spec->inverse ? TC_ATR_TS_INVERSE : TC_ATR_TS_DIRECT;
	b[n++] = (uint8_t)((ng > 1 ? TC_ATR_HAS_TD : 0) << 4 | g[0].present << 4 | spec->nhist);
	for (unsigned i = 0; i < ng; i++) {
		if (g[i].present & TC_ATR_HAS_TA)
			b[n++] = g[i].ta;
		if (g[i].present & TC_ATR_HAS_TB)
			b[n++] = g[i].tb;
		if (g[i].present & TC_ATR_HAS_TC)
			b[n++] = g[i].tc;
		if (i + 1 < ng)
			b[n++] =
			    (uint8_t)(((i + 2 < ng ? TC_ATR_HAS_TD : 0) | g[i + 1].present) << 4 |
			              g[i + 1].proto);
	}
	memcpy(b + n, spec->hist, spec->nhist);
	n += spec->nhist;
	bool need_tck = (spec->protocols & 2u) || spec->has_class || spec->bad_tck;
	if (need_tck) {
		uint8_t x = 0;
		for (size_t i = 1; i < n; i++)
			x ^= b[i];
		b[n++] = spec->bad_tck ? (uint8_t)(x ^ 0x5Au) : x;
	}
	if (n > TC_ATR_MAX_LEN)
		return TC_E_INVAL;
	if (n > cap)
		return TC_E_OVERFLOW;
	memcpy(out, b, n);
	return (int)n;
}
