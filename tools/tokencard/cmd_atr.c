/* cmd_atr.c: placeholder until the command is written; reports that it is missing. */
#include <stdio.h>

#include "commands.h"

int cmd_atr(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tokencard atr: not implemented yet\n");
	return 2;
}
