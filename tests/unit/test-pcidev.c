/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "pcidev.h"

#define MACHINES SRCDIR "/tests/machines"

static const char *const machines[] = {
        "intel-nvidia", "two-amd-identical", "rtx2070-4fn",    "shared-group",     "first-install",
        "single-gpu",   "server-bmc",        "optimus-laptop", "apu-boot-display", "rx580-polaris",
        "rtx4090-rebar",
};

/* ------------------------------------------------ the machines' descriptions */

struct want_dev {
        char addr[20];
        unsigned vendor, device, cls, sv, sd;
        int group;
        char driver[32];
        bool boot_vga, boot_display;
};

struct want {
        bool iommu;
        size_t n;
        struct want_dev devs[64];
};

/* Reads the "pci" and "iommu" lines of tests/machines/NAME.machine: what
 * scripts/mkmachine built the root from. */
static void load_want(const char *name, struct want *w) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char line[1024];

        memset(w, 0, sizeof(*w));
        assert_true(asprintf(&path, "%s/%s.machine", MACHINES, name) > 0);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                struct want_dev *d;
                char *tok, *save = NULL;

                if (startswith(line, "iommu "))
                        w->iommu = !startswith(line, "iommu off");
                if (!startswith(line, "pci "))
                        continue;
                assert_true(w->n < ELEMENTSOF(w->devs));
                d = &w->devs[w->n++];
                d->group = -1;
                strtok_r(line, " \n", &save);
                snprintf(d->addr, sizeof(d->addr), "%s", strtok_r(NULL, " \n", &save));
                assert_int_equal(sscanf(strtok_r(NULL, " \n", &save), "%x:%x", &d->vendor, &d->device), 2);
                assert_int_equal(sscanf(strtok_r(NULL, " \n", &save), "%x", &d->cls), 1);
                while ((tok = strtok_r(NULL, " \n", &save))) {
                        if (startswith(tok, "subsys="))
                                assert_int_equal(sscanf(tok + 7, "%x:%x", &d->sv, &d->sd), 2);
                        else if (startswith(tok, "group="))
                                d->group = atoi(tok + 6);
                        else if (startswith(tok, "driver="))
                                snprintf(d->driver, sizeof(d->driver), "%s", tok + 7);
                        else if (streq(tok, "boot_vga=1"))
                                d->boot_vga = true;
                        else if (streq(tok, "boot_display=1"))
                                d->boot_display = true;
                }
        }
}

static struct vhc_pci_list *scan_ok(const char *dir) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_pci_list *l = NULL;
        struct vhc_err e = {};
        int k;

        assert_int_equal(vhc_root_new(dir, &r), 0);
        k = vhc_pci_scan(r, &l, &e);
        if (k < 0)
                fail_msg("scan of %s: %d %s: %s", dir, k, e.file, e.msg);
        assert_non_null(l);
        return l;
}

static struct vhc_pci_list *scan_machine(const char *name) {
        _cleanup_free_ char *dir = NULL;

        assert_true(asprintf(&dir, "%s/%s", MACHINES, name) > 0);
        return scan_ok(dir);
}

/* Every described device, exactly, with every field, in address order. */
static void test_machines_match_descriptions(void **state) {
        for (size_t m = 0; m < ELEMENTSOF(machines); m++) {
                _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine(machines[m]);
                struct want w;
                bool any_vga = false;

                load_want(machines[m], &w);
                assert_true(w.n > 5);
                for (size_t i = 0; i < w.n; i++)
                        any_vga |= w.devs[i].boot_vga;
                if (l->n != w.n)
                        fail_msg("%s: %zu devices, want %zu", machines[m], l->n, w.n);
                assert_int_equal(l->groups_known, w.iommu);
                assert_true(l->boot_vga_known);
                for (size_t i = 0; i < w.n; i++) {
                        const struct want_dev *x = &w.devs[i];
                        const struct vhc_pci_dev *d = vhc_pci_find(l, x->addr);
                        char alias[128];

                        if (!d)
                                fail_msg("%s: %s not found", machines[m], x->addr);
                        assert_string_equal(d->address, x->addr);
                        assert_int_equal(d->vendor_id, x->vendor);
                        assert_int_equal(d->device_id, x->device);
                        assert_int_equal(d->class_code, x->cls);
                        assert_int_equal(d->subsys_vendor_id, x->sv);
                        assert_int_equal(d->subsys_device_id, x->sd);
                        assert_int_equal(d->iommu_group, x->group);
                        if (x->driver[0])
                                assert_string_equal(d->driver, x->driver);
                        else
                                assert_null(d->driver);
                        if (d->boot_vga != (any_vga ? x->boot_vga : x->boot_display))
                                fail_msg("%s: %s boot_vga %d", machines[m], x->addr, d->boot_vga);
                        snprintf(alias, sizeof(alias), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
                                 x->vendor, x->device, x->sv, x->sd, x->cls >> 16, (x->cls >> 8) & 0xff,
                                 x->cls & 0xff);
                        assert_string_equal(d->modalias, alias);
                        if (i > 0)
                                assert_true(strcmp(l->devs[i - 1].address, l->devs[i].address) < 0);
                }
        }
}

