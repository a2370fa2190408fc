/* usb_int.h: private state of a USB CCID link (usb.c, usb_ops.c).
 *
 * usb.c finds and opens the reader, checks its class descriptor and runs the
 * interrupt endpoint; usb_ops.c speaks the CCID bulk messages and implements
 * the transport operations. */
#ifndef TC_USB_INT_H
#define TC_USB_INT_H

#include <libusb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ccid_desc.h"
#include "ccid_msg.h"
#include "tc_atr.h"
#include "transport.h"

#define USB_TIMEOUT_MS   5000 /* one bulk transfer; TC_USB_TIMEOUT_MS overrides */
#define USB_MAX_TIME_EXT 64   /* time extensions accepted for one command */
#define USB_INTR_LEN     64

struct tc_link {
	libusb_context *ctx;
	libusb_device_handle *h;
	uint16_t vid, pid, bcd;
	uint8_t bus, addr;
	int ifnum;
	uint8_t ep_in, ep_out, ep_intr; /* ep_intr 0: none */
	struct ccid_desc desc;
	enum tc_level level;
	unsigned timeout_ms;

	uint8_t seq;  /* bSeq of the next command */
	uint8_t *buf; /* one message, desc.max_msg_len bytes */
	size_t buf_cap;

	/* Card presence: the interrupt endpoint (event thread) or GetSlotStatus. */
	atomic_bool present;
	atomic_bool gone; /* the device left the bus */
	int event_fd;     /* eventfd, readable after a slot change */
	pthread_t thread;
	bool thread_running;
	atomic_int stop;
	struct libusb_transfer *intr;
	atomic_bool intr_active;
	uint8_t intr_buf[USB_INTR_LEN];

	/* Character level: the ATR the reader read, handed out by recv(). */
	uint8_t atr[TC_ATR_MAX_LEN];
	size_t atr_len, atr_pos;
	bool sent_since_rst;
	uint64_t now, rst_edge;
	unsigned F, D;
	bool inverse;
	uint8_t params_fidi; /* what SetParameters last said */
	bool params_inverse;
	unsigned power_class; /* bPowerSelect of the last activation */
	uint32_t clock_hz;

	struct tc_link_stats stats;
};

/* libusb error to tc_err: NO_DEVICE is TC_E_CLOSED (and marks the link
 * gone), TIMEOUT TC_E_TIMEOUT, the rest TC_E_IO. */
int usb_err(struct tc_link *l, int libusb_rc);
/* One command: tx (a built message of n bytes, type request_type, bSeq
 * already l->seq) out, its answer in (time extensions read again), parsed
 * into r (r->data points into l->buf). Advances l->seq. */
int usb_exchange(struct tc_link *l, uint8_t *tx, size_t n, struct ccid_reply *r);
/* GetSlotStatus: *present from bmICCStatus. */
int usb_slot_status(struct tc_link *l, bool *present);
/* The address of the next command. */
struct ccid_addr usb_addr(const struct tc_link *l);

/* What a DEVICENAME says. */
struct usb_name {
	uint16_t vid, pid;
	int bus, addr, ifnum; /* -1: any */
};

/* usb.c */
/* Parse the endpoint (DEVICENAME after "usb:"): TC_OK, or TC_E_INVAL with
 * a log line for anything but the three forms of usb.c. */
int usb_parse_name(const char *ep, struct usb_name *n);
int usb_open(struct tc_link **out, const char *endpoint);
void usb_close(struct tc_link *l);
int usb_presence(struct tc_link *l, int timeout_ms, bool *present);
int usb_event_fd(const struct tc_link *l);

#endif
