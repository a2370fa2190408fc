/* fuzz_ccid_msg.c: the CCID message parsers on arbitrary bytes.
 * Input: [request index][slot][seq][max_msg_len lo][hi] then the bytes read
 * from bulk-IN (also parsed as an interrupt-IN message for a reader whose
 * bMaxSlotIndex is the slot byte). Checks: an accepted answer is exactly the
 * expected type, slot and sequence with dwLength matching the transfer; a
 * refused one always says why; a request rebuilt from the input parses back.
 * The same bytes, cut into frames ([len lo][len hi] then the frame), are a
 * chained response: every DataBlock the parser accepts goes to
 * ccid_chain_rx(), which must stay within its limit, count exactly the bytes
 * it accepted, say why it refuses and take nothing after the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccid_msg.h"
#include "ccid_le.h"
#include "tc_error.h"
#include "fuzz.h"

static const uint8_t requests[] = {
    CCID_PC_ICC_POWER_ON,      CCID_PC_ICC_POWER_OFF,    CCID_PC_GET_SLOT_STATUS, CCID_PC_XFR_BLOCK,
    CCID_PC_GET_PARAMETERS,    CCID_PC_SET_PARAMETERS,   CCID_PC_ESCAPE,          CCID_PC_ABORT,
    CCID_PC_SET_DATA_RATE_CLK, CCID_PC_RESET_PARAMETERS,
};

static void fuzz_reply(uint8_t req, const struct ccid_addr *a, const uint8_t *b, size_t n)
{
	struct ccid_reply r;
	char why[160];
	int rc = ccid_reply_parse(b, n, req, a, &r, why, sizeof(why));
	CHECK(rc <= 0 && rc >= TC_ERR_LAST);
	if (rc != TC_OK && r.type == 0) {
		CHECK(why[0] != '\0');
		return;
	}
	CHECK(r.type == ccid_reply_type_for(req));
	CHECK(r.slot == a->slot && r.seq == a->seq);
	CHECK(CCID_HDR_LEN + (uint64_t)r.length == n);
	CHECK(a->max_msg_len == 0 || n <= a->max_msg_len);
	if (rc == TC_OK) {
		CHECK(r.cmd == CCID_CMD_OK || r.cmd == CCID_CMD_TIME_EXT);
		if (r.type == CCID_RDR_SLOT_STATUS && r.cmd == CCID_CMD_OK)
			CHECK(r.length == 0);
	} else {
		CHECK(why[0] != '\0');
		CHECK(r.cmd == CCID_CMD_FAILED || rc == TC_E_PROTOCOL);
	}
}

static void fuzz_intr(uint8_t max_slot, const uint8_t *b, size_t n)
{
	struct ccid_intr in;
	char why[160];
	int rc = ccid_intr_parse(b, n, max_slot, &in, why, sizeof(why));
	CHECK(rc == TC_OK || rc == TC_E_SHORT || rc == TC_E_PROTOCOL);
	if (rc != TC_OK) {
		CHECK(why[0] != '\0');
		return;
	}
	for (unsigned s = 0; s <= (unsigned)max_slot + 1u; s++) {
		(void)ccid_intr_present(&in, s);
		(void)ccid_intr_changed(&in, s);
	}
	CHECK(!ccid_intr_present(&in, (unsigned)max_slot + 1u));
}

/* An XfrBlock of the payload and its DataBlock answer echoing it. */
static void fuzz_roundtrip(const struct ccid_addr *a, const uint8_t *b, size_t n)
{
	static uint8_t msg[CCID_HDR_LEN + 4096];
	struct ccid_reply r;
	if (n > 4096)
		n = 4096;
	int len = ccid_build_xfr_block(msg, sizeof(msg), a, 0, 0, b, n);
	if (len < 0) {
		CHECK(len == TC_E_LONG);
		return;
	}
	CHECK((size_t)len == CCID_HDR_LEN + n && ccid_get32(msg + 1) == n);
	msg[0] = CCID_RDR_DATA_BLOCK;
	msg[7] = msg[8] = msg[9] = 0;
	CHECK(ccid_reply_parse(msg, (size_t)len, CCID_PC_XFR_BLOCK, a, &r, NULL, 0) == TC_OK);
	CHECK(r.length == n && (n == 0 || memcmp(r.data, b, n) == 0));
}

static void fuzz_chain(const struct ccid_addr *a, const uint8_t *b, size_t n)
{
	struct ccid_chain c;
	struct ccid_reply r;
	char why[160];
	size_t sum = 0;
	unsigned pieces = 0;
	ccid_chain_init(&c, a->max_msg_len ? a->max_msg_len : CCID_CHAIN_MAX_RESP);
	while (n >= 2) {
		size_t len = ccid_get16(b);
		b += 2;
		n -= 2;
		if (len > n)
			len = n;
		int prc = ccid_reply_parse(b, len, CCID_PC_XFR_BLOCK, a, &r, NULL, 0);
		b += len;
		n -= len;
		if (prc != TC_OK || r.cmd != CCID_CMD_OK)
			continue;
		bool was_done = c.done;
		why[0] = '\0';
		int rc = ccid_chain_rx(&c, &r, why, sizeof(why));
		if (was_done) {
			CHECK(rc == TC_E_INVAL);
			return;
		}
		if (rc != TC_OK) {
			CHECK((rc == TC_E_PROTOCOL || rc == TC_E_LONG) && why[0] != '\0');
			CHECK(c.got == sum && c.pieces == pieces);
			return;
		}
		sum += r.length;
		pieces++;
		CHECK(c.got == sum && c.pieces == pieces && c.got <= c.limit);
		CHECK(c.done == (r.specific == CCID_CHAIN_WHOLE || r.specific == CCID_CHAIN_END));
		CHECK(pieces == 1
		          ? (r.specific == CCID_CHAIN_WHOLE || r.specific == CCID_CHAIN_BEGIN)
		          : (r.specific == CCID_CHAIN_END || r.specific == CCID_CHAIN_MIDDLE));
		CHECK(c.done || r.length > 0);
		(void)ccid_chain_tx_ack(&r, why, sizeof(why));
	}
	size_t total = (size_t)a->max_msg_len + n;
	for (size_t off = 0; off < total; off += 261) {
		size_t len = total - off < 261 ? total - off : 261;
		uint16_t p = ccid_chain_tx_param(off, len, total);
		CHECK((off == 0) == (p == CCID_XFR_WHOLE || p == CCID_XFR_BEGIN));
		CHECK((off + len >= total) == (p == CCID_XFR_WHOLE || p == CCID_XFR_END));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	uint8_t req = requests[data[0] % sizeof(requests)];
	struct ccid_addr a = {.slot = data[1], .seq = data[2]};
	a.max_msg_len = ccid_get16(data + 3);
	fuzz_reply(req, &a, data + 5, size - 5);
	fuzz_intr(data[1], data + 5, size - 5);
	fuzz_roundtrip(&a, data + 5, size - 5);
	fuzz_chain(&a, data + 5, size - 5);
	return 0;
}
