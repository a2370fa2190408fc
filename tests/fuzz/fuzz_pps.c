/* fuzz_pps.c: the PPS codecs on arbitrary bytes: the whole input as a
 * request (card side), the first half as a request and the second half as
 * the card's answer (reader side), and the decision for an ATR made of the
 * input against a reader described by its first bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "fuzz.h"

static void fuzz_request_answer(const uint8_t *data, size_t size)
{
	struct tc_pps req, again;
	struct tc_pps_result res;
	char why[TC_PPS_WHY_LEN];
	uint8_t buf[TC_PPS_MAX_LEN];

	if (tc_pps_parse_request(data, size, &req, why, sizeof(why)) == 0) {
		/* A valid request rebuilds to the same bytes. */
		int n = tc_pps_build(&req, buf, sizeof(buf));
		CHECK(n > 0 && (size_t)n == size && memcmp(buf, data, size) == 0);
	}
	size_t half = size / 2;
	if (tc_pps_parse(data, half, &req, why, sizeof(why)) != 0)
		return;
	int rc = tc_pps_check_answer(&req, data + half, size - half, &res, why, sizeof(why));
	CHECK(rc <= 0);
	if (rc == 0) {
		CHECK(res.protocol == req.protocol);
		CHECK(res.Fi != 0 && res.Di != 0);
		CHECK(tc_pps_parse(data + half, size - half, &again, NULL, 0) == 0);
	}
}

static void fuzz_decide(const uint8_t *data, size_t size)
{
	struct tc_reader_caps caps;
	struct tc_atr atr;
	struct tc_pps_decision d;

	if (size < 8)
		return;
	memset(&caps, 0, sizeof(caps));
	caps.max_clock_khz = 1000u + (unsigned)data[0] * 100u;
	caps.default_clock_khz = 1000u + (unsigned)data[1] * 20u;
	caps.max_baud = (uint32_t)data[2] * 4000u;
	caps.di_mask = (uint16_t)(data[3] | data[4] << 8);
	caps.protocols = (uint16_t)(data[5] | data[6] << 8);
	caps.npairs = data[7] % 4u;
	for (unsigned i = 0; i < caps.npairs && 8u + i < size; i++)
		caps.pairs[i] = data[8 + i];
	if (tc_atr_parse(data + 8, size - 8, &atr) != 0)
		return;
	int rc = tc_pps_decide(&atr, &caps, &d);
	CHECK(rc == 0 || rc == TC_E_UNSUPPORTED);
	CHECK(d.why[0] != '\0');
	if (rc != 0)
		return;
	CHECK(d.Fi != 0 && d.Di != 0);
	CHECK(!d.send_pps || !atr.specific_mode);
	if (d.request.has_pps1)
		CHECK((d.request.pps1 >> 4) == atr.fi_nibble && d.Di <= atr.Di);
	uint8_t buf[TC_PPS_MAX_LEN];
	if (d.send_pps)
		CHECK(tc_pps_build(&d.request, buf, sizeof(buf)) > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request_answer(data, size);
	fuzz_decide(data, size);
	return 0;
}
