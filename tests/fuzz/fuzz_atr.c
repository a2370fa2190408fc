/* fuzz_atr.c: tc_atr_parse() on arbitrary bytes; when valid, rebuild an ATR
 * from the parsed parameters with tc_atr_build(), parse it again and check
 * that the parameters survive. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc_atr.h"
#include "fuzz.h"

/* The spec that tc_atr_build() can express for a parsed ATR. */
static void spec_from(const struct tc_atr *a, struct tc_atr_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->inverse = a->inverse;
	s->ta1_present = a->ta1_present;
	s->fi_nibble = a->fi_nibble;
	s->di_nibble = a->di_nibble;
	s->tc1_present = (a->group[0].present & TC_ATR_HAS_TC) != 0;
	s->N = (uint8_t)a->N;
	s->tc2_present = a->ngroups > 1 && (a->group[1].present & TC_ATR_HAS_TC);
	s->WI = (uint8_t)a->WI;
	s->ta2_present = a->specific_mode;
	s->ta2_cannot_change = !a->can_change_mode;
	s->ta2_implicit = a->implicit_params;
	s->ta2_protocol = (uint8_t)a->specific_protocol;
	s->protocols = a->protocols & 3u;
	s->ifsc = a->t1.ifsc;
	s->bwi = (uint8_t)a->t1.bwi;
	s->cwi = (uint8_t)a->t1.cwi;
	s->edc_crc = a->t1.edc == TC_ATR_EDC_CRC;
	s->has_class = a->has_class;
	s->classes = a->classes;
	s->clock_stop = (uint8_t)a->clock_stop;
	s->nhist = a->nhist;
	memcpy(s->hist, a->hist, a->nhist);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_atr a, b;
	struct tc_atr_spec s;
	uint8_t buf[TC_ATR_MAX_LEN];

	int rc = tc_atr_parse(data, size, &a);
	CHECK(rc <= 0);
	CHECK((rc == 0) == a.valid);
	CHECK(rc == 0 ? a.why[0] == '\0' : a.why[0] != '\0');
	if (rc != 0)
		return 0;
	spec_from(&a, &s);
	int n = tc_atr_build(&s, buf, sizeof(buf));
	if (n < 0)
		return 0; /* e.g. T=1 parameters plus 15 historical bytes do not fit 33 bytes */
	CHECK(tc_atr_parse(buf, (size_t)n, &b) == 0);
	CHECK(b.inverse == a.inverse && b.ta1_present == a.ta1_present);
	CHECK(b.Fi == a.Fi && b.Di == a.Di && b.fmax_khz == a.fmax_khz);
	CHECK(b.N == a.N && b.WI == a.WI);
	CHECK(b.specific_mode == a.specific_mode);
	CHECK(!a.specific_mode ||
	      (b.specific_protocol == a.specific_protocol &&
	       b.implicit_params == a.implicit_params && b.can_change_mode == a.can_change_mode));
	CHECK(b.has_class == a.has_class && b.classes == a.classes);
	CHECK(!a.has_class || b.clock_stop == a.clock_stop);
	CHECK(b.nhist == a.nhist && memcmp(b.hist, a.hist, a.nhist) == 0);
	if ((a.protocols & 3u) != 0)
		CHECK((b.protocols & 3u) == (a.protocols & 3u));
	if (a.protocols & 2u)
		CHECK(b.t1.ifsc == a.t1.ifsc && b.t1.bwi == a.t1.bwi && b.t1.cwi == a.t1.cwi &&
		      b.t1.edc == a.t1.edc);
	return 0;
}
