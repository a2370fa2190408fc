/* tc_token_apdu.h: the deposit-token application's command set: command
 * builders (short APDUs, ISO 7816-4) and response parsers, shared by the
 * card, the tools, the kiosk and the host. docs/token-card.md, "Command
 * set", is the reference; the values here are its tables.
 *
 * Every builder writes a complete short command APDU (CLA INS P1 P2 [Lc
 * data] [Le]) into out and returns its length, or TC_E_INVAL /
 * TC_E_OVERFLOW. Every parser takes response data without SW1 SW2. */
#ifndef TC_TOKEN_APDU_H
#define TC_TOKEN_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_token.h"

#define TC_TOK_AID_LEN 7u
extern const uint8_t tc_tok_aid[TC_TOK_AID_LEN]; /* F0 54 4F 4B 45 4E 01 ("TOKEN" 01) */

#define TC_TOK_CLA_ISO  0x00u
#define TC_TOK_CLA_PROP 0x80u

/* ISO 7816-4 instructions */
#define TC_TOK_INS_VERIFY        0x20u
#define TC_TOK_INS_CHANGE_REF    0x24u
#define TC_TOK_INS_RESET_RETRY   0x2Cu
#define TC_TOK_INS_GET_CHALLENGE 0x84u
#define TC_TOK_INS_INT_AUTH      0x88u
#define TC_TOK_INS_SELECT        0xA4u
#define TC_TOK_INS_READ_RECORD   0xB2u
#define TC_TOK_INS_GET_DATA      0xCAu
/* Proprietary instructions (CLA 80) */
#define TC_TOK_INS_DEBIT_REQUEST  0xD0u
#define TC_TOK_INS_DEBIT_COMPLETE 0xD2u
#define TC_TOK_INS_PUT_TOKEN      0xDAu
#define TC_TOK_INS_PERSONALISE    0xE0u

/* P2 of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER: the PIN. */
#define TC_TOK_PIN_REF 0x80u

/* GET DATA tags (P1 P2); the answer is the whole data object. */
#define TC_TOK_DO_BALANCE   0xDF20u /* 10 bytes: amount (8, BE) || currency (2) */
#define TC_TOK_DO_ATC       0xDF21u /* 4 bytes BE */
#define TC_TOK_DO_PIN_TRIES 0xDF22u /* 1 byte */
#define TC_TOK_DO_LIFECYCLE 0xDF23u /* 1 byte, enum tc_tok_life */
#define TC_TOK_DO_CARD_ID   0xDF24u /* 1..16 bytes */
#define TC_TOK_DO_PUK_TRIES 0xDF25u /* 1 byte */
#define TC_TOK_DO_KEY_FLAGS 0xDF26u /* 1 byte: bit 0 = test keys */

/* PERSONALISE data objects (a sequence, any order, each once). */
#define TC_TOK_P_CARD_ID   0xDF30u /* 1..16 bytes */
#define TC_TOK_P_KEY_AUTH  0xDF31u /* 16 bytes */
#define TC_TOK_P_KEY_MAC   0xDF32u /* 16 bytes */
#define TC_TOK_P_KEY_TOKEN 0xDF33u /* 16 bytes */
#define TC_TOK_P_PIN       0xDF34u /* ASCII digits 4..12 */
#define TC_TOK_P_PUK       0xDF35u /* ASCII digits, exactly 8 */
#define TC_TOK_P_ATC       0xDF36u /* 4 bytes BE, optional (0) */
#define TC_TOK_P_FLAGS     0xDF37u /* 1 byte, optional (0); bit 0 = test keys */

/* PUT TOKEN: the token record (E1) followed by this object. */
#define TC_TOK_TAG_CMD_MAC 0x8Eu /* 16 bytes */

/* READ RECORD: P2 = SFI << 3 | 4. */
#define TC_TOK_SFI_TOKEN 1u /* one record: the token record */
#define TC_TOK_SFI_LOG   2u /* cyclic, record 1 = most recent */

#define TC_TOK_CARD_ID_MAX  16u
#define TC_TOK_PIN_MIN      4u
#define TC_TOK_PIN_MAX      12u
#define TC_TOK_PUK_LEN      8u
#define TC_TOK_PIN_TRIES    3u
#define TC_TOK_PUK_TRIES    10u
#define TC_TOK_LOG_MAX      10u
#define TC_TOK_CHALLENGE    8u
#define TC_TOK_TERMINAL_LEN 8u
#define TC_TOK_NONCE_LEN    8u
#define TC_TOK_MAC_LEN      16u
#define TC_TOK_AUTH_MIN     8u /* INTERNAL AUTHENTICATE challenge length */
#define TC_TOK_AUTH_MAX     32u
#define TC_TOK_DEBIT_REQ    30u /* DEBIT REQUEST data */
#define TC_TOK_DEBIT_RESP   20u /* ATC (4) || ARQC (16) */
#define TC_TOK_DEBIT_CPL    21u /* ATC (4) || outcome (1) || ARPC (16) */
#define TC_TOK_LOG_REC      35u
#define TC_TOK_APDU_MAX     261u /* 4 + 1 + 255 + 1 */

enum tc_tok_life {
	TC_TOK_BLANK = 0,
	TC_TOK_PERSONALISED = 1,
	TC_TOK_ACTIVE = 2,  /* holds a token */
	TC_TOK_BLOCKED = 3, /* PIN tries exhausted (PUK may unblock) or PUK exhausted */
	TC_TOK_EXPIRED = 4, /* a DEBIT REQUEST dated after the token's expiry came */
};
const char *tc_tok_life_name(enum tc_tok_life l);

