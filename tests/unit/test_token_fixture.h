/* test_token_fixture.h: a token card in the card OS for the test_token_*
 * files: open/close, APDU exchange (with GET RESPONSE), personalisation
 * and a sealed token with the drawing's values. Header-only (static inline). */
#ifndef TEST_TOKEN_FIXTURE_H
#define TEST_TOKEN_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_token.h"
#include "tc_card_os.h"
#include "tc_card_store.h"
#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_token.h"
#include "tc_token_apdu.h"
#include "tc_token_mac.h"

#define FX_PIN "9157"
#define FX_PUK "87654321"

static const uint8_t fx_master[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                      0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
static const uint8_t fx_token_key[16] = {0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
                                         0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C};
static const uint8_t fx_card_id[8] = {'T', 'C', '0', '0', '0', '0', '0', '1'};

struct fx {
	struct tc_card_os *os;
	struct tc_token_card *card;
	char dir[64];
	char path[96];
	struct tc_tok_keys keys;
	char logbuf[16384]; /* every log line of the card, '\n' separated */
	size_t loglen;
	uint8_t resp[1100];
	size_t rlen;
};

static inline void fx_log(void *ctx, const char *line)
{
	struct fx *f = ctx;
	size_t n = strlen(line);
	if (f->loglen + n + 2 < sizeof(f->logbuf)) {
		memcpy(f->logbuf + f->loglen, line, n);
		f->loglen += n;
		f->logbuf[f->loglen++] = '\n';
		f->logbuf[f->loglen] = '\0';
	}
}

/* (Re)open the card on f->path (or in memory when f->path is empty) and
 * select the application. */
static inline int fx_open(struct fx *f)
{
	char err[160];
	int rc = tc_token_card_open(f->path[0] ? f->path : NULL, &f->card, err, sizeof(err));
	if (rc != TC_OK)
		return rc;
	tc_token_card_set_log(f->card, fx_log, f);
	f->os = tc_card_os_new();
	if (!f->os || tc_card_os_add(f->os, tc_card_app_token(), f->card, true) != TC_OK)
		return TC_E_NOMEM;
	tc_card_os_reset(f->os);
	return TC_OK;
}

static inline void fx_close(struct fx *f)
{
	tc_card_os_free(f->os);
	tc_token_card_close(f->card);
	f->os = NULL;
	f->card = NULL;
}

static inline struct fx *fx_new(bool on_file)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (on_file) {
		snprintf(f->dir, sizeof(f->dir), "/tmp/tc-token-XXXXXX");
		if (!mkdtemp(f->dir))
			abort();
		snprintf(f->path, sizeof(f->path), "%s/card.mem", f->dir);
	}
	if (tc_tok_keys_derive(fx_master, fx_card_id, sizeof(fx_card_id), &f->keys) != TC_OK ||
	    fx_open(f) != TC_OK)
		abort();
	return f;
}

static inline void fx_free(struct fx *f)
{
	if (!f)
		return;
	fx_close(f);
	if (f->path[0]) {
		unlink(f->path);
		char tmp[128];
		snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
		unlink(tmp);
		rmdir(f->dir);
	}
	free(f);
}

/* Send a short command APDU as a reader would over T=0: header, then data
 * when the card asks for it, then GET RESPONSE while 61xx. The response
 * data land in f->resp / f->rlen; returns SW1SW2. */
static inline uint16_t fx_send(struct fx *f, const uint8_t *apdu, size_t n)
{
	uint8_t hdr[5] = {apdu[0], apdu[1], apdu[2], apdu[3], n > 4 ? apdu[4] : 0};
	struct tc_t0c_resp r;
	enum tc_t0c_verdict v;

	f->rlen = 0;
	memset(&r, 0, sizeof(r));
	v = tc_card_os_command(f->os, hdr, NULL, 0, &r);
	if (v == TC_T0C_WANT_DATA) {
		memset(&r, 0, sizeof(r));
		v = tc_card_os_command(f->os, hdr, apdu + 5, hdr[4], &r);
	}
	memcpy(f->resp, r.data, r.len);
	f->rlen = r.len;
	while (r.sw1 == 0x61) {
		uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, r.sw2};
		memset(&r, 0, sizeof(r));
		(void)tc_card_os_command(f->os, gr, NULL, 0, &r);
		if (f->rlen + r.len > sizeof(f->resp))
			abort();
		memcpy(f->resp + f->rlen, r.data, r.len);
		f->rlen += r.len;
	}
	(void)v;
	return (uint16_t)(r.sw1 << 8 | r.sw2);
}

/* Build with fn-like builders: int b(..., out, cap). */
#define FX_CMD(f, build_call)                                                                      \
	__extension__({                                                                            \
		uint8_t fx_apdu_[TC_TOK_APDU_MAX];                                                 \
		uint8_t *out = fx_apdu_;                                                           \
		size_t cap = sizeof(fx_apdu_);                                                     \
		int fx_n_ = build_call;                                                            \
		if (fx_n_ < 4)                                                                     \
			abort();                                                                   \
		fx_send((f), fx_apdu_, (size_t)fx_n_);                                             \
	})

