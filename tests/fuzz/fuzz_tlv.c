/* fuzz_tlv.c: the BER-TLV parser on arbitrary bytes. A valid input is
 * walked to the bottom, then rebuilt object by object with the builder,
 * which must give the same bytes (one encoding per object). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_error.h"
#include "tc_tlv.h"
#include "fuzz.h"

static void rebuild(struct tc_tlv_builder *b, struct tc_tlv_iter *it, unsigned depth)
{
	struct tc_tlv t;
	struct tc_tlv_error e;

	while (tc_tlv_iter_next(it, &t, &e) == 1) {
		CHECK(t.offset + t.hdr_len + t.len <= 65536u);
		if (t.constructed && depth + 1 < TC_TLV_MAX_DEPTH) {
			struct tc_tlv_iter sub;
			tc_tlv_open(b, t.tag);
			tc_tlv_iter_into(&sub, &t);
			rebuild(b, &sub, depth + 1);
			tc_tlv_close(b);
		} else {
			tc_tlv_put(b, t.tag, t.value, t.len);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_tlv_error e = {0, NULL};
	struct tc_tlv t;
	static uint8_t out[65536];

	if (size > sizeof(out))
		return 0;
	int rc = tc_tlv_parse(data, size, &t, &e);
	if (rc == TC_OK)
		CHECK(t.hdr_len + t.len <= size && tc_tlv_tag_size(t.tag) == t.tag_len);
	else
		CHECK(rc < 0 && e.what != NULL && e.offset <= size);
	if (tc_tlv_validate(data, size, &e) == TC_OK) {
		struct tc_tlv_builder b;
		struct tc_tlv_iter it;
		tc_tlv_builder_init(&b, out, sizeof(out));
		tc_tlv_iter_init(&it, data, size);
		rebuild(&b, &it, 0);
		int n = tc_tlv_finish(&b);
		CHECK(n == (int)size && memcmp(out, data, size) == 0);
	} else {
		CHECK(e.what != NULL && e.offset <= size);
	}
	(void)tc_tlv_find(data, size, 0x5F20, &t, &e);
	return 0;
}