/* ------------------------------------------------ hand-checked facts */

static const struct vhc_pci_dev *get(const struct vhc_pci_list *l, const char *addr) {
        const struct vhc_pci_dev *d = vhc_pci_find(l, addr);

        if (!d)
                fail_msg("%s not found", addr);
        return d;
}

static size_t count_boot(const struct vhc_pci_list *l) {
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                n += l->devs[i].boot_vga;
        return n;
}

static void test_intel_nvidia(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("intel-nvidia");
        const struct vhc_pci_dev *igpu = get(l, "0000:00:02.0"), *gpu = get(l, "0000:01:00.0"),
                                 *hda = get(l, "0000:01:00.1"), *port = get(l, "0000:00:01.0");

        assert_int_equal(l->n, 16);
        assert_true(igpu->boot_vga);
        assert_false(gpu->boot_vga);
        assert_int_equal(count_boot(l), 1);
        assert_string_equal(igpu->driver, "i915");
        assert_string_equal(gpu->driver, "nouveau");
        assert_int_equal(gpu->vendor_id, 0x10de);
        assert_int_equal(gpu->device_id, 0x1b80);
        assert_int_equal(vhc_pci_class(gpu), 0x0300);
        assert_true(vhc_pci_is_display(gpu));
        assert_false(vhc_pci_is_display(hda));
        assert_true(vhc_pci_is_bridge(port));
        assert_int_equal(gpu->iommu_group, 1);
        assert_int_equal(hda->iommu_group, 1);
        assert_int_equal(port->iommu_group, 1);
        assert_true(vhc_pci_same_slot(gpu, hda));
        assert_false(vhc_pci_same_slot(gpu, igpu));
        /* Names from the machine's own pci.ids. */
        assert_string_equal(gpu->vendor_name, "NVIDIA Corporation");
        assert_string_equal(gpu->device_name, "GP104 [GeForce GTX 1080]");
        assert_string_equal(gpu->class_name, "VGA compatible controller");
        assert_string_equal(get(l, "0000:00:14.2")->class_name, "RAM memory");
        assert_null(get(l, "0000:00:14.2")->driver);
}

static void test_two_identical(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("two-amd-identical");
        const struct vhc_pci_dev *a = get(l, "0000:03:00.0"), *b = get(l, "0000:07:00.0");

        assert_int_equal(a->vendor_id, b->vendor_id);
        assert_int_equal(a->device_id, b->device_id);
        assert_int_equal(a->subsys_device_id, b->subsys_device_id);
        assert_true(a->boot_vga);
        assert_false(b->boot_vga);
        assert_int_equal(count_boot(l), 1);
        assert_int_equal(a->iommu_group, 10);
        assert_int_equal(b->iommu_group, 14);
        assert_string_equal(get(l, "0000:07:00.1")->driver, "snd_hda_intel");
        assert_true(vhc_pci_is_bridge(get(l, "0000:06:00.0")));
}

static void test_rtx2070_four_functions(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("rtx2070-4fn");
        static const char *const drivers[] = {"nouveau", "snd_hda_intel", "xhci_hcd", "nvidia-gpu"};
        const struct vhc_pci_dev *vga = get(l, "0000:01:00.0");

        for (unsigned f = 0; f < 4; f++) {
                char addr[20];
                const struct vhc_pci_dev *d;

                snprintf(addr, sizeof(addr), "0000:01:00.%u", f);
                d = get(l, addr);
                assert_true(vhc_pci_same_slot(vga, d));
                assert_string_equal(d->driver, drivers[f]);
                assert_int_equal(d->iommu_group, 1);
        }
        assert_int_equal(get(l, "0000:01:00.3")->class_code, 0x0c8000);
        assert_int_equal(get(l, "01:00.2")->class_code, 0x0c0330);
}

