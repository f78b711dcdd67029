/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "fileio.h"
#include "grub-default.h"
#include "kargs.h"
#include "render-tuning.h"
#include "state.h"
#include "strv.h"

#define FIXTURES SRCDIR "/tests/fixtures/tuning/"
#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

/* Compares text with tests/fixtures/tuning/<name>.expected; REGENERATE=1
 * rewrites the file instead, for review with git diff. */
static void golden(const char *name, const char *text) {
        _cleanup_free_ char *path = NULL, *want = NULL;
        const char *regen = getenv("REGENERATE");

        assert_non_null(text);
        assert_true(asprintf(&path, FIXTURES "%s.expected", name) > 0);
        if (regen && streq(regen, "1")) {
                FILE *f = fopen(path, "we");

                assert_non_null(f);
                assert_true(fputs(text, f) >= 0);
                assert_int_equal(fclose(f), 0);
                return;
        }
        if (vhc_read_file(path, 1 << 20, &want, NULL) < 0)
                fail_msg("%s: cannot read; run with REGENERATE=1 to create it", path);
        if (!streq(text, want))
                fail_msg("%s differs from the rendered text (REGENERATE=1 rewrites it):\n"
                         "--- rendered\n%s--- expected\n%s",
                         path, text, want);
}

static int load(struct vhc_config *c, const char *text, struct vhc_err *e) {
        vhc_config_init(c);
        return vhc_config_load_string(c, text, "/etc/vhc.conf", e);
}

static void expect_bad(const char *text, unsigned line, const char *msg_part) {
        struct vhc_config c;
        struct vhc_err e = {};

        assert_int_equal(load(&c, text, &e), -EINVAL);
        assert_string_equal(e.file, "/etc/vhc.conf");
        assert_int_equal(e.line, line);
        if (!strstr(e.msg, msg_part))
                fail_msg("'%s' does not contain '%s'", e.msg, msg_part);
        vhc_config_done(&c);
}

static void test_config_defaults(void **state) {
        struct vhc_config c;
        struct vhc_err e = {};

        assert_int_equal(load(&c, "# nothing\n", &e), 0);
        assert_int_equal(c.hugepages_bytes, 0);
        assert_int_equal(c.cpu_governor, VHC_GOVERNOR_KEEP);
        assert_int_equal(c.isolate_cpus, VHC_ISOLATE_CPUS_NONE);
        assert_int_equal(c.hugepages_line, 0);
        assert_string_equal(c.source, "/etc/vhc.conf");
        vhc_config_done(&c);
}

static void test_config_values(void **state) {
        struct vhc_config c;
        struct vhc_err e = {};

        assert_int_equal(load(&c,
                              "hugepages = 16G\n"
                              "# a comment\n"
                              "cpu_governor = performance\n"
                              "isolate_cpus = 2-7,10-15\n",
                              &e),
                         0);
        assert_true(c.hugepages_bytes == 16 * GIB);
        assert_int_equal(c.hugepages_line, 1);
        assert_int_equal(c.cpu_governor, VHC_GOVERNOR_PERFORMANCE);
        assert_int_equal(c.isolate_cpus, VHC_ISOLATE_CPUS_LIST);
        assert_string_equal(c.isolate_cpus_list, "2-7,10-15");
        assert_int_equal(c.isolate_cpus_line, 4);
        vhc_config_done(&c);

        /* The last assignment wins, with its line; none and keep undo. */
        assert_int_equal(load(&c,
                              "hugepages = 2M\nisolate_cpus = 3\ncpu_governor = performance\n"
                              "hugepages = none\nisolate_cpus = auto\ncpu_governor = keep\n",
                              &e),
                         0);
        assert_int_equal(c.hugepages_bytes, 0);
        assert_int_equal(c.hugepages_line, 4);
        assert_int_equal(c.isolate_cpus, VHC_ISOLATE_CPUS_AUTO);
        assert_string_equal(c.isolate_cpus_list, "");
        assert_int_equal(c.isolate_cpus_line, 5);
        assert_int_equal(c.cpu_governor, VHC_GOVERNOR_KEEP);
        vhc_config_done(&c);
}

