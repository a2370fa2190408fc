/* sim_config.c: tokencard-sim configuration keys (see sim_config.h). */
#include "sim_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_error.h"
#include "tc_hex.h"
#include "tc_pps.h"

enum key_kind {
	K_UINT,   /* uint32_t field, min..max */
	K_BOOL,   /* bool field: yes/no */
	K_CUSTOM, /* its own setter */
};

struct key_def;
typedef int (*setter_fn)(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                         size_t cap);

struct key_def {
	const char *key;
	enum key_kind kind;
	size_t off; /* K_UINT, K_BOOL */
	uint32_t min, max;
	setter_fn set;      /* K_CUSTOM */
	const char *expect; /* what a valid value looks like, for messages */
};

static int bad(const struct key_def *k, const char *v, char *why, size_t cap)
{
	snprintf(why, cap, "bad value '%.40s' for %s: expected %s", v, k->key, k->expect);
	return TC_E_FORMAT;
}

static bool parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;

	if (!isdigit((unsigned char)v[0]) || strlen(v) > 10)
		return false;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end || x < min || x > max)
		return false;
	*out = (uint32_t)x;
	return true;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "true")) {
		*out = true;
		return TC_OK;
	}
	if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false")) {
		*out = false;
		return TC_OK;
	}
	return TC_E_FORMAT;
}

/* One hex byte, or "none" (returns 1 for none, 0 for a byte, <0 error). */
static int parse_byte_or_none(const char *v, uint8_t *out)
{
	uint8_t b[2];

	if (!strcmp(v, "none") || !strcmp(v, "no"))
		return 1;
	if (tc_hex_decode(v, b, sizeof(b), NULL) != 1)
		return TC_E_FORMAT;
	*out = b[0];
	return 0;
}

static int set_ta1(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                   size_t cap)
{
	uint8_t b;
	int rc = parse_byte_or_none(v, &b);
	if (rc < 0)
		return bad(k, v, why, cap);
	c->spec.ta1_present = rc == 0;
	c->spec.fi_nibble = rc == 0 ? (uint8_t)(b >> 4) : 1;
	c->spec.di_nibble = rc == 0 ? (uint8_t)(b & 0x0F) : 1;
	return TC_OK;
}

static int set_ta2(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                   size_t cap)
{
	uint8_t b;
	int rc = parse_byte_or_none(v, &b);
	if (rc < 0 || (rc == 0 && (b & 0x60)))
		return bad(k, v, why, cap);
	c->spec.ta2_present = rc == 0;
	c->spec.ta2_cannot_change = rc == 0 && (b & 0x80);
	c->spec.ta2_implicit = rc == 0 && (b & 0x10);
	c->spec.ta2_protocol = rc == 0 ? (uint8_t)(b & 0x0F) : 0;
	return TC_OK;
}

static int set_tc(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                  size_t cap)
{
	uint32_t x;
	bool none = !strcmp(v, "none");
	if (!none && !parse_u32(v, k->min, k->max, &x))
		return bad(k, v, why, cap);
	if (!strcmp(k->key, "tc1")) {
		c->spec.tc1_present = !none;
		c->spec.N = none ? 0 : (uint8_t)x;
	} else {
		c->spec.tc2_present = !none;
		c->spec.WI = none ? 0 : (uint8_t)x;
	}
	return TC_OK;
}

static int set_convention(struct tc_sim_config *c, const struct key_def *k, const char *v,
                          char *why, size_t cap)
{
	if (strcmp(v, "direct") && strcmp(v, "inverse"))
		return bad(k, v, why, cap);
	c->spec.inverse = !strcmp(v, "inverse");
	return TC_OK;
}

/* "A,B,C" -> mask; "none" -> 0 when allowed. */
static int parse_classes(const char *v, bool allow_none, uint8_t *out)
{
	uint8_t m = 0;

	if (allow_none && !strcmp(v, "none")) {
		*out = 0;
		return TC_OK;
	}
	for (const char *p = v; *p; p++) {
		if (*p >= 'A' && *p <= 'C')
			m |= (uint8_t)(1u << (*p - 'A'));
		else if (*p != ',' && *p != ' ')
			return TC_E_FORMAT;
	}
	if (m == 0)
		return TC_E_FORMAT;
	*out = m;
	return TC_OK;
}

static int set_classes(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                       size_t cap)
{
	uint8_t m;
	bool indicator = !strcmp(k->key, "classes");
	if (parse_classes(v, indicator, &m) != TC_OK)
		return bad(k, v, why, cap);
	if (indicator) {
		c->spec.has_class = m != 0;
		c->spec.classes = m;
	} else {
		c->answer_classes = m;
	}
	return TC_OK;
}

