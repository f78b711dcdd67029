/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <unistd.h>

#include "fileio.h"
#include "pcidev.h"
#include "vfiobind.h"

void vhc_vfio_binding_done(struct vhc_vfio_binding *b) {
        for (size_t i = 0; i < b->n; i++) {
                free(b->v[i].was);
                free(b->v[i].now);
        }
        free(b->v);
        *b = (struct vhc_vfio_binding){};
}

/* A sysfs attribute takes one write(): no O_TRUNC, no O_CREAT (an attribute
 * that is not there is an error, never a new file). */
static int write_attr(const char *path, const char *value, struct vhc_err *e) {
        size_t len = strlen(value);
        ssize_t n;
        int fd;

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vhc_err_set(e, negative_errno(), path, 0, "cannot open: %s", strerror(errno));
        n = write(fd, value, len);
        if (n < 0) {
                int r = negative_errno();

                close(fd);
                return vhc_err_set(e, r, path, 0, "cannot write '%s': %s", value, strerror(-r));
        }
        close(fd);
        if ((size_t)n != len)
                return vhc_err_set(e, -EIO, path, 0, "short write of '%s'", value);
        return 0;
}

/* The name of the driver a device is bound to: *ret NULL when none. */
static int read_driver(const char *dev, char **ret) {
        _cleanup_free_ char *link = NULL;
        char target[PATH_MAX];
        ssize_t n;

        if (asprintf(&link, "%s/driver", dev) < 0)
                return -ENOMEM;
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0) {
                *ret = NULL;
                return errno == ENOENT ? 0 : negative_errno();
        }
        target[n] = '\0';
        *ret = strdup(basename(target));
        return *ret ? 0 : -ENOMEM;
}

static int read_id(const char *dev, const char *name, unsigned *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        char *end;
        unsigned long v;
        int r;

        if (asprintf(&path, "%s/%s", dev, name) < 0)
                return -ENOMEM;
        r = vhc_read_machine_file(path, &text, &len, e);
        if (r < 0)
                return r;
        if (!text)
                return vhc_err_set(e, -ENOENT, path, 0, "missing: is this a PCI device?");
        errno = 0;
        v = strtoul(text, &end, 16);
        if (errno || end == text || v > 0xffff)
                return vhc_err_set(e, -EINVAL, path, 0, "not a PCI ID: %s", text);
        *ret = (unsigned)v;
        return 0;
}

int vhc_vfio_bind(const struct vhc_root *r, const char *address, uint16_t vendor, uint16_t device,
                  struct vhc_vfio_bound *ret, struct vhc_err *e) {
        _cleanup_free_ char *devs = vhc_root_path(r, VHC_PATH_SYS_PCI_DEVICES),
                            *bus = vhc_root_path(r, VHC_PATH_SYS_BUS_PCI), *dev = NULL, *attr = NULL;
        struct vhc_vfio_bound b = {};
        unsigned v, d;
        int k;

        if (!devs || !bus)
                return -ENOMEM;
        if (strlen(address) >= sizeof(b.address) || strchr(address, '/'))
                return vhc_err_set(e, -EINVAL, NULL, 0, "'%s' is not a PCI address", address);
        snprintf(b.address, sizeof(b.address), "%s", address);
        if (asprintf(&dev, "%s/%s", devs, address) < 0)
                return -ENOMEM;
        if ((k = read_id(dev, "vendor", &v, e)) < 0 || (k = read_id(dev, "device", &d, e)) < 0)
                return k;
        if (v != vendor || d != device)
                return vhc_err_set(
                        e, -ESTALE, dev, 0,
                        "is %04x:%04x, not the planned %04x:%04x: not bound; run 'virt-host-config list'", v,
                        d, vendor, device);
        k = read_driver(dev, &b.was);
        if (k < 0)
                return vhc_err_set(e, k, dev, 0, "cannot read its driver link: %s", strerror(-k));
        if (b.was && streq(b.was, "vfio-pci")) {
                b.now = strdup(b.was);
                if (!b.now) {
                        free(b.was);
                        return -ENOMEM;
                }
                *ret = b;
                return 0;
        }
        b.changed = true;

        /* 1. Only vfio-pci may probe it from now on. */
        if (asprintf(&attr, "%s/driver_override", dev) < 0)
                goto oom;
        k = write_attr(attr, "vfio-pci", e);
        if (k < 0)
                goto fail;
        /* 2. Away from the host driver (through the device's own driver link). */
        if (b.was) {
                free(attr);
                if (asprintf(&attr, "%s/driver/unbind", dev) < 0)
                        goto oom;
                k = write_attr(attr, address, e);
                if (k < 0)
                        goto fail;
        }
        /* 3. Probe: with the override set, only vfio-pci can bind. */
        free(attr);
        if (asprintf(&attr, "%s/drivers_probe", bus) < 0)
                goto oom;
        k = write_attr(attr, address, e);
        if (k < 0)
                goto fail;
        k = read_driver(dev, &b.now);
        if (k < 0)
                goto fail;
        *ret = b;
        return 0;
oom:
        k = -ENOMEM;
fail:
        free(b.was);
        free(b.now);
        return k;
}

int vhc_vfio_bind_plan(const struct vhc_root *r, const struct vhc_plan *p, struct vhc_vfio_binding *ret,
                       struct vhc_err *e) {
        struct vhc_vfio_binding b = {};
        int k;

        b.v = calloc(p->n + 1, sizeof(*b.v));
        if (!b.v)
                return -ENOMEM;
        /* The plan lists devices in address order. */
        for (size_t i = 0; i < p->n; i++) {
                const struct vhc_pci_dev *d = p->entries[i].dev;

                if (p->entries[i].action != VHC_ACTION_ISOLATE)
                        continue;
                k = vhc_vfio_bind(r, d->address, d->vendor_id, d->device_id, &b.v[b.n], e);
                if (k < 0) {
                        vhc_vfio_binding_done(&b);
                        return k;
                }
                b.n++;
        }
        *ret = b;
        return 0;
}
