/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "plan.h"
#include "strv.h"

/* One device of a machine built in memory: what the scanner would report. */
struct spec {
        const char *address;
        uint16_t vendor, device;
        uint32_t class_code;
        int group; /* -1: unknown */
        bool boot_vga;
};

#define END                                                                                                 \
        { NULL, 0, 0, 0, 0, false }

static struct vhc_pci_list *machine(const struct spec *s, bool groups_known) {
        struct vhc_pci_list *l = calloc(1, sizeof(*l));
        size_t n = 0;

        assert_non_null(l);
        while (s[n].address)
                n++;
        l->devs = calloc(n + 1, sizeof(*l->devs));
        assert_non_null(l->devs);
        for (size_t i = 0; i < n; i++) {
                struct vhc_pci_dev *d = &l->devs[i];

                snprintf(d->address, sizeof(d->address), "%s", s[i].address);
                assert_int_equal(sscanf(s[i].address, "%x:%x:%x.%x", &d->domain, &d->bus, &d->dev, &d->func),
                                 4);
                d->vendor_id = s[i].vendor;
                d->device_id = s[i].device;
                d->class_code = s[i].class_code;
                d->iommu_group = groups_known ? s[i].group : -1;
                d->boot_vga = s[i].boot_vga;
                l->boot_vga_known |= s[i].boot_vga;
                if (i > 0) /* the scanner's promise the policy relies on */
                        assert_true(strcmp(l->devs[i - 1].address, d->address) < 0);
        }
        l->n = n;
        l->groups_known = groups_known;
        return l;
}

static void machine_free(struct vhc_pci_list *l) {
        free(l->devs);
        free(l);
}

/* Plans with isolate = mode; for VHC_ISOLATE_LIST the addresses follow in ap, NULL-terminated. */
static int vplan_for(const struct vhc_pci_list *l, struct vhc_plan **ret, struct vhc_err *e,
                     enum vhc_isolate_mode mode, va_list ap) {
        struct vhc_config c;
        const char *a;
        int r;

        vhc_config_init(&c);
        c.isolate = mode;
        if (mode == VHC_ISOLATE_LIST) {
                c.isolate_list = calloc(1, sizeof(char *));
                assert_non_null(c.isolate_list);
                while ((a = va_arg(ap, const char *)))
                        assert_int_equal(strv_push_dup(&c.isolate_list, a), 0);
        }
        r = vhc_plan_make(l, &c, ret, e);
        vhc_config_done(&c);
        return r;
}

static int plan_for(const struct vhc_pci_list *l, struct vhc_plan **ret, struct vhc_err *e,
                    enum vhc_isolate_mode mode, ...) {
        va_list ap;
        int r;

        va_start(ap, mode);
        r = vplan_for(l, ret, e, mode, ap);
        va_end(ap);
        return r;
}

/* A plan that must succeed, checked for what every plan promises. */
static struct vhc_plan *plan_ok(const struct vhc_pci_list *l, enum vhc_isolate_mode mode, ...) {
        struct vhc_plan *p = NULL;
        struct vhc_err e = {};
        va_list ap;

        va_start(ap, mode);
        assert_int_equal(vplan_for(l, &p, &e, mode, ap), 0);
        va_end(ap);
        assert_string_equal(e.msg, "");
        assert_non_null(p);
        assert_int_equal(p->n, l->n);
        assert_int_equal(p->groups_known, l->groups_known);
        for (size_t i = 0; i < p->n; i++) {
                assert_ptr_equal(p->entries[i].dev, &l->devs[i]); /* the list's order */
                assert_non_null(p->entries[i].reason);
                assert_true(p->entries[i].reason[0] != '\0');
        }
        return p;
}

static void expect(const struct vhc_plan *p, const char *address, enum vhc_action action,
                   const char *reason) {
        for (size_t i = 0; i < p->n; i++) {
                if (!streq(p->entries[i].dev->address, address))
                        continue;
                if (p->entries[i].action != action || !streq(p->entries[i].reason, reason))
                        fail_msg("%s: got %s \"%s\", want %s \"%s\"", address,
                                 p->entries[i].action == VHC_ACTION_ISOLATE ? "isolate" : "keep",
                                 p->entries[i].reason, action == VHC_ACTION_ISOLATE ? "isolate" : "keep",
                                 reason);
                return;
        }
        fail_msg("%s: not in the plan", address);
}

#define ISOLATE VHC_ACTION_ISOLATE
#define KEEP VHC_ACTION_KEEP

/* A Coffee Lake desktop: UHD 630 boots the console, a GTX 1080 with its HDMI
 * audio sits behind the CPU's root port, all three in group 1. */
