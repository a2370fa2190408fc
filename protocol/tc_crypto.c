/* tc_crypto.c: AES-128 CMAC, SP 800-108 key derivation, AES-128-CBC, SHA-256,
 * all through OpenSSL 3's EVP interfaces (EVP_MAC "CMAC", EVP_CIPHER,
 * EVP_Digest). No state between calls: each call fetches what it needs. */
#include "tc_crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "tc_error.h"

/* SP 800-108 fixed input: [i]_1 || Label || 0x00 || Context || [L]_2. */
#define KDF_LABEL_CARD    "TCCARDKEY"
#define KDF_LABEL_SESSION "TCSESSION"
#define KDF_L_BITS        (TC_KEY_LEN * 8u)

static int cmac_run(EVP_MAC_CTX *ctx, const uint8_t key[TC_KEY_LEN], const struct tc_buf *parts,
                    size_t nparts, uint8_t mac[TC_MAC_LEN])
{
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
	    OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;

	if (EVP_MAC_init(ctx, key, TC_KEY_LEN, params) != 1)
		return TC_E_CRYPTO;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n == 0)
			continue;
		if (EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
			return TC_E_CRYPTO;
	}
	if (EVP_MAC_final(ctx, mac, &outl, TC_MAC_LEN) != 1 || outl != TC_MAC_LEN)
		return TC_E_CRYPTO;
	return TC_OK;
}

static bool parts_valid(const struct tc_buf *parts, size_t nparts)
{
	size_t total = 0;

	if (nparts > TC_CMAC_PARTS_MAX || (nparts > 0 && !parts))
		return false;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n > 0 && !parts[i].p)
			return false;
		if (parts[i].n > TC_CRYPTO_MAX_MSG - total)
			return false;
		total += parts[i].n;
	}
	return true;
}

int tc_cmac_parts(const uint8_t key[TC_KEY_LEN], const struct tc_buf *parts, size_t nparts,
                  uint8_t mac[TC_MAC_LEN])
{
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *ctx = NULL;
	int rc = TC_E_CRYPTO;

	if (!mac)
		return TC_E_INVAL;
	memset(mac, 0, TC_MAC_LEN);
	if (!key || !parts_valid(parts, nparts))
		return TC_E_INVAL;
	alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (!alg)
		goto out;
	ctx = EVP_MAC_CTX_new(alg);
	if (!ctx)
		goto out;
	rc = cmac_run(ctx, key, parts, nparts, mac);
out:
	EVP_MAC_CTX_free(ctx); /* frees the key schedule it holds, cleansed */
	EVP_MAC_free(alg);
	if (rc != TC_OK)
		tc_wipe(mac, TC_MAC_LEN);
	return rc;
}

int tc_cmac(const uint8_t key[TC_KEY_LEN], const uint8_t *msg, size_t n, uint8_t mac[TC_MAC_LEN])
{
	struct tc_buf part = {msg, n};

	return tc_cmac_parts(key, &part, 1, mac);
}

int tc_cmac_verify(const uint8_t key[TC_KEY_LEN], const struct tc_buf *parts, size_t nparts,
                   const uint8_t *mac, size_t mac_len)
{
	uint8_t want[TC_MAC_LEN];
	int rc;

	if (!mac || mac_len == 0 || mac_len > TC_MAC_LEN)
		return TC_E_INVAL;
	rc = tc_cmac_parts(key, parts, nparts, want);
	if (rc == TC_OK && !tc_ct_equal(want, mac, mac_len))
		rc = TC_E_CHECKSUM;
	tc_wipe(want, sizeof(want));
	return rc;
}

/* One 128-bit block of SP 800-108 counter mode (i = 1, L = 128). */
static int kdf_ctr(const uint8_t key[TC_KEY_LEN], const char *label, const uint8_t *lsuffix,
                   size_t lsuffix_len, const uint8_t *context, size_t context_len,
                   uint8_t out[TC_KEY_LEN])
{
	static const uint8_t counter[1] = {0x01};
	static const uint8_t sep[1] = {0x00};
	static const uint8_t bits[2] = {(uint8_t)(KDF_L_BITS >> 8), (uint8_t)(KDF_L_BITS & 0xFF)};
	const struct tc_buf parts[] = {
	    {counter, sizeof(counter)}, {(const uint8_t *)label, strlen(label)},
	    {lsuffix, lsuffix_len},     {sep, sizeof(sep)},
	    {context, context_len},     {bits, sizeof(bits)},
	};

	return tc_cmac_parts(key, parts, sizeof(parts) / sizeof(parts[0]), out);
}

