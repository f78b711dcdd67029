/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fileio.h"
#include "pcirom.h"

#define MACHINES SRCDIR "/tests/machines"

/* Option ROM images built here from the PCI Firmware Specification 3.0's
 * structures, independently of scripts/mkmachine (whose ROMs are parsed at
 * the end, so each builder checks the other). */
struct img {
        uint8_t code;
        uint16_t vendor, device;
        size_t size;   /* bytes, a multiple of 512 */
        uint16_t pcir; /* offset of the PCI Data Structure */
        bool last;
        uint16_t machine; /* EFI */
        bool bad_efi_sig;
        const uint16_t *devlist; /* PCI 3.0 device list, 0-terminated */
};

static void put16(uint8_t *p, uint16_t v) {
        p[0] = v & 0xff;
        p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v) {
        put16(p, v & 0xffff);
        put16(p + 2, v >> 16);
}

static size_t build(uint8_t *out, const struct img *imgs, size_t n) {
        size_t off = 0;

        for (size_t i = 0; i < n; i++) {
                const struct img *m = &imgs[i];
                uint8_t *p = out + off, *d;

                memset(p, 0, m->size);
                p[0] = 0x55;
                p[1] = 0xaa;
                if (m->code == 3) {
                        put16(p + 2, (uint16_t)(m->size / 512));
                        put32(p + 4, m->bad_efi_sig ? 0x1234 : 0x0ef1);
                        put16(p + 8, 11);
                        put16(p + 0x0a, m->machine);
                        put16(p + 0x0c, 1);
                } else
                        p[2] = (uint8_t)(m->size / 512);
                put16(p + 0x18, m->pcir);
                d = p + m->pcir;
                memcpy(d, "PCIR", 4);
                put16(d + 4, m->vendor);
                put16(d + 6, m->device);
                put16(d + 0x0a, 0x1c);
                d[0x0c] = 3;
                d[0x0d] = 0x00;
                d[0x0e] = 0x00;
                d[0x0f] = 0x03;
                put16(d + 0x10, (uint16_t)(m->size / 512));
                d[0x14] = m->code;
                d[0x15] = m->last ? 0x80 : 0;
                if (m->devlist) {
                        put16(d + 8, 0x20);
                        for (size_t k = 0; m->devlist[k]; k++)
                                put16(d + 0x20 + 2 * k, m->devlist[k]);
                }
                off += m->size;
        }
        return off;
}

static uint8_t buf[1 << 20];

static void test_x86_and_efi(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x10de, .device = 0x1b80, .size = 0xf400, .pcir = 0x1a0},
                {.code = 3,
                 .vendor = 0x10de,
                 .device = 0x1b80,
                 .size = 0xfc00,
                 .pcir = 0x1c,
                 .last = true,
                 .machine = VHC_EFI_MACHINE_X64},
        };
        size_t len = build(buf, imgs, 2);
        struct vhc_rom rom;
        struct vhc_rom_error e;
        const struct vhc_rom_image *efi;

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, &e), 0);
        assert_int_equal(rom.n, 2);
        assert_false(rom.truncated);
        assert_int_equal(rom.size, len);
        assert_int_equal(rom.images[0].code_type, VHC_ROM_CODE_X86);
        assert_int_equal(rom.images[0].offset, 0);
        assert_int_equal(rom.images[0].length, 0xf400);
        assert_int_equal(rom.images[0].vendor_id, 0x10de);
        assert_int_equal(rom.images[0].device_id, 0x1b80);
        assert_int_equal(rom.images[0].class_code, 0x030000);
        assert_int_equal(rom.images[0].pcir_revision, 3);
        assert_false(rom.images[0].last);
        assert_int_equal(rom.images[1].offset, 0xf400);
        assert_true(rom.images[1].last);
        assert_true(rom.images[1].efi_valid);
        assert_true(rom.images[1].efi_compressed);
        assert_int_equal(rom.images[1].efi_subsystem, 11);
        efi = vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64);
        assert_ptr_equal(efi, &rom.images[1]);
        assert_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_AARCH64));
        assert_true(vhc_pcirom_image_for(efi, 0x10de, 0x1b80));
        assert_false(vhc_pcirom_image_for(efi, 0x10de, 0x1b81));
        assert_false(vhc_pcirom_image_for(efi, 0x1002, 0x1b80));
        assert_string_equal(vhc_rom_code_name(3), "efi");
        assert_string_equal(vhc_efi_machine_name(efi->efi_machine), "x86-64");
        assert_string_equal(vhc_efi_subsystem_name(efi->efi_subsystem), "boot-service-driver");
        assert_null(vhc_rom_code_name(0x70));
}

