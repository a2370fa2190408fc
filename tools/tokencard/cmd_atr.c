/* cmd_atr.c: tokencard atr [--json] HEX...: explain an Answer to Reset byte by
 * byte, then the figures derived from it; or print them as one JSON object. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tc_atr.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_timing.h"

#define ATR_TEXT_MAX 1024
#define ATR_IN_MAX   256

static void usage(FILE *to)
{
	fprintf(to, "usage: tokencard atr [--json] HEX...\n"
	            "\n"
	            "Explain an ISO 7816-3 Answer to Reset. HEX is the ATR as logical bytes\n"
	            "(TS 3B or 3F), with or without spaces or colons, in one or several words.\n"
	            "  --json   print one JSON object instead of the explanation\n"
	            "Exit status: 0 valid ATR, 1 invalid ATR, 2 usage error.\n");
}

static const char *group_byte_name(unsigned bit)
{
	switch (bit) {
	case TC_ATR_HAS_TA:
		return "TA";
	case TC_ATR_HAS_TB:
		return "TB";
	case TC_ATR_HAS_TC:
		return "TC";
	default:
		return "TD";
	}
}

static void line(unsigned off, uint8_t b, const char *name, unsigned idx, const char *text)
{
	char label[24];
	if (idx)
		snprintf(label, sizeof(label), "%s%u", name, idx);
	else
		snprintf(label, sizeof(label), "%s", name);
	printf("  %02u  %02X  %-5s %s\n", off, b, label, text);
}

static void y_text(unsigned y, char *buf, size_t cap, unsigned next)
{
	size_t o = (size_t)snprintf(buf, cap, "Y%u=0x%X:", next, y);
	if (y == 0)
		o += (size_t)snprintf(buf + o, cap - o, " no interface bytes follow");
	for (unsigned bit = 1; bit <= 8 && o < cap; bit <<= 1)
		if (y & bit)
			o +=
			    (size_t)snprintf(buf + o, cap - o, " %s%u", group_byte_name(bit), next);
}

/* The class indicator: the first TAi (i > 2) in a group announced by T=15. */
static bool is_class_group(const struct tc_atr *a, unsigned gi)
{
	for (unsigned i = 2; i < a->ngroups && i <= gi; i++)
		if (a->group[i].proto == 15 && (a->group[i].present & TC_ATR_HAS_TA))
			return i == gi;
	return false;
}

static void explain_ta(const struct tc_atr *a, const struct tc_atr_group *g, unsigned i, char *t,
                       size_t cap)
{
	if (i == 1) {
		unsigned fi = g->ta >> 4, di = g->ta & 15u;
		snprintf(t, cap, "FI=%u DI=%u: Fi=%u%s Di=%u%s f(max)=%.1f MHz", fi, di, tc_fi(fi),
		         tc_fi(fi) ? "" : " (RFU)", tc_di(di), tc_di(di) ? "" : " (RFU)",
		         tc_fmax_khz(fi) / 1000.0);
	} else if (i == 2) {
		snprintf(t, cap, "specific mode T=%u; %s; %s", g->ta & 15u,
		         (g->ta & 0x80u) ? "cannot change mode" : "can change mode",
		         (g->ta & 0x10u) ? "implicit parameters (not TA1)"
		                         : "parameters given by TA1");
	} else if (g->proto == 1) {
		snprintf(t, cap, "T=1 IFSC=%u", g->ta);
	} else if (is_class_group(a, i - 1)) {
		snprintf(t, cap, "class indicator:%s%s%s%s; clock stop: %s",
		         (g->ta & 1u) ? " A (5 V)" : "", (g->ta & 2u) ? " B (3 V)" : "",
		         (g->ta & 4u) ? " C (1.8 V)" : "", (g->ta & 7u) ? "" : " none",
		         tc_atr_clock_stop_name(g->ta >> 6));
	} else {
		snprintf(t, cap, "specific to T=%u", g->proto);
	}
}

static void explain_byte(const struct tc_atr *a, unsigned gi, unsigned bit, char *t, size_t cap)
{
	const struct tc_atr_group *g = &a->group[gi];
	unsigned i = gi + 1;

	if (bit == TC_ATR_HAS_TA)
		explain_ta(a, g, i, t, cap);
	else if (bit == TC_ATR_HAS_TB && i <= 2)
		snprintf(t, cap, "programming voltage (deprecated, ignored)");
	else if (bit == TC_ATR_HAS_TB && g->proto == 1)
		snprintf(t, cap, "T=1 BWI=%u CWI=%u", g->tb >> 4, g->tb & 15u);
	else if (bit == TC_ATR_HAS_TC && i == 1)
		snprintf(t, cap, "N=%u: extra guard time%s", g->tc,
		         g->tc == 255 ? " minimal (12 etu T=0, 11 etu T=1)" : "");
	else if (bit == TC_ATR_HAS_TC && i == 2)
		snprintf(t, cap, "WI=%u%s", g->tc, g->tc ? " (T=0 waiting time integer)" : " RFU");
	else if (bit == TC_ATR_HAS_TC && g->proto == 1)
		snprintf(t, cap, "T=1 error detection: %s", (g->tc & 1u) ? "CRC" : "LRC");
	else if (bit == TC_ATR_HAS_TD) {
		y_text(g->td >> 4, t, cap, i + 1);
		size_t o = strlen(t);
		snprintf(t + o, cap - o, "; T=%u%s", g->td & 15u,
		         (g->td & 15u) == 15 ? " (global interface bytes)" : "");
	} else
		snprintf(t, cap, "specific to T=%u", g->proto);
}

