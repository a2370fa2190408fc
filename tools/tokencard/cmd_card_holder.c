/* cmd_card_holder.c: the holder file and the key file of "tokencard card
 * personalise" (docs/token-card.md, "Tools"). Pure: text in, structures out. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_card.h"
#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_hex.h"

/* ---- values ------------------------------------------------------------------ */

static bool all_digits(const char *v, size_t min, size_t max)
{
	size_t n = strlen(v);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return false;
	return true;
}

static bool printable(const char *v, size_t min, size_t max)
{
	size_t n = strlen(v);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7E)
			return false;
	return true;
}

int card_amount_parse(const char *text, uint16_t currency, uint64_t *out)
{
	unsigned exp = tc_currency_exponent(currency), frac = 0;
	uint64_t v = 0;
	bool dot = false;
	size_t digits = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '.' && !dot && exp > 0 && digits > 0) {
			dot = true;
			continue;
		}
		if (!isdigit((unsigned char)*p) || (dot && frac >= exp) || v > UINT64_MAX / 10 - 1)
			return TC_E_FORMAT;
		v = v * 10 + (uint64_t)(*p - '0');
		digits++;
		frac += dot;
	}
	if (digits == 0 || (dot && frac == 0))
		return TC_E_FORMAT;
	for (; frac < exp; frac++) {
		if (v > UINT64_MAX / 10)
			return TC_E_FORMAT;
		v *= 10;
	}
	*out = v;
	return TC_OK;
}

static int parse_currency(const char *v, uint16_t *out)
{
	if (tc_currency_from_alpha(v, out) == TC_OK)
		return TC_OK;
	if (!all_digits(v, 1, 3) || atoi(v) == 0)
		return TC_E_FORMAT;
	*out = (uint16_t)atoi(v);
	return TC_OK;
}

/* ---- the holder file ---------------------------------------------------------- */

struct holder_ctx {
	struct card_holder *h;
	char amount[32]; /* kept until the currency is known */
};

typedef int (*holder_set_fn)(struct holder_ctx *x, const char *v, char *why, size_t cap);

#define TEXT_SETTER(fn, field, ok, expect)                                                         \
	static int fn(struct holder_ctx *x, const char *v, char *why, size_t cap)                  \
	{                                                                                          \
		if (!(ok))                                                                         \
			return snprintf(why, cap, "expected %s", expect), TC_E_FORMAT;             \
		snprintf(x->h->token.field, sizeof(x->h->token.field), "%s", v);                   \
		return TC_OK;                                                                      \
	}

TEXT_SETTER(set_user_name, user_name,
            printable(v, 1, TC_TOKEN_NAME_MAX) && v[0] != ' ' && v[strlen(v) - 1] != ' ',
            "1 to 26 printable characters")
TEXT_SETTER(set_user_id, user_id, all_digits(v, 1, TC_TOKEN_ID_MAX), "1 to 20 digits")
TEXT_SETTER(set_token_id, token_id, all_digits(v, 1, TC_TOKEN_ID_MAX), "1 to 20 digits")
TEXT_SETTER(set_bank_id, bank_id, all_digits(v, 1, TC_TOKEN_SHORT_ID_MAX), "1 to 8 digits")
TEXT_SETTER(set_account, bank_account, all_digits(v, 1, TC_TOKEN_ID_MAX), "1 to 20 digits")
TEXT_SETTER(set_company, company_id, all_digits(v, 1, TC_TOKEN_SHORT_ID_MAX), "1 to 8 digits")
TEXT_SETTER(set_pan, card_number, all_digits(v, TC_TOKEN_PAN_MIN, TC_TOKEN_PAN_MAX),
            "12 to 19 digits")

static int set_card_id(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	if (!printable(v, 1, TC_TOK_CARD_ID_MAX))
		return snprintf(why, cap, "expected 1 to 16 printable characters"), TC_E_FORMAT;
	x->h->card_id_len = strlen(v);
	memcpy(x->h->card_id, v, x->h->card_id_len);
	return TC_OK;
}

static int set_amount(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	if (strlen(v) >= sizeof(x->amount) || !isdigit((unsigned char)v[0]))
		return snprintf(why, cap, "expected an amount like 400.00"), TC_E_FORMAT;
	snprintf(x->amount, sizeof(x->amount), "%s", v);
	return TC_OK;
}

static int set_currency(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	if (parse_currency(v, &x->h->token.currency) != TC_OK)
		return snprintf(why, cap, "expected an ISO 4217 code (840 or USD)"), TC_E_FORMAT;
	return TC_OK;
}

static int set_date(struct tc_date *d, const char *v, char *why, size_t cap)
{
	if (tc_date_parse(v, d) != TC_OK)
		return snprintf(why, cap, "expected a date like 2002-09-10"), TC_E_FORMAT;
	return TC_OK;
}

