/* fuzz.h: what every fuzz target shares: the libFuzzer entry point it
 * defines, and CHECK, which stops the run on a broken property. */
#ifndef TOKENCARD_FUZZ_H
#define TOKENCARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#endif
