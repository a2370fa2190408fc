/* cmd_trace.c: placeholder until the command is written; reports that it is missing. */
#include <stdio.h>

#include "commands.h"

int cmd_trace(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tokencard trace: not implemented yet\n");
	return 2;
}
