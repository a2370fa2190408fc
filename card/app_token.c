/* app_token.c: the deposit-token application: dispatch, GET DATA, READ
 * RECORD, GET CHALLENGE, INTERNAL AUTHENTICATE, PERSONALISE. The PIN
 * commands are in app_token_pin.c, payment and PUT TOKEN in app_token_pay.c. */
#include "app_token_int.h"

#include <stdio.h>
#include <string.h>

#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_tlv.h"
#include "tc_token_mac.h"

struct tok_cmd {
	uint8_t ins;
	uint8_t cla;
	bool data; /* P3 is Lc */
	tok_handler *fn;
};

static const struct tok_cmd tok_cmds[] = {
    {TC_TOK_INS_VERIFY, TC_TOK_CLA_ISO, true, tok_verify},
    {TC_TOK_INS_CHANGE_REF, TC_TOK_CLA_ISO, true, tok_change_ref},
    {TC_TOK_INS_RESET_RETRY, TC_TOK_CLA_ISO, true, tok_reset_retry},
    {TC_TOK_INS_GET_CHALLENGE, TC_TOK_CLA_ISO, false, tok_get_challenge},
    {TC_TOK_INS_INT_AUTH, TC_TOK_CLA_ISO, true, tok_int_auth},
    {TC_TOK_INS_READ_RECORD, TC_TOK_CLA_ISO, false, tok_read_record},
    {TC_TOK_INS_GET_DATA, TC_TOK_CLA_ISO, false, tok_get_data},
    {TC_TOK_INS_DEBIT_REQUEST, TC_TOK_CLA_PROP, true, tok_debit_request},
    {TC_TOK_INS_DEBIT_COMPLETE, TC_TOK_CLA_PROP, true, tok_debit_complete},
    {TC_TOK_INS_PUT_TOKEN, TC_TOK_CLA_PROP, true, tok_put_token},
    {TC_TOK_INS_PERSONALISE, TC_TOK_CLA_PROP, true, tok_personalise},
};
#define N_CMDS (sizeof(tok_cmds) / sizeof(tok_cmds[0]))

static const struct tok_cmd *find_cmd(uint8_t ins)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (tok_cmds[i].ins == ins)
			return &tok_cmds[i];
	return NULL;
}

static void tok_select(void *priv)
{
	struct tc_token_card *c = priv;

	c->pin_ok = false;
	c->have_chal = false;
	c->pending = false;
	tc_wipe(c->chal, sizeof(c->chal));
}

static bool tok_has_data(void *priv, const uint8_t hdr[5])
{
	const struct tok_cmd *k = find_cmd(hdr[1]);
	(void)priv;
	return k && k->data && hdr[0] == k->cla;
}

static void tok_process(void *priv, const struct tc_card_apdu *cmd, struct tc_card_rapdu *r)
{
	struct tc_token_card *c = priv;
	const struct tok_cmd *k = find_cmd(cmd->ins);

	r->len = 0;
	if (c->dead) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return;
	}
	if ((cmd->cla != TC_TOK_CLA_ISO && cmd->cla != TC_TOK_CLA_PROP) ||
	    (k && cmd->cla != k->cla)) {
		r->sw = TC_SW_CLA_NOT_SUPPORTED;
		return;
	}
	if (!k) {
		r->sw = TC_SW_INS_NOT_SUPPORTED;
		return;
	}
	r->sw = TC_SW_OK;
	k->fn(c, cmd, r);
}

static const struct tc_card_app token_app = {
    .name = "token",
    .aid = tc_tok_aid,
    .aid_len = TC_TOK_AID_LEN,
    .select = tok_select,
    .has_data = tok_has_data,
    .process = tok_process,
};

const struct tc_card_app *tc_card_app_token(void)
{
	return &token_app;
}

/* --- GET DATA, READ RECORD ---------------------------------------------------- */

static void answer_do(struct tc_card_rapdu *r, uint16_t tag, const uint8_t *v, size_t n)
{
	struct tc_tlv_builder b;
	int len;

	tc_tlv_builder_init(&b, r->data, sizeof(r->data));
	tc_tlv_put(&b, tag, v, n);
	len = tc_tlv_finish(&b);
	r->len = len > 0 ? (size_t)len : 0;
	r->sw = len > 0 ? TC_SW_OK : TC_SW_NO_DIAGNOSIS;
}

void tok_get_data(struct tc_token_card *c, const struct tc_card_apdu *cmd, struct tc_card_rapdu *r)
{
	const struct tok_state *s = &c->st;
	uint16_t tag = (uint16_t)(cmd->p1 << 8 | cmd->p2);
	uint8_t v[10];

	if (tag == TC_TOK_DO_LIFECYCLE) {
		v[0] = (uint8_t)tok_life(s);
		answer_do(r, tag, v, 1);
		return;
	}
	if (s->life == TC_TOK_BLANK || tag < TC_TOK_DO_BALANCE || tag > TC_TOK_DO_KEY_FLAGS) {
		r->sw = TC_SW_DATA_NOT_FOUND;
		return;
	}
	switch (tag) {
	case TC_TOK_DO_BALANCE:
		tok_be(v, s->balance, 8);
		tok_be(v + 8, s->currency, 2);
		answer_do(r, tag, v, 10);
		return;
	case TC_TOK_DO_ATC:
		tok_be(v, s->atc, 4);
		answer_do(r, tag, v, 4);
		return;
	case TC_TOK_DO_CARD_ID:
		answer_do(r, tag, s->card_id, s->card_id_len);
		return;
	default:
		v[0] = tag == TC_TOK_DO_PIN_TRIES   ? s->pin_tries
		       : tag == TC_TOK_DO_PUK_TRIES ? s->puk_tries
		                                    : s->flags;
		answer_do(r, tag, v, 1);
		return;
	}
}

