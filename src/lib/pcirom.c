/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "pcirom.h"
#include "unaligned.h"

/* Offsets in an image (PCI Firmware 3.x, 5.1; UEFI 2.10, 14.4.2). */
#define ROM_SIG0 0x55
#define ROM_SIG1 0xaa
#define ROM_EFI_SIGNATURE 0x04 /* uint32 0x0EF1 */
#define ROM_EFI_SUBSYSTEM 0x08
#define ROM_EFI_MACHINE 0x0a
#define ROM_EFI_COMPRESSION 0x0c
#define ROM_PCIR_PTR 0x18
#define ROM_HEADER_LEN 0x1a
#define EFI_SIGNATURE 0x0ef1
/* In the PCI Data Structure. */
#define PCIR_VENDOR 0x04
#define PCIR_DEVICE 0x06
#define PCIR_DEVICE_LIST 0x08 /* PCI 3.0; "reserved" before */
#define PCIR_LENGTH 0x0a
#define PCIR_REVISION 0x0c
#define PCIR_CLASS 0x0d
#define PCIR_IMAGE_LENGTH 0x10 /* in 512-byte units */
#define PCIR_CODE_TYPE 0x14
#define PCIR_INDICATOR 0x15
#define PCIR_LAST_IMAGE 0x80
#define PCIR_MIN_LEN 0x18