static void test_x86_only(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x1002, .device = 0x67df, .size = 0xe000, .pcir = 0x250, .last = true},
        };
        size_t len = build(buf, imgs, 1);
        struct vhc_rom rom;

        /* The rest of a 128 KiB ROM BAR reads as 0xff: not an image, not looked at. */
        memset(buf + len, 0xff, 0x20000 - len);
        assert_int_equal(vhc_pcirom_parse(buf, 0x20000, &rom, NULL), 0);
        assert_int_equal(rom.n, 1);
        assert_int_equal(rom.size, 0xe000);
        assert_false(rom.truncated);
        assert_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64));
}

/* The last-image bit ends the list, even with an image after it (the kernel
 * reads no further either). */
static void test_last_bit_ends(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x10de, .device = 0x1184, .size = 0x8000, .pcir = 0x1a0, .last = true},
                {.code = 3,
                 .vendor = 0x10de,
                 .device = 0x1184,
                 .size = 0x4000,
                 .pcir = 0x1c,
                 .last = true,
                 .machine = VHC_EFI_MACHINE_X64},
        };
        size_t len = build(buf, imgs, 2);
        struct vhc_rom rom;

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, NULL), 0);
        assert_int_equal(rom.n, 1);
        assert_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64));
}

/* No last bit and garbage after the image, or the bytes end: the list ends
 * there, marked truncated. */
static void test_truncated(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x10de, .device = 0x1b80, .size = 0x1000, .pcir = 0x40},
        };
        size_t len = build(buf, imgs, 1);
        struct vhc_rom rom;

        memset(buf + len, 0xff, 0x1000);
        assert_int_equal(vhc_pcirom_parse(buf, len + 0x1000, &rom, NULL), 0);
        assert_int_equal(rom.n, 1);
        assert_true(rom.truncated);
        assert_int_equal(rom.size, 0x1000);

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, NULL), 0);
        assert_true(rom.truncated);

        /* An image longer than the bytes that came. */
        assert_int_equal(vhc_pcirom_parse(buf, 0x800, &rom, NULL), 0);
        assert_int_equal(rom.n, 1);
        assert_true(rom.truncated);
        assert_int_equal(rom.size, 0x800);
}

static void expect_bad(size_t len, size_t off, const char *what) {
        struct vhc_rom rom;
        struct vhc_rom_error e = {};

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, &e), -EINVAL);
        assert_int_equal(e.offset, off);
        if (!strstr(e.what, what))
                fail_msg("\"%s\" lacks \"%s\"", e.what, what);
}

static void test_bad_first_image(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x10de, .device = 0x1b80, .size = 0x1000, .pcir = 0x40, .last = true},
        };

        memset(buf, 0xff, 0x1000);
        expect_bad(0x1000, 0, "ff ff, not the signature 55 aa");
        expect_bad(10, 0, "too few");
        expect_bad(0, 0, "too few");

        build(buf, imgs, 1);
        put16(buf + 0x18, 0xfff0);
        expect_bad(0x1000, 0, "points outside");
        put16(buf + 0x18, 0x0004);
        expect_bad(0x1000, 0, "points outside");

        build(buf, imgs, 1);
        memcpy(buf + 0x40, "PCIX", 4);
        expect_bad(0x1000, 0, "no \"PCIR\" signature at 0x40");

        build(buf, imgs, 1);
        put16(buf + 0x40 + 0x10, 0);
        expect_bad(0x1000, 0, "length of 0");
}

static void test_efi_signature(void **state) {
        const struct img imgs[] = {
                {.code = 3,
                 .vendor = 0x1002,
                 .device = 0x73bf,
                 .size = 0x2000,
                 .pcir = 0x1c,
                 .last = true,
                 .machine = VHC_EFI_MACHINE_X64,
                 .bad_efi_sig = true},
        };
        size_t len = build(buf, imgs, 1);
        struct vhc_rom rom;

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, NULL), 0);
        assert_int_equal(rom.images[0].code_type, VHC_ROM_CODE_EFI);
        assert_false(rom.images[0].efi_valid);
        assert_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64));
}

static void test_aarch64_only(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x1002, .device = 0x73bf, .size = 0x1000, .pcir = 0x40},
                {.code = 3,
                 .vendor = 0x1002,
                 .device = 0x73bf,
                 .size = 0x1000,
                 .pcir = 0x1c,
                 .last = true,
                 .machine = VHC_EFI_MACHINE_AARCH64},
        };
        size_t len = build(buf, imgs, 2);
        struct vhc_rom rom;

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, NULL), 0);
        assert_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64));
        assert_non_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_AARCH64));
}