static void test_config_bad(void **state) {
        expect_bad("hugepages = lots\n", 1, "hugepages: 'lots' is not none or a size");
        expect_bad("\nhugepages = 1M\n", 2, "of 2M or more");
        expect_bad("hugepages = 0\n", 1, "hugepages: '0'");
        expect_bad("hugepages = 99999999999T\n", 1, "hugepages: '99999999999T'");
        expect_bad("cpu_governor = turbo\n", 1, "cpu_governor: 'turbo' is not keep or performance");
        expect_bad("cpu_governor = Performance\n", 1, "cpu_governor: 'Performance'");
        expect_bad("isolate_cpus = yes\n", 1, "isolate_cpus: 'yes' is not none, auto or a CPU list");
        expect_bad("isolate_cpus = 7-3\n", 1, "isolate_cpus: '7-3'");
        expect_bad("isolate_cpus = 2-\n", 1, "isolate_cpus: '2-'");
        expect_bad("isolate_cpus = 1 2\n", 1, "isolate_cpus: '1 2'");
        expect_bad("isolate_cpus = 0-70000\n", 1, "isolate_cpus: '0-70000'");
        expect_bad("iommu = yes\nhuge_pages = 1G\n", 2, "unknown key 'huge_pages'");
}

static void test_config_err(void **state) {
        struct vhc_config c;
        struct vhc_err e = {};
        char buf[2048];

        assert_int_equal(load(&c, "\n\nhugepages = 8G\n", &e), 0);
        assert_int_equal(vhc_config_err(&c, &e, c.hugepages_line, "hugepages: %s", "too much"), -EINVAL);
        vhc_err_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "/etc/vhc.conf:3: hugepages: too much");
        vhc_config_done(&c);

        /* A default value has no line: the message stands alone. */
        vhc_config_init(&c);
        e = (struct vhc_err){};
        assert_int_equal(vhc_config_err(&c, &e, 0, "isolate_cpus: %s", "no"), -EINVAL);
        vhc_err_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "isolate_cpus: no");
}

static void test_hugepages_size(void **state) {
        struct vhc_cpuinfo big = {.pdpe1gb = true}, small = {.pdpe1gb = false};
        struct vhc_hugepages h;

        vhc_hugepages_for(16 * GIB, &big, &h);
        assert_true(h.page_size == GIB && h.count == 16);
        vhc_hugepages_for(16 * GIB, &small, &h);
        assert_true(h.page_size == 2 * MIB && h.count == 8192);
        /* Rounded up: the guest needs at least what was asked for. */
        vhc_hugepages_for(1500 * MIB, &big, &h);
        assert_true(h.count == 2);
        vhc_hugepages_for(3 * MIB, &small, &h);
        assert_true(h.count == 2);
        vhc_hugepages_for(2 * MIB, &big, &h);
        assert_true(h.count == 1);
}

static void test_hugepages_check(void **state) {
        struct vhc_cpuinfo big = {.pdpe1gb = true}, small = {.pdpe1gb = false};
        struct vhc_config c;
        struct vhc_hugepages h = {};
        struct vhc_err e = {};
        char buf[2048];
        /* intel-nvidia's MemTotal: 32792540 kB, 31.2 GiB; 75%: 23.4 GiB. */
        const uint64_t ram = UINT64_C(32792540) * 1024;

        assert_int_equal(load(&c, "hugepages = 23G\n", &e), 0);
        assert_int_equal(vhc_hugepages_check(&c, &big, ram, &h, &e), 0);
        assert_true(h.page_size == GIB && h.count == 23);
        vhc_config_done(&c);

        assert_int_equal(load(&c, "# big\nhugepages = 24G\n", &e), 0);
        h = (struct vhc_hugepages){};
        assert_int_equal(vhc_hugepages_check(&c, &big, ram, &h, &e), -EINVAL);
        assert_true(h.count == 0); /* not written on failure */
        vhc_err_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "/etc/vhc.conf:2: hugepages: 24.0 GiB of 1G pages is more than 75% of this "
                                 "host's RAM (31.2 GiB): give at most 23G, or none");
        vhc_config_done(&c);

        /* With 2 MiB pages the limit is finer. */
        e = (struct vhc_err){};
        assert_int_equal(load(&c, "hugepages = 999T\n", &e), 0);
        assert_int_equal(vhc_hugepages_check(&c, &small, ram, &h, &e), -EINVAL);
        vhc_err_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "/etc/vhc.conf:1: hugepages: 1022976.0 GiB of 2M pages is more than 75% of "
                                 "this host's RAM (31.2 GiB): give at most 24016M, or none");
        vhc_config_done(&c);

        /* Not even one page fits. */
        e = (struct vhc_err){};
        assert_int_equal(load(&c, "hugepages = 1G\n", &e), 0);
        assert_int_equal(vhc_hugepages_check(&c, &big, GIB, &h, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "give none"));
        vhc_config_done(&c);
}

