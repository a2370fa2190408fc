/* tc_error.c: names and messages of enum tc_err. */
#include "tc_error.h"

struct tc_err_entry {
	const char *name;
	const char *msg;
};

/* Indexed by -err. */
static const struct tc_err_entry entries[] = {
    [0] = {"TC_OK", "success"},
    [-TC_E_INVAL] = {"TC_E_INVAL", "invalid argument"},
    [-TC_E_NOMEM] = {"TC_E_NOMEM", "out of memory"},
    [-TC_E_SHORT] = {"TC_E_SHORT", "input ends too early"},
    [-TC_E_LONG] = {"TC_E_LONG", "input too long"},
    [-TC_E_FORMAT] = {"TC_E_FORMAT", "malformed input"},
    [-TC_E_CHECKSUM] = {"TC_E_CHECKSUM", "check value wrong"},
    [-TC_E_UNSUPPORTED] = {"TC_E_UNSUPPORTED", "not supported"},
    [-TC_E_TIMEOUT] = {"TC_E_TIMEOUT", "waiting time expired"},
    [-TC_E_PARITY] = {"TC_E_PARITY", "parity errors beyond the repetition limit"},
    [-TC_E_PROTOCOL] = {"TC_E_PROTOCOL", "protocol error"},
    [-TC_E_NO_CARD] = {"TC_E_NO_CARD", "no card present"},
    [-TC_E_MUTE] = {"TC_E_MUTE", "card mute: no answer to reset"},
    [-TC_E_IO] = {"TC_E_IO", "transport input/output error"},
    [-TC_E_PPS_FAILED] = {"TC_E_PPS_FAILED", "PPS refused or answered wrongly"},
    [-TC_E_CLOSED] = {"TC_E_CLOSED", "peer closed the link"},
    [-TC_E_LIMIT] = {"TC_E_LIMIT", "a fixed limit was reached"},
    [-TC_E_STATE] = {"TC_E_STATE", "not valid in the current state"},
    [-TC_E_CLASS] = {"TC_E_CLASS", "no voltage class acceptable to card and reader"},
    [-TC_E_OVERFLOW] = {"TC_E_OVERFLOW", "result does not fit the buffer"},
    [-TC_E_CRYPTO] = {"TC_E_CRYPTO", "cryptographic library failure"},
    [-TC_E_TORN] = {"TC_E_TORN", "card memory lost power during a write"},
    [-TC_E_CORRUPT] = {"TC_E_CORRUPT", "stored data corrupt"},
};

static const struct tc_err_entry *lookup(int err)
{
	if (err > 0 || err < TC_ERR_LAST)
		return 0;
	return &entries[-err];
}

const char *tc_errname(int err)
{
	const struct tc_err_entry *e = lookup(err);
	return e ? e->name : "TC_E_UNKNOWN";
}

const char *tc_strerror(int err)
{
	const struct tc_err_entry *e = lookup(err);
	return e ? e->msg : "unknown error";
}
