/* usb.c: the USB CCID transport's device side: the name pcscd gives, finding
 * the reader and its CCID interface, the class descriptor (quirks, checks),
 * its clock and data-rate lists (GET_CLOCK_FREQUENCIES, GET_DATA_RATES) and
 * the capabilities they give the PPS decision (usb_caps), and the interrupt
 * endpoint whose NotifySlotChange wakes the polling thread.
 *
 * Endpoint (the DEVICENAME after "usb:"):
 *   VVVV/PPPP                                  the first reader with that ID
 *   VVVV/PPPP:libudev:IF:/dev/bus/usb/BBB/DDD  pcscd's hot-plug name
 *   VVVV/PPPP:libusb-1.0:BBB:DDD:IF            pcscd's libusb hot-plug name
 * TC_USB_TIMEOUT_MS sets the bulk transfer timeout (default 5000 ms). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ccid_quirks.h"
#include "log.h"
#include "tc_error.h"
#include "usb_int.h"

#define CCID_CLASS 0x0B

int usb_parse_name(const char *ep, struct usb_name *n)
{
	unsigned vid, pid, a, b, c;
	int used = 0;

	n->bus = n->addr = n->ifnum = -1;
	if (sscanf(ep, "%4x/%4x%n", &vid, &pid, &used) != 2 || used != 9)
		goto bad;
	n->vid = (uint16_t)vid;
	n->pid = (uint16_t)pid;
	ep += used;
	if (*ep == '\0')
		return TC_OK;
	used = 0;
	if (sscanf(ep, ":libudev:%u:/dev/bus/usb/%3u/%3u%n", &c, &a, &b, &used) == 3 &&
	    ep[used] == '\0') {
		n->ifnum = (int)c;
	} else if (used = 0, sscanf(ep, ":libusb-1.0:%u:%u:%u%n", &a, &b, &c, &used) == 3 &&
	                         ep[used] == '\0') {
		n->ifnum = (int)c;
	} else {
		goto bad;
	}
	if (a > 255 || b > 255 || c > 255)
		goto bad;
	n->bus = (int)a;
	n->addr = (int)b;
	return TC_OK;
bad:
	LOG_ERR("usb: cannot read the device name '%s' (want VVVV/PPPP[:libudev:IF:/dev/bus/usb/"
	        "BBB/DDD])",
	        ep);
	return TC_E_INVAL;
}

int usb_err(struct tc_link *l, int libusb_rc)
{
	switch (libusb_rc) {
	case LIBUSB_SUCCESS:
		return TC_OK;
	case LIBUSB_ERROR_NO_DEVICE:
		atomic_store(&l->gone, true);
		atomic_store(&l->present, false);
		return TC_E_CLOSED;
	case LIBUSB_ERROR_TIMEOUT:
		return TC_E_TIMEOUT;
	default:
		return TC_E_IO;
	}
}

/* The CCID class descriptor among the interface's extra descriptors. */
static const uint8_t *find_class_desc(const struct libusb_interface_descriptor *alt)
{
	const uint8_t *p = alt->extra;
	int left = alt->extra_length;
	while (left >= 2 && p[0] >= 2 && p[0] <= left) {
		if (p[1] == CCID_DESC_TYPE && p[0] == CCID_DESC_LEN)
			return p;
		left -= p[0];
		p += p[0];
	}
	return NULL;
}

static void take_endpoints(struct tc_link *l, const struct libusb_interface_descriptor *alt)
{
	for (int e = 0; e < alt->bNumEndpoints; e++) {
		const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
		unsigned type = ep->bmAttributes & 3u;
		bool in = (ep->bEndpointAddress & 0x80u) != 0;
		if (type == LIBUSB_TRANSFER_TYPE_BULK && in)
			l->ep_in = ep->bEndpointAddress;
		else if (type == LIBUSB_TRANSFER_TYPE_BULK)
			l->ep_out = ep->bEndpointAddress;
		else if (type == LIBUSB_TRANSFER_TYPE_INTERRUPT && in)
			l->ep_intr = ep->bEndpointAddress;
	}
}