static void expect_wanted(const char *conf, bool intel, bool pdpe1gb, const char *want) {
        struct vhc_cpuinfo cpu = {.vendor = intel ? VHC_CPU_INTEL : VHC_CPU_AMD, .pdpe1gb = pdpe1gb};
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *joined = NULL;
        struct vhc_config c;
        struct vhc_err e = {};
        size_t size = 0;
        FILE *f = open_memstream(&joined, &size);

        assert_non_null(f);
        assert_int_equal(load(&c, conf, &e), 0);
        assert_int_equal(vhc_kargs_wanted(&c, &cpu, &l), 0);
        for (char **a = l; *a; a++)
                fprintf(f, "%s%s", a == l ? "" : " ", *a);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(joined, want);
        vhc_config_done(&c);
}

static void test_kargs_wanted(void **state) {
        expect_wanted("", true, true, "iommu=pt intel_iommu=on");
        expect_wanted("hugepages = 16G\n", true, true,
                      "iommu=pt intel_iommu=on default_hugepagesz=1G hugepagesz=1G hugepages=16");
        expect_wanted("hugepages = 16G\n", false, false,
                      "iommu=pt default_hugepagesz=2M hugepagesz=2M hugepages=8192");
        expect_wanted("iommu = no\nhugepages = 4G\n", true, true,
                      "default_hugepagesz=1G hugepagesz=1G hugepages=4");
        expect_wanted("iommu = no\nhugepages = none\n", true, true, "");
}

/* apply then revert through the owned-argument engine, on a grub file. */
static void engine_round_trip(const char *grub, const char *conf, const char *want_applied) {
        struct vhc_cpuinfo cpu = {.vendor = VHC_CPU_INTEL, .pdpe1gb = true};
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL, *g2 = NULL;
        _cleanup_strv_free_ char **wanted = NULL;
        _cleanup_free_ char *applied = NULL;
        struct vhc_state none, after, again;
        struct vhc_kargs_target t, t2;
        struct vhc_config c;
        struct vhc_err e = {};
        size_t len;

        vhc_state_init(&none);
        vhc_state_init(&after);
        vhc_state_init(&again);
        assert_int_equal(load(&c, conf, &e), 0);
        assert_int_equal(vhc_kargs_wanted(&c, &cpu, &wanted), 0);
        assert_int_equal(vhc_grub_parse(grub, strlen(grub), "grub", &g, &e), 0);
        vhc_kargs_grub_target(g, "/etc/default/grub", &t);
        assert_int_equal(vhc_kargs_apply(&t, wanted, NULL, &none, &after, &e), 0);
        applied = strdup(vhc_grub_text(g, &len));
        assert_non_null(applied);
        assert_string_equal(applied, want_applied);

        /* A second apply from the record changes nothing. */
        assert_int_equal(vhc_grub_parse(applied, strlen(applied), "grub", &g2, &e), 0);
        vhc_kargs_grub_target(g2, "/etc/default/grub", &t2);
        assert_int_equal(vhc_kargs_apply(&t2, wanted, NULL, &after, &again, &e), 0);
        assert_string_equal(vhc_grub_text(g2, &len), applied);

        assert_int_equal(vhc_kargs_revert(&t, &after, &e), 0);
        assert_string_equal(vhc_grub_text(g, &len), grub);
        vhc_state_done(&after);
        vhc_state_done(&again);
        vhc_config_done(&c);
}

