/* tc_crypto.h: the deposit-token card's cryptography (AES-128, OpenSSL 3 EVP).
 *
 * AES-128 CMAC (NIST SP 800-38B) for cryptograms and command MACs; key
 * derivation with CMAC as the PRF of a NIST SP 800-108 counter-mode KDF:
 * per-card keys diversified from a master key by card identity and purpose,
 * session keys per application transaction counter. docs/token-card.md,
 * "Keys and cryptography", gives every derivation byte by byte.
 *
 * Every function returns TC_OK or a negative tc_err: TC_E_INVAL for a bad
 * argument, TC_E_CRYPTO when OpenSSL fails. On error the output is zeroed.
 * Callers wipe their own key copies with tc_wipe() when done. */
#ifndef TC_CRYPTO_H
#define TC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_KEY_LEN        16u /* AES-128 */
#define TC_MAC_LEN        16u /* full CMAC; truncate only where a format says so */
#define TC_AES_BLOCK      16u
#define TC_SHA256_LEN     32u
#define TC_CARD_ID_MAX    32u        /* card identity: 1..32 bytes */
#define TC_CMAC_PARTS_MAX 16u        /* tc_cmac_parts: at most this many parts */
#define TC_CRYPTO_MAX_MSG (1u << 22) /* limit on any one MAC or cipher input */

/* Purposes of per-card keys; one key each, never shared between purposes. */
enum tc_key_purpose {
	TC_KEY_AUTH = 1,  /* INTERNAL AUTHENTICATE: the card proves it holds its key */
	TC_KEY_MAC = 2,   /* debit cryptograms (DEBIT REQUEST / DEBIT COMPLETE) */
	TC_KEY_TOKEN = 3, /* PUT TOKEN script MAC (the host's token writes) */
	TC_KEY_ENC = 4,   /* confidentiality (AES-CBC) of PIN/PUK change data */
};

/* One piece of a message MAC'd in parts; n == 0 allowed (p may then be NULL). */
struct tc_buf {
	const uint8_t *p;
	size_t n;
};

/* AES-128 CMAC of msg (n bytes, n may be 0). */
int tc_cmac(const uint8_t key[TC_KEY_LEN], const uint8_t *msg, size_t n, uint8_t mac[TC_MAC_LEN]);

/* AES-128 CMAC over the concatenation of parts[0..nparts). */
int tc_cmac_parts(const uint8_t key[TC_KEY_LEN], const struct tc_buf *parts, size_t nparts,
                  uint8_t mac[TC_MAC_LEN]);

/* Compute the CMAC over parts and compare the first mac_len (1..16) bytes
 * with mac in constant time. TC_OK when equal, TC_E_CHECKSUM when not. */
int tc_cmac_verify(const uint8_t key[TC_KEY_LEN], const struct tc_buf *parts, size_t nparts,
                   const uint8_t *mac, size_t mac_len);

/* Per-card key: SP 800-108 counter mode, PRF = AES-CMAC under master,
 * label "TCCARDKEY" || purpose, context = card_id (1..TC_CARD_ID_MAX bytes). */
int tc_derive_card_key(const uint8_t master[TC_KEY_LEN], const uint8_t *card_id, size_t id_len,
                       uint8_t purpose, uint8_t out[TC_KEY_LEN]);

/* Session key for one transaction: SP 800-108 counter mode, PRF = AES-CMAC
 * under card_key, label "TCSESSION", context = atc (4 bytes big-endian). */
int tc_derive_session_key(const uint8_t card_key[TC_KEY_LEN], uint32_t atc,
                          uint8_t out[TC_KEY_LEN]);

/* AES-128-CBC without padding: n must be a multiple of 16 (0 allowed).
 * in and out may be the same buffer. */
int tc_aes_cbc_encrypt(const uint8_t key[TC_KEY_LEN], const uint8_t iv[TC_AES_BLOCK],
                       const uint8_t *in, size_t n, uint8_t *out);
int tc_aes_cbc_decrypt(const uint8_t key[TC_KEY_LEN], const uint8_t iv[TC_AES_BLOCK],
                       const uint8_t *in, size_t n, uint8_t *out);

/* SHA-256 of msg (an integrity check value, e.g. of the card's memory). */
int tc_sha256(const uint8_t *msg, size_t n, uint8_t out[TC_SHA256_LEN]);
/* SHA-256 over the concatenation of parts (at most TC_CMAC_PARTS_MAX). */
int tc_sha256_parts(const struct tc_buf *parts, size_t nparts, uint8_t out[TC_SHA256_LEN]);

/* True when a and b (n bytes each) are equal; time independent of contents. */
bool tc_ct_equal(const void *a, const void *b, size_t n);

/* Overwrite n bytes with zeros in a way the compiler keeps (OPENSSL_cleanse). */
void tc_wipe(void *p, size_t n);

/* n bytes from OpenSSL's CSPRNG (RAND_bytes). TC_E_CRYPTO if unseeded. */
int tc_random(uint8_t *out, size_t n);

#endif
