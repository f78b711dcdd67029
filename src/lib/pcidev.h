/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "err.h"
#include "macro.h"
#include "root.h"

/* PCI devices of a machine, read with libpci's linux-sysfs method pointed at
 * <root>/sys/bus/pci. libpci stays behind this file. */
struct vhc_pci_dev {
        char address[20]; /* "0000:01:00.0"; VMD domains have 5 digits: "10000:e1:00.0" */
        unsigned domain, bus, dev, func;
        uint16_t vendor_id, device_id;
        uint16_t subsys_vendor_id, subsys_device_id;
        uint32_t class_code; /* 24 bits: base class, subclass, prog-if (0x030000) */
        int iommu_group;     /* -1: unknown */
        char *driver;        /* bound driver, NULL: none */
        char *modalias;      /* NULL: unknown */
        char *vendor_name;   /* from pci.ids, NULL: unknown */
        char *device_name;
        char *class_name;
        bool boot_vga; /* boot_vga = 1, or the DRM device's boot_display = 1 */
};

static inline uint16_t vhc_pci_class(const struct vhc_pci_dev *d) {
        return (uint16_t)(d->class_code >> 8); /* 0x0300 */
}
static inline bool vhc_pci_is_display(const struct vhc_pci_dev *d) {
        return (d->class_code >> 16) == 0x03;
}
static inline bool vhc_pci_is_bridge(const struct vhc_pci_dev *d) {
        return vhc_pci_class(d) == 0x0604;
}

struct vhc_pci_list {
        struct vhc_pci_dev *devs; /* in address order */
        size_t n;
        bool groups_known;   /* <root>/sys/kernel/iommu_groups has groups */
        bool boot_vga_known; /* some device has boot_vga or boot_display = 1 */
};

int vhc_pci_scan(const struct vhc_root *r, struct vhc_pci_list **ret, struct vhc_err *e);
struct vhc_pci_list *vhc_pci_list_free(struct vhc_pci_list *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_pci_list *, vhc_pci_list_free);

/* address: "0000:01:00.0", or "01:00.0" for domain 0. */
const struct vhc_pci_dev *vhc_pci_find(const struct vhc_pci_list *l, const char *address);
/* Same domain:bus:device. */
bool vhc_pci_same_slot(const struct vhc_pci_dev *a, const struct vhc_pci_dev *b);

/* Test-only: called after libpci has listed the devices, before they are read. */
extern void (*vhc_pci_enumerated_hook)(void);
