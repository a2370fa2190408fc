/* bench_card.h: the two APDUs of the reader test application that the
 * benchmark readers (vpcd responder, null IFD handler) answer from memory,
 * with the same bytes tokencard-sim gives:
 *
 *   00 A4 04 00 Lc AID       SELECT: 90 00
 *   80 34 P1 P2 Le           P1P2 bytes 00 01 02 ... then 90 00
 *                            (Le 00 = 256; Le other than P1P2: 6C P1P2)
 *   anything else            6D 00 (6E 00 for another class) */
#ifndef TOKENCARD_BENCH_CARD_H
#define TOKENCARD_BENCH_CARD_H

#include <stddef.h>
#include <stdint.h>

/* The ATR both benchmark cards give: T=0 only, two historical bytes. */
extern const uint8_t bench_card_atr[4];

/* Answer the command APDU cmd[0..n) into rsp (cap >= 258 bytes); returns the
 * response length, or 0 when cap is too small. */
size_t bench_card_answer(const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap);

#endif
