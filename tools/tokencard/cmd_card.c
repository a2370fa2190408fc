/* cmd_card.c: "tokencard card": dispatch, `info` and `log`
 * (docs/token-card.md, "Tools"). Nothing here prints a PIN, a key or more
 * than the last four digits of the card number. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_card.h"
#include "commands.h"
#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_sw.h"

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: tokencard card personalise [-r READER] [--keys FILE | --new-keys FILE] "
	        "HOLDER\n"
	        "       tokencard card info [-r READER] [--keys FILE]\n"
	        "       tokencard card verify [-r READER] [--pin-fd N] [--tries]\n"
	        "       tokencard card unblock [-r READER] [--pin-fd N]\n"
	        "       tokencard card change-pin [-r READER] [--pin-fd N]\n"
	        "       tokencard card log [-r READER]\n"
	        "The deposit-token card through PC/SC (docs/token-card.md, \"Tools\"). READER\n"
	        "defaults to the first reader with a card. personalise writes a blank card from\n"
	        "a holder file (key = value lines: holder, token items, PIN, PUK); its keys come\n"
	        "from a key file, or are generated as TEST KEYS (--new-keys keeps them in FILE).\n"
	        "verify reads the PIN without echo from the terminal, else one line from fd N\n"
	        "or from stdin; unblock reads the PUK, then a new PIN (empty: keep the PIN);\n"
	        "change-pin reads the PIN, then the new one (twice from a terminal).\n");
}

/* -r READER and --keys FILE, the options info and log share. */
struct common_opts {
	const char *reader;
	const char *keys;
};