_printf_(3, 4) static int bad(struct vhc_rom_error *e, size_t off, const char *fmt, ...) {
        va_list ap;

        if (e) {
                e->offset = off;
                va_start(ap, fmt);
                vsnprintf(e->what, sizeof(e->what), fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static void device_list(const uint8_t *rom, size_t len, size_t img, size_t pcir, struct vhc_rom_image *im) {
        uint16_t ptr = unaligned_read_le16(rom + pcir + PCIR_DEVICE_LIST);
        size_t at;

        /* The list's offset counts from the PCI Data Structure. */
        if (im->pcir_revision < 3 || ptr == 0)
                return;
        at = pcir + ptr;
        for (;
             at + 2 <= len && at + 2 <= img + im->length && im->n_device_list < ELEMENTSOF(im->device_list);
             at += 2) {
                uint16_t id = unaligned_read_le16(rom + at);

                if (id == 0)
                        return;
                im->device_list[im->n_device_list++] = id;
        }
}

/* 0 and the image at off; -EINVAL (with e) when no valid image starts there. */
static int image_at(const uint8_t *rom, size_t len, size_t off, struct vhc_rom_image *im,
                    struct vhc_rom_error *e) {
        size_t pcir;
        uint16_t units;

        if (off + ROM_HEADER_LEN > len)
                return bad(e, off, "%zu bytes, too few for an image header", len - off);
        if (rom[off] != ROM_SIG0 || rom[off + 1] != ROM_SIG1)
                return bad(e, off, "starts with %02x %02x, not the signature 55 aa", rom[off], rom[off + 1]);
        pcir = off + unaligned_read_le16(rom + off + ROM_PCIR_PTR);
        if (pcir < off + ROM_HEADER_LEN || pcir + PCIR_MIN_LEN > len)
                return bad(e, off, "its PCI data structure pointer (0x%04x) points outside the image",
                           unaligned_read_le16(rom + off + ROM_PCIR_PTR));
        if (memcmp(rom + pcir, "PCIR", 4) != 0)
                return bad(e, off, "no \"PCIR\" signature at 0x%zx", pcir);
        units = unaligned_read_le16(rom + pcir + PCIR_IMAGE_LENGTH);
        if (units == 0)
                return bad(e, off, "the PCI data structure gives an image length of 0");
        *im = (struct vhc_rom_image){
                .offset = off,
                .length = (size_t)units * 512,
                .vendor_id = unaligned_read_le16(rom + pcir + PCIR_VENDOR),
                .device_id = unaligned_read_le16(rom + pcir + PCIR_DEVICE),
                .pcir_revision = rom[pcir + PCIR_REVISION],
                .class_code = (uint32_t)rom[pcir + PCIR_CLASS + 2] << 16 |
                              (uint32_t)rom[pcir + PCIR_CLASS + 1] << 8 | rom[pcir + PCIR_CLASS],
                .code_type = rom[pcir + PCIR_CODE_TYPE],
                .last = rom[pcir + PCIR_INDICATOR] & PCIR_LAST_IMAGE,
        };
        if (pcir + PCIR_MIN_LEN <= off + im->length)
                device_list(rom, len, off, pcir, im);
        if (im->code_type == VHC_ROM_CODE_EFI) {
                im->efi_valid = unaligned_read_le32(rom + off + ROM_EFI_SIGNATURE) == EFI_SIGNATURE;
                im->efi_subsystem = unaligned_read_le16(rom + off + ROM_EFI_SUBSYSTEM);
                im->efi_machine = unaligned_read_le16(rom + off + ROM_EFI_MACHINE);
                im->efi_compressed = unaligned_read_le16(rom + off + ROM_EFI_COMPRESSION) == 1;
        }
        return 0;
}

int vhc_pcirom_parse(const uint8_t *rom, size_t len, struct vhc_rom *ret, struct vhc_rom_error *e) {
        struct vhc_rom r = {};
        size_t off = 0;
        int k;

        k = image_at(rom, len, 0, &r.images[0], e);
        if (k < 0)
                return k;
        for (;;) {
                const struct vhc_rom_image *im = &r.images[r.n++];

                off = im->offset + im->length;
                if (off > len) {
                        r.truncated = true; /* the image goes on beyond the bytes */
                        off = len;
                }
                if (im->last)
                        break;
                /* Like the kernel's pci_get_rom_size(): the list ends at the first
                 * header that is not one, and the bytes end it too. */
                if (r.n == VHC_ROM_MAX_IMAGES || image_at(rom, len, off, &r.images[r.n], NULL) < 0) {
                        r.truncated = true;
                        break;
                }
        }
        r.size = off;
        *ret = r;
        return 0;
}

const struct vhc_rom_image *vhc_pcirom_efi(const struct vhc_rom *rom, uint16_t machine) {
        for (size_t i = 0; i < rom->n; i++)
                if (rom->images[i].code_type == VHC_ROM_CODE_EFI && rom->images[i].efi_valid &&
                    rom->images[i].efi_machine == machine)
                        return &rom->images[i];
        return NULL;
}

bool vhc_pcirom_image_for(const struct vhc_rom_image *img, uint16_t vendor_id, uint16_t device_id) {
        if (img->vendor_id != vendor_id)
                return false;
        if (img->device_id == device_id)
                return true;
        for (size_t i = 0; i < img->n_device_list; i++)
                if (img->device_list[i] == device_id)
                        return true;
        return false;
}

size_t vhc_pcirom_find(const uint8_t *data, size_t len) {
        struct vhc_rom rom;

        for (size_t off = 0; off + ROM_HEADER_LEN <= len; off++)
                if (data[off] == ROM_SIG0 && data[off + 1] == ROM_SIG1 &&
                    vhc_pcirom_parse(data + off, len - off, &rom, NULL) == 0)
                        return off;
        return SIZE_MAX;
}

const char *vhc_rom_code_name(uint8_t code_type) {
        switch (code_type) {
        case VHC_ROM_CODE_X86:
                return "x86";
        case VHC_ROM_CODE_OPEN_FIRMWARE:
                return "open-firmware";
        case VHC_ROM_CODE_PARISC:
                return "pa-risc";
        case VHC_ROM_CODE_EFI:
                return "efi";
        default:
                return NULL;
        }
}

const char *vhc_efi_machine_name(uint16_t machine) {
        switch (machine) {
        case VHC_EFI_MACHINE_IA32:
                return "ia32";
        case VHC_EFI_MACHINE_X64:
                return "x86-64";
        case VHC_EFI_MACHINE_AARCH64:
                return "aarch64";
        case VHC_EFI_MACHINE_EBC:
                return "ebc";
        case 0x0200:
                return "ia64";
        case 0x01c2:
                return "arm";
        case 0x5064:
                return "riscv64";
        case 0x6264:
                return "loongarch64";
        default:
                return NULL;
        }
}

const char *vhc_efi_subsystem_name(uint16_t subsystem) {
        switch (subsystem) {
        case 10:
                return "application";
        case 11:
                return "boot-service-driver";
        case 12:
                return "runtime-driver";
        default:
                return NULL;
        }
}
