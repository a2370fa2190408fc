/* app_token_int.h: the deposit-token application's insides, shared by its
 * source files (app_token*.c). Not for other components. */
#ifndef APP_TOKEN_INT_H
#define APP_TOKEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_token.h"
#include "tc_card_app.h"
#include "tc_token.h"
#include "tc_token_apdu.h"

/* What the card keeps in its memory (serialised by app_token_state.c). */
struct tok_state {
	uint8_t life; /* TC_TOK_BLANK, _PERSONALISED, _ACTIVE, _EXPIRED (never _BLOCKED) */
	uint8_t pin_tries, puk_tries, flags;
	uint8_t card_id[TC_TOK_CARD_ID_MAX];
	uint8_t card_id_len;
	uint8_t key_auth[16], key_mac[16], key_token[16];
	uint8_t pin[8], puk[8]; /* ISO 9564 format 2 blocks */
	uint32_t atc;
	uint64_t balance;
	uint16_t currency;
	uint16_t token_len; /* 0: no token */
	uint8_t token[TC_TOKEN_MAX_ENC];
	uint8_t log_head, log_count; /* head: index of the most recent entry */
	uint8_t log[TC_TOK_LOG_MAX][TC_TOK_LOG_REC];
};

struct tc_token_card {
	struct tok_state st;
	struct tc_token tok;    /* st.token decoded (valid when st.token_len) */
	struct tc_store *store; /* NULL: memory only */
	bool dead;              /* a commit was torn: answer 6581 until reopened */
	/* Volatile (RAM): cleared at selection and reset. */
	bool pin_ok;
	bool have_chal;
	uint8_t chal[TC_TOK_CHALLENGE];
	bool pending;
	struct tc_tok_debit pend;
	uint32_t pend_atc;
	uint8_t pend_arqc[TC_TOK_MAC_LEN];
	tc_token_log_fn log_fn;
	void *log_ctx;
};

/* Status words used here (ISO 7816-4 meanings, protocol/tc_sw.h). */
#include "tc_sw.h"

/* app_token_state.c */
void tok_state_encode(const struct tok_state *s, uint8_t img[TC_TOKEN_STORE_SIZE]);
int tok_state_decode(const uint8_t img[TC_TOKEN_STORE_SIZE], struct tok_state *s);
/* Commit next as the card's state. 0, or the store's error (card dead). */
int tok_commit(struct tc_token_card *c, const struct tok_state *next);
/* Reported lifecycle (blocked when a try counter is exhausted). */
enum tc_tok_life tok_life(const struct tok_state *s);
/* Add a log entry as the most recent one. */
void tok_log_add(struct tok_state *s, const struct tc_tok_log_entry *e);
void tok_printf(const struct tc_token_card *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Command handlers: app_token_pin.c, app_token_pay.c, app_token_data.c. */
typedef void tok_handler(struct tc_token_card *c, const struct tc_card_apdu *cmd,
                         struct tc_card_rapdu *r);
tok_handler tok_verify, tok_change_ref, tok_reset_retry;
tok_handler tok_debit_request, tok_debit_complete, tok_put_token;
tok_handler tok_get_data, tok_read_record, tok_get_challenge, tok_int_auth, tok_personalise;

/* Write big-endian. */
void tok_be(uint8_t *p, uint64_t v, size_t n);

#endif
