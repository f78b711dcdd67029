/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "check.h"
#include "strv.h"

#define KIB UINT64_C(1024)
#define GIB (UINT64_C(1) << 30)

static void limits(const char *a, const char *b, struct vhc_memlock_limit *m) {
        char *texts[] = {(char *)a, (char *)b, NULL};
        char *names[] = {(char *)"/etc/security/limits.conf", (char *)"/etc/security/limits.d/90.conf",
                         NULL};

        if (!b)
                texts[1] = NULL;
        vhc_limits_memlock(texts, names, "kvm", m);
}

static void test_limits_none(void **state) {
        struct vhc_memlock_limit m;

        limits("# nothing\n@audio - rtprio 95\n@kvm - nofile 4096\n", NULL, &m);
        assert_false(m.soft_set);
        assert_false(m.hard_set);
        limits("", "", &m);
        assert_false(m.soft_set || m.hard_set);
}

static void test_limits_group_dash(void **state) {
        struct vhc_memlock_limit m;

        limits("@kvm  -  memlock  10485760  # 10 GiB\n", NULL, &m);
        assert_true(m.soft_set && m.hard_set);
        assert_int_equal(m.soft, 10 * GIB);
        assert_int_equal(m.hard, 10 * GIB);
        assert_string_equal(m.soft_from, "/etc/security/limits.conf");
}

static void test_limits_precedence(void **state) {
        struct vhc_memlock_limit m;

        /* @kvm beats "*", wherever "*" comes. */
        limits("@kvm soft memlock 1024\n", "* - memlock unlimited\n", &m);
        assert_int_equal(m.soft, 1024 * KIB);
        assert_int_equal(m.hard, UINT64_MAX);
        assert_string_equal(m.hard_from, "/etc/security/limits.d/90.conf");
        /* Of two @kvm lines, the later (the limits.d file) wins, soft and hard alike. */
        limits("@kvm soft memlock 1024\n@kvm hard memlock 4096\n",
               "@kvm soft memlock 2048\n@kvm hard memlock 8192\n", &m);
        assert_int_equal(m.soft, 2048 * KIB);
        assert_int_equal(m.hard, 8192 * KIB);
        assert_string_equal(m.soft_from, "/etc/security/limits.d/90.conf");
        limits("@kvm - memlock 1024\n", "@kvm hard memlock infinity\n", &m);
        assert_int_equal(m.soft, 1024 * KIB);
        assert_int_equal(m.hard, UINT64_MAX);
        assert_string_equal(m.soft_from, "/etc/security/limits.conf");
        /* Another group, a user, a comment: none of kvm's business. */
        limits("@wheel - memlock 1\nalice - memlock 2\n#@kvm - memlock 3\n* hard memlock -1\n", NULL, &m);
        assert_false(m.soft_set);
        assert_true(m.hard_set);
        assert_int_equal(m.hard, UINT64_MAX);
}

static void test_limits_garbage(void **state) {
        struct vhc_memlock_limit m;

        limits("@kvm - memlock lots\n@kvm - memlock -5\n@kvm - memlock 12x\n@kvm memlock 5\n"
               "@kvm - memlock 99999999999999999999\n",
               NULL, &m);
        assert_false(m.soft_set || m.hard_set);
        /* A number of KiB beyond 64 bits of bytes: unlimited, as the kernel would clamp it. */
        limits("@kvm - memlock 18014398509481984\n", NULL, &m);
        assert_true(m.soft_set);
        assert_int_equal(m.soft, UINT64_MAX);
}

static int find(const struct vhc_check_report *rep, const char *id, const char *device) {
        for (size_t i = 0; i < rep->n; i++)
                if (streq(rep->results[i].id, id) &&
                    (!device || (rep->results[i].device && streq(rep->results[i].device, device))))
                        return (int)i;
        return -1;
}

/* A root with nothing in it: every read fails, every check still answers with
 * a message, WARN and FAIL with a hint. */
