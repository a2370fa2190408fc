/* bench_ifd.c: the driver alone, without pcscd: load an IFD handler library
 * the way pcscd does (dlopen), open one reader, power the card up, select the
 * reader test application and time IFDHTransmitToICC.
 *
 *   bench_ifd --lib PATH --device NAME [--count N] [--apdu 5|256]
 *
 * NAME is a DEVICENAME as reader.conf gives it ("loopback:/path/card.sock").
 * Prints the median and p99 of each APDU's exchanges. Under
 * `valgrind --tool=callgrind` (tests/bench/ifd_cost.sh) it is the driver's
 * side of the instruction count per APDU. Fails only when the driver or the
 * card gives a wrong answer. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>

#include "bench_stats.h"

#define MAX_RSP 260

typedef RESPONSECODE (*create_fn)(DWORD, LPSTR);
typedef RESPONSECODE (*close_fn)(DWORD);
typedef RESPONSECODE (*power_fn)(DWORD, DWORD, PUCHAR, PDWORD);
typedef RESPONSECODE (*proto_fn)(DWORD, DWORD, UCHAR, UCHAR, UCHAR, UCHAR);
typedef RESPONSECODE (*xfer_fn)(DWORD, SCARD_IO_HEADER, PUCHAR, DWORD, PUCHAR, PDWORD,
                                PSCARD_IO_HEADER);

struct ifd {
	create_fn create;
	close_fn close;
	power_fn power;
	proto_fn proto;
	xfer_fn xfer;
};

struct apdu {
	const char *label;
	UCHAR cmd[5];
	DWORD rsp_len; /* data and SW */
};

static const struct apdu apdus[] = {
    {"80 34 00 05 05 (5 B)", {0x80, 0x34, 0x00, 0x05, 0x05}, 7},
    {"80 34 01 00 00 (256 B)", {0x80, 0x34, 0x01, 0x00, 0x00}, 258},
};

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);
	if (!p)
		fprintf(stderr, "bench_ifd: the library has no %s\n", name);
	return p;
}

static int load(const char *lib, struct ifd *f)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "bench_ifd: %s\n", dlerror());
		return -1;
	}
	/* POSIX allows converting dlsym's answer to a function pointer. */
	*(void **)&f->create = sym(h, "IFDHCreateChannelByName");
	*(void **)&f->close = sym(h, "IFDHCloseChannel");
	*(void **)&f->power = sym(h, "IFDHPowerICC");
	*(void **)&f->proto = sym(h, "IFDHSetProtocolParameters");
	*(void **)&f->xfer = sym(h, "IFDHTransmitToICC");
	return f->create && f->close && f->power && f->proto && f->xfer ? 0 : -1;
}

/* One exchange; 0 when the answer has the expected length and ends 90 00. */
static int exchange(const struct ifd *f, const UCHAR *cmd, DWORD n, DWORD want)
{
	SCARD_IO_HEADER send_pci = {SCARD_PROTOCOL_T0, 8}, recv_pci;
	UCHAR in[16], rsp[MAX_RSP];
	DWORD rlen = sizeof(rsp);

	if (n > sizeof(in))
		return -1;
	memcpy(in, cmd, n); /* the API takes a non-const pointer */
	if (f->xfer(0, send_pci, in, n, rsp, &rlen, &recv_pci) != IFD_SUCCESS)
		return -1;
	if ((want && rlen != want) || rlen < 2 || rsp[rlen - 2] != 0x90 || rsp[rlen - 1] != 0x00)
		return -1;
	return 0;
}

static int open_card(const struct ifd *f, const char *device)
{
	static const UCHAR select[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0,
	                               0x00, 0x00, 0x00, 0x18, 0xFF};
	UCHAR atr[MAX_ATR_SIZE];
	DWORD alen = sizeof(atr);
	char name[512];

	snprintf(name, sizeof(name), "%s", device);
	if (f->create(0, name) != IFD_SUCCESS)
		return fprintf(stderr, "bench_ifd: no reader at %s\n", device), -1;
	if (f->power(0, IFD_POWER_UP, atr, &alen) != IFD_SUCCESS)
		return fprintf(stderr, "bench_ifd: the card did not power up\n"), -1;
	if (f->proto(0, SCARD_PROTOCOL_T0, 0, 0, 0, 0) != IFD_SUCCESS)
		return fprintf(stderr, "bench_ifd: T=0 refused\n"), -1;
	if (exchange(f, select, sizeof(select), 0) != 0)
		return fprintf(stderr, "bench_ifd: SELECT of the test application failed\n"), -1;
	return 0;
}

static int run(const struct ifd *f, const struct apdu *a, size_t count, uint64_t *t)
{
	for (size_t i = 0; i < count; i++) {
		uint64_t t0 = bench_now_ns();
		if (exchange(f, a->cmd, sizeof(a->cmd), a->rsp_len) != 0) {
			fprintf(stderr, "bench_ifd: %s: wrong answer at exchange %zu\n", a->label,
			        i);
			return -1;
		}
		t[i] = bench_now_ns() - t0;
	}
	bench_sort(t, count);
	printf("%-24s %8zu %10.1f %10.1f\n", a->label, count,
	       (double)bench_pct(t, count, 50) / 1000.0, (double)bench_pct(t, count, 99) / 1000.0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *lib = NULL, *device = NULL;
	size_t count = bench_count(20000, 2000);
	int only = -1;
	struct ifd f;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--lib"))
			lib = argv[i + 1];
		else if (!strcmp(argv[i], "--device"))
			device = argv[i + 1];
		else if (!strcmp(argv[i], "--count"))
			count = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--apdu"))
			only = !strcmp(argv[i + 1], "5") ? 0 : !strcmp(argv[i + 1], "256") ? 1 : -2;
		else
			only = -2;
	}
	if (!lib || !device || count == 0 || only < -1 || argc % 2 == 0) {
		fprintf(stderr, "usage: bench_ifd --lib PATH --device NAME [--count N] "
		                "[--apdu 5|256]\n");
		return 2;
	}
	if (load(lib, &f) != 0 || open_card(&f, device) != 0)
		return 1;
	uint64_t *t = malloc(count * sizeof(*t));
	if (!t)
		return 1;
	printf("%-24s %8s %10s %10s\n", "APDU", "count", "median us", "p99 us");
	int rc = 0;
	for (int k = 0; k < 2 && rc == 0; k++)
		if (only < 0 || only == k)
			rc = run(&f, &apdus[k], count, t);
	f.close(0);
	free(t);
	return rc == 0 ? 0 : 1;
}
