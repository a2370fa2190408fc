/* ccid_quirks.c: the reader quirk table (see ccid_quirks.h). */
#include "ccid_quirks.h"

#include <stddef.h>

#include "ccid_desc.h"

/* Sources:
 *  [ccid-fw]  the free CCID driver for pcsc-lite, src/ccid_usb.c,
 *             Bogus_firmwares[]: a firmware (bcdDevice) below the listed
 *             release has bugs; the driver refuses it by default.
 *  [ccid-scm] the same driver, src/commands.c: "The firmware of SCM readers
 *             reports dwMaxCCIDMessageLength = 263 instead of 270". */
#define SRC_FW  "CCID driver Bogus_firmwares[] (src/ccid_usb.c)"
#define SRC_SCM "CCID driver src/commands.c, SCM dwMaxCCIDMessageLength"

static const struct ccid_quirk ccid_quirks[] = {
    {0x04E6, 0xE001, 0x0000, 0x0515, CCID_QUIRK_BOGUS_FIRMWARE, 0, 0, "SCM SCR 331", SRC_FW},
    {0x04E6, 0x5111, 0x0000, 0x061F, CCID_QUIRK_BOGUS_FIRMWARE, 0, 0, "SCM SCR 331-DI", SRC_FW},
    {0x04E6, 0xE003, 0x0000, 0x050F, CCID_QUIRK_BOGUS_FIRMWARE, 0, 0, "SCM SPR 532", SRC_FW},
    {0x0D46, 0x3001, 0x0000, 0x0036, CCID_QUIRK_BOGUS_FIRMWARE, 0, 0, "KOBIL KAAN Base", SRC_FW},
    {0x0D46, 0x3002, 0x0000, 0x0036, CCID_QUIRK_BOGUS_FIRMWARE, 0, 0, "KOBIL KAAN Advanced",
     SRC_FW},
    {0x04E6, CCID_ANY_PID, 0x0000, 0xFFFF, CCID_QUIRK_MSG_LEN, 263, 270, "SCM readers", SRC_SCM},
};

#define NQUIRKS ((unsigned)(sizeof(ccid_quirks) / sizeof(ccid_quirks[0])))

static bool matches(const struct ccid_quirk *q, uint16_t vid, uint32_t pid, uint16_t bcd)
{
	return q->vid == vid && q->pid == pid && bcd >= q->bcd_min && bcd <= q->bcd_max;
}

const struct ccid_quirk *ccid_quirk_lookup_in(const struct ccid_quirk *table, unsigned n,
                                              uint16_t vid, uint16_t pid, uint16_t bcd)
{
	if (table == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		if (matches(&table[i], vid, pid, bcd))
			return &table[i];
	for (unsigned i = 0; i < n; i++)
		if (matches(&table[i], vid, CCID_ANY_PID, bcd))
			return &table[i];
	return NULL;
}

const struct ccid_quirk *ccid_quirk_lookup(uint16_t vid, uint16_t pid, uint16_t bcd)
{
	return ccid_quirk_lookup_in(ccid_quirks, NQUIRKS, vid, pid, bcd);
}

bool ccid_quirk_apply(const struct ccid_quirk *q, struct ccid_desc *d)
{
	if (q == NULL || d == NULL)
		return false;
	if ((q->flags & CCID_QUIRK_MSG_LEN) && d->dwMaxCCIDMessageLength == q->bad_msg_len) {
		d->dwMaxCCIDMessageLength = q->msg_len;
		d->max_msg_len = q->msg_len;
		return true;
	}
	return false;
}

const struct ccid_quirk *ccid_quirk_table(unsigned *n)
{
	if (n)
		*n = NQUIRKS;
	return ccid_quirks;
}
