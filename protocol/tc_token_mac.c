/* tc_token_mac.c: the deposit-token cryptograms (tc_token_mac.h). */
#include "tc_token_mac.h"

#include <string.h>

#include "tc_crypto.h"
#include "tc_error.h"

static void be32(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool id_ok(const uint8_t *card_id, size_t id_len)
{
	return card_id && id_len >= 1 && id_len <= TC_TOK_CARD_ID_MAX;
}

int tc_tok_keys_derive(const uint8_t master[16], const uint8_t *card_id, size_t id_len,
                       struct tc_tok_keys *out)
{
	int rc = tc_derive_card_key(master, card_id, id_len, TC_KEY_AUTH, out->auth);

	if (rc == TC_OK)
		rc = tc_derive_card_key(master, card_id, id_len, TC_KEY_MAC, out->mac);
	if (rc == TC_OK)
		rc = tc_derive_card_key(master, card_id, id_len, TC_KEY_TOKEN, out->token);
	if (rc != TC_OK)
		tc_wipe(out, sizeof(*out));
	return rc;
}

int tc_tok_arqc(const uint8_t key_mac[16], const uint8_t *card_id, size_t id_len, uint32_t atc,
                const struct tc_tok_debit *d, const char *token_id, uint8_t out[16])
{
	uint8_t sk[16], a[4], data[TC_TOK_DEBIT_REQ], il = (uint8_t)id_len, tl;
	size_t tlen = token_id ? strnlen(token_id, 256) : 256;
	int rc;

	if (!id_ok(card_id, id_len) || !d || tlen > 255)
		return TC_E_INVAL;
	tl = (uint8_t)tlen;
	be32(a, atc);
	tc_tok_debit_encode(d, data);
	const struct tc_buf parts[] = {{(const uint8_t *)"TCDR", 4},
	                               {&il, 1},
	                               {card_id, id_len},
	                               {a, 4},
	                               {data, sizeof(data)},
	                               {&tl, 1},
	                               {(const uint8_t *)token_id, tlen}};
	rc = tc_derive_session_key(key_mac, atc, sk);
	if (rc == TC_OK)
		rc = tc_cmac_parts(sk, parts, sizeof(parts) / sizeof(parts[0]), out);
	tc_wipe(sk, sizeof(sk));
	return rc;
}

int tc_tok_arpc(const uint8_t key_mac[16], uint32_t atc, enum tc_tok_outcome outcome,
                const uint8_t arqc[16], uint8_t out[16])
{
	uint8_t sk[16], a[4], o = (uint8_t)outcome;
	int rc;

	if (!arqc)
		return TC_E_INVAL;
	be32(a, atc);
	const struct tc_buf parts[] = {{(const uint8_t *)"TCDC", 4}, {a, 4}, {&o, 1}, {arqc, 16}};
	rc = tc_derive_session_key(key_mac, atc, sk);
	if (rc == TC_OK)
		rc = tc_cmac_parts(sk, parts, 4, out);
	tc_wipe(sk, sizeof(sk));
	return rc;
}

int tc_tok_put_token_mac(const uint8_t key_token[16], const uint8_t *card_id, size_t id_len,
                         const uint8_t challenge[TC_TOK_CHALLENGE], uint32_t atc,
                         const uint8_t *record, size_t n, uint8_t out[16])
{
	uint8_t a[4], il = (uint8_t)id_len;

	if (!id_ok(card_id, id_len) || !challenge || (!record && n))
		return TC_E_INVAL;
	be32(a, atc);
	const struct tc_buf parts[] = {{(const uint8_t *)"TCPT", 4},  {&il, 1}, {card_id, id_len},
	                               {challenge, TC_TOK_CHALLENGE}, {a, 4},   {record, n}};
	return tc_cmac_parts(key_token, parts, 6, out);
}

int tc_tok_int_auth_mac(const uint8_t key_auth[16], const uint8_t *card_id, size_t id_len,
                        const uint8_t *chal, size_t n, uint8_t out[16])
{
	uint8_t il = (uint8_t)id_len;

	if (!id_ok(card_id, id_len) || !chal || n < TC_TOK_AUTH_MIN || n > TC_TOK_AUTH_MAX)
		return TC_E_INVAL;
	const struct tc_buf parts[] = {
	    {(const uint8_t *)"TCIA", 4}, {&il, 1}, {card_id, id_len}, {chal, n}};
	return tc_cmac_parts(key_auth, parts, 4, out);
}

int tc_tok_arqc_check(const uint8_t key_mac[16], const uint8_t *card_id, size_t id_len,
                      uint32_t last_atc, const struct tc_tok_debit *d, const char *token_id,
                      const struct tc_tok_debit_resp *r)
{
	uint8_t mac[16];
	int rc;

	if (!r)
		return TC_E_INVAL;
	if (r->atc <= last_atc)
		return TC_E_STATE;
	rc = tc_tok_arqc(key_mac, card_id, id_len, r->atc, d, token_id, mac);
	if (rc == TC_OK && !tc_ct_equal(mac, r->arqc, 16))
		rc = TC_E_CHECKSUM;
	tc_wipe(mac, sizeof(mac));
	return rc;
}

int tc_tok_int_auth_check(const uint8_t key_auth[16], const uint8_t *card_id, size_t id_len,
                          const uint8_t *chal, size_t n, const uint8_t *resp, size_t rlen)
{
	uint8_t mac[16];
	int rc;

	if (!resp || rlen != 16)
		return TC_E_CHECKSUM;
	rc = tc_tok_int_auth_mac(key_auth, card_id, id_len, chal, n, mac);
	if (rc == TC_OK && !tc_ct_equal(mac, resp, 16))
		rc = TC_E_CHECKSUM;
	tc_wipe(mac, sizeof(mac));
	return rc;
}
