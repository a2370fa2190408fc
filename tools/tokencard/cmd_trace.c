/* cmd_trace.c: "tokencard trace FILE": a recorded loopback wire session
 * (docs/wire.md section 7) decoded for a driver engineer. The decoding is
 * trace_decode.c / trace_session.c (pure); this file reads the file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tc_error.h"
#include "trace.h"

#define TRACE_MAX_FILE (512u * 1024u * 1024u)

static void usage(FILE *to)
{
	fprintf(to, "usage: tokencard trace [--raw | --apdu] FILE\n"
	            "Decodes a loopback wire record (written by 'tokencard demo --record F',\n"
	            "'tokencard exercise --record F', 'tokencard-sim --record F', the driver's\n"
	            ":record=F endpoint option or TC_WIRE_RECORD=F).\n"
	            "  default  the session: power, RST, the ATR explained, PPS, T=0 TPDUs with\n"
	            "           procedure bytes, data and status words, error signals, removal;\n"
	            "           columns: time in clock cycles, in us, etu since the line before\n"
	            "  --raw    every message: offset, direction, seq, ack, time, fields;\n"
	            "           [stale] marks what its receiver dropped, [rejected] a character\n"
	            "           the receiver signalled\n"
	            "  --apdu   the APDUs: TPDUs merged back as T=0 carries them (6Cxx\n"
	            "           re-issue, GET RESPONSE after 61xx or a case 4 9000,\n"
	            "           ENVELOPE pieces), each with its response and status word\n"
	            "Exit status: 0, 1 for a malformed or truncated file (what precedes the\n"
	            "fault is printed, then the offset and the reason), 2 usage or I/O error.\n");
}

static void emit_line(void *ctx, const char *line)
{
	fprintf((FILE *)ctx, "%s\n", line);
}

/* Read the whole file; NULL with a message on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "tokencard trace: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *p = ncap <= TRACE_MAX_FILE ? realloc(buf, ncap) : NULL;
			if (!p) {
				fprintf(stderr,
				        "tokencard trace: %s: larger than %u MiB or no memory\n",
				        path, TRACE_MAX_FILE >> 20);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
			cap = ncap;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "tokencard trace: %s: read error\n", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option long_opts[] = {{"raw", no_argument, 0, 'r'},
	                                          {"apdu", no_argument, 0, 'a'},
	                                          {"help", no_argument, 0, 'h'},
	                                          {0, 0, 0, 0}};
	enum trace_view view = TRACE_SESSION;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hra", long_opts, NULL)) != -1) {
		if (c == 'r') {
			view = TRACE_RAW;
		} else if (c == 'a') {
			view = TRACE_APDU;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	size_t len = 0;
	uint8_t *buf = read_file(path, &len);
	if (!buf)
		return 2;
	printf("tokencard trace %s (%zu bytes)\n", path, len);
	int rc = trace_print(buf, len, view, emit_line, stdout);
	free(buf);
	fflush(stdout);
	if (rc < 0) {
		fprintf(stderr, "tokencard trace: %s: malformed record (%s); see the last line\n",
		        path, tc_errname(rc));
		return 1;
	}
	return 0;
}
