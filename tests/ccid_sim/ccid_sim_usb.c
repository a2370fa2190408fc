/* ccid_sim_usb.c: the simulated reader's USB side on umockdev: the device in
 * the testbed's sysfs, and the usbdevfs ioctls of its device node.
 *
 * URBs: a bulk-OUT URB is answered when it is submitted (the CCID message
 * goes to ccid_sim_reader.c, which queues the answers) and is reapable at
 * once; a bulk-IN URB becomes reapable when an answer is queued, an
 * interrupt-IN URB when a NotifySlotChange is. Control URBs (the class
 * requests ABORT, GET_CLOCK_FREQUENCIES and GET_DATA_RATES) complete at once;
 * the lists come from the options (a stall without one). After an unplug
 * every ioctl fails with ENODEV, as usbfs does. */
#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ccid_msg.h"
#include "ccid_sim_int.h"

#define SIM_VID     0x1209
#define SIM_PID     0x7C01
#define EP_OUT      0x02
#define EP_IN       0x81
#define EP_INTR     0x83
#define SIM_BUS     1
#define SIM_DEVADDR 2

static void fill_desc(const struct ccid_sim_opts *o, struct ccid_desc *d)
{
	static const uint32_t level_bit[4] = {0, CCID_FEAT_LEVEL_TPDU, CCID_FEAT_LEVEL_SHORT,
	                                      CCID_FEAT_LEVEL_EXTENDED};
	memset(d, 0, sizeof(*d));
	d->bLength = CCID_DESC_LEN;
	d->bDescriptorType = CCID_DESC_TYPE;
	d->bcdCCID = 0x0110;
	d->bVoltageSupport = o->volts ? o->volts : 0x07;
	d->dwProtocols = CCID_PROTO_T0;
	d->dwDefaultClock = 3571;
	d->dwMaximumClock = o->max_clock_khz ? o->max_clock_khz : 20000;
	d->bNumClockSupported = (uint8_t)o->nclocks;
	d->dwDataRate = 9600;
	d->dwMaxDataRate = o->max_data_rate ? o->max_data_rate : 1000000;
	d->bNumDataRatesSupported = (uint8_t)o->nrates;
	d->dwMaxIFSD = 0;
	d->dwFeatures = level_bit[o->level] | o->features_add;
	if (o->level >= CCID_LEVEL_SHORT_APDU)
		d->dwFeatures |= CCID_FEAT_AUTO_CONF_ATR | CCID_FEAT_AUTO_CLOCK |
		                 CCID_FEAT_AUTO_BAUD | CCID_FEAT_AUTO_NEGOTIATE;
	d->dwMaxCCIDMessageLength = o->max_msg_len ? o->max_msg_len
	                            : o->level == CCID_LEVEL_EXTENDED_APDU
	                                ? CCID_MSG_LEN_EXTENDED
	                                : CCID_MSG_LEN_SHORT_APDU;
	d->bClassGetResponse = 0xFF;
	d->bClassEnvelope = 0xFF;
	d->bMaxCCIDBusySlots = 1;
}

static size_t put_ep(uint8_t *p, uint8_t addr, uint8_t type, uint16_t size, uint8_t interval)
{
	const uint8_t e[7] = {7, 5, addr, type, (uint8_t)size, (uint8_t)(size >> 8), interval};
	memcpy(p, e, 7);
	return 7;
}

