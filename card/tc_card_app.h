/* tc_card_app.h: an application on the simulated card, as a table.
 *
 * The card OS (tc_card_os.h) keeps a list of applications, selects one by
 * AID (SELECT 00 A4 04 00 Lc AID) or by default after reset, and passes it
 * every command it does not handle itself (SELECT, GET RESPONSE). An
 * application is a const table of functions plus a private pointer given at
 * registration. Pure: no I/O. */
#ifndef TC_CARD_APP_H
#define TC_CARD_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_CARD_MAX_AID  16u
#define TC_CARD_MAX_RESP 65536u /* response data of one command (longer: refused, 6F00) */

/* A command APDU as the card sees it. */
struct tc_card_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* Nc bytes, NULL when none */
	size_t nc;
	size_t ne; /* P3 of a command without data (00 = 256); 0 when data came */
};

/* The answer. A response with data to a command that carried data (case 4)
 * is kept by the OS and announced with 61xx for GET RESPONSE; so is what a
 * case 2 answer has beyond the 256 bytes one TPDU carries. The struct is
 * large (64 KiB of data): the OS keeps one on the heap and passes it to
 * process(); an application or a test never needs one on its stack. The OS
 * clears len, sw and busy_etu before each process(), not data. */
struct tc_card_rapdu {
	uint8_t data[TC_CARD_MAX_RESP];
	size_t len;
	uint16_t sw;
	uint64_t busy_etu; /* working time before the answer (the card sends NULLs) */
};

struct tc_card_app {
	/* Short name for logs and `status` ("testapp"). Required. */
	const char *name;
	/* Application identifier matched by SELECT (exact match). Required. */
	const uint8_t *aid;
	size_t aid_len;
	/* Became the selected application (SELECT or reset). Optional. */
	void (*select)(void *priv);
	/* True when this header announces command data (case 3/4): P3 is Lc.
	 * The OS then fetches the data before calling process(). Required. */
	bool (*has_data)(void *priv, const uint8_t hdr[5]);
	/* Process one command; fill resp (sw always). Required. */
	void (*process)(void *priv, const struct tc_card_apdu *cmd, struct tc_card_rapdu *resp);
};

/* The reader test application (AID A0 00 00 00 18 FF), see app_test.c. */
const struct tc_card_app *tc_card_app_test(void);

#endif
