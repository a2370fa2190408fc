/* app_token_pay.c: DEBIT REQUEST, DEBIT COMPLETE, PUT TOKEN.
 *
 * DEBIT REQUEST commits the incremented counter and an attempt in the log
 * (outcome "no completion") before it answers, so a counter value is never
 * used twice even when the card is pulled. DEBIT COMPLETE commits balance
 * and the log entry's outcome together, once the host's cryptogram checks. */
#include "app_token_int.h"

#include <stdio.h>
#include <string.h>

#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_tlv.h"
#include "tc_token_mac.h"

static bool p1p2_zero(const struct tc_card_apdu *cmd, struct tc_card_rapdu *r)
{
	if (cmd->p1 || cmd->p2) {
		r->sw = TC_SW_WRONG_P1P2;
		return false;
	}
	return true;
}

/* Conditions of DEBIT REQUEST before its data is looked at. */
static uint16_t debit_state_sw(const struct tc_token_card *c)
{
	enum tc_tok_life l = tok_life(&c->st);

	if (l == TC_TOK_BLOCKED)
		return TC_SW_AUTH_BLOCKED;
	if (l != TC_TOK_ACTIVE)
		return TC_SW_CONDITIONS;
	if (!c->pin_ok)
		return TC_SW_SECURITY_NOT_SATISFIED;
	return TC_SW_OK;
}

/* The data's own checks against the token; TC_SW_OK or why not. */
static uint16_t debit_data_sw(struct tc_token_card *c, const struct tc_tok_debit *d)
{
	if (d->currency != c->st.currency)
		return TC_SW_WRONG_DATA;
	if (tc_date_cmp(&d->date, &c->tok.expiry) > 0) {
		struct tok_state next = c->st;
		next.life = TC_TOK_EXPIRED;
		tok_printf(c, "DEBIT REQUEST: token %s expired", c->tok.token_id);
		return tok_commit(c, &next) == TC_OK ? TC_SW_CONDITIONS : TC_SW_MEMORY_FAILURE;
	}
	if (d->amount > c->st.balance) {
		tok_printf(c, "DEBIT REQUEST: amount above the balance");
		return TC_SW_CONDITIONS;
	}
	if (c->st.atc == UINT32_MAX) {
		tok_printf(c, "DEBIT REQUEST: transaction counter exhausted");
		return TC_SW_CONDITIONS;
	}
	return TC_SW_OK;
}

void tok_debit_request(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                       struct tc_card_rapdu *r)
{
	struct tc_tok_debit d;
	struct tc_tok_log_entry e;
	struct tok_state next;

	if (!p1p2_zero(cmd, r))
		return;
	r->sw = debit_state_sw(c);
	if (r->sw != TC_SW_OK)
		return;
	if (cmd->nc != TC_TOK_DEBIT_REQ) {
		r->sw = TC_SW_WRONG_LENGTH;
		return;
	}
	if (tc_tok_debit_decode(cmd->data, cmd->nc, &d) != TC_OK) {
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	c->pending = false;
	r->sw = debit_data_sw(c, &d);
	if (r->sw != TC_SW_OK)
		return;
	next = c->st;
	next.atc++;
	e = (struct tc_tok_log_entry){.atc = next.atc,
	                              .amount = d.amount,
	                              .currency = d.currency,
	                              .date = d.date,
	                              .outcome = TC_TOK_PENDING,
	                              .balance = next.balance};
	memcpy(e.terminal, d.terminal, sizeof(e.terminal));
	tok_log_add(&next, &e);
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return;
	}
	if (tc_tok_arqc(c->st.key_mac, c->st.card_id, c->st.card_id_len, c->st.atc, &d,
	                c->tok.token_id, c->pend_arqc) != TC_OK) {
		r->sw = TC_SW_NO_DIAGNOSIS;
		return;
	}
	c->pending = true;
	c->pend = d;
	c->pend_atc = c->st.atc;
	tok_be(r->data, c->st.atc, 4);
	memcpy(r->data + 4, c->pend_arqc, TC_TOK_MAC_LEN);
	r->len = TC_TOK_DEBIT_RESP;
	tok_printf(c, "DEBIT REQUEST: counter %u, token %s", (unsigned)c->st.atc, c->tok.token_id);
}

/* Set the outcome (and balance) of the pending attempt's log entry. */
static void log_outcome(struct tc_token_card *c, struct tok_state *next, enum tc_tok_outcome o)
{
	struct tc_tok_log_entry e;
	uint8_t *rec = next->log[next->log_head];

	if (next->log_count == 0 || tc_tok_log_decode(rec, TC_TOK_LOG_REC, &e) != TC_OK ||
	    e.atc != c->pend_atc) {
		e = (struct tc_tok_log_entry){.atc = c->pend_atc,
		                              .amount = c->pend.amount,
		                              .currency = c->pend.currency,
		                              .date = c->pend.date};
		memcpy(e.terminal, c->pend.terminal, sizeof(e.terminal));
		e.outcome = o;
		e.balance = next->balance;
		tok_log_add(next, &e);
		return;
	}
	e.outcome = o;
	e.balance = next->balance;
	tc_tok_log_encode(&e, rec);
}

