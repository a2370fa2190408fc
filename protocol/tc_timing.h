/* tc_timing.h: ISO/IEC 7816-3 transmission factors and timings.
 *
 * Time convention of the whole library: a point in time is a uint64_t count of
 * card clock cycles (CLK periods) since the link's origin ("virtual clock");
 * durations given in etu are converted with tc_etu_to_clk(). One etu is F/D
 * clock cycles, so a conversion rounds up to whole clock cycles. */
#ifndef TC_TIMING_H
#define TC_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#define TC_FD                  372u   /* default Fi (Fd) */
#define TC_DD                  1u     /* default Di (Dd) */
#define TC_INITIAL_WAIT_ETU    9600u  /* max gap between ATR characters, PPS answer */
#define TC_ATR_MIN_CLK         400u   /* ATR may start 400 clocks after RST rises ... */
#define TC_ATR_MAX_CLK         40000u /* ... and must start by 40 000 clocks */
#define TC_RST_LOW_MIN_CLK     400u   /* RST held low at least 400 clocks */
#define TC_CHAR_ETU            10u    /* start + 8 data + parity */
#define TC_ERR_SIGNAL_HALF_ETU 21u    /* error signal starts 10.5 etu after the start bit */
#define TC_REPEAT_MIN_ETU      13u    /* a repeated character starts >= 13 etu after the first */
#define TC_D64_TURNAROUND_ETU  16u    /* with D = 64: wait between last received and first sent */
#define TC_DEFAULT_WI          10u    /* TC2 absent */

/* Fi for the FI nibble (TA1 high nibble); 0 for an RFU value. */
unsigned tc_fi(unsigned fi_nibble);
/* f(max) in kHz for the FI nibble; 0 for an RFU value. */
unsigned tc_fmax_khz(unsigned fi_nibble);
/* Di for the DI nibble (TA1 low nibble); 0 for an RFU value. */
unsigned tc_di(unsigned di_nibble);
/* The DI nibble whose Di is d; -1 when d is not a table value. */
int tc_di_nibble(unsigned d);
/* The FI nibble whose Fi is f (lowest nibble when two share Fi); -1 if none. */
int tc_fi_nibble(unsigned f);

/* etu expressed in clock cycles, rounded up: ceil(etu * F / D). */
uint64_t tc_etu_to_clk(unsigned F, unsigned D, uint64_t etu);
/* Same for half etu (10.5 etu = 21 half etu). */
uint64_t tc_half_etu_to_clk(unsigned F, unsigned D, uint64_t half_etu);
/* Clock cycles expressed in etu (floating point, for reports). */
double tc_clk_to_etu(unsigned F, unsigned D, uint64_t clk);

/* Minimum distance in etu between the leading edges of two characters sent by
 * the reader: 12 + N; N = 255 gives 12 for T=0 and 11 for T=1. */
unsigned tc_guard_etu(unsigned N, unsigned protocol);
/* T=0 waiting time in etu: 960 x WI x D (WI = 0 is treated as the default 10). */
uint64_t tc_t0_wt_etu(unsigned WI, unsigned D);
/* Baud rate for a clock of f Hz: f x D / F, rounded down. */
uint32_t tc_baud(uint32_t f_hz, unsigned F, unsigned D);
/* True when D = 64 asks the 16 etu turnaround. */
bool tc_needs_turnaround(unsigned D);

#endif