static size_t explain_groups(const struct tc_atr *a, const uint8_t *atr, size_t len)
{
	char t[160];
	size_t pos = 2;

	for (unsigned gi = 0; gi < a->ngroups; gi++) {
		for (unsigned bit = 1; bit <= 8; bit <<= 1) {
			if (!(a->group[gi].present & bit))
				continue;
			if (pos >= len)
				return pos;
			explain_byte(a, gi, bit, t, sizeof(t));
			line((unsigned)pos, atr[pos], group_byte_name(bit), gi + 1, t);
			pos++;
		}
	}
	return pos;
}

static void explain_hist(const uint8_t *h, unsigned n, size_t off)
{
	char hex[3 * TC_ATR_MAX_HIST + 4];
	char asc[TC_ATR_MAX_HIST + 1];

	for (unsigned i = 0; i < n; i++)
		asc[i] = (h[i] >= 0x20 && h[i] < 0x7F) ? (char)h[i] : '.';
	asc[n] = '\0';
	tc_hex_encode(h, n, ' ', hex, sizeof(hex));
	printf("  %02zu  ..  hist  %u historical bytes: %s  \"%s\"\n", off, n, hex, asc);
	if (n > 0)
		printf("            category 0x%02X: %s\n", h[0],
		       h[0] == 0x80   ? "COMPACT-TLV objects follow"
		       : h[0] == 0x00 ? "COMPACT-TLV, status indicator in the last 3 bytes"
		       : h[0] == 0x10 ? "DIR data reference follows"
		                      : "proprietary format");
}

static void explain(const struct tc_atr *a, const uint8_t *atr, size_t len)
{
	char t[160];

	printf("ATR: %zu bytes\n", len);
	if (len == 0)
		return;
	line(0, atr[0], "TS", 0,
	     atr[0] == 0x3B   ? "direct convention"
	     : atr[0] == 0x3F ? "inverse convention"
	                      : "invalid");
	if (len < 2 || (atr[0] != 0x3B && atr[0] != 0x3F))
		return;
	y_text(atr[1] >> 4, t, sizeof(t), 1);
	size_t o = strlen(t);
	snprintf(t + o, sizeof(t) - o, "; K=%u historical bytes", atr[1] & 15u);
	line(1, atr[1], "T0", 0, t);
	size_t pos = explain_groups(a, atr, len);
	if (a->expected_len == 0 || pos < a->hist_offset)
		return;
	if (a->nhist > 0)
		explain_hist(a->hist, a->nhist, pos);
	pos += a->nhist;
	if (a->tck != TC_ATR_TCK_ABSENT) {
		uint8_t x = 0;
		for (size_t i = 1; i < pos; i++)
			x ^= atr[i];
		if (a->tck == TC_ATR_TCK_OK)
			snprintf(t, sizeof(t), "correct (XOR of T0..TCK is 0)");
		else
			snprintf(t, sizeof(t), "WRONG: should be 0x%02X", x);
		line((unsigned)pos, atr[pos], "TCK", 0, t);
		pos++;
	}
	for (; pos < len; pos++)
		line((unsigned)pos, atr[pos], "extra", 0, "byte beyond the announced ATR");
}

static void print_protocols(const struct tc_atr *a, const char *sep)
{
	const char *s = "";
	for (unsigned t = 0; t < 15; t++)
		if ((a->protocols >> t) & 1u) {
			printf("%s%s%u", s, sep[0] == ',' ? "" : "T=", t);
			s = sep;
		}
}

