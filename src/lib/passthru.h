/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "pciattr.h"
#include "pcidev.h"
#include "pcirom.h"
#include "root.h"

/* Will this device work in a guest: what its sysfs directory says about
 * reset, option ROM and BARs (read through the root, parsed by pciattr.c and
 * pcirom.c), and what the tool knows that the device does not say: the
 * reset-bug list of vendor-reset and the 64-bit MMIO window OVMF gives. */

/* What could be read. Each *_r is 0 or why it could not: -ENOENT no such
 * file, -EACCES needs root, -EINVAL not what the kernel writes. */
struct vhc_passthru_info {
        int cfg_r;
        struct vhc_pcicfg cfg; /* cfg.caps_read is false when only a user's 64 bytes came */
        int res_r;
        unsigned res_line; /* res_r -EINVAL: the bad line */
        struct vhc_pci_resources res;
        int reset_r; /* -ENOENT: no reset_method (no method, or a kernel before 5.15) */
        struct vhc_reset_methods reset;
        char parent[20]; /* the bridge above ("0000:00:01.0"); "": on a root bus */
};

/* config, resource and reset_method; never the ROM. -ENOMEM only. */
int vhc_passthru_read(const struct vhc_root *r, const struct vhc_pci_dev *d, struct vhc_passthru_info *ret);

/* ---------------------------------------------------------------- the ROM */

enum vhc_rom_state {
        VHC_ROM_READ,       /* rom holds the images */
        VHC_ROM_SKIPPED,    /* not read: a host driver has the device (why) */
        VHC_ROM_NONE,       /* the device has no rom attribute: no expansion ROM */
        VHC_ROM_UNREADABLE, /* tried and failed (why) */
};

struct vhc_rom_read {
        enum vhc_rom_state state;
        char why[200]; /* SKIPPED and UNREADABLE: one line */
        int r;         /* UNREADABLE: the errno, -ETIMEDOUT after the time bound */
        struct vhc_rom rom;
        struct vhc_rom_error error; /* UNREADABLE with r -EINVAL: what the bytes are not */
        bool enabled_by_us;         /* sysfs: we wrote "1" to rom (and enable) and "0" after */
};

/* Reads the option ROM of d, only when vfio-pci or no driver has it: a host
 * driver may be using the ROM BAR, and the ROM of the boot display is the
 * firmware's shadow copy; and not while vfio-pci has the device enabled,
 * which it does when QEMU opens it (a guest may be using it). On sysfs it writes "1" to the device's enable file
 * (when it says 0) and to rom, reads, and writes "0" back to both, as
 * Documentation/PCI/sysfs-pci.rst says; in a tree that is not sysfs (a fake
 * machine) the file holds the ROM as it is and nothing is written. The read
 * runs in a child process that is killed after timeout_ms: a device in a bad
 * state can stall reads of its ROM BAR. -ENOMEM only; the rest is in ret. */
int vhc_passthru_read_rom(const struct vhc_root *r, const struct vhc_pci_dev *d, unsigned timeout_ms,
                          struct vhc_rom_read *ret);

#define VHC_ROM_TIMEOUT_MS 2000

/* Test-only: when set, the sysfs writes of the ROM read go here instead
 * (path on this machine, value), and every tree counts as sysfs. */
extern int (*vhc_passthru_sysfs_write_hook)(const char *path, const char *value);

/* ------------------------------------------------------------- the reset bug */

/* A device that vendor-reset resets and nothing in the kernel does: AMD GPUs
 * whose second guest start finds them hung. The list is vendor-reset's own,
 * src/device-db.h of gnif/vendor-reset at 084881c (2024-04-17). */
struct vhc_reset_quirk {
        const char *family; /* "AMD Polaris 10" */
        const char *cards;  /* "RX 470, 480, 570, 580, 590" */
};

const struct vhc_reset_quirk *vhc_passthru_reset_quirk(uint16_t vendor_id, uint16_t device_id);

/* The module vendor-reset builds (vendor-reset.ko), as the kernel names it. */
#define VHC_VENDOR_RESET_MODULE "vendor_reset"

/* ----------------------------------------------------------------- the BARs */

/* The 64-bit memory BARs: their sum, and the largest (its index in *ret_bar). */
uint64_t vhc_passthru_bars64(const struct vhc_pci_resources *res, uint64_t *ret_largest, unsigned *ret_bar);

/* OVMF's 64-bit PCI MMIO window. The classic one is PcdPciMmio64Size in
 * edk2's OvmfPkg/OvmfPkgX64.dsc, 0x800000000: every edk2 before
 * edk2-stable202211, and later ones when they do not trust the guest's
 * physical address width. Since edk2-stable202211 (PlatformDynamicMmioWindow
 * in OvmfPkg/Library/PlatformInitLib/MemDetect.c) it is 1/8 of the guest's
 * physical address space when they do: phys-bits capped at 46, and at 40
 * without 1 GiB pages. opt/ovmf/X-PciMmio64Mb (fw_cfg) sets it, in MiB, for
 * every version. */
#define VHC_OVMF_MMIO64_CLASSIC (UINT64_C(32) << 30)
uint64_t vhc_passthru_ovmf_dynamic_window(unsigned phys_bits, bool gbpages);

/* The window a guest with these 64-bit BARs (their sum) needs: the sum and a
 * quarter more, for the guest's own devices and the prefetchable windows OVMF
 * reserves on each hot-plug root port, rounded up to a power of two as BAR
 * placement is; 0 for 0. */
uint64_t vhc_passthru_mmio64_need(uint64_t bars64_sum);
