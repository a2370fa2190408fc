/* fuzz_card_holder.c: the holder file and key file parsers of `tokencard
 * card personalise` (tools/tokencard/cmd_card_holder.c) on arbitrary bytes:
 * no crash, no read beyond the input, an error always has a message, and a
 * holder that parses passes the token's own check. The first byte chooses
 * the parser (even: holder file, odd: key file). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmd_card.h"
#include "tc_error.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CARD_ERR_LEN];
	struct card_holder h;
	struct card_keys k;

	if (size == 0)
		return 0;
	/* an exact copy, so that ASan sees any read past the end */
	char *text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	for (size_t i = 1; i < size; i++)
		text[i - 1] = (char)data[i];
	err[0] = '\0';
	if (data[0] & 1) {
		if (card_keys_parse(text, size - 1, "keys", &k, err, sizeof(err)) != TC_OK &&
		    !err[0])
			abort();
	} else if (card_holder_parse(text, size - 1, "holder", &h, err, sizeof(err)) == TC_OK) {
		if (tc_token_check(&h.token, NULL, 0) != TC_OK || h.card_id_len == 0 || !h.pin[0])
			abort();
	} else if (!err[0]) {
		abort();
	}
	free(text);
	return 0;
}
