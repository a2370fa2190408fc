/* slot.c: activation, ATR and PPS for one slot (ISO/IEC 7816-3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slot_int.h"
#include "tc_error.h"
#include "tc_timing.h"

/* Lowest voltage first, as ISO/IEC 7816-3 asks. */
static const uint8_t class_order[TC_ATR_CLASS_ORDER_N] = {TC_ATR_CLASS_C, TC_ATR_CLASS_B,
                                                          TC_ATR_CLASS_A};

void tc_reader_config_default(struct tc_reader_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->classes = TC_ATR_CLASS_A | TC_ATR_CLASS_B | TC_ATR_CLASS_C;
	cfg->caps.max_clock_khz = 20000;
	cfg->caps.default_clock_khz = 3571; /* 3.5712 MHz: 9600 baud at Fd/Dd */
	cfg->caps.max_baud = 0;
	cfg->caps.di_mask = 0x3FE; /* DI 1..9: every Di of the table */
	cfg->caps.protocols = 1u << 0;
	cfg->max_repeats = TC_T0_DEFAULT_REPEATS;
}

enum tc_level slot_level(const struct tc_slot *s)
{
	return s->tr->level ? s->tr->level(s->link) : TC_LEVEL_CHAR;
}

uint32_t tc_slot_max_apdu_data(const struct tc_slot *s)
{
	/* Below the APDU levels the driver's transport layer builds extended
	 * APDUs from short TPDUs (ENVELOPE, GET RESPONSE); an extended-APDU
	 * reader takes them whole or chained. A short-APDU reader cannot. */
	return slot_level(s) == TC_LEVEL_SHORT_APDU ? 0 : 65535u;
}

