/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fileio.h"
#include "render.h"
#include "strv.h"

#define FIXTURES SRCDIR "/tests/fixtures/render/"
#define UDEV_RULE_ABS "/etc/udev/rules.d/61-virt-host-config-vfio.rules"

/* Compares text with tests/fixtures/render/<name>.expected; REGENERATE=1
 * rewrites the file instead, for review with git diff. */
static void golden(const char *name, const char *text) {
        _cleanup_free_ char *path = NULL, *want = NULL;
        const char *regen = getenv("REGENERATE");

        assert_non_null(text);
        assert_true(asprintf(&path, FIXTURES "%s.expected", name) > 0);
        if (regen && streq(regen, "1")) {
                FILE *f = fopen(path, "we");

                assert_non_null(f);
                assert_int_equal(fputs(text, f) >= 0, 1);
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

static void assert_header(const char *text) {
        assert_true(startswith(text, VHC_GENERATED_HEADER "\n"));
        assert_int_equal(text[strlen(text) - 1], '\n');
}

/* A plan built by hand: render.c must not care how it was made. */
struct fake_plan {
        struct vhc_pci_dev devs[8];
        struct vhc_plan_entry entries[8];
        struct vhc_plan plan;
};

static void fake_add(struct fake_plan *f, const char *address, uint16_t vendor, uint16_t device,
                     uint32_t class, enum vhc_action action) {
        size_t n = f->plan.n;
        struct vhc_pci_dev *d = &f->devs[n];

        assert_true(n < ELEMENTSOF(f->devs));
        snprintf(d->address, sizeof(d->address), "%s", address);
        assert_int_equal(sscanf(address, "%x:%x:%x.%x", &d->domain, &d->bus, &d->dev, &d->func), 4);
        d->vendor_id = vendor;
        d->device_id = device;
        d->class_code = class;
        d->iommu_group = -1;
        f->entries[n] = (struct vhc_plan_entry){.dev = d, .action = action, .reason = (char *)"test"};
        f->plan.entries = f->entries;
        f->plan.n = n + 1;
}

/* The Coffee Lake + GTX 1080 desktop of test-plan. */
static void fake_intel_nvidia(struct fake_plan *f) {
        *f = (struct fake_plan){};
        fake_add(f, "0000:00:01.0", 0x8086, 0x1901, 0x060400, VHC_ACTION_KEEP);
        fake_add(f, "0000:00:02.0", 0x8086, 0x3e92, 0x030000, VHC_ACTION_KEEP);
        fake_add(f, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, VHC_ACTION_ISOLATE);
        fake_add(f, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, VHC_ACTION_ISOLATE);
}

/* ---- a small checker for udev rule syntax, as udev's rule parser reads it ---- */

struct udev_rule {
        bool action, subsystem_pci, kernel, vendor, device, sets_override, probes_after_override;
        bool module_vendor_reset, sets_reset_method;
        bool tests_marker; /* TEST=="<the file of -host in /usr>" */
};

static const char *const match_keys[] = {"ACTION", "SUBSYSTEM", "KERNEL", "DRIVER", "ATTR", "TEST", NULL};
static const char *const assign_keys[] = {"ATTR", "RUN", NULL};

static bool in_list(const char *const *l, const char *s) {
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static bool is_pci_address(const char *s) {
        unsigned a, b, c, d;
        int n = 0;

        return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%n", &a, &b, &c, &d, &n) == 4 && n == 12;
}

static bool is_hex_id(const char *s) {
        return strlen(s) == 6 && startswith(s, "0x") && strspn(s + 2, "0123456789abcdef") == 4;
}

static char parse_error[512];

_printf_(1, 2) static const char *bad_rule(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(parse_error, sizeof(parse_error), fmt, ap);
        va_end(ap);
        return parse_error;
}

/* KEY[{attr}]OP"value", separated by ", ". Returns NULL, or what is wrong. */
static const char *parse_udev_line(const char *line, struct udev_rule *ret) {
        static const char *const ops[] = {"==", "!=", "=", "+=", "-=", ":=", NULL};
        struct udev_rule r = {};
        const char *p = line;

        for (;;) {
                char key[32] = "", attr[64] = "", op[3] = "", value[128] = "";
                size_t n;

                n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
                if (n == 0 || n >= sizeof(key))
                        return bad_rule("no key at \"%s\"", p);
                memcpy(key, p, n);
                p += n;
                if (*p == '{') {
                        n = strcspn(p + 1, "}\"");
                        if (p[1 + n] != '}' || n == 0 || n >= sizeof(attr))
                                return bad_rule("bad {attribute} at \"%s\"", p);
                        memcpy(attr, p + 1, n);
                        p += n + 2;
                }
                n = strspn(p, "=!+-:");
                if (n == 0 || n > 2)
                        return bad_rule("no operator at \"%s\"", p);
                memcpy(op, p, n);
                p += n;
                if (!in_list(ops, op))
                        return bad_rule("bad operator %s", op);
                if (*p != '"')
                        return bad_rule("value not quoted at \"%s\"", p);
                n = strcspn(p + 1, "\"\\");
                if (p[1 + n] != '"' || n >= sizeof(value))
                        return bad_rule("unterminated value at \"%s\"", p);
                memcpy(value, p + 1, n);
                p += n + 2;

                if (streq(op, "==") || streq(op, "!=")) {
                        if (!in_list(match_keys, key))
                                return bad_rule("%s is not a match key", key);
                } else if (!in_list(assign_keys, key))
                        return bad_rule("%s cannot be assigned", key);
                if (streq(key, "RUN")) {
                        if (!streq(attr, "builtin"))
                                return bad_rule("RUN must be a builtin (no program path)");
                        if (!startswith(value, "kmod load "))
                                return bad_rule("unexpected RUN %s", value);
                } else if (streq(key, "ATTR") != (attr[0] != '\0'))
                        return bad_rule("%s{%s}: only ATTR takes an attribute, and needs one", key, attr);

                if (streq(key, "ACTION") && streq(op, "=="))
                        r.action = true;
                if (streq(key, "TEST")) {
                        if (!streq(op, "==") || !streq(value, vhc_path_abs(VHC_PATH_RULE_MARKER)))
                                return bad_rule("TEST%s\"%s\" is not the test of -host's file", op, value);
                        r.tests_marker = true;
                }
                if (streq(key, "SUBSYSTEM") && streq(op, "==") && streq(value, "pci"))
                        r.subsystem_pci = true;
                if (streq(key, "SUBSYSTEM") && streq(op, "==") && streq(value, "module"))
                        r.module_vendor_reset = true;
                if (streq(key, "KERNEL") && streq(op, "==") && r.module_vendor_reset) {
                        if (!streq(value, "vendor_reset"))
                                return bad_rule("a module rule for %s", value);
                } else if (streq(key, "KERNEL") && streq(op, "==")) {
                        if (!is_pci_address(value))
                                return bad_rule("KERNEL is not one PCI address: %s", value);
                        r.kernel = true;
                }
                if (streq(key, "ATTR") && streq(op, "==") &&
                    (streq(attr, "vendor") || streq(attr, "device"))) {
                        if (!is_hex_id(value))
                                return bad_rule("ATTR{%s} is not as sysfs prints it: %s", attr, value);
                        *(streq(attr, "vendor") ? &r.vendor : &r.device) = true;
                }
                if (streq(key, "ATTR") && streq(op, "=") && streq(attr, "driver_override")) {
                        if (!streq(value, "vfio-pci"))
                                return bad_rule("driver_override set to %s", value);
                        r.sets_override = true;
                }
                if (streq(key, "ATTR") && streq(op, "=") && startswith(attr, "[pci/")) {
                        char addr[13] = "";

                        if (strlen(attr) != 5 + 12 + strlen("]reset_method") ||
                            !streq(attr + 5 + 12, "]reset_method") || !memcpy(addr, attr + 5, 12) ||
                            !is_pci_address(addr) || !streq(value, "device_specific"))
                                return bad_rule("ATTR{%s}=\"%s\" is not a device's reset_method", attr, value);
                        r.sets_reset_method = true;
                }
                if (streq(key, "ATTR") && streq(op, "=") && streq(attr, "[subsystem/pci]drivers_probe") &&
                    r.sets_override)
                        r.probes_after_override = true;
                if (*p == '\0')
                        break;
                if (!startswith(p, ", "))
                        return bad_rule("expected \", \" at \"%s\"", p);
                p += 2;
        }
        *ret = r;
        return NULL;
}

/* Checks every rule of a rules file; returns how many set driver_override. */
static size_t check_udev_rules(const char *text) {
        _cleanup_free_ char *copy = strdup(text);
        size_t overrides = 0;
        char *save = NULL;

        assert_non_null(copy);
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct udev_rule r;
                const char *err;

                if (line[0] == '#')
                        continue;
                err = parse_udev_line(line, &r);
                if (err)
                        fail_msg("%s, in: %s", err, line);
                /* A rule left behind by an erase that ran no %preun must match nothing. */
                if (!r.tests_marker)
                        fail_msg("does not test %s: %s", vhc_path_abs(VHC_PATH_RULE_MARKER), line);
                /* vendor-reset's module rule names the device by address in its assignment. */
                if (r.module_vendor_reset) {
                        if (!r.action || !r.sets_reset_method || r.subsystem_pci)
                                fail_msg("a module rule that sets no reset_method: %s", line);
                        continue;
                }
                /* Every other rule is for one device by address and IDs: never by ID alone. */
                if (!(r.action && r.subsystem_pci && r.kernel && r.vendor && r.device))
                        fail_msg("not matched by ACTION, SUBSYSTEM, KERNEL and both IDs: %s", line);
                /* Setting the override binds nothing: a vfio-pci that is already
                 * loaded (dracut's force_drivers) binds only on a probe after it. */
                if (r.sets_override && !r.probes_after_override)
                        fail_msg("sets driver_override but does not probe the device after it: %s", line);
                overrides += r.sets_override;
        }
        return overrides;
}

/* The checker must be able to fail. */
static void test_udev_checker_rejects(void **state) {
        static const char *const bad[] = {
                "ACTION==\"add\" SUBSYSTEM==\"pci\"",
                "ACTION==\"add\", SUBSYSTEM=\"pci\"",
                "ACTION==\"add\", ATTR{vendor}==0x10de",
                "ACTION==\"add\", ATTR{vendor}==\"0x10DE\"",
                "ACTION==\"add\", RUN+=\"/sbin/modprobe vfio-pci\"",
                "ACTION==\"add\", KERNEL==\"0000:01:00.*\"",
                "ACTION==\"add\", KERNEL{x}==\"0000:01:00.0\"",
                "ACTION===\"add\"",
                "action==\"add\"",
                "ACTION==\"add\", ATTR{driver_override}=\"nouveau\"",
                "ACTION==\"add\", SUBSYSTEM==\"module\", KERNEL==\"vfio_pci\"",
                "ACTION==\"add\", ATTR{[pci/0000:01:00.*]reset_method}=\"device_specific\"",
                "ACTION==\"add\", ATTR{[pci/0000:01:00.0]reset_method}=\"bus\"",
                "ACTION==\"add\", TEST!=\"/usr/lib/virt-host-config/host-installed\"",
                "ACTION==\"add\", TEST==\"/etc/virt-host-config/virt-host-config.conf\"",
                NULL,
        };
        struct udev_rule r;

        for (size_t i = 0; bad[i]; i++)
                if (!parse_udev_line(bad[i], &r))
                        fail_msg("the checker accepted: %s", bad[i]);
        assert_null(parse_udev_line("ACTION==\"add\", KERNEL==\"0000:01:00.0\", ATTR{driver/unbind}=\"%k\"",
                                    &r));
        assert_true(r.action && r.kernel && !r.vendor);
}

/* udevadm verify (systemd >= 254) checks the rule as udev itself parses it. */
static void udevadm_verify(const char *text) {
        char path[] = "/tmp/test-render-XXXXXX.rules";
        _cleanup_free_ char *cmd = NULL;
        int fd, status;

        if (system("udevadm verify --help >/dev/null 2>&1") != 0) {
                print_message("udevadm verify is not available; checked with the built-in parser only\n");
                return;
        }
        fd = mkstemps(path, 6);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        assert_true(asprintf(&cmd, "udevadm verify --resolve-names=never '%s'", path) > 0);
        status = system(cmd);
        unlink(path);
        assert_int_equal(status, 0);
}

static void test_udev_rule(void **state) {
        struct fake_plan f;
        _cleanup_free_ char *text = NULL;

        fake_intel_nvidia(&f);
        assert_int_equal(vhc_render_udev_rule(&f.plan, &text), 0);
        assert_header(text);
        assert_int_equal(check_udev_rules(text), 2);
        udevadm_verify(text);
        golden("udev-intel-nvidia", text);
}

/* vendor_reset = yes: an RX 580 on vendor-reset's list gets its rules, its
 * HDMI audio function and a card that is not on the list do not. */
static void test_udev_rule_vendor_reset(void **state) {
        struct fake_plan f = {};
        _cleanup_free_ char *text = NULL;

        fake_add(&f, "0000:01:00.0", 0x1002, 0x67df, 0x030000, VHC_ACTION_ISOLATE);
        f.entries[0].vendor_reset = true;
        fake_add(&f, "0000:01:00.1", 0x1002, 0xaaf0, 0x040300, VHC_ACTION_ISOLATE);
        fake_add(&f, "0000:02:00.0", 0x1002, 0x73bf, 0x030000, VHC_ACTION_ISOLATE);
        assert_int_equal(vhc_render_udev_rule(&f.plan, &text), 0);
        assert_int_equal(check_udev_rules(text), 3);
        assert_non_null(
                strstr(text, "KERNEL==\"0000:01:00.0\", ATTR{vendor}==\"0x1002\", ATTR{device}==\"0x67df\", "
                             "TEST==\"/usr/lib/virt-host-config/host-installed\", "
                             "RUN{builtin}+=\"kmod load vendor-reset\"\n"));
        assert_non_null(strstr(text, "ATTR{[pci/0000:01:00.0]reset_method}=\"device_specific\""));
        assert_null(strstr(text, "[pci/0000:01:00.1]"));
        assert_null(strstr(text, "[pci/0000:02:00.0]"));
        udevadm_verify(text);
        golden("udev-vendor-reset", text);
}

/* Turing's four functions, handed over out of address order: output is sorted. */
static void test_udev_rule_sorted(void **state) {
        struct fake_plan f = {};
        _cleanup_free_ char *text = NULL, *again = NULL;

        fake_add(&f, "0000:01:00.3", 0x10de, 0x1ad7, 0x0c8000, VHC_ACTION_ISOLATE);
        fake_add(&f, "0000:01:00.0", 0x10de, 0x1e07, 0x030000, VHC_ACTION_ISOLATE);
        fake_add(&f, "0000:00:02.0", 0x8086, 0x3e92, 0x030000, VHC_ACTION_KEEP);
        fake_add(&f, "0000:01:00.2", 0x10de, 0x1ad6, 0x0c0330, VHC_ACTION_ISOLATE);
        fake_add(&f, "0000:01:00.1", 0x10de, 0x10f7, 0x040300, VHC_ACTION_ISOLATE);
        assert_int_equal(vhc_render_udev_rule(&f.plan, &text), 0);
        assert_header(text);
        assert_int_equal(check_udev_rules(text), 4);
        assert_null(strstr(text, "0000:00:02.0"));
        assert_true(strstr(text, "KERNEL==\"0000:01:00.0\"") < strstr(text, "KERNEL==\"0000:01:00.1\""));
        assert_true(strstr(text, "KERNEL==\"0000:01:00.2\"") < strstr(text, "KERNEL==\"0000:01:00.3\""));
        golden("udev-turing", text);

        assert_int_equal(vhc_render_udev_rule(&f.plan, &again), 0);
        assert_string_equal(text, again);
}

static void test_udev_rule_nothing(void **state) {
        struct fake_plan f;
        char *text = (char *)"untouched";

        fake_intel_nvidia(&f);
        f.entries[2].action = f.entries[3].action = VHC_ACTION_KEEP;
        assert_int_equal(vhc_render_udev_rule(&f.plan, &text), 0);
        assert_null(text);
}

static void test_modprobe(void **state) {
        _cleanup_free_ char *text = NULL;
        char *drivers[] = {(char *)"snd_hda_intel", (char *)"nouveau",        (char *)"xhci_pci",
                           (char *)"snd-hda-intel", (char *)"i2c_nvidia_gpu", (char *)"vfio-pci",
                           (char *)"nvidia",        (char *)"nouveau",        NULL};

        assert_int_equal(vhc_render_modprobe(drivers, &text), 0);
        assert_header(text);
        /* One softdep per driver, sorted, no vendor:device binding. */
        assert_null(strstr(text, "ids="));
        assert_null(strstr(text, "\nalias"));
        assert_null(strstr(text, "\noptions"));
        golden("modprobe", text);
}

static void test_modprobe_nothing(void **state) {
        char *text = (char *)"untouched";
        char *only_vfio[] = {(char *)"vfio_pci", NULL};
        char *empty[] = {NULL};

        assert_int_equal(vhc_render_modprobe(NULL, &text), 0);
        assert_null(text);
        text = (char *)"untouched";
        assert_int_equal(vhc_render_modprobe(empty, &text), 0);
        assert_null(text);
        text = (char *)"untouched";
        assert_int_equal(vhc_render_modprobe(only_vfio, &text), 0);
        assert_null(text);
}

static void test_modprobe_bad_name(void **state) {
        char *text = (char *)"untouched";
        char *bad[] = {(char *)"nouveau", (char *)"evil\nblacklist nouveau", NULL};
        char *blank[] = {(char *)"", NULL};

        assert_int_equal(vhc_render_modprobe(bad, &text), -EINVAL);
        assert_string_equal(text, "untouched");
        assert_int_equal(vhc_render_modprobe(blank, &text), -EINVAL);
        assert_string_equal(text, "untouched");
}

static void test_dracut(void **state) {
        struct fake_plan f;
        _cleanup_free_ char *text = NULL;
        char *none = (char *)"untouched";

        fake_intel_nvidia(&f);
        assert_int_equal(vhc_render_dracut(&f.plan, UDEV_RULE_ABS, &text), 0);
        assert_header(text);
        /* dracut.conf(5): lists are quoted with a space on each side, so += joins them. */
        assert_non_null(strstr(text, "\nforce_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"));
        assert_non_null(strstr(text, "\ninstall_items+=\" " UDEV_RULE_ABS " \"\n"));
        /* The file the rule tests, optional: dracut must still build once it is gone. */
        assert_non_null(
                strstr(text, "\ninstall_optional_items+=\" /usr/lib/virt-host-config/host-installed \"\n"));
        golden("dracut", text);

        assert_int_equal(vhc_render_dracut(&f.plan, "61-virt-host-config-vfio.rules", &none), -EINVAL);
        assert_int_equal(vhc_render_dracut(&f.plan, "/etc/udev/rules.d/a b.rules", &none), -EINVAL);
        assert_int_equal(vhc_render_dracut(&f.plan, "/etc/udev/rules.d/$(reboot).rules", &none), -EINVAL);
        assert_string_equal(none, "untouched");

        f.entries[2].action = f.entries[3].action = VHC_ACTION_KEEP;
        assert_int_equal(vhc_render_dracut(&f.plan, UDEV_RULE_ABS, &none), 0);
        assert_null(none);
}

static void test_limits(void **state) {
        _cleanup_free_ char *ten = NULL, *unlimited = NULL, *odd = NULL;
        char *none = (char *)"untouched";

        assert_int_equal(vhc_render_limits(UINT64_C(10) << 30, &ten), 0);
        assert_header(ten);
        golden("limits-10g", ten);

        assert_int_equal(vhc_render_limits(UINT64_MAX, &unlimited), 0);
        assert_header(unlimited);
        golden("limits-unlimited", unlimited);

        /* Rounded up to whole KiB: never less than asked for. */
        assert_int_equal(vhc_render_limits(1025, &odd), 0);
        assert_non_null(strstr(odd, "\n@kvm soft memlock 2\n@kvm hard memlock 2\n"));

        assert_int_equal(vhc_render_limits(0, &none), -EINVAL);
        assert_string_equal(none, "untouched");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_udev_checker_rejects),
                cmocka_unit_test(test_udev_rule),
                cmocka_unit_test(test_udev_rule_sorted),
                cmocka_unit_test(test_udev_rule_vendor_reset),
                cmocka_unit_test(test_udev_rule_nothing),
                cmocka_unit_test(test_modprobe),
                cmocka_unit_test(test_modprobe_nothing),
                cmocka_unit_test(test_modprobe_bad_name),
                cmocka_unit_test(test_dracut),
                cmocka_unit_test(test_limits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
