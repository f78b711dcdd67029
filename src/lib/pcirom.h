/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The images of a PCI option ROM, as the PCI Firmware Specification 3.x
 * (ch. 5) lays them out and the UEFI specification (ch. 14.4.2, "PCI Option
 * ROMs") adds the EFI header: each image starts with 0x55 0xAA and points at
 * offset 0x18 to its PCI Data Structure ("PCIR"), which holds the vendor and
 * device IDs, the image length in 512-byte units, the code type (0: x86 BIOS,
 * 1: Open Firmware, 2: HP PA-RISC, 3: EFI) and, in bit 7 of the indicator,
 * whether it is the last image. An EFI image also carries its signature
 * 0x0EF1, subsystem and PE machine type at 0x04-0x0B. Pure: bytes in. */

enum vhc_rom_code {
        VHC_ROM_CODE_X86 = 0,
        VHC_ROM_CODE_OPEN_FIRMWARE = 1,
        VHC_ROM_CODE_PARISC = 2,
        VHC_ROM_CODE_EFI = 3,
};

/* PE/COFF machine types an EFI image names. */
#define VHC_EFI_MACHINE_IA32 0x014c
#define VHC_EFI_MACHINE_X64 0x8664
#define VHC_EFI_MACHINE_AARCH64 0xaa64
#define VHC_EFI_MACHINE_EBC 0x0ebc

#define VHC_ROM_MAX_IMAGES 16

struct vhc_rom_image {
        size_t offset, length; /* in the ROM, bytes */
        uint16_t vendor_id, device_id;
        uint32_t class_code;
        uint8_t pcir_revision; /* 0: PCI 2.x, 3: PCI 3.0 */
        uint8_t code_type;
        bool last;
        /* EFI images (code_type 3) only: */
        bool efi_valid;         /* the 0x0EF1 signature is there */
        uint16_t efi_subsystem; /* 10 application, 11 boot service driver, 12 runtime driver */
        uint16_t efi_machine;
        bool efi_compressed;
        uint16_t device_list[16]; /* PCI 3.0: more device IDs the image is for */
        size_t n_device_list;
};

struct vhc_rom {
        struct vhc_rom_image images[VHC_ROM_MAX_IMAGES];
        size_t n;
        size_t size;    /* bytes the images take */
        bool truncated; /* the bytes end before the last-image bit (what was read stopped short) */
};

/* Why a ROM could not be parsed: the offset of the bad image and what is
 * wrong there, one line. */
struct vhc_rom_error {
        size_t offset;
        char what[128];
};

/* 0 with at least one image. -EINVAL with e when the first image is not
 * there (no 0x55AA, no PCIR, a length of 0): a later image that is not valid
 * ends the list there, as the kernel's pci_get_rom_size() ends it. */
int vhc_pcirom_parse(const uint8_t *rom, size_t len, struct vhc_rom *ret, struct vhc_rom_error *e);

/* The first EFI image for machine (VHC_EFI_MACHINE_X64), or NULL. */
const struct vhc_rom_image *vhc_pcirom_efi(const struct vhc_rom *rom, uint16_t machine);
/* Whether the image says it is for the device (its IDs or, PCI 3.0, its device list). */
bool vhc_pcirom_image_for(const struct vhc_rom_image *img, uint16_t vendor_id, uint16_t device_id);

/* Where in the bytes an option ROM starts, for a file that carries something
 * before it (a dump tool's header): the first offset from which the ROM
 * parses, or SIZE_MAX. */
size_t vhc_pcirom_find(const uint8_t *data, size_t len);

/* Names for --json and messages; NULL for a value they do not know. */
const char *vhc_rom_code_name(uint8_t code_type);       /* "x86", "open-firmware", "pa-risc", "efi" */
const char *vhc_efi_machine_name(uint16_t machine);     /* "x86-64", "ia32", "aarch64", "ebc", ... */
const char *vhc_efi_subsystem_name(uint16_t subsystem); /* "application", "boot-service-driver", ... */