static void print_figures(const struct tc_atr *a)
{
	printf("\nFi=%u Di=%u f(max)=%.1f MHz%s\n", a->Fi, a->Di, a->fmax_khz / 1000.0,
	       a->ta1_present ? "" : " (TA1 absent: defaults)");
	if (a->Fi && a->Di && a->fmax_khz) {
		double etu_us = (double)a->Fi * 1000.0 / ((double)a->Di * a->fmax_khz);
		printf("etu at f(max) = %.3f us (%.0f baud)\n", etu_us, 1e6 / etu_us);
		if (a->protocols & 1u) {
			uint64_t wt = tc_t0_wt_etu(a->WI, a->Di);
			printf("T=0 WT = %llu etu = %.1f ms at f(max) (WI=%u)\n",
			       (unsigned long long)wt, (double)wt * etu_us / 1000.0, a->WI);
		}
	}
	printf("N=%u (guard time %u etu)\nprotocols: ", a->N,
	       tc_guard_etu(a->N, a->first_protocol));
	print_protocols(a, " ");
	printf(" (first T=%u)\n", a->first_protocol);
	if (a->specific_mode)
		printf("mode: specific T=%u, %s, %s\n", a->specific_protocol,
		       a->can_change_mode ? "can change" : "cannot change",
		       a->implicit_params ? "implicit parameters" : "TA1 parameters");
	else
		printf("mode: negotiable (PPS possible; Fd/Dd until then)\n");
	if (a->has_class)
		printf("classes:%s%s%s; clock stop %s\n", (a->classes & 1u) ? " A" : "",
		       (a->classes & 2u) ? " B" : "", (a->classes & 4u) ? " C" : "",
		       tc_atr_clock_stop_name(a->clock_stop));
	else
		printf("classes: no class indicator (class A assumed by old cards)\n");
	if (a->protocols & 2u)
		printf("T=1: IFSC=%u BWI=%u CWI=%u EDC=%s\n", a->t1.ifsc, a->t1.bwi, a->t1.cwi,
		       a->t1.edc == TC_ATR_EDC_CRC ? "CRC" : "LRC");
	for (uint32_t bit = 1; bit <= TC_ATR_W_LAST; bit <<= 1)
		if (a->warnings & bit)
			printf("warning: %s\n", tc_atr_warning_text(bit));
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7F)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const struct tc_atr *a, const char *error)
{
	char hist[2 * TC_ATR_MAX_HIST + 1];

	printf("{\"valid\":%s,\"error\":", a->valid ? "true" : "false");
	if (error)
		json_str(error);
	else
		printf("null");
	printf(",\"convention\":\"%s\",\"protocols\":[", a->inverse ? "inverse" : "direct");
	print_protocols(a, ",");
	printf("],\"first_protocol\":%u,\"Fi\":%u,\"Di\":%u,\"fmax_khz\":%u,\"N\":%u,\"WI\":%u",
	       a->first_protocol, a->Fi, a->Di, a->fmax_khz, a->N, a->WI);
	printf(",\"specific_mode\":%s,\"tck\":\"%s\"", a->specific_mode ? "true" : "false",
	       a->tck == TC_ATR_TCK_OK    ? "ok"
	       : a->tck == TC_ATR_TCK_BAD ? "bad"
	                                  : "absent");
	tc_hex_encode(a->hist, a->nhist, 0, hist, sizeof(hist));
	printf(",\"historical\":\"%s\",\"classes\":[", hist);
	const char *s = "";
	for (unsigned c = 0; c < 3; c++)
		if ((a->classes >> c) & 1u) {
			printf("%s\"%c\"", s, 'A' + c);
			s = ",";
		}
	printf("],\"warnings\":[");
	s = "";
	for (uint32_t bit = 1; bit <= TC_ATR_W_LAST; bit <<= 1)
		if (a->warnings & bit) {
			printf("%s", s);
			json_str(tc_atr_warning_text(bit));
			s = ",";
		}
	printf("]}\n");
}

/* Joins the HEX words with spaces; returns 0 or 2 (usage). */
static int join_words(int argc, char **argv, int first, char *text, size_t cap)
{
	size_t o = 0;
	text[0] = '\0';
	for (int i = first; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (o + n + 2 > cap)
			return 2;
		memcpy(text + o, argv[i], n);
		o += n;
		text[o++] = ' ';
		text[o] = '\0';
	}
	return 0;
}

int cmd_atr(int argc, char **argv)
{
	char text[ATR_TEXT_MAX], err[96];
	uint8_t atr[ATR_IN_MAX];
	struct tc_atr a;
	bool json = false;
	int first = 1;

	for (; first < argc && argv[first][0] == '-' && argv[first][1] == '-'; first++) {
		if (strcmp(argv[first], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[first], "--json") != 0) {
			fprintf(stderr, "tokencard atr: unknown option '%s'\n", argv[first]);
			usage(stderr);
			return 2;
		}
		json = true;
	}
	if (first >= argc || join_words(argc, argv, first, text, sizeof(text)) != 0) {
		usage(stderr);
		return 2;
	}
	size_t bad = 0;
	int n = tc_hex_decode(text, atr, sizeof(atr), &bad);
	const char *error = NULL;
	if (n < 0) {
		snprintf(err, sizeof(err), "%s at character %zu of the hex input",
		         n == TC_E_OVERFLOW ? "too many bytes" : "not hexadecimal", bad + 1);
		error = err;
		(void)tc_atr_parse(atr, 0, &a);
	} else if (tc_atr_parse(atr, (size_t)n, &a) != 0) {
		error = a.why;
	}
	if (json) {
		print_json(&a, error);
	} else {
		if (n >= 0)
			explain(&a, atr, (size_t)n);
		if (a.valid)
			print_figures(&a);
		else
			fprintf(stderr, "tokencard atr: invalid ATR: %s\n", error);
	}
	return a.valid ? 0 : 1;
}