/* Device, configuration, interface, CCID class and endpoint descriptors. */
static size_t build_descriptors(const struct ccid_sim *s, uint8_t *out)
{
	struct ccid_desc d;
	uint8_t neps = s->o.no_interrupt ? 2 : 3;
	const uint8_t dev[18] = {18,
	                         1,
	                         0x00,
	                         0x02,
	                         0,
	                         0,
	                         0,
	                         64,
	                         (uint8_t)s->o.vid,
	                         (uint8_t)(s->o.vid >> 8),
	                         (uint8_t)s->o.pid,
	                         (uint8_t)(s->o.pid >> 8),
	                         0x00,
	                         0x01,
	                         0,
	                         0,
	                         0,
	                         1};
	memcpy(out, dev, 18);
	uint8_t *cfg = out + 18;
	size_t n = 9;
	const uint8_t itf[9] = {9, 4, 0, 0, neps, 0x0B, 0, 0, 0};
	memcpy(cfg + n, itf, 9);
	n += 9;
	fill_desc(&s->o, &d);
	n += (size_t)ccid_desc_encode(&d, cfg + n, CCID_DESC_LEN);
	n += put_ep(cfg + n, EP_OUT, 2, 64, 0);
	n += put_ep(cfg + n, EP_IN, 2, 64, 0);
	if (!s->o.no_interrupt)
		n += put_ep(cfg + n, EP_INTR, 3, 8, 16);
	const uint8_t c[9] = {9, 2, (uint8_t)n, (uint8_t)(n >> 8), 1, 1, 0, 0x80, 50};
	memcpy(cfg, c, 9);
	return 18 + n;
}

/* --- URBs -------------------------------------------------------------- */

/* The device is gone for the client whose ioctl runs: unplugged, or its file
 * descriptor was opened before the last plug (usbfs never revives one). */
static bool dead(const struct ccid_sim *s)
{
	return s->gone || s->cur_gen != s->gen;
}

static struct usbdevfs_urb *urb_of(const struct sim_urb *u)
{
	return (struct usbdevfs_urb *)(void *)u->urb->data;
}

static void free_urb(struct sim_urb *u)
{
	g_object_unref(u->buf);
	g_object_unref(u->urb);
	free(u);
}

static void pop_msg(struct sim_msg *q, unsigned *n)
{
	free(q[0].b);
	memmove(q, q + 1, (*n - 1) * sizeof(*q));
	(*n)--;
}

/* Complete u from queue q when it holds a message. */
static bool complete_from(struct sim_urb *u, struct sim_msg *q, unsigned *n)
{
	struct usbdevfs_urb *urb = urb_of(u);
	if (*n == 0)
		return false;
	size_t len = q[0].n < (size_t)urb->buffer_length ? q[0].n : (size_t)urb->buffer_length;
	memcpy(u->buf->data, q[0].b, len);
	urb->actual_length = (int)len;
	urb->status = 0;
	pop_msg(q, n);
	return true;
}

/* Is u done (filling it when it is)? */
static bool urb_ready(struct ccid_sim *s, struct sim_urb *u)
{
	struct usbdevfs_urb *urb = urb_of(u);
	if (dead(s)) { /* as usbfs: URBs in flight end with ENODEV, reapable */
		urb->status = -ENODEV;
		urb->actual_length = 0;
		return true;
	}
	if (u->discarded) {
		urb->status = -ENOENT;
		urb->actual_length = 0;
		return true;
	}
	if (urb->type == USBDEVFS_URB_TYPE_CONTROL || !(urb->endpoint & 0x80))
		return true; /* answered at submission */
	if (urb->endpoint == EP_INTR)
		return complete_from(u, s->intr_in, &s->intr_n);
	return complete_from(u, s->bulk_in, &s->bulk_n);
}

/* GET_CLOCK_FREQUENCIES / GET_DATA_RATES: the list after the setup packet,
 * as many dwords as wLength takes; false when the request is not one of them. */
