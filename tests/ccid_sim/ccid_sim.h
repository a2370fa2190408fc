/* ccid_sim.h: a simulated USB CCID reader for tests without hardware.
 *
 * umockdev (0.17) presents a USB device to unmodified libusb in this process:
 * a testbed with the device in sysfs (descriptors included) and a custom
 * ioctl handler (UMockdevIoctlBase) on its device node answering the usbdevfs
 * URBs. Bulk-OUT messages are answered in the handler's thread; the card
 * behind the reader is a tokencard-sim reached over the loopback wire through
 * the driver's own reader core (a tc_slot on "loopback:SOCKET"), so the
 * simulated reader is character-, TPDU- or APDU-level as the test chooses.
 *
 * The process must run under `umockdev-wrapper` (LD_PRELOAD of umockdev's
 * library). ccid_sim_stop() removes the testbed (/tmp/umockdev.*). */
#ifndef TC_CCID_SIM_H
#define TC_CCID_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid_desc.h"

struct ccid_sim;

struct ccid_sim_opts {
	enum ccid_level level;
	const char *card_socket; /* the tokencard-sim's socket */
	uint16_t vid, pid;       /* 0: 0x1209/0x7C01 */
	uint8_t volts;           /* bVoltageSupport; 0: 5V, 3V and 1.8V */
	uint32_t features_add;   /* extra dwFeatures bits (auto PPS...) */
	uint32_t max_msg_len;    /* 0: 271, or 65554 at extended-APDU level */
	bool no_interrupt;       /* no interrupt-IN endpoint */
	unsigned time_ext;       /* time extensions before every XfrBlock answer */
	bool wrong_seq;          /* answer XfrBlock with bSeq + 1 */
	unsigned unplug_at_xfr;  /* n > 0: the device leaves during the nth XfrBlock */
	unsigned silent_at_xfr;  /* n > 0: the nth XfrBlock is never answered */
	/* Clock and data rate (PPS caps): 0 keeps 20000 kHz and 1000000 bps.
	 * A list (n > 0) is announced in bNumClockSupported /
	 * bNumDataRatesSupported and given by GET_CLOCK_FREQUENCIES /
	 * GET_DATA_RATES, which stall when lists_stall. */
	uint32_t max_clock_khz, max_data_rate;
	const uint32_t *clocks_khz, *rates_bps;
	unsigned nclocks, nrates;
	bool lists_stall;
	bool refuse_params;   /* SetParameters fails (CMD_NOT_SUPPORTED) */
	uint32_t rate_answer; /* n > 0: SetDataRateAndClockFrequency answers n bps
	                       * whatever was asked (0: the rate asked) */
	/* Extended-APDU level: APDUs longer than max_msg_len - 10 travel
	 * chained. bad_chain breaks it: 1 the second response piece says
	 * "begins" again, 2 a command piece is acknowledged with
	 * bChainParameter 0 instead of 0x10, 3 the response never ends (its
	 * last piece says "continues" and the response starts over). */
	unsigned bad_chain;
	/* Hot-plug: the testbed starts without the device; ccid_sim_plug()
	 * brings it in. */
	bool unplugged;
};

struct ccid_sim_counts {
	unsigned power_on, power_off, slot_status, xfr, set_params, set_rate, aborts, time_ext;
	uint8_t last_power_select;
	uint8_t last_fidi; /* bmFindexDindex of the last SetParameters */
	uint32_t last_clock_khz, last_rate;
	unsigned intr_sent;
	unsigned get_clocks, get_rates; /* class requests GET_CLOCK_FREQUENCIES / GET_DATA_RATES */
	uint8_t last_pps[6];            /* the last PPS request seen in an XfrBlock */
	unsigned last_pps_len;
	unsigned chain_in;  /* XfrBlocks carrying a piece of a chained command */
	unsigned chain_out; /* DataBlocks carrying a piece of a chained response */
	unsigned too_long;  /* bulk-OUT messages above dwMaxCCIDMessageLength */
	/* The last command run at an APDU level (collected from its pieces):
	 * its length and FNV-1a hash (ccid_sim_hash). */
	uint32_t last_apdu_len, last_apdu_hash;
};

uint32_t ccid_sim_hash(const uint8_t *b, size_t n);

/* Build the testbed and the device. NULL (with a message on stderr) when
 * umockdev is not preloaded or the card cannot be reached. */
struct ccid_sim *ccid_sim_start(const struct ccid_sim_opts *o);
void ccid_sim_stop(struct ccid_sim *s);
/* The DEVICENAME pcscd would give: "usb:1209/7C01:libudev:0:/dev/bus/usb/001/002". */
const char *ccid_sim_devname(const struct ccid_sim *s);
/* Send NotifySlotChange with the card present or not (the card process is
 * told to insert or remove the card through its control socket first). */
int ccid_sim_notify(struct ccid_sim *s, bool present);
/* The testbed's root (UMOCKDEV_DIR for another process, such as pcscd,
 * to see the device); g_free() it. */
char *ccid_sim_root(const struct ccid_sim *s);
void ccid_sim_counts(struct ccid_sim *s, struct ccid_sim_counts *out);
/* Hot-plug, as the kernel and udev show it to another process (pcscd under
 * umockdev's preload with this testbed's UMOCKDEV_DIR):
 * ccid_sim_plug() puts the device (1-1 and its interface 1-1:1.0) into the
 * testbed's sysfs and /dev, which sends uevents "add" for both; a fresh device:
 * no answers or NotifySlotChange queued, URBs of file descriptors opened
 * before it see ENODEV.
 * ccid_sim_unplug(): every URB in flight ends with -ENODEV and every ioctl
 * fails with ENODEV (as usbfs), uevents "remove" for the interface and the
 * device, then both leave the testbed.
 * 0, or -1 (with a message on stderr) when the device is already in that
 * state or the testbed refuses it. */
int ccid_sim_plug(struct ccid_sim *s);
int ccid_sim_unplug(struct ccid_sim *s);

#endif
