/* main.c: tokencard, the command-line tool: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"atr", cmd_atr, "explain an Answer to Reset byte by byte (--json for JSON)"},
    {"trace", cmd_trace, "decode a recorded loopback wire session"},
    {"demo", cmd_demo, "run a session against tokencard-sim on the loopback wire"},
    {"exercise", cmd_exercise, "run the reader test application, every case and length"},
    {"rig", cmd_rig, "a private pcscd with loopback readers and simulated cards"},
    {"readers", cmd_readers, "list the PC/SC readers, their cards and ATRs"},
    {"apdu", cmd_apdu, "send APDUs through PC/SC, explain the status words"},
    {"watch", cmd_watch, "print card and reader events as they happen"},
    {"card", cmd_card, "the deposit-token card: personalise, info, verify, log"},
};

static void usage(FILE *to)
{
	fprintf(to, "usage: tokencard COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(to, "\n'tokencard COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tokencard: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
