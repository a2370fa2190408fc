/* cmd_demo.c: "tokencard demo": a session from the driver's reader core to a
 * card on the loopback wire, shown step by step, then the wire decoded. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "demo.h"
#include "session.h"
#include "tc_error.h"
#include "tc_hex.h"

const struct demo_step demo_steps[] = {
    {"SELECT the reader test application", "00 A4 04 00 06 A0 00 00 00 18 FF"},
    {"case 1: no data either way", "80 30 00 00"},
    {"case 2: ask 8 bytes", "80 34 00 08 08"},
    {"case 2 with a wrong Le (6Cxx, re-issued by the driver)", "80 34 00 05 09"},
    {"case 3: send 8 bytes", "80 32 00 00 08 00 01 02 03 04 05 06 07"},
    {"case 4: send 4 bytes, get 6 (61xx, GET RESPONSE)", "80 36 00 06 04 0A 0B 0C 0D 06"},
    {"time request: NULL bytes while the card works", "80 38 00 02"},
    {"case 2: 256 bytes", "80 34 01 00 00"},
};
const size_t demo_nsteps = sizeof(demo_steps) / sizeof(demo_steps[0]);

static void usage(FILE *to)
{
	fprintf(to, "usage: tokencard demo [--socket PATH | --card 'COMMAND {}'] [--no-pps]\n"
	            "                      [--realtime] [--record FILE] [--no-trace]\n"
	            "Starts tokencard-sim (or COMMAND, {} = socket path) on a private socket,\n"
	            "powers the card up through the driver's reader core, negotiates PPS, runs\n"
	            "the reader test application and prints the decoded wire trace.\n");
}

static void print_hex(const char *prefix, const uint8_t *b, size_t n)
{
	char text[128];
	printf("%s%s\n", prefix, tc_hex_encode(b, n, ' ', text, sizeof(text)));
}

static int run_step(struct session *s, const struct demo_step *st)
{
	uint8_t apdu[300], resp[600];
	size_t rlen = 0;
	int n = tc_hex_decode(st->apdu, apdu, sizeof(apdu), NULL);
	if (n < 0)
		return n;
	printf("\n%s\n", st->what);
	print_hex("  > ", apdu, (size_t)n);
	int rc = session_apdu(s, apdu, (size_t)n, resp, sizeof(resp), &rlen);
	if (rc < 0) {
		printf("  ! %s: %s\n", tc_errname(rc), tc_slot_last_error(s->slot));
		return rc;
	}
	print_hex("  < ", resp, rlen);
	struct tc_exchange_stats xs;
	tc_slot_exchange_stats(s->slot, &xs);
	printf("    SW %02X%02X %s; %zu data bytes, %u TPDU(s), %.0f etu on the wire "
	       "(minimum %.0f, ratio %.2f)\n",
	       resp[rlen - 2], resp[rlen - 1], sw_meaning(resp[rlen - 2], resp[rlen - 1]), rlen - 2,
	       xs.tpdus, xs.etu_spent, xs.etu_min,
	       xs.etu_min > 0 ? xs.etu_spent / xs.etu_min : 0.0);
	return TC_OK;
}

static int power_and_pps(struct session *s)
{
	uint8_t atr[40];
	size_t n = 0;
	int rc = tc_slot_power_up(s->slot, false, atr, &n);
	if (rc < 0) {
		printf("power up failed: %s: %s\n", tc_errname(rc), tc_slot_last_error(s->slot));
		return rc;
	}
	uint8_t cls = tc_slot_class(s->slot);
	printf("\nPower up at class %c: ATR ", cls == 1 ? 'A' : cls == 2 ? 'B' : 'C');
	print_hex("", atr, n);
	printf("  ('tokencard atr' explains it byte by byte)\n");
	rc = tc_slot_set_protocol(s->slot, 0);
	if (rc < 0) {
		printf("protocol selection failed: %s: %s\n", tc_errname(rc),
		       tc_slot_last_error(s->slot));
		return rc;
	}
	unsigned F, D, khz;
	tc_slot_params(s->slot, &F, &D, &khz);
	printf("Protocol T=0 at Fi=%u Di=%u, clock %u kHz: %u baud\n", F, D, khz,
	       (unsigned)((unsigned long long)khz * 1000u * D / F));
	return TC_OK;
}

static int demo_direct(const struct session_opts *o)
{
	struct session s;
	if (session_start(&s, o) < 0)
		return TC_E_IO;
	printf("Card on the loopback wire at %s\n", s.socket);
	int rc = power_and_pps(&s);
	for (size_t i = 0; rc == TC_OK && i < demo_nsteps; i++)
		rc = run_step(&s, &demo_steps[i]);
	session_stop(&s);
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option long_opts[] = {{"socket", required_argument, 0, 's'},
	                                          {"card", required_argument, 0, 'c'},
	                                          {"no-pps", no_argument, 0, 'n'},
	                                          {"realtime", no_argument, 0, 'r'},
	                                          {"record", required_argument, 0, 'o'},
	                                          {"no-trace", no_argument, 0, 't'},
	                                          {"direct", no_argument, 0, 'd'},
	                                          {"help", no_argument, 0, 'h'},
	                                          {0, 0, 0, 0}};
	struct session_opts o = {.argv0 = argv[0]};
	bool trace = true, direct = false;
	char rec[300] = "";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'c':
			o.card_cmd = optarg;
			break;
		case 'n':
			o.no_pps = true;
			break;
		case 'r':
			o.realtime = true;
			break;
		case 'o':
			o.record = optarg;
			break;
		case 't':
			trace = false;
			break;
		case 'd':
			direct = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.record && trace) {
		snprintf(rec, sizeof(rec), "/tmp/tokencard-demo.%ld.wire", (long)getpid());
		o.record = rec;
	}
	int rc = direct ? demo_direct(&o) : demo_pcsc(o.record, o.card_cmd);
	if (trace && o.record) {
		char name[] = "trace", path[320];
		/* The rig records reader N's wire to RECORD.N. */
		snprintf(path, sizeof(path), direct ? "%s" : "%s.0", o.record);
		printf("\n== The wire, decoded (tokencard trace %s)\n", path);
		fflush(stdout);
		char *targv[] = {name, path, NULL};
		(void)cmd_trace(2, targv);
		if (rec[0])
			(void)unlink(path);
	}
	return rc == TC_OK ? 0 : 1;
}
