/* test_pcsc_multi.c: two loopback readers under one pcscd, one thread per
 * reader (each with its own PC/SC context) hammering the reader test
 * application's cases 1-4 at the same time; every answer must be right. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <winscard.h>

#include "pcsc_rig.h"

#define READERS 2u
#define ROUNDS  3u /* rounds over every length */

struct worker {
	unsigned reader;
	pthread_t thread;
	unsigned apdus;
	int failed;
	char why[PCSC_RIG_WHY_LEN];
	long long ms;
};

static int group_setup(void **state)
{
	const struct pcsc_rig_opts o = {.readers = READERS};
	struct pcsc_rig *rig = pcsc_rig_start(&o);
	*state = rig;
	return rig ? 0 : -1;
}

static int group_teardown(void **state)
{
	pcsc_rig_stop(*state);
	return 0;
}

/* Each worker uses lengths in its own order, so the two wires differ. */
static int hammer(struct worker *w, SCARDHANDLE h)
{
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned i = 0; i < 256; i++) {
			unsigned len = w->reader == 0 ? i + 1 : 256 - i;
			int kase = (int)((i + round + w->reader) % 4) + 1;
			if (kase == 3 && len == 256)
				len = 255;
			if (testapp_case(h, kase, len, w->why, sizeof(w->why)) != 0)
				return -1;
			w->apdus++;
		}
	}
	return testapp_time(h, 0x02, w->why, sizeof(w->why));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, st;
	char reader[PCSC_READER_NAME_LEN];
	long long t0 = pcsc_now_ms();
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);

	w->failed = 1;
	if (rv != SCARD_S_SUCCESS) {
		snprintf(w->why, sizeof(w->why), "SCardEstablishContext: %s",
		         pcsc_stringify_error(rv));
		return NULL;
	}
	rv = pcsc_reader_name(ctx, w->reader, reader, sizeof(reader));
	if (rv == SCARD_S_SUCCESS)
		rv = pcsc_wait_state(ctx, reader, SCARD_STATE_PRESENT, 2000, &st);
	if (rv == SCARD_S_SUCCESS)
		rv =
		    SCardConnect(ctx, reader, SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0, &h, &proto);
	if (rv != SCARD_S_SUCCESS) {
		snprintf(w->why, sizeof(w->why), "reader %u: %s", w->reader,
		         pcsc_stringify_error(rv));
	} else {
		if (testapp_select(h, w->why, sizeof(w->why)) == 0 && hammer(w, h) == 0)
			w->failed = 0;
		(void)SCardDisconnect(h, SCARD_RESET_CARD);
	}
	(void)SCardReleaseContext(ctx);
	w->ms = pcsc_now_ms() - t0;
	return NULL;
}

static void test_pcsc_two_readers_at_once(void **state)
{
	struct worker w[READERS];
	(void)state;

	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < READERS; i++) {
		w[i].reader = i;
		assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < READERS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (unsigned i = 0; i < READERS; i++) {
		print_message("reader %u: %u APDUs in %lld ms%s%s\n", i, w[i].apdus, w[i].ms,
		              w[i].failed ? ": " : "", w[i].failed ? w[i].why : "");
		if (w[i].failed)
			fail_msg("reader %u: %s", i, w[i].why);
		assert_int_equal(w[i].apdus, ROUNDS * 256);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcsc_two_readers_at_once),
	};
	return cmocka_run_group_tests_name("pcsc_multi", tests, group_setup, group_teardown);
}