/* Decode, fix by the quirk table, judge. */
static int take_class_desc(struct tc_link *l, const uint8_t *raw)
{
	char why[CCID_WHY_LEN], line[300];
	const struct ccid_quirk *q = ccid_quirk_lookup(l->vid, l->pid, l->bcd);

	if (q && (q->flags & CCID_QUIRK_BOGUS_FIRMWARE)) {
		LOG_ERR("usb %04X/%04X: firmware %X.%02X of %s is known to be broken (%s); not "
		        "opened",
		        l->vid, l->pid, l->bcd >> 8, l->bcd & 0xFFu, q->name, q->source);
		return TC_E_UNSUPPORTED;
	}
	int rc = ccid_desc_decode(raw, CCID_DESC_LEN, &l->desc);
	if (rc == TC_OK && q && ccid_quirk_apply(q, &l->desc))
		LOG_INFO("usb %04X/%04X: descriptor fixed by the quirk for %s (%s)", l->vid, l->pid,
		         q->name, q->source);
	if (rc == TC_OK)
		rc = ccid_desc_check(&l->desc, why, sizeof(why));
	if (rc < 0) {
		LOG_ERR("usb %04X/%04X: CCID descriptor refused: %s", l->vid, l->pid, why);
		return TC_E_FORMAT;
	}
	LOG_INFO("usb %04X/%04X: %s", l->vid, l->pid,
	         ccid_desc_describe(&l->desc, line, sizeof(line)));
	return TC_OK;
}

/* Find the CCID interface of dev (interface ifnum, or the first of class
 * 0x0B) with its endpoints and class descriptor. */
static int take_interface(struct tc_link *l, libusb_device *dev, int ifnum)
{
	struct libusb_config_descriptor *cfg = NULL;
	int rc = TC_E_UNSUPPORTED;

	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
	    libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return TC_E_IO;
	for (int i = 0; i < cfg->bNumInterfaces && rc == TC_E_UNSUPPORTED; i++) {
		if (cfg->interface[i].num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *alt = &cfg->interface[i].altsetting[0];
		if (ifnum >= 0 ? alt->bInterfaceNumber != ifnum
		               : alt->bInterfaceClass != CCID_CLASS)
			continue;
		const uint8_t *raw = find_class_desc(alt);
		if (!raw) {
			LOG_ERR("usb %04X/%04X: interface %u has no CCID class descriptor", l->vid,
			        l->pid, alt->bInterfaceNumber);
			rc = TC_E_FORMAT;
			break;
		}
		l->ifnum = alt->bInterfaceNumber;
		take_endpoints(l, alt);
		rc = take_class_desc(l, raw);
		if (rc == TC_OK && (!l->ep_in || !l->ep_out)) {
			LOG_ERR("usb %04X/%04X: the CCID interface lacks a bulk endpoint", l->vid,
			        l->pid);
			rc = TC_E_FORMAT;
		}
	}
	libusb_free_config_descriptor(cfg);
	return rc;
}

static libusb_device *find_device(struct tc_link *l, const struct usb_name *n)
{
	libusb_device **list = NULL, *found = NULL;
	ssize_t cnt = libusb_get_device_list(l->ctx, &list);
	for (ssize_t i = 0; i < cnt && !found; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd) != 0)
			continue;
		if (dd.idVendor != n->vid || dd.idProduct != n->pid)
			continue;
		if (n->bus >= 0 && (libusb_get_bus_number(list[i]) != n->bus ||
		                    libusb_get_device_address(list[i]) != n->addr))
			continue;
		l->bcd = dd.bcdDevice;
		found = libusb_ref_device(list[i]);
	}
	if (cnt >= 0)
		libusb_free_device_list(list, 1);
	return found;
}

static void notify(struct tc_link *l)
{
	uint64_t one = 1;
	(void)!write(l->event_fd, &one, sizeof(one));
}

static void LIBUSB_CALL intr_done(struct libusb_transfer *t)
{
	struct tc_link *l = t->user_data;
	struct ccid_intr in;
	char why[CCID_WHY_LEN];

	if (t->status == LIBUSB_TRANSFER_COMPLETED &&
	    ccid_intr_parse(t->buffer, (size_t)t->actual_length, l->desc.bMaxSlotIndex, &in, why,
	                    sizeof(why)) == TC_OK) {
		if (in.type == CCID_RDR_NOTIFY_SLOT_CHANGE) {
			atomic_store(&l->present, ccid_intr_present(&in, 0));
		} else {
			LOG_ERR("usb %04X/%04X: hardware error 0x%02X on slot %u", l->vid, l->pid,
			        in.hw_error, in.slot);
			atomic_store(&l->present, false);
		}
		notify(l);
	} else if (t->status == LIBUSB_TRANSFER_COMPLETED) {
		LOG_ERR("usb %04X/%04X: interrupt message refused: %s", l->vid, l->pid, why);
	} else if (t->status == LIBUSB_TRANSFER_NO_DEVICE) {
		atomic_store(&l->gone, true);
		atomic_store(&l->present, false);
		notify(l);
	}
	bool again =
	    !atomic_load(&l->stop) && !atomic_load(&l->gone) &&
	    (t->status == LIBUSB_TRANSFER_COMPLETED || t->status == LIBUSB_TRANSFER_TIMED_OUT);
	if (again && libusb_submit_transfer(t) == 0)
		return;
	atomic_store(&l->intr_active, false);
}

