/* cmd_card.h: "tokencard card": the deposit-token card through PC/SC
 * (docs/token-card.md, "Tools"). Internal to cmd_card*.c.
 *
 * cmd_card_holder.c is pure (text in, structures out): the holder file and
 * the key file, both "key = value" lines, '#' comments, blank lines ignored.
 * Errors are one sentence, "NAME:LINE: what" or "NAME: what", never quoting
 * a PIN, a PUK, a key or a card number. The fuzz target links it alone. */
#ifndef TOKENCARD_CMD_CARD_H
#define TOKENCARD_CMD_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_token.h"
#include "tc_token_apdu.h"

#define CARD_ERR_LEN   200u
#define CARD_LINE_MAX  256u
#define CARD_FILE_MAX  16384u /* a holder or key file is small */
#define CARD_APDU_RESP 1100u

/* What a holder file gives: the token (issuer MAC not yet set), the card's
 * identity, its PIN and PUK and its first counter value. */
struct card_holder {
	struct tc_token token;
	uint8_t card_id[TC_TOK_CARD_ID_MAX];
	size_t card_id_len;
	char pin[TC_TOK_PIN_MAX + 1];
	char puk[TC_TOK_PUK_LEN + 1];
	uint32_t first_atc;
};

/* A key file: the issuer's master key (card keys are diversified from it)
 * and the key for tokens (the credit service provider's). test: these are
 * test keys (the card's key flag); "test = no" is the only way to say no. */
struct card_keys {
	uint8_t master[16];
	uint8_t token_key[16];
	bool test;
};

/* Parse a holder file (len bytes). 0, or TC_E_FORMAT with err set; h is
 * wiped on error. name: the file name used in messages. */
int card_holder_parse(const char *text, size_t len, const char *name, struct card_holder *h,
                      char *err, size_t cap);
/* Parse a key file: "master = 32 hex digits", "token_key = 32 hex digits",
 * optional "test = yes|no". Same error rules. */
int card_keys_parse(const char *text, size_t len, const char *name, struct card_keys *k, char *err,
                    size_t cap);
/* Amount text ("400", "400.5", "400.00") in the currency's minor units
 * (tc_currency_exponent); 0 or TC_E_FORMAT. */
int card_amount_parse(const char *text, uint16_t currency, uint64_t *out);

/* ---- PC/SC (cmd_card_pcsc.c) -------------------------------------------- */

struct card_conn;

/* Connect to reader (NULL: the first reader with a card) and select the
 * token application. NULL with a sentence on stderr. */
struct card_conn *card_connect(const char *reader);
void card_disconnect(struct card_conn *c);
/* One command APDU; GET RESPONSE after 61xx and a resend after 6Cxx are
 * done here. data (may be NULL) gets up to cap bytes. Returns SW1SW2, or -1
 * when PC/SC failed (a sentence on stderr). */
int card_transmit(struct card_conn *c, const uint8_t *apdu, size_t n, uint8_t *data, size_t cap,
                  size_t *ndata);
/* GET DATA tag into st; returns the SW (9000 when parsed), -1 on failure. */
int card_get_data(struct card_conn *c, uint16_t tag, struct tc_tok_status *st);
/* "6983 (authentication method blocked)" for messages. */
const char *card_sw_text(int sw, char *buf, size_t cap);

/* Read and parse a key file; 0, or -1 with a sentence on stderr. */
int card_read_keys(const char *path, struct card_keys *k);

/* ---- subcommands ---------------------------------------------------------- */

int card_personalise(int argc, char **argv); /* cmd_card_perso.c */
int card_info(int argc, char **argv);        /* cmd_card.c */
int card_verify(int argc, char **argv);      /* cmd_card_verify.c */
int card_unblock(int argc, char **argv);     /* cmd_card_verify.c */
int card_change_pin(int argc, char **argv);  /* cmd_card_verify.c */
int card_log(int argc, char **argv);         /* cmd_card.c */

#endif