static bool list_request(struct ccid_sim *s, struct sim_urb *u)
{
	struct usbdevfs_urb *urb = urb_of(u);
	uint8_t *setup = u->buf->data;
	if (urb->buffer_length < 8 || setup[0] != 0xA1 ||
	    (setup[1] != CCID_REQ_GET_CLOCK_FREQS && setup[1] != CCID_REQ_GET_DATA_RATES))
		return false;
	bool clocks = setup[1] == CCID_REQ_GET_CLOCK_FREQS;
	const uint32_t *v = clocks ? s->o.clocks_khz : s->o.rates_bps;
	unsigned n = clocks ? s->o.nclocks : s->o.nrates;
	if (clocks)
		s->counts.get_clocks++;
	else
		s->counts.get_rates++;
	if (s->o.lists_stall || n == 0) {
		urb->status = -EPIPE;
		return true;
	}
	size_t room = (size_t)urb->buffer_length - 8u, want = (size_t)(setup[6] | setup[7] << 8);
	size_t len = 0;
	for (unsigned i = 0; i < n && len + 4 <= room && len + 4 <= want; i++, len += 4) {
		uint8_t *p = setup + 8 + len;
		p[0] = (uint8_t)v[i];
		p[1] = (uint8_t)(v[i] >> 8);
		p[2] = (uint8_t)(v[i] >> 16);
		p[3] = (uint8_t)(v[i] >> 24);
	}
	urb->actual_length = (int)len;
	return true;
}

/* refuse_params: SetParameters answered "failed, command not supported"
 * here, before the reader side sees it. */
static bool refuse_params(struct ccid_sim *s, const uint8_t *msg, size_t n)
{
	if (!s->o.refuse_params || n < 10 || msg[0] != CCID_PC_SET_PARAMETERS)
		return false;
	const uint8_t m[10] = {CCID_RDR_PARAMETERS, 0, 0, 0, 0, 0, msg[6], 0x40, 0x00, 0};
	s->counts.set_params++;
	sim_queue(s->bulk_in, &s->bulk_n, m, sizeof(m));
	return true;
}

/* Note a PPS request carried by an XfrBlock (TPDU or character level). */
static void note_pps(struct ccid_sim *s, const uint8_t *msg, size_t n)
{
	if (n < 13 || msg[0] != CCID_PC_XFR_BLOCK || msg[10] != 0xFF)
		return;
	size_t len = n - 10 < sizeof(s->counts.last_pps) ? n - 10 : sizeof(s->counts.last_pps);
	memcpy(s->counts.last_pps, msg + 10, len);
	s->counts.last_pps_len = (unsigned)len;
}

static void submit(struct ccid_sim *s, struct sim_urb *u)
{
	struct usbdevfs_urb *urb = urb_of(u);
	urb->status = 0;
	urb->actual_length = 0;
	if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
		const uint8_t *setup = u->buf->data;
		if (urb->buffer_length >= 8 && setup[0] == 0x21 && setup[1] == CCID_REQ_ABORT)
			s->counts.aborts++;
		else if (!list_request(s, u))
			urb->status = -EPIPE; /* stall: nothing else is served */
	} else if (urb->endpoint == EP_OUT) {
		note_pps(s, u->buf->data, (size_t)urb->buffer_length);
		if (!refuse_params(s, u->buf->data, (size_t)urb->buffer_length))
			sim_reader_message(s, u->buf->data, (size_t)urb->buffer_length);
		urb->actual_length = urb->buffer_length;
	}
	u->next = NULL;
	struct sim_urb **p = &s->urbs;
	while (*p)
		p = &(*p)->next;
	*p = u;
}

