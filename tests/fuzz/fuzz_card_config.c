/* fuzz_card_config.c: the tokencard-sim configuration parser on arbitrary
 * text, then the engine configuration built from what was accepted. */
#include <stddef.h>
#include <stdint.h>

#include "sim_config.h"
#include "tc_error.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_sim_config c;
	struct tc_t0c_config e;
	char err[TC_SIM_ERR_LEN];

	if (size > 65536)
		return 0;
	tc_sim_config_init(&c);
	(void)tc_sim_config_parse(&c, (const char *)data, size, "fuzz", err, sizeof(err));
	(void)tc_sim_config_engine(&c, &e, err, sizeof(err));
	return 0;
}