static void test_run_empty_root(void **state) {
        char dir[] = "/tmp/vhc-test-check.XXXXXX";
        _cleanup_(vhc_root_freep) struct vhc_root *root = NULL;
        _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;
        struct vhc_config c;
        struct vhc_check_input in = {};

        assert_non_null(mkdtemp(dir));
        assert_int_equal(vhc_root_new(dir, &root), 0);
        vhc_config_init(&c);
        in.root = root;
        in.config = &c;
        in.cpu_error = "no cpuinfo";
        in.pci_error = "no sysfs";
        in.kmod_error = "no modules";
        assert_int_equal(vhc_check_run(&in, &rep), 0);
        assert_true(rep->n >= 10);
        for (size_t i = 0; i < rep->n; i++) {
                const struct vhc_check_result *r = &rep->results[i];

                assert_non_null(r->message);
                assert_true(r->message[0] != '\0');
                assert_true((r->status == VHC_CHECK_PASS) == (r->hint == NULL));
        }
        assert_int_equal(rep->results[find(rep, "cpu-virtualization", NULL)].status, VHC_CHECK_FAIL);
        assert_non_null(strstr(rep->results[find(rep, "cpu-virtualization", NULL)].message, "no cpuinfo"));
        assert_int_equal(rep->results[find(rep, "iommu-groups", NULL)].status, VHC_CHECK_FAIL);
        assert_int_equal(rep->results[find(rep, "vfio-modules", NULL)].status, VHC_CHECK_FAIL);
        assert_int_equal(rep->results[find(rep, "kernel-args", NULL)].status, VHC_CHECK_FAIL);
        assert_int_equal(rep->results[find(rep, "kvm-group", NULL)].status, VHC_CHECK_FAIL);
        assert_int_equal(rep->results[find(rep, "memlock", NULL)].status, VHC_CHECK_WARN);
        assert_int_equal(find(rep, "vfio-binding", NULL), -1); /* no plan: "IOMMU groups" said why */
        assert_int_equal(rep->n_status[VHC_CHECK_PASS] + rep->n_status[VHC_CHECK_WARN] +
                                 rep->n_status[VHC_CHECK_FAIL],
                         rep->n);
        vhc_config_done(&c);
        assert_int_equal(rmdir(dir), 0);
}

/* Two GPUs; the second one's group also holds a NIC of another slot, so the
 * plan keeps it: "IOMMU groups" warns about that one, and the first, isolated,
 * is checked for its driver. */
static void test_run_groups_and_binding(void **state) {
        char dir[] = "/tmp/vhc-test-check.XXXXXX";
        _cleanup_(vhc_root_freep) struct vhc_root *root = NULL;
        _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;
        _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
        struct vhc_pci_dev devs[] = {
                {.address = "0000:00:02.0",
                 .bus = 0,
                 .dev = 2,
                 .class_code = 0x030000,
                 .iommu_group = 0,
                 .boot_vga = true,
                 .driver = (char *)"i915"},
                {.address = "0000:01:00.0",
                 .bus = 1,
                 .class_code = 0x030000,
                 .iommu_group = 1,
                 .driver = (char *)"vfio-pci"},
                {.address = "0000:02:00.0",
                 .bus = 2,
                 .class_code = 0x030000,
                 .iommu_group = 2,
                 .driver = (char *)"nouveau"},
                {.address = "0000:03:00.0",
                 .bus = 3,
                 .class_code = 0x020000,
                 .iommu_group = 2,
                 .driver = (char *)"igb"},
        };
        struct vhc_pci_list l = {
                .devs = devs, .n = ELEMENTSOF(devs), .groups_known = true, .boot_vga_known = true};
        struct vhc_cpuinfo cpu = {.vendor = VHC_CPU_AMD, .svm = true};
        struct vhc_config c;
        struct vhc_check_input in = {};
        struct vhc_err e = {};
        int i;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(vhc_root_new(dir, &root), 0);
        vhc_config_init(&c);
        assert_int_equal(vhc_plan_make(&l, &c, &plan, &e), 0);
        in = (struct vhc_check_input){.root = root,
                                      .config = &c,
                                      .cpu = &cpu,
                                      .pci = &l,
                                      .plan = plan,
                                      .kmod_error = "none",
                                      .applied = true};
        assert_int_equal(vhc_check_run(&in, &rep), 0);

        i = find(rep, "iommu-groups", "0000:02:00.0");
        assert_true(i >= 0);
        assert_int_equal(rep->results[i].status, VHC_CHECK_WARN);
        assert_non_null(strstr(rep->results[i].message, "0000:03:00.0"));
        assert_int_equal(find(rep, "iommu-groups", "0000:00:02.0"), -1); /* the boot VGA is no surprise */
        i = find(rep, "vfio-binding", "0000:01:00.0");
        assert_true(i >= 0);
        assert_int_equal(rep->results[i].status, VHC_CHECK_PASS);
        assert_int_equal(find(rep, "vfio-binding", "0000:02:00.0"), -1);
        i = find(rep, "cpu-virtualization", NULL);
        assert_int_equal(rep->results[i].status, VHC_CHECK_PASS);
        assert_string_equal(rep->results[i].message, "AMD-V (svm)");
        i = find(rep, "iommu-firmware", NULL);
        assert_int_equal(rep->results[i].status, VHC_CHECK_FAIL);
        assert_non_null(strstr(rep->results[i].message, "IVRS"));
        vhc_config_done(&c);
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_limits_none),       cmocka_unit_test(test_limits_group_dash),
                cmocka_unit_test(test_limits_precedence), cmocka_unit_test(test_limits_garbage),
                cmocka_unit_test(test_run_empty_root),    cmocka_unit_test(test_run_groups_and_binding),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
