/* ccid_sim_usb.c: the simulated reader's USB side on umockdev: the device in
 * the testbed's sysfs, and the usbdevfs ioctls of its device node.
 *
 * URBs: a bulk-OUT URB is answered when it is submitted (the CCID message
 * goes to ccid_sim_reader.c, which queues the answers) and is reapable at
 * once; a bulk-IN URB becomes reapable when an answer is queued, an
 * interrupt-IN URB when a NotifySlotChange is. Control URBs (the class
 * request ABORT) complete at once. After an unplug every ioctl fails with
 * ENODEV, as usbfs does. */
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
	d->dwMaximumClock = 20000;
	d->dwDataRate = 9600;
	d->dwMaxDataRate = 1000000;
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
	if (s->gone) { /* as usbfs: URBs in flight end with ENODEV, reapable */
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

static void submit(struct ccid_sim *s, struct sim_urb *u)
{
	struct usbdevfs_urb *urb = urb_of(u);
	urb->status = 0;
	urb->actual_length = 0;
	if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
		const uint8_t *setup = u->buf->data;
		if (urb->buffer_length >= 8 && setup[0] == 0x21 && setup[1] == CCID_REQ_ABORT)
			s->counts.aborts++;
		else
			urb->status = -EPIPE; /* stall: nothing else is served */
	} else if (urb->endpoint == EP_OUT) {
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
	submit(s, u);
	return 0;
}

static int ioctl_reap(struct ccid_sim *s, UMockdevIoctlData *arg)
{
	GError *err = NULL;
	for (struct sim_urb **p = &s->urbs; *p; p = &(*p)->next) {
		struct sim_urb *u = *p;
		if (!urb_ready(s, u))
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
	return s->gone ? ENODEV : EAGAIN;
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
	if (s->gone)
		return req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB ? ioctl_reap(s, arg)
		                                                                : ENODEV;
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(uint32_t), &err);
		if (!d) {
			g_clear_error(&err);
			return EFAULT;
		}
		uint32_t caps = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
		                USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
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
	snprintf(s->devnode, sizeof(s->devnode), "/dev/bus/usb/%03d/%03d", SIM_BUS, SIM_DEVADDR);
	GError *err = NULL;
	if (!umockdev_testbed_add_from_string(s->tb, rec, &err)) {
		fprintf(stderr, "ccid_sim: add device: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		return -1;
	}
	s->handler = umockdev_ioctl_base_new();
	g_signal_connect(s->handler, "handle-ioctl", G_CALLBACK(on_ioctl), s);
	if (!umockdev_testbed_attach_ioctl(s->tb, s->devnode, s->handler, &err)) {
		fprintf(stderr, "ccid_sim: attach_ioctl: %s\n", err ? err->message : "?");
		g_clear_error(&err);
		return -1;
	}
	return 0;
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
	if (!s->tb || add_device(s) < 0) {
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
	while (s->urbs) {
		struct sim_urb *u = s->urbs;
		s->urbs = u->next;
		free_urb(u);
	}
	while (s->bulk_n)
		pop_msg(s->bulk_in, &s->bulk_n);
	while (s->intr_n)
		pop_msg(s->intr_in, &s->intr_n);
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