static void *event_thread(void *arg)
{
	struct tc_link *l = arg;
	while (atomic_load(&l->intr_active) && !atomic_load(&l->stop)) {
		struct timeval tv = {0, 200000};
		(void)libusb_handle_events_timeout_completed(l->ctx, &tv, NULL);
	}
	return NULL;
}

/* Run the interrupt endpoint in a thread of libusb events. */
static int start_events(struct tc_link *l)
{
	if (!l->ep_intr)
		return TC_OK;
	l->intr = libusb_alloc_transfer(0);
	if (!l->intr)
		return TC_E_NOMEM;
	libusb_fill_interrupt_transfer(l->intr, l->h, l->ep_intr, l->intr_buf, sizeof(l->intr_buf),
	                               intr_done, l, 0);
	atomic_store(&l->intr_active, true);
	int rc = libusb_submit_transfer(l->intr);
	if (rc != 0) {
		atomic_store(&l->intr_active, false);
		return usb_err(l, rc);
	}
	if (pthread_create(&l->thread, NULL, event_thread, l) != 0) {
		(void)libusb_cancel_transfer(l->intr);
		return TC_E_IO;
	}
	l->thread_running = true;
	return TC_OK;
}

static int open_device(struct tc_link *l, const struct usb_name *n)
{
	libusb_device *dev = find_device(l, n);
	if (!dev) {
		LOG_ERR("usb %04X/%04X: no such device", n->vid, n->pid);
		return TC_E_NO_CARD;
	}
	l->bus = libusb_get_bus_number(dev);
	l->addr = libusb_get_device_address(dev);
	int rc = take_interface(l, dev, n->ifnum);
	if (rc == TC_OK) {
		int urc = libusb_open(dev, &l->h);
		if (urc == 0)
			urc = libusb_claim_interface(l->h, l->ifnum);
		if (urc != 0)
			LOG_ERR("usb %04X/%04X: cannot open: %s", l->vid, l->pid,
			        libusb_strerror(urc));
		rc = usb_err(l, urc);
	}
	libusb_unref_device(dev);
	return rc;
}

/* One list class request (GET_CLOCK_FREQUENCIES or GET_DATA_RATES) of
 * `announced` entries into out; *n stays 0 when the reader refuses it or
 * answers garbage (logged: the descriptor's ranges then apply). */
static void read_list(struct tc_link *l, uint8_t req, unsigned announced, uint32_t max,
                      const char *what, uint32_t *out, size_t *n)
{
	uint8_t buf[CCID_MAX_LIST * 4u];
	char why[CCID_WHY_LEN];
	unsigned dropped = 0;

	*n = 0;
	if (announced == 0)
		return;
	int got = libusb_control_transfer(
	    l->h, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE, req,
	    0, (uint16_t)l->ifnum, buf, (uint16_t)(announced * 4u), l->timeout_ms);
	if (got < 0) {
		LOG_INFO("usb %04X/%04X: the reader does not give its %s list (%s); its range "
		         "applies",
		         l->vid, l->pid, what, libusb_strerror(got));
		return;
	}
	if (ccid_list_parse(buf, (size_t)got, max, what, out, CCID_MAX_LIST, n, &dropped, why,
	                    sizeof(why)) < 0) {
		LOG_ERR("usb %04X/%04X: %s list ignored: %s", l->vid, l->pid, what, why);
		return;
	}
	if ((size_t)got != announced * 4u || dropped)
		LOG_INFO("usb %04X/%04X: %s list: %d entries for %u announced, %u dropped", l->vid,
		         l->pid, what, got / 4, announced, dropped);
	LOG_INFO("usb %04X/%04X: %zu %s values, %u to %u", l->vid, l->pid, *n, what,
	         (unsigned)out[0], (unsigned)out[*n - 1]);
}

int usb_caps(const struct tc_link *l, struct tc_reader_caps *caps)
{
	ccid_desc_caps(&l->desc, l->clocks_khz, l->nclocks, l->rates_bps, l->nrates, caps);
	return TC_OK;
}

