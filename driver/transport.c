/* transport.c: the table of transports, chosen by DEVICENAME prefix. */
#include <string.h>

#include "transport.h"

static const struct tc_transport *const transports[] = {
    &tc_transport_loopback,
    &tc_transport_usb,
    &tc_transport_serial,
};

const struct tc_transport *tc_transport_find(const char *devicename, const char **endpoint)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		size_t n = strlen(transports[i]->name);
		if (strncmp(devicename, transports[i]->name, n) == 0 && devicename[n] == ':') {
			*endpoint = devicename + n + 1;
			return transports[i];
		}
	}
	return NULL;
}
