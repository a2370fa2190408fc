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
};

struct ccid_sim_counts {
	unsigned power_on, power_off, slot_status, xfr, set_params, set_rate, aborts, time_ext;
	uint8_t last_power_select;
	uint8_t last_fidi; /* bmFindexDindex of the last SetParameters */
	uint32_t last_clock_khz, last_rate;
	unsigned intr_sent;
};

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

#endif
