/* app_token_pin.c: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER.
 *
 * A try is spent before the comparison (committed first), and given back
 * after a match, so that cutting power at the comparison never saves a
 * try. PIN blocks are compared in constant time and never logged. */
#include "app_token_int.h"

#include <string.h>

#include "tc_crypto.h"
#include "tc_error.h"

static bool block_ok(const uint8_t *blk)
{
	char digits[13];
	bool ok = tc_tok_pin_unblock(blk, digits) == TC_OK;
	tc_wipe(digits, sizeof(digits));
	return ok;
}

/* Common checks of the three commands; false when r->sw is set. */
static bool pin_cmd_ok(const struct tc_token_card *c, const struct tc_card_apdu *cmd,
                       struct tc_card_rapdu *r, uint8_t max_p1)
{
	if (cmd->p1 > max_p1) {
		r->sw = TC_SW_WRONG_P1P2;
		return false;
	}
	if (cmd->p2 != TC_TOK_PIN_REF) {
		r->sw = TC_SW_DATA_NOT_FOUND;
		return false;
	}
	if (c->st.life == TC_TOK_BLANK) {
		r->sw = TC_SW_CONDITIONS;
		return false;
	}
	return true;
}

/* Spend a try of *tries, compare, give it back on a match. Returns 1 on a
 * match, 0 on a mismatch (r->sw = 63Cx), -1 on a memory failure (6581). */
static int try_secret(struct tc_token_card *c, uint8_t *tries, uint8_t full, const uint8_t *ref,
                      const uint8_t *given, struct tc_card_rapdu *r)
{
	struct tok_state next = c->st;
	uint8_t *t = (uint8_t *)&next + (tries - (uint8_t *)&c->st);
	bool match;

	(*t)--;
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return -1;
	}
	match = tc_ct_equal(ref, given, 8);
	if (!match) {
		r->sw = (uint16_t)(TC_SW_COUNTER | *tries);
		return 0;
	}
	next = c->st;
	*t = full;
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return -1;
	}
	return 1;
}

void tok_verify(struct tc_token_card *c, const struct tc_card_apdu *cmd, struct tc_card_rapdu *r)
{
	int m;

	if (!pin_cmd_ok(c, cmd, r, 0))
		return;
	if (c->st.puk_tries == 0 || c->st.pin_tries == 0) {
		r->sw = TC_SW_AUTH_BLOCKED;
		return;
	}
	if (cmd->nc == 0) {
		r->sw = (uint16_t)(TC_SW_COUNTER | c->st.pin_tries);
		return;
	}
	if (cmd->nc != 8) {
		r->sw = TC_SW_WRONG_LENGTH;
		return;
	}
	if (!block_ok(cmd->data)) {
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	c->pin_ok = false;
	m = try_secret(c, &c->st.pin_tries, TC_TOK_PIN_TRIES, c->st.pin, cmd->data, r);
	if (m == 1)
		c->pin_ok = true;
	tok_printf(c, "VERIFY: %s, %u tries left", m == 1 ? "PIN correct" : "PIN wrong",
	           (unsigned)c->st.pin_tries);
}

void tok_change_ref(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                    struct tc_card_rapdu *r)
{
	struct tok_state next;

	if (!pin_cmd_ok(c, cmd, r, 0))
		return;
	if (c->st.puk_tries == 0 || c->st.pin_tries == 0) {
		r->sw = TC_SW_AUTH_BLOCKED;
		return;
	}
	if (cmd->nc != 16) {
		r->sw = TC_SW_WRONG_LENGTH;
		return;
	}
	if (!block_ok(cmd->data) || !block_ok(cmd->data + 8)) {
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	c->pin_ok = false;
	if (try_secret(c, &c->st.pin_tries, TC_TOK_PIN_TRIES, c->st.pin, cmd->data, r) != 1) {
		tok_printf(c, "CHANGE REFERENCE DATA: old PIN wrong");
		return;
	}
	next = c->st;
	memcpy(next.pin, cmd->data + 8, 8);
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return;
	}
	tc_wipe(&next, sizeof(next));
	c->pin_ok = true;
	tok_printf(c, "CHANGE REFERENCE DATA: PIN changed");
}

void tok_reset_retry(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                     struct tc_card_rapdu *r)
{
	struct tok_state next;
	size_t want = cmd->p1 == 0 ? 16 : 8;

	if (!pin_cmd_ok(c, cmd, r, 1))
		return;
	if (c->st.puk_tries == 0) {
		r->sw = TC_SW_AUTH_BLOCKED;
		return;
	}
	if (cmd->nc != want) {
		r->sw = TC_SW_WRONG_LENGTH;
		return;
	}
	if (!block_ok(cmd->data) || (want == 16 && !block_ok(cmd->data + 8))) {
		r->sw = TC_SW_WRONG_DATA;
		return;
	}
	if (try_secret(c, &c->st.puk_tries, TC_TOK_PUK_TRIES, c->st.puk, cmd->data, r) != 1) {
		tok_printf(c, "RESET RETRY COUNTER: PUK wrong, %u tries left",
		           (unsigned)c->st.puk_tries);
		return;
	}
	next = c->st;
	next.pin_tries = TC_TOK_PIN_TRIES;
	if (want == 16)
		memcpy(next.pin, cmd->data + 8, 8);
	if (tok_commit(c, &next) != TC_OK) {
		r->sw = TC_SW_MEMORY_FAILURE;
		return;
	}
	tc_wipe(&next, sizeof(next));
	tok_printf(c, "RESET RETRY COUNTER: PIN unblocked%s", want == 16 ? ", new PIN set" : "");
}
