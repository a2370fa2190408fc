/* fuzz_ccid_list.c: the answers of GET_CLOCK_FREQUENCIES and GET_DATA_RATES
 * (ccid_list_parse) and the PPS capabilities derived from a descriptor and
 * those lists (ccid_desc_caps), on arbitrary bytes.
 *
 * Input: 54 bytes of class descriptor (decoded, not judged: the caps must
 * cope with any), one byte k, then k x 4 bytes (at most what is left) of
 * clock list and the rest as data-rate list. Checks: an accepted list is
 * strictly ascending, non-empty, within (0, max]; a refused one says why; the
 * caps never widen the defaults, keep the clock list within the maximum, hold
 * valid pairs only, each pair at a listed rate when a rate list is given; and
 * tc_pps_decide() on a few ATRs asks only for what the caps allow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccid_desc.h"
#include "tc_atr.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "tc_timing.h"
#include "fuzz.h"

static size_t parse_list(const uint8_t *b, size_t n, uint32_t max, uint32_t *out)
{
	size_t count = 99;
	unsigned dropped = 0;
	char why[CCID_WHY_LEN];
	int rc = ccid_list_parse(b, n, max, "test", out, CCID_MAX_LIST, &count, &dropped, why,
	                         sizeof(why));
	CHECK(rc == TC_OK || rc == TC_E_FORMAT);
	if (rc != TC_OK) {
		CHECK(why[0] != '\0' && count == 0);
		return 0;
	}
	CHECK(count >= 1 && count <= CCID_MAX_LIST && count + dropped <= n / 4);
	for (size_t i = 0; i < count; i++) {
		CHECK(out[i] != 0 && out[i] <= max);
		if (i > 0)
			CHECK(out[i] > out[i - 1]);
	}
	return count;
}

static bool rate_listed(const struct tc_reader_caps *c, uint8_t pair, const uint32_t *rates,
                        size_t n)
{
	unsigned fi = pair >> 4, di = pair & 15u;
	unsigned clk = tc_pps_clock_khz(c, tc_fmax_khz(fi));
	uint32_t rate = tc_baud(clk * 1000u, tc_fi(fi), tc_di(di));
	for (size_t i = 0; i < n; i++)
		if (tc_pps_rate_near(rate, rates[i]))
			return true;
	return false;
}

static void check_caps(const struct ccid_desc *d, const struct tc_reader_caps *c,
                       const uint32_t *rates, size_t nrates)
{
	CHECK(c->max_clock_khz <= 20000);
	if (d->dwMaximumClock)
		CHECK(c->max_clock_khz <= d->dwMaximumClock);
	if (d->dwMaxDataRate)
		CHECK(c->max_baud != 0 && c->max_baud <= d->dwMaxDataRate);
	CHECK(c->nclocks <= TC_PPS_MAX_CLOCKS);
	for (unsigned i = 0; i < c->nclocks; i++)
		CHECK(c->clocks_khz[i] != 0 && c->clocks_khz[i] <= c->max_clock_khz);
	CHECK(c->npairs <= TC_PPS_MAX_PAIRS);
	CHECK((c->protocols & ~1u) == 0);
	for (unsigned i = 0; i < c->npairs; i++) {
		CHECK(tc_fi(c->pairs[i] >> 4) != 0 && tc_di(c->pairs[i] & 15u) != 0);
		if (nrates)
			CHECK(rate_listed(c, c->pairs[i], rates, nrates));
	}
}

/* The decision for a few cards stays within the caps. */
static void check_decisions(const struct tc_reader_caps *c)
{
	static const uint8_t atrs[][3] = {
	    {0x3B, 0x10, 0x96}, {0x3B, 0x10, 0x18}, {0x3B, 0x10, 0x11}, {0x3B, 0x10, 0xD7}};
	for (size_t i = 0; i < sizeof(atrs) / sizeof(atrs[0]); i++) {
		struct tc_atr atr;
		struct tc_pps_decision d;
		CHECK(tc_atr_parse(atrs[i], 3, &atr) == TC_OK);
		int rc = tc_pps_decide(&atr, c, &d);
		CHECK(rc == TC_OK || rc == TC_E_UNSUPPORTED);
		CHECK(d.why[0] != '\0');
		if (rc != TC_OK || !d.request.has_pps1)
			continue;
		CHECK(tc_pps_reader_has(c, d.request.pps1));
		CHECK(d.clock_khz <= c->max_clock_khz);
		uint64_t baud = (uint64_t)d.clock_khz * 1000u * d.Di / d.Fi;
		CHECK(c->max_baud == 0 || baud <= c->max_baud);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t clocks[CCID_MAX_LIST], rates[CCID_MAX_LIST];
	struct ccid_desc d;

	if (size < CCID_DESC_LEN + 1)
		return 0;
	CHECK(ccid_desc_decode(data, size, &d) == TC_OK);
	size_t left = size - CCID_DESC_LEN - 1;
	size_t kc = (size_t)data[CCID_DESC_LEN] * 4u;
	if (kc > left)
		kc = left;
	const uint8_t *lists = data + CCID_DESC_LEN + 1;
	size_t nclocks = parse_list(lists, kc, d.dwMaximumClock, clocks);
	size_t nrates = parse_list(lists + kc, left - kc, d.dwMaxDataRate, rates);

	struct tc_reader_caps c = {
	    .max_clock_khz = 20000, .default_clock_khz = 3571, .di_mask = 0x3FE, .protocols = 1};
	ccid_desc_caps(&d, clocks, nclocks, rates, nrates, &c);
	check_caps(&d, &c, rates, nrates);
	check_decisions(&c);
	return 0;
}
