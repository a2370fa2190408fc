/* tc_card_os.c: SELECT, GET RESPONSE and dispatch (see tc_card_os.h). */
#include "tc_card_os.h"

#include <stdlib.h>
#include <string.h>

#include "tc_apdu.h"
#include "tc_error.h"

#define INS_SELECT       0xA4
#define INS_GET_RESPONSE 0xC0
#define INS_ENVELOPE     0xC2

struct app_slot {
	const struct tc_card_app *app;
	void *priv;
};

struct tc_card_os {
	struct app_slot apps[TC_CARD_MAX_APPS];
	unsigned napps;
	int def;      /* index of the default application, -1 none */
	int selected; /* -1 none */
	/* Response data kept for GET RESPONSE. */
	uint8_t pending[TC_CARD_MAX_RESP];
	size_t pending_len, pending_off;
	uint16_t pending_sw;
	struct tc_card_rapdu scratch;
	/* ENVELOPE: a command APDU collected piece by piece; after it ran, up to
	 * env_tail of its Le bytes may still come in ENVELOPEs. */
	uint8_t env[TC_APDU_MAX_LEN];
	size_t env_len;
	size_t env_tail;
};

struct tc_card_os *tc_card_os_new(void)
{
	struct tc_card_os *os = calloc(1, sizeof(*os));
	if (!os)
		return NULL;
	os->def = -1;
	os->selected = -1;
	return os;
}

void tc_card_os_free(struct tc_card_os *os)
{
	free(os);
}

int tc_card_os_add(struct tc_card_os *os, const struct tc_card_app *app, void *priv,
                   bool is_default)
{
	if (!os || !app || !app->name || !app->aid || app->aid_len == 0 ||
	    app->aid_len > TC_CARD_MAX_AID || !app->has_data || !app->process)
		return TC_E_INVAL;
	if (os->napps >= TC_CARD_MAX_APPS)
		return TC_E_LIMIT;
	os->apps[os->napps].app = app;
	os->apps[os->napps].priv = priv;
	if (is_default && os->def < 0)
		os->def = (int)os->napps;
	os->napps++;
	return TC_OK;
}

void tc_card_os_set_default(struct tc_card_os *os, const char *name)
{
	os->def = -1;
	for (unsigned i = 0; name && i < os->napps; i++)
		if (strcmp(os->apps[i].app->name, name) == 0)
			os->def = (int)i;
}

const char *tc_card_os_selected(const struct tc_card_os *os)
{
	return os->selected >= 0 ? os->apps[os->selected].app->name : "";
}

static void select_app(struct tc_card_os *os, int idx)
{
	os->selected = idx;
	if (idx >= 0 && os->apps[idx].app->select)
		os->apps[idx].app->select(os->apps[idx].priv);
}

void tc_card_os_reset(struct tc_card_os *os)
{
	os->pending_len = 0;
	os->pending_off = 0;
	os->env_len = 0;
	os->env_tail = 0;
	select_app(os, os->def);
}

static void set_sw(struct tc_t0c_resp *r, uint16_t sw)
{
	r->sw1 = (uint8_t)(sw >> 8);
	r->sw2 = (uint8_t)sw;
}

static void announce_pending(const struct tc_card_os *os, struct tc_t0c_resp *r)
{
	size_t left = os->pending_len - os->pending_off;
	set_sw(r, (uint16_t)(0x6100u | (left >= 256 ? 0u : left)));
}

static void get_response(struct tc_card_os *os, const uint8_t hdr[5], struct tc_t0c_resp *r)
{
	size_t left = os->pending_len - os->pending_off;
	size_t le = hdr[4] ? hdr[4] : 256u;

	if (hdr[2] != 0 || hdr[3] != 0) {
		set_sw(r, 0x6A86);
		return;
	}
	if (left == 0) {
		set_sw(r, 0x6985);
		return;
	}
	if (le > left) {
		set_sw(r, (uint16_t)(0x6C00u | left));
		return;
	}
	memcpy(r->data, os->pending + os->pending_off, le);
	r->len = le;
	os->pending_off += le;
	if (os->pending_off < os->pending_len) {
		announce_pending(os, r);
		return;
	}
	set_sw(r, os->pending_sw);
	os->pending_len = 0;
	os->pending_off = 0;
}

