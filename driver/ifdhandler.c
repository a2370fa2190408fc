/* ifdhandler.c: the IFD handler API (pcsc-lite ifdhandler.h, version 3) that
 * pcscd calls. The only file that speaks IFD_* codes: everything below it
 * returns tc_err values, translated here. */
#include <ifdhandler.h>
#include <reader.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "readers.h"
#include "tc_error.h"

#define TC_EXPORT __attribute__((visibility("default")))

#define TC_VENDOR_NAME "tokencard"
#define TC_IFD_VERSION 0x00010000 /* 0xMMmmbbbb */
/* Extended APDUs travel through T=0 ENVELOPE and GET RESPONSE (tc_apdu.h). */

static RESPONSECODE from_tc(int rc)
{
	switch (rc) {
	case TC_OK:
		return IFD_SUCCESS;
	case TC_E_NO_CARD:
		return IFD_ICC_NOT_PRESENT;
	case TC_E_TIMEOUT:
		return IFD_RESPONSE_TIMEOUT;
	case TC_E_OVERFLOW:
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	case TC_E_UNSUPPORTED:
		return IFD_NOT_SUPPORTED;
	default:
		return IFD_COMMUNICATION_ERROR;
	}
}

TC_EXPORT RESPONSECODE IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	LOG_INFO("Lun 0x%lX device %s", (unsigned long)Lun, DeviceName);
	int rc = readers_add(Lun, DeviceName);
	if (rc < 0) {
		LOG_ERR("Lun 0x%lX: cannot open %s: %s", (unsigned long)Lun, DeviceName,
		        tc_strerror(rc));
		return rc == TC_E_UNSUPPORTED || rc == TC_E_INVAL ? IFD_NO_SUCH_DEVICE
		                                                  : IFD_COMMUNICATION_ERROR;
	}
	return IFD_SUCCESS;
}

/* Without DEVICENAME, channel N is the loopback card at
 * /run/tokencard/cardN.sock. */
TC_EXPORT RESPONSECODE IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	char name[96];
	snprintf(name, sizeof(name), "loopback:/run/tokencard/card%lu.sock",
	         (unsigned long)Channel);
	return IFDHCreateChannelByName(Lun, name);
}

TC_EXPORT RESPONSECODE IFDHCloseChannel(DWORD Lun)
{
	LOG_INFO("Lun 0x%lX", (unsigned long)Lun);
	readers_remove(Lun);
	return IFD_SUCCESS;
}

/* The polling thread's function (TAG_IFD_POLLING_THREAD_WITH_TIMEOUT): wait
 * until the card may have come or gone, or timeout ms. */
static RESPONSECODE poll_card_event(DWORD Lun, int timeout)
{
	int rc = readers_wait_event(Lun, timeout);
	LOG_POLL("Lun 0x%lX: %s", (unsigned long)Lun, tc_errname(rc));
	return rc == TC_E_INVAL ? IFD_NO_SUCH_DEVICE : IFD_SUCCESS;
}

static RESPONSECODE stop_card_event(DWORD Lun)
{
	return readers_stop_events(Lun) == TC_OK ? IFD_SUCCESS : IFD_NO_SUCH_DEVICE;
}

