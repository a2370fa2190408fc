/* fuzz_card_wire.c: tokencard-sim's handling of an arbitrary stream of
 * reader messages. The first byte picks card faults and modes; the rest is
 * written to the card as the reader's bytes, in pieces, with the card's
 * answers drained between them. Must never crash, hang or grow. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tc_error.h"
#include "tc_sim.h"
#include "fuzz.h"

#define PIECE     512u
#define MAX_INPUT 16384u

static void drain(int fd)
{
	uint8_t buf[8192];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void configure(struct tc_sim_config *cfg, uint8_t sel)
{
	static const char *const sets[8] = {
	    "one_by_one=yes", "parity_tx_every=3", "parity_rx_every=4", "pps=no-pps1",
	    "remove_at=9",    "atr=3F 10 95",      "null_storm=5",      "proc_time=20000",
	};
	char why[TC_SIM_ERR_LEN];
	for (unsigned i = 0; i < 8; i++)
		if (sel & (1u << i))
			(void)tc_sim_config_set_arg(cfg, sets[i], why, sizeof(why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_sim_config cfg;
	struct tc_sim_log lg = {.level = -1, .out = stderr};
	char why[TC_SIM_ERR_LEN];
	int sv[2];

	if (size < 1 || size > MAX_INPUT)
		return 0;
	tc_sim_config_init(&cfg);
	configure(&cfg, data[0]);
	struct tc_sim *sim = tc_sim_new(&cfg, &lg, why, sizeof(why));
	if (!sim || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		tc_sim_free(sim);
		return 0;
	}
	tc_sim_set_no_pacing(sim, true);
	(void)fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	(void)tc_sim_attach(sim, sv[0], NULL);
	for (size_t off = 1; off < size; off += PIECE) {
		size_t n = size - off < PIECE ? size - off : PIECE;
		if (write(sv[1], data + off, n) != (ssize_t)n)
			break;
		int rc = tc_sim_pump(sim);
		drain(sv[1]);
		if (rc != TC_OK)
			break;
	}
	tc_sim_free(sim);
	close(sv[1]);
	return 0;
}
