/* cmd_pcsc_apdu.c: "tokencard apdu": send command APDUs given in hex through
 * PC/SC and print each response with its status word explained. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_pcsc.h"
#include "commands.h"
#include "tc_apdu.h"
#include "tc_error.h"
#include "tc_hex.h"
#include "tc_sw.h"

#define APDU_MAX_COMMANDS 256
#define APDU_LINE_BYTES   16

struct apdu_cmd {
	uint8_t *bytes;
	size_t len;
	const char *why; /* NULL, or why tc_apdu_parse() refused it (--force) */
};

struct apdu_opts {
	const char *reader;
	DWORD protocols;
	int force;
	struct apdu_cmd cmd[APDU_MAX_COMMANDS];
	size_t n;
};

static void apdu_usage(FILE *to)
{
	fprintf(to,
	        "usage: tokencard apdu [-r READER] [-p t0|t1|any] [--force] HEX...\n"
	        "Connect to the card in READER (an index from 'tokencard readers', a name,\n"
	        "or part of one; default: the first reader with a card), send each command\n"
	        "APDU (hex; spaces and ':' allowed inside one argument, e.g. '80 34 00 10 10')\n"
	        "and print the response data and the status word with its ISO 7816-4\n"
	        "meaning. The protocol defaults to any the card offers. --force sends an\n"
	        "APDU that is not well formed (lengths that disagree, INS 6X/9X) anyway.\n"
	        "Exit status: 0 all exchanged (whatever the status words), 1 PC/SC error,\n"
	        "2 usage error or bad hex.\n");
}

/* Decode and check one argument into c; 0, or 2 after a message. */
static int parse_one(const char *arg, int index, int force, struct apdu_cmd *c)
{
	size_t bad = 0;
	struct tc_apdu parsed;
	c->bytes = malloc(TC_APDU_MAX_LEN);
	if (!c->bytes) {
		fprintf(stderr, "tokencard apdu: out of memory\n");
		return 2;
	}
	int n = tc_hex_decode(arg, c->bytes, TC_APDU_MAX_LEN, &bad);
	if (n < 0) {
		fprintf(stderr, "tokencard apdu: APDU %d is not hex: %s at character %zu of '%s'\n",
		        index, n == TC_E_OVERFLOW ? "too long" : "bad digit or odd count", bad + 1,
		        arg);
		return 2;
	}
	c->len = (size_t)n;
	uint8_t *fit = realloc(c->bytes, c->len ? c->len : 1);
	if (fit)
		c->bytes = fit;
	if (tc_apdu_parse(c->bytes, c->len, &parsed, &c->why) == TC_OK)
		c->why = NULL;
	else if (!force || c->len < 4) {
		fprintf(stderr, "tokencard apdu: APDU %d ('%s') is not a command APDU: %s%s\n",
		        index, arg, c->why, c->len < 4 ? "" : " (--force sends it anyway)");
		return 2;
	}
	return 0;
}

static int parse_protocol(const char *s, DWORD *out)
{
	if (strcmp(s, "t0") == 0 || strcmp(s, "T0") == 0 || strcmp(s, "0") == 0)
		*out = SCARD_PROTOCOL_T0;
	else if (strcmp(s, "t1") == 0 || strcmp(s, "T1") == 0 || strcmp(s, "1") == 0)
		*out = SCARD_PROTOCOL_T1;
	else if (strcmp(s, "any") == 0)
		*out = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
	else
		return -1;
	return 0;
}