void slot_fail(struct tc_slot *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

int tc_slot_open(struct tc_slot **out, const char *devicename, const struct tc_reader_config *cfg)
{
	const char *endpoint = NULL;
	const struct tc_transport *tr = tc_transport_find(devicename, &endpoint);
	if (!tr)
		return TC_E_UNSUPPORTED;
	struct tc_slot *s = calloc(1, sizeof(*s));
	if (!s)
		return TC_E_NOMEM;
	if (cfg)
		s->cfg = *cfg;
	else
		tc_reader_config_default(&s->cfg);
	s->tr = tr;
	int rc = tr->open(&s->link, endpoint);
	if (rc < 0) {
		free(s);
		return rc;
	}
	/* The reader's own figures for PPS (its clock, rates, UART). */
	if (tr->caps && tr->caps(s->link, &s->cfg.caps) < 0) {
		tr->close(s->link);
		free(s);
		return TC_E_UNSUPPORTED;
	}
	*out = s;
	return TC_OK;
}

void tc_slot_close(struct tc_slot *s)
{
	if (!s)
		return;
	if (s->powered)
		(void)tc_slot_power_down(s);
	s->tr->close(s->link);
	tc_t0r_free(s->t0);
	free(s);
}

int tc_slot_power_down(struct tc_slot *s)
{
	s->powered = false;
	s->protocol_set = false;
	s->cls = 0;
	return s->tr->power_off(s->link);
}

/* ATR characters: the first within 40 000 clocks of RST rising, then at most
 * 9600 etu between leading edges. Stops when the ATR is complete. */
static int read_atr(struct tc_slot *s, uint64_t rst_edge)
{
	uint64_t deadline = rst_edge + TC_ATR_MAX_CLK;
	bool inverse = false;

	s->atr_len = 0;
	while (s->atr_len < TC_ATR_MAX_LEN) {
		struct tc_rx rx;
		int rc = s->tr->recv(s->link, deadline, &rx);
		if (rc == TC_E_TIMEOUT)
			break;
		if (rc < 0)
			return rc;
		if (rx.kind != TC_RX_CHAR)
			continue;
		uint8_t b = rx.byte;
		if (s->atr_len == 0) {
			if (rx.time < rst_edge + TC_ATR_MIN_CLK) {
				slot_fail(s, "ATR started %llu clocks after RST, before 400",
				          (unsigned long long)(rx.time - rst_edge));
				return TC_E_PROTOCOL;
			}
			inverse = b == TC_ATR_TS_INVERSE_RAW;
			b = inverse ? TC_ATR_TS_INVERSE : b;
			(void)s->tr->set_params(s->link, inverse, TC_FD, TC_DD);
		}
		s->atr_raw[s->atr_len++] = b;
		deadline = rx.time + tc_etu_to_clk(TC_FD, TC_DD, TC_INITIAL_WAIT_ETU);
		if (tc_atr_parse(s->atr_raw, s->atr_len, &s->atr) != TC_E_SHORT)
			break;
	}
	if (s->atr_len == 0) {
		slot_fail(s, "card mute: no ATR within 40000 clocks of RST");
		return TC_E_MUTE;
	}
	int rc = tc_atr_parse(s->atr_raw, s->atr_len, &s->atr);
	if (rc < 0)
		slot_fail(s, "ATR unusable: %s", s->atr.why);
	return rc;
}

static const unsigned wire_class[5] = {0, 1, 2, 0, 3}; /* A=1 B=2 C=3 */

/* A block-level reader activates the card and reads the ATR itself; it has
 * no warm reset, so a reset is a deactivation and a new activation. */
static int activate_block(struct tc_slot *s, uint8_t cls, bool warm)
{
	if (warm)
		(void)s->tr->power_off(s->link);
	s->clock_khz = s->cfg.caps.default_clock_khz;
	int rc =
	    s->tr->activate(s->link, wire_class[cls], s->atr_raw, sizeof(s->atr_raw), &s->atr_len);
	if (rc == TC_E_MUTE)
		slot_fail(s, "card mute: the reader got no ATR");
	if (rc < 0)
		return rc;
	rc = tc_atr_parse(s->atr_raw, s->atr_len, &s->atr);
	if (rc < 0)
		slot_fail(s, "ATR unusable: %s", s->atr.why);
	return rc;
}

/* Cold reset at one class (or a warm reset when warm): RST low, high, ATR. */
static int reset_and_read(struct tc_slot *s, uint8_t cls, bool warm)
{
	uint64_t edge;
	int rc;

	if (slot_level(s) != TC_LEVEL_CHAR)
		return activate_block(s, cls, warm);
	if (!warm) {
		rc = s->tr->power_on(s->link, wire_class[cls],
		                     s->cfg.caps.default_clock_khz * 1000u);
		if (rc < 0)
			return rc;
	} else {
		rc = s->tr->set_rst(s->link, 0, &edge);
		if (rc < 0)
			return rc;
	}
	s->clock_khz = s->cfg.caps.default_clock_khz;
	(void)s->tr->set_params(s->link, false, TC_FD, TC_DD);
	rc = s->tr->set_rst(s->link, 1, &edge);
	if (rc < 0)
		return rc;
	return read_atr(s, edge);
}

/* Try one class: cold reset, then a warm reset when the ATR is unusable. */
static int try_class(struct tc_slot *s, uint8_t cls)
{
	int rc = reset_and_read(s, cls, false);
	if (rc == TC_E_UNSUPPORTED && slot_level(s) != TC_LEVEL_CHAR)
		return rc;
	if (rc < 0 && rc != TC_E_MUTE && rc != TC_E_NO_CARD && rc != TC_E_IO && rc != TC_E_CLOSED)
		rc = reset_and_read(s, cls, true);
	if (rc == TC_OK && s->atr.has_class && !(s->atr.classes & cls)) {
		slot_fail(s, "the card's class indicator excludes class %c",
		          cls == TC_ATR_CLASS_A   ? 'A'
		          : cls == TC_ATR_CLASS_B ? 'B'
		                                  : 'C');
		return TC_E_CLASS;
	}
	return rc;
}

static void set_defaults_from_atr(struct tc_slot *s)
{
	s->F = TC_FD;
	s->D = TC_DD;
	if (s->atr.specific_mode && !s->atr.implicit_params && s->atr.Fi && s->atr.Di) {
		s->F = s->atr.Fi;
		s->D = s->atr.Di;
	}
	s->N = s->atr.N;
	s->WI = s->atr.WI;
	s->protocol = s->atr.specific_mode ? s->atr.specific_protocol : s->atr.first_protocol;
	if (slot_level(s) == TC_LEVEL_CHAR)
		(void)s->tr->set_params(s->link, s->atr.inverse, s->F, s->D);
}

static int power_up_cold(struct tc_slot *s)
{
	int rc = TC_E_MUTE, first = 0;
	for (unsigned i = 0; i < TC_ATR_CLASS_ORDER_N; i++) {
		uint8_t cls = class_order[i];
		if (!(s->cfg.classes & cls))
			continue;
		rc = try_class(s, cls);
		if (rc == TC_E_UNSUPPORTED && slot_level(s) != TC_LEVEL_CHAR) {
			rc = TC_E_CLASS; /* a class the reader cannot supply */
			continue;
		}
		if (rc == TC_OK) {
			s->cls = cls;
			return TC_OK;
		}
		if (!first || first == TC_E_MUTE)
			first = rc;
		(void)s->tr->power_off(s->link);
		if (rc == TC_E_NO_CARD || rc == TC_E_IO || rc == TC_E_CLOSED)
			return rc;
	}
	return first ? first : rc;
}

int tc_slot_power_up(struct tc_slot *s, bool warm, uint8_t *atr, size_t *atr_len)
{
	int rc;

	s->err[0] = '\0';
	s->protocol_set = false;
	if (warm && s->powered) {
		rc = reset_and_read(s, s->cls, true);
	} else {
		s->powered = false;
		rc = power_up_cold(s);
	}
	if (rc < 0) {
		s->powered = false;
		if (warm)
			(void)s->tr->power_off(s->link);
		return rc;
	}
	s->powered = true;
	set_defaults_from_atr(s);
	rc = slot_t0_setup(s);
	if (rc < 0)
		return rc;
	memcpy(atr, s->atr_raw, s->atr_len);
	*atr_len = s->atr_len;
	return TC_OK;
}

int tc_slot_presence(struct tc_slot *s, int timeout_ms, bool *present)
{
	int rc = s->tr->presence(s->link, timeout_ms, present);
	if (rc == TC_OK && !*present && s->powered) {
		s->powered = false;
		s->protocol_set = false;
	}
	return rc;
}

int tc_slot_event_fd(const struct tc_slot *s)
{
	return s->tr->event_fd ? s->tr->event_fd(s->link) : -1;
}

bool tc_slot_powered(const struct tc_slot *s)
{
	return s->powered;
}

const struct tc_atr *tc_slot_atr(const struct tc_slot *s)
{
	return s->powered ? &s->atr : NULL;
}

void tc_slot_params(const struct tc_slot *s, unsigned *F, unsigned *D, unsigned *clock_khz)
{
	*F = s->F;
	*D = s->D;
	*clock_khz = s->clock_khz;
}

const char *tc_slot_last_error(const struct tc_slot *s)
{
	return s->err;
}

const struct tc_reader_caps *tc_slot_caps(const struct tc_slot *s)
{
	return &s->cfg.caps;
}

const char *slot_tr_why(const struct tc_slot *s, int rc)
{
	const char *why = s->tr->last_error ? s->tr->last_error(s->link) : NULL;
	return why && why[0] ? why : tc_strerror(rc);
}

uint8_t tc_slot_class(const struct tc_slot *s)
{
	return s->powered ? s->cls : 0;
}

void tc_slot_exchange_stats(const struct tc_slot *s, struct tc_exchange_stats *out)
{
	*out = s->xs;
}
