/* app_token_state.c: the token card's memory image, commits, log, opening.
 *
 * Image (TC_TOKEN_STORE_SIZE bytes, all integers big-endian):
 *   0 "TCTK"  4 version 1  5 life  6 PIN tries  7 PUK tries  8 flags
 *   9 card ID length  10 card ID (16)  26 K_AUTH  42 K_MAC  58 K_TOKEN
 *   74 PIN block (8)  82 PUK block (8)  90 ATC (4)  94 balance (8)
 *   102 currency (2)  104 token length (2)  106 token record (200)
 *   306 log head  307 log count  308 log (10 x 35)  658.. zero
 * An all-zero image is a blank card. */
#include "app_token_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_card_store.h"
#include "tc_crypto.h"
#include "tc_error.h"

#define IMG_VERSION 1u
#define OFF_LOG     308u
#define IMG_USED    (OFF_LOG + TC_TOK_LOG_MAX * TC_TOK_LOG_REC)

_Static_assert(IMG_USED <= TC_TOKEN_STORE_SIZE, "token card image too large");

void tok_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t rd(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void tok_state_encode(const struct tok_state *s, uint8_t img[TC_TOKEN_STORE_SIZE])
{
	memset(img, 0, TC_TOKEN_STORE_SIZE);
	if (s->life == TC_TOK_BLANK)
		return;
	memcpy(img, "TCTK", 4);
	img[4] = IMG_VERSION;
	img[5] = s->life;
	img[6] = s->pin_tries;
	img[7] = s->puk_tries;
	img[8] = s->flags;
	img[9] = s->card_id_len;
	memcpy(img + 10, s->card_id, TC_TOK_CARD_ID_MAX);
	memcpy(img + 26, s->key_auth, 16);
	memcpy(img + 42, s->key_mac, 16);
	memcpy(img + 58, s->key_token, 16);
	memcpy(img + 74, s->pin, 8);
	memcpy(img + 82, s->puk, 8);
	tok_be(img + 90, s->atc, 4);
	tok_be(img + 94, s->balance, 8);
	tok_be(img + 102, s->currency, 2);
	tok_be(img + 104, s->token_len, 2);
	memcpy(img + 106, s->token, TC_TOKEN_MAX_ENC);
	img[306] = s->log_head;
	img[307] = s->log_count;
	memcpy(img + OFF_LOG, s->log, sizeof(s->log));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int tok_state_decode(const uint8_t img[TC_TOKEN_STORE_SIZE], struct tok_state *s)
{
	memset(s, 0, sizeof(*s));
	if (all_zero(img, TC_TOKEN_STORE_SIZE))
		return TC_OK; /* blank */
	if (memcmp(img, "TCTK", 4) != 0 || img[4] != IMG_VERSION)
		return TC_E_CORRUPT;
	s->life = img[5];
	s->pin_tries = img[6];
	s->puk_tries = img[7];
	s->flags = img[8];
	s->card_id_len = img[9];
	memcpy(s->card_id, img + 10, TC_TOK_CARD_ID_MAX);
	memcpy(s->key_auth, img + 26, 16);
	memcpy(s->key_mac, img + 42, 16);
	memcpy(s->key_token, img + 58, 16);
	memcpy(s->pin, img + 74, 8);
	memcpy(s->puk, img + 82, 8);
	s->atc = (uint32_t)rd(img + 90, 4);
	s->balance = rd(img + 94, 8);
	s->currency = (uint16_t)rd(img + 102, 2);
	s->token_len = (uint16_t)rd(img + 104, 2);
	memcpy(s->token, img + 106, TC_TOKEN_MAX_ENC);
	s->log_head = img[306];
	s->log_count = img[307];
	memcpy(s->log, img + OFF_LOG, sizeof(s->log));
	if (s->life == TC_TOK_BLANK || s->life == TC_TOK_BLOCKED || s->life > TC_TOK_EXPIRED ||
	    s->pin_tries > TC_TOK_PIN_TRIES || s->puk_tries > TC_TOK_PUK_TRIES ||
	    s->card_id_len == 0 || s->card_id_len > TC_TOK_CARD_ID_MAX ||
	    s->token_len > TC_TOKEN_MAX_ENC || s->log_head >= TC_TOK_LOG_MAX ||
	    s->log_count > TC_TOK_LOG_MAX ||
	    !all_zero(img + IMG_USED, TC_TOKEN_STORE_SIZE - IMG_USED))
		return TC_E_CORRUPT;
	return TC_OK;
}

/* Decode the token record of s into c->tok; false when it is not one. */
static bool load_token(struct tc_token_card *c, const struct tok_state *s)
{
	memset(&c->tok, 0, sizeof(c->tok));
	if (s->token_len == 0)
		return true;
	return tc_token_decode(s->token, s->token_len, &c->tok, NULL, 0) == TC_OK;
}

int tok_commit(struct tc_token_card *c, const struct tok_state *next)
{
	uint8_t img[TC_TOKEN_STORE_SIZE];
	int rc = TC_OK;

	if (c->store) {
		tok_state_encode(next, img);
		rc = tc_store_commit(c->store, img, sizeof(img));
		tc_wipe(img, sizeof(img));
	}
	if (rc != TC_OK) {
		c->dead = true;
		tok_printf(c, "memory write failed (%s): the card stops", tc_errname(rc));
		return rc;
	}
	if (&c->st != next)
		c->st = *next;
	(void)load_token(c, &c->st);
	return TC_OK;
}

enum tc_tok_life tok_life(const struct tok_state *s)
{
	if (s->life != TC_TOK_BLANK && (s->pin_tries == 0 || s->puk_tries == 0))
		return TC_TOK_BLOCKED;
	return (enum tc_tok_life)s->life;
}

void tok_log_add(struct tok_state *s, const struct tc_tok_log_entry *e)
{
	if (s->log_count > 0)
		s->log_head = (uint8_t)((s->log_head + 1) % TC_TOK_LOG_MAX);
	if (s->log_count < TC_TOK_LOG_MAX)
		s->log_count++;
	tc_tok_log_encode(e, s->log[s->log_head]);
}

void tok_printf(const struct tc_token_card *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!c->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log_fn(c->log_ctx, line);
}

static int open_store(struct tc_token_card *c, const char *path, char *err, size_t cap)
{
	uint8_t img[TC_TOKEN_STORE_SIZE];
	int rc = tc_store_open_msg(path, sizeof(img), &c->store, err, cap);

	if (rc != TC_OK)
		return rc;
	rc = tc_store_read(c->store, img, sizeof(img));
	if (rc == TC_OK)
		rc = tok_state_decode(img, &c->st);
	if (rc == TC_OK && !load_token(c, &c->st))
		rc = TC_E_CORRUPT;
	tc_wipe(img, sizeof(img));
	if (rc != TC_OK && err && cap)
		snprintf(err, cap, "%s: not the memory of a token card (%s)", path,
		         tc_strerror(rc));
	return rc;
}

int tc_token_card_open(const char *store_path, struct tc_token_card **out, char *err, size_t cap)
{
	struct tc_token_card *c = calloc(1, sizeof(*c));
	int rc = TC_OK;

	if (err && cap)
		err[0] = '\0';
	if (!out)
		rc = TC_E_INVAL;
	else if (!c)
		rc = TC_E_NOMEM;
	else if (store_path)
		rc = open_store(c, store_path, err, cap);
	if (rc != TC_OK) {
		if (err && cap && !err[0])
			snprintf(err, cap, "%s", tc_strerror(rc));
		tc_token_card_close(c);
		return rc;
	}
	*out = c;
	return TC_OK;
}

void tc_token_card_close(struct tc_token_card *c)
{
	if (!c)
		return;
	tc_store_close(c->store);
	tc_wipe(c, sizeof(*c));
	free(c);
}

void tc_token_card_set_log(struct tc_token_card *c, tc_token_log_fn fn, void *ctx)
{
	c->log_fn = fn;
	c->log_ctx = ctx;
}

struct tc_store *tc_token_card_store(struct tc_token_card *c)
{
	return c->store;
}
