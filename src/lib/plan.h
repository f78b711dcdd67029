/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "err.h"
#include "pcidev.h"

/* The isolation policy of DESIGN.md, pure: devices and config in, a decision
 * per device out. */
enum vhc_action {
        VHC_ACTION_KEEP,
        VHC_ACTION_ISOLATE,
};

struct vhc_plan_entry {
        const struct vhc_pci_dev *dev; /* points into the scanned list */
        enum vhc_action action;
        char *reason; /* "non-boot display controller", "shares IOMMU group 1 with 0000:00:1f.0 (...)" */
        bool vendor_reset; /* isolated, on vendor-reset's list, and vendor_reset = yes */
        char *warning;     /* isolated although it should not be (a BMC display named in isolate); NULL */
};

struct vhc_plan {
        struct vhc_plan_entry *entries; /* one per device, in the list's order */
        size_t n;
        bool groups_known;
        char *note; /* a whole-plan remark, e.g. why auto isolates nothing; NULL */
};

/* Errors (-EINVAL, with e): an explicit address that does not exist, one that
 * is, or shares a slot or group with, the boot VGA device, one whose slot mate
 * does, or a PCI bridge (vfio-pci cannot take one). A listed device whose IOMMU
 * group holds a device of another slot is no error: it stays keep, with the
 * reason. Two selected slots that share a group go together. Every entry has a
 * reason; plan->note is set when auto finds no boot VGA device or nothing to
 * isolate, or when groups are unknown and the plan was made by slot only. */
int vhc_plan_make(const struct vhc_pci_list *l, const struct vhc_config *c, struct vhc_plan **ret,
                  struct vhc_err *e);
struct vhc_plan *vhc_plan_free(struct vhc_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_plan *, vhc_plan_free);

/* A baseboard management controller's display (ASPEED AST, Matrox G200
 * server variants): auto keeps it, naming it isolates it with a warning. */
bool vhc_plan_is_bmc_display(const struct vhc_pci_dev *d);

size_t vhc_plan_count_isolated(const struct vhc_plan *p);
