/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "check.h"
#include "domxml.h"
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

/* A temporary root with the files given as pairs of path and content. */
static void make_root(char *dir, const char *const *files) {
        assert_non_null(mkdtemp(dir));
        for (size_t i = 0; files && files[i]; i += 2) {
                char path[512], *slash;
                FILE *f;

                snprintf(path, sizeof(path), "%s%s", dir, files[i]);
                for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                        *slash = '\0';
                        (void)mkdir(path, 0755);
                        *slash = '/';
                }
                f = fopen(path, "we");
                assert_non_null(f);
                fputs(files[i + 1], f);
                fclose(f);
        }
}

static void remove_root(const char *dir) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static struct vhc_check_report *run(const char *dir, const struct vhc_config *c,
                                    const struct vhc_cpuinfo *cpu, const struct vhc_pci_list *l,
                                    const struct vhc_plan *plan) {
        _cleanup_(vhc_root_freep) struct vhc_root *root = NULL;
        struct vhc_check_report *rep = NULL;
        struct vhc_check_input in = {.config = c,
                                     .cpu = cpu,
                                     .cpu_error = cpu ? NULL : "no cpuinfo",
                                     .pci = l,
                                     .pci_error = l ? NULL : "no sysfs",
                                     .plan = plan,
                                     .kmod_error = "none",
                                     .applied = true};

        assert_int_equal(vhc_root_new(dir, &root), 0);
        in.root = root;
        assert_int_equal(vhc_check_run(&in, &rep), 0);
        return rep;
}

static size_t count(const struct vhc_check_report *rep, const char *id) {
        size_t n = 0;

        for (size_t i = 0; i < rep->n; i++)
                n += streq(rep->results[i].id, id);
        return n;
}

static const char *status_of(const struct vhc_check_report *rep, const char *id, const char *device) {
        int i = find(rep, id, device);

        return i < 0 ? "absent" : vhc_check_status_name(rep->results[i].status);
}

/* Kernel bug 60769 needs a Haswell with integrated graphics (models 60, 69,
 * 70; 63 is Haswell-E, without) and intel_iommu=on, live or to be set. */
static void test_haswell(void **state) {
        static const struct {
                unsigned model;
                const char *cmdline;
                bool iommu;
                const char *want;
        } cases[] = {
                {60, "ro quiet\n", true, "WARN"},                                 /* apply sets it */
                {69, "ro quiet\n", true, "WARN"},                                 /* Haswell ULT */
                {70, "ro quiet\n", true, "WARN"},                                 /* Crystal Well */
                {63, "ro quiet\n", true, "absent"},                               /* Haswell-E: no iGPU */
                {158, "ro intel_iommu=on\n", true, "absent"},                     /* Coffee Lake */
                {60, "ro quiet\n", false, "absent"},                              /* iommu = no, not live */
                {60, "ro intel_iommu=on,igfx_off\n", false, "WARN"},              /* live, by hand */
                {60, "ro \"intel-iommu=on\" intel_iommu=off\n", false, "absent"}, /* the last one wins */
        };
        const struct vhc_pci_dev igpu = {.address = "0000:00:02.0",
                                         .dev = 2,
                                         .vendor_id = 0x8086,
                                         .class_code = 0x030000,
                                         .iommu_group = -1,
                                         .boot_vga = true};
        struct vhc_pci_dev devs[] = {igpu};
        struct vhc_pci_list l = {.devs = devs, .n = 1, .boot_vga_known = true};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char dir[] = "/tmp/vhc-test-check.XXXXXX";
                const char *files[] = {"/proc/cmdline", cases[i].cmdline, NULL};
                struct vhc_cpuinfo cpu = {
                        .vendor = VHC_CPU_INTEL, .family = 6, .model = cases[i].model, .vmx = true};
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;
                struct vhc_config c;

                snprintf(cpu.model_name, sizeof(cpu.model_name), "Intel(R) Core(TM) i7-4790 CPU @ 3.60GHz");
                vhc_config_init(&c);
                c.iommu = cases[i].iommu;
                make_root(dir, files);
                rep = run(dir, &c, &cpu, &l, NULL);
                if (!streq(status_of(rep, "haswell-hdmi-audio", NULL), cases[i].want))
                        fail_msg("model %u, '%s', iommu %d: %s, wanted %s", cases[i].model, cases[i].cmdline,
                                 cases[i].iommu, status_of(rep, "haswell-hdmi-audio", NULL), cases[i].want);
                if (streq(cases[i].want, "WARN")) {
                        const struct vhc_check_result *r =
                                &rep->results[find(rep, "haswell-hdmi-audio", NULL)];
                        char model[16];

                        snprintf(model, sizeof(model), "model %u", cases[i].model);
                        assert_non_null(strstr(r->message, model));
                        assert_non_null(strstr(r->message, "i7-4790"));
                        assert_non_null(strstr(r->message, "60769"));
                        assert_non_null(r->hint);
                }
                vhc_config_done(&c);
                remove_root(dir);
        }

        /* No integrated GPU in the PCI list (turned off in the firmware): nothing to lose. */
        {
                char dir[] = "/tmp/vhc-test-check.XXXXXX";
                struct vhc_cpuinfo cpu = {.vendor = VHC_CPU_INTEL, .family = 6, .model = 60, .vmx = true};
                struct vhc_pci_list none = {.devs = NULL, .n = 0};
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;
                struct vhc_config c;

                vhc_config_init(&c);
                make_root(dir, NULL);
                rep = run(dir, &c, &cpu, &none, NULL);
                assert_string_equal(status_of(rep, "haswell-hdmi-audio", NULL), "absent");
                vhc_config_done(&c);
                remove_root(dir);
        }
}