static enum tc_level level_of(const struct ccid_desc *d)
{
	switch (d->level) {
	case CCID_LEVEL_TPDU:
		return TC_LEVEL_TPDU;
	case CCID_LEVEL_SHORT_APDU:
		return TC_LEVEL_SHORT_APDU;
	case CCID_LEVEL_EXTENDED_APDU:
		return TC_LEVEL_EXTENDED_APDU;
	case CCID_LEVEL_CHARACTER:
	default:
		return TC_LEVEL_CHAR;
	}
}

static int open_link(struct tc_link *l, const char *endpoint)
{
	struct usb_name n;
	int rc = usb_parse_name(endpoint, &n);
	if (rc < 0)
		return rc;
	l->vid = n.vid;
	l->pid = n.pid;
	if (libusb_init(&l->ctx) != 0) {
		l->ctx = NULL;
		return TC_E_IO;
	}
	rc = open_device(l, &n);
	if (rc < 0)
		return rc;
	read_list(l, CCID_REQ_GET_CLOCK_FREQS, l->desc.bNumClockSupported, l->desc.dwMaximumClock,
	          "clock", l->clocks_khz, &l->nclocks);
	read_list(l, CCID_REQ_GET_DATA_RATES, l->desc.bNumDataRatesSupported, l->desc.dwMaxDataRate,
	          "data rate", l->rates_bps, &l->nrates);
	l->level = level_of(&l->desc);
	l->buf_cap = l->desc.max_msg_len;
	l->buf = malloc(l->buf_cap);
	if (!l->buf)
		return TC_E_NOMEM;
	bool present = false;
	rc = usb_slot_status(l, &present);
	if (rc < 0 && rc != TC_E_NO_CARD)
		return rc;
	atomic_store(&l->present, present);
	return start_events(l);
}

int usb_open(struct tc_link **out, const char *endpoint)
{
	struct tc_link *l = calloc(1, sizeof(*l));
	if (!l)
		return TC_E_NOMEM;
	l->ifnum = -1;
	l->F = 372;
	l->D = 1;
	l->params_fidi = 0x11;
	l->timeout_ms = USB_TIMEOUT_MS;
	const char *t = getenv("TC_USB_TIMEOUT_MS");
	if (t && atoi(t) > 0)
		l->timeout_ms = (unsigned)atoi(t);
	l->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = l->event_fd < 0 ? TC_E_IO : open_link(l, endpoint);
	if (rc < 0) {
		usb_close(l);
		return rc;
	}
	*out = l;
	return TC_OK;
}

void usb_close(struct tc_link *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, 1);
	if (l->intr && atomic_load(&l->intr_active))
		(void)libusb_cancel_transfer(l->intr);
	if (l->thread_running) {
		libusb_interrupt_event_handler(l->ctx);
		pthread_join(l->thread, NULL);
	}
	/* The cancelled transfer's callback may still be due. */
	for (int i = 0; i < 50 && l->intr && atomic_load(&l->intr_active); i++) {
		struct timeval tv = {0, 20000};
		(void)libusb_handle_events_timeout_completed(l->ctx, &tv, NULL);
	}
	/* A transfer libusb never completed stays allocated: freeing it under
	 * libusb's feet would be worse than the leak. */
	if (l->intr && !atomic_load(&l->intr_active))
		libusb_free_transfer(l->intr);
	else if (l->intr)
		LOG_ERR("usb %04X/%04X: the interrupt transfer did not end", l->vid, l->pid);
	if (l->h) {
		if (!atomic_load(&l->gone))
			(void)libusb_release_interface(l->h, l->ifnum);
		libusb_close(l->h);
	}
	if (l->ctx)
		libusb_exit(l->ctx);
	if (l->event_fd >= 0)
		close(l->event_fd);
	free(l->buf);
	free(l);
}

int usb_presence(struct tc_link *l, int timeout_ms, bool *present)
{
	uint64_t v;
	if (atomic_load(&l->gone)) {
		*present = false;
		return TC_OK;
	}
	if (!l->ep_intr || !atomic_load(&l->intr_active)) {
		int rc = usb_slot_status(l, present);
		if (rc == TC_E_NO_CARD || rc == TC_E_CLOSED) {
			*present = false;
			return TC_OK;
		}
		return rc;
	}
	if (timeout_ms > 0 && read(l->event_fd, &v, sizeof(v)) < 0) {
		struct pollfd p = {.fd = l->event_fd, .events = POLLIN};
		(void)poll(&p, 1, timeout_ms);
	}
	(void)!read(l->event_fd, &v, sizeof(v));
	*present = atomic_load(&l->present);
	return TC_OK;
}

int usb_event_fd(const struct tc_link *l)
{
	return l->ep_intr ? l->event_fd : -1;
}
