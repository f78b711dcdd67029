/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "err.h"
#include "plan.h"
#include "root.h"

/* Hands isolated PCI devices to vfio-pci now, on the running machine, as
 * the udev rule does at boot (apply --first-boot: an image-mode or rpm-ostree
 * deployment whose initramfs has no rule of ours). For each device, in this
 * order: driver_override = vfio-pci (from then on the PCI core lets only
 * vfio-pci probe it, so a driver loaded meanwhile cannot take it), unbind
 * from the driver that holds it, then bus/pci/drivers_probe, which binds
 * vfio-pci. vfio-pci must be loaded first (its registration binds nothing
 * that is bound already). Writes sysfs attributes only. */

struct vhc_vfio_bound {
        char address[16];
        char *was;    /* the driver before; NULL: none */
        char *now;    /* the driver after the probe; NULL: none */
        bool changed; /* false: it was on vfio-pci already, nothing written */
};

struct vhc_vfio_binding {
        struct vhc_vfio_bound *v;
        size_t n;
};

void vhc_vfio_binding_done(struct vhc_vfio_binding *b);

/* One device, named by address and expected IDs: refuses (-ESTALE) a device
 * whose vendor or device ID is not the one planned, as the rule's match does. */
int vhc_vfio_bind(const struct vhc_root *r, const char *address, uint16_t vendor, uint16_t device,
                  struct vhc_vfio_bound *ret, struct vhc_err *e);

/* Every device the plan isolates, in address order; stops at the first error. */
int vhc_vfio_bind_plan(const struct vhc_root *r, const struct vhc_plan *p, struct vhc_vfio_binding *ret,
                       struct vhc_err *e);
