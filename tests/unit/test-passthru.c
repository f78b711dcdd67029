/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "cpuinfo.h"
#include "passthru.h"
#include "strv.h"

#define MACHINES SRCDIR "/tests/machines"
#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

static char tmpdir[] = "/tmp/vhc-test-passthru.XXXXXX";
static char root_dir[PATH_MAX];

_printf_(1, 2) static void sh(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&cmd, fmt, ap) > 0);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

/* A copy of a machine in root_dir, to change. */
static void copy_machine(const char *name) {
        snprintf(root_dir, sizeof(root_dir), "%s/root", tmpdir);
        sh("rm -rf '%s' && cp -a '%s/%s' '%s'", root_dir, MACHINES, name, root_dir);
}

struct machine {
        struct vhc_root *root;
        struct vhc_pci_list *pci;
};

static void open_machine(const char *dir, struct machine *m) {
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new(dir, &m->root), 0);
        if (vhc_pci_scan(m->root, &m->pci, &e) < 0)
                fail_msg("%s: %s", e.file, e.msg);
}

static void open_fixture(const char *name, struct machine *m) {
        _cleanup_free_ char *dir = NULL;

        assert_true(asprintf(&dir, "%s/%s", MACHINES, name) > 0);
        open_machine(dir, m);
}

static void close_machine(struct machine *m) {
        vhc_pci_list_free(m->pci);
        vhc_root_free(m->root);
}

static const struct vhc_pci_dev *dev(const struct machine *m, const char *addr) {
        const struct vhc_pci_dev *d = vhc_pci_find(m->pci, addr);

        assert_non_null(d);
        return d;
}

/* ------------------------------------------------------- config and friends */

static void test_read_rtx4090(void **state) {
        struct machine m;
        struct vhc_passthru_info i;
        uint64_t largest;
        unsigned bar;

        open_fixture("rtx4090-rebar", &m);
        assert_int_equal(vhc_passthru_read(m.root, dev(&m, "01:00.0"), &i), 0);
        assert_int_equal(i.cfg_r, 0);
        assert_true(i.cfg.flr);
        assert_int_equal(i.cfg.n_rebar, 3);
        assert_int_equal(i.res_r, 0);
        assert_int_equal(i.reset_r, 0);
        assert_int_equal(i.reset.n, 2);
        assert_int_equal(i.reset.m[0], VHC_RESET_FLR);
        assert_int_equal(i.reset.m[1], VHC_RESET_BUS);
        assert_string_equal(i.parent, "0000:00:01.0");
        assert_int_equal(vhc_passthru_bars64(&i.res, &largest, &bar), 32 * GIB + 32 * MIB);
        assert_int_equal(largest, 32 * GIB);
        assert_int_equal(bar, 1);

        /* The audio function: FLR only ("bus" was probed with the VGA function on the bus). */
        assert_int_equal(vhc_passthru_read(m.root, dev(&m, "01:00.1"), &i), 0);
        assert_int_equal(i.reset.n, 1);
        assert_int_equal(i.reset.m[0], VHC_RESET_FLR);
        assert_int_equal(vhc_passthru_bars64(&i.res, NULL, NULL), 0);

        /* The iGPU is on the root bus: no bridge to reset it through. */
        assert_int_equal(vhc_passthru_read(m.root, dev(&m, "00:02.0"), &i), 0);
        assert_string_equal(i.parent, "");
        assert_int_equal(i.reset_r, -ENOENT);
        close_machine(&m);
}

static void test_read_rx580(void **state) {
        struct machine m;
        struct vhc_passthru_info i;

        open_fixture("rx580-polaris", &m);
        assert_int_equal(vhc_passthru_read(m.root, dev(&m, "01:00.0"), &i), 0);
        assert_false(i.cfg.flr);
        assert_int_equal(i.reset.n, 1);
        assert_int_equal(i.reset.m[0], VHC_RESET_BUS);
        assert_int_equal(vhc_passthru_bars64(&i.res, NULL, NULL), 258 * MIB);
        /* The audio function has no reset method at all: no file. */
        assert_int_equal(vhc_passthru_read(m.root, dev(&m, "01:00.1"), &i), 0);
        assert_int_equal(i.reset_r, -ENOENT);
        close_machine(&m);
}

/* Damaged attributes are reported, not errors. */
static void test_read_damaged(void **state) {
        struct machine m;
        struct vhc_passthru_info i;

        copy_machine("rtx4090-rebar");
        sh("cd '%s/sys/bus/pci/devices/0000:01:00.0' && printf 'flr,bus\\n' > reset_method && "
           "printf '0x1 0x2\\n' > resource && printf 'x' > config",
           root_dir);
        open_machine(root_dir, &m);
        assert_int_equal(vhc_passthru_read(m.root, dev(&m, "01:00.0"), &i), 0);
        assert_int_equal(i.cfg_r, -EINVAL);
        assert_int_equal(i.res_r, -EINVAL);
        assert_int_equal(i.res_line, 1);
        assert_int_equal(i.reset_r, -EINVAL);
        close_machine(&m);
}

