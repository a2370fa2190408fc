/* trace.h: decoding of loopback wire record files (docs/wire.md section 7)
 * for "tokencard trace". Pure: bytes in, text lines out through a callback;
 * no I/O, no clock, no globals. Every input is accepted or refused with the
 * file offset and a reason; nothing is read beyond the buffer.
 *
 * Two views:
 *  - TRACE_RAW: every message, one line each (direction, seq/ack, time in
 *    clock cycles and microseconds, decoded fields, stale messages marked);
 *  - TRACE_SESSION: the session above the characters: HELLO, power, RST
 *    edges, the ATR explained, PPS request and answer, T=0 TPDUs (header,
 *    procedure bytes, data, status words), error signals and repetitions,
 *    removal, silence, BYE; with times in cycles, microseconds and etu. */
#ifndef TOKENCARD_TRACE_H
#define TOKENCARD_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_wire.h"

#define TRACE_WHY_LEN 160

enum trace_view {
	TRACE_SESSION = 0,
	TRACE_RAW = 1,
	TRACE_APDU = 2, /* TPDUs merged into the APDUs they carried */
};

/* One message of a record file. */
struct trace_msg {
	uint8_t dir;           /* 'R' reader -> card, 'C' card -> reader */
	size_t offset;         /* offset of the direction byte in the file */
	unsigned conn;         /* connection number (seq restarts), from 1 */
	bool stale;            /* dropped by its receiver (docs/wire.md section 4) */
	bool rejected;         /* a CHAR its receiver signalled with a current ERROR */
	uint16_t run_i, run_n; /* a CHAR that travelled in a CHARS run: its place
	                        * (from 0) and the run's length; run_n 0 otherwise */
	struct tc_wire_msg m;
};

/* A parsed record file. When err < 0, msg[0..n) are the messages before the
 * fault, err_offset its file offset and why the reason. */
struct trace_rec {
	struct trace_msg *msg;
	size_t n;     /* messages, a CHARS counted as its characters */
	size_t nwire; /* messages as they crossed the wire */
	int err;      /* 0 or a negative tc_err */
	size_t err_offset;
	char why[TRACE_WHY_LEN];
};

/* Parse a record file and mark stale and rejected messages. Returns 0 or a
 * negative tc_err (TC_E_FORMAT, TC_E_SHORT, TC_E_NOMEM), also kept in rec.
 * rec must be released with trace_rec_free() in every case. */
int trace_parse(const uint8_t *buf, size_t len, struct trace_rec *rec);
void trace_rec_free(struct trace_rec *rec);

/* Receives each output line, without its newline. */
typedef void (*trace_emit_fn)(void *ctx, const char *line);

/* Parse buf and print it in the given view. What precedes a fault is still
 * printed; the fault is the last line ("error at offset N: ..."). Returns 0
 * or the negative tc_err of the fault. */
int trace_print(const uint8_t *buf, size_t len, enum trace_view view, trace_emit_fn emit,
                void *ctx);

#endif
