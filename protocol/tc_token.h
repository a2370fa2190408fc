/* tc_token.h: the deposit token record (the ten items of the drawing) and
 * its BER-TLV encoding with the issuer MAC.
 *
 * Encoding (docs/token-card.md, "Token record"), all items mandatory, in
 * this order, nothing else inside the template:
 *   E1 L  token record template
 *     DF01 token ID            ASCII digits, 1..20
 *     DF02 user name           printable ASCII (20..7E), 1..26, no leading or
 *                              trailing space
 *     DF03 user ID             ASCII digits, 1..20
 *     DF04 amount for deposit  8 bytes, unsigned big-endian, minor units, > 0
 *     DF05 currency            2 bytes, ISO 4217 numeric code 1..999
 *     DF06 date of deposit     4 bytes: year (2 bytes BE), month, day
 *     DF07 expiration date     4 bytes, same; not before the date of deposit
 *     DF08 bank ID             ASCII digits, 1..8
 *     DF09 bank account        ASCII digits, 1..20
 *     DF0A credit card company ID  ASCII digits, 1..8
 *     DF0B credit card number  ASCII digits, 12..19
 *     DF0F issuer MAC          16 bytes: AES-CMAC under the key for tokens
 *                              over "TCTOKEN1" || the bytes of DF01..DF0B
 * The key for tokens is the one the credit service provider hands to the
 * bank; the bank seals a token with it, the credit side verifies it at
 * payment. The card cannot verify it (it does not hold that key); it checks
 * the record's form and the host's PUT TOKEN MAC. */
#ifndef TC_TOKEN_H
#define TC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_TOKEN_NAME_MAX     26u
#define TC_TOKEN_ID_MAX       20u /* token ID, user ID, bank account */
#define TC_TOKEN_SHORT_ID_MAX 8u  /* bank ID, credit card company ID */
#define TC_TOKEN_PAN_MIN      12u
#define TC_TOKEN_PAN_MAX      19u
#define TC_TOKEN_MAC_LEN      16u
#define TC_TOKEN_MAX_ENC      200u /* longest encoded record */
#define TC_TOKEN_WHY_LEN      96u

#define TC_TOKEN_TAG_RECORD   0xE1u
#define TC_TOKEN_TAG_ID       0xDF01u
#define TC_TOKEN_TAG_NAME     0xDF02u
#define TC_TOKEN_TAG_USER_ID  0xDF03u
#define TC_TOKEN_TAG_AMOUNT   0xDF04u
#define TC_TOKEN_TAG_CURRENCY 0xDF05u
#define TC_TOKEN_TAG_DEPOSIT  0xDF06u
#define TC_TOKEN_TAG_EXPIRY   0xDF07u
#define TC_TOKEN_TAG_BANK     0xDF08u
#define TC_TOKEN_TAG_ACCOUNT  0xDF09u
#define TC_TOKEN_TAG_COMPANY  0xDF0Au
#define TC_TOKEN_TAG_PAN      0xDF0Bu
#define TC_TOKEN_TAG_MAC      0xDF0Fu

/* A calendar date (proleptic Gregorian), year 1900..9999. */
struct tc_date {
	uint16_t year;
	uint8_t month, day;
};

bool tc_date_valid(const struct tc_date *d);
/* <0, 0, >0 as a is before, the same as, after b. */
int tc_date_cmp(const struct tc_date *a, const struct tc_date *b);
/* "2002-09-10" or "2002/09/10" (exactly). 0 or TC_E_FORMAT. */
int tc_date_parse(const char *text, struct tc_date *d);
/* "2002-09-10" into out (11 bytes at least). */
void tc_date_format(const struct tc_date *d, char out[11]);
/* 4 bytes: year BE, month, day; decode checks validity (TC_E_FORMAT). */
void tc_date_put(const struct tc_date *d, uint8_t out[4]);
int tc_date_get(const uint8_t in[4], struct tc_date *d);

struct tc_token {
	char token_id[TC_TOKEN_ID_MAX + 1];
	char user_name[TC_TOKEN_NAME_MAX + 1];
	char user_id[TC_TOKEN_ID_MAX + 1];
	uint64_t amount;   /* minor units of currency */
	uint16_t currency; /* ISO 4217 numeric, e.g. 840 USD, 392 JPY */
	struct tc_date deposit_date;
	struct tc_date expiry;
	char bank_id[TC_TOKEN_SHORT_ID_MAX + 1];
	char bank_account[TC_TOKEN_ID_MAX + 1];
	char company_id[TC_TOKEN_SHORT_ID_MAX + 1];
	char card_number[TC_TOKEN_PAN_MAX + 1];
	uint8_t issuer_mac[TC_TOKEN_MAC_LEN];
};

/* Check every item against the rules above. 0, or TC_E_FORMAT with a
 * sentence naming the item in why (may be NULL). */
int tc_token_check(const struct tc_token *t, char *why, size_t cap);

/* Encode (checked first) into out. Returns the length or a negative tc_err
 * (TC_E_FORMAT with why, TC_E_OVERFLOW). */
int tc_token_encode(const struct tc_token *t, uint8_t *out, size_t cap, char *why, size_t wcap);
/* Decode exactly one record filling buf[0..n). 0, or TC_E_FORMAT /
 * TC_E_SHORT... with why ("DF05 currency: 0 is not an ISO 4217 code"). */
int tc_token_decode(const uint8_t *buf, size_t n, struct tc_token *t, char *why, size_t wcap);

/* The issuer MAC: compute it into t->issuer_mac (seal), or verify it
 * (0, TC_E_CHECKSUM when wrong, TC_E_FORMAT for a record that breaks the
 * rules). key: the key for tokens. */
int tc_token_seal(struct tc_token *t, const uint8_t key[16]);
int tc_token_verify(const struct tc_token *t, const uint8_t key[16]);

/* A card number for display: all but the last four digits as '*'
 * ("************4444"); "****" for anything shorter than 5 characters. */
void tc_token_mask_pan(const char *pan, char *out, size_t cap);

/* Amount as text with the currency's minor unit ("400.00"; JPY "400").
 * Known exponents: 0 for 392 (JPY), 410 (KRW); 3 for 048, 368, 414, 434,
 * 512, 788; 2 otherwise. */
unsigned tc_currency_exponent(uint16_t currency);
void tc_amount_format(uint64_t amount, uint16_t currency, char *out, size_t cap);
/* The ISO 4217 alphabetic code of a numeric one ("USD" for 840), NULL for
 * a code outside the small table (docs/token-card.md); and back: 0, or
 * TC_E_FORMAT for a name not in the table. */
const char *tc_currency_alpha(uint16_t currency);
int tc_currency_from_alpha(const char *alpha, uint16_t *currency);
/* "400.00 USD (840)", "1234.567 (999)" for a code not in the table. */
void tc_money_format(uint64_t amount, uint16_t currency, char *out, size_t cap);

#endif