static inline void fx_perso_data(struct fx *f, struct tc_tok_perso *p, uint32_t atc)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->card_id, fx_card_id, sizeof(fx_card_id));
	p->card_id_len = sizeof(fx_card_id);
	memcpy(p->key_auth, f->keys.auth, 16);
	memcpy(p->key_mac, f->keys.mac, 16);
	memcpy(p->key_token, f->keys.token, 16);
	strcpy(p->pin, FX_PIN);
	strcpy(p->puk, FX_PUK);
	p->atc = atc;
	p->test_keys = true;
}

static inline uint16_t fx_personalise(struct fx *f, uint32_t atc)
{
	struct tc_tok_perso p;
	fx_perso_data(f, &p, atc);
	return FX_CMD(f, tc_tok_personalise(&p, out, cap));
}

/* The drawing's token: TARO YAMADA, $400.00, 2002-09-10 .. 2002-11-15. */
static inline void fx_token(struct tc_token *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->token_id, "1234567890");
	strcpy(t->user_name, "TARO YAMADA");
	strcpy(t->user_id, "100000123");
	t->amount = 40000;
	t->currency = 840;
	t->deposit_date = (struct tc_date){2002, 9, 10};
	t->expiry = (struct tc_date){2002, 11, 15};
	strcpy(t->bank_id, "0001");
	strcpy(t->bank_account, "999123456");
	strcpy(t->company_id, "1111");
	strcpy(t->card_number, "1111222233334444");
	if (tc_token_seal(t, fx_token_key) != TC_OK)
		abort();
}

/* Current ATC through GET DATA (0 when the card has none). */
static inline uint32_t fx_atc(struct fx *f)
{
	struct tc_tok_status st = {0};
	if (FX_CMD(f, tc_tok_get_data(TC_TOK_DO_ATC, out, cap)) != 0x9000 ||
	    tc_tok_parse_data(TC_TOK_DO_ATC, f->resp, f->rlen, &st) != TC_OK)
		return 0; /* blank card: no counter */
	return st.atc;
}

/* GET CHALLENGE, then PUT TOKEN of rec MAC'd as the host does. mac_out
 * (optional) gets the MAC used; tamper is XORed into rec's byte 10 after
 * the MAC (0: none). */
static inline uint16_t fx_put_record(struct fx *f, const uint8_t *rec, size_t n, uint8_t tamper,
                                     uint8_t *cmd_out, size_t *cmd_len)
{
	uint8_t chal[8], mac[16], data[256];
	if (FX_CMD(f, tc_tok_get_challenge(out, cap)) != 0x9000 || f->rlen != 8)
		abort();
	memcpy(chal, f->resp, 8);
	if (tc_tok_put_token_mac(f->keys.token, fx_card_id, sizeof(fx_card_id), chal, fx_atc(f),
	                         rec, n, mac) != TC_OK)
		abort();
	memcpy(data, rec, n);
	if (tamper)
		data[10] ^= tamper;
	uint8_t apdu[TC_TOK_APDU_MAX];
	int k = tc_tok_put_token(data, n, mac, apdu, sizeof(apdu));
	if (k < 0)
		abort();
	if (cmd_out) {
		memcpy(cmd_out, apdu, (size_t)k);
		*cmd_len = (size_t)k;
	}
	return fx_send(f, apdu, (size_t)k);
}

static inline uint16_t fx_put_token(struct fx *f, const struct tc_token *t)
{
	uint8_t rec[TC_TOKEN_MAX_ENC];
	int n = tc_token_encode(t, rec, sizeof(rec), NULL, 0);
	if (n < 0)
		abort();
	return fx_put_record(f, rec, (size_t)n, 0, NULL, NULL);
}

/* A personalised card holding the drawing's token, PIN verified. */
static inline void fx_ready(struct fx *f)
{
	struct tc_token t;
	fx_token(&t);
	if (fx_personalise(f, 0) != 0x9000 || fx_put_token(f, &t) != 0x9000 ||
	    FX_CMD(f, tc_tok_verify(FX_PIN, out, cap)) != 0x9000)
		abort();
}

static inline void fx_debit_data(struct tc_tok_debit *d, uint64_t amount)
{
	memset(d, 0, sizeof(*d));
	d->amount = amount;
	d->currency = 840;
	d->date = (struct tc_date){2002, 10, 1};
	memcpy(d->terminal, "TERM0001", 8);
	memcpy(d->nonce, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

static inline uint64_t fx_balance(struct fx *f)
{
	struct tc_tok_status st = {0};
	if (FX_CMD(f, tc_tok_get_data(TC_TOK_DO_BALANCE, out, cap)) != 0x9000 ||
	    tc_tok_parse_data(TC_TOK_DO_BALANCE, f->resp, f->rlen, &st) != TC_OK)
		abort();
	return st.balance;
}

#endif