static int ioctl_submit(struct ccid_sim *s, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	struct sim_urb *u = calloc(1, sizeof(*u));
	if (!u)
		return ENOMEM;
	u->urb = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
	if (u->urb) {
		struct usbdevfs_urb *urb = urb_of(u);
		u->buf = umockdev_ioctl_data_resolve(u->urb, offsetof(struct usbdevfs_urb, buffer),
		                                     (gsize)urb->buffer_length, &err);
	}
	if (!u->urb || !u->buf) {
		fprintf(stderr, "ccid_sim: cannot read a URB: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		if (u->urb)
			g_object_unref(u->urb);
		free(u);
		return EFAULT;
	}
	u->gen = s->cur_gen;
	submit(s, u);
	return 0;
}

static int ioctl_reap(struct ccid_sim *s, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	for (struct sim_urb **p = &s->urbs; *p; p = &(*p)->next) {
		struct sim_urb *u = *p;
		if (u->gen != s->cur_gen || !urb_ready(s, u))
			continue;
		*p = u->next;
		UMockdevIoctlData *slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
		if (!slot || !umockdev_ioctl_data_set_ptr(slot, 0, u->urb)) {
			g_clear_error(&err);
			if (slot)
				g_object_unref(slot);
			free_urb(u);
			return EFAULT;
		}
		g_object_unref(slot);
		free_urb(u); /* the reap argument holds what the client needs */
		return 0;
	}
	return dead(s) ? ENODEV : EAGAIN;
}

static int ioctl_discard(struct ccid_sim *s, UMockdevIoctlData *arg)
{
	unsigned long addr = *(unsigned long *)(void *)arg->data;
	for (struct sim_urb *u = s->urbs; u; u = u->next) {
		if (u->urb->client_addr == addr && !u->discarded) {
			u->discarded = true;
			return 0;
		}
	}
	return EINVAL;
}

static int do_ioctl(struct ccid_sim *s, unsigned long req, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	if (dead(s))
		return req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB ? ioctl_reap(s, arg)
		                                                                : ENODEV;
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(uint32_t), &err);
		if (!d) {
			g_clear_error(&err);
			return EFAULT;
		}
		/* As usbfs on a host controller with scatter-gather (xHCI, EHCI):
		 * without BULK_SCATTER_GATHER libusb cuts a long bulk read (libccid
		 * reads 64 KiB) into 16 KiB URBs and discards the unused ones. */
		uint32_t caps = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
		                USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET |
		                USBDEVFS_CAP_BULK_SCATTER_GATHER;
		memcpy(d->data, &caps, sizeof(caps));
		g_object_unref(d);
		return 0;
	}
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
	case USBDEVFS_RESET:
		return 0;
	case USBDEVFS_GETDRIVER:
		return ENODATA;
	case USBDEVFS_SUBMITURB:
		return ioctl_submit(s, arg);
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		return ioctl_reap(s, arg);
	case USBDEVFS_DISCARDURB:
		return ioctl_discard(s, arg);
	default:
		return ENOTTY;
	}
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
{
	struct ccid_sim *s = user;
	(void)base;
	pthread_mutex_lock(&s->lock);
	/* A file descriptor belongs to the plug generation it first spoke in
	 * (libusb asks for the capabilities right after open). */
	gpointer g = g_object_get_data(G_OBJECT(client), "tc-sim-gen");
	if (!g) {
		g = GUINT_TO_POINTER(s->gen);
		g_object_set_data(G_OBJECT(client), "tc-sim-gen", g);
	}
	s->cur_gen = GPOINTER_TO_UINT(g);
	int e = do_ioctl(s, umockdev_ioctl_client_get_request(client),
	                 umockdev_ioctl_client_get_arg(client));
	pthread_mutex_unlock(&s->lock);
	umockdev_ioctl_client_complete(client, e ? -1 : 0, e);
	return TRUE;
}

/* --- the testbed ------------------------------------------------------- */