static int set_protocols(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                         size_t cap)
{
	if (!strcmp(v, "0"))
		c->spec.protocols = 1;
	else if (!strcmp(v, "0,1") || !strcmp(v, "0, 1"))
		c->spec.protocols = 3;
	else
		return bad(k, v, why, cap);
	return TC_OK;
}

static int set_hex(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                   size_t cap)
{
	uint8_t buf[TC_ATR_MAX_LEN];
	bool none = !strcmp(v, "none") || !strcmp(v, "auto");
	int n = none ? 0 : tc_hex_decode(v, buf, k->max, NULL);
	if (n < 0 || (n < (int)k->min && !none))
		return bad(k, v, why, cap);
	if (!strcmp(k->key, "atr")) {
		c->raw_atr = !none;
		memcpy(c->atr, buf, (size_t)n);
		c->atr_len = (size_t)n;
	} else if (!strcmp(k->key, "historical")) {
		memcpy(c->spec.hist, buf, (size_t)n);
		c->spec.nhist = (unsigned)n;
	} else {
		memcpy(c->pps_answer, buf, (size_t)n);
		c->pps_answer_len = (size_t)n;
		c->pps = none ? TC_T0C_PPS_ACCEPT : TC_T0C_PPS_ALT;
	}
	return TC_OK;
}

static const char *const pps_names[] = {
    [TC_T0C_PPS_ACCEPT] = "accept",   [TC_T0C_PPS_REFUSE] = "refuse", [TC_T0C_PPS_WRONG] = "wrong",
    [TC_T0C_PPS_NO_PPS1] = "no-pps1", [TC_T0C_PPS_ALT] = "answer",
};

const char *tc_sim_pps_name(enum tc_t0c_pps_mode m)
{
	return (unsigned)m <= TC_T0C_PPS_ALT ? pps_names[m] : "?";
}

static int set_pps(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                   size_t cap)
{
	for (unsigned i = 0; i < TC_T0C_PPS_ALT; i++)
		if (!strcmp(v, pps_names[i])) {
			c->pps = (enum tc_t0c_pps_mode)i;
			return TC_OK;
		}
	return bad(k, v, why, cap);
}

static int set_list(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                    size_t cap)
{
	uint32_t tmp[TC_T0C_MAX_FAULT_IDX];
	unsigned n = 0;
	char buf[TC_SIM_LINE_MAX];

	if (strcmp(v, "none") != 0) {
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			if (n >= TC_T0C_MAX_FAULT_IDX || !parse_u32(tok, 1, UINT32_MAX, &tmp[n]))
				return bad(k, v, why, cap);
			n++;
		}
		if (n == 0)
			return bad(k, v, why, cap);
	}
	bool tx = !strcmp(k->key, "parity_tx");
	memcpy(tx ? c->parity_tx : c->parity_rx, tmp, n * sizeof(tmp[0]));
	*(tx ? &c->n_parity_tx : &c->n_parity_rx) = n;
	return TC_OK;
}

static int set_wrong_proc(struct tc_sim_config *c, const struct key_def *k, const char *v,
                          char *why, size_t cap)
{
	uint8_t b;
	int rc = parse_byte_or_none(v, &b);
	if (rc < 0)
		return bad(k, v, why, cap);
	c->wrong_proc = rc == 0;
	c->wrong_proc_byte = rc == 0 ? b : 0;
	return TC_OK;
}

static int set_text(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                    size_t cap)
{
	size_t n = strlen(v);
	if (n > TC_SIM_NAME_MAX)
		return bad(k, v, why, cap);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7E)
			return bad(k, v, why, cap);
	bool app = !strcmp(k->key, "default_app");
	if (app && strcmp(v, "testapp") && strcmp(v, "token") && strcmp(v, "none"))
		return bad(k, v, why, cap);
	memcpy(app ? c->default_app : c->name, v, n + 1);
	return TC_OK;
}

/* A file path (the token card's memory); "none" or empty for memory only. */
static int set_path(struct tc_sim_config *c, const struct key_def *k, const char *v, char *why,
                    size_t cap)
{
	size_t n = strlen(v);
	if (n >= sizeof(c->token_store)) {
		snprintf(why, cap, "bad value for %s: path longer than %zu characters", k->key,
		         sizeof(c->token_store) - 1);
		return TC_E_FORMAT;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F)
			return bad(k, v, why, cap);
	if (!strcmp(v, "none"))
		n = 0;
	memcpy(c->token_store, v, n);
	c->token_store[n] = '\0';
	return TC_OK;
}

#define U(name, field, lo, hi, text)                                                               \
	{                                                                                          \
		name, K_UINT, offsetof(struct tc_sim_config, field), lo, hi, NULL, text            \
	}
