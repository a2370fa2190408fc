/* cmd_rig.c: "tokencard rig": a private pcscd with loopback readers and
 * simulated cards, for driver and card engineers, tests and benchmarks. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "rig.h"

static void usage(FILE *to)
{
	fprintf(
	    to,
	    "usage: tokencard rig start [--readers N] [--card 'COMMAND {}' | --socket PATH]...\n"
	    "                           [--driver LIB] [--reader-conf FILE]... [--record FILE]\n"
	    "                           [--owner PID] [--debug] [--dir DIR]\n"
	    "                           [--token-card [STORE]]\n"
	    "       tokencard rig stop [--dir DIR]\n"
	    "       tokencard rig insert|remove N [--dir DIR]\n"
	    "       tokencard rig card N 'LINE' [--dir DIR]   (any control line, e.g. 'set "
	    "mute=1')\n"
	    "       tokencard rig restart-pcscd [--dir DIR]\n"
	    "start runs N loopback readers (default 1), each with tokencard-sim or COMMAND\n"
	    "({} = the card's socket), under a private pcscd that never touches a system\n"
	    "one, waits until the readers are up and prints the PCSCLITE_CSOCK_NAME=...\n"
	    "line to export. DIR defaults to $TC_RIG_DIR or /tmp/tokencard-rig-UID.\n"
	    "--owner PID stops the rig when that process exits. --token-card runs the\n"
	    "deposit-token application on every card the rig starts, its memory in STORE\n"
	    "(reader N > 0: STORE.N), by default DIR/tokenN.mem (docs/token-card.md).\n");
}

static int parse_start(int argc, char **argv, struct rig_opts *o)
{
	static const struct option opts[] = {{"readers", required_argument, 0, 'n'},
	                                     {"card", required_argument, 0, 'c'},
	                                     {"socket", required_argument, 0, 's'},
	                                     {"driver", required_argument, 0, 'l'},
	                                     {"reader-conf", required_argument, 0, 'x'},
	                                     {"record", required_argument, 0, 'o'},
	                                     {"owner", required_argument, 0, 'p'},
	                                     {"debug", no_argument, 0, 'g'},
	                                     {"dir", required_argument, 0, 'd'},
	                                     {"token-card", optional_argument, 0, 't'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	int c;
	o->readers = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->readers = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->card = optarg;
			break;
		case 's':
			if (o->nsockets >= RIG_MAX_READERS)
				return 2;
			o->sockets[o->nsockets++] = optarg;
			break;
		case 'l':
			o->driver = optarg;
			break;
		case 'x':
			if (o->nextra >= RIG_MAX_EXTRA_CONF)
				return 2;
			o->extra_conf[o->nextra++] = optarg;
			break;
		case 'o':
			o->record = optarg;
			break;
		case 'p':
			o->owner = atoi(optarg);
			break;
		case 'g':
			o->debug = true;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 't': /* --token-card STORE, --token-card=STORE or --token-card alone */
			o->token_card = true;
			o->token_store = optarg;
			if (!optarg && optind < argc && argv[optind][0] != '-')
				o->token_store = argv[optind++];
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tokencard rig: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o->readers > RIG_MAX_READERS) {
		fprintf(stderr, "tokencard rig: at most %d readers\n", RIG_MAX_READERS);
		return 2;
	}
	return 0;
}

/* The --dir option of the other subcommands, anywhere after the verb. */
static const char *find_dir(int argc, char **argv)
{
	for (int i = 2; i + 1 < argc; i++)
		if (strcmp(argv[i], "--dir") == 0)
			return argv[i + 1];
	return NULL;
}

static int card_cmd(int argc, char **argv, const char *dir, const char *line)
{
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
	if (!line) {
		if (argc < 4) {
			usage(stderr);
			return 2;
		}
		line = argv[3];
	}
	return rig_card_command(dir, n, line) == 0 ? 0 : 1;
}

int cmd_rig(int argc, char **argv)
{
	char dir[PATH_MAX];
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "start") == 0) {
		struct rig_opts o = {0};
		int rc = parse_start(argc - 1, argv + 1, &o);
		if (rc)
			return rc == 1 ? 0 : rc;
		return rig_start(&o) == 0 ? 0 : 1;
	}
	rig_dir(find_dir(argc, argv), dir, sizeof(dir));
	if (strcmp(verb, "stop") == 0)
		return rig_stop(dir) == 0 ? 0 : 1;
	if (strcmp(verb, "restart-pcscd") == 0)
		return rig_restart_pcscd(dir) == 0 ? 0 : 1;
	if (strcmp(verb, "insert") == 0 || strcmp(verb, "remove") == 0)
		return card_cmd(argc, argv, dir, verb);
	if (strcmp(verb, "card") == 0)
		return card_cmd(argc, argv, dir, NULL);
	fprintf(stderr, "tokencard rig: unknown subcommand '%s'\n", verb);
	usage(stderr);
	return 2;
}
