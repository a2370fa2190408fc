/* serial_opts.c: the pure parts of the serial transport: endpoint options,
 * baud mapping, convention coding, the PARMRK receive parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serial_int.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "tc_timing.h"

/* why = pre 'arg' post (arg cut to len, unprintable bytes shown as ?). */
static int fail(char *why, size_t cap, const char *pre, const char *arg, size_t len,
                const char *post)
{
	char buf[64];
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7E)
			buf[i] = '?';
	if (why && cap)
		snprintf(why, cap, "%s '%s'%s", pre, buf, post);
	return TC_E_FORMAT;
}

/* A decimal number lo..hi of exactly len characters. */
static bool number(const char *s, size_t len, unsigned long lo, unsigned long hi,
                   unsigned long *out)
{
	unsigned long v = 0;
	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* LINE or LINE-inv among the names given. */
static bool line_value(const char *v, size_t len, const char *const *names,
                       const enum tc_serial_line *lines, size_t n, enum tc_serial_line *out,
                       bool *inv)
{
	*inv = len > 4 && memcmp(v + len - 4, "-inv", 4) == 0;
	if (*inv)
		len -= 4;
	for (size_t i = 0; i < n; i++)
		if (is(v, len, names[i])) {
			*out = lines[i];
			return true;
		}
	return false;
}

static int opt_reset(struct tc_serial_opts *o, const char *v, size_t len, char *why, size_t cap)
{
	static const char *const names[] = {"rts", "dtr"};
	static const enum tc_serial_line lines[] = {TC_SERIAL_LINE_RTS, TC_SERIAL_LINE_DTR};
	if (!line_value(v, len, names, lines, 2, &o->reset, &o->reset_inv))
		return fail(why, cap, "bad reset line", v, len,
		            ": expected rts, dtr, rts-inv or dtr-inv");
	return TC_OK;
}

static int opt_detect(struct tc_serial_opts *o, const char *v, size_t len, char *why, size_t cap)
{
	static const char *const names[] = {"none", "cts", "dcd", "dsr", "ri"};
	static const enum tc_serial_line lines[] = {TC_SERIAL_LINE_NONE, TC_SERIAL_LINE_CTS,
	                                            TC_SERIAL_LINE_DCD, TC_SERIAL_LINE_DSR,
	                                            TC_SERIAL_LINE_RI};
	if (!line_value(v, len, names, lines, 5, &o->detect, &o->detect_inv) ||
	    (o->detect == TC_SERIAL_LINE_NONE && o->detect_inv))
		return fail(why, cap, "bad detect line", v, len,
		            ": expected none, cts, dcd, dsr or ri, optionally with -inv");
	return TC_OK;
}

static int opt_number(const char *key, const char *v, size_t len, unsigned long lo,
                      unsigned long hi, unsigned long *out, char *why, size_t cap)
{
	if (number(v, len, lo, hi, out))
		return TC_OK;
	char pre[32], post[64];
	snprintf(pre, sizeof(pre), "bad %s", key);
	snprintf(post, sizeof(post), ": expected a number %lu..%lu", lo, hi);
	return fail(why, cap, pre, v, len, post);
}

static int opt_path(char *dst, const char *v, size_t len, char *why, size_t cap)
{
	if (len == 0 || len >= TC_SERIAL_PATH_MAX)
		return fail(why, cap, "bad lines socket path", v, len, "");
	memcpy(dst, v, len);
	dst[len] = '\0';
	return TC_OK;
}

/* One key[=value]. */
static int opt_one(struct tc_serial_opts *o, const char *s, size_t len, char *why, size_t cap)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	const char *v = eq ? eq + 1 : s + len;
	size_t vlen = eq ? len - klen - 1 : 0;
	unsigned long n = 0;
	int rc = TC_OK;

	if (!eq && is(s, klen, "noecho")) {
		o->echo = false;
	} else if (!eq && is(s, klen, "nocustom")) {
		o->custom = false;
	} else if (eq && is(s, klen, "reset")) {
		rc = opt_reset(o, v, vlen, why, cap);
	} else if (eq && is(s, klen, "detect")) {
		rc = opt_detect(o, v, vlen, why, cap);
	} else if (eq && is(s, klen, "clock")) {
		rc = opt_number("clock", v, vlen, 1000000, 20000000, &n, why, cap);
		o->clock_hz = (uint32_t)n;
	} else if (eq && is(s, klen, "max_baud")) {
		rc = opt_number("max_baud", v, vlen, 1200, 10000000, &n, why, cap);
		o->max_baud = (uint32_t)n;
	} else if (eq && is(s, klen, "slack")) {
		rc = opt_number("slack", v, vlen, 0, 10000, &n, why, cap);
		o->slack_ms = (unsigned)n;
	} else if (eq && is(s, klen, "class")) {
		if (vlen != 1 || v[0] < 'A' || v[0] > 'C')
			return fail(why, cap, "bad class", v, vlen, ": expected A, B or C");
		o->cls = (uint8_t)(v[0] - 'A' + 1);
	} else if (eq && is(s, klen, "lines")) {
		rc = opt_path(o->lines, v, vlen, why, cap);
	} else {
		return fail(why, cap, "unknown serial option", s, len, "");
	}
	return rc == TC_OK ? TC_OK : TC_E_FORMAT;
}