/* 0 to go on, 1 for --help, 2 for a usage error. */
static int parse_args(int argc, char **argv, struct apdu_opts *o)
{
	static const struct option opts[] = {{"reader", required_argument, 0, 'r'},
	                                     {"protocol", required_argument, 0, 'p'},
	                                     {"force", no_argument, 0, 'f'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	int c;
	o->protocols = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+r:p:fh", opts, NULL)) != -1) {
		if (c == 'r')
			o->reader = optarg;
		else if (c == 'f')
			o->force = 1;
		else if (c == 'h')
			return 1;
		else if (c != 'p' || parse_protocol(optarg, &o->protocols) != 0)
			return 2;
	}
	if (optind >= argc || argc - optind > APDU_MAX_COMMANDS) {
		fprintf(stderr, "tokencard apdu: give 1 to %d APDUs\n", APDU_MAX_COMMANDS);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (parse_one(argv[i], i - optind + 1, o->force, &o->cmd[o->n++]) != 0)
			return 3;
	return 0;
}

/* The first reader with a card, else the first reader. */
static const char *default_reader(SCARDCONTEXT ctx, const struct pcsc_readers *r)
{
	SCARD_READERSTATE st[PCSC_MAX_READERS];
	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < r->n; i++)
		st[i].szReader = r->name[i];
	LONG rv = SCardGetStatusChange(ctx, 0, st, (DWORD)r->n);
	for (size_t i = 0; rv == SCARD_S_SUCCESS && i < r->n; i++)
		if (st[i].dwEventState & SCARD_STATE_PRESENT)
			return r->name[i];
	return r->n ? r->name[0] : NULL;
}

static void print_hex_lines(const char *first, const uint8_t *b, size_t n)
{
	char hex[3 * APDU_LINE_BYTES + 8];
	for (size_t off = 0; off < n; off += APDU_LINE_BYTES) {
		size_t k = n - off < APDU_LINE_BYTES ? n - off : APDU_LINE_BYTES;
		printf("%s %s\n", off ? " " : first,
		       tc_hex_encode(b + off, k, ' ', hex, sizeof(hex)));
	}
}

static void print_command(const struct apdu_cmd *c)
{
	struct tc_apdu a;
	print_hex_lines(">", c->bytes, c->len);
	if (c->why)
		printf("  (not well formed: %s; sent as given)\n", c->why);
	else if (tc_apdu_parse(c->bytes, c->len, &a, NULL) == TC_OK)
		printf("  (case %s, Nc %zu, Ne %zu)\n", tc_apdu_case_name(a.kind), a.nc, a.ne);
}

static int exchange(SCARDHANDLE card, DWORD proto, const struct apdu_cmd *c, uint8_t *resp)
{
	char meaning[TC_SW_MEANING_MAX];
	DWORD rlen = TC_APDU_MAX_RESP;
	const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
	print_command(c);
	LONG rv = SCardTransmit(card, pci, c->bytes, (DWORD)c->len, NULL, resp, &rlen);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report("apdu", "SCardTransmit", rv);
		return 1;
	}
	if (rlen < 2) {
		fprintf(stderr, "tokencard apdu: a response of %lu bytes, without a status word\n",
		        (unsigned long)rlen);
		return 1;
	}
	if (rlen > 2)
		print_hex_lines("<", resp, rlen - 2);
	uint16_t sw = (uint16_t)tc_sw_of(resp, rlen);
	printf("  SW %04X: %s (%lu data bytes)\n", sw, tc_sw_meaning(sw, meaning, sizeof(meaning)),
	       (unsigned long)rlen - 2);
	return 0;
}

static int run_session(SCARDCONTEXT ctx, const struct apdu_opts *o)
{
	struct pcsc_readers r;
	SCARDHANDLE card;
	DWORD proto = 0;
	LONG rv = pcsc_list(ctx, &r);
	if (rv != SCARD_S_SUCCESS) {
		pcsc_report("apdu", "SCardListReaders", rv);
		return 1;
	}
	const char *name = o->reader ? pcsc_pick(&r, o->reader, "apdu") : default_reader(ctx, &r);
	if (!name) {
		if (!o->reader)
			fprintf(stderr, "tokencard apdu: no PC/SC reader\n");
		return 1;
	}
	rv = SCardConnect(ctx, name, SCARD_SHARE_SHARED, o->protocols, &card, &proto);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "tokencard apdu: reader '%s':\n", name);
		pcsc_report("apdu", "SCardConnect", rv);
		return 1;
	}
	printf("reader: %s (T=%d)\n", name, proto == SCARD_PROTOCOL_T1 ? 1 : 0);
	uint8_t *resp = malloc(TC_APDU_MAX_RESP);
	int rc = resp ? 0 : 1;
	for (size_t i = 0; rc == 0 && i < o->n; i++)
		rc = exchange(card, proto, &o->cmd[i], resp);
	free(resp);
	rv = SCardDisconnect(card, SCARD_LEAVE_CARD);
	if (rv != SCARD_S_SUCCESS && rc == 0) {
		pcsc_report("apdu", "SCardDisconnect", rv);
		rc = 1;
	}
	return rc;
}

int cmd_apdu(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	struct apdu_opts *o = calloc(1, sizeof(*o));
	if (!o) {
		fprintf(stderr, "tokencard apdu: out of memory\n");
		return 1;
	}
	int rc = parse_args(argc, argv, o);
	if (rc == 1 || rc == 2)
		apdu_usage(rc == 1 ? stdout : stderr);
	if (rc == 0 && pcsc_open("apdu", &ctx) != 0) {
		rc = 1;
	} else if (rc == 0) {
		rc = run_session(ctx, o);
		(void)SCardReleaseContext(ctx);
	} else {
		rc = rc == 1 ? 0 : 2;
	}
	for (size_t i = 0; i < o->n; i++)
		free(o->cmd[i].bytes);
	free(o);
	return rc;
}