/* The GTX 1080's slot: VGA and HDMI audio, isolated; the iGPU is the boot VGA. */
static void test_nvidia_audio_info(void **state) {
        char dir[] = "/tmp/vhc-test-check.XXXXXX";
        struct vhc_pci_dev devs[] = {
                {.address = "0000:00:02.0",
                 .dev = 2,
                 .vendor_id = 0x8086,
                 .class_code = 0x030000,
                 .iommu_group = 0,
                 .boot_vga = true,
                 .driver = (char *)"i915"},
                {.address = "0000:01:00.0",
                 .bus = 1,
                 .vendor_id = 0x10de,
                 .device_id = 0x1b80,
                 .class_code = 0x030000,
                 .iommu_group = 1,
                 .driver = (char *)"vfio-pci"},
                {.address = "0000:01:00.1",
                 .bus = 1,
                 .func = 1,
                 .vendor_id = 0x10de,
                 .device_id = 0x10f0,
                 .class_code = 0x040300,
                 .iommu_group = 1,
                 .driver = (char *)"vfio-pci"},
        };
        struct vhc_pci_list l = {
                .devs = devs, .n = ELEMENTSOF(devs), .groups_known = true, .boot_vga_known = true};
        struct vhc_cpuinfo cpu = {.vendor = VHC_CPU_INTEL, .family = 6, .model = 158, .vmx = true};
        struct vhc_config c;
        struct vhc_err e = {};
        int i;

        vhc_config_init(&c);
        make_root(dir, NULL);
        {
                _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;

                assert_int_equal(vhc_plan_make(&l, &c, &plan, &e), 0);
                rep = run(dir, &c, &cpu, &l, plan);
                i = find(rep, "nvidia-audio-msi", "0000:01:00.1");
                assert_true(i >= 0);
                assert_int_equal(rep->results[i].status, VHC_CHECK_INFO);
                assert_non_null(strstr(rep->results[i].message, "10de:10f0"));
                assert_non_null(strstr(rep->results[i].hint, "MSISupported=1"));
                assert_non_null(strstr(rep->results[i].hint, "VEN_10DE&DEV_10F0"));
                assert_non_null(strstr(rep->results[i].hint, "MessageSignaledInterruptProperties"));
                assert_int_equal(find(rep, "nvidia-audio-msi", "0000:01:00.0"), -1); /* the GPU itself */
                /* One of the INFOs; the other is the GPU's ROM, which this root does not have. */
                assert_int_equal(rep->n_status[VHC_CHECK_INFO], 2);
                i = find(rep, "uefi-gop", "0000:01:00.0");
                assert_true(i >= 0 && rep->results[i].status == VHC_CHECK_INFO);
                assert_string_equal(vhc_check_status_name(VHC_CHECK_INFO), "INFO");
                assert_int_equal(rep->n_status[VHC_CHECK_PASS] + rep->n_status[VHC_CHECK_WARN] +
                                         rep->n_status[VHC_CHECK_FAIL] + rep->n_status[VHC_CHECK_INFO],
                                 rep->n);
        }
        /* Not isolated (isolate = none): it stays on the host, nothing to say. */
        {
                _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;

                c.isolate = VHC_ISOLATE_NONE;
                assert_int_equal(vhc_plan_make(&l, &c, &plan, &e), 0);
                rep = run(dir, &c, &cpu, &l, plan);
                assert_int_equal(find(rep, "nvidia-audio-msi", NULL), -1);
                assert_int_equal(rep->n_status[VHC_CHECK_INFO], 0);
        }
        /* An AMD card's HDMI audio: MSI already, absent. */
        {
                _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;

                c.isolate = VHC_ISOLATE_AUTO;
                devs[1].vendor_id = devs[2].vendor_id = 0x1002;
                assert_int_equal(vhc_plan_make(&l, &c, &plan, &e), 0);
                rep = run(dir, &c, &cpu, &l, plan);
                assert_int_equal(vhc_plan_count_isolated(plan), 2);
                assert_int_equal(find(rep, "nvidia-audio-msi", NULL), -1);
        }
        vhc_config_done(&c);
        remove_root(dir);
}

