/* fuzz_usb_name.c: the USB transport's DEVICENAME parser (what pcscd or a
 * reader.conf hands the driver) on arbitrary text. An accepted name has
 * its bus, address and interface in range or all three unset, and written
 * back in the libudev form it parses to the same values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tc_error.h"
#include "usb_int.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	char text[512], again[128];
	struct usb_name n, m;

	if (!quiet) {
		(void)setenv("TC_DRIVER_LOGLEVEL", "0", 1);
		quiet = true;
	}
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	int rc = usb_parse_name(text, &n);
	CHECK(rc == TC_OK || rc == TC_E_INVAL);
	if (rc != TC_OK)
		return 0;
	if (n.bus < 0) {
		CHECK(n.addr < 0 && n.ifnum < 0);
		snprintf(again, sizeof(again), "%04x/%04x", n.vid, n.pid);
	} else {
		CHECK(n.bus <= 255 && n.addr >= 0 && n.addr <= 255 && n.ifnum >= 0 &&
		      n.ifnum <= 255);
		snprintf(again, sizeof(again), "%04x/%04x:libudev:%d:/dev/bus/usb/%03d/%03d", n.vid,
		         n.pid, n.ifnum, n.bus, n.addr);
	}
	CHECK(usb_parse_name(again, &m) == TC_OK);
	CHECK(m.vid == n.vid && m.pid == n.pid && m.bus == n.bus && m.addr == n.addr &&
	      m.ifnum == n.ifnum);
	return 0;
}