/* ------------------------------------------------------------------ the ROM */

static char **writes;

static int record_write(const char *path, const char *value) {
        const char *base = strrchr(path, '/');

        assert_int_equal(strv_consume(&writes, strprintf("%s=%s", base ? base + 1 : path, value)), 0);
        return 0;
}

static void expect_writes(const char *const *want) {
        size_t n = 0;

        for (; want[n]; n++) {
                if (!writes || !writes[n])
                        fail_msg("write %zu missing: want %s", n, want[n]);
                assert_string_equal(writes[n], want[n]);
        }
        assert_int_equal(strv_length(writes), n);
        writes = strv_free(writes);
}

static void test_rom_read(void **state) {
        struct machine m;
        struct vhc_rom_read rr;

        open_fixture("rtx4090-rebar", &m);
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.0"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_READ);
        assert_int_equal(rr.rom.n, 2);
        assert_non_null(vhc_pcirom_efi(&rr.rom, VHC_EFI_MACHINE_X64));
        /* Not sysfs: nothing was enabled. */
        assert_false(rr.enabled_by_us);
        /* The audio function has no ROM. */
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.1"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_NONE);
        close_machine(&m);
}

/* A host driver has the GTX 1080: its ROM is left alone. */
static void test_rom_skipped(void **state) {
        struct machine m;
        struct vhc_rom_read rr;

        open_fixture("intel-nvidia", &m);
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.0"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_SKIPPED);
        assert_non_null(strstr(rr.why, "nouveau has the device"));
        close_machine(&m);
}

/* On sysfs: enable the device when it is not, enable the ROM, read, and
 * undo both, in that order; a device without a driver that is enabled keeps
 * its enable as it is; one that vfio-pci has enabled (QEMU opened it) is
 * left alone. */
static void test_rom_sysfs_writes(void **state) {
        static const char *const disabled[] = {"enable=1", "rom=1", "rom=0", "enable=0", NULL};
        static const char *const enabled[] = {"rom=1", "rom=0", NULL};
        static const char *const none[] = {NULL};
        struct machine m;
        struct vhc_rom_read rr;
        struct vhc_pci_dev d;

        copy_machine("rx580-polaris");
        open_machine(root_dir, &m);
        vhc_passthru_sysfs_write_hook = record_write;
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.0"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_READ);
        assert_true(rr.enabled_by_us);
        expect_writes(disabled);

        sh("printf '1\\n' > '%s/sys/bus/pci/devices/0000:01:00.0/enable'", root_dir);
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.0"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_SKIPPED);
        assert_non_null(strstr(rr.why, "vfio-pci has the device open"));
        expect_writes(none);

        d = *dev(&m, "01:00.0");
        d.driver = NULL;
        assert_int_equal(vhc_passthru_read_rom(m.root, &d, 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_READ);
        expect_writes(enabled);
        vhc_passthru_sysfs_write_hook = NULL;
        close_machine(&m);
}

/* A device that does not answer: the read gives up after the time bound,
 * and the ROM is disabled again all the same. A FIFO without a writer
 * stands for it: opening it blocks. */
static void test_rom_timeout(void **state) {
        static const char *const undone[] = {"enable=1", "rom=1", "rom=0", "enable=0", NULL};
        struct machine m;
        struct vhc_rom_read rr;
        struct timespec t0, t1;
        char rom[PATH_MAX + 64];
        long ms;

        copy_machine("rtx4090-rebar");
        snprintf(rom, sizeof(rom), "%s/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/rom", root_dir);
        assert_int_equal(unlink(rom), 0);
        assert_int_equal(mkfifo(rom, 0600), 0);
        open_machine(root_dir, &m);
        vhc_passthru_sysfs_write_hook = record_write;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.0"), 300, &rr), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        vhc_passthru_sysfs_write_hook = NULL;
        ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        assert_int_equal(rr.state, VHC_ROM_UNREADABLE);
        assert_int_equal(rr.r, -ETIMEDOUT);
        assert_non_null(strstr(rr.why, "within 300 ms"));
        assert_true(ms >= 290 && ms < 2000);
        expect_writes(undone);
        close_machine(&m);
}

/* Bytes that are no ROM: 0xff, as a disabled ROM BAR reads. */
static void test_rom_garbage(void **state) {
        struct machine m;
        struct vhc_rom_read rr;

        copy_machine("rtx4090-rebar");
        sh("head -c 4096 /dev/zero | tr '\\0' '\\377' > '%s/sys/bus/pci/devices/0000:01:00.0/rom' && "
           ": > '%s/sys/bus/pci/devices/0000:01:00.1/rom'",
           root_dir, root_dir);
        open_machine(root_dir, &m);
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.0"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_UNREADABLE);
        assert_int_equal(rr.r, -EINVAL);
        assert_non_null(strstr(rr.why, "at 0x0: starts with ff ff"));
        assert_int_equal(vhc_passthru_read_rom(m.root, dev(&m, "01:00.1"), 2000, &rr), 0);
        assert_int_equal(rr.state, VHC_ROM_UNREADABLE);
        assert_int_equal(rr.r, -ENODATA);
        close_machine(&m);
}

/* ------------------------------------------------------------------ knowledge */

static void test_reset_quirks(void **state) {
        const struct vhc_reset_quirk *q;

        q = vhc_passthru_reset_quirk(0x1002, 0x67df);
        assert_non_null(q);
        assert_string_equal(q->family, "AMD Polaris 10");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x687f)->family, "AMD Vega 10");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x731f)->family, "AMD Navi 10");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x7340)->family, "AMD Navi 14");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x7362)->family, "AMD Navi 12");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x66af)->family, "AMD Vega 20");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x738c)->family, "AMD Arcturus");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x699f)->family, "AMD Polaris 12");
        assert_string_equal(vhc_passthru_reset_quirk(0x1002, 0x67ff)->family, "AMD Polaris 11");
        /* Navi 21 (RX 6800) resets fine; an NVIDIA card with the same device ID is no AMD card. */
        assert_null(vhc_passthru_reset_quirk(0x1002, 0x73bf));
        assert_null(vhc_passthru_reset_quirk(0x10de, 0x67df));
        /* Not the HDMI audio function of the card. */
        assert_null(vhc_passthru_reset_quirk(0x1002, 0xaaf0));
}