int tc_derive_card_key(const uint8_t master[TC_KEY_LEN], const uint8_t *card_id, size_t id_len,
                       uint8_t purpose, uint8_t out[TC_KEY_LEN])
{
	if (!out)
		return TC_E_INVAL;
	memset(out, 0, TC_KEY_LEN);
	if (!master || !card_id || id_len == 0 || id_len > TC_CARD_ID_MAX)
		return TC_E_INVAL;
	if (purpose < TC_KEY_AUTH || purpose > TC_KEY_ENC)
		return TC_E_INVAL;
	return kdf_ctr(master, KDF_LABEL_CARD, &purpose, 1, card_id, id_len, out);
}

int tc_derive_session_key(const uint8_t card_key[TC_KEY_LEN], uint32_t atc, uint8_t out[TC_KEY_LEN])
{
	const uint8_t ctx[4] = {(uint8_t)(atc >> 24), (uint8_t)(atc >> 16), (uint8_t)(atc >> 8),
	                        (uint8_t)atc};

	if (!out)
		return TC_E_INVAL;
	memset(out, 0, TC_KEY_LEN);
	if (!card_key)
		return TC_E_INVAL;
	return kdf_ctr(card_key, KDF_LABEL_SESSION, NULL, 0, ctx, sizeof(ctx), out);
}

static int aes_cbc(const uint8_t key[TC_KEY_LEN], const uint8_t iv[TC_AES_BLOCK], const uint8_t *in,
                   size_t n, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0, finl = 0, rc = TC_E_CRYPTO;

	if (!key || !iv || n % TC_AES_BLOCK != 0 || n > TC_CRYPTO_MAX_MSG ||
	    (n > 0 && (!in || !out)))
		return TC_E_INVAL;
	if (n == 0)
		return TC_OK;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	if (EVP_CipherInit_ex2(ctx, EVP_aes_128_cbc(), key, iv, enc, NULL) != 1)
		goto out;
	if (EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1 || (size_t)(outl + finl) != n)
		goto out;
	rc = TC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != TC_OK)
		tc_wipe(out, n);
	return rc;
}

int tc_aes_cbc_encrypt(const uint8_t key[TC_KEY_LEN], const uint8_t iv[TC_AES_BLOCK],
                       const uint8_t *in, size_t n, uint8_t *out)
{
	return aes_cbc(key, iv, in, n, out, 1);
}

int tc_aes_cbc_decrypt(const uint8_t key[TC_KEY_LEN], const uint8_t iv[TC_AES_BLOCK],
                       const uint8_t *in, size_t n, uint8_t *out)
{
	return aes_cbc(key, iv, in, n, out, 0);
}

int tc_sha256_parts(const struct tc_buf *parts, size_t nparts, uint8_t out[TC_SHA256_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned int outl = 0;
	int rc = TC_E_CRYPTO;

	if (!out)
		return TC_E_INVAL;
	memset(out, 0, TC_SHA256_LEN);
	if (!parts_valid(parts, nparts))
		return TC_E_INVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n && EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 || outl != TC_SHA256_LEN)
		goto out;
	rc = TC_OK;
out:
	EVP_MD_CTX_free(ctx);
	if (rc != TC_OK)
		memset(out, 0, TC_SHA256_LEN);
	return rc;
}

int tc_sha256(const uint8_t *msg, size_t n, uint8_t out[TC_SHA256_LEN])
{
	struct tc_buf part = {msg, n};

	return tc_sha256_parts(&part, 1, out);
}

bool tc_ct_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}

void tc_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

int tc_random(uint8_t *out, size_t n)
{
	if (n == 0)
		return TC_OK;
	if (!out || n > INT_MAX)
		return TC_E_INVAL;
	if (RAND_bytes(out, (int)n) != 1) {
		tc_wipe(out, n);
		return TC_E_CRYPTO;
	}
	return TC_OK;
}
