/* bench_card.c: the benchmark cards' answers (see bench_card.h). */
#include "bench_card.h"

#define BENCH_MAX_LEN 256u

const uint8_t bench_card_atr[4] = {0x3B, 0x02, 0x14, 0x50};

static size_t put_sw(uint8_t *rsp, size_t at, unsigned sw)
{
	rsp[at] = (uint8_t)(sw >> 8);
	rsp[at + 1] = (uint8_t)sw;
	return at + 2;
}

static size_t pattern(const uint8_t *cmd, uint8_t *rsp)
{
	size_t want = (size_t)cmd[2] << 8 | cmd[3];
	size_t le = cmd[4] ? cmd[4] : BENCH_MAX_LEN;

	if (want > BENCH_MAX_LEN)
		return put_sw(rsp, 0, 0x6A86);
	if (le != want)
		return put_sw(rsp, 0, 0x6C00 | (want & 0xFF));
	for (size_t i = 0; i < want; i++)
		rsp[i] = (uint8_t)i;
	return put_sw(rsp, want, 0x9000);
}

size_t bench_card_answer(const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap)
{
	if (cap < BENCH_MAX_LEN + 2)
		return 0;
	if (n < 4)
		return put_sw(rsp, 0, 0x6700);
	if (cmd[0] == 0x00 && cmd[1] == 0xA4)
		return put_sw(rsp, 0, 0x9000);
	if (cmd[0] != 0x80)
		return put_sw(rsp, 0, 0x6E00);
	if (cmd[1] != 0x34)
		return put_sw(rsp, 0, 0x6D00);
	if (n != 5)
		return put_sw(rsp, 0, 0x6700);
	return pattern(cmd, rsp);
}
