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

#define USB_RXQ_LEN 258 /* characters read ahead at character level: data + SW1 SW2 */
#define USB_TXQ_LEN 272 /* characters held for the next XfrBlock at character level */

/* What a T=0 TPDU in flight lets the character level read ahead
 * (usb_ops.c): the state after the last character each way. */
struct usb_t0 {
	uint8_t state;         /* USB_T0_*, usb_ops.c */
	uint8_t ins;           /* of the header sent */
	bool all;              /* the last ACK was INS (the rest), not INS ^ FF (one) */
	bool out;              /* the TPDU sends data: nothing to read ahead */
	size_t n_in, n_in_max; /* incoming data so far; announced (P3, 00 = 256) */
};

struct tc_link {
	libusb_context *ctx;
	libusb_device_handle *h;
	uint16_t vid, pid, bcd;
	uint8_t bus, addr;
	int ifnum;
	uint8_t ep_in, ep_out, ep_intr; /* ep_intr 0: none */
	struct ccid_desc desc;
	/* The clock and data-rate lists (GET_CLOCK_FREQUENCIES, GET_DATA_RATES)
	 * when the descriptor announces them; 0: none or refused, the
	 * descriptor's ranges apply. For the PPS decision (usb_caps). */
	uint32_t clocks_khz[CCID_MAX_LIST], rates_bps[CCID_MAX_LIST];
	size_t nclocks, nrates;
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
	/* Character level: the T=0 exchange in flight as seen from send() and
	 * recv(), so that one XfrBlock asks for every character the card must
	 * send next (the data after an ACK); rxq holds them for recv(). */
	struct usb_t0 t0;
	uint8_t rxq[USB_RXQ_LEN];
	size_t rxq_len, rxq_pos;
	/* Characters send() was given, held until the next recv() asks for the
	 * card's answer in the same XfrBlock (or a command flushes them). */
	uint8_t txq[USB_TXQ_LEN];
	size_t txq_len;

	struct tc_link_stats stats;
	char why[160]; /* the last refused exchange (last_error); "" when none */
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
/* tc_transport.caps: the descriptor and the lists (ccid_desc_caps). */
int usb_caps(const struct tc_link *l, struct tc_reader_caps *caps);

#endif
