/* fuzz_wire.c: the loopback wire decoder on arbitrary bytes.
 *
 * The input is read as a stream of messages, one after the other, as a peer
 * would receive them. Every message that decodes is encoded again and must
 * give back exactly the bytes it came from (with the reserved field zeroed,
 * which a receiver ignores); decoding stops at the first malformed or partial
 * message, whose reason must be a non-empty string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_error.h"
#include "tc_wire.h"
#include "fuzz.h"

static void check_one(const uint8_t *p, int n, const struct tc_wire_msg *m)
{
	uint8_t again[TC_WIRE_MAX_RUN_MSG];
	int k = tc_wire_encode(m, again, sizeof(again));

	if (k != n)
		abort();
	/* bytes 12..15 are reserved: the encoder writes 0, the decoder ignores */
	if (memcmp(again, p, 12) != 0 || memcmp(again + 16, p + 16, (size_t)n - 16) != 0)
		abort();
	if (tc_wire_type_name(m->type)[0] == '?')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct tc_wire_msg m;
		char why[80];
		int n = tc_wire_decode(data + off, size - off, &m, why, sizeof(why));
		if (n == 0)
			break; /* partial message: a reader would wait for more */
		if (n < 0) {
			if (n != TC_E_FORMAT || why[0] == '\0' || strlen(why) >= sizeof(why))
				abort();
			break;
		}
		if (n < TC_WIRE_HDR_LEN || (size_t)n > size - off || n > TC_WIRE_MAX_RUN_MSG)
			abort();
		check_one(data + off, n, &m);
		off += (size_t)n;
	}
	/* A tiny why buffer must be safe too. */
	struct tc_wire_msg m;
	char tiny[4];
	(void)tc_wire_decode(data, size, &m, tiny, sizeof(tiny));
	(void)tc_wire_decode(data, size, &m, NULL, 0);
	return 0;
}
