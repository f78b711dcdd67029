/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fileio.h"
#include "pciattr.h"

#define MACHINES SRCDIR "/tests/machines"
#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

#define RTX4090 "rtx4090-rebar/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
#define RX580 "rx580-polaris/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
#define GTX1080 "intel-nvidia/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"

static char *fixture(const char *dev, const char *attr, size_t *len) {
        _cleanup_free_ char *path = NULL;
        char *data = NULL;

        assert_true(asprintf(&path, "%s/%s/%s", MACHINES, dev, attr) > 0);
        assert_int_equal(vhc_read_file(path, 1 << 20, &data, len), 0);
        return data;
}

static void parse_cfg(const char *dev, size_t keep, struct vhc_pcicfg *c) {
        size_t len;
        _cleanup_free_ char *cfg = fixture(dev, "config", &len);

        assert_int_equal(vhc_pcicfg_parse((const uint8_t *)cfg, keep && keep < len ? keep : len, c), 0);
}

/* ------------------------------------------------------------------ config */

static void test_cfg_rtx4090(void **state) {
        const struct vhc_pci_rebar *rb;
        struct vhc_pcicfg c;

        parse_cfg(RTX4090, 0, &c);
        assert_int_equal(c.len, 4096);
        assert_true(c.caps_read && c.ext_read);
        assert_int_equal(c.vendor_id, 0x10de);
        assert_int_equal(c.device_id, 0x2684);
        assert_true(c.pcie);
        assert_int_equal(c.pcie_type, 1); /* Legacy Endpoint */
        assert_true(c.flr);
        assert_true(c.pm && c.pm_no_soft_reset);
        assert_int_equal(c.n_rebar, 3);
        rb = vhc_pcicfg_rebar(&c, 1);
        assert_non_null(rb);
        assert_int_equal(rb->current, 15);                        /* 2^15 MiB: 32 GiB */
        assert_int_equal(rb->sizes, UINT64_C(0xffc0));            /* 64 MiB (bit 6) to 32 GiB (bit 15) */
        assert_int_equal(vhc_pcicfg_rebar(&c, 0)->sizes, 1 << 4); /* 16 MiB only */
        assert_null(vhc_pcicfg_rebar(&c, 2));
}

static void test_cfg_rx580(void **state) {
        struct vhc_pcicfg c;

        parse_cfg(RX580, 0, &c);
        assert_false(c.flr);
        assert_false(c.af_flr);
        assert_int_equal(c.n_rebar, 1);
        assert_int_equal(c.rebar[0].bar, 0);
        assert_int_equal(c.rebar[0].current, 8);              /* 256 MiB */
        assert_int_equal(c.rebar[0].sizes, UINT64_C(0x3f00)); /* 256 MiB (bit 8) to 8 GiB (bit 13) */
}

/* 256 bytes: no extended space, so no Resizable BAR; 64 (what a user
 * reads): not even the capability list. */
static void test_cfg_short(void **state) {
        struct vhc_pcicfg c;
        uint8_t small[63] = {0xde, 0x10};

        parse_cfg(GTX1080, 0, &c);
        assert_int_equal(c.len, 256);
        assert_true(c.caps_read);
        assert_false(c.ext_read);
        assert_true(c.pcie);
        assert_false(c.flr);
        assert_int_equal(c.n_rebar, 0);

        parse_cfg(RTX4090, 256, &c);
        assert_true(c.flr);
        assert_int_equal(c.n_rebar, 0);

        parse_cfg(RTX4090, 64, &c);
        assert_false(c.caps_read);
        assert_false(c.pcie || c.flr || c.pm);
        assert_int_equal(c.device_id, 0x2684);

        assert_int_equal(vhc_pcicfg_parse(small, sizeof(small), &c), -EINVAL);
}

static uint8_t cfg[4096];

static void header(uint16_t vendor, uint8_t first_cap) {
        memset(cfg, 0, sizeof(cfg));
        cfg[0] = vendor & 0xff;
        cfg[1] = vendor >> 8;
        cfg[2] = 0x34;
        cfg[3] = 0x12;
        cfg[6] = 0x10;
        cfg[0x34] = first_cap;
}

