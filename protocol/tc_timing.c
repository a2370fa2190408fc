/* tc_timing.c: ISO/IEC 7816-3 transmission factors and timings. */
#include "tc_timing.h"

static const unsigned fi_table[16] = {372, 372, 558, 744,  1116, 1488, 1860, 0,
                                      0,   512, 768, 1024, 1536, 2048, 0,    0};
static const unsigned fmax_table[16] = {4000, 5000, 6000, 8000,  12000, 16000, 20000, 0,
                                        0,    5000, 7500, 10000, 15000, 20000, 0,     0};
static const unsigned di_table[16] = {0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0};

unsigned tc_fi(unsigned fi_nibble)
{
	return fi_nibble < 16 ? fi_table[fi_nibble] : 0;
}

unsigned tc_fmax_khz(unsigned fi_nibble)
{
	return fi_nibble < 16 ? fmax_table[fi_nibble] : 0;
}

unsigned tc_di(unsigned di_nibble)
{
	return di_nibble < 16 ? di_table[di_nibble] : 0;
}

int tc_di_nibble(unsigned d)
{
	for (unsigned i = 1; i < 16; i++)
		if (d != 0 && di_table[i] == d)
			return (int)i;
	return -1;
}

int tc_fi_nibble(unsigned f)
{
	for (unsigned i = 0; i < 16; i++)
		if (f != 0 && fi_table[i] == f)
			return (int)i;
	return -1;
}

uint64_t tc_etu_to_clk(unsigned F, unsigned D, uint64_t etu)
{
	if (D == 0)
		return 0;
	return (etu * F + D - 1) / D;
}

uint64_t tc_half_etu_to_clk(unsigned F, unsigned D, uint64_t half_etu)
{
	if (D == 0)
		return 0;
	return (half_etu * F + 2ull * D - 1) / (2ull * D);
}

double tc_clk_to_etu(unsigned F, unsigned D, uint64_t clk)
{
	if (F == 0)
		return 0.0;
	return (double)clk * (double)D / (double)F;
}

unsigned tc_guard_etu(unsigned N, unsigned protocol)
{
	if (N == 255)
		return protocol == 1 ? 11 : 12;
	return 12 + N;
}

uint64_t tc_t0_wt_etu(unsigned WI, unsigned D)
{
	if (WI == 0)
		WI = TC_DEFAULT_WI;
	return 960ull * WI * D;
}

uint32_t tc_baud(uint32_t f_hz, unsigned F, unsigned D)
{
	if (F == 0)
		return 0;
	return (uint32_t)((uint64_t)f_hz * D / F);
}

bool tc_needs_turnaround(unsigned D)
{
	return D == 64;
}
