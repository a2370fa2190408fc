/* tc_token_apdu.c: command builders and response parsers of the deposit-token
 * application (tc_token_apdu.h). */
#include "tc_token_apdu.h"

#include <string.h>

#include "tc_error.h"
#include "tc_tlv.h"

const uint8_t tc_tok_aid[TC_TOK_AID_LEN] = {0xF0, 0x54, 0x4F, 0x4B, 0x45, 0x4E, 0x01};

const char *tc_tok_life_name(enum tc_tok_life l)
{
	switch (l) {
	case TC_TOK_BLANK:
		return "blank";
	case TC_TOK_PERSONALISED:
		return "personalised";
	case TC_TOK_ACTIVE:
		return "active";
	case TC_TOK_BLOCKED:
		return "blocked";
	case TC_TOK_EXPIRED:
		return "expired";
	}
	return "unknown";
}

const char *tc_tok_outcome_name(enum tc_tok_outcome o)
{
	switch (o) {
	case TC_TOK_APPROVE:
		return "approved";
	case TC_TOK_DECLINE:
		return "declined";
	case TC_TOK_PENDING:
		return "no completion";
	case TC_TOK_REFUSED:
		return "completion refused";
	}
	return "unknown";
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* --- PIN blocks ------------------------------------------------------------- */

int tc_tok_pin_block(const char *digits, uint8_t out[8])
{
	size_t n = digits ? strnlen(digits, TC_TOK_PIN_MAX + 1) : 0;

	if (n < TC_TOK_PIN_MIN || n > TC_TOK_PIN_MAX)
		return TC_E_FORMAT;
	memset(out, 0xFF, 8);
	out[0] = (uint8_t)(0x20 | n);
	for (size_t i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return TC_E_FORMAT;
		uint8_t d = (uint8_t)(digits[i] - '0');
		size_t byte = 1 + i / 2;
		out[byte] = i % 2 ? (uint8_t)((out[byte] & 0xF0) | d)
		                  : (uint8_t)((out[byte] & 0x0F) | d << 4);
	}
	return TC_OK;
}

int tc_tok_pin_unblock(const uint8_t in[8], char digits[13])
{
	size_t n = in[0] & 0x0Fu;

	if ((in[0] & 0xF0) != 0x20 || n < TC_TOK_PIN_MIN || n > TC_TOK_PIN_MAX)
		return TC_E_FORMAT;
	for (size_t i = 0; i < 14; i++) {
		uint8_t nib = i % 2 ? in[1 + i / 2] & 0x0F : in[1 + i / 2] >> 4;
		if (i < n && nib > 9)
			return TC_E_FORMAT;
		if (i >= n && nib != 0x0F)
			return TC_E_FORMAT;
		if (i < n)
			digits[i] = (char)('0' + nib);
	}
	digits[n] = '\0';
	return TC_OK;
}

/* --- commands ---------------------------------------------------------------- */

/* CLA INS P1 P2 [Lc data] [Le]; le < 0: no Le. */
static int apdu(uint8_t *out, size_t cap, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                const uint8_t *data, size_t nc, int le)
{
	size_t n = 4 + (nc ? 1 + nc : 0) + (le >= 0 ? 1 : 0);

	if (!out || nc > 255 || le > 256)
		return TC_E_INVAL;
	if (n > cap)
		return TC_E_OVERFLOW;
	out[0] = cla;
	out[1] = ins;
	out[2] = p1;
	out[3] = p2;
	n = 4;
	if (nc) {
		out[n++] = (uint8_t)nc;
		memcpy(out + n, data, nc);
		n += nc;
	}
	if (le >= 0)
		out[n++] = (uint8_t)(le == 256 ? 0 : le);
	return (int)n;
}

int tc_tok_select(uint8_t *out, size_t cap)
{
	return apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_SELECT, 0x04, 0x00, tc_tok_aid,
	            TC_TOK_AID_LEN, -1);
}

int tc_tok_verify(const char *pin, uint8_t *out, size_t cap)
{
	uint8_t blk[8];
	int rc;

	if (!pin)
		return apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_VERIFY, 0, TC_TOK_PIN_REF, NULL, 0,
		            -1);
	rc = tc_tok_pin_block(pin, blk);
	if (rc == TC_OK)
		rc = apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_VERIFY, 0, TC_TOK_PIN_REF, blk, 8,
		          -1);
	memset(blk, 0, sizeof(blk));
	return rc;
}

static int two_blocks(uint8_t ins, uint8_t p1, const char *a, const char *b, uint8_t *out,
                      size_t cap)
{
	uint8_t blk[16];
	int rc = tc_tok_pin_block(a, blk);

	if (rc == TC_OK && b)
		rc = tc_tok_pin_block(b, blk + 8);
	if (rc == TC_OK)
		rc = apdu(out, cap, TC_TOK_CLA_ISO, ins, p1, TC_TOK_PIN_REF, blk, b ? 16 : 8, -1);
	memset(blk, 0, sizeof(blk));
	return rc;
}