static void test_kargs_engine(void **state) {
        engine_round_trip(
                "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n", "iommu = no\nhugepages = 8G\n",
                "GRUB_CMDLINE_LINUX=\"rhgb quiet default_hugepagesz=1G hugepagesz=1G hugepages=8\"\n");
        /* The user's contradicting size and count are replaced where they stand, and come back. */
        engine_round_trip("GRUB_CMDLINE_LINUX=\"hugepagesz=2M hugepages=512 quiet\"\n",
                          "iommu = no\nhugepages = 8G\n",
                          "GRUB_CMDLINE_LINUX=\"hugepagesz=1G hugepages=8 quiet default_hugepagesz=1G\"\n");
        /* The user's own identical argument stays theirs and is not doubled. */
        engine_round_trip("GRUB_CMDLINE_LINUX=\"default_hugepagesz=1G quiet\"\n",
                          "iommu = no\nhugepages = 2G\n",
                          "GRUB_CMDLINE_LINUX=\"default_hugepagesz=1G quiet hugepagesz=1G hugepages=2\"\n");
}

static void test_render_hook(void **state) {
        struct vhc_hook_tuning h = {
                .sys_cpu_abs = "/sys/devices/system/cpu",
                .run_dir_abs = "/run/virt-host-config",
        };
        _cleanup_free_ char *gov = NULL, *iso = NULL, *both = NULL;
        char sentinel, *none = &sentinel;

        assert_int_equal(vhc_render_qemu_hook(&h, &none), 0);
        assert_null(none);

        h.governor_performance = true;
        assert_int_equal(vhc_render_qemu_hook(&h, &gov), 0);
        golden("hook-governor", gov);

        h.governor_performance = false;
        h.host_cpus = "0,4";
        h.guest_cpus = "1-3,5-7";
        assert_int_equal(vhc_render_qemu_hook(&h, &iso), 0);
        golden("hook-isolate", iso);

        h.governor_performance = true;
        assert_int_equal(vhc_render_qemu_hook(&h, &both), 0);
        golden("hook-both", both);
        assert_true(startswith(both, "#!/bin/sh\n# generated by virt-host-config"));
        assert_non_null(strstr(both, "\ngovernor=performance\nhost_cpus=0,4\n"));
}

static void test_render_hook_bad(void **state) {
        struct vhc_hook_tuning ok = {
                .governor_performance = true,
                .host_cpus = "0",
                .guest_cpus = "1-3",
                .sys_cpu_abs = "/sys/devices/system/cpu",
                .run_dir_abs = "/run/virt-host-config",
        };
        struct vhc_hook_tuning h;
        char *text = NULL;

        h = ok, h.sys_cpu_abs = "sys/devices/system/cpu";
        assert_int_equal(vhc_render_qemu_hook(&h, &text), -EINVAL);
        h = ok, h.run_dir_abs = "/run/$(reboot)";
        assert_int_equal(vhc_render_qemu_hook(&h, &text), -EINVAL);
        h = ok, h.run_dir_abs = "/run/../etc";
        assert_int_equal(vhc_render_qemu_hook(&h, &text), -EINVAL);
        h = ok, h.host_cpus = "0; reboot";
        assert_int_equal(vhc_render_qemu_hook(&h, &text), -EINVAL);
        h = ok, h.host_cpus = "";
        assert_int_equal(vhc_render_qemu_hook(&h, &text), -EINVAL);
        h = ok, h.guest_cpus = NULL;
        assert_int_equal(vhc_render_qemu_hook(&h, &text), -EINVAL);
        assert_null(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_defaults), cmocka_unit_test(test_config_values),
                cmocka_unit_test(test_config_bad),      cmocka_unit_test(test_config_err),
                cmocka_unit_test(test_hugepages_size),  cmocka_unit_test(test_hugepages_check),
                cmocka_unit_test(test_kargs_wanted),    cmocka_unit_test(test_kargs_engine),
                cmocka_unit_test(test_render_hook),     cmocka_unit_test(test_render_hook_bad),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