static void do_select(struct tc_card_os *os, const uint8_t *aid, size_t n, struct tc_t0c_resp *r)
{
	for (unsigned i = 0; i < os->napps; i++) {
		const struct tc_card_app *a = os->apps[i].app;
		if (a->aid_len == n && n > 0 && memcmp(a->aid, aid, n) == 0) {
			select_app(os, (int)i);
			set_sw(r, 0x9000);
			return;
		}
	}
	set_sw(r, 0x6A82);
}

static void keep_pending(struct tc_card_os *os, const uint8_t *data, size_t n, uint16_t sw,
                         struct tc_t0c_resp *r)
{
	memmove(os->pending, data, n);
	os->pending_len = n;
	os->pending_off = 0;
	os->pending_sw = sw;
	announce_pending(os, r);
}

/* Run the selected application; keep response data when it must go through
 * GET RESPONSE: case 4, or a case 2 answer longer than one TPDU carries
 * (then the first Le bytes go now, with 61xx for the rest). */
static void run_app(struct tc_card_os *os, const uint8_t hdr[5], const uint8_t *data, size_t n,
                    struct tc_t0c_resp *r)
{
	struct tc_card_apdu cmd = {.cla = hdr[0], .ins = hdr[1], .p1 = hdr[2], .p2 = hdr[3]};
	struct tc_card_rapdu *ar = &os->scratch;
	const struct app_slot *s = &os->apps[os->selected];
	size_t le = hdr[4] ? hdr[4] : 256u;

	cmd.data = data;
	cmd.nc = n;
	cmd.ne = data ? 0 : le;
	ar->len = 0;
	ar->sw = 0;
	ar->busy_etu = 0;
	s->app->process(s->priv, &cmd, ar);
	set_sw(r, ar->sw);
	r->busy_etu = ar->busy_etu;
	if (ar->len > TC_CARD_MAX_RESP) {
		set_sw(r, 0x6F00);
		return;
	}
	if (ar->len == 0)
		return;
	if (!data && ar->len <= TC_T0C_MAX_DATA) {
		memcpy(r->data, ar->data, ar->len); /* the engine says 6Cxx when Le differs */
		r->len = ar->len;
		return;
	}
	if (!data) {
		memcpy(r->data, ar->data, le);
		r->len = le;
		keep_pending(os, ar->data + le, ar->len - le, ar->sw, r);
		return;
	}
	keep_pending(os, ar->data, ar->len, ar->sw, r);
}

/* A command with its data, from the engine or out of ENVELOPEs. */
static void execute(struct tc_card_os *os, const uint8_t hdr[5], const uint8_t *data, size_t n,
                    struct tc_t0c_resp *r)
{
	if (hdr[0] == 0xFF) {
		set_sw(r, 0x6E00);
		return;
	}
	if (hdr[1] == INS_SELECT && (hdr[0] & 0x80) == 0) {
		if (hdr[2] == 0x04)
			do_select(os, data, n, r);
		else
			set_sw(r, 0x6A86); /* only selection by AID */
		return;
	}
	if (hdr[1] == INS_GET_RESPONSE || hdr[1] == INS_ENVELOPE || os->selected < 0) {
		set_sw(r, 0x6D00);
		return;
	}
	run_app(os, hdr, data, n, r);
}

/* Where the data of the collected command ends (4 + length field + Nc) and
 * how many Le bytes may follow (1 short, 2 extended). 0: not known yet;
 * -1: extended Lc 0000, which a command with data cannot have. */
static long envelope_data_end(const struct tc_card_os *os, size_t *le_len, size_t *hdr_len)
{
	const uint8_t *b = os->env;

	if (os->env_len < 5)
		return 0;
	if (b[4] != 0) {
		*le_len = 1;
		*hdr_len = 5;
		return 5L + b[4];
	}
	if (os->env_len < 7)
		return 0;
	size_t lc = (size_t)b[5] << 8 | b[6];
	*le_len = 2;
	*hdr_len = 7;
	return lc ? (long)(7 + lc) : -1;
}

static void envelope_fail(struct tc_card_os *os, uint16_t sw, struct tc_t0c_resp *r)
{
	os->env_len = 0;
	os->env_tail = 0;
	set_sw(r, sw);
}

