/* fuzz_ccid_desc.c: the CCID class descriptor parser on arbitrary bytes.
 * A decoded descriptor encodes back to the same 54 bytes; an accepted one
 * satisfies every rule of ccid_desc_check(); the description never
 * overflows, even into a tiny buffer; the quirk lookup keyed by the input's
 * first bytes never fails to return an entry that matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccid_desc.h"
#include "ccid_quirks.h"
#include "tc_error.h"
#include "fuzz.h"

static void check_accepted(const struct ccid_desc *d)
{
	CHECK(d->bLength == CCID_DESC_LEN && d->bDescriptorType == CCID_DESC_TYPE);
	CHECK(d->dwProtocols & (CCID_PROTO_T0 | CCID_PROTO_T1));
	CHECK(d->dwDefaultClock != 0 && d->dwDefaultClock <= d->dwMaximumClock);
	CHECK(d->dwDataRate != 0 && d->dwDataRate <= d->dwMaxDataRate);
	CHECK(d->max_msg_len >= CCID_MSG_LEN_MIN && d->max_msg_len <= CCID_MSG_LEN_EXTENDED);
	if (d->level == CCID_LEVEL_EXTENDED_APDU)
		CHECK(d->max_msg_len >= CCID_MSG_LEN_SHORT_APDU);
	CHECK(strcmp(ccid_level_name(d->level), "unknown") != 0);
}

static void fuzz_quirks(const uint8_t *data, size_t size, struct ccid_desc *d)
{
	if (size < 6)
		return;
	uint16_t vid = (uint16_t)(data[0] | data[1] << 8);
	uint16_t pid = (uint16_t)(data[2] | data[3] << 8);
	uint16_t bcd = (uint16_t)(data[4] | data[5] << 8);
	const struct ccid_quirk *q = ccid_quirk_lookup(vid, pid, bcd);
	if (q == NULL)
		return;
	CHECK(q->vid == vid && (q->pid == pid || q->pid == CCID_ANY_PID));
	CHECK(bcd >= q->bcd_min && bcd <= q->bcd_max);
	CHECK(q->name != NULL && q->source != NULL);
	(void)ccid_quirk_apply(q, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccid_desc d;
	char why[CCID_WHY_LEN], text[512], tiny[7];
	uint8_t again[CCID_DESC_LEN];

	int rc = ccid_desc_parse(data, size, &d, why, sizeof(why));
	CHECK(rc == TC_OK || rc == TC_E_SHORT || rc == TC_E_FORMAT);
	if (rc != TC_OK)
		CHECK(why[0] != '\0');
	if (rc == TC_E_SHORT)
		return 0;
	CHECK(ccid_desc_encode(&d, again, sizeof(again)) == CCID_DESC_LEN);
	CHECK(memcmp(again, data, CCID_DESC_LEN) == 0);
	if (rc == TC_OK)
		check_accepted(&d);
	(void)ccid_desc_describe(&d, text, sizeof(text));
	CHECK(strlen(text) < sizeof(text));
	(void)ccid_desc_describe(&d, tiny, sizeof(tiny));
	CHECK(strlen(tiny) < sizeof(tiny));
	fuzz_quirks(data, size, &d);
	return 0;
}