/* A GPU vfio-pci holds (an apply made before the groups were known) shares
 * its group with a NIC of another slot: the group is not viable while igb has
 * the NIC; with the NIC on no driver or pci-stub, it is. */
static void test_group_not_viable(void **state) {
        static const char *const nic_drivers[] = {"igb", NULL, "pci-stub", "vfio-pci"};
        static const char *const want[] = {"FAIL", "WARN", "WARN", "WARN"};

        for (size_t k = 0; k < ELEMENTSOF(nic_drivers); k++) {
                char dir[] = "/tmp/vhc-test-check.XXXXXX";
                struct vhc_pci_dev devs[] = {
                        {.address = "0000:00:01.0",
                         .dev = 1,
                         .vendor_id = 0x8086,
                         .class_code = 0x060400,
                         .iommu_group = 1,
                         .driver = (char *)"pcieport"},
                        {.address = "0000:00:02.0",
                         .dev = 2,
                         .vendor_id = 0x8086,
                         .class_code = 0x030000,
                         .iommu_group = 0,
                         .boot_vga = true,
                         .driver = (char *)"i915"},
                        {.address = "0000:01:00.0",
                         .bus = 1,
                         .vendor_id = 0x10de,
                         .class_code = 0x030000,
                         .iommu_group = 1,
                         .driver = (char *)"vfio-pci"},
                        {.address = "0000:02:00.0",
                         .bus = 2,
                         .vendor_id = 0x8086,
                         .class_code = 0x020000,
                         .iommu_group = 1,
                         .driver = (char *)nic_drivers[k]},
                };
                struct vhc_pci_list l = {
                        .devs = devs, .n = ELEMENTSOF(devs), .groups_known = true, .boot_vga_known = true};
                struct vhc_cpuinfo cpu = {.vendor = VHC_CPU_INTEL, .family = 6, .model = 158, .vmx = true};
                _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;
                struct vhc_config c;
                struct vhc_err e = {};
                int i;

                vhc_config_init(&c);
                make_root(dir, NULL);
                assert_int_equal(vhc_plan_make(&l, &c, &plan, &e), 0);
                rep = run(dir, &c, &cpu, &l, plan);
                /* The plan keeps the GPU (its group holds another slot's device) in every case; only
                 * the NIC's driver decides between "not isolated" and "not viable". */
                i = find(rep, "iommu-groups", "0000:01:00.0");
                assert_true(i >= 0);
                if (!streq(vhc_check_status_name(rep->results[i].status), want[k]))
                        fail_msg("NIC on %s: %s, wanted %s", strempty(nic_drivers[k]),
                                 vhc_check_status_name(rep->results[i].status), want[k]);
                /* One result for the group, not one more per device. */
                assert_int_equal(count(rep, "iommu-groups"), 1);
                if (k == 0) {
                        assert_non_null(strstr(rep->results[i].message, "not viable"));
                        assert_non_null(strstr(rep->results[i].message, "0000:02:00.0 (igb)"));
                        assert_non_null(strstr(rep->results[i].hint, "driverctl set-override 0000:02:00.0"));
                }
                vhc_config_done(&c);
                remove_root(dir);
        }
}