static void test_shared_group(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("shared-group");
        const struct vhc_pci_dev *gpu = get(l, "0000:01:00.0"), *nic = get(l, "0000:02:00.0");

        assert_int_equal(gpu->iommu_group, nic->iommu_group);
        assert_false(vhc_pci_same_slot(gpu, nic));
        assert_int_equal(vhc_pci_class(nic), 0x0200);
        assert_string_equal(nic->driver, "igb");
}

static void test_first_install(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("first-install");

        assert_false(l->groups_known);
        for (size_t i = 0; i < l->n; i++)
                assert_int_equal(l->devs[i].iommu_group, -1);
        assert_true(get(l, "0000:00:02.0")->boot_vga);
        assert_false(get(l, "0000:01:00.0")->boot_vga);
}

static void test_single_gpu(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("single-gpu");
        size_t displays = 0;

        for (size_t i = 0; i < l->n; i++)
                displays += vhc_pci_is_display(&l->devs[i]);
        assert_int_equal(displays, 1);
        assert_true(get(l, "0000:01:00.0")->boot_vga);
}

static void test_server_bmc(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("server-bmc");
        const struct vhc_pci_dev *ast = get(l, "0000:02:00.0"), *a4000 = get(l, "0000:18:00.0"),
                                 *t4 = get(l, "0000:3b:00.0");

        assert_true(vhc_pci_is_display(ast));
        assert_false(ast->boot_vga);
        assert_string_equal(ast->driver, "ast");
        assert_true(a4000->boot_vga);
        assert_int_equal(t4->class_code, 0x030200);
        assert_false(t4->boot_vga);
        /* Several root buses: 0000:17 and 0000:3a sort after 0000:03. */
        assert_string_equal(l->devs[l->n - 1].address, "0000:3b:00.0");
}

static void test_optimus(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("optimus-laptop");
        const struct vhc_pci_dev *dgpu = get(l, "0000:01:00.0");

        assert_int_equal(vhc_pci_class(dgpu), 0x0302);
        assert_false(dgpu->boot_vga);
        assert_true(get(l, "0000:00:02.0")->boot_vga);
        assert_null(vhc_pci_find(l, "0000:01:00.1"));
}

static void test_boot_display(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("apu-boot-display");
        const struct vhc_pci_dev *apu = get(l, "0000:c5:00.0");

        assert_int_equal(vhc_pci_class(apu), 0x0380);
        assert_true(apu->boot_vga);
        assert_true(l->boot_vga_known);
        assert_int_equal(count_boot(l), 1);
}

static void test_find(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_machine("intel-nvidia");

        assert_ptr_equal(vhc_pci_find(l, "01:00.1"), vhc_pci_find(l, "0000:01:00.1"));
        assert_ptr_equal(vhc_pci_find(l, "0000:01:00.0"), &l->devs[13]);
        assert_null(vhc_pci_find(l, "0000:09:00.0"));
        assert_null(vhc_pci_find(l, "0001:01:00.0"));
        assert_null(vhc_pci_find(l, "garbage"));
        assert_null(vhc_pci_find(l, ""));
}

static void test_host(void **state) {
        /* Whatever this machine has: no crash, no error, sorted. */
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = scan_ok("/");

        for (size_t i = 1; i < l->n; i++)
                assert_true(strcmp(l->devs[i - 1].address, l->devs[i].address) < 0);
}

/* ------------------------------------------------ damaged sysfs trees */

static char tmpdir[] = "/tmp/test-pcidev.XXXXXX";
static char root[PATH_MAX];

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        assert_true(k > 0);
        if (system(cmd) != 0)
                fail_msg("failed: %s", cmd);
}

/* A fresh copy of a committed machine, to break. */
static int copy_machine(void **state) {
        const char *name = *state ? *state : "intel-nvidia";

        vhc_pci_enumerated_hook = NULL; /* a failed test may have left it set */
        snprintf(root, sizeof(root), "%s/root", tmpdir);
        sh("rm -rf '%s' && cp -a '%s/%s' '%s'", root, MACHINES, name, root);
        return 0;
}

static void check_error(int want, const char *file_suffix, const char *msg_part) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_pci_list *l = NULL;
        struct vhc_err e = {};
        int k;

        assert_int_equal(vhc_root_new(root, &r), 0);
        k = vhc_pci_scan(r, &l, &e);
        if (k != want)
                fail_msg("scan returned %d, want %d (%s: %s)", k, want, e.file, e.msg);
        assert_null(l);
        if (strlen(e.file) < strlen(file_suffix) ||
            !streq(e.file + strlen(e.file) - strlen(file_suffix), file_suffix))
                fail_msg("error names \"%s\", want ...%s", e.file, file_suffix);
        if (!strstr(e.msg, msg_part))
                fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg_part);
}

