/* null_ifd.c: a null IFD handler for the benchmarks: a reader with a card
 * always present that answers at once from memory (bench_card.h). Measured
 * through pcscd it gives the floor of a SCardTransmit round trip: the client
 * library, the pcscd socket and pcscd's own work, with no reader at all.
 *
 * Not a driver for anything else: one slot per Lun, no state but the power. */
#include <ifdhandler.h>
#include <string.h>

#include "bench_card.h"

#define NULL_IFD_EXPORT __attribute__((visibility("default")))

NULL_IFD_EXPORT RESPONSECODE IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	(void)Lun;
	(void)DeviceName;
	return IFD_SUCCESS;
}

NULL_IFD_EXPORT RESPONSECODE IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	(void)Lun;
	(void)Channel;
	return IFD_SUCCESS;
}

NULL_IFD_EXPORT RESPONSECODE IFDHCloseChannel(DWORD Lun)
{
	(void)Lun;
	return IFD_SUCCESS;
}

static RESPONSECODE put(PDWORD Length, PUCHAR Value, const void *src, DWORD n)
{
	if (*Length < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(Value, src, n);
	*Length = n;
	return IFD_SUCCESS;
}

NULL_IFD_EXPORT RESPONSECODE IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	static const UCHAR one = 1;
	(void)Lun;
	switch (Tag) {
	case TAG_IFD_ATR:
		return put(Length, Value, bench_card_atr, sizeof(bench_card_atr));
	case TAG_IFD_SLOTS_NUMBER:
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		return put(Length, Value, &one, 1);
	default:
		return IFD_ERROR_TAG;
	}
}

NULL_IFD_EXPORT RESPONSECODE IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	(void)Lun;
	(void)Tag;
	(void)Length;
	(void)Value;
	return IFD_NOT_SUPPORTED;
}

NULL_IFD_EXPORT RESPONSECODE IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags,
                                                       UCHAR PTS1, UCHAR PTS2, UCHAR PTS3)
{
	(void)Lun;
	(void)Flags;
	(void)PTS1;
	(void)PTS2;
	(void)PTS3;
	return Protocol == SCARD_PROTOCOL_T0 ? IFD_SUCCESS : IFD_PROTOCOL_NOT_SUPPORTED;
}

NULL_IFD_EXPORT RESPONSECODE IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	(void)Lun;
	if (Action == IFD_POWER_DOWN) {
		*AtrLength = 0;
		return IFD_SUCCESS;
	}
	if (Action != IFD_POWER_UP && Action != IFD_RESET)
		return IFD_NOT_SUPPORTED;
	return put(AtrLength, Atr, bench_card_atr, sizeof(bench_card_atr));
}

NULL_IFD_EXPORT RESPONSECODE IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
                                               DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength,
                                               PSCARD_IO_HEADER RecvPci)
{
	uint8_t rsp[258];
	(void)Lun;
	size_t n = bench_card_answer(TxBuffer, TxLength, rsp, sizeof(rsp));
	if (n == 0 || *RxLength < n) {
		*RxLength = 0;
		return IFD_COMMUNICATION_ERROR;
	}
	memcpy(RxBuffer, rsp, n);
	*RxLength = (DWORD)n;
	if (RecvPci)
		RecvPci->Protocol = SendPci.Protocol;
	return IFD_SUCCESS;
}

NULL_IFD_EXPORT RESPONSECODE IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer,
                                         DWORD TxLength, PUCHAR RxBuffer, DWORD RxLength,
                                         LPDWORD pdwBytesReturned)
{
	(void)Lun;
	(void)dwControlCode;
	(void)TxBuffer;
	(void)TxLength;
	(void)RxBuffer;
	(void)RxLength;
	if (pdwBytesReturned)
		*pdwBytesReturned = 0;
	return IFD_ERROR_NOT_SUPPORTED;
}

NULL_IFD_EXPORT RESPONSECODE IFDHICCPresence(DWORD Lun)
{
	(void)Lun;
	return IFD_ICC_PRESENT;
}
