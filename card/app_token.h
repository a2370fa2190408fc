/* app_token.h: the deposit-token application on the simulated card
 * (AID F0 54 4F 4B 45 4E 01). Its command set is docs/token-card.md,
 * "Command set"; builders and parsers are protocol/tc_token_apdu.h.
 *
 * The card's state lives in a card memory file (tc_card_store.h) and every
 * state-changing command commits it as a whole, atomically. Without a file
 * the state lives in memory only (lost at exit). Pure: no I/O but the store. */
#ifndef APP_TOKEN_H
#define APP_TOKEN_H

#include <stddef.h>

#include "tc_card_app.h"

#define TC_TOKEN_STORE_SIZE 1024u /* image size of the card memory */

struct tc_token_card;
struct tc_store;

/* One line of the application's log (no newline). PINs, PUKs, keys and full
 * card numbers never appear in it. */
typedef void (*tc_token_log_fn)(void *ctx, const char *line);

/* Open the card: its memory at store_path (created blank when absent), or
 * in memory when store_path is NULL. 0, or a negative tc_err with err set
 * (TC_E_CORRUPT for an image that is not a token card's). */
int tc_token_card_open(const char *store_path, struct tc_token_card **out, char *err, size_t cap);
void tc_token_card_close(struct tc_token_card *c);
void tc_token_card_set_log(struct tc_token_card *c, tc_token_log_fn fn, void *ctx);

/* The application table; priv is the struct tc_token_card. */
const struct tc_card_app *tc_card_app_token(void);

/* Tests: the store under the card (NULL in memory), to cut power with
 * tc_store_tear_after(). After a torn write the card answers 6581 to every
 * command until closed and reopened. */
struct tc_store *tc_token_card_store(struct tc_token_card *c);

#endif