/* The device in umockdev's record format (N: makes the device node). */
static int add_device(struct ccid_sim *s)
{
	static uint8_t descs[512];
	static char rec[4096];
	size_t n = build_descriptors(s, descs);
	int off =
	    snprintf(rec, sizeof(rec),
	             "P: /devices/1-1\nN: bus/usb/%03d/%03d\nE: DEVNAME=/dev/bus/usb/%03d/%03d\n"
	             "E: SUBSYSTEM=usb\n"
	             "E: DEVTYPE=usb_device\nE: BUSNUM=%03d\nE: DEVNUM=%03d\n"
	             "E: PRODUCT=%x/%x/100\nA: busnum=%d\\n\nA: devnum=%d\\n\n"
	             "A: speed=12\\n\nA: bConfigurationValue=1\\n\n"
	             "A: idVendor=%04x\\n\nA: idProduct=%04x\\n\nH: descriptors=",
	             SIM_BUS, SIM_DEVADDR, SIM_BUS, SIM_DEVADDR, SIM_BUS, SIM_DEVADDR, s->o.vid,
	             s->o.pid, SIM_BUS, SIM_DEVADDR, s->o.vid, s->o.pid);
	for (size_t i = 0; i < n; i++)
		off += snprintf(rec + off, sizeof(rec) - (size_t)off, "%02X", descs[i]);
	/* pcscd's hot-plug works on the interface (bInterfaceNumber, class). */
	snprintf(rec + off, sizeof(rec) - (size_t)off,
	         "\n\nP: /devices/1-1/1-1:1.0\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\n"
	         "E: INTERFACE=11/0/0\nE: PRODUCT=%x/%x/100\nA: bInterfaceNumber=00\\n\n"
	         "A: bInterfaceClass=0b\\n\nA: bInterfaceSubClass=00\\n\n"
	         "A: bInterfaceProtocol=00\\n\n",
	         s->o.vid, s->o.pid);
	GError *err = NULL;
	if (!umockdev_testbed_add_from_string(s->tb, rec, &err)) {
		fprintf(stderr, "ccid_sim: add device: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		return -1;
	}
	return 0;
}

/* The ioctl handler on the device node; it stays attached across unplug and
 * plug (dead() answers for a device that is not there). */
static int attach_handler(struct ccid_sim *s)
{
	GError *err = NULL;
	snprintf(s->devnode, sizeof(s->devnode), "/dev/bus/usb/%03d/%03d", SIM_BUS, SIM_DEVADDR);
	s->handler = umockdev_ioctl_base_new();
	g_signal_connect(s->handler, "handle-ioctl", G_CALLBACK(on_ioctl), s);
	if (!umockdev_testbed_attach_ioctl(s->tb, s->devnode, s->handler, &err)) {
		fprintf(stderr, "ccid_sim: attach_ioctl: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		return -1;
	}
	return 0;
}

/* Every URB, queued answer and NotifySlotChange. */
static void drop_pending(struct ccid_sim *s)
{
	while (s->urbs) {
		struct sim_urb *u = s->urbs;
		s->urbs = u->next;
		free_urb(u);
	}
	while (s->bulk_n)
		pop_msg(s->bulk_in, &s->bulk_n);
	while (s->intr_n)
		pop_msg(s->intr_in, &s->intr_n);
}

struct ccid_sim *ccid_sim_start(const struct ccid_sim_opts *o)
{
	const char *preload = getenv("LD_PRELOAD");
	if (!preload || !strstr(preload, "libumockdev-preload")) {
		fprintf(stderr, "ccid_sim: not under umockdev-wrapper\n");
		return NULL;
	}
	struct ccid_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->o = *o;
	if (!s->o.vid)
		s->o.vid = SIM_VID;
	if (!s->o.pid)
		s->o.pid = SIM_PID;
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->devname, sizeof(s->devname), "usb:%04X/%04X:libudev:0:/dev/bus/usb/%03d/%03d",
	         s->o.vid, s->o.pid, SIM_BUS, SIM_DEVADDR);
	if (sim_reader_open(s) < 0) {
		fprintf(stderr, "ccid_sim: cannot reach the card at %s\n", o->card_socket);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	s->tb = umockdev_testbed_new();
	s->gen = 1;
	s->gone = s->o.unplugged;
	s->plugged = !s->o.unplugged;
	if (!s->tb || (s->plugged && add_device(s) < 0) || attach_handler(s) < 0) {
		ccid_sim_stop(s);
		return NULL;
	}
	if (getenv("CCID_SIM_DEBUG")) {
		char cmd[300];
		gchar *root = umockdev_testbed_get_root_dir(s->tb);
		snprintf(cmd, sizeof(cmd),
		         "cat %s/sys/devices/1-1/uevent %s/sys/devices/1-1/busnum >&2", root, root);
		g_free(root);
		(void)!system(cmd);
	}
	return s;
}

void ccid_sim_stop(struct ccid_sim *s)
{
	if (!s)
		return;
	if (s->tb) {
		if (s->handler)
			(void)umockdev_testbed_detach_ioctl(s->tb, s->devnode, NULL);
		g_object_unref(s->tb); /* removes the testbed directory */
	}
	if (s->handler)
		g_object_unref(s->handler);
	drop_pending(s);
	sim_reader_close(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

char *ccid_sim_root(const struct ccid_sim *s)
{
	return umockdev_testbed_get_root_dir(s->tb);
}

const char *ccid_sim_devname(const struct ccid_sim *s)
{
	return s->devname;
}

int ccid_sim_notify(struct ccid_sim *s, bool present)
{
	const uint8_t msg[2] = {CCID_RDR_NOTIFY_SLOT_CHANGE, (uint8_t)(0x02 | (present ? 1 : 0))};
	pthread_mutex_lock(&s->lock);
	sim_queue(s->intr_in, &s->intr_n, msg, sizeof(msg));
	s->counts.intr_sent++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void ccid_sim_counts(struct ccid_sim *s, struct ccid_sim_counts *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->counts;
	pthread_mutex_unlock(&s->lock);
}

/* --- hot-plug ---------------------------------------------------------- */

#define SIM_SYS_DEV "/sys/devices/1-1"
#define SIM_SYS_ITF "/sys/devices/1-1/1-1:1.0"

int ccid_sim_plug(struct ccid_sim *s)
{
	if (s->plugged) {
		fprintf(stderr, "ccid_sim: plug: the device is already there\n");
		return -1;
	}
	/* Alive before it appears: pcscd may open it as soon as the uevent is
	 * out, and its descriptor must belong to the new generation. */
	pthread_mutex_lock(&s->lock);
	s->gen++; /* descriptors opened before now stay dead */
	s->gone = false;
	drop_pending(s); /* URBs of the last generation: nobody reaps them now */
	pthread_mutex_unlock(&s->lock);
	/* No umockdev_testbed_uevent(..., "add") here: umockdev 0.17's
	 * add_from_string() already sends "add" for every device it makes (the
	 * device, then the interface) to every process preloaded with this
	 * testbed; a second one would be a duplicate. */
	if (add_device(s) < 0) {
		pthread_mutex_lock(&s->lock);
		s->gone = true;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	s->plugged = true;
	return 0;
}

int ccid_sim_unplug(struct ccid_sim *s)
{
	if (!s->plugged) {
		fprintf(stderr, "ccid_sim: unplug: the device is not there\n");
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	s->gone = true;
	pthread_mutex_unlock(&s->lock);
	/* The sender reads the device from sysfs: the events go before the
	 * directories do. The interface first, as the kernel. */
	umockdev_testbed_uevent(s->tb, SIM_SYS_ITF, "remove");
	umockdev_testbed_uevent(s->tb, SIM_SYS_DEV, "remove");
	/* umockdev 0.17 leaves a child's /sys/bus link (and a re-plug then
	 * aborts) and the device node: the interface goes first, the node by
	 * hand, so the testbed is as before the plug. */
	umockdev_testbed_remove_device(s->tb, SIM_SYS_ITF);
	umockdev_testbed_remove_device(s->tb, SIM_SYS_DEV);
	gchar *root = umockdev_testbed_get_root_dir(s->tb);
	gchar *node = g_strconcat(root, s->devnode, NULL);
	(void)remove(node);
	g_free(node);
	g_free(root);
	s->plugged = false;
	return 0;
}