/* ENVELOPE (CLA C2 00 00 P3 piece): the pieces of a command APDU (short or
 * extended, with data) in order. Until its data is complete: 9000. Then the
 * command runs and its answer is the ENVELOPE's; Le bytes that came with the
 * data are taken, and those that did not may follow in ENVELOPEs of their
 * own (answered 61xx while response data is kept, else 9000). An empty
 * ENVELOPE ends a chain: 6700 when a command was cut short, else 9000. */
static void envelope(struct tc_card_os *os, const uint8_t hdr[5], const uint8_t *data, size_t n,
                     struct tc_t0c_resp *r)
{
	if (hdr[2] != 0 || hdr[3] != 0) {
		envelope_fail(os, 0x6A86, r);
		return;
	}
	if (n > 0 && n <= os->env_tail) { /* Le bytes after the command ran */
		os->env_tail -= n;
		if (os->pending_off < os->pending_len)
			announce_pending(os, r);
		else
			set_sw(r, 0x9000);
		return;
	}
	os->env_tail = 0;
	os->pending_len = os->pending_off = 0; /* a new command: what was kept goes */
	if (n == 0) {
		envelope_fail(os, os->env_len ? 0x6700 : 0x9000, r);
		return;
	}
	if (os->env_len + n > sizeof(os->env)) {
		envelope_fail(os, 0x6700, r);
		return;
	}
	if (n > 0)
		memcpy(os->env + os->env_len, data, n);
	os->env_len += n;
	size_t le_len = 0, hdr_len = 0;
	long end = envelope_data_end(os, &le_len, &hdr_len);
	if (end < 0) {
		envelope_fail(os, 0x6700, r);
		return;
	}
	if (end == 0 || os->env_len < (size_t)end) {
		set_sw(r, 0x9000);
		return;
	}
	size_t extra = os->env_len - (size_t)end;
	if (extra > le_len) {
		envelope_fail(os, 0x6700, r);
		return;
	}
	const uint8_t inner[5] = {os->env[0], os->env[1], os->env[2], os->env[3], 0};
	os->env_len = 0;
	os->env_tail = le_len - extra;
	execute(os, inner, os->env + hdr_len, (size_t)end - hdr_len, r);
}

enum tc_t0c_verdict tc_card_os_command(struct tc_card_os *os, const uint8_t hdr[5],
                                       const uint8_t *data, size_t n, struct tc_t0c_resp *r)
{
	bool first = data == NULL && n == 0;
	uint8_t ins = hdr[1];

	if (hdr[0] == 0xFF) {
		set_sw(r, 0x6E00);
		return TC_T0C_RESPOND;
	}
	if (ins == INS_ENVELOPE) {
		if (first && hdr[4] != 0)
			return TC_T0C_WANT_DATA;
		envelope(os, hdr, data, n, r);
		return TC_T0C_RESPOND;
	}
	os->env_len = os->env_tail = 0; /* any other command ends an ENVELOPE chain */
	if (ins == INS_GET_RESPONSE) {
		get_response(os, hdr, r);
		return TC_T0C_RESPOND;
	}
	if (first)
		os->pending_len = os->pending_off = 0;
	if (ins == INS_SELECT && (hdr[0] & 0x80) == 0) {
		if (!first)
			do_select(os, data, n, r);
		else if (hdr[2] == 0x04 && hdr[4] != 0)
			return TC_T0C_WANT_DATA;
		else
			set_sw(r, 0x6A86); /* only selection by AID */
		return TC_T0C_RESPOND;
	}
	if (os->selected < 0) {
		set_sw(r, 0x6D00);
		return TC_T0C_RESPOND;
	}
	const struct app_slot *s = &os->apps[os->selected];
	if (first && hdr[4] != 0 && s->app->has_data(s->priv, hdr))
		return TC_T0C_WANT_DATA;
	run_app(os, hdr, first ? NULL : data, n, r);
	return TC_T0C_RESPOND;
}

static enum tc_t0c_verdict os_command(void *user, const uint8_t hdr[5], const uint8_t *data,
                                      size_t n, struct tc_t0c_resp *resp)
{
	return tc_card_os_command(user, hdr, data, n, resp);
}

static void os_reset(void *user)
{
	tc_card_os_reset(user);
}

static const struct tc_t0c_ops os_ops = {
    .reset = os_reset,
    .command = os_command,
};

const struct tc_t0c_ops *tc_card_os_ops(void)
{
	return &os_ops;
}
