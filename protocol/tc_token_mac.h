/* tc_token_mac.h: the cryptograms of the deposit-token application, the same
 * code on the card and on the host (bank, credit service provider, tools).
 * All are AES-128 CMAC (tc_crypto.h), 16 bytes, over the byte strings below
 * (docs/token-card.md, "Command set", gives them byte by byte). card_id is
 * the card identity (1..16 bytes), written as its length byte then itself.
 *
 *   ARQC (DEBIT REQUEST, card -> host), key SK = session key of K_MAC for ATC:
 *     "TCDR" || id_len || card_id || ATC (4) || debit data (30) ||
 *     token_id_len || token_id
 *   ARPC (DEBIT COMPLETE, host -> card), key SK:
 *     "TCDC" || ATC (4) || outcome (1) || ARQC (16)
 *   PUT TOKEN MAC (host -> card), key K_TOKEN of the card:
 *     "TCPT" || id_len || card_id || challenge (8) || ATC (4) || record
 *   INTERNAL AUTHENTICATE (card -> terminal), key K_AUTH of the card:
 *     "TCIA" || id_len || card_id || challenge (8..32)
 *
 * The card keys come from tc_derive_card_key(master, card_id, ...) with the
 * purposes TC_KEY_AUTH, TC_KEY_MAC, TC_KEY_TOKEN. */
#ifndef TC_TOKEN_MAC_H
#define TC_TOKEN_MAC_H

#include <stddef.h>
#include <stdint.h>

#include "tc_token_apdu.h"

/* The card's keys, diversified from a master key (what personalisation
 * writes and what the host recomputes). Wipe with tc_wipe() after use. */
struct tc_tok_keys {
	uint8_t auth[16], mac[16], token[16];
};
int tc_tok_keys_derive(const uint8_t master[16], const uint8_t *card_id, size_t id_len,
                       struct tc_tok_keys *out);

int tc_tok_arqc(const uint8_t key_mac[16], const uint8_t *card_id, size_t id_len, uint32_t atc,
                const struct tc_tok_debit *d, const char *token_id, uint8_t out[16]);
int tc_tok_arpc(const uint8_t key_mac[16], uint32_t atc, enum tc_tok_outcome outcome,
                const uint8_t arqc[16], uint8_t out[16]);
int tc_tok_put_token_mac(const uint8_t key_token[16], const uint8_t *card_id, size_t id_len,
                         const uint8_t challenge[TC_TOK_CHALLENGE], uint32_t atc,
                         const uint8_t *record, size_t n, uint8_t out[16]);
int tc_tok_int_auth_mac(const uint8_t key_auth[16], const uint8_t *card_id, size_t id_len,
                        const uint8_t *chal, size_t n, uint8_t out[16]);

/* Host side of DEBIT REQUEST: check the card's ARQC and its counter.
 * last_atc: the highest ATC the host has seen for this card (0 when none).
 * TC_OK; TC_E_STATE when atc <= last_atc (a replay, or an old counter);
 * TC_E_CHECKSUM when the ARQC is wrong. */
int tc_tok_arqc_check(const uint8_t key_mac[16], const uint8_t *card_id, size_t id_len,
                      uint32_t last_atc, const struct tc_tok_debit *d, const char *token_id,
                      const struct tc_tok_debit_resp *r);
/* Terminal side of INTERNAL AUTHENTICATE: TC_OK or TC_E_CHECKSUM. */
int tc_tok_int_auth_check(const uint8_t key_auth[16], const uint8_t *card_id, size_t id_len,
                          const uint8_t *chal, size_t n, const uint8_t *resp, size_t rlen);

#endif