static int parse_common(int argc, char **argv, struct common_opts *o, bool keys)
{
	static const struct option opts[] = {{"reader", required_argument, 0, 'r'},
	                                     {"keys", required_argument, 0, 'k'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
		if (c == 'r')
			o->reader = optarg;
		else if (c == 'k' && keys)
			o->keys = optarg;
		else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 1 : 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* ---- info ---------------------------------------------------------------------- */

static void print_id(const char *label, const uint8_t *id, size_t n)
{
	bool text = n > 0;
	for (size_t i = 0; i < n; i++)
		text = text && id[i] >= 0x20 && id[i] < 0x7F;
	printf("%-16s ", label);
	for (size_t i = 0; i < n; i++)
		printf(text ? "%c" : "%02X", id[i]);
	printf("\n");
}

static void print_token(const struct tc_token *t, int mac_ok)
{
	char amount[40], d1[11], d2[11], pan[TC_TOKEN_PAN_MAX + 1];
	tc_money_format(t->amount, t->currency, amount, sizeof(amount));
	tc_date_format(&t->deposit_date, d1);
	tc_date_format(&t->expiry, d2);
	tc_token_mask_pan(t->card_number, pan, sizeof(pan));
	printf("token:\n");
	printf("  %-18s %s\n", "token ID", t->token_id);
	printf("  %-18s %s\n", "user name", t->user_name);
	printf("  %-18s %s\n", "user ID", t->user_id);
	printf("  %-18s %s\n", "amount deposited", amount);
	printf("  %-18s %s\n", "date of deposit", d1);
	printf("  %-18s %s\n", "expiry date", d2);
	printf("  %-18s %s\n", "bank ID", t->bank_id);
	printf("  %-18s %s\n", "bank account", t->bank_account);
	printf("  %-18s %s\n", "card company ID", t->company_id);
	printf("  %-18s %s\n", "card number", pan);
	printf("  %-18s %s\n", "issuer MAC",
	       mac_ok < 0    ? "not checked (give --keys FILE)"
	       : mac_ok == 0 ? "valid under the key for tokens"
	                     : "WRONG: not issued with this key for tokens");
}

/* The token record (READ RECORD SFI 1), decoded; mac_key may be NULL. */
static int show_token(struct card_conn *c, const uint8_t *mac_key)
{
	uint8_t apdu[8], rec[TC_TOKEN_MAX_ENC + 64];
	size_t n = 0;
	char why[TC_TOKEN_WHY_LEN], swt[128];
	struct tc_token t;
	int len = tc_tok_read_record(TC_TOK_SFI_TOKEN, 1, apdu, sizeof(apdu));
	int sw = len > 0 ? card_transmit(c, apdu, (size_t)len, rec, sizeof(rec), &n) : -1;
	if (sw == TC_SW_RECORD_NOT_FOUND) {
		printf("token:           none on the card\n");
		return 0;
	}
	if (sw != TC_SW_OK) {
		if (sw >= 0)
			fprintf(stderr, "tokencard card: READ RECORD (token): %s\n",
			        card_sw_text(sw, swt, sizeof(swt)));
		return -1;
	}
	int rc = tc_token_decode(rec, n, &t, why, sizeof(why));
	tc_wipe(rec, sizeof(rec));
	if (rc != TC_OK) {
		fprintf(stderr, "tokencard card: the token record is malformed: %s\n", why);
		return -1;
	}
	print_token(&t, mac_key ? (tc_token_verify(&t, mac_key) == TC_OK ? 0 : 1) : -1);
	tc_wipe(&t, sizeof(t));
	return 0;
}

static int read_keys(const char *path, struct card_keys *k);

static int info_status(struct card_conn *c, struct tc_tok_status *st)
{
	static const uint16_t tags[] = {TC_TOK_DO_CARD_ID,   TC_TOK_DO_BALANCE,
	                                TC_TOK_DO_ATC,       TC_TOK_DO_PIN_TRIES,
	                                TC_TOK_DO_PUK_TRIES, TC_TOK_DO_KEY_FLAGS};
	char amount[40], swt[128];
	int sw = card_get_data(c, TC_TOK_DO_LIFECYCLE, st);
	if (sw != TC_SW_OK)
		goto bad;
	printf("%-16s %s\n", "lifecycle", tc_tok_life_name(st->life));
	if (st->life == TC_TOK_BLANK)
		return 0;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if ((sw = card_get_data(c, tags[i], st)) != TC_SW_OK)
			goto bad;
	print_id("card ID", st->card_id, st->card_id_len);
	printf("%-16s %s\n", "keys", st->test_keys ? "TEST KEYS" : "issuer keys");
	tc_money_format(st->balance, st->currency, amount, sizeof(amount));
	printf("%-16s %s\n", "balance", amount);
	printf("%-16s %u\n", "counter (ATC)", (unsigned)st->atc);
	printf("%-16s %u of %u\n", "PIN tries left", st->pin_tries, TC_TOK_PIN_TRIES);
	printf("%-16s %u of %u\n", "PUK tries left", st->puk_tries, TC_TOK_PUK_TRIES);
	return 0;
bad:
	if (sw >= 0)
		fprintf(stderr, "tokencard card: GET DATA: %s\n",
		        card_sw_text(sw, swt, sizeof(swt)));
	return -1;
}

int card_info(int argc, char **argv)
{
	struct common_opts o = {0};
	struct tc_tok_status st;
	struct card_keys k;
	int rc = parse_common(argc, argv, &o, true);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (o.keys && read_keys(o.keys, &k) != 0)
		return 2;
	struct card_conn *c = card_connect(o.reader);
	if (!c) {
		tc_wipe(&k, sizeof(k));
		return 1;
	}
	memset(&st, 0, sizeof(st));
	rc = info_status(c, &st);
	if (rc == 0 && st.life != TC_TOK_BLANK)
		rc = show_token(c, o.keys ? k.token_key : NULL);
	card_disconnect(c);
	tc_wipe(&k, sizeof(k));
	return rc == 0 ? 0 : 1;
}

/* ---- log ----------------------------------------------------------------------- */

static void print_entry(unsigned no, const struct tc_tok_log_entry *e)
{
	char amount[40], balance[40], date[11], term[2 * TC_TOK_TERMINAL_LEN + 1], cur[8];
	const char *alpha = tc_currency_alpha(e->currency);
	bool text = true;
	for (size_t i = 0; i < TC_TOK_TERMINAL_LEN; i++)
		text = text && isprint(e->terminal[i]);
	for (size_t i = 0; i < TC_TOK_TERMINAL_LEN; i++)
		snprintf(term + (text ? i : 2 * i), 3, text ? "%c" : "%02X", e->terminal[i]);
	tc_amount_format(e->amount, e->currency, amount, sizeof(amount));
	tc_amount_format(e->balance, e->currency, balance, sizeof(balance));
	tc_date_format(&e->date, date);
	if (alpha)
		snprintf(cur, sizeof(cur), "%s", alpha);
	else
		snprintf(cur, sizeof(cur), "%03u", (unsigned)e->currency);
	printf("%2u  %10u  %s  %12s %-3s  %-16s  %-19s  %12s\n", no, (unsigned)e->atc, date, amount,
	       cur, term, tc_tok_outcome_name(e->outcome), balance);
}

int card_log(int argc, char **argv)
{
	struct common_opts o = {0};
	int rc = parse_common(argc, argv, &o, false);
	if (rc)
		return rc == 1 ? 0 : rc;
	struct card_conn *c = card_connect(o.reader);
	if (!c)
		return 1;
	unsigned n = 0;
	for (unsigned rec = 1; rec <= TC_TOK_LOG_MAX; rec++) {
		uint8_t apdu[8], resp[64];
		size_t len = 0;
		char swt[128];
		struct tc_tok_log_entry e;
		int alen = tc_tok_read_record(TC_TOK_SFI_LOG, (uint8_t)rec, apdu, sizeof(apdu));
		int sw = card_transmit(c, apdu, (size_t)alen, resp, sizeof(resp), &len);
		if (sw == TC_SW_RECORD_NOT_FOUND)
			break;
		if (sw != TC_SW_OK || tc_tok_log_decode(resp, len, &e) != TC_OK) {
			if (sw >= 0)
				fprintf(stderr, "tokencard card: log record %u: %s\n", rec,
				        sw == TC_SW_OK ? "malformed"
				                       : card_sw_text(sw, swt, sizeof(swt)));
			rc = 1;
			break;
		}
		if (n++ == 0)
			printf(" #         ATC  date              amount cur  terminal          "
			       "outcome                     balance\n");
		print_entry(rec, &e);
	}
	if (n == 0 && rc == 0)
		printf("the log is empty\n");
	card_disconnect(c);
	return rc;
}

/* ---- keys ---------------------------------------------------------------------- */

static int read_keys(const char *path, struct card_keys *k)
{
	char text[CARD_FILE_MAX + 1], err[CARD_ERR_LEN];
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tokencard card: cannot read %s\n", path);
		return -1;
	}
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	int rc = card_keys_parse(text, n, path, k, err, sizeof(err));
	tc_wipe(text, sizeof(text));
	if (rc != TC_OK) {
		fprintf(stderr, "tokencard card: %s\n", err);
		return -1;
	}
	return 0;
}

int card_read_keys(const char *path, struct card_keys *k)
{
	return read_keys(path, k);
}

int cmd_card(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} verbs[] = {{"personalise", card_personalise},
	             {"personalize", card_personalise},
	             {"info", card_info},
	             {"verify", card_verify},
	             {"unblock", card_unblock},
	             {"change-pin", card_change_pin},
	             {"log", card_log}};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tokencard card: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