void tok_read_record(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                     struct tc_card_rapdu *r)
{
	const struct tok_state *s = &c->st;
	unsigned sfi = cmd->p2 >> 3, rec = cmd->p1;

	if ((cmd->p2 & 7u) != 4u || rec == 0) {
		r->sw = TC_SW_WRONG_P1P2;
		return;
	}
	if (sfi == TC_TOK_SFI_TOKEN) {
		if (rec != 1 || s->token_len == 0) {
			r->sw = TC_SW_RECORD_NOT_FOUND;
			return;
		}
		memcpy(r->data, s->token, s->token_len);
		r->len = s->token_len;
		return;
	}
	if (sfi != TC_TOK_SFI_LOG) {
		r->sw = TC_SW_FILE_NOT_FOUND;
		return;
	}
	if (rec > s->log_count) {
		r->sw = TC_SW_RECORD_NOT_FOUND;
		return;
	}
	unsigned idx = (s->log_head + TC_TOK_LOG_MAX - (rec - 1)) % TC_TOK_LOG_MAX;
	memcpy(r->data, s->log[idx], TC_TOK_LOG_REC);
	r->len = TC_TOK_LOG_REC;
}

/* --- challenges ------------------------------------------------------------- */

void tok_get_challenge(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                       struct tc_card_rapdu *r)
{
	if (cmd->p1 || cmd->p2) {
		r->sw = TC_SW_WRONG_P1P2;
		return;
	}
	if (tc_random(c->chal, sizeof(c->chal)) != TC_OK) {
		c->have_chal = false;
		r->sw = TC_SW_NO_DIAGNOSIS;
		return;
	}
	c->have_chal = true;
	memcpy(r->data, c->chal, sizeof(c->chal));
	r->len = sizeof(c->chal);
}

void tok_int_auth(struct tc_token_card *c, const struct tc_card_apdu *cmd, struct tc_card_rapdu *r)
{
	const struct tok_state *s = &c->st;

	if (cmd->p1 || cmd->p2)
		r->sw = TC_SW_WRONG_P1P2;
	else if (cmd->nc < TC_TOK_AUTH_MIN || cmd->nc > TC_TOK_AUTH_MAX)
		r->sw = TC_SW_WRONG_LENGTH;
	else if (s->life == TC_TOK_BLANK)
		r->sw = TC_SW_CONDITIONS;
	else if (tc_tok_int_auth_mac(s->key_auth, s->card_id, s->card_id_len, cmd->data, cmd->nc,
	                             r->data) != TC_OK)
		r->sw = TC_SW_NO_DIAGNOSIS;
	else
		r->len = TC_TOK_MAC_LEN;
}

/* --- PERSONALISE ------------------------------------------------------------ */

void tok_personalise(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                     struct tc_card_rapdu *r)
{
	struct tc_tok_perso p;
	struct tok_state next;
	char why[96], hex[2 * TC_TOK_CARD_ID_MAX + 1];

	if (cmd->p1 || cmd->p2) {
		r->sw = TC_SW_WRONG_P1P2;
		return;
	}
	if (c->st.life != TC_TOK_BLANK) {
		r->sw = TC_SW_CONDITIONS;
		return;
	}
	if (cmd->nc == 0) {
		r->sw = TC_SW_WRONG_LENGTH;
		return;
	}
	if (tc_tok_perso_decode(cmd->data, cmd->nc, &p, why, sizeof(why)) != TC_OK) {
		tok_printf(c, "PERSONALISE refused: %s", why);
		r->sw = TC_SW_WRONG_DATA;
		goto out;
	}
	memset(&next, 0, sizeof(next));
	next.life = TC_TOK_PERSONALISED;
	next.pin_tries = TC_TOK_PIN_TRIES;
	next.puk_tries = TC_TOK_PUK_TRIES;
	next.flags = p.test_keys ? 1 : 0;
	next.card_id_len = (uint8_t)p.card_id_len;
	memcpy(next.card_id, p.card_id, p.card_id_len);
	memcpy(next.key_auth, p.key_auth, 16);
	memcpy(next.key_mac, p.key_mac, 16);
	memcpy(next.key_token, p.key_token, 16);
	next.atc = p.atc;
	(void)tc_tok_pin_block(p.pin, next.pin);
	(void)tc_tok_pin_block(p.puk, next.puk);
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		goto out;
	}
	for (size_t i = 0; i < p.card_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02X", p.card_id[i]);
	tok_printf(c, "personalised: card %s, counter %u%s", hex, (unsigned)p.atc,
	           p.test_keys ? ", TEST KEYS" : "");
out:
	tc_wipe(&p, sizeof(p));
	tc_wipe(&next, sizeof(next));
}
