/* test_crypto.c: protocol/tc_crypto against published vectors (NIST SP 800-38B
 * AES-128 CMAC examples, SP 800-38A CBC-AES128) and against our own
 * derivation vectors in tests/data/crypto/derive.txt, which were made with the
 * openssl command line (tests/data/crypto/vectors.sh), not with this code.
 * Every key here is a TEST KEY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_hex.h"

/* NIST SP 800-38B, appendix D.1 (AES-128): key and the 64-byte message. */
static const char *nist_key = "2b7e151628aed2a6abf7158809cf4f3c";
static const char *nist_msg = "6bc1bee22e409f96e93d7e117393172a"
                              "ae2d8a571e03ac9c9eb76fac45af8e51"
                              "30c81c46a35ce411e5fbc1191a0a52ef"
                              "f69f2445df4f9b17ad2b417be66c3710";
static const struct {
	size_t mlen;
	const char *tag;
} nist_cmac[] = {
    {0, "bb1d6929e95937287fa37d129b756746"},
    {16, "070a16b46b4d4144f79bdd9dd04a287c"},
    {40, "dfa66747de9ae63030ca32611497c827"},
    {64, "51f0bebf7e3b9d92fc49741779363cfe"},
};

static size_t hex(const char *text, uint8_t *out, size_t cap)
{
	int n = tc_hex_decode(text, out, cap, NULL);
	assert_true(n >= 0);
	return (size_t)n;
}

static void test_crypto_cmac_nist(void **state)
{
	uint8_t key[TC_KEY_LEN], msg[64], want[TC_MAC_LEN], mac[TC_MAC_LEN];
	(void)state;

	assert_int_equal(hex(nist_key, key, sizeof(key)), TC_KEY_LEN);
	assert_int_equal(hex(nist_msg, msg, sizeof(msg)), 64);
	for (size_t i = 0; i < sizeof(nist_cmac) / sizeof(nist_cmac[0]); i++) {
		assert_int_equal(hex(nist_cmac[i].tag, want, sizeof(want)), TC_MAC_LEN);
		assert_int_equal(tc_cmac(key, msg, nist_cmac[i].mlen, mac), TC_OK);
		assert_memory_equal(mac, want, TC_MAC_LEN);
	}
	/* The empty message with a NULL pointer. */
	assert_int_equal(tc_cmac(key, NULL, 0, mac), TC_OK);
	assert_int_equal(hex(nist_cmac[0].tag, want, sizeof(want)), TC_MAC_LEN);
	assert_memory_equal(mac, want, TC_MAC_LEN);
}

/* The 64-byte NIST message cut into parts at every pair of points. */
static void test_crypto_cmac_parts_any_split(void **state)
{
	uint8_t key[TC_KEY_LEN], msg[64], want[TC_MAC_LEN], mac[TC_MAC_LEN];
	(void)state;

	hex(nist_key, key, sizeof(key));
	hex(nist_msg, msg, sizeof(msg));
	hex(nist_cmac[3].tag, want, sizeof(want));
	for (size_t a = 0; a <= 64; a++) {
		for (size_t b = a; b <= 64; b += 7) {
			struct tc_buf parts[4] = {
			    {msg, a}, {NULL, 0}, {msg + a, b - a}, {msg + b, 64 - b}};
			assert_int_equal(tc_cmac_parts(key, parts, 4, mac), TC_OK);
			assert_memory_equal(mac, want, TC_MAC_LEN);
		}
	}
	hex(nist_cmac[2].tag, want, sizeof(want));
	struct tc_buf p40[] = {{msg, 13}, {msg + 13, 27}};
	assert_int_equal(tc_cmac_parts(key, p40, 2, mac), TC_OK);
	assert_memory_equal(mac, want, TC_MAC_LEN);
}

static void test_crypto_cmac_verify(void **state)
{
	uint8_t key[TC_KEY_LEN], msg[64], tag[TC_MAC_LEN];
	struct tc_buf part;
	(void)state;

	hex(nist_key, key, sizeof(key));
	hex(nist_msg, msg, sizeof(msg));
	hex(nist_cmac[2].tag, tag, sizeof(tag));
	part = (struct tc_buf){msg, 40};
	assert_int_equal(tc_cmac_verify(key, &part, 1, tag, TC_MAC_LEN), TC_OK);
	assert_int_equal(tc_cmac_verify(key, &part, 1, tag, 8), TC_OK); /* truncated MAC */
	for (size_t i = 0; i < TC_MAC_LEN; i++) {
		tag[i] ^= 0x01;
		assert_int_equal(tc_cmac_verify(key, &part, 1, tag, TC_MAC_LEN), TC_E_CHECKSUM);
		tag[i] ^= 0x01;
	}
	msg[39] ^= 0x80; /* altered message */
	assert_int_equal(tc_cmac_verify(key, &part, 1, tag, TC_MAC_LEN), TC_E_CHECKSUM);
	assert_int_equal(tc_cmac_verify(key, &part, 1, tag, 0), TC_E_INVAL);
	assert_int_equal(tc_cmac_verify(key, &part, 1, tag, 17), TC_E_INVAL);
}