static void test_cfg_gone(void **state) {
        struct vhc_pcicfg c;

        memset(cfg, 0xff, sizeof(cfg));
        assert_int_equal(vhc_pcicfg_parse(cfg, 4096, &c), -EINVAL);
}

/* A conventional PCI device: FLR through the Advanced Features capability. */
static void test_cfg_af_flr(void **state) {
        struct vhc_pcicfg c;

        header(0x8086, 0x50);
        cfg[0x50] = 0x01; /* PM, next AF */
        cfg[0x51] = 0x60;
        cfg[0x60] = 0x13;
        cfg[0x61] = 0x00;
        cfg[0x63] = 0x03; /* TP and FLR */
        assert_int_equal(vhc_pcicfg_parse(cfg, 256, &c), 0);
        assert_true(c.pm);
        assert_false(c.pm_no_soft_reset);
        assert_false(c.pcie);
        assert_true(c.af_flr);
        assert_false(c.flr);
}

/* Lists that loop or point outside end where they go wrong. */
static void test_cfg_loops(void **state) {
        struct vhc_pcicfg c;

        header(0x1002, 0x40);
        cfg[0x40] = 0x10; /* PCIe, DevCap FLR, next: itself */
        cfg[0x41] = 0x40;
        cfg[0x47] = 0x10;
        assert_int_equal(vhc_pcicfg_parse(cfg, 4096, &c), 0);
        assert_true(c.pcie && c.flr);
        /* An extended list that loops on 0x100. */
        cfg[0x100] = 0x0b;
        cfg[0x102] = 0x01 << 4 | 0x00;
        cfg[0x103] = 0x10; /* next 0x100 */
        assert_int_equal(vhc_pcicfg_parse(cfg, 4096, &c), 0);
        assert_int_equal(c.n_rebar, 0);
        /* A capability pointer into the header. */
        header(0x1002, 0x20);
        assert_int_equal(vhc_pcicfg_parse(cfg, 256, &c), 0);
        assert_false(c.pcie);
        /* Resizable BAR: two entries, then one BAR listed twice (the first
         * counts), then the capability cut short by the end of the space. */
        header(0x1002, 0x40);
        cfg[0x40] = 0x10;
        cfg[0x100] = 0x15;
        cfg[0x102] = 0x01;
        cfg[0x108] = 0 | 0x02 << 5; /* BAR 0, two entries */
        cfg[0x110] = 2;             /* BAR 2 */
        cfg[0x111] = 3;             /* 8 MiB */
        assert_int_equal(vhc_pcicfg_parse(cfg, 4096, &c), 0);
        assert_int_equal(c.n_rebar, 2);
        assert_int_equal(c.rebar[1].bar, 2);
        assert_int_equal(c.rebar[1].current, 3);
        cfg[0x110] = 0;
        assert_int_equal(vhc_pcicfg_parse(cfg, 4096, &c), 0);
        assert_int_equal(c.n_rebar, 1);
        memset(cfg + 0x100, 0, 0x20);
        cfg[0x100] = 0x0b; /* VSEC, next 0xff8 */
        cfg[0x102] = 0x81;
        cfg[0x103] = 0xff;
        cfg[0xff8] = 0x15;
        cfg[0xffa] = 0x01;
        assert_int_equal(vhc_pcicfg_parse(cfg, 4096, &c), 0);
        assert_int_equal(c.n_rebar, 0);
}

/* ---------------------------------------------------------------- resource */

static void test_resources_rtx4090(void **state) {
        size_t len;
        _cleanup_free_ char *text = fixture(RTX4090, "resource", &len);
        struct vhc_pci_resources r;
        unsigned line;

        assert_int_equal(vhc_pci_resources_parse(text, len, &r, &line), 0);
        assert_int_equal(r.n, 4);
        assert_int_equal(r.bars[0].index, 0);
        assert_int_equal(r.bars[0].size, 16 * MIB);
        assert_false(r.bars[0].mem64);
        assert_int_equal(r.bars[1].index, 1);
        assert_int_equal(r.bars[1].size, 32 * GIB);
        assert_true(r.bars[1].mem64 && r.bars[1].prefetch);
        assert_int_equal(r.bars[2].index, 3);
        assert_int_equal(r.bars[2].size, 32 * MIB);
        assert_int_equal(r.bars[3].index, 5);
        assert_true(r.bars[3].io);
        assert_int_equal(r.bars[3].size, 128);
        assert_int_equal(r.rom_size, 512 << 10);
}