#define B(name, field)                                                                             \
	{                                                                                          \
		name, K_BOOL, offsetof(struct tc_sim_config, field), 0, 0, NULL, "yes or no"       \
	}
#define C(name, fn, lo, hi, text)                                                                  \
	{                                                                                          \
		name, K_CUSTOM, 0, lo, hi, fn, text                                                \
	}

static const struct key_def keys[] = {
    C("atr", set_hex, 2, TC_ATR_MAX_LEN, "2..33 hex bytes or auto"),
    C("convention", set_convention, 0, 0, "direct or inverse"),
    C("ta1", set_ta1, 0, 0, "one hex byte (FI/DI) or none"),
    C("tc1", set_tc, 0, 255, "a number 0..255 or none"),
    C("tc2", set_tc, 1, 255, "a number 1..255 or none"),
    C("ta2", set_ta2, 0, 0, "one hex byte (b6, b7 zero) or none"),
    C("classes", set_classes, 0, 0, "classes like A,B,C or none"),
    C("protocols", set_protocols, 0, 0, "0 or 0,1"),
    C("historical", set_hex, 0, TC_ATR_MAX_HIST, "0..15 hex bytes or none"),
    B("bad_tck", spec.bad_tck),
    C("pps", set_pps, 0, 0, "accept, refuse, wrong or no-pps1"),
    C("pps_answer", set_hex, 3, TC_PPS_MAX_LEN, "3..6 hex bytes or none"),
    U("atr_delay", atr_delay, 1, 1000000, "clock cycles 1..1000000"),
    U("char_spacing", char_spacing, 0, 20000, "extra etu 0..20000"),
    U("proc_time", proc_time, 0, 1000000, "etu 0..1000000"),
    U("null_interval", null_interval, 0, 1000000, "etu 0..1000000 (0: WT/2)"),
    U("null_storm", null_storm, 0, TC_T0C_MAX_NULL_STORM, "a number 0..512"),
    B("one_by_one", one_by_one),
    B("present", present),
    C("default_app", set_text, 0, 0, "testapp, token or none"),
    C("token_store", set_path, 0, 0, "a file path, or none (memory only)"),
    C("name", set_text, 0, 0, "0..32 printable characters"),
    B("mute", mute),
    C("answer_classes", set_classes, 0, 0, "classes like A,B,C"),
    C("parity_tx", set_list, 0, 0, "up to 16 character numbers >= 1, or none"),
    U("parity_tx_times", parity_tx_times, 1, 15, "a number 1..15"),
    U("parity_tx_every", parity_tx_every, 0, UINT32_MAX, "a number (0: off)"),
    C("parity_rx", set_list, 0, 0, "up to 16 character numbers >= 1, or none"),
    U("parity_rx_every", parity_rx_every, 0, UINT32_MAX, "a number (0: off)"),
    U("remove_at", remove_at, 0, UINT32_MAX, "a character number (0: never)"),
    C("wrong_proc", set_wrong_proc, 0, 0, "one hex byte or none"),
    U("max_repeat", max_repeat, 1, 15, "a number 1..15"),
};

void tc_sim_config_init(struct tc_sim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->atr_delay = 1000;
	c->present = true;
	c->answer_classes = TC_ATR_CLASS_A | TC_ATR_CLASS_B | TC_ATR_CLASS_C;
	c->max_repeat = TC_T0C_DEFAULT_REPEAT;
	c->parity_tx_times = 1;
	/* The default ATR, like a real T=0 card's: TA1 96 (Fi 512, f(max) 5 MHz,
	 * Di 32) for PPS to take, a T=15 class indicator (A, B and C, clock stop
	 * not supported), compact-TLV historical bytes and the TCK that T=15 asks:
	 * 3B 96 96 80 1F 07 80 31 C0 82 90 00 TCK. */
	static const uint8_t hist[] = {0x80, 0x31, 0xC0, 0x82, 0x90, 0x00};
	c->spec.ta1_present = true;
	c->spec.fi_nibble = 9;
	c->spec.di_nibble = 6;
	c->spec.has_class = true;
	c->spec.classes = TC_ATR_CLASS_A | TC_ATR_CLASS_B | TC_ATR_CLASS_C;
	memcpy(c->spec.hist, hist, sizeof(hist));
	c->spec.nhist = sizeof(hist);
	snprintf(c->default_app, sizeof(c->default_app), "testapp");
	snprintf(c->name, sizeof(c->name), "tokencard-sim");
}