int tc_serial_parse_opts(const char *endpoint, struct tc_serial_opts *o, char *why, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->reset = TC_SERIAL_LINE_RTS;
	o->clock_hz = TC_SERIAL_DEFAULT_CLK;
	o->cls = 1;
	o->echo = true;
	o->custom = true;
	o->slack_ms = TC_SERIAL_DEFAULT_SLACK_MS;
	if (why && cap)
		why[0] = '\0';
	if (!endpoint)
		return fail(why, cap, "no tty path", "", 0, "");
	const char *colon = strchr(endpoint, ':');
	size_t n = colon ? (size_t)(colon - endpoint) : strlen(endpoint);
	if (n == 0 || n >= sizeof(o->path) || endpoint[0] != '/')
		return fail(why, cap, "bad tty path", endpoint, n, ": expected an absolute path");
	memcpy(o->path, endpoint, n);
	o->path[n] = '\0';
	while (colon) {
		const char *opt = colon + 1;
		colon = strchr(opt, ':');
		size_t len = colon ? (size_t)(colon - opt) : strlen(opt);
		int rc = opt_one(o, opt, len, why, cap);
		if (rc != TC_OK)
			return rc;
	}
	return TC_OK;
}

uint32_t tc_serial_baud(uint32_t clock_hz, unsigned F, unsigned D)
{
	if (F == 0)
		return 0;
	return (uint32_t)(((uint64_t)clock_hz * D + F / 2) / F);
}

static const uint32_t std_rates[] = {
    1200,   1800,   2400,   4800,   9600,    19200,   38400,   57600,   115200,  230400,
    460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000,
};

uint32_t tc_serial_std_rate(uint32_t baud)
{
	for (size_t i = 0; i < sizeof(std_rates) / sizeof(std_rates[0]); i++) {
		uint64_t r = std_rates[i];
		if ((uint64_t)baud * 100 >= r * 99 && (uint64_t)baud * 100 <= r * 101)
			return std_rates[i];
	}
	return 0;
}

bool tc_serial_rate_close(uint32_t want, uint32_t got)
{
	return tc_pps_rate_near(want, got);
}

uint32_t tc_serial_std_rate_near(uint32_t baud)
{
	uint32_t best = 0;
	uint64_t best_d = UINT64_MAX;
	for (size_t i = 0; i < sizeof(std_rates) / sizeof(std_rates[0]); i++) {
		uint64_t d = std_rates[i] > baud ? std_rates[i] - baud : baud - std_rates[i];
		if (tc_pps_rate_near(baud, std_rates[i]) && d < best_d) {
			best = std_rates[i];
			best_d = d;
		}
	}
	return best;
}

/* Whether the UART can run pair FI/DI at its crystal. */
static bool uart_can(const void *ctx, unsigned fi, unsigned di)
{
	const struct tc_serial_opts *o = ctx;
	unsigned F = tc_fi(fi), D = tc_di(di);
	if (F == 0 || D == 0 || tc_fmax_khz(fi) * 1000u < o->clock_hz)
		return false;
	uint32_t baud = tc_serial_baud(o->clock_hz, F, D);
	if (o->max_baud && baud > o->max_baud)
		return false;
	return o->custom || tc_serial_std_rate_near(baud);
}

void tc_serial_caps(const struct tc_serial_opts *o, struct tc_reader_caps *caps)
{
	unsigned khz = o->clock_hz / 1000u;
	caps->max_clock_khz = khz; /* one crystal: the only clock there is */
	caps->default_clock_khz = khz;
	caps->nclocks = 0;
	if (o->max_baud && (caps->max_baud == 0 || o->max_baud < caps->max_baud))
		caps->max_baud = o->max_baud;
	tc_pps_caps_keep(caps, uart_can, o);
}

static uint8_t bit_reverse(uint8_t b)
{
	b = (uint8_t)((b & 0xF0u) >> 4 | (b & 0x0Fu) << 4);
	b = (uint8_t)((b & 0xCCu) >> 2 | (b & 0x33u) << 2);
	b = (uint8_t)((b & 0xAAu) >> 1 | (b & 0x55u) << 1);
	return b;
}

uint8_t tc_serial_encode(uint8_t logical, bool inverse)
{
	return inverse ? bit_reverse((uint8_t)~logical) : logical;
}

uint8_t tc_serial_decode(uint8_t uart, bool inverse)
{
	return inverse ? (uint8_t)~bit_reverse(uart) : uart;
}

int tc_serial_rxp_feed(struct tc_serial_rxp *p, uint8_t in, uint8_t *out, bool *err)
{
	*err = false;
	switch (p->state) {
	case 1:
		p->state = 0;
		if (in == 0xFF) {
			*out = 0xFF;
			return 1;
		}
		if (in == 0x00) {
			p->state = 2;
			return 0;
		}
		/* a lone FF (PARMRK off, or not from the tty): FF, then this byte */
		p->has_spare = true;
		p->spare = in;
		*out = 0xFF;
		return 1;
	case 2:
		p->state = 0;
		*out = in;
		*err = true;
		return 1;
	default:
		if (in == 0xFF) {
			p->state = 1;
			return 0;
		}
		*out = in;
		return 1;
	}
}

int tc_serial_rxp_spare(struct tc_serial_rxp *p, uint8_t *out, bool *err)
{
	if (!p->has_spare)
		return 0;
	p->has_spare = false;
	/* the spare byte may itself start a mark */
	return tc_serial_rxp_feed(p, p->spare, out, err);
}
