/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Parsers of three sysfs attributes of a PCI device, for what they say about
 * passing it to a guest. Pure: the attribute's bytes in, facts out; reading
 * them is passthru.c's job.
 *
 *   config        the configuration space: 64 bytes when read by a user, 256
 *                 (conventional PCI) or 4096 (PCI Express) by root. The
 *                 capability lists as the PCI and PCIe base specifications lay
 *                 them out: PCIe DevCap bit 28 (FLR), the Advanced Features
 *                 capability (conventional FLR), PM's No_Soft_Reset, the
 *                 Resizable BAR extended capability (ID 0x15).
 *   resource      one "0x%016llx 0x%016llx 0x%016llx" line (start, end,
 *                 flags) per resource: the six BARs, the ROM, then SR-IOV and
 *                 bridge windows (drivers/pci/pci-sysfs.c, resource_show).
 *   reset_method  the reset methods the kernel will try, in order, space
 *                 separated (Linux 5.15+, Documentation/ABI/testing/sysfs-bus-pci);
 *                 the file exists only when the device has at least one. */

#define VHC_PCI_N_BARS 6

/* One entry of a Resizable BAR capability. */
struct vhc_pci_rebar {
        unsigned bar;     /* BAR index, 0-5 */
        uint64_t sizes;   /* bit n set: 2^n MiB is supported (1 MiB ... 8 EiB, n 0-43) */
        unsigned current; /* the size now: 2^current MiB */
};

struct vhc_pcicfg {
        size_t len;     /* bytes parsed */
        bool caps_read; /* the capability list was inside what was read */
        bool ext_read;  /* the extended capabilities were (4096 bytes) */
        uint16_t vendor_id, device_id;
        bool pcie;             /* has a PCI Express capability */
        unsigned pcie_type;    /* its device/port type: 0 endpoint, 1 legacy endpoint, 4 root port... */
        bool flr;              /* PCIe DevCap: Function Level Reset */
        bool af_flr;           /* Advanced Features capability: FLR (conventional PCI) */
        bool pm;               /* has a Power Management capability */
        bool pm_no_soft_reset; /* PMCSR No_Soft_Reset: D3hot to D0 keeps the device's state */
        struct vhc_pci_rebar rebar[VHC_PCI_N_BARS];
        size_t n_rebar;
};

/* -EINVAL: fewer than 64 bytes, or an ID of 0xffff (the device answers
 * nothing: gone, or powered off). A capability list that loops or points out
 * of bounds ends where it goes wrong; what was found before stays. */
int vhc_pcicfg_parse(const uint8_t *cfg, size_t len, struct vhc_pcicfg *ret);

/* The Resizable BAR entry of a BAR; NULL if it has none. */
const struct vhc_pci_rebar *vhc_pcicfg_rebar(const struct vhc_pcicfg *c, unsigned bar);

/* resource flags (include/linux/ioport.h) */
#define VHC_IORESOURCE_IO 0x00000100UL
#define VHC_IORESOURCE_MEM 0x00000200UL
#define VHC_IORESOURCE_PREFETCH 0x00002000UL
#define VHC_IORESOURCE_MEM_64 0x00100000UL
#define VHC_IORESOURCE_UNSET 0x20000000UL

struct vhc_pci_bar {
        unsigned index;
        uint64_t start, size;
        uint64_t flags;
        bool io, mem64, prefetch;
};

struct vhc_pci_resources {
        struct vhc_pci_bar bars[VHC_PCI_N_BARS]; /* the BARs that are in use, by index */
        size_t n;
        uint64_t rom_size; /* the expansion ROM BAR; 0: none */
};

/* -EINVAL with *ret_line (1-based) on a line that is not three hex numbers
 * with start <= end, or a file without the six BAR lines. */
int vhc_pci_resources_parse(const char *text, size_t len, struct vhc_pci_resources *ret, unsigned *ret_line);

/* The kernel's reset methods (drivers/pci/pci.c, pci_reset_fn_methods[]). */
enum vhc_reset_method {
        VHC_RESET_DEVICE_SPECIFIC,
        VHC_RESET_ACPI,
        VHC_RESET_FLR,
        VHC_RESET_AF_FLR,
        VHC_RESET_PM,
        VHC_RESET_BUS,
        VHC_RESET_CXL_BUS,
        VHC_RESET_OTHER, /* a name a later kernel added */
        _VHC_RESET_MAX,
};

struct vhc_reset_methods {
        enum vhc_reset_method m[16]; /* in the order the kernel tries them */
        char name[16][24];
        size_t n; /* 0: the user turned resets off (an empty file) */
};

/* -EINVAL for a word that is not a method name ([a-z0-9_]) or more than 16. */
int vhc_reset_methods_parse(const char *text, struct vhc_reset_methods *ret);
bool vhc_reset_methods_has(const struct vhc_reset_methods *r, enum vhc_reset_method m);
const char *vhc_reset_method_name(enum vhc_reset_method m); /* "device_specific" */
