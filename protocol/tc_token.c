/* tc_token.c: the token record, its TLV encoding and issuer MAC (tc_token.h). */
#include "tc_token.h"

#include <stdio.h>
#include <string.h>

#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_tlv.h"

#define TOKEN_MAC_LABEL "TCTOKEN1"

static int why_set(char *why, size_t cap, const char *msg)
{
	if (why && cap)
		snprintf(why, cap, "%s", msg);
	return TC_E_FORMAT;
}

/* --- dates ------------------------------------------------------------------ */

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29u : dim[m - 1];
}

bool tc_date_valid(const struct tc_date *d)
{
	return d->year >= 1900 && d->year <= 9999 && d->month >= 1 && d->month <= 12 &&
	       d->day >= 1 && d->day <= days_in_month(d->year, d->month);
}

int tc_date_cmp(const struct tc_date *a, const struct tc_date *b)
{
	uint32_t x = (uint32_t)a->year << 16 | (uint32_t)a->month << 8 | a->day;
	uint32_t y = (uint32_t)b->year << 16 | (uint32_t)b->month << 8 | b->day;
	return x < y ? -1 : x > y;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static unsigned num(const char *s, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

int tc_date_parse(const char *text, struct tc_date *d)
{
	if (!text || strlen(text) != 10 || text[4] != text[7] || (text[4] != '-' && text[4] != '/'))
		return TC_E_FORMAT;
	if (!all_digits(text, 4) || !all_digits(text + 5, 2) || !all_digits(text + 8, 2))
		return TC_E_FORMAT;
	d->year = (uint16_t)num(text, 4);
	d->month = (uint8_t)num(text + 5, 2);
	d->day = (uint8_t)num(text + 8, 2);
	return tc_date_valid(d) ? TC_OK : TC_E_FORMAT;
}

void tc_date_format(const struct tc_date *d, char out[11])
{
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d->year % 10000u, (unsigned)d->month % 100u,
	         (unsigned)d->day % 100u);
}

void tc_date_put(const struct tc_date *d, uint8_t out[4])
{
	out[0] = (uint8_t)(d->year >> 8);
	out[1] = (uint8_t)d->year;
	out[2] = d->month;
	out[3] = d->day;
}

int tc_date_get(const uint8_t in[4], struct tc_date *d)
{
	d->year = (uint16_t)(in[0] << 8 | in[1]);
	d->month = in[2];
	d->day = in[3];
	return tc_date_valid(d) ? TC_OK : TC_E_FORMAT;
}

/* --- checks ----------------------------------------------------------------- */

static int check_digits(const char *name, const char *s, size_t min, size_t max, char *why,
                        size_t cap)
{
	size_t n = strnlen(s, max + 1);

	if (n < min || n > max) {
		if (why && cap)
			snprintf(why, cap, "%s: %zu digits, expected %zu..%zu", name, n, min, max);
		return TC_E_FORMAT;
	}
	if (!all_digits(s, n)) {
		if (why && cap)
			snprintf(why, cap, "%s: only the digits 0-9 are allowed", name);
		return TC_E_FORMAT;
	}
	return TC_OK;
}

static int check_name(const char *s, char *why, size_t cap)
{
	size_t n = strnlen(s, TC_TOKEN_NAME_MAX + 1);

	if (n < 1 || n > TC_TOKEN_NAME_MAX)
		return why_set(why, cap, "user name: 1..26 characters expected");
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return why_set(why, cap, "user name: only printable ASCII is allowed");
	if (s[0] == ' ' || s[n - 1] == ' ')
		return why_set(why, cap, "user name: leading or trailing space");
	return TC_OK;
}

int tc_token_check(const struct tc_token *t, char *why, size_t cap)
{
	int rc = check_digits("token ID", t->token_id, 1, TC_TOKEN_ID_MAX, why, cap);
	if (rc == TC_OK)
		rc = check_name(t->user_name, why, cap);
	if (rc == TC_OK)
		rc = check_digits("user ID", t->user_id, 1, TC_TOKEN_ID_MAX, why, cap);
	if (rc == TC_OK)
		rc = check_digits("bank ID", t->bank_id, 1, TC_TOKEN_SHORT_ID_MAX, why, cap);
	if (rc == TC_OK)
		rc = check_digits("bank account", t->bank_account, 1, TC_TOKEN_ID_MAX, why, cap);
	if (rc == TC_OK)
		rc = check_digits("credit card company ID", t->company_id, 1, TC_TOKEN_SHORT_ID_MAX,
		                  why, cap);
	if (rc == TC_OK)
		rc = check_digits("credit card number", t->card_number, TC_TOKEN_PAN_MIN,
		                  TC_TOKEN_PAN_MAX, why, cap);
	if (rc != TC_OK)
		return rc;
	if (t->amount == 0)
		return why_set(why, cap, "amount for deposit: must be more than 0");
	if (t->currency == 0 || t->currency > 999)
		return why_set(why, cap, "currency: not an ISO 4217 numeric code (1..999)");
	if (!tc_date_valid(&t->deposit_date))
		return why_set(why, cap, "date of deposit: not a valid date");
	if (!tc_date_valid(&t->expiry))
		return why_set(why, cap, "expiration date: not a valid date");
	if (tc_date_cmp(&t->expiry, &t->deposit_date) < 0)
		return why_set(why, cap, "expiration date: before the date of deposit");
	return TC_OK;
}

/* --- encoding --------------------------------------------------------------- */

/* The items DF01..DF0B (what the issuer MAC covers). */
static void put_items(struct tc_tlv_builder *b, const struct tc_token *t)
{
	uint8_t d[4];

	tc_tlv_put(b, TC_TOKEN_TAG_ID, t->token_id, strlen(t->token_id));
	tc_tlv_put(b, TC_TOKEN_TAG_NAME, t->user_name, strlen(t->user_name));
	tc_tlv_put(b, TC_TOKEN_TAG_USER_ID, t->user_id, strlen(t->user_id));
	tc_tlv_put_uint(b, TC_TOKEN_TAG_AMOUNT, t->amount, 8);
	tc_tlv_put_uint(b, TC_TOKEN_TAG_CURRENCY, t->currency, 2);
	tc_date_put(&t->deposit_date, d);
	tc_tlv_put(b, TC_TOKEN_TAG_DEPOSIT, d, 4);
	tc_date_put(&t->expiry, d);
	tc_tlv_put(b, TC_TOKEN_TAG_EXPIRY, d, 4);
	tc_tlv_put(b, TC_TOKEN_TAG_BANK, t->bank_id, strlen(t->bank_id));
	tc_tlv_put(b, TC_TOKEN_TAG_ACCOUNT, t->bank_account, strlen(t->bank_account));
	tc_tlv_put(b, TC_TOKEN_TAG_COMPANY, t->company_id, strlen(t->company_id));
	tc_tlv_put(b, TC_TOKEN_TAG_PAN, t->card_number, strlen(t->card_number));
}

int tc_token_encode(const struct tc_token *t, uint8_t *out, size_t cap, char *why, size_t wcap)
{
	struct tc_tlv_builder b;
	int rc = tc_token_check(t, why, wcap);

	if (rc != TC_OK)
		return rc;
	tc_tlv_builder_init(&b, out, cap);
	tc_tlv_open(&b, TC_TOKEN_TAG_RECORD);
	put_items(&b, t);
	tc_tlv_put(&b, TC_TOKEN_TAG_MAC, t->issuer_mac, TC_TOKEN_MAC_LEN);
	tc_tlv_close(&b);
	return tc_tlv_finish(&b);
}

static int mac_items(const struct tc_token *t, const uint8_t key[16], uint8_t mac[16])
{
	uint8_t items[TC_TOKEN_MAX_ENC];
	struct tc_tlv_builder b;
	int n;

	if (tc_token_check(t, NULL, 0) != TC_OK)
		return TC_E_FORMAT;
	tc_tlv_builder_init(&b, items, sizeof(items));
	put_items(&b, t);
	n = tc_tlv_finish(&b);
	if (n < 0)
		return n;
	struct tc_buf parts[2] = {{(const uint8_t *)TOKEN_MAC_LABEL, strlen(TOKEN_MAC_LABEL)},
	                          {items, (size_t)n}};
	return tc_cmac_parts(key, parts, 2, mac);
}

int tc_token_seal(struct tc_token *t, const uint8_t key[16])
{
	return mac_items(t, key, t->issuer_mac);
}

int tc_token_verify(const struct tc_token *t, const uint8_t key[16])
{
	uint8_t mac[TC_MAC_LEN];
	int rc = mac_items(t, key, mac);

	if (rc == TC_OK && !tc_ct_equal(mac, t->issuer_mac, TC_TOKEN_MAC_LEN))
		rc = TC_E_CHECKSUM;
	tc_wipe(mac, sizeof(mac));
	return rc;
}

/* --- decoding --------------------------------------------------------------- */

struct item_rule {
	uint32_t tag;
	const char *name;
	size_t min, max; /* value length */
};

static const struct item_rule item_rules[] = {
    {TC_TOKEN_TAG_ID, "DF01 token ID", 1, TC_TOKEN_ID_MAX},
    {TC_TOKEN_TAG_NAME, "DF02 user name", 1, TC_TOKEN_NAME_MAX},
    {TC_TOKEN_TAG_USER_ID, "DF03 user ID", 1, TC_TOKEN_ID_MAX},
    {TC_TOKEN_TAG_AMOUNT, "DF04 amount", 8, 8},
    {TC_TOKEN_TAG_CURRENCY, "DF05 currency", 2, 2},
    {TC_TOKEN_TAG_DEPOSIT, "DF06 date of deposit", 4, 4},
    {TC_TOKEN_TAG_EXPIRY, "DF07 expiration date", 4, 4},
    {TC_TOKEN_TAG_BANK, "DF08 bank ID", 1, TC_TOKEN_SHORT_ID_MAX},
    {TC_TOKEN_TAG_ACCOUNT, "DF09 bank account", 1, TC_TOKEN_ID_MAX},
    {TC_TOKEN_TAG_COMPANY, "DF0A credit card company ID", 1, TC_TOKEN_SHORT_ID_MAX},
    {TC_TOKEN_TAG_PAN, "DF0B credit card number", 1, TC_TOKEN_PAN_MAX},
    {TC_TOKEN_TAG_MAC, "DF0F issuer MAC", TC_TOKEN_MAC_LEN, TC_TOKEN_MAC_LEN},
};
#define N_ITEMS (sizeof(item_rules) / sizeof(item_rules[0]))

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_item(struct tc_token *t, size_t idx, const struct tc_tlv *v)
{
	char *text[] = {
	    t->token_id, t->user_name, t->user_id,      NULL,          NULL,          NULL,
	    NULL,        t->bank_id,   t->bank_account, t->company_id, t->card_number};

	if (idx < 11 && text[idx]) {
		memcpy(text[idx], v->value, v->len);
		text[idx][v->len] = '\0';
		return;
	}
	switch (idx) {
	case 3:
		t->amount = be(v->value, 8);
		break;
	case 4:
		t->currency = (uint16_t)be(v->value, 2);
		break;
	case 5:
		(void)tc_date_get(v->value, &t->deposit_date);
		break;
	case 6:
		(void)tc_date_get(v->value, &t->expiry);
		break;
	default:
		memcpy(t->issuer_mac, v->value, TC_TOKEN_MAC_LEN);
		break;
	}
}

static int decode_items(const struct tc_tlv *rec, struct tc_token *t, char *why, size_t wcap)
{
	struct tc_tlv_iter it;
	struct tc_tlv v;
	struct tc_tlv_error e;
	size_t idx = 0;
	int rc;

	tc_tlv_iter_into(&it, rec);
	while ((rc = tc_tlv_iter_next(&it, &v, &e)) == 1) {
		if (idx >= N_ITEMS) {
			if (why && wcap)
				snprintf(why, wcap, "unexpected object %X after the issuer MAC",
				         (unsigned)v.tag);
			return TC_E_FORMAT;
		}
		const struct item_rule *r = &item_rules[idx];
		if (v.tag != r->tag) {
			if (why && wcap)
				snprintf(why, wcap, "object %X where %s is expected",
				         (unsigned)v.tag, r->name);
			return TC_E_FORMAT;
		}
		if (v.len < r->min || v.len > r->max) {
			if (why && wcap)
				snprintf(why, wcap, "%s: %zu bytes, expected %zu..%zu", r->name,
				         v.len, r->min, r->max);
			return TC_E_FORMAT;
		}
		store_item(t, idx++, &v);
	}
	if (rc < 0) {
		if (why && wcap)
			snprintf(why, wcap, "at byte %zu: %s", e.offset, e.what);
		return rc;
	}
	if (idx < N_ITEMS) {
		if (why && wcap)
			snprintf(why, wcap, "%s is missing", item_rules[idx].name);
		return TC_E_FORMAT;
	}
	return TC_OK;
}

int tc_token_decode(const uint8_t *buf, size_t n, struct tc_token *t, char *why, size_t wcap)
{
	struct tc_tlv rec;
	struct tc_tlv_error e;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = tc_tlv_parse(buf, n, &rec, &e);
	if (rc != TC_OK) {
		if (why && wcap)
			snprintf(why, wcap, "at byte %zu: %s", e.offset, e.what);
		return rc;
	}
	if (rec.tag != TC_TOKEN_TAG_RECORD)
		return why_set(why, wcap, "not a token record (tag E1 expected)");
	if (rec.hdr_len + rec.len != n)
		return why_set(why, wcap, "bytes after the token record");
	rc = decode_items(&rec, t, why, wcap);
	if (rc == TC_OK)
		rc = tc_token_check(t, why, wcap);
	return rc;
}

/* --- display ---------------------------------------------------------------- */

void tc_token_mask_pan(const char *pan, char *out, size_t cap)
{
	size_t n = pan ? strnlen(pan, 64) : 0;

	if (!out || cap == 0)
		return;
	if (n < 5) {
		snprintf(out, cap, "****");
		return;
	}
	size_t i = 0;
	for (; i < n - 4 && i + 1 < cap; i++)
		out[i] = '*';
	for (size_t k = n - 4; k < n && i + 1 < cap; k++)
		out[i++] = pan[k];
	out[i] = '\0';
}

unsigned tc_currency_exponent(uint16_t currency)
{
	switch (currency) {
	case 392:
	case 410:
		return 0;
	case 48:
	case 368:
	case 414:
	case 434:
	case 512:
	case 788:
		return 3;
	default:
		return 2;
	}
}

void tc_amount_format(uint64_t amount, uint16_t currency, char *out, size_t cap)
{
	unsigned e = tc_currency_exponent(currency);
	uint64_t div = e == 0 ? 1 : e == 2 ? 100 : 1000;

	if (e == 0)
		snprintf(out, cap, "%llu", (unsigned long long)amount);
	else
		snprintf(out, cap, "%llu.%0*llu", (unsigned long long)(amount / div), (int)e,
		         (unsigned long long)(amount % div));
}

static const struct {
	uint16_t num;
	char alpha[4];
} currencies[] = {
    {36, "AUD"},  {48, "BHD"},  {124, "CAD"}, {156, "CNY"}, {208, "DKK"},
    {344, "HKD"}, {356, "INR"}, {368, "IQD"}, {392, "JPY"}, {410, "KRW"},
    {414, "KWD"}, {434, "LYD"}, {512, "OMR"}, {578, "NOK"}, {752, "SEK"},
    {756, "CHF"}, {788, "TND"}, {826, "GBP"}, {840, "USD"}, {978, "EUR"},
};

const char *tc_currency_alpha(uint16_t currency)
{
	for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (currencies[i].num == currency)
			return currencies[i].alpha;
	return NULL;
}

int tc_currency_from_alpha(const char *alpha, uint16_t *currency)
{
	for (size_t i = 0; alpha && i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (strcmp(currencies[i].alpha, alpha) == 0) {
			*currency = currencies[i].num;
			return TC_OK;
		}
	return TC_E_FORMAT;
}

void tc_money_format(uint64_t amount, uint16_t currency, char *out, size_t cap)
{
	char num[32];
	const char *a = tc_currency_alpha(currency);
	tc_amount_format(amount, currency, num, sizeof(num));
	snprintf(out, cap, "%s%s%s (%03u)", num, a ? " " : "", a ? a : "", (unsigned)currency);
}