int tc_sim_config_set(struct tc_sim_config *c, const char *key, const char *value, char *why,
                      size_t cap)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *k = &keys[i];
		if (strcmp(k->key, key) != 0)
			continue;
		if (k->kind == K_CUSTOM)
			return k->set(c, k, value, why, cap);
		if (k->kind == K_BOOL) {
			bool b;
			if (parse_bool(value, &b) != TC_OK)
				return bad(k, value, why, cap);
			memcpy((char *)c + k->off, &b, sizeof(b));
			return TC_OK;
		}
		uint32_t x;
		if (!parse_u32(value, k->min, k->max, &x))
			return bad(k, value, why, cap);
		memcpy((char *)c + k->off, &x, sizeof(x));
		return TC_OK;
	}
	snprintf(why, cap, "unknown key '%.40s'", key);
	return TC_E_FORMAT;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* One line, NUL-terminated and modifiable. Blank and comment lines are fine. */
static int set_line(struct tc_sim_config *c, char *line, bool comments, char *why, size_t cap)
{
	char *hash = comments ? strchr(line, '#') : NULL;
	if (hash)
		*hash = '\0';
	char *s = trim(line);
	if (*s == '\0' && comments)
		return TC_OK;
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(why, cap, "expected 'key = value'");
		return TC_E_FORMAT;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	if (*key == '\0') {
		snprintf(why, cap, "expected 'key = value'");
		return TC_E_FORMAT;
	}
	if (*value == '\0') {
		snprintf(why, cap, "no value for %.40s", key);
		return TC_E_FORMAT;
	}
	return tc_sim_config_set(c, key, value, why, cap);
}

int tc_sim_config_set_arg(struct tc_sim_config *c, const char *arg, char *why, size_t cap)
{
	char buf[TC_SIM_LINE_MAX];

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(why, cap, "setting longer than %u characters", TC_SIM_LINE_MAX - 1);
		return TC_E_FORMAT;
	}
	memcpy(buf, arg, strlen(arg) + 1);
	return set_line(c, buf, false, why, cap);
}

int tc_sim_config_parse(struct tc_sim_config *c, const char *text, size_t len, const char *name,
                        char *err, size_t cap)
{
	char line[TC_SIM_LINE_MAX];
	char why[TC_SIM_ERR_LEN];
	size_t pos = 0;
	unsigned no = 0;

	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		no++;
		why[0] = '\0';
		if (memchr(text + pos, '\0', end - pos))
			snprintf(why, sizeof(why), "NUL byte in line");
		else if (end - pos >= sizeof(line))
			snprintf(why, sizeof(why), "line longer than %u characters",
			         TC_SIM_LINE_MAX - 1);
		if (why[0] == '\0') {
			memcpy(line, text + pos, end - pos);
			line[end - pos] = '\0';
			if (set_line(c, line, true, why, sizeof(why)) == TC_OK)
				why[0] = '\0';
		}
		if (why[0] != '\0') {
			snprintf(err, cap, "%.64s:%u: %s", name, no, why);
			return TC_E_FORMAT;
		}
		pos = end + 1;
	}
	return TC_OK;
}

int tc_sim_config_engine(const struct tc_sim_config *c, struct tc_t0c_config *out, char *why,
                         size_t cap)
{
	memset(out, 0, sizeof(*out));
	if (c->raw_atr) {
		memcpy(out->atr, c->atr, c->atr_len);
		out->atr_len = c->atr_len;
	} else {
		int n = tc_atr_build(&c->spec, out->atr, sizeof(out->atr));
		if (n < 0) {
			snprintf(why, cap, "the ATR keys give no valid ATR (%s)", tc_strerror(n));
			return TC_E_FORMAT;
		}
		out->atr_len = (size_t)n;
	}
	out->mute = c->mute;
	out->atr_delay_clk = c->atr_delay;
	out->extra_guard_etu = c->char_spacing;
	out->proc_etu = c->proc_time;
	out->null_interval_etu = c->null_interval;
	out->null_storm = c->null_storm;
	out->one_by_one = c->one_by_one;
	out->wrong_proc = c->wrong_proc;
	out->wrong_proc_byte = c->wrong_proc_byte;
	out->pps_mode = c->pps;
	memcpy(out->pps_alt, c->pps_answer, c->pps_answer_len);
	out->pps_alt_len = c->pps_answer_len;
	out->max_repeat = c->max_repeat;
	memcpy(out->tx_bad, c->parity_tx, sizeof(out->tx_bad));
	out->n_tx_bad = c->n_parity_tx;
	out->tx_bad_times = (uint8_t)c->parity_tx_times;
	out->tx_bad_every = c->parity_tx_every;
	memcpy(out->rx_bad, c->parity_rx, sizeof(out->rx_bad));
	out->n_rx_bad = c->n_parity_rx;
	out->rx_bad_every = c->parity_rx_every;
	return TC_OK;
}
