/* fuzz_serial_opts.c: the serial endpoint parser (driver/serial_opts.c), the
 * DEVICENAME after "serial:" as reader.conf gives it, and the PARMRK parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serial_int.h"
#include "tc_error.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct tc_serial_opts o;
	char why[200];
	int rc = tc_serial_parse_opts(s, &o, why, sizeof(why));
	if (rc == TC_OK && (o.path[0] != '/' || o.clock_hz < 1000000 || o.cls < 1 || o.cls > 3))
		abort();
	if (rc != TC_OK && (rc != TC_E_FORMAT || why[0] == '\0'))
		abort();
	struct tc_serial_rxp p = {0};
	size_t out = 0;
	for (size_t i = 0; i < size; i++) {
		uint8_t b;
		bool e;
		out += (size_t)tc_serial_rxp_feed(&p, data[i], &b, &e);
		out += (size_t)tc_serial_rxp_spare(&p, &b, &e);
	}
	if (out > size)
		abort(); /* never more characters than bytes */
	free(s);
	return 0;
}