static RESPONSECODE put_bytes(PDWORD Length, PUCHAR Value, const void *src, size_t n)
{
	if (*Length < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(Value, src, n);
	*Length = (DWORD)n;
	return IFD_SUCCESS;
}

static RESPONSECODE put_byte(PDWORD Length, PUCHAR Value, unsigned v)
{
	uint8_t b = (uint8_t)v;
	return put_bytes(Length, Value, &b, 1);
}

static RESPONSECODE put_dword(PDWORD Length, PUCHAR Value, DWORD v)
{
	return put_bytes(Length, Value, &v, sizeof(v));
}

/* Capabilities that need no reader. */
static RESPONSECODE driver_capability(DWORD Tag, PDWORD Length, PUCHAR Value)
{
	switch (Tag) {
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		return put_byte(Length, Value, TC_MAX_READERS);
	case TAG_IFD_THREAD_SAFE:
		return put_byte(Length, Value, 1);
	case TAG_IFD_SLOTS_NUMBER:
		return put_byte(Length, Value, 1);
	case TAG_IFD_SLOT_THREAD_SAFE:
		return put_byte(Length, Value, 0);
	case TAG_IFD_POLLING_THREAD_KILLABLE:
		return put_byte(Length, Value, 1);
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT: {
		RESPONSECODE (*fn)(DWORD, int) = poll_card_event;
		return put_bytes(Length, Value, &fn, sizeof(fn));
	}
	case TAG_IFD_STOP_POLLING_THREAD: {
		RESPONSECODE (*fn)(DWORD) = stop_card_event;
		return put_bytes(Length, Value, &fn, sizeof(fn));
	}
	case SCARD_ATTR_VENDOR_NAME:
		return put_bytes(Length, Value, TC_VENDOR_NAME, sizeof(TC_VENDOR_NAME));
	case SCARD_ATTR_VENDOR_IFD_VERSION:
		return put_dword(Length, Value, TC_IFD_VERSION);
	case SCARD_ATTR_MAX_IFSD:
		return put_dword(Length, Value, 254);
	default:
		return IFD_ERROR_TAG;
	}
}

TC_EXPORT RESPONSECODE IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	RESPONSECODE rv = driver_capability(Tag, Length, Value);
	if (rv != IFD_ERROR_TAG)
		return rv;
	struct tc_reader *r = readers_lock(Lun);
	if (!r)
		return IFD_NO_SUCH_DEVICE;
	const struct tc_atr *atr = tc_slot_atr(r->slot);
	switch (Tag) {
	case TAG_IFD_ATR:
	case SCARD_ATTR_ATR_STRING:
		if (atr)
			rv = put_bytes(Length, Value, atr->raw, atr->len);
		else
			*Length = 0;
		rv = atr ? rv : IFD_SUCCESS;
		break;
	case SCARD_ATTR_ICC_PRESENCE: {
		bool present = false;
		(void)tc_slot_presence(r->slot, 0, &present);
		rv = put_byte(Length, Value, present ? 2 : 0);
		break;
	}
	case SCARD_ATTR_CURRENT_PROTOCOL_TYPE:
		rv = put_dword(Length, Value, atr ? SCARD_PROTOCOL_T0 : 0);
		break;
	case SCARD_ATTR_CHANNEL_ID:
		rv = put_dword(Length, Value, (DWORD)(0x0020u << 16 | (Lun >> 16)));
		break;
	case SCARD_ATTR_MAXINPUT: {
		/* The longest command APDU: extended (4 + 3 + 65535 + 2) or short
		 * (4 + 1 + 255 + 1). */
		uint32_t max = tc_slot_max_apdu_data(r->slot);
		rv = put_dword(Length, Value, max ? max + 9u : 261u);
		break;
	}
	default:
		rv = IFD_ERROR_TAG;
		break;
	}
	readers_unlock(r);
	return rv;
}

TC_EXPORT RESPONSECODE IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	(void)Length;
	(void)Value;
	LOG_INFO("Lun 0x%lX tag 0x%lX", (unsigned long)Lun, (unsigned long)Tag);
	if (Tag == TAG_IFD_DEVICE_REMOVED)
		return IFD_SUCCESS;
	return IFD_ERROR_TAG;
}

TC_EXPORT RESPONSECODE IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1,
                                                 UCHAR PTS2, UCHAR PTS3)
{
	(void)Flags;
	(void)PTS1;
	(void)PTS2;
	(void)PTS3;
	LOG_INFO("Lun 0x%lX protocol %lu", (unsigned long)Lun, (unsigned long)Protocol);
	if (Protocol != SCARD_PROTOCOL_T0)
		return IFD_PROTOCOL_NOT_SUPPORTED;
	struct tc_reader *r = readers_lock(Lun);
	if (!r)
		return IFD_NO_SUCH_DEVICE;
	int rc = tc_slot_set_protocol(r->slot, 0);
	if (rc < 0)
		LOG_ERR("Lun 0x%lX: %s", (unsigned long)Lun, tc_slot_last_error(r->slot));
	readers_unlock(r);
	if (rc == TC_E_UNSUPPORTED)
		return IFD_PROTOCOL_NOT_SUPPORTED;
	return rc < 0 ? IFD_ERROR_PTS_FAILURE : IFD_SUCCESS;
}

TC_EXPORT RESPONSECODE IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	uint8_t atr[TC_ATR_MAX_LEN];
	size_t n = 0;
	int rc;

	struct tc_reader *r = readers_lock(Lun);
	if (!r)
		return IFD_NO_SUCH_DEVICE;
	switch (Action) {
	case IFD_POWER_DOWN:
		rc = tc_slot_power_down(r->slot);
		break;
	case IFD_POWER_UP:
		rc = tc_slot_power_up(r->slot, false, atr, &n);
		break;
	case IFD_RESET:
		rc = tc_slot_power_up(r->slot, tc_slot_powered(r->slot), atr, &n);
		break;
	default:
		readers_unlock(r);
		return IFD_NOT_SUPPORTED;
	}
	if (rc < 0)
		LOG_ERR("Lun 0x%lX action %lu: %s (%s)", (unsigned long)Lun, (unsigned long)Action,
		        tc_errname(rc), tc_slot_last_error(r->slot));
	else if (n)
		LOG_INFO("Lun 0x%lX: ATR of %zu bytes", (unsigned long)Lun, n);
	readers_unlock(r);
	if (Action != IFD_POWER_DOWN) {
		if (rc < 0 || *AtrLength < n) {
			*AtrLength = 0;
			return rc == TC_E_NO_CARD ? IFD_ICC_NOT_PRESENT : IFD_ERROR_POWER_ACTION;
		}
		memcpy(Atr, atr, n);
		*AtrLength = (DWORD)n;
	} else if (AtrLength) {
		*AtrLength = 0;
	}
	return rc < 0 ? IFD_ERROR_POWER_ACTION : IFD_SUCCESS;
}

