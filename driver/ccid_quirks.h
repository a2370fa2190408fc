/* ccid_quirks.h: the one table of USB CCID reader quirks, keyed by idVendor,
 * idProduct and a range of bcdDevice (the firmware release).
 *
 * Readers are found by the USB transport; before it trusts the CCID
 * descriptor it asks ccid_quirk_lookup() and applies what the entry says:
 * refuse a firmware known to be broken, or fix a descriptor field known to
 * be wrong (ccid_quirk_apply(), between ccid_desc_decode() and
 * ccid_desc_check()). Code paths never test a VID/PID themselves.
 *
 * Every entry names where the fact comes from. Pure: no I/O. */
#ifndef TC_CCID_QUIRKS_H
#define TC_CCID_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

struct ccid_desc;

#define CCID_ANY_PID 0xFFFFFFFFu /* match every product of the vendor */

/* What an entry does. */
#define CCID_QUIRK_BOGUS_FIRMWARE 0x0001u /* refuse: firmware in range is known broken */
#define CCID_QUIRK_MSG_LEN                                                                         \
	0x0002u                      /* raise dwMaxCCIDMessageLength from                          \
	                              * bad_msg_len to msg_len */
#define CCID_QUIRK_TEST_ONLY 0x8000u /* entry of the test table only */

struct ccid_quirk {
	uint16_t vid;
	uint32_t pid;     /* CCID_ANY_PID for a whole vendor */
	uint16_t bcd_min; /* bcdDevice range, inclusive */
	uint16_t bcd_max;
	unsigned flags;       /* CCID_QUIRK_* */
	uint32_t bad_msg_len; /* CCID_QUIRK_MSG_LEN: the value the firmware reports */
	uint32_t msg_len;     /* CCID_QUIRK_MSG_LEN: the value to use */
	const char *name;     /* reader name */
	const char *source;   /* where the fact is documented */
};

/* The first entry matching vid, pid and bcd, or NULL. An entry for one PID
 * is searched before the vendor-wide entries. */
const struct ccid_quirk *ccid_quirk_lookup(uint16_t vid, uint16_t pid, uint16_t bcd);

/* The same over another table (tests). */
const struct ccid_quirk *ccid_quirk_lookup_in(const struct ccid_quirk *table, unsigned n,
                                              uint16_t vid, uint16_t pid, uint16_t bcd);

/* Apply the descriptor fixes of q (NULL: none) to d. Returns true when a
 * field was changed. The refusal of CCID_QUIRK_BOGUS_FIRMWARE is the
 * caller's: it logs q->name and q->source and does not open the reader. */
bool ccid_quirk_apply(const struct ccid_quirk *q, struct ccid_desc *d);

/* The built-in table, for listing and tests. */
const struct ccid_quirk *ccid_quirk_table(unsigned *n);

#endif