#define GPU "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
#define HDA "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1"

static void test_bad_vendor_missing(void **state) {
        sh("rm %s/" GPU "/vendor", root);
        check_error(-ENOENT, "/devices/0000:01:00.0/vendor", "missing");
}

/* Issue 16, item 3: an attribute linked out of the root is refused before
 * libpci or we read it, and no byte of it is shown. */
static void test_bad_vendor_link(void **state) {
        sh("printf 'root:$6$secret:19000::::::\\n' > %s/shadow-outside && rm %s/" GPU "/vendor && "
           "ln -s %s/shadow-outside %s/" GPU "/vendor",
           root, root, root, root);
        check_error(-EIO, "/0000:01:00.0/vendor", "is a symbolic link: a sysfs attribute is a regular file");
}

/* Item 11: a FIFO would block libpci's read forever. */
static void test_bad_config_fifo(void **state) {
        sh("rm %s/" GPU "/config && mkfifo %s/" GPU "/config", root, root);
        check_error(-EIO, "/0000:01:00.0/config", "is not a regular file");
}

static void test_bad_class_garbage(void **state) {
        sh("echo 'VGA please' > %s/" GPU "/class", root);
        check_error(-EIO, "/devices/0000:01:00.0/class", "holds 10 bytes that are not 0x and 6 hex digits");
}

static void test_bad_device_short(void **state) {
        sh("echo 0x1b8 > %s/" GPU "/device", root);
        check_error(-EIO, "/devices/0000:01:00.0/device", "holds 5 bytes that are not 0x and 4 hex digits");
}

static void test_bad_driver_dangling(void **state) {
        sh("rm -r %s/sys/bus/pci/drivers/nouveau", root);
        check_error(-EIO, "/devices/0000:01:00.0/driver", "dangling link");
}

static void test_bad_group_dangling(void **state) {
        sh("rm -r %s/sys/kernel/iommu_groups/1", root);
        check_error(-EIO, "/devices/0000:00:01.0/iommu_group", "dangling link");
}

static void test_bad_group_name(void **state) {
        sh("mkdir %s/sys/kernel/iommu_groups/one && ln -sfn ../../../../kernel/iommu_groups/one %s/" GPU
           "/iommu_group",
           root, root);
        check_error(-EIO, "/devices/0000:01:00.0/iommu_group", "not a number");
}

static void test_bad_device_dir_removed(void **state) {
        sh("rm -r %s/" HDA, root);
        check_error(-EIO, "/sys/bus/pci/devices/0000:01:00.1", "dangling link");
}

static void test_bad_boot_vga(void **state) {
        sh("echo 2 > %s/" GPU "/boot_vga", root);
        check_error(-EIO, "/devices/0000:01:00.0/boot_vga", "\"2\"");
}

static void test_bad_entry_name(void **state) {
        sh("ln -s ../../../devices/pci0000:00/0000:00:02.0 %s/sys/bus/pci/devices/gpu", root);
        check_error(-EIO, "/sys/bus/pci/devices", "\"gpu\" is not a PCI address");
}

static void test_bad_no_sysfs(void **state) {
        sh("rm -r %s/sys", root);
        check_error(-ENOENT, "/sys/bus/pci/devices", "is sysfs mounted");
}

static void test_bad_boot_display_zero(void **state) {
        sh("echo 0 > %s/sys/class/drm/card1/boot_display", root);
        check_error(-EIO, "/drm/card1/boot_display", "\"0\"");
}

/* Graceful cases: what the kernel itself can leave out. */
static void test_unbound_and_ungrouped(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;
        const struct vhc_pci_dev *d;

        sh("rm %s/" GPU "/driver %s/" GPU "/iommu_group %s/" GPU "/boot_vga %s/" GPU "/modalias", root, root,
           root, root);
        l = scan_ok(root);
        d = get(l, "0000:01:00.0");
        assert_null(d->driver);
        assert_int_equal(d->iommu_group, -1);
        assert_false(d->boot_vga);
        assert_null(d->modalias);
        assert_true(l->groups_known);
        assert_int_equal(get(l, "0000:01:00.1")->iommu_group, 1);
}

