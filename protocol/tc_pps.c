/* tc_pps.c: protocol and parameters selection (see tc_pps.h). */
#include "tc_pps.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tc_error.h"
#include "tc_timing.h"

#define PPS0_PPS1   0x10u
#define PPS0_PPS2   0x20u
#define PPS0_PPS3   0x40u
#define PPS0_RFU    0x80u
#define FD_FMAX_KHZ 5000u

/* DI nibbles by decreasing Di: 64, 32, 20, 16, 12, 8, 4, 2, 1. */
static const uint8_t di_by_value[] = {7, 6, 9, 5, 8, 4, 3, 2, 1};

__attribute__((format(printf, 4, 5))) static int say(char *why, size_t whylen, int rc,
                                                     const char *fmt, ...)
{
	if (why && whylen > 0) {
		va_list ap;
		va_start(ap, fmt);
		(void)vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int tc_pps_build(const struct tc_pps *req, uint8_t *out, size_t cap)
{
	uint8_t b[TC_PPS_MAX_LEN];
	size_t n = 0;

	if (!req || req->protocol > 14 || (!out && cap > 0))
		return TC_E_INVAL;
	b[n++] = TC_PPS_PPSS;
	b[n++] = (uint8_t)(req->protocol | (req->has_pps1 ? PPS0_PPS1 : 0) |
	                   (req->has_pps2 ? PPS0_PPS2 : 0) | (req->has_pps3 ? PPS0_PPS3 : 0));
	if (req->has_pps1)
		b[n++] = req->pps1;
	if (req->has_pps2)
		b[n++] = req->pps2;
	if (req->has_pps3)
		b[n++] = req->pps3;
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= b[i];
	b[n++] = x;
	if (n > cap)
		return TC_E_OVERFLOW;
	memcpy(out, b, n);
	return (int)n;
}

int tc_pps_parse(const uint8_t *buf, size_t len, struct tc_pps *out, char *why, size_t whylen)
{
	if (!buf || !out)
		return say(why, whylen, TC_E_INVAL, "no PPS given");
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return say(why, whylen, TC_E_SHORT, "PPS is empty");
	if (buf[0] != TC_PPS_PPSS)
		return say(why, whylen, TC_E_FORMAT, "PPSS is 0x%02X, not 0xFF", buf[0]);
	if (len < 2)
		return say(why, whylen, TC_E_SHORT, "PPS ends after PPSS: PPS0 is missing");
	uint8_t pps0 = buf[1];
	if (pps0 & PPS0_RFU)
		return say(why, whylen, TC_E_FORMAT, "PPS0 0x%02X has b8 set (RFU, must be 0)",
		           pps0);
	out->protocol = pps0 & 15u;
	if (out->protocol == 15)
		return say(why, whylen, TC_E_FORMAT,
		           "PPS0 0x%02X selects T=15, which is not a protocol", pps0);
	out->has_pps1 = (pps0 & PPS0_PPS1) != 0;
	out->has_pps2 = (pps0 & PPS0_PPS2) != 0;
	out->has_pps3 = (pps0 & PPS0_PPS3) != 0;
	size_t expected = 3u + out->has_pps1 + out->has_pps2 + out->has_pps3;
	if (len < expected)
		return say(why, whylen, TC_E_SHORT,
		           "PPS ends after %zu bytes but PPS0 0x%02X announces %zu bytes", len,
		           pps0, expected);
	if (len > expected)
		return say(why, whylen, TC_E_LONG,
		           "PPS has %zu bytes but PPS0 0x%02X announces %zu", len, pps0, expected);
	size_t pos = 2;
	if (out->has_pps1)
		out->pps1 = buf[pos++];
	if (out->has_pps2)
		out->pps2 = buf[pos++];
	if (out->has_pps3)
		out->pps3 = buf[pos++];
	uint8_t x = 0;
	for (size_t i = 0; i < len; i++)
		x ^= buf[i];
	if (x != 0)
		return say(why, whylen, TC_E_CHECKSUM,
		           "PCK is 0x%02X but XOR of PPSS..PCK gives 0x%02X (PCK should be 0x%02X)",
		           buf[len - 1], x, (unsigned)(buf[len - 1] ^ x));
	return 0;
}

int tc_pps_parse_request(const uint8_t *buf, size_t len, struct tc_pps *out, char *why,
                         size_t whylen)
{
	int rc = tc_pps_parse(buf, len, out, why, whylen);
	if (rc != 0 || !out->has_pps1)
		return rc;
	if (tc_fi(out->pps1 >> 4) == 0)
		return say(why, whylen, TC_E_UNSUPPORTED, "PPS1 0x%02X asks an RFU Fi (FI=%u)",
		           out->pps1, (unsigned)(out->pps1 >> 4));
	if (tc_di(out->pps1 & 15u) == 0)
		return say(why, whylen, TC_E_UNSUPPORTED, "PPS1 0x%02X asks an RFU Di (DI=%u)",
		           out->pps1, (unsigned)(out->pps1 & 15u));
	return 0;
}

/* PPS2/PPS3 of the answer: echoed or absent. */
static int check_optional(const char *name, bool req_has, uint8_t req_v, bool ans_has,
                          uint8_t ans_v, char *why, size_t whylen)
{
	if (!ans_has)
		return 0;
	if (!req_has)
		return say(why, whylen, TC_E_PPS_FAILED, "answer has %s 0x%02X that was not asked",
		           name, ans_v);
	if (ans_v != req_v)
		return say(why, whylen, TC_E_PPS_FAILED, "answer %s is 0x%02X, request was 0x%02X",
		           name, ans_v, req_v);
	return 0;
}

int tc_pps_check_answer(const struct tc_pps *req, const uint8_t *ans, size_t len,
                        struct tc_pps_result *res, char *why, size_t whylen)
{
	struct tc_pps a = {0};

	if (!req || !res)
		return say(why, whylen, TC_E_INVAL, "no request or result given");
	memset(res, 0, sizeof(*res));
	int rc = tc_pps_parse(ans, len, &a, why, whylen);
	if (rc != 0)
		return rc;
	if (a.protocol != req->protocol)
		return say(why, whylen, TC_E_PPS_FAILED, "answer selects T=%u, request asked T=%u",
		           a.protocol, req->protocol);
	rc = check_optional("PPS1", req->has_pps1, req->pps1, a.has_pps1, a.pps1, why, whylen);
	if (rc == 0)
		rc = check_optional("PPS2", req->has_pps2, req->pps2, a.has_pps2, a.pps2, why,
		                    whylen);
	if (rc == 0)
		rc = check_optional("PPS3", req->has_pps3, req->pps3, a.has_pps3, a.pps3, why,
		                    whylen);
	if (rc != 0)
		return rc;
	res->protocol = a.protocol;
	res->pps1_accepted = a.has_pps1;
	res->fi_nibble = a.has_pps1 ? (uint8_t)(a.pps1 >> 4) : 1;
	res->di_nibble = a.has_pps1 ? (uint8_t)(a.pps1 & 15u) : 1;
	res->Fi = tc_fi(res->fi_nibble);
	res->Di = tc_di(res->di_nibble);
	if (res->Fi == 0 || res->Di == 0)
		return say(why, whylen, TC_E_PPS_FAILED, "echoed PPS1 0x%02X has RFU factors",
		           a.pps1);
	(void)say(why, whylen, 0, "PPS accepted: T=%u, Fi=%u, Di=%u%s", res->protocol, res->Fi,
	          res->Di, res->pps1_accepted ? "" : " (PPS1 left out: defaults stay)");
	return 0;
}

static bool reader_has_pair(const struct tc_reader_caps *caps, unsigned fi, unsigned di)
{
	if (caps->npairs == 0)
		return (caps->di_mask >> di) & 1u;
	for (unsigned i = 0; i < caps->npairs && i < TC_PPS_MAX_PAIRS; i++)
		if (caps->pairs[i] == (uint8_t)(fi << 4 | di))
			return true;
	return false;
}

bool tc_pps_reader_has(const struct tc_reader_caps *caps, uint8_t fidi)
{
	return reader_has_pair(caps, fidi >> 4, fidi & 15u);
}

void tc_pps_caps_keep(struct tc_reader_caps *caps,
                      bool (*keep)(const void *ctx, unsigned fi, unsigned di), const void *ctx)
{
	const struct tc_reader_caps old = *caps;
	unsigned n = 0;
	for (unsigned fi = 0; fi < 16; fi++)
		for (unsigned di = 0; di < 16; di++)
			if (tc_fi(fi) && tc_di(di) && reader_has_pair(&old, fi, di) &&
			    keep(ctx, fi, di) && n < TC_PPS_MAX_PAIRS)
				caps->pairs[n++] = (uint8_t)(fi << 4 | di);
	caps->npairs = n;
	if (n == 0)
		caps->di_mask = 0;
}

static unsigned min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

unsigned tc_pps_clock_khz(const struct tc_reader_caps *caps, unsigned fmax_khz)
{
	unsigned lim = min_u(fmax_khz, caps->max_clock_khz), best = 0;
	if (caps->nclocks == 0)
		return lim;
	for (unsigned i = 0; i < caps->nclocks && i < TC_PPS_MAX_CLOCKS; i++)
		if (caps->clocks_khz[i] <= lim && caps->clocks_khz[i] > best)
			best = caps->clocks_khz[i];
	return best ? best : min_u(caps->default_clock_khz, lim);
}

bool tc_pps_rate_near(uint32_t want, uint32_t have)
{
	uint64_t w = want, h = have;
	return h * 100u >= w * (100u - TC_PPS_RATE_TOLERANCE_PCT) &&
	       h * 100u <= w * (100u + TC_PPS_RATE_TOLERANCE_PCT);
}

/* The largest DI nibble for the card's FI; -1 when none fits. */
static int pick_di(const struct tc_atr *atr, const struct tc_reader_caps *caps, unsigned clk)
{
	for (size_t i = 0; i < sizeof(di_by_value); i++) {
		unsigned di = di_by_value[i];
		unsigned d = tc_di(di);
		if (d > atr->Di || !reader_has_pair(caps, atr->fi_nibble, di))
			continue;
		uint64_t baud = (uint64_t)clk * 1000u * d / atr->Fi;
		if (caps->max_baud != 0 && baud > caps->max_baud)
			continue;
		return (int)di;
	}
	return -1;
}

static int pick_protocol(const struct tc_atr *atr, const struct tc_reader_caps *caps,
                         unsigned *proto)
{
	uint16_t both = (uint16_t)(atr->protocols & caps->protocols & 0x7FFFu);

	if ((both >> atr->first_protocol) & 1u) {
		*proto = atr->first_protocol;
		return 0;
	}
	for (unsigned t = 0; t < 15; t++)
		if ((both >> t) & 1u) {
			*proto = t;
			return 0;
		}
	return TC_E_UNSUPPORTED;
}

static int decide_specific(const struct tc_atr *atr, const struct tc_reader_caps *caps,
                           struct tc_pps_decision *out)
{
	const char *reset = atr->can_change_mode ? "; a warm reset may give negotiable mode"
	                                         : "; the card cannot change mode";
	unsigned fi = atr->implicit_params ? 1 : atr->fi_nibble;
	unsigned di = atr->implicit_params ? 1 : atr->di_nibble;

	out->specific_mode = true;
	out->protocol = atr->specific_protocol;
	if (!((caps->protocols >> atr->specific_protocol) & 1u))
		return say(out->why, sizeof(out->why), TC_E_UNSUPPORTED,
		           "specific mode T=%u is not supported by the reader%s",
		           atr->specific_protocol, reset);
	out->Fi = tc_fi(fi);
	out->Di = tc_di(di);
	unsigned fmax = atr->implicit_params ? FD_FMAX_KHZ : tc_fmax_khz(fi);
	if (out->Fi == 0 || out->Di == 0 ||
	    ((fi != 1 || di != 1) && !reader_has_pair(caps, fi, di)))
		return say(out->why, sizeof(out->why), TC_E_UNSUPPORTED,
		           "specific mode at FI/DI 0x%X%X, which the reader cannot do%s", fi, di,
		           reset);
	out->clock_khz = tc_pps_clock_khz(caps, fmax);
	return say(out->why, sizeof(out->why), 0, "specific mode: no PPS; T=%u, Fi=%u, Di=%u (%s)",
	           out->protocol, out->Fi, out->Di,
	           atr->implicit_params ? "implicit parameters: defaults" : "from TA1");
}

int tc_pps_decide(const struct tc_atr *atr, const struct tc_reader_caps *caps,
                  struct tc_pps_decision *out)
{
	if (!out)
		return TC_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (!atr || !caps || !atr->valid)
		return say(out->why, sizeof(out->why), TC_E_INVAL,
		           "no valid ATR or no capabilities");
	out->Fi = TC_FD;
	out->Di = TC_DD;
	out->clock_khz = min_u(caps->default_clock_khz, FD_FMAX_KHZ);
	if (atr->specific_mode)
		return decide_specific(atr, caps, out);
	if (pick_protocol(atr, caps, &out->protocol) != 0)
		return say(
		    out->why, sizeof(out->why), TC_E_UNSUPPORTED,
		    "no protocol offered by the card (mask 0x%04X) is supported by the reader",
		    atr->protocols);
	out->request.protocol = (uint8_t)out->protocol;
	int di = -1;
	unsigned clk = 0;
	if (atr->ta1_present && atr->Fi != 0 && atr->Di != 0) {
		clk = tc_pps_clock_khz(caps, atr->fmax_khz);
		di = pick_di(atr, caps, clk);
	}
	if (di > 0 && !(atr->Fi == TC_FD && di == 1)) {
		out->request.has_pps1 = true;
		out->request.pps1 = (uint8_t)(atr->fi_nibble << 4 | (unsigned)di);
		out->Fi = atr->Fi;
		out->Di = tc_di((unsigned)di);
		out->clock_khz = clk;
	}
	out->send_pps = out->request.has_pps1 || out->protocol != atr->first_protocol;
	if (!out->send_pps)
		return say(out->why, sizeof(out->why), 0,
		           "no PPS: T=%u with the defaults Fd/Dd at %u kHz", out->protocol,
		           out->clock_khz);
	return say(out->why, sizeof(out->why), 0, "PPS: T=%u, Fi=%u, Di=%u at %u kHz%s",
	           out->protocol, out->Fi, out->Di, out->clock_khz,
	           out->request.has_pps1 ? "" : " (no PPS1: defaults stay)");
}
