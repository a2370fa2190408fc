/* ccid_chain_client.c: extended APDUs through pcscd (libpcsclite) to the
 * first reader, for pcscd_usb.sh (TC_USB_CLIENT): the reader test application of
 * tokencard-sim (its default application) with an extended case 3 of 5000
 * and of 65 535 bytes, an extended case 2 of 4096 and of 65 535 bytes and
 * an extended case 4 (600 bytes out, 2048 back). Behind a simulated reader
 * of dwMaxCCIDMessageLength 271 every one of them is chained over USB.
 * One line a case; exit 1 if any answer is wrong (data counted 00 01 02 ...,
 * SW 9000). */
#include <PCSC/winscard.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t apdu[7 + 65535 + 2], resp[65538];

static bool run(SCARDHANDLE h, const char *label, size_t n, size_t want_data)
{
	DWORD rl = sizeof(resp);
	LONG rc = SCardTransmit(h, SCARD_PCI_T0, apdu, (DWORD)n, NULL, resp, &rl);
	bool ok = rc == SCARD_S_SUCCESS && rl == want_data + 2 && resp[rl - 2] == 0x90 &&
	          resp[rl - 1] == 0x00;
	for (size_t i = 0; ok && i < want_data; i++)
		ok = resp[i] == (uint8_t)i;
	printf("%s: %zu bytes out, rc 0x%08lX, %lu bytes back: %s\n", label, n, (unsigned long)rc,
	       (unsigned long)rl, ok ? "ok" : "WRONG");
	return ok;
}

/* CLA INS P1 P2 00 Lc1 Lc2 (Lc = lc bytes of data follow) */
static size_t header(uint8_t ins, unsigned p1p2, size_t lc)
{
	const uint8_t h[7] = {
	    0x80, ins, (uint8_t)(p1p2 >> 8), (uint8_t)p1p2, 0x00, (uint8_t)(lc >> 8), (uint8_t)lc};
	memcpy(apdu, h, 7);
	for (size_t i = 0; i < lc; i++)
		apdu[7 + i] = (uint8_t)(i * 7 + 3);
	return 7 + lc;
}

int main(void)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, rlen = 0;
	char readers[2048];
	bool ok = true;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return 1;
	rlen = sizeof(readers);
	LONG rc = SCardListReaders(ctx, NULL, readers, &rlen);
	if (rc == SCARD_S_SUCCESS)
		rc = SCardConnect(ctx, readers, SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0, &h,
		                  &proto);
	if (rc != SCARD_S_SUCCESS) {
		printf("no reader or card: 0x%08lX\n", (unsigned long)rc);
		SCardReleaseContext(ctx);
		return 1;
	}
	ok &= run(h, "case 3E 5000", header(0x32, 0, 5000), 0);
	ok &= run(h, "case 3E 65535", header(0x32, 0, 65535), 0);
	header(0x34, 4096, 0); /* 00 Le1 Le2 = 0x1000 in the Lc place */
	apdu[5] = 0x10;
	ok &= run(h, "case 2E 4096", 7, 4096);
	header(0x34, 65535, 0);
	apdu[5] = apdu[6] = 0xFF;
	ok &= run(h, "case 2E 65535", 7, 65535);
	size_t n = header(0x36, 2048, 600);
	apdu[n++] = 0x08; /* Le = 0800 */
	apdu[n++] = 0x00;
	ok &= run(h, "case 4E 600/2048", n, 2048);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return ok ? 0 : 1;
}
