/* fuzz_card_os.c: the card OS (SELECT, GET RESPONSE, ENVELOPE collection,
 * long responses) with the reader test application, fed a stream of T=0
 * commands: each is a 5-byte header, then P3 data bytes when the OS asks for
 * them. Checks what every answer must keep: data only to a command without
 * data, never more than one TPDU carries (256), and exactly Le bytes (P3,
 * 00 = 256) when more is kept for GET RESPONSE (61xx); a length other than
 * Le and at most 256 is the engine's to turn into 6Cxx. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_card_os.h"
#include "fuzz.h"

static struct tc_t0c_resp resp; /* large: off the stack */

static void one(struct tc_card_os *os, const uint8_t *hdr, const uint8_t *d, size_t n)
{
	memset(&resp, 0, sizeof(resp));
	enum tc_t0c_verdict v = tc_card_os_command(os, hdr, NULL, 0, &resp);
	if (v == TC_T0C_WANT_DATA) {
		memset(&resp, 0, sizeof(resp));
		if (tc_card_os_command(os, hdr, d, n, &resp) != TC_T0C_RESPOND || resp.len != 0)
			abort();
		return;
	}
	size_t le = hdr[4] ? hdr[4] : 256u;
	if (resp.len > 256 || (resp.len > 0 && resp.sw1 == 0x61 && resp.len != le))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_card_os *os = tc_card_os_new();

	if (!os || tc_card_os_add(os, tc_card_app_test(), NULL, true) != 0) {
		tc_card_os_free(os);
		return 0;
	}
	tc_card_os_reset(os);
	size_t off = 0;
	while (off + 5 <= size) {
		const uint8_t *hdr = data + off;
		off += 5;
		size_t n = hdr[4];
		if (n > size - off)
			n = size - off;
		if (hdr[0] == 0xFE) { /* a reset between commands */
			tc_card_os_reset(os);
			continue;
		}
		one(os, hdr, data + off, n);
		off += n;
	}
	tc_card_os_free(os);
	return 0;
}
