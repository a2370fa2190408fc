/* scenario_parse.c: read a wire scenario file into items (docs/scenario-format.md). */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_int.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_timing.h"

void sc_fail(struct runner *r, int line, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	r->res->ok = false;
	int n = snprintf(r->res->msg, sizeof(r->res->msg), "%s:%d: ", r->name, line);
	if (n < 0 || (size_t)n >= sizeof(r->res->msg))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->res->msg + n, sizeof(r->res->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---- parsing ----------------------------------------------------------- */

int sc_parse_u64(const char *s, uint64_t *v)
{
	char *end = NULL;
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long long x = strtoull(s, &end, 0);
	if (*end)
		return -1;
	*v = x;
	return 0;
}

/* One term of a delay expression, s[0..len). */
static int parse_term(const char *s, size_t len, int64_t sign, struct delay *d)
{
	char buf[32], *end = NULL;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	int64_t *slot = !strcmp(buf, "WT") ? &d->wt : !strcmp(buf, "GT") ? &d->gt : NULL;
	uint64_t v = 1;
	if (!slot) { /* <number>, <number>etu or <number>clk */
		v = isdigit((unsigned char)buf[0]) ? strtoull(buf, &end, 10) : 0;
		slot = end && !strcmp(end, "clk") ? &d->clk : &d->etu;
		if (!end || (*end && strcmp(end, "clk") != 0 && strcmp(end, "etu") != 0) ||
		    v > (1ull << 40))
			return -1;
	}
	*slot += sign * (int64_t)v;
	return 0;
}

/* "WT+1clk", "120", "16etu", "GT-1clk": terms joined by + and -. */
int sc_parse_delay(const char *s, struct delay *d)
{
	memset(d, 0, sizeof(*d));
	int64_t sign = 1;
	if (*s == '+')
		s++;
	while (*s) {
		size_t len = strcspn(s, "+-");
		if (parse_term(s, len, sign, d) != 0)
			return -1;
		s += len;
		if (*s == '\0')
			break;
		sign = *s == '-' ? -1 : 1;
		s++;
		if (*s == '\0')
			return -1;
	}
	return d->etu < 0 ? -1 : 0;
}

int sc_eval_delay(const struct runner *r, const struct delay *d, uint64_t *out)
{
	int64_t v = (int64_t)tc_t0r_etu_clk(r->e, (uint64_t)d->etu) + d->clk +
	            d->wt * (int64_t)tc_t0r_wt_clk(r->e) + d->gt * (int64_t)tc_t0r_guard_clk(r->e);
	if (v < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* Append the bytes of hex tokens (pairs, or "XX*N" for N copies of XX). */
int sc_parse_hex_token(const char *tok, uint8_t *buf, size_t *n)
{
	const char *star = strchr(tok, '*');
	if (!star) {
		int got = tc_hex_decode(tok, buf + *n, SC_MAX_BYTES - *n, NULL);
		if (got < 0)
			return -1;
		*n += (size_t)got;
		return 0;
	}
	char pair[3] = {0};
	uint64_t count;
	uint8_t b;
	if (star - tok != 2 || sc_parse_u64(star + 1, &count) != 0 || count > SC_MAX_BYTES - *n)
		return -1;
	memcpy(pair, tok, 2);
	if (tc_hex_decode(pair, &b, 1, NULL) != 1)
		return -1;
	memset(buf + *n, b, (size_t)count);
	*n += (size_t)count;
	return 0;
}

static int parse_hex(char **tok, size_t ntok, struct item *it)
{
	uint8_t *buf = malloc(SC_MAX_BYTES);
	size_t n = 0;
	if (!buf)
		return -1;
	for (size_t i = 0; i < ntok; i++) {
		if (sc_parse_hex_token(tok[i], buf, &n) != 0) {
			free(buf);
			return -1;
		}
	}
	it->bytes = buf;
	it->n = n;
	return 0;
}

static char *join_args(char **tok, size_t ntok)
{
	size_t len = 1;
	for (size_t i = 0; i < ntok; i++)
		len += strlen(tok[i]) + 1;
	char *out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < ntok; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, tok[i]);
	}
	return out;
}

static int parse_reader(char **tok, size_t ntok, struct item *it)
{
	size_t i = 0;
	for (; i < ntok; i++) {
		if (tok[i][0] == '+') {
			if (sc_parse_delay(tok[i], &it->delay) != 0)
				return -1;
			it->has_delay = true;
		} else if (strncmp(tok[i], "every=", 6) == 0) {
			if (sc_parse_delay(tok[i] + 6, &it->every) != 0)
				return -1;
			it->has_every = true;
		} else {
			break;
		}
	}
	return parse_hex(tok + i, ntok - i, it);
}

static int parse_card(char **tok, size_t ntok, struct item *it)
{
	if (ntok == 1 && strcmp(tok[0], "mute") == 0) {
		it->kind = IT_MUTE;
		return 0;
	}
	if (ntok == 2 && strcmp(tok[0], "signal-error") == 0) {
		uint64_t v;
		it->kind = IT_SIGERR;
		if (sc_parse_u64(tok[1], &v) != 0 || v > SC_MAX_BYTES)
			return -1;
		it->index = (size_t)v;
		return 0;
	}
	if (ntok < 2 || tok[0][0] != '+' || sc_parse_delay(tok[0], &it->delay) != 0)
		return -1;
	it->has_delay = true;
	if (strncmp(tok[1], "every=", 6) == 0) {
		if (sc_parse_delay(tok[1] + 6, &it->every) != 0)
			return -1;
		it->has_every = true;
		tok++;
		ntok--;
	}
	if (strcmp(tok[ntok - 1], "parity-error") == 0) {
		it->parity_error = true;
		ntok--;
	}
	if (parse_hex(tok + 1, ntok - 1, it) != 0 || it->n == 0)
		return -1;
	return 0;
}

static int parse_item(char **tok, size_t ntok, struct item *it)
{
	static const struct {
		const char *word;
		enum item_kind kind;
	} words[] = {
	    {"name", IT_NAME}, {"param", IT_PARAM},   {"option", IT_OPTION}, {"tpdu", IT_TPDU},
	    {"apdu", IT_APDU}, {"reader", IT_READER}, {"card", IT_CARD},     {"expect", IT_EXPECT},
	};
	size_t w = 0;
	while (w < sizeof(words) / sizeof(words[0]) && strcmp(words[w].word, tok[0]) != 0)
		w++;
	if (w == sizeof(words) / sizeof(words[0]))
		return -1;
	it->kind = words[w].kind;
	switch (it->kind) {
	case IT_TPDU:
	case IT_APDU:
		return parse_hex(tok + 1, ntok - 1, it);
	case IT_READER:
		return parse_reader(tok + 1, ntok - 1, it);
	case IT_CARD:
		return parse_card(tok + 1, ntok - 1, it);
	case IT_NAME:
		it->arg = join_args(tok + 1, ntok - 1);
		return it->arg ? 0 : -1;
	case IT_PARAM:
	case IT_OPTION:
	case IT_EXPECT:
		if (ntok < 2 || strlen(tok[1]) >= sizeof(it->key))
			return -1;
		strcpy(it->key, tok[1]);
		it->arg = join_args(tok + 2, ntok - 2);
		return it->arg ? 0 : -1;
	case IT_MUTE:
	case IT_SIGERR:
		break;
	}
	return -1;
}

/* Split line (modified in place) into tokens; returns the count. */
static size_t tokenize(char *line, char ***tok, size_t *cap)
{
	size_t n = 0;
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	for (char *p = strtok(line, " \t\r"); p; p = strtok(NULL, " \t\r")) {
		if (n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			char **v = realloc(*tok, nc * sizeof(*v));
			if (!v)
				return n;
			*tok = v;
			*cap = nc;
		}
		(*tok)[n++] = p;
	}
	return n;
}

static int add_item(struct runner *r, const struct item *it, size_t *cap)
{
	if (r->n_items == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct item *v = realloc(r->items, nc * sizeof(*v));
		if (!v)
			return -1;
		r->items = v;
		*cap = nc;
	}
	r->items[r->n_items++] = *it;
	return 0;
}

int sc_load(struct runner *r, char *text)
{
	char **tok = NULL;
	size_t tcap = 0, icap = 0;
	int line = 0;
	char *save = NULL;
	for (char *l = text; l; l = save) {
		save = strchr(l, '\n');
		if (save)
			*save++ = '\0';
		line++;
		size_t ntok = tokenize(l, &tok, &tcap);
		if (ntok == 0)
			continue;
		struct item it = {.line = line};
		if (parse_item(tok, ntok, &it) != 0 || add_item(r, &it, &icap) != 0) {
			free(it.bytes);
			free(it.arg);
			sc_fail(r, line, "cannot parse \"%s ...\"", tok[0]);
			break;
		}
	}
	free(tok);
	return r->failed ? -1 : 0;
}
