/* fuzz_trace.c: the wire record decoder of "tokencard trace" (both views)
 * on arbitrary bytes. Seeds: real recordings (tokencard-sim, the driver, the
 * Python card) and a few cut or damaged ones. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace.h"
#include "fuzz.h"

static void sink(void *ctx, const char *line)
{
	size_t *total = ctx;
	*total += strlen(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total = 0;
	(void)trace_print(data, size, TRACE_SESSION, sink, &total);
	(void)trace_print(data, size, TRACE_RAW, sink, &total);
	(void)trace_print(data, size, TRACE_APDU, sink, &total);
	/* Without the magic, the same bytes as messages. */
	if (size < 4096) {
		static uint8_t buf[4096 + TC_WIRE_RECORD_MAGIC_LEN];
		memcpy(buf, TC_WIRE_RECORD_MAGIC, TC_WIRE_RECORD_MAGIC_LEN);
		memcpy(buf + TC_WIRE_RECORD_MAGIC_LEN, data, size);
		(void)trace_print(buf, size + TC_WIRE_RECORD_MAGIC_LEN, TRACE_SESSION, sink,
		                  &total);
		(void)trace_print(buf, size + TC_WIRE_RECORD_MAGIC_LEN, TRACE_APDU, sink, &total);
	}
	return 0;
}