/* DEBIT COMPLETE outcome byte, and the log's outcome of an attempt. */
enum tc_tok_outcome {
	TC_TOK_APPROVE = 0, /* host: approve; log: approved, balance debited */
	TC_TOK_DECLINE = 1, /* host: decline; log: declined by the host */
	TC_TOK_PENDING = 2, /* log: no completion (absent, or card pulled) */
	TC_TOK_REFUSED = 3, /* log: completion cryptogram wrong, refused */
};
const char *tc_tok_outcome_name(enum tc_tok_outcome o);

/* PIN block, ISO 9564 format 2: 2N, digits as BCD nibbles, F padding, 8
 * bytes. Encode: TC_E_FORMAT unless 4..12 digits (also used for the PUK).
 * Decode: digits (NUL-terminated, 13 bytes) or TC_E_FORMAT. */
int tc_tok_pin_block(const char *digits, uint8_t out[8]);
int tc_tok_pin_unblock(const uint8_t in[8], char digits[13]);

/* --- commands ---------------------------------------------------------------- */

int tc_tok_select(uint8_t *out, size_t cap);
/* pin NULL: Lc absent (tries left without using one). */
int tc_tok_verify(const char *pin, uint8_t *out, size_t cap);
int tc_tok_change_pin(const char *old_pin, const char *new_pin, uint8_t *out, size_t cap);
/* new_pin NULL: P1 = 01, PUK only (counter reset, PIN kept). */
int tc_tok_reset_retry(const char *puk, const char *new_pin, uint8_t *out, size_t cap);
int tc_tok_get_data(uint16_t tag, uint8_t *out, size_t cap);
/* Le 00 (up to 256 bytes). */
int tc_tok_read_record(uint8_t sfi, uint8_t rec, uint8_t *out, size_t cap);
int tc_tok_get_challenge(uint8_t *out, size_t cap);
int tc_tok_int_auth(const uint8_t *chal, size_t n, uint8_t *out, size_t cap);

struct tc_tok_debit {
	uint64_t amount; /* minor units, > 0 */
	uint16_t currency;
	struct tc_date date;
	uint8_t terminal[TC_TOK_TERMINAL_LEN];
	uint8_t nonce[TC_TOK_NONCE_LEN];
};
/* The 30 data bytes: amount (8 BE) currency (2) date (4) terminal (8) nonce (8). */
void tc_tok_debit_encode(const struct tc_tok_debit *d, uint8_t out[TC_TOK_DEBIT_REQ]);
int tc_tok_debit_decode(const uint8_t *in, size_t n, struct tc_tok_debit *d);
int tc_tok_debit_request(const struct tc_tok_debit *d, uint8_t *out, size_t cap);
int tc_tok_debit_complete(uint32_t atc, enum tc_tok_outcome outcome,
                          const uint8_t arpc[TC_TOK_MAC_LEN], uint8_t *out, size_t cap);
/* record: an encoded token record; mac: the host's PUT TOKEN MAC. */
int tc_tok_put_token(const uint8_t *record, size_t n, const uint8_t mac[TC_TOK_MAC_LEN],
                     uint8_t *out, size_t cap);

struct tc_tok_perso {
	uint8_t card_id[TC_TOK_CARD_ID_MAX];
	size_t card_id_len;
	uint8_t key_auth[16], key_mac[16], key_token[16];
	char pin[TC_TOK_PIN_MAX + 1];
	char puk[TC_TOK_PUK_LEN + 1];
	uint32_t atc; /* first value of the counter */
	bool test_keys;
};
/* PERSONALISE data (the TLV sequence) and the whole command. */
int tc_tok_perso_encode(const struct tc_tok_perso *p, uint8_t *out, size_t cap);
int tc_tok_perso_decode(const uint8_t *in, size_t n, struct tc_tok_perso *p, char *why, size_t cap);
int tc_tok_personalise(const struct tc_tok_perso *p, uint8_t *out, size_t cap);

/* --- responses --------------------------------------------------------------- */

/* The 63Cx tries left of a VERIFY / CHANGE / RESET answer: 0..15, or -1 when
 * sw is not 63Cx. */
int tc_tok_sw_tries(uint16_t sw);

struct tc_tok_status {
	uint64_t balance;
	uint16_t currency;
	uint32_t atc;
	unsigned pin_tries, puk_tries;
	enum tc_tok_life life;
	uint8_t card_id[TC_TOK_CARD_ID_MAX];
	size_t card_id_len;
	bool test_keys;
};
/* One GET DATA answer (the data object for tag) into the matching field of
 * st. 0, or TC_E_FORMAT (wrong tag, wrong length, unknown lifecycle). */
int tc_tok_parse_data(uint16_t tag, const uint8_t *resp, size_t n, struct tc_tok_status *st);

struct tc_tok_debit_resp {
	uint32_t atc;
	uint8_t arqc[TC_TOK_MAC_LEN];
};
int tc_tok_parse_debit(const uint8_t *resp, size_t n, struct tc_tok_debit_resp *r);
/* DEBIT COMPLETE answer: the balance after (8 bytes BE). */
int tc_tok_parse_balance(const uint8_t *resp, size_t n, uint64_t *balance);

struct tc_tok_log_entry {
	uint32_t atc;
	uint64_t amount;
	uint16_t currency;
	struct tc_date date;
	uint8_t terminal[TC_TOK_TERMINAL_LEN];
	enum tc_tok_outcome outcome;
	uint64_t balance; /* after the transaction */
};
/* 35 bytes: atc (4) amount (8) currency (2) date (4) terminal (8)
 * outcome (1) balance (8). */
void tc_tok_log_encode(const struct tc_tok_log_entry *e, uint8_t out[TC_TOK_LOG_REC]);
int tc_tok_log_decode(const uint8_t *in, size_t n, struct tc_tok_log_entry *e);

#endif
