/* tc_card_os.c: SELECT, GET RESPONSE and dispatch (see tc_card_os.h). */
#include "tc_card_os.h"

#include <stdlib.h>
#include <string.h>

#include "tc_error.h"

#define INS_SELECT       0xA4
#define INS_GET_RESPONSE 0xC0

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
		if (a->aid_len == n && memcmp(a->aid, aid, n) == 0) {
			select_app(os, (int)i);
			set_sw(r, 0x9000);
			return;
		}
	}
	set_sw(r, 0x6A82);
}

/* Run the selected application; keep response data when it must go through
 * GET RESPONSE (case 4, or longer than one case 2 answer can carry). */
static void run_app(struct tc_card_os *os, const uint8_t hdr[5], const uint8_t *data, size_t n,
                    struct tc_t0c_resp *r)
{
	struct tc_card_apdu cmd = {.cla = hdr[0], .ins = hdr[1], .p1 = hdr[2], .p2 = hdr[3]};
	struct tc_card_rapdu *ar = &os->scratch;
	const struct app_slot *s = &os->apps[os->selected];

	cmd.data = data;
	cmd.nc = n;
	cmd.ne = data ? 0 : (hdr[4] ? hdr[4] : 256u);
	memset(ar, 0, sizeof(*ar));
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
		memcpy(r->data, ar->data, ar->len);
		r->len = ar->len;
		return;
	}
	memcpy(os->pending, ar->data, ar->len);
	os->pending_len = ar->len;
	os->pending_off = 0;
	os->pending_sw = ar->sw;
	announce_pending(os, r);
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