static void test_crypto_bad_arguments(void **state)
{
	uint8_t key[TC_KEY_LEN] = {0}, out[TC_KEY_LEN], id[TC_CARD_ID_MAX + 1] = {0}, blk[17];
	struct tc_buf many[TC_CMAC_PARTS_MAX + 1] = {{NULL, 0}};
	struct tc_buf nullp = {NULL, 3};
	(void)state;

	memset(out, 0xAA, sizeof(out));
	assert_int_equal(tc_derive_card_key(key, id, 0, TC_KEY_MAC, out), TC_E_INVAL);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0); /* zeroed on error */
	assert_int_equal(tc_derive_card_key(key, id, TC_CARD_ID_MAX + 1, TC_KEY_MAC, out),
	                 TC_E_INVAL);
	assert_int_equal(tc_derive_card_key(key, NULL, 4, TC_KEY_MAC, out), TC_E_INVAL);
	assert_int_equal(tc_derive_card_key(key, id, 4, 0, out), TC_E_INVAL);
	assert_int_equal(tc_derive_card_key(key, id, 4, TC_KEY_ENC + 1, out), TC_E_INVAL);
	assert_int_equal(tc_derive_card_key(NULL, id, 4, TC_KEY_MAC, out), TC_E_INVAL);
	assert_int_equal(tc_derive_session_key(NULL, 1, out), TC_E_INVAL);
	assert_int_equal(tc_cmac_parts(key, many, TC_CMAC_PARTS_MAX + 1, out), TC_E_INVAL);
	assert_int_equal(tc_cmac_parts(key, &nullp, 1, out), TC_E_INVAL);
	assert_int_equal(tc_cmac(NULL, id, 1, out), TC_E_INVAL);
	assert_int_equal(tc_aes_cbc_encrypt(key, key, blk, 17, blk), TC_E_INVAL);
	assert_int_equal(tc_aes_cbc_decrypt(key, key, blk, 15, blk), TC_E_INVAL);
	assert_int_equal(tc_aes_cbc_encrypt(key, key, blk, 0, blk), TC_OK);
	assert_int_equal(tc_random(NULL, 4), TC_E_INVAL);
}

/* NIST SP 800-38A F.2.1/F.2.2, CBC-AES128, in place and not. */
static void test_crypto_aes_cbc_nist(void **state)
{
	uint8_t key[16], iv[16], pt[64], ct[64], buf[64];
	(void)state;

	hex(nist_key, key, sizeof(key));
	hex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	hex(nist_msg, pt, sizeof(pt));
	hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
	    ct, sizeof(ct));
	assert_int_equal(tc_aes_cbc_encrypt(key, iv, pt, 64, buf), TC_OK);
	assert_memory_equal(buf, ct, 64);
	assert_int_equal(tc_aes_cbc_decrypt(key, iv, buf, 64, buf), TC_OK);
	assert_memory_equal(buf, pt, 64);
	memcpy(buf, pt, 64);
	assert_int_equal(tc_aes_cbc_encrypt(key, iv, buf, 32, buf), TC_OK);
	assert_memory_equal(buf, ct, 32);
}

static void test_crypto_sha256(void **state)
{
	uint8_t d[TC_SHA256_LEN], want[TC_SHA256_LEN];
	struct tc_buf parts[] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"bc", 2}};
	(void)state;

	/* FIPS 180-2 example "abc". */
	hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, sizeof(want));
	assert_int_equal(tc_sha256((const uint8_t *)"abc", 3, d), TC_OK);
	assert_memory_equal(d, want, sizeof(d));
	assert_int_equal(tc_sha256_parts(parts, 2, d), TC_OK);
	assert_memory_equal(d, want, sizeof(d));
}