static void test_windows(void **state) {
        /* Intel desktop, 39 bits: 1/8 of 512 GiB. */
        assert_int_equal(vhc_passthru_ovmf_dynamic_window(39, true), 64 * GIB);
        /* Zen 3, 48 bits, capped at 46: 8 TiB; without 1 GiB pages at 40: 128 GiB. */
        assert_int_equal(vhc_passthru_ovmf_dynamic_window(48, true), 8192 * GIB);
        assert_int_equal(vhc_passthru_ovmf_dynamic_window(48, false), 128 * GIB);
        assert_int_equal(vhc_passthru_ovmf_dynamic_window(0, true), 0);

        assert_int_equal(vhc_passthru_mmio64_need(0), 0);
        assert_int_equal(vhc_passthru_mmio64_need(32 * GIB + 32 * MIB), 64 * GIB);
        assert_int_equal(vhc_passthru_mmio64_need(256 * MIB + 32 * MIB), 512 * MIB);
        assert_int_equal(vhc_passthru_mmio64_need(16 * GIB + 2 * MIB), 32 * GIB);
        assert_int_equal(vhc_passthru_mmio64_need(24 * GIB), 32 * GIB);
        assert_int_equal(vhc_passthru_mmio64_need(2 * (32 * GIB + 32 * MIB)), 128 * GIB);
        assert_true(vhc_passthru_mmio64_need(32 * GIB + 32 * MIB) > VHC_OVMF_MMIO64_CLASSIC);
}

static void test_cpuinfo_phys_bits(void **state) {
        struct machine m;
        struct vhc_cpuinfo ci;
        struct vhc_err e = {};

        open_fixture("rtx4090-rebar", &m);
        assert_int_equal(vhc_cpuinfo_read(m.root, &ci, &e), 0);
        assert_int_equal(ci.phys_bits, 39);
        assert_true(ci.pdpe1gb);
        close_machine(&m);
        open_fixture("two-amd-identical", &m);
        assert_int_equal(vhc_cpuinfo_read(m.root, &ci, &e), 0);
        assert_int_equal(ci.phys_bits, 48);
        close_machine(&m);
}

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown(void **state) {
        sh("rm -rf '%s'", tmpdir);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_rtx4090),      cmocka_unit_test(test_read_rx580),
                cmocka_unit_test(test_read_damaged),      cmocka_unit_test(test_rom_read),
                cmocka_unit_test(test_rom_skipped),       cmocka_unit_test(test_rom_sysfs_writes),
                cmocka_unit_test(test_rom_timeout),       cmocka_unit_test(test_rom_garbage),
                cmocka_unit_test(test_reset_quirks),      cmocka_unit_test(test_windows),
                cmocka_unit_test(test_cpuinfo_phys_bits),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