int tc_tok_change_pin(const char *old_pin, const char *new_pin, uint8_t *out, size_t cap)
{
	if (!new_pin)
		return TC_E_INVAL;
	return two_blocks(TC_TOK_INS_CHANGE_REF, 0, old_pin, new_pin, out, cap);
}

int tc_tok_reset_retry(const char *puk, const char *new_pin, uint8_t *out, size_t cap)
{
	if (!puk || strlen(puk) != TC_TOK_PUK_LEN)
		return TC_E_FORMAT;
	return two_blocks(TC_TOK_INS_RESET_RETRY, new_pin ? 0 : 1, puk, new_pin, out, cap);
}

int tc_tok_get_data(uint16_t tag, uint8_t *out, size_t cap)
{
	return apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_GET_DATA, (uint8_t)(tag >> 8),
	            (uint8_t)tag, NULL, 0, 256);
}

int tc_tok_read_record(uint8_t sfi, uint8_t rec, uint8_t *out, size_t cap)
{
	if (sfi == 0 || sfi > 30)
		return TC_E_INVAL;
	return apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_READ_RECORD, rec, (uint8_t)(sfi << 3 | 4),
	            NULL, 0, 256);
}

int tc_tok_get_challenge(uint8_t *out, size_t cap)
{
	return apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_GET_CHALLENGE, 0, 0, NULL, 0,
	            TC_TOK_CHALLENGE);
}

int tc_tok_int_auth(const uint8_t *chal, size_t n, uint8_t *out, size_t cap)
{
	if (!chal || n < TC_TOK_AUTH_MIN || n > TC_TOK_AUTH_MAX)
		return TC_E_INVAL;
	return apdu(out, cap, TC_TOK_CLA_ISO, TC_TOK_INS_INT_AUTH, 0, 0, chal, n, 256);
}

void tc_tok_debit_encode(const struct tc_tok_debit *d, uint8_t out[TC_TOK_DEBIT_REQ])
{
	put_be(out, d->amount, 8);
	put_be(out + 8, d->currency, 2);
	tc_date_put(&d->date, out + 10);
	memcpy(out + 14, d->terminal, TC_TOK_TERMINAL_LEN);
	memcpy(out + 22, d->nonce, TC_TOK_NONCE_LEN);
}

int tc_tok_debit_decode(const uint8_t *in, size_t n, struct tc_tok_debit *d)
{
	if (n != TC_TOK_DEBIT_REQ)
		return TC_E_FORMAT;
	d->amount = get_be(in, 8);
	d->currency = (uint16_t)get_be(in + 8, 2);
	memcpy(d->terminal, in + 14, TC_TOK_TERMINAL_LEN);
	memcpy(d->nonce, in + 22, TC_TOK_NONCE_LEN);
	if (tc_date_get(in + 10, &d->date) != TC_OK || d->amount == 0 || d->currency == 0 ||
	    d->currency > 999)
		return TC_E_FORMAT;
	return TC_OK;
}

int tc_tok_debit_request(const struct tc_tok_debit *d, uint8_t *out, size_t cap)
{
	uint8_t data[TC_TOK_DEBIT_REQ];

	if (!d)
		return TC_E_INVAL;
	tc_tok_debit_encode(d, data);
	return apdu(out, cap, TC_TOK_CLA_PROP, TC_TOK_INS_DEBIT_REQUEST, 0, 0, data, sizeof(data),
	            256);
}

int tc_tok_debit_complete(uint32_t atc, enum tc_tok_outcome outcome,
                          const uint8_t arpc[TC_TOK_MAC_LEN], uint8_t *out, size_t cap)
{
	uint8_t data[TC_TOK_DEBIT_CPL];

	if (!arpc)
		return TC_E_INVAL;
	put_be(data, atc, 4);
	data[4] = (uint8_t)outcome;
	memcpy(data + 5, arpc, TC_TOK_MAC_LEN);
	return apdu(out, cap, TC_TOK_CLA_PROP, TC_TOK_INS_DEBIT_COMPLETE, 0, 0, data, sizeof(data),
	            256);
}

int tc_tok_put_token(const uint8_t *record, size_t n, const uint8_t mac[TC_TOK_MAC_LEN],
                     uint8_t *out, size_t cap)
{
	uint8_t data[255];

	if (!record || !mac || n > sizeof(data) - 2 - TC_TOK_MAC_LEN)
		return TC_E_INVAL;
	memcpy(data, record, n);
	data[n] = TC_TOK_TAG_CMD_MAC;
	data[n + 1] = TC_TOK_MAC_LEN;
	memcpy(data + n + 2, mac, TC_TOK_MAC_LEN);
	return apdu(out, cap, TC_TOK_CLA_PROP, TC_TOK_INS_PUT_TOKEN, 0, 0, data,
	            n + 2 + TC_TOK_MAC_LEN, -1);
}

