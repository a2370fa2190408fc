/* tc_apdu.h: command APDUs (ISO/IEC 7816-4 encoding) and their transport over
 * T=0 TPDUs (the ISO/IEC 7816-3 transport layer).
 *
 * The TPDUs go through a caller's exchange function, tc_tpdu_xfer_fn, so the
 * same code runs over the T=0 engine on a wire (driver), a scripted card in
 * memory (unit tests) or a TPDU-level reader.
 *
 * What tc_apdu_transmit() does (pcscd hands 61xx / 6Cxx to the driver, so the
 * driver completes the exchange; this is the documented, tested behaviour):
 *
 *  case 1        one TPDU, P3 = 00. The status word is returned as it is.
 *  case 2S       one TPDU, P3 = Ne (256 -> 00).
 *  case 2E       as 2S when Ne <= 256; otherwise P3 = 00 (256 bytes).
 *  case 3S, 3E   with Nc <= 255: one TPDU, P3 = Nc; the status word is
 *                returned as it is (no response data is asked: Ne = 0).
 *  case 4S, 4E   with Nc <= 255: sent as case 3, then
 *                  61xx -> GET RESPONSE chain (below);
 *                  9000 -> one GET RESPONSE with P3 = min(Ne, 256) (Ne is
 *                          never 0 in case 4, so it is always asked). If the
 *                          card refuses it (any SW other than 61xx / 9000,
 *                          after a 6Cxx re-issue), the command's own 9000 is
 *                          returned with no data: the command did succeed;
 *                  any other SW -> returned as it is.
 *  3E, 4E        with Nc > 255: the whole command APDU (its extended encoding,
 *                as given) is cut into ENVELOPE TPDUs (CLA C2 00 00 P3, P3 <=
 *                255, CLA of the command). Every ENVELOPE but the last must
 *                answer 9000, otherwise that SW is returned at once. The last
 *                one's SW is handled as for 3S (3E) or 4S (4E). No empty
 *                ENVELOPE is sent: the card knows the end from the APDU's Lc.
 *
 *  6Cxx on an incoming TPDU (case 2, GET RESPONSE): re-issued once with
 *  P3 = xx; the data of the re-issued TPDU is returned even when xx > Ne
 *  (the card told the exact length; dropping bytes would lose them).
 *
 *  GET RESPONSE chain: while SW = 61xx and fewer than Ne bytes were received,
 *  GET RESPONSE (CLA C0 00 00 P3, CLA of the command) with P3 = min(xx, Ne -
 *  received) (xx = 00 means 256). When Ne is reached and the card still says
 *  61xx, the data and that 61xx are returned, so the caller may fetch more.
 *
 *  Limits: at most link->max_chain TPDUs after the first one (GET RESPONSE,
 *  re-issues; ENVELOPE pieces are bounded by the APDU length instead), else
 *  TC_E_LIMIT; response data at most Ne (+ what a 6Cxx re-issue gives) and at
 *  most TC_APDU_MAX_RESP with SW, else TC_E_OVERFLOW when cap is smaller.
 *  A TPDU answer is checked: at least SW1 SW2, no data for an outgoing TPDU,
 *  never more than P3 announced (TC_E_PROTOCOL).
 *
 *  With TC_APDU_RAW in link->flags, none of the automatic steps happens: no
 *  GET RESPONSE, no 6Cxx re-issue; the first TPDU's answer (or the last
 *  ENVELOPE's) is returned as the card gave it. */
#ifndef TC_APDU_H
#define TC_APDU_H

#include <stddef.h>
#include <stdint.h>

#define TC_APDU_MAX_NC            65535u
#define TC_APDU_MAX_NE            65536u
#define TC_APDU_MAX_LEN           (4u + 3u + 65535u + 2u) /* case 4E, Nc = 65535 */
#define TC_APDU_MAX_RESP          (65536u + 2u)           /* data + SW1 SW2 */
#define TC_APDU_TPDU_RESP_MAX     (256u + 2u)             /* one TPDU's answer */
#define TC_APDU_ENVELOPE_PIECE    255u
#define TC_APDU_DEFAULT_MAX_CHAIN 260u /* 65536 bytes in 256-byte GET RESPONSEs, and spare */
#define TC_APDU_INS_GET_RESPONSE  0xC0u
#define TC_APDU_INS_ENVELOPE      0xC2u

enum tc_apdu_case {
	TC_APDU_CASE_1 = 1,
	TC_APDU_CASE_2S,
	TC_APDU_CASE_3S,
	TC_APDU_CASE_4S,
	TC_APDU_CASE_2E,
	TC_APDU_CASE_3E,
	TC_APDU_CASE_4E,
};

struct tc_apdu {
	enum tc_apdu_case kind;
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* Nc bytes inside the parsed buffer; NULL when Nc = 0 */
	size_t nc;           /* 0..65535 */
	size_t ne;           /* 0 (no Le), 1..256 (short), 1..65536 (extended) */
};

/* Parse and validate a command APDU. TC_OK, or TC_E_SHORT (fewer than 4
 * bytes, truncated extended length), TC_E_FORMAT (length fields disagree with
 * the size, Lc = 0, CLA FF, INS 6X / 9X), TC_E_INVAL (NULL). *reason (when
 * not NULL) is set to a static sentence on error. */
int tc_apdu_parse(const uint8_t *buf, size_t len, struct tc_apdu *out, const char **reason);
/* "2S"...; "?" outside the enum. */
const char *tc_apdu_case_name(enum tc_apdu_case c);

/* Exchange one TPDU. hdr = CLA INS P1 P2 P3. n_data > 0: command data of
 * n_data (= P3) bytes, the card answers SW1 SW2 only. n_data = 0: the card
 * may send up to P3 bytes (00 = 256). Writes data + SW1 SW2 into resp (cap >=
 * TC_APDU_TPDU_RESP_MAX is always given) and its length into *resp_len.
 * Returns TC_OK or a tc_err (timeout, parity, protocol, I/O...), which the
 * APDU layer passes on unchanged. */
typedef int (*tc_tpdu_xfer_fn)(void *ctx, const uint8_t hdr[5], const uint8_t *data, size_t n_data,
                               uint8_t *resp, size_t cap, size_t *resp_len);

#define TC_APDU_RAW 0x1u /* no automatic GET RESPONSE, no 6Cxx re-issue */

struct tc_apdu_link {
	tc_tpdu_xfer_fn xfer; /* required */
	void *ctx;            /* passed to xfer */
	unsigned flags;       /* TC_APDU_RAW or 0 */
	unsigned max_chain;   /* TPDUs after the first; 0 = TC_APDU_DEFAULT_MAX_CHAIN */
};

/* Send one command APDU, receive the response APDU (data + SW1 SW2) into
 * resp. TC_OK, a parse error (as tc_apdu_parse), TC_E_OVERFLOW (cap), TC_E_LIMIT
 * (chain), TC_E_PROTOCOL (a TPDU answer out of bounds), or xfer's error.
 * *reason (when not NULL) is set to a static sentence on error. */
int tc_apdu_transmit(const struct tc_apdu_link *link, const uint8_t *apdu, size_t len,
                     uint8_t *resp, size_t cap, size_t *resp_len, const char **reason);

#endif