static int set_deposit(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	return set_date(&x->h->token.deposit_date, v, why, cap);
}

static int set_expiry(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	return set_date(&x->h->token.expiry, v, why, cap);
}

static int set_pin(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	if (!all_digits(v, TC_TOK_PIN_MIN, TC_TOK_PIN_MAX))
		return snprintf(why, cap, "expected 4 to 12 digits"), TC_E_FORMAT;
	snprintf(x->h->pin, sizeof(x->h->pin), "%s", v);
	return TC_OK;
}

static int set_puk(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	if (!all_digits(v, TC_TOK_PUK_LEN, TC_TOK_PUK_LEN))
		return snprintf(why, cap, "expected exactly 8 digits"), TC_E_FORMAT;
	snprintf(x->h->puk, sizeof(x->h->puk), "%s", v);
	return TC_OK;
}

static int set_atc(struct holder_ctx *x, const char *v, char *why, size_t cap)
{
	if (!all_digits(v, 1, 10) || strtoull(v, NULL, 10) >= 0xFFFFFFFFull)
		return snprintf(why, cap, "expected a number 0..4294967294"), TC_E_FORMAT;
	x->h->first_atc = (uint32_t)strtoull(v, NULL, 10);
	return TC_OK;
}

static const struct {
	const char *key;
	holder_set_fn set;
	bool optional;
	bool secret; /* never quoted in a message */
} holder_keys[] = {
    {"card_id", set_card_id, false, false},
    {"user_name", set_user_name, false, false},
    {"user_id", set_user_id, false, false},
    {"token_id", set_token_id, false, false},
    {"amount", set_amount, false, false},
    {"currency", set_currency, false, false},
    {"deposit_date", set_deposit, false, false},
    {"expiry_date", set_expiry, false, false},
    {"bank_id", set_bank_id, false, false},
    {"bank_account", set_account, false, false},
    {"company_id", set_company, false, false},
    {"card_number", set_pan, false, true},
    {"pin", set_pin, false, true},
    {"puk", set_puk, false, true},
    {"first_atc", set_atc, true, false},
};
#define N_HOLDER_KEYS (sizeof(holder_keys) / sizeof(holder_keys[0]))

/* ---- lines ------------------------------------------------------------------- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Split one line into key and value; *key NULL for a blank or comment line. */
static int split_line(char *line, char **key, char **value, char *why, size_t cap)
{
	char *hash = strchr(line, '#'); /* a comment runs to the end of the line */
	if (hash)
		*hash = '\0';
	char *s = trim(line);
	*key = *value = NULL;
	if (*s == '\0')
		return TC_OK;
	char *eq = strchr(s, '=');
	if (!eq)
		return snprintf(why, cap, "expected 'key = value'"), TC_E_FORMAT;
	*eq = '\0';
	*key = trim(s);
	*value = trim(eq + 1);
	if (**key == '\0')
		return snprintf(why, cap, "expected 'key = value'"), TC_E_FORMAT;
	if (**value == '\0')
		return snprintf(why, cap, "no value for %.32s", *key), TC_E_FORMAT;
	return TC_OK;
}

/* Run fn on every line; err "NAME:LINE: why" at the first error. */
typedef int (*line_fn)(void *ctx, const char *key, const char *value, char *why, size_t cap);

static int each_line(const char *text, size_t len, const char *name, line_fn fn, void *ctx,
                     char *err, size_t cap)
{
	char line[CARD_LINE_MAX], why[CARD_ERR_LEN];
	size_t pos = 0;
	unsigned no = 0;
	int rc = TC_OK;

	if (len > CARD_FILE_MAX) {
		snprintf(err, cap, "%.64s: longer than %u bytes", name, CARD_FILE_MAX);
		return TC_E_FORMAT;
	}
	while (pos < len && rc == TC_OK) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		no++;
		char *key = NULL, *value = NULL;
		if (memchr(text + pos, '\0', end - pos)) {
			snprintf(why, sizeof(why), "NUL byte in line");
			rc = TC_E_FORMAT;
		} else if (end - pos >= sizeof(line)) {
			snprintf(why, sizeof(why), "line longer than %u characters",
			         CARD_LINE_MAX - 1);
			rc = TC_E_FORMAT;
		} else {
			memcpy(line, text + pos, end - pos);
			line[end - pos] = '\0';
			rc = split_line(line, &key, &value, why, sizeof(why));
			if (rc == TC_OK && key)
				rc = fn(ctx, key, value, why, sizeof(why));
		}
		if (rc != TC_OK)
			snprintf(err, cap, "%.64s:%u: %s", name, no, why);
		pos = end + 1;
	}
	tc_wipe(line, sizeof(line));
	return rc;
}

