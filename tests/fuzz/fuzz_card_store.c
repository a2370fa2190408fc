/* fuzz_card_store.c: the card memory loader on arbitrary file contents.
 *
 * The input is the whole memory file. It is parsed for the image size its
 * length implies (so well-formed inputs reach the slot checks) and for two
 * fixed sizes (so the length checks are hit); then the same bytes are written
 * to a scratch file and opened through tc_store_open_msg(), and an accepted
 * store takes one commit and is reopened. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tc_card_store.h"
#include "tc_error.h"
#include "fuzz.h"

#define FUZZ_MAX_IMG 4096u

static void parse_as(const uint8_t *data, size_t size, size_t img_size)
{
	static uint8_t img[FUZZ_MAX_IMG];
	char err[TC_STORE_ERR_LEN];
	uint64_t seq = 0;
	int slot = -1;

	if (img_size == 0 || img_size > FUZZ_MAX_IMG)
		return;
	if (tc_store_parse(data, size, img_size, img, &seq, &slot, err, sizeof(err)) == TC_OK) {
		if (seq == 0 || (slot != 0 && slot != 1))
			abort();
	} else if (err[0] == '\0') {
		abort(); /* every refusal says why */
	}
}

/* A scratch file for this process, made once. */
static const char *scratch(void)
{
	static char path[64];

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_card_store.%ld.mem", (long)getpid());
	return path;
}

static void open_as(const uint8_t *data, size_t size, size_t img_size)
{
	static uint8_t img[FUZZ_MAX_IMG];
	struct tc_store *s = NULL;
	char err[TC_STORE_ERR_LEN];
	FILE *f = fopen(scratch(), "wb");

	if (!f)
		return;
	if (size)
		(void)fwrite(data, 1, size, f);
	fclose(f);
	if (tc_store_open_msg(scratch(), img_size, &s, err, sizeof(err)) != TC_OK)
		return;
	if (tc_store_read(s, img, img_size) != TC_OK)
		abort();
	img[0] ^= 1;
	if (tc_store_commit(s, img, img_size) != TC_OK)
		abort();
	tc_store_close(s);
	if (tc_store_open_msg(scratch(), img_size, &s, err, sizeof(err)) != TC_OK)
		abort(); /* what we committed must load */
	tc_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t implied = size / 2 > TC_STORE_HDR_LEN ? size / 2 - TC_STORE_HDR_LEN : 0;

	if (size > 2 * (TC_STORE_HDR_LEN + FUZZ_MAX_IMG))
		return 0;
	parse_as(data, size, implied);
	parse_as(data, size, 16);
	parse_as(data, size, 2048);
	if (implied)
		open_as(data, size, implied);
	(void)unlink(scratch());
	return 0;
}