/* <memory> as libvirt scales it (virScaleInteger). */
static void test_domxml_memory(void **state) {
        static const struct {
                const char *memory;
                uint64_t bytes;
        } ok_cases[] = {
                {"<memory>8388608</memory>", 8 * GIB},
                {"<memory unit='KiB'>16777216</memory>", 16 * GIB},
                {"<memory unit='k'>1024</memory>", 1 << 20},
                {"<memory unit='GiB'>48</memory>", 48 * GIB},
                {"<memory unit='G'>2</memory>", 2 * GIB},
                {"<memory unit='gib'>2</memory>", 2 * GIB},
                {"<memory unit='MB'>1000</memory>", UINT64_C(1000000000)},
                {"<memory unit='M'>512</memory>", UINT64_C(512) << 20},
                {"<memory unit='bytes'>4096</memory>", 4096},
                {"<memory unit='b'>4096</memory>", 4096},
                {"<memory unit='TiB'>1</memory>", UINT64_C(1) << 40},
                {"<memory unit='KB'> 2000\n</memory>", 2000000},
        };
        static const char *const bad[] = {
                "<memory unit='KiB'>lots</memory>",
                "<memory unit='KiB'>-1</memory>",
                "<memory unit='XiB'>1</memory>",
                "<memory unit='kbit'>1</memory>",
                "<memory unit='EiB'>20</memory>",
                "<memory unit='KiB'></memory>",
                "",
        };
        char xml[512], *name = NULL;
        uint64_t b;
        struct vhc_err e = {};

        for (size_t i = 0; i < ELEMENTSOF(ok_cases); i++) {
                snprintf(xml, sizeof(xml), "<domain type='kvm'>\n  <name>win10</name>\n  %s\n</domain>\n",
                         ok_cases[i].memory);
                if (vhc_domxml_memory(xml, strlen(xml), "win10.xml", &b, &name, &e) != 0)
                        fail_msg("%s: %s", ok_cases[i].memory, e.msg);
                assert_int_equal(b, ok_cases[i].bytes);
                assert_string_equal(name, "win10");
                free(name);
                name = NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                e = (struct vhc_err){};
                snprintf(xml, sizeof(xml), "<domain type='kvm'><name>x</name>%s</domain>", bad[i]);
                assert_int_equal(vhc_domxml_memory(xml, strlen(xml), "x.xml", &b, &name, &e), -EINVAL);
                assert_null(name);
                assert_string_equal(e.file, "x.xml");
        }
        /* Not a domain, not XML. */
        e = (struct vhc_err){};
        snprintf(xml, sizeof(xml), "<network><name>default</name></network>");
        assert_int_equal(vhc_domxml_memory(xml, strlen(xml), "default.xml", &b, NULL, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "<network>"));
        e = (struct vhc_err){};
        snprintf(xml, sizeof(xml), "<domain><memory>1</memory>");
        assert_int_equal(vhc_domxml_memory(xml, strlen(xml), "torn.xml", &b, NULL, &e), -EINVAL);
        /* No name: "", the caller names it after the file. */
        snprintf(xml, sizeof(xml), "<domain><memory>1</memory></domain>");
        assert_int_equal(vhc_domxml_memory(xml, strlen(xml), "n.xml", &b, &name, &e), 0);
        assert_string_equal(name, "");
        assert_int_equal(b, 1024);
        free(name);
}

