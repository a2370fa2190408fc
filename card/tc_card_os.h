/* tc_card_os.h: a tiny card operating system on top of the T=0 card engine.
 *
 * It answers SELECT by AID (00 A4 04 00 Lc AID: 9000, or 6A82 for an unknown
 * AID, the selection then unchanged) and GET RESPONSE (CLA C0 00 00 Le) for
 * response data kept after a case 4 command or beyond the 256 bytes of a
 * case 2 answer (announced as 61xx, xx = bytes left, 00 = 256 or more; up to
 * TC_CARD_MAX_RESP bytes in a chain), collects command APDUs sent in
 * ENVELOPE pieces (CLA C2 00 00 P3, see envelope() in tc_card_os.c and
 * docs/tokencard-sim.md: extended Lc through T=0, as protocol/tc_apdu.h sends
 * them), and dispatches every other command to the selected application.
 * After each reset the default application is selected (the first one
 * registered as default), so that a reader can use it without SELECT. CLA FF
 * answers 6E00; no application selected 6D00; GET RESPONSE with nothing kept
 * 6985, with Le larger than what is kept 6Cxx. A case 2 answer longer than
 * 256 bytes: its first Le bytes (P3, 00 = 256) and 61xx. Pure: no I/O. The
 * OS is about 200 KB (response and ENVELOPE buffers), on the heap. */
#ifndef TC_CARD_OS_H
#define TC_CARD_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_card_app.h"
#include "tc_t0_card.h"

#define TC_CARD_MAX_APPS 8u

struct tc_card_os;

struct tc_card_os *tc_card_os_new(void);
void tc_card_os_free(struct tc_card_os *os);
/* Register app (not copied: it must outlive the OS). Returns 0, TC_E_LIMIT
 * when the table is full, TC_E_INVAL for an app without name, AID,
 * has_data or process. */
int tc_card_os_add(struct tc_card_os *os, const struct tc_card_app *app, void *priv,
                   bool is_default);
/* Make no application the default (sim config default_app = none). */
void tc_card_os_set_default(struct tc_card_os *os, const char *name);
/* Name of the selected application, "" when none. */
const char *tc_card_os_selected(const struct tc_card_os *os);

/* The engine callbacks; user = the struct tc_card_os. */
const struct tc_t0c_ops *tc_card_os_ops(void);

/* Process one command APDU directly (tests and tools): hdr is CLA INS P1 P2
 * P3 as in T=0, data the P3 bytes when the command has data. Same result
 * as through the engine, except that 6Cxx for a wrong Le is the engine's. */
enum tc_t0c_verdict tc_card_os_command(struct tc_card_os *os, const uint8_t hdr[5],
                                       const uint8_t *data, size_t n, struct tc_t0c_resp *resp);
void tc_card_os_reset(struct tc_card_os *os);

#endif