static void expect_bad_resources(const char *text, unsigned want_line) {
        struct vhc_pci_resources r;
        unsigned line;

        assert_int_equal(vhc_pci_resources_parse(text, strlen(text), &r, &line), -EINVAL);
        assert_int_equal(line, want_line);
}

#define ZERO "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"

static void test_resources_bad(void **state) {
        struct vhc_pci_resources r;
        unsigned line;
        const char *ok =
                "0x00000000a0000000 0x00000000a0003fff 0x0000000000040200\n" ZERO ZERO ZERO ZERO ZERO;

        assert_int_equal(vhc_pci_resources_parse(ok, strlen(ok), &r, &line), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.bars[0].size, 16384);
        assert_int_equal(r.rom_size, 0);
        expect_bad_resources(ZERO ZERO ZERO, 4);
        expect_bad_resources(ZERO "0x1 0x2\n" ZERO ZERO ZERO ZERO, 2);
        expect_bad_resources(ZERO ZERO "0x10 0x0f 0x200\n" ZERO ZERO ZERO, 3);
        expect_bad_resources("0x00000000a0000000  0x00000000a0003fff 0x0000000000040200\n", 1);
        expect_bad_resources("0x00000000a0000000 0x00000000a0003fff 0x00000000000402001\n", 1);
        expect_bad_resources("a0000000 0x00000000a0003fff 0x0000000000040200\n", 1);
        expect_bad_resources(ZERO "0x0 0x0 0x0 junk\n", 2);
}

/* ------------------------------------------------------------ reset_method */

static void test_reset_methods(void **state) {
        struct vhc_reset_methods m;

        assert_int_equal(vhc_reset_methods_parse("flr bus\n", &m), 0);
        assert_int_equal(m.n, 2);
        assert_int_equal(m.m[0], VHC_RESET_FLR);
        assert_int_equal(m.m[1], VHC_RESET_BUS);
        assert_true(vhc_reset_methods_has(&m, VHC_RESET_BUS));
        assert_false(vhc_reset_methods_has(&m, VHC_RESET_PM));

        assert_int_equal(vhc_reset_methods_parse("device_specific\n", &m), 0);
        assert_int_equal(m.m[0], VHC_RESET_DEVICE_SPECIFIC);
        assert_string_equal(vhc_reset_method_name(m.m[0]), "device_specific");

        /* Empty: the user turned resets off. */
        assert_int_equal(vhc_reset_methods_parse("\n", &m), 0);
        assert_int_equal(m.n, 0);

        /* A name a later kernel adds is kept as it is. */
        assert_int_equal(vhc_reset_methods_parse("cxl_bus pm future_reset\n", &m), 0);
        assert_int_equal(m.m[0], VHC_RESET_CXL_BUS);
        assert_int_equal(m.m[1], VHC_RESET_PM);
        assert_int_equal(m.m[2], VHC_RESET_OTHER);
        assert_string_equal(m.name[2], "future_reset");

        assert_int_equal(vhc_reset_methods_parse("FLR\n", &m), -EINVAL);
        assert_int_equal(vhc_reset_methods_parse("flr,bus\n", &m), -EINVAL);
        assert_int_equal(vhc_reset_methods_parse("a b c d e f g h i j k l m n o p q\n", &m), -EINVAL);
        assert_int_equal(vhc_reset_methods_parse("a_name_far_too_long_for_any_method\n", &m), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cfg_rtx4090),       cmocka_unit_test(test_cfg_rx580),
                cmocka_unit_test(test_cfg_short),         cmocka_unit_test(test_cfg_gone),
                cmocka_unit_test(test_cfg_af_flr),        cmocka_unit_test(test_cfg_loops),
                cmocka_unit_test(test_resources_rtx4090), cmocka_unit_test(test_resources_bad),
                cmocka_unit_test(test_reset_methods),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