/* The largest guest under /etc/libvirt/qemu against @kvm's memlock. */
static void test_memlock_guests(void **state) {
        static const char header[] =
                "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
                "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
                "  virsh edit %s\nor other application using the libvirt API.\n-->\n\n";
        char small[512], big[512];
        const char *files[] = {
                "/etc/libvirt/qemu/small.xml",
                small,
                "/etc/libvirt/qemu/win10.xml",
                big,
                "/etc/libvirt/qemu/broken.xml",
                "<domain><memory>99999999999</memory>",
                "/etc/libvirt/qemu/networks/default.xml",
                "<network><name>default</name></network>\n",
                "/etc/security/limits.d/90-virt-host-config.conf",
                "@kvm - memlock 16777216\n",
                NULL,
        };
        struct vhc_cpuinfo cpu = {.vendor = VHC_CPU_AMD, .svm = true};
        struct vhc_config c;
        int i;

        snprintf(small, sizeof(small), header, "small");
        strcat(small, "<domain type='kvm'>\n  <name>small</name>\n  <memory "
                      "unit='KiB'>2097152</memory>\n</domain>\n");
        snprintf(big, sizeof(big), header, "win10");
        strcat(big,
               "<domain type='kvm'>\n  <name>win10</name>\n  <memory unit='GiB'>24</memory>\n</domain>\n");
        vhc_config_init(&c);
        {
                char dir[] = "/tmp/vhc-test-check.XXXXXX";
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;

                make_root(dir, files);
                rep = run(dir, &c, &cpu, NULL, NULL);
                i = find(rep, "memlock-guests", NULL);
                assert_true(i >= 0);
                assert_int_equal(rep->results[i].status, VHC_CHECK_WARN);
                assert_non_null(strstr(rep->results[i].message, "'win10' has 24 GiB"));
                assert_non_null(strstr(rep->results[i].message, "16 GiB"));
                assert_non_null(strstr(rep->results[i].message, "90-virt-host-config.conf"));
                /* No RAM known: auto wants 10 GiB, not enough; the hint says how much. */
                assert_non_null(strstr(rep->results[i].hint, "memlock = 25G"));
                remove_root(dir);
        }
        {
                char dir[] = "/tmp/vhc-test-check.XXXXXX";
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;

                files[9] = "@kvm - memlock unlimited\n";
                make_root(dir, files);
                rep = run(dir, &c, &cpu, NULL, NULL);
                assert_string_equal(status_of(rep, "memlock-guests", NULL), "PASS");
                assert_non_null(strstr(rep->results[find(rep, "memlock-guests", NULL)].message, "'win10'"));
                remove_root(dir);
        }
        {
                char dir[] = "/tmp/vhc-test-check.XXXXXX";
                _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;

                /* No guest defined: nothing to compare, no result. */
                make_root(dir, files + 6);
                rep = run(dir, &c, &cpu, NULL, NULL);
                assert_string_equal(status_of(rep, "memlock-guests", NULL), "absent");
                remove_root(dir);
        }
        vhc_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_limits_none),       cmocka_unit_test(test_limits_group_dash),
                cmocka_unit_test(test_limits_precedence), cmocka_unit_test(test_limits_garbage),
                cmocka_unit_test(test_run_empty_root),    cmocka_unit_test(test_run_groups_and_binding),
                cmocka_unit_test(test_haswell),           cmocka_unit_test(test_nvidia_audio_info),
                cmocka_unit_test(test_group_not_viable),  cmocka_unit_test(test_domxml_memory),
                cmocka_unit_test(test_memlock_guests),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