void tok_debit_complete(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                        struct tc_card_rapdu *r)
{
	uint8_t want[TC_TOK_MAC_LEN];
	struct tok_state next;
	enum tc_tok_outcome o;
	bool good;

	if (!p1p2_zero(cmd, r))
		return;
	if (cmd->nc != TC_TOK_DEBIT_CPL) {
		r->sw = TC_SW_WRONG_LENGTH;
		return;
	}
	if (!c->pending) {
		r->sw = TC_SW_CONDITIONS;
		return;
	}
	if (cmd->data[4] > TC_TOK_DECLINE) {
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	o = (enum tc_tok_outcome)cmd->data[4];
	c->pending = false; /* one answer per request, good or bad */
	good = tc_tok_arpc(c->st.key_mac, c->pend_atc, o, c->pend_arqc, want) == TC_OK &&
	       tc_ct_equal(want, cmd->data + 5, TC_TOK_MAC_LEN) &&
	       ((uint32_t)cmd->data[0] << 24 | (uint32_t)cmd->data[1] << 16 |
	        (uint32_t)cmd->data[2] << 8 | cmd->data[3]) == c->pend_atc;
	next = c->st;
	if (good && o == TC_TOK_APPROVE)
		next.balance -= c->pend.amount; /* <= balance: checked at the request */
	log_outcome(c, &next, good ? o : TC_TOK_REFUSED);
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return;
	}
	tok_printf(c, "DEBIT COMPLETE: counter %u %s", (unsigned)c->pend_atc,
	           good ? tc_tok_outcome_name(o) : "refused: host cryptogram wrong");
	if (!good) {
		r->sw = TC_SW_SECURITY_NOT_SATISFIED;
		return;
	}
	tok_be(r->data, c->st.balance, 8);
	r->len = 8;
}

/* Split PUT TOKEN data into the record and the MAC; false when malformed. */
static bool split_put(const struct tc_card_apdu *cmd, const uint8_t **rec, size_t *rn,
                      const uint8_t **mac)
{
	struct tc_tlv a, b;

	if (cmd->nc == 0 || tc_tlv_parse(cmd->data, cmd->nc, &a, NULL) != TC_OK ||
	    a.tag != TC_TOKEN_TAG_RECORD)
		return false;
	*rn = a.hdr_len + a.len;
	if (tc_tlv_parse(cmd->data + *rn, cmd->nc - *rn, &b, NULL) != TC_OK ||
	    b.tag != TC_TOK_TAG_CMD_MAC || b.len != TC_TOK_MAC_LEN ||
	    *rn + b.hdr_len + b.len != cmd->nc)
		return false;
	*rec = cmd->data;
	*mac = b.value;
	return true;
}

void tok_put_token(struct tc_token_card *c, const struct tc_card_apdu *cmd, struct tc_card_rapdu *r)
{
	const uint8_t *rec, *mac;
	size_t rn;
	uint8_t want[TC_TOK_MAC_LEN];
	struct tc_token t;
	struct tok_state next;
	bool had = c->have_chal;
	char why[TC_TOKEN_WHY_LEN], masked[TC_TOKEN_PAN_MAX + 1];

	if (!p1p2_zero(cmd, r))
		return;
	if (c->st.life == TC_TOK_BLANK) {
		r->sw = TC_SW_CONDITIONS;
		return;
	}
	c->have_chal = false; /* a challenge serves one PUT TOKEN */
	if (!split_put(cmd, &rec, &rn, &mac)) {
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	if (!had) {
		r->sw = TC_SW_CONDITIONS;
		return;
	}
	if (tc_tok_put_token_mac(c->st.key_token, c->st.card_id, c->st.card_id_len, c->chal,
	                         c->st.atc, rec, rn, want) != TC_OK ||
	    !tc_ct_equal(want, mac, TC_TOK_MAC_LEN)) {
		tok_printf(c, "PUT TOKEN refused: MAC wrong");
		r->sw = TC_SW_SECURITY_NOT_SATISFIED;
		return;
	}
	if (rn > TC_TOKEN_MAX_ENC || tc_token_decode(rec, rn, &t, why, sizeof(why)) != TC_OK) {
		tok_printf(c, "PUT TOKEN refused: %s", rn > TC_TOKEN_MAX_ENC ? "too long" : why);
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	next = c->st;
	memset(next.token, 0, sizeof(next.token));
	memcpy(next.token, rec, rn);
	next.token_len = (uint16_t)rn;
	next.balance = t.amount;
	next.currency = t.currency;
	next.life = TC_TOK_ACTIVE;
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return;
	}
	c->pending = false;
	tc_token_mask_pan(t.card_number, masked, sizeof(masked));
	tok_printf(c, "PUT TOKEN: token %s, card %s, amount %llu", t.token_id, masked,
	           (unsigned long long)t.amount);
}