/* --- personalisation ---------------------------------------------------------- */

static bool digits_ok(const char *s, size_t min, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int tc_tok_perso_encode(const struct tc_tok_perso *p, uint8_t *out, size_t cap)
{
	struct tc_tlv_builder b;

	if (!p || p->card_id_len == 0 || p->card_id_len > TC_TOK_CARD_ID_MAX ||
	    !digits_ok(p->pin, TC_TOK_PIN_MIN, TC_TOK_PIN_MAX) ||
	    !digits_ok(p->puk, TC_TOK_PUK_LEN, TC_TOK_PUK_LEN))
		return TC_E_INVAL;
	tc_tlv_builder_init(&b, out, cap);
	tc_tlv_put(&b, TC_TOK_P_CARD_ID, p->card_id, p->card_id_len);
	tc_tlv_put(&b, TC_TOK_P_KEY_AUTH, p->key_auth, 16);
	tc_tlv_put(&b, TC_TOK_P_KEY_MAC, p->key_mac, 16);
	tc_tlv_put(&b, TC_TOK_P_KEY_TOKEN, p->key_token, 16);
	tc_tlv_put(&b, TC_TOK_P_PIN, p->pin, strlen(p->pin));
	tc_tlv_put(&b, TC_TOK_P_PUK, p->puk, strlen(p->puk));
	tc_tlv_put_uint(&b, TC_TOK_P_ATC, p->atc, 4);
	tc_tlv_put_uint(&b, TC_TOK_P_FLAGS, p->test_keys ? 1 : 0, 1);
	return tc_tlv_finish(&b);
}

static int perso_fail(char *why, size_t cap, const char *msg)
{
	if (why && cap) {
		strncpy(why, msg, cap - 1);
		why[cap - 1] = '\0';
	}
	return TC_E_FORMAT;
}

static int perso_text(const struct tc_tlv *t, char *dst, size_t min, size_t max)
{
	if (t->len < min || t->len > max)
		return TC_E_FORMAT;
	memcpy(dst, t->value, t->len);
	dst[t->len] = '\0';
	return digits_ok(dst, min, max) ? TC_OK : TC_E_FORMAT;
}

static int perso_item(const struct tc_tlv *t, struct tc_tok_perso *p)
{
	uint8_t *keys[] = {p->key_auth, p->key_mac, p->key_token};

	switch (t->tag) {
	case TC_TOK_P_CARD_ID:
		if (t->len == 0 || t->len > TC_TOK_CARD_ID_MAX)
			return TC_E_FORMAT;
		memcpy(p->card_id, t->value, t->len);
		p->card_id_len = t->len;
		return TC_OK;
	case TC_TOK_P_KEY_AUTH:
	case TC_TOK_P_KEY_MAC:
	case TC_TOK_P_KEY_TOKEN:
		if (t->len != 16)
			return TC_E_FORMAT;
		memcpy(keys[t->tag - TC_TOK_P_KEY_AUTH], t->value, 16);
		return TC_OK;
	case TC_TOK_P_PIN:
		return perso_text(t, p->pin, TC_TOK_PIN_MIN, TC_TOK_PIN_MAX);
	case TC_TOK_P_PUK:
		return perso_text(t, p->puk, TC_TOK_PUK_LEN, TC_TOK_PUK_LEN);
	case TC_TOK_P_ATC:
		if (t->len != 4)
			return TC_E_FORMAT;
		p->atc = (uint32_t)get_be(t->value, 4);
		return TC_OK;
	case TC_TOK_P_FLAGS:
		if (t->len != 1 || t->value[0] > 1)
			return TC_E_FORMAT;
		p->test_keys = t->value[0] == 1;
		return TC_OK;
	default:
		return TC_E_UNSUPPORTED;
	}
}

int tc_tok_perso_decode(const uint8_t *in, size_t n, struct tc_tok_perso *p, char *why, size_t cap)
{
	struct tc_tlv_iter it;
	struct tc_tlv t;
	struct tc_tlv_error e;
	unsigned seen = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	tc_tlv_iter_init(&it, in, n);
	while ((rc = tc_tlv_iter_next(&it, &t, &e)) == 1) {
		unsigned bit = t.tag >= TC_TOK_P_CARD_ID && t.tag <= TC_TOK_P_FLAGS
		                   ? 1u << (t.tag - TC_TOK_P_CARD_ID)
		                   : 0;
		if (bit == 0)
			return perso_fail(why, cap, "unknown personalisation object");
		if (seen & bit)
			return perso_fail(why, cap, "personalisation object given twice");
		seen |= bit;
		if (perso_item(&t, p) != TC_OK)
			return perso_fail(why, cap,
			                  "personalisation object of a wrong length or "
			                  "content");
	}
	if (rc < 0)
		return perso_fail(why, cap, e.what);
	if ((seen & 0x3Fu) != 0x3Fu)
		return perso_fail(why, cap, "card ID, three keys, PIN and PUK are required");
	return TC_OK;
}

int tc_tok_personalise(const struct tc_tok_perso *p, uint8_t *out, size_t cap)
{
	uint8_t data[255];
	int n = tc_tok_perso_encode(p, data, sizeof(data));

	if (n >= 0)
		n = apdu(out, cap, TC_TOK_CLA_PROP, TC_TOK_INS_PERSONALISE, 0, 0, data, (size_t)n,
		         -1);
	memset(data, 0, sizeof(data));
	return n;
}

/* --- responses --------------------------------------------------------------- */

int tc_tok_sw_tries(uint16_t sw)
{
	return (sw & 0xFFF0u) == 0x63C0u ? (int)(sw & 0x0Fu) : -1;
}

int tc_tok_parse_data(uint16_t tag, const uint8_t *resp, size_t n, struct tc_tok_status *st)
{
	static const size_t want[] = {10, 4, 1, 1, 0, 1, 1}; /* DF20..DF26; 0 = 1..16 */
	struct tc_tlv t;
	size_t i = (size_t)tag - TC_TOK_DO_BALANCE;

	if (!resp || tag < TC_TOK_DO_BALANCE || tag > TC_TOK_DO_KEY_FLAGS ||
	    tc_tlv_parse(resp, n, &t, NULL) != TC_OK || t.tag != tag || t.hdr_len + t.len != n)
		return TC_E_FORMAT;
	if (want[i] ? t.len != want[i] : t.len == 0 || t.len > TC_TOK_CARD_ID_MAX)
		return TC_E_FORMAT;
	switch (tag) {
	case TC_TOK_DO_BALANCE:
		st->balance = get_be(t.value, 8);
		st->currency = (uint16_t)get_be(t.value + 8, 2);
		return TC_OK;
	case TC_TOK_DO_ATC:
		st->atc = (uint32_t)get_be(t.value, 4);
		return TC_OK;
	case TC_TOK_DO_PIN_TRIES:
		st->pin_tries = t.value[0];
		return TC_OK;
	case TC_TOK_DO_LIFECYCLE:
		if (t.value[0] > TC_TOK_EXPIRED)
			return TC_E_FORMAT;
		st->life = (enum tc_tok_life)t.value[0];
		return TC_OK;
	case TC_TOK_DO_CARD_ID:
		memcpy(st->card_id, t.value, t.len);
		st->card_id_len = t.len;
		return TC_OK;
	case TC_TOK_DO_PUK_TRIES:
		st->puk_tries = t.value[0];
		return TC_OK;
	default:
		st->test_keys = (t.value[0] & 1) != 0;
		return TC_OK;
	}
}

int tc_tok_parse_debit(const uint8_t *resp, size_t n, struct tc_tok_debit_resp *r)
{
	if (!resp || n != TC_TOK_DEBIT_RESP)
		return TC_E_FORMAT;
	r->atc = (uint32_t)get_be(resp, 4);
	memcpy(r->arqc, resp + 4, TC_TOK_MAC_LEN);
	return TC_OK;
}

int tc_tok_parse_balance(const uint8_t *resp, size_t n, uint64_t *balance)
{
	if (!resp || n != 8)
		return TC_E_FORMAT;
	*balance = get_be(resp, 8);
	return TC_OK;
}

void tc_tok_log_encode(const struct tc_tok_log_entry *e, uint8_t out[TC_TOK_LOG_REC])
{
	put_be(out, e->atc, 4);
	put_be(out + 4, e->amount, 8);
	put_be(out + 12, e->currency, 2);
	tc_date_put(&e->date, out + 14);
	memcpy(out + 18, e->terminal, TC_TOK_TERMINAL_LEN);
	out[26] = (uint8_t)e->outcome;
	put_be(out + 27, e->balance, 8);
}

int tc_tok_log_decode(const uint8_t *in, size_t n, struct tc_tok_log_entry *e)
{
	if (!in || n != TC_TOK_LOG_REC || in[26] > TC_TOK_REFUSED)
		return TC_E_FORMAT;
	e->atc = (uint32_t)get_be(in, 4);
	e->amount = get_be(in + 4, 8);
	e->currency = (uint16_t)get_be(in + 12, 2);
	memcpy(e->terminal, in + 18, TC_TOK_TERMINAL_LEN);
	e->outcome = (enum tc_tok_outcome)in[26];
	e->balance = get_be(in + 27, 8);
	return tc_date_get(in + 14, &e->date);
}