/* Check one line of derive.txt; returns true when it is a vector. */
static bool check_vector(const char *line, unsigned lineno)
{
	char kind[16], a[80], b[80], c[80], d[80];
	uint8_t key[TC_KEY_LEN], id[TC_CARD_ID_MAX], want[TC_KEY_LEN], got[TC_KEY_LEN], x[4];
	int n = sscanf(line, "%15s %79s %79s %79s %79s", kind, a, b, c, d);

	if (n < 1 || kind[0] == '#')
		return false;
	if (strcmp(kind, "card") == 0 && n == 5) {
		size_t idn = hex(b, id, sizeof(id));
		assert_int_equal(hex(a, key, sizeof(key)), TC_KEY_LEN);
		assert_int_equal(hex(c, x, 1), 1);
		assert_int_equal(hex(d, want, sizeof(want)), TC_KEY_LEN);
		assert_int_equal(tc_derive_card_key(key, id, idn, x[0], got), TC_OK);
	} else if (strcmp(kind, "session") == 0 && n == 4) {
		assert_int_equal(hex(a, key, sizeof(key)), TC_KEY_LEN);
		assert_int_equal(hex(b, x, 4), 4);
		assert_int_equal(hex(c, want, sizeof(want)), TC_KEY_LEN);
		uint32_t atc = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | x[2] << 8 | x[3];
		assert_int_equal(tc_derive_session_key(key, atc, got), TC_OK);
	} else {
		fail_msg("derive.txt:%u: unknown line '%s'", lineno, line);
	}
	if (memcmp(got, want, TC_KEY_LEN) != 0)
		fail_msg("derive.txt:%u: derivation differs from the stored vector", lineno);
	return true;
}

static void test_crypto_derive_vectors(void **state)
{
	const char *dir = getenv("TC_DATA_DIR");
	char path[512], line[512];
	unsigned lineno = 0, vectors = 0, cards = 0;
	FILE *f;
	(void)state;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/crypto/derive.txt", dir);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (check_vector(line, lineno)) {
			vectors++;
			cards += strncmp(line, "card", 4) == 0;
		}
	}
	fclose(f);
	/* Both kinds present, and a fair number of them. */
	assert_true(cards >= 8);
	assert_true(vectors - cards >= 4);
}

/* Purpose, card identity and counter each change the key. */
static void test_crypto_derive_separation(void **state)
{
	uint8_t master[TC_KEY_LEN], k[5][TC_KEY_LEN], s[3][TC_KEY_LEN];
	const uint8_t id1[] = {0x54, 0x43, 0, 0, 0, 0, 0, 0, 1};
	const uint8_t id2[] = {0x54, 0x43, 0, 0, 0, 0, 0, 0, 2};
	(void)state;

	hex("00112233445566778899aabbccddeeff", master, sizeof(master)); /* TEST KEY */
	for (uint8_t p = TC_KEY_AUTH; p <= TC_KEY_ENC; p++)
		assert_int_equal(tc_derive_card_key(master, id1, sizeof(id1), p, k[p - 1]), TC_OK);
	assert_int_equal(tc_derive_card_key(master, id2, sizeof(id2), TC_KEY_MAC, k[4]), TC_OK);
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			assert_memory_not_equal(k[i], k[j], TC_KEY_LEN);
	assert_int_equal(tc_derive_session_key(k[1], 1, s[0]), TC_OK);
	assert_int_equal(tc_derive_session_key(k[1], 2, s[1]), TC_OK);
	assert_int_equal(tc_derive_session_key(k[4], 1, s[2]), TC_OK);
	assert_memory_not_equal(s[0], s[1], TC_KEY_LEN);
	assert_memory_not_equal(s[0], s[2], TC_KEY_LEN);
	assert_memory_not_equal(s[0], k[1], TC_KEY_LEN);
}

static void test_crypto_ct_equal_wipe_random(void **state)
{
	uint8_t a[32], b[32], z[32] = {0};
	(void)state;

	assert_int_equal(tc_random(a, sizeof(a)), TC_OK);
	assert_int_equal(tc_random(b, sizeof(b)), TC_OK);
	assert_false(tc_ct_equal(a, b, sizeof(a))); /* 2^-256 chance of a false failure */
	memcpy(b, a, sizeof(a));
	assert_true(tc_ct_equal(a, b, sizeof(a)));
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x40;
		assert_false(tc_ct_equal(a, b, sizeof(a)));
		b[i] ^= 0x40;
	}
	assert_true(tc_ct_equal(a, b, 0));
	tc_wipe(a, sizeof(a));
	assert_memory_equal(a, z, sizeof(a));
	tc_wipe(NULL, 4);
	assert_int_equal(tc_random(a, 0), TC_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_cmac_nist),
	    cmocka_unit_test(test_crypto_cmac_parts_any_split),
	    cmocka_unit_test(test_crypto_cmac_verify),
	    cmocka_unit_test(test_crypto_bad_arguments),
	    cmocka_unit_test(test_crypto_aes_cbc_nist),
	    cmocka_unit_test(test_crypto_sha256),
	    cmocka_unit_test(test_crypto_derive_vectors),
	    cmocka_unit_test(test_crypto_derive_separation),
	    cmocka_unit_test(test_crypto_ct_equal_wipe_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