static void test_device_list(void **state) {
        static const uint16_t list[] = {0x1b81, 0x1b82, 0};
        const struct img imgs[] = {
                {.code = 3,
                 .vendor = 0x10de,
                 .device = 0x1b80,
                 .size = 0x1000,
                 .pcir = 0x1c,
                 .last = true,
                 .machine = VHC_EFI_MACHINE_X64,
                 .devlist = list},
        };
        size_t len = build(buf, imgs, 1);
        struct vhc_rom rom;

        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, NULL), 0);
        assert_int_equal(rom.images[0].n_device_list, 2);
        assert_true(vhc_pcirom_image_for(&rom.images[0], 0x10de, 0x1b82));
        assert_false(vhc_pcirom_image_for(&rom.images[0], 0x10de, 0x1b83));
}

static void test_many_images(void **state) {
        struct img imgs[20];
        struct vhc_rom rom;
        size_t len;

        for (size_t i = 0; i < ELEMENTSOF(imgs); i++)
                imgs[i] = (struct img){.code = 0x70,
                                       .vendor = 0x10de,
                                       .device = 0x2684,
                                       .size = 512,
                                       .pcir = 0x1c,
                                       .last = i == ELEMENTSOF(imgs) - 1};
        len = build(buf, imgs, ELEMENTSOF(imgs));
        assert_int_equal(vhc_pcirom_parse(buf, len, &rom, NULL), 0);
        assert_int_equal(rom.n, VHC_ROM_MAX_IMAGES);
        assert_true(rom.truncated);
}

/* A dump with a tool's header in front: where the ROM starts. */
static void test_find(void **state) {
        const struct img imgs[] = {
                {.code = 0, .vendor = 0x10de, .device = 0x1b80, .size = 0x1000, .pcir = 0x1a0},
                {.code = 3,
                 .vendor = 0x10de,
                 .device = 0x1b80,
                 .size = 0x1000,
                 .pcir = 0x1c,
                 .last = true,
                 .machine = VHC_EFI_MACHINE_X64},
        };
        size_t len;

        memset(buf, 0, 0x600);
        memcpy(buf + 0x10, "\x55\xaa junk that is no image", sizeof("\x55\xaa junk that is no image"));
        len = build(buf + 0x600, imgs, 2);
        assert_int_equal(vhc_pcirom_find(buf, len + 0x600), 0x600);
        assert_int_equal(vhc_pcirom_find(buf + 0x600, len), 0);
        assert_int_equal(vhc_pcirom_find(buf, 0x600), SIZE_MAX);
}

/* The ROMs scripts/mkmachine builds for the fixture machines. */
static void parse_fixture(const char *rel, struct vhc_rom *rom) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        struct vhc_rom_error e = {};
        size_t len;

        assert_true(asprintf(&path, "%s/%s", MACHINES, rel) > 0);
        assert_int_equal(vhc_read_file(path, 1 << 24, &data, &len), 0);
        if (vhc_pcirom_parse((const uint8_t *)data, len, rom, &e) < 0)
                fail_msg("%s: at 0x%zx: %s", rel, e.offset, e.what);
        assert_int_equal(rom->size, len);
        assert_false(rom->truncated);
}

static void test_fixtures(void **state) {
        struct vhc_rom rom;

        parse_fixture("intel-nvidia/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/rom", &rom);
        assert_int_equal(rom.n, 2);
        assert_int_equal(rom.images[0].device_id, 0x1b80);
        assert_non_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64));

        parse_fixture("rtx4090-rebar/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/rom", &rom);
        assert_int_equal(rom.n, 2);
        assert_true(vhc_pcirom_image_for(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64), 0x10de, 0x2684));

        parse_fixture("rx580-polaris/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/rom", &rom);
        assert_int_equal(rom.n, 1);
        assert_int_equal(rom.images[0].code_type, VHC_ROM_CODE_X86);
        assert_int_equal(rom.images[0].vendor_id, 0x1002);
        assert_null(vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_x86_and_efi),     cmocka_unit_test(test_x86_only),
                cmocka_unit_test(test_last_bit_ends),   cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_bad_first_image), cmocka_unit_test(test_efi_signature),
                cmocka_unit_test(test_aarch64_only),    cmocka_unit_test(test_device_list),
                cmocka_unit_test(test_many_images),     cmocka_unit_test(test_find),
                cmocka_unit_test(test_fixtures),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