TC_EXPORT RESPONSECODE IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
                                         DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength,
                                         PSCARD_IO_HEADER RecvPci)
{
	size_t n = 0;

	if (SendPci.Protocol != 0 && SendPci.Protocol != SCARD_PROTOCOL_T0) {
		*RxLength = 0;
		return IFD_PROTOCOL_NOT_SUPPORTED;
	}
	struct tc_reader *r = readers_lock(Lun);
	if (!r) {
		*RxLength = 0;
		return IFD_NO_SUCH_DEVICE;
	}
	LOG_APDU("APDU", TxBuffer, TxLength, 1);
	int rc = tc_slot_transmit(r->slot, TxBuffer, TxLength, RxBuffer, *RxLength, &n);
	if (rc == TC_OK)
		LOG_APDU("response", RxBuffer, n, 0);
	else
		LOG_ERR("Lun 0x%lX: %s (%s)", (unsigned long)Lun, tc_errname(rc),
		        tc_slot_last_error(r->slot));
	readers_unlock(r);
	*RxLength = rc == TC_OK ? (DWORD)n : 0;
	if (RecvPci)
		RecvPci->Protocol = SCARD_PROTOCOL_T0;
	return from_tc(rc);
}

/* CM_IOCTL_GET_FEATURE_REQUEST: the features we answer, as TLV (tag,
 * length 4, control code big-endian). */
static RESPONSECODE feature_request(PUCHAR out, DWORD cap, LPDWORD returned)
{
	DWORD code = SCARD_CTL_CODE(0x330000 + FEATURE_GET_TLV_PROPERTIES);
	if (cap < 6)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	out[0] = FEATURE_GET_TLV_PROPERTIES;
	out[1] = 4;
	for (int i = 0; i < 4; i++)
		out[2 + i] = (uint8_t)(code >> (24 - 8 * i));
	*returned = 6;
	return IFD_SUCCESS;
}

static size_t tlv(uint8_t *p, uint8_t tag, uint32_t v, uint8_t len)
{
	p[0] = tag;
	p[1] = len;
	for (uint8_t i = 0; i < len; i++)
		p[2 + i] = (uint8_t)(v >> (8 * i)); /* little-endian, as PC/SC v2 part 10 says */
	return 2u + len;
}

static RESPONSECODE tlv_properties(uint32_t max_apdu, PUCHAR out, DWORD cap, LPDWORD returned)
{
	uint8_t buf[64];
	size_t n = 0;
	n += tlv(buf + n, PCSCv2_PART10_PROPERTY_wLcdLayout, 0, 2); /* no display */
	n += tlv(buf + n, PCSCv2_PART10_PROPERTY_bMinPINSize, 0, 1);
	n += tlv(buf + n, PCSCv2_PART10_PROPERTY_bMaxPINSize, 0, 1); /* no PIN pad */
	n += tlv(buf + n, PCSCv2_PART10_PROPERTY_bPPDUSupport, 0, 1);
	n += tlv(buf + n, PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize, max_apdu, 4);
	if (cap < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(out, buf, n);
	*returned = (DWORD)n;
	return IFD_SUCCESS;
}

TC_EXPORT RESPONSECODE IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength,
                                   PUCHAR RxBuffer, DWORD RxLength, LPDWORD pdwBytesReturned)
{
	(void)TxBuffer;
	(void)TxLength;
	*pdwBytesReturned = 0;
	struct tc_reader *r = readers_lock(Lun);
	if (!r)
		return IFD_NO_SUCH_DEVICE;
	uint32_t max_apdu = tc_slot_max_apdu_data(r->slot);
	readers_unlock(r);
	if (dwControlCode == CM_IOCTL_GET_FEATURE_REQUEST)
		return feature_request(RxBuffer, RxLength, pdwBytesReturned);
	if (dwControlCode == SCARD_CTL_CODE(0x330000 + FEATURE_GET_TLV_PROPERTIES))
		return tlv_properties(max_apdu, RxBuffer, RxLength, pdwBytesReturned);
	return IFD_ERROR_NOT_SUPPORTED;
}

TC_EXPORT RESPONSECODE IFDHICCPresence(DWORD Lun)
{
	bool present = false;
	struct tc_reader *r = readers_lock(Lun);
	if (!r)
		return IFD_NO_SUCH_DEVICE;
	int rc = tc_slot_presence(r->slot, 0, &present);
	if (present != r->was_present)
		LOG_INFO("Lun 0x%lX: card %s", (unsigned long)Lun,
		         present ? "inserted" : "removed");
	r->was_present = present;
	readers_unlock(r);
	if (rc < 0 && rc != TC_E_CLOSED)
		return IFD_COMMUNICATION_ERROR;
	return present ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
}