static const struct spec intel_nvidia[] = {
        {"0000:00:00.0", 0x8086, 0x3e30, 0x060000, 0, false},
        {"0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, false},
        {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
        {"0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, 3, false},
        {"0000:00:1f.0", 0x8086, 0xa305, 0x060100, 4, false},
        {"0000:00:1f.3", 0x8086, 0xa348, 0x040300, 4, false},
        {"0000:01:00.0", 0x10de, 0x1b80, 0x030000, 1, false},
        {"0000:01:00.1", 0x10de, 0x10f0, 0x040300, 1, false},
        {"0000:03:00.0", 0x8086, 0x1539, 0x020000, 5, false},
        END,
};

static void test_auto_igpu_and_dgpu(void **state) {
        struct vhc_pci_list *l = machine(intel_nvidia, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:00:00.0", KEEP, "not a display controller");
        expect(p, "0000:00:01.0", KEEP, "PCI bridge");
        expect(p, "0000:00:02.0", KEEP, "boot VGA device");
        expect(p, "0000:00:14.0", KEEP, "not a display controller");
        expect(p, "0000:00:1f.3", KEEP, "not a display controller");
        expect(p, "0000:01:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:01:00.1", ISOLATE, "function of 0000:01:00.0 (isolated)");
        expect(p, "0000:03:00.0", KEEP, "not a display controller");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        assert_true(p->groups_known);
        assert_null(p->note);
        machine_free(l);
}

/* Two RX 580 with the same IDs: only the address tells them apart. */
static const struct spec two_rx580[] = {
        {"0000:00:00.0", 0x1022, 0x1450, 0x060000, 0, false},
        {"0000:00:03.1", 0x1022, 0x1453, 0x060400, 3, false},
        {"0000:00:03.2", 0x1022, 0x1453, 0x060400, 4, false},
        {"0000:03:00.0", 0x1002, 0x67df, 0x030000, 3, true},
        {"0000:03:00.1", 0x1002, 0xaaf0, 0x040300, 3, false},
        {"0000:0a:00.0", 0x1002, 0x67df, 0x030000, 4, false},
        {"0000:0a:00.1", 0x1002, 0xaaf0, 0x040300, 4, false},
        END,
};

/* vendor_reset = yes marks the isolated devices vendor-reset knows: the second
 * RX 580, not its HDMI audio, not the boot one; = no marks none. */
static void test_vendor_reset(void **state) {
        struct vhc_pci_list *l = machine(two_rx580, true);
        struct vhc_config c;
        struct vhc_err e = {};

        for (int yes = 0; yes <= 1; yes++) {
                _cleanup_(vhc_plan_freep) struct vhc_plan *p = NULL;

                vhc_config_init(&c);
                c.vendor_reset = yes;
                assert_int_equal(vhc_plan_make(l, &c, &p, &e), 0);
                for (size_t i = 0; i < p->n; i++)
                        assert_int_equal(p->entries[i].vendor_reset,
                                         yes && streq(p->entries[i].dev->address, "0000:0a:00.0"));
                vhc_config_done(&c);
        }
        machine_free(l);
}

static void test_auto_two_identical_gpus(void **state) {
        struct vhc_pci_list *l = machine(two_rx580, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:00:03.1", KEEP, "shares IOMMU group 3 with the boot VGA 0000:03:00.0");
        expect(p, "0000:00:03.2", KEEP, "PCI bridge");
        expect(p, "0000:03:00.0", KEEP, "boot VGA device");
        expect(p, "0000:03:00.1", KEEP, "shares slot with the boot VGA 0000:03:00.0");
        expect(p, "0000:0a:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:0a:00.1", ISOLATE, "function of 0000:0a:00.0 (isolated)");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        machine_free(l);
}

/* Turing: VGA, HDMI audio, USB-C (xhci) and UCSI (serial bus) functions. */
static const struct spec rtx2080ti[] = {
        {"0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, false},
        {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
        {"0000:01:00.0", 0x10de, 0x1e07, 0x030000, 1, false},
        {"0000:01:00.1", 0x10de, 0x10f7, 0x040300, 1, false},
        {"0000:01:00.2", 0x10de, 0x1ad6, 0x0c0330, 1, false},
        {"0000:01:00.3", 0x10de, 0x1ad7, 0x0c8000, 1, false},
        END,
};

static void test_auto_turing_four_functions(void **state) {
        struct vhc_pci_list *l = machine(rtx2080ti, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:01:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:01:00.1", ISOLATE, "function of 0000:01:00.0 (isolated)");
        expect(p, "0000:01:00.2", ISOLATE, "function of 0000:01:00.0 (isolated)");
        expect(p, "0000:01:00.3", ISOLATE, "function of 0000:01:00.0 (isolated)");
        expect(p, "0000:00:01.0", KEEP, "PCI bridge");
        assert_int_equal(vhc_plan_count_isolated(p), 4);
        machine_free(l);
}

/* A chipset root complex without ACS: the GPU's group 14 also holds the NIC. */
static const struct spec shared_with_nic[] = {
        {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
        {"0000:00:1c.0", 0x8086, 0xa340, 0x060400, 14, false},
        {"0000:00:1c.4", 0x8086, 0xa33c, 0x060400, 14, false},
        {"0000:01:00.0", 0x10de, 0x1b80, 0x030000, 14, false},
        {"0000:01:00.1", 0x10de, 0x10f0, 0x040300, 14, false},
        {"0000:03:00.0", 0x8086, 0x1539, 0x020000, 14, false},
        END,
};

static void test_auto_group_shared_with_nic(void **state) {
        struct vhc_pci_list *l = machine(shared_with_nic, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);
        const char *why = "IOMMU group 14 also holds 0000:03:00.0 (Ethernet controller): not isolated";

        expect(p, "0000:01:00.0", KEEP, why);
        expect(p, "0000:01:00.1", KEEP, why);
        expect(p, "0000:03:00.0", KEEP, "not a display controller");
        expect(p, "0000:00:1c.0", KEEP, "PCI bridge");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        machine_free(l);
}

/* The scanner's class name wins over the built-in table; an unknown class is shown by number. */
static void test_group_shared_names(void **state) {
        struct vhc_pci_list *l = machine(shared_with_nic, true);
        struct vhc_plan *p;
        char name[] = "Ethernet controller (scanned)";

        l->devs[5].class_name = name;
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:01:00.0", KEEP,
               "IOMMU group 14 also holds 0000:03:00.0 (Ethernet controller (scanned)): not isolated");
        vhc_plan_free(p);

        l->devs[5].class_name = NULL;
        l->devs[5].class_code = 0x0d1100;
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:01:00.1", KEEP, "IOMMU group 14 also holds 0000:03:00.0 (class 0d11): not isolated");
        vhc_plan_free(p);
        machine_free(l);
}

/* Only bridges share the GPU's group: they do not count. */
static const struct spec group_with_bridges[] = {
        {"0000:00:01.0", 0x1022, 0x1483, 0x060400, 7, false},
        {"0000:00:01.1", 0x1022, 0x1483, 0x060400, 7, false},
        {"0000:00:08.1", 0x1022, 0x1484, 0x060400, 9, false},
        {"0000:01:00.0", 0x1002, 0x1478, 0x060400, 7, false}, /* Navi's own upstream switch port */
        {"0000:02:00.0", 0x1002, 0x1479, 0x060400, 7, false},
        {"0000:03:00.0", 0x1002, 0x731f, 0x030000, 7, false},
        {"0000:03:00.1", 0x1002, 0xab38, 0x040300, 7, false},
        {"0000:0b:00.0", 0x1002, 0x1636, 0x030000, 9, true},
        END,
};

static void test_auto_bridges_do_not_count(void **state) {
        struct vhc_pci_list *l = machine(group_with_bridges, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:03:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:03:00.1", ISOLATE, "function of 0000:03:00.0 (isolated)");
        expect(p, "0000:01:00.0", KEEP, "PCI bridge");
        expect(p, "0000:02:00.0", KEEP, "PCI bridge");
        expect(p, "0000:00:08.1", KEEP, "shares IOMMU group 9 with the boot VGA 0000:0b:00.0");
        expect(p, "0000:0b:00.0", KEEP, "boot VGA device");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        machine_free(l);
}

/* Two non-boot GPUs behind one switch share a group: they go together; once
 * a third, foreign device is in it, neither goes. */
static const struct spec two_gpus_one_group[] = {
        {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
        {"0000:02:00.0", 0x10b5, 0x8747, 0x060400, 1, false},
        {"0000:03:00.0", 0x10de, 0x1b80, 0x030000, 1, false},
        {"0000:03:00.1", 0x10de, 0x10f0, 0x040300, 1, false},
        {"0000:04:00.0", 0x10de, 0x1b80, 0x030000, 1, false},
        {"0000:04:00.1", 0x10de, 0x10f0, 0x040300, 1, false},
        {"0000:05:00.0", 0x144d, 0xa808, 0x010802, 1, false},
        END,
};

static void test_auto_two_gpus_one_group(void **state) {
        struct vhc_pci_list *l = machine(two_gpus_one_group, true);
        struct vhc_plan *p;

        l->n = 6; /* without the NVMe drive */
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:03:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:04:00.1", ISOLATE, "function of 0000:04:00.0 (isolated)");
        assert_int_equal(vhc_plan_count_isolated(p), 4);
        vhc_plan_free(p);

        l->n = 7;
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:03:00.0", KEEP,
               "IOMMU group 1 also holds 0000:05:00.0 (Non-Volatile memory controller): not isolated");
        expect(p, "0000:03:00.1", KEEP,
               "IOMMU group 1 also holds 0000:05:00.0 (Non-Volatile memory controller): not isolated");
        /* 04:00 is kept because 03:00 now stays with the host (the first foreign device found). */
        expect(p, "0000:04:00.0", KEEP,
               "IOMMU group 1 also holds 0000:03:00.0 (VGA compatible controller): not isolated");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        vhc_plan_free(p);
        machine_free(l);
}

/* Blocking a slot late in address order must reach back to an earlier one:
 * 04:00.1 has its own group with the NVMe drive, and 03:00 shares group 1 with 04:00.0. */
static void test_auto_group_rule_reaches_back(void **state) {
        static const struct spec chain[] = {
                {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
                {"0000:03:00.0", 0x10de, 0x1b80, 0x030000, 1, false},
                {"0000:03:00.1", 0x10de, 0x10f0, 0x040300, 1, false},
                {"0000:04:00.0", 0x10de, 0x1b80, 0x030000, 1, false},
                {"0000:04:00.1", 0x10de, 0x10f0, 0x040300, 6, false},
                {"0000:05:00.0", 0x144d, 0xa808, 0x010802, 6, false},
                END,
        };
        struct vhc_pci_list *l = machine(chain, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:04:00.0", KEEP,
               "IOMMU group 6 also holds 0000:05:00.0 (Non-Volatile memory controller): not isolated");
        expect(p, "0000:03:00.0", KEEP,
               "IOMMU group 1 also holds 0000:04:00.0 (VGA compatible controller): not isolated");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        machine_free(l);
}

static void test_auto_first_install_no_groups(void **state) {
        struct vhc_pci_list *l = machine(shared_with_nic, false);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        /* Without groups the NIC cannot be seen sharing one: plan by slot, say so. */
        expect(p, "0000:01:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:01:00.1", ISOLATE, "function of 0000:01:00.0 (isolated)");
        expect(p, "0000:03:00.0", KEEP, "not a display controller");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        assert_false(p->groups_known);
        assert_non_null(p->note);
        assert_non_null(strstr(p->note, "planned by slot only"));
        assert_non_null(strstr(p->note, "after the reboot"));
        machine_free(l);
}

static void test_auto_single_gpu(void **state) {
        static const struct spec single[] = {
                {"0000:00:00.0", 0x1022, 0x1480, 0x060000, 0, false},
                {"0000:00:03.1", 0x1022, 0x1483, 0x060400, 3, false},
                {"0000:0a:00.0", 0x1002, 0x73bf, 0x030000, 3, true},
                {"0000:0a:00.1", 0x1002, 0xab28, 0x040300, 3, false},
                END,
        };
        struct vhc_pci_list *l = machine(single, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:0a:00.0", KEEP, "boot VGA device");
        expect(p, "0000:0a:00.1", KEEP, "shares slot with the boot VGA 0000:0a:00.0");
        expect(p, "0000:00:03.1", KEEP, "shares IOMMU group 3 with the boot VGA 0000:0a:00.0");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        assert_non_null(p->note);
        assert_non_null(strstr(p->note, "nothing to isolate"));
        machine_free(l);
}

static void test_auto_no_boot_vga(void **state) {
        struct vhc_pci_list *l = machine(intel_nvidia, true);
        struct vhc_plan *p;

        l->devs[2].boot_vga = false;
        l->boot_vga_known = false;
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:00:02.0", KEEP, "no boot VGA device known: auto isolates no display controller");
        expect(p, "0000:01:00.0", KEEP, "no boot VGA device known: auto isolates no display controller");
        expect(p, "0000:01:00.1", KEEP, "not a display controller");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        assert_non_null(p->note);
        assert_non_null(strstr(p->note, "boot VGA"));
        assert_non_null(strstr(p->note, "isolate"));
        vhc_plan_free(p);

        /* Naming the devices still works without a boot VGA. */
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:01:00.0", NULL);
        expect(p, "0000:01:00.0", ISOLATE, "listed in isolate");
        expect(p, "0000:01:00.1", ISOLATE, "function of 0000:01:00.0 (isolated)");
        expect(p, "0000:00:02.0", KEEP, "not listed in isolate");
        assert_null(p->note);
        vhc_plan_free(p);
        machine_free(l);
}

static void test_list(void **state) {
        struct vhc_pci_list *l = machine(two_gpus_one_group, true);
        struct vhc_plan *p;

        l->n = 6;
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:04:00.0", "0000:03:00.0", "0000:04:00.1", NULL);
        expect(p, "0000:03:00.0", ISOLATE, "listed in isolate");
        expect(p, "0000:03:00.1", ISOLATE, "function of 0000:03:00.0 (isolated)");
        expect(p, "0000:04:00.0", ISOLATE, "listed in isolate");
        expect(p, "0000:04:00.1", ISOLATE, "listed in isolate");
        expect(p, "0000:02:00.0", KEEP, "PCI bridge");
        expect(p, "0000:00:02.0", KEEP, "boot VGA device");
        assert_int_equal(vhc_plan_count_isolated(p), 4);
        vhc_plan_free(p);
        machine_free(l);

        /* A named non-display device comes alone: the GPU that shares its
         * group is not taken with it, so the group rule keeps it. */
        l = machine(two_rx580, true);
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:0a:00.1", "0000:0a:00.1", NULL);
        expect(p, "0000:0a:00.0", KEEP, "not listed in isolate");
        expect(p, "0000:0a:00.1", KEEP,
               "IOMMU group 4 also holds 0000:0a:00.0 (VGA compatible controller): not isolated");
        expect(p, "0000:03:00.0", KEEP, "boot VGA device");
        expect(p, "0000:00:03.2", KEEP, "PCI bridge");
        expect(p, "0000:00:00.0", KEEP, "not listed in isolate");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        vhc_plan_free(p);
        /* Named, the GPU brings its audio. */
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:0a:00.0", NULL);
        expect(p, "0000:0a:00.0", ISOLATE, "listed in isolate");
        expect(p, "0000:0a:00.1", ISOLATE, "function of 0000:0a:00.0 (isolated)");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        vhc_plan_free(p);
        machine_free(l);
}

static void test_list_group_rule_applies(void **state) {
        struct vhc_pci_list *l = machine(two_gpus_one_group, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = NULL;

        l->n = 6;
        /* 03:00 is not listed, so it is foreign to group 1. */
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:04:00.0", NULL);
        expect(p, "0000:04:00.0", KEEP,
               "IOMMU group 1 also holds 0000:03:00.0 (VGA compatible controller): not isolated");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        machine_free(l);
}

static void expect_error(const struct vhc_pci_list *l, const char *address, const char *msg) {
        struct vhc_plan *p = NULL;
        struct vhc_err e = {};

        assert_int_equal(plan_for(l, &p, &e, VHC_ISOLATE_LIST, address, NULL), -EINVAL);
        assert_null(p);
        assert_string_equal(e.msg, msg);
}

static const struct spec icelake_gna[] = {
        {"0000:00:02.0", 0x8086, 0x8a52, 0x030000, 2, true},
        {"0000:00:08.0", 0x8086, 0x8a11, 0x088000, 2, false},
        END,
};

static void test_list_errors(void **state) {
        struct vhc_pci_list *l = machine(intel_nvidia, true);

        expect_error(l, "0000:05:00.0", "0000:05:00.0: no such PCI device; see 'virt-host-config list'");
        expect_error(l, "0000:00:02.0",
                     "0000:00:02.0: cannot be isolated (boot VGA device); remove it from 'isolate'");
        expect_error(l, "0000:00:01.0",
                     "0000:00:01.0: cannot be isolated (a PCI bridge stays with the host); "
                     "remove it from 'isolate'");
        machine_free(l);

        l = machine(two_rx580, true);
        expect_error(l, "0000:03:00.1",
                     "0000:03:00.1: cannot be isolated (shares slot with the boot VGA 0000:03:00.0); "
                     "remove it from 'isolate'");
        machine_free(l);

        /* An Ice Lake iGPU shares group 2 with the Gaussian Mixture Model device. */
        l = machine(icelake_gna, true);
        expect_error(
                l, "0000:00:08.0",
                "0000:00:08.0: cannot be isolated (shares IOMMU group 2 with the boot VGA 0000:00:02.0); "
                "remove it from 'isolate'");
        machine_free(l);
}

static void test_slot_mate_of_protected(void **state) {
        static const struct spec odd[] = {
                {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
                {"0000:01:00.0", 0x10de, 0x1b80, 0x030000, 7, false},
                {"0000:01:00.1", 0x10de, 0x10f0, 0x040300, 2, false},
                END,
        };
        struct vhc_pci_list *l = machine(odd, true);
        struct vhc_plan *p = NULL;
        struct vhc_err e = {};

        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:01:00.0", KEEP,
               "slot mate 0000:01:00.1 shares IOMMU group 2 with the boot VGA 0000:00:02.0");
        expect(p, "0000:01:00.1", KEEP, "shares IOMMU group 2 with the boot VGA 0000:00:02.0");
        vhc_plan_free(p);
        p = NULL;

        assert_int_equal(plan_for(l, &p, &e, VHC_ISOLATE_LIST, "0000:01:00.0", NULL), -EINVAL);
        assert_null(p);
        assert_string_equal(e.msg, "0000:01:00.0: cannot be isolated (slot mate 0000:01:00.1 shares IOMMU "
                                   "group 2 with the boot VGA 0000:00:02.0); remove it from 'isolate'");
        machine_free(l);
}

static void test_none(void **state) {
        struct vhc_pci_list *l = machine(intel_nvidia, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_NONE);

        expect(p, "0000:01:00.0", KEEP, "isolate = none");
        expect(p, "0000:01:00.1", KEEP, "isolate = none");
        expect(p, "0000:00:02.0", KEEP, "boot VGA device");
        expect(p, "0000:00:01.0", KEEP, "PCI bridge");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        assert_null(p->note);
        machine_free(l);
}

/* An Optimus laptop: the NVIDIA GPU is a 3D controller (0302) without outputs of its own. */
static void test_auto_optimus_3d_controller(void **state) {
        static const struct spec optimus[] = {
                {"0000:00:00.0", 0x8086, 0x9b54, 0x060000, 0, false},
                {"0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, false},
                {"0000:00:02.0", 0x8086, 0x9bc4, 0x030000, 2, true},
                {"0000:00:1f.3", 0x8086, 0x06c8, 0x040380, 12, false},
                {"0000:01:00.0", 0x10de, 0x1f95, 0x030200, 1, false},
                END,
        };
        struct vhc_pci_list *l = machine(optimus, true);
        _cleanup_(vhc_plan_freep) struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:01:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:00:02.0", KEEP, "boot VGA device");
        expect(p, "0000:00:1f.3", KEEP, "not a display controller");
        assert_int_equal(vhc_plan_count_isolated(p), 1);
        machine_free(l);
}

static void test_empty_machine(void **state) {
        static const struct spec none[] = {END};
        struct vhc_pci_list *l = machine(none, false);
        struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        assert_int_equal(p->n, 0);
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        assert_non_null(p->note); /* no boot VGA */
        vhc_plan_free(p);
        assert_null(vhc_plan_free(NULL));
        assert_int_equal(vhc_plan_count_isolated(NULL), 0);
        machine_free(l);
}

/* A Supermicro X11 workstation board: the BMC's AST2500 behind its AST1150
 * bridge, an RTX A4000 set as the boot display, a Tesla T4. */
static const struct spec supermicro_ast[] = {
        {"0000:00:00.0", 0x8086, 0x2020, 0x060000, 0, false},
        {"0000:00:1f.0", 0x8086, 0xa1c3, 0x060100, 5, false},
        {"0000:00:1f.4", 0x8086, 0xa1a3, 0x0c0500, 5, false},
        {"0000:01:00.0", 0x1a03, 0x1150, 0x060400, 6, false},
        {"0000:02:00.0", 0x1a03, 0x2000, 0x030000, 6, false},
        {"0000:18:00.0", 0x10de, 0x24b0, 0x030000, 9, true},
        {"0000:18:00.1", 0x10de, 0x228b, 0x040300, 9, false},
        {"0000:3b:00.0", 0x10de, 0x1eb8, 0x030200, 11, false},
        END,
};

static void test_bmc_display_kept(void **state) {
        struct vhc_pci_list *l = machine(supermicro_ast, true);
        struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:02:00.0", KEEP, "BMC display (remote console)");
        expect(p, "0000:01:00.0", KEEP, "PCI bridge");
        expect(p, "0000:3b:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:18:00.0", KEEP, "boot VGA device");
        assert_int_equal(vhc_plan_count_isolated(p), 1);
        for (size_t i = 0; i < p->n; i++)
                assert_null(p->entries[i].warning);
        vhc_plan_free(p);

        /* Named, it goes, with a warning. */
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:02:00.0", NULL);
        expect(p, "0000:02:00.0", ISOLATE, "listed in isolate");
        assert_non_null(p->entries[4].warning);
        assert_string_equal(p->entries[4].warning,
                            "0000:02:00.0 is a BMC display (remote console): isolating it ends the host's "
                            "remote console (IPMI KVM-over-IP) at the next boot");
        vhc_plan_free(p);

        /* Only the BMC display besides the boot GPU: nothing to isolate, and why. */
        l->n = 7;
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        assert_string_equal(p->note, "no display controller besides the boot VGA device and the BMC display "
                                     "(remote console): nothing to isolate");
        vhc_plan_free(p);
        machine_free(l);
}

/* Every Matrox G200 server variant mgag200 knows is a BMC display; the
 * desktop G200 (0520, 0521) and ASPEED's bridge are not. */
static void test_bmc_ids(void **state) {
        static const uint16_t bmc[] = {0x0522, 0x0524, 0x0530, 0x0532, 0x0533, 0x0534, 0x0536, 0x0538};
        struct vhc_pci_dev d = {.class_code = 0x030000, .vendor_id = 0x102b};

        for (size_t i = 0; i < ELEMENTSOF(bmc); i++) {
                d.device_id = bmc[i];
                assert_true(vhc_plan_is_bmc_display(&d));
        }
        d.device_id = 0x0520;
        assert_false(vhc_plan_is_bmc_display(&d));
        d.device_id = 0x0521;
        assert_false(vhc_plan_is_bmc_display(&d));
        d = (struct vhc_pci_dev){.class_code = 0x030000, .vendor_id = 0x1a03, .device_id = 0x2000};
        assert_true(vhc_plan_is_bmc_display(&d));
        d.class_code = 0x060400;
        d.device_id = 0x1150;
        assert_false(vhc_plan_is_bmc_display(&d));
        d = (struct vhc_pci_dev){.class_code = 0x030000, .vendor_id = 0x10de, .device_id = 0x2000};
        assert_false(vhc_plan_is_bmc_display(&d));
}

/* A Ryzen 9 7950X (Raphael) with an RTX 2070 SUPER (Turing, four functions)
 * as the boot display: the iGPU shares its slot with the host's PSP/CCP, USB
 * and audio (1022), each function in its own group. */
static const struct spec raphael[] = {
        {"0000:00:00.0", 0x1022, 0x14d8, 0x060000, 0, false},
        {"0000:00:01.1", 0x1022, 0x14db, 0x060400, 2, false},
        {"0000:00:08.1", 0x1022, 0x14dd, 0x060400, 5, false},
        {"0000:00:14.0", 0x1022, 0x790b, 0x0c0500, 6, false},
        {"0000:00:14.3", 0x1022, 0x790e, 0x060100, 6, false},
        {"0000:01:00.0", 0x10de, 0x1e84, 0x030000, 7, true},
        {"0000:01:00.1", 0x10de, 0x10f8, 0x040300, 7, false},
        {"0000:01:00.2", 0x10de, 0x1ad8, 0x0c0330, 7, false},
        {"0000:01:00.3", 0x10de, 0x1ad9, 0x0c8000, 7, false},
        {"0000:15:00.0", 0x1002, 0x164e, 0x030000, 20, false},
        {"0000:15:00.1", 0x1002, 0x1640, 0x040300, 21, false},
        {"0000:15:00.2", 0x1022, 0x1649, 0x108000, 22, false},
        {"0000:15:00.3", 0x1022, 0x15b6, 0x0c0330, 23, false},
        {"0000:15:00.4", 0x1022, 0x15b7, 0x0c0330, 24, false},
        {"0000:15:00.6", 0x1022, 0x15e3, 0x040300, 25, false},
        END,
};

static void test_apu_slot_by_vendor(void **state) {
        struct vhc_pci_list *l = machine(raphael, true);
        struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_AUTO);

        expect(p, "0000:15:00.0", ISOLATE, "non-boot display controller");
        expect(p, "0000:15:00.1", ISOLATE, "function of 0000:15:00.0 (isolated)");
        expect(p, "0000:15:00.2", KEEP, "not a display controller");
        expect(p, "0000:15:00.3", KEEP, "not a display controller");
        expect(p, "0000:15:00.4", KEEP, "not a display controller");
        expect(p, "0000:15:00.6", KEEP, "not a display controller");
        expect(p, "0000:01:00.3", KEEP, "shares slot with the boot VGA 0000:01:00.0");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        vhc_plan_free(p);

        /* Named, the same two. */
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:15:00.0", NULL);
        expect(p, "0000:15:00.1", ISOLATE, "function of 0000:15:00.0 (isolated)");
        expect(p, "0000:15:00.3", KEEP, "not listed in isolate");
        assert_int_equal(vhc_plan_count_isolated(p), 2);
        vhc_plan_free(p);

        /* The host's USB controller of that slot, named, comes alone. */
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:15:00.3", NULL);
        expect(p, "0000:15:00.3", ISOLATE, "listed in isolate");
        expect(p, "0000:15:00.0", KEEP, "not listed in isolate");
        assert_int_equal(vhc_plan_count_isolated(p), 1);
        vhc_plan_free(p);

        /* Were the iGPU and the host's audio in one group, the group rule keeps both. */
        l->devs[14].iommu_group = 20;
        p = plan_ok(l, VHC_ISOLATE_AUTO);
        expect(p, "0000:15:00.0", KEEP,
               "IOMMU group 20 also holds 0000:15:00.6 (Audio device): not isolated");
        expect(p, "0000:15:00.1", KEEP,
               "IOMMU group 20 also holds 0000:15:00.6 (Audio device): not isolated");
        expect(p, "0000:15:00.6", KEEP, "not a display controller");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        vhc_plan_free(p);
        machine_free(l);
}

/* A Z390 board whose PCH puts each function in its own group (ACS), and the
 * usual one where 1f.x share one. */
static const struct spec z390_pch[] = {
        {"0000:00:02.0", 0x8086, 0x3e92, 0x030000, 2, true},
        {"0000:00:1f.0", 0x8086, 0xa305, 0x060100, 7, false},
        {"0000:00:1f.3", 0x8086, 0xa348, 0x040300, 8, false},
        {"0000:00:1f.4", 0x8086, 0xa323, 0x0c0500, 9, false},
        {"0000:00:1f.5", 0x8086, 0xa324, 0x0c8000, 10, false},
        {"0000:00:1f.6", 0x8086, 0x15bc, 0x020000, 11, false},
        END,
};

static void test_chipset_slot(void **state) {
        struct vhc_pci_list *l = machine(z390_pch, true);
        struct vhc_plan *p = plan_ok(l, VHC_ISOLATE_LIST, "0000:00:1f.6", NULL);

        expect(p, "0000:00:1f.6", ISOLATE, "listed in isolate");
        expect(p, "0000:00:1f.0", KEEP, "not listed in isolate");
        expect(p, "0000:00:1f.3", KEEP, "not listed in isolate");
        expect(p, "0000:00:1f.4", KEEP, "not listed in isolate");
        expect(p, "0000:00:1f.5", KEEP, "not listed in isolate");
        assert_int_equal(vhc_plan_count_isolated(p), 1);
        vhc_plan_free(p);

        expect_error(
                l, "0000:00:1f.0",
                "0000:00:1f.0: cannot be isolated (ISA bridge: a chipset function stays with the host); "
                "remove it from 'isolate'");
        expect_error(l, "0000:00:1f.4",
                     "0000:00:1f.4: cannot be isolated (SMBus: a chipset function stays with the host); "
                     "remove it from 'isolate'");
        expect_error(
                l, "0000:00:1f.5",
                "0000:00:1f.5: cannot be isolated (Serial bus controller: a chipset function stays with "
                "the host); remove it from 'isolate'");

        /* One group for the PCH functions: the NIC cannot go alone. */
        for (size_t i = 1; i < l->n; i++)
                l->devs[i].iommu_group = 7;
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:00:1f.6", NULL);
        expect(p, "0000:00:1f.6", KEEP, "IOMMU group 7 also holds 0000:00:1f.0 (ISA bridge): not isolated");
        expect(p, "0000:00:1f.3", KEEP, "not listed in isolate");
        assert_int_equal(vhc_plan_count_isolated(p), 0);
        vhc_plan_free(p);
        machine_free(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_auto_igpu_and_dgpu),
                cmocka_unit_test(test_auto_two_identical_gpus),
                cmocka_unit_test(test_auto_turing_four_functions),
                cmocka_unit_test(test_auto_group_shared_with_nic),
                cmocka_unit_test(test_group_shared_names),
                cmocka_unit_test(test_auto_bridges_do_not_count),
                cmocka_unit_test(test_auto_two_gpus_one_group),
                cmocka_unit_test(test_auto_group_rule_reaches_back),
                cmocka_unit_test(test_auto_first_install_no_groups),
                cmocka_unit_test(test_auto_single_gpu),
                cmocka_unit_test(test_auto_no_boot_vga),
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_list_group_rule_applies),
                cmocka_unit_test(test_list_errors),
                cmocka_unit_test(test_slot_mate_of_protected),
                cmocka_unit_test(test_none),
                cmocka_unit_test(test_bmc_display_kept),
                cmocka_unit_test(test_bmc_ids),
                cmocka_unit_test(test_apu_slot_by_vendor),
                cmocka_unit_test(test_chipset_slot),
                cmocka_unit_test(test_auto_optimus_3d_controller),
                cmocka_unit_test(test_empty_machine),
                cmocka_unit_test(test_vendor_reset),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