static void test_empty_groups_dir(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;

        /* IOMMU_API built in, no IOMMU active: the directory is there, empty. */
        sh("rm -r %s/sys/kernel/iommu_groups/* && find %s/sys/devices -name iommu_group -delete", root,
           root);
        l = scan_ok(root);
        assert_false(l->groups_known);
        assert_int_equal(get(l, "0000:01:00.0")->iommu_group, -1);
}

static void vanish_hda(void) {
        sh("rm -r %s/" HDA " %s/sys/bus/pci/devices/0000:01:00.1", root, root);
}

static void test_device_vanishes(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;

        vhc_pci_enumerated_hook = vanish_hda;
        l = scan_ok(root);
        vhc_pci_enumerated_hook = NULL;
        assert_int_equal(l->n, 15);
        assert_null(vhc_pci_find(l, "0000:01:00.1"));
        assert_non_null(vhc_pci_find(l, "0000:01:00.0"));
}

static void test_root_pci_ids(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;

        sh("sed -i 's/GP104 \\[GeForce GTX 1080\\]/Test Card/' %s/usr/share/hwdata/pci.ids", root);
        l = scan_ok(root);
        assert_string_equal(get(l, "0000:01:00.0")->device_name, "Test Card");
}

static void test_garbage_pci_ids(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;

        sh("printf '10de  NVIDIA\\n\\tzz\\n' > %s/usr/share/hwdata/pci.ids", root);
        l = scan_ok(root);
        assert_int_equal(l->n, 16);
        assert_null(get(l, "0000:01:00.0")->device_name);
        assert_null(get(l, "0000:01:00.0")->vendor_name);
}

/* apu-boot-display: the DRM attribute, wherever the kernel put it. */
static void test_boot_display_on_pci_device(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;
        const char *apu = "sys/devices/pci0000:00/0000:00:08.1/0000:c5:00.0";

        sh("mv %s/%s/drm/card1/boot_display %s/%s/boot_display", root, apu, root, apu);
        l = scan_ok(root);
        assert_true(get(l, "0000:c5:00.0")->boot_vga);
        assert_int_equal(count_boot(l), 1);
}

static void test_no_boot_display(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;

        sh("rm %s/sys/class/drm/card1/boot_display", root);
        l = scan_ok(root);
        assert_false(l->boot_vga_known);
        assert_int_equal(count_boot(l), 0);
}

static void test_boot_vga_wins(void **state) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;

        /* intel-nvidia on a 6.18 kernel where DRM disagrees: boot_vga decides. */
        sh("echo 1 > %s/sys/class/drm/card1/boot_display", root);
        l = scan_ok(root);
        assert_true(get(l, "0000:00:02.0")->boot_vga);
        assert_false(get(l, "0000:01:00.0")->boot_vga);
}

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown(void **state) {
        sh("rm -rf '%s'", tmpdir);
        return 0;
}

#define BAD(fn) cmocka_unit_test_setup(fn, copy_machine)
#define BAD_ON(fn, machine) cmocka_unit_test_prestate_setup_teardown(fn, copy_machine, NULL, (void *)machine)

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_machines_match_descriptions),
                cmocka_unit_test(test_intel_nvidia),
                cmocka_unit_test(test_two_identical),
                cmocka_unit_test(test_rtx2070_four_functions),
                cmocka_unit_test(test_shared_group),
                cmocka_unit_test(test_first_install),
                cmocka_unit_test(test_single_gpu),
                cmocka_unit_test(test_server_bmc),
                cmocka_unit_test(test_optimus),
                cmocka_unit_test(test_boot_display),
                cmocka_unit_test(test_find),
                cmocka_unit_test(test_host),
                BAD(test_bad_vendor_missing),
                BAD(test_bad_class_garbage),
                BAD(test_bad_vendor_link),
                BAD(test_bad_config_fifo),
                BAD(test_bad_device_short),
                BAD(test_bad_driver_dangling),
                BAD(test_bad_group_dangling),
                BAD(test_bad_group_name),
                BAD(test_bad_device_dir_removed),
                BAD(test_bad_boot_vga),
                BAD(test_bad_entry_name),
                BAD(test_bad_no_sysfs),
                BAD_ON(test_bad_boot_display_zero, "apu-boot-display"),
                BAD(test_unbound_and_ungrouped),
                BAD(test_empty_groups_dir),
                BAD(test_device_vanishes),
                BAD(test_root_pci_ids),
                BAD(test_garbage_pci_ids),
                BAD_ON(test_boot_display_on_pci_device, "apu-boot-display"),
                BAD_ON(test_no_boot_display, "apu-boot-display"),
                BAD(test_boot_vga_wins),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
