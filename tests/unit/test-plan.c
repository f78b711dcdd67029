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

        l = machine(two_rx580, true);
        p = plan_ok(l, VHC_ISOLATE_LIST, "0000:0a:00.1", "0000:0a:00.1", NULL);
        expect(p, "0000:0a:00.0", ISOLATE, "function of 0000:0a:00.1 (isolated)");
        expect(p, "0000:0a:00.1", ISOLATE, "listed in isolate");
        expect(p, "0000:03:00.0", KEEP, "boot VGA device");
        expect(p, "0000:00:03.2", KEEP, "PCI bridge");
        expect(p, "0000:00:00.0", KEEP, "not listed in isolate");
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
        expect(p, "0000:01:00.1", KEEP,
               "slot mate 0000:01:00.1 shares IOMMU group 2 with the boot VGA 0000:00:02.0");
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
                cmocka_unit_test(test_auto_optimus_3d_controller),
                cmocka_unit_test(test_empty_machine),
                cmocka_unit_test(test_vendor_reset),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