struct holder_parse {
	struct holder_ctx x;
	unsigned seen; /* bit per holder_keys entry */
};

static int holder_line(void *ctx, const char *key, const char *value, char *why, size_t cap)
{
	struct holder_parse *p = ctx;
	char sub[CARD_ERR_LEN - 64];

	for (size_t i = 0; i < N_HOLDER_KEYS; i++) {
		if (strcmp(key, holder_keys[i].key) != 0)
			continue;
		if (p->seen & (1u << i))
			return snprintf(why, cap, "%s given twice", key), TC_E_FORMAT;
		p->seen |= 1u << i;
		if (holder_keys[i].set(&p->x, value, sub, sizeof(sub)) == TC_OK)
			return TC_OK;
		if (holder_keys[i].secret)
			snprintf(why, cap, "bad value for %s: %s", key, sub);
		else
			snprintf(why, cap, "bad value '%.40s' for %s: %s", value, key, sub);
		return TC_E_FORMAT;
	}
	return snprintf(why, cap, "unknown key '%.32s'", key), TC_E_FORMAT;
}

/* After the lines: every mandatory key, the amount, the token's own rules. */
static int holder_finish(struct holder_parse *p, const char *name, char *err, size_t cap)
{
	char why[TC_TOKEN_WHY_LEN];
	struct card_holder *h = p->x.h;

	for (size_t i = 0; i < N_HOLDER_KEYS; i++)
		if (!holder_keys[i].optional && !(p->seen & (1u << i))) {
			snprintf(err, cap, "%.64s: missing key '%s'", name, holder_keys[i].key);
			return TC_E_FORMAT;
		}
	if (card_amount_parse(p->x.amount, h->token.currency, &h->token.amount) != TC_OK ||
	    h->token.amount == 0) {
		snprintf(err, cap,
		         "%.64s: bad amount '%.31s': expected more than 0 with at most %u decimals "
		         "for currency %u",
		         name, p->x.amount, tc_currency_exponent(h->token.currency),
		         h->token.currency);
		return TC_E_FORMAT;
	}
	if (tc_token_check(&h->token, why, sizeof(why)) != TC_OK) {
		snprintf(err, cap, "%.64s: %s", name, why);
		return TC_E_FORMAT;
	}
	return TC_OK;
}

int card_holder_parse(const char *text, size_t len, const char *name, struct card_holder *h,
                      char *err, size_t cap)
{
	struct holder_parse p;

	memset(h, 0, sizeof(*h));
	memset(&p, 0, sizeof(p));
	p.x.h = h;
	int rc = each_line(text, len, name, holder_line, &p, err, cap);
	if (rc == TC_OK)
		rc = holder_finish(&p, name, err, cap);
	if (rc != TC_OK)
		tc_wipe(h, sizeof(*h));
	tc_wipe(&p, sizeof(p));
	return rc;
}

/* ---- the key file ---------------------------------------------------------- */

struct keys_parse {
	struct card_keys *k;
	unsigned seen;
};

static int keys_line(void *ctx, const char *key, const char *value, char *why, size_t cap)
{
	struct keys_parse *p = ctx;
	static const char *const names[] = {"master", "token_key", "test"};
	unsigned i = 0;
	while (i < 3 && strcmp(key, names[i]) != 0)
		i++;
	if (i == 3)
		return snprintf(why, cap, "unknown key '%.32s'", key), TC_E_FORMAT;
	if (p->seen & (1u << i))
		return snprintf(why, cap, "%s given twice", key), TC_E_FORMAT;
	p->seen |= 1u << i;
	if (i == 2) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return snprintf(why, cap, "bad value for test: expected yes or no"),
			       TC_E_FORMAT;
		p->k->test = !strcmp(value, "yes");
		return TC_OK;
	}
	uint8_t *dst = i == 0 ? p->k->master : p->k->token_key;
	if (strlen(value) != 32 || tc_hex_decode(value, dst, 16, NULL) != 16)
		return snprintf(why, cap, "bad value for %s: expected 32 hex digits", key),
		       TC_E_FORMAT;
	return TC_OK;
}

int card_keys_parse(const char *text, size_t len, const char *name, struct card_keys *k, char *err,
                    size_t cap)
{
	struct keys_parse p = {.k = k};

	memset(k, 0, sizeof(*k));
	k->test = true;
	int rc = each_line(text, len, name, keys_line, &p, err, cap);
	if (rc == TC_OK && (p.seen & 3u) != 3u) {
		snprintf(err, cap, "%.64s: missing key '%s'", name,
		         p.seen & 1u ? "token_key" : "master");
		rc = TC_E_FORMAT;
	}
	if (rc != TC_OK)
		tc_wipe(k, sizeof(*k));
	return rc;
}
