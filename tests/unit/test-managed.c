/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "managed.h"

static void test_clean(void **state) {
        assert_true(vhc_managed_path_clean("/etc/default/grub"));
        assert_false(vhc_managed_path_clean("etc/default/grub"));
        assert_false(vhc_managed_path_clean("/"));
        assert_false(vhc_managed_path_clean("/../victim"));
        assert_false(vhc_managed_path_clean("/etc/.."));
        assert_false(vhc_managed_path_clean("/etc/./grub"));
        assert_false(vhc_managed_path_clean("/etc//grub"));
        assert_false(vhc_managed_path_clean("/etc/grub/"));
        assert_false(vhc_managed_path_clean("/etc/gr\nub"));
        assert_true(vhc_managed_path_clean("/etc/..grub"));
}

/* Issue 16, item 1: only what the tool writes. */
static void test_generated(void **state) {
        assert_true(vhc_managed_generated("/etc/udev/rules.d/61-virt-host-config-vfio.rules"));
        assert_true(vhc_managed_generated("/etc/modprobe.d/virt-host-config.conf"));
        assert_true(vhc_managed_generated("/etc/modprobe.d/virt-host-config-vfio.conf")); /* 0.1.0 */
        assert_true(vhc_managed_generated("/etc/libvirt/hooks/qemu.d/virt-host-config"));
        assert_false(vhc_managed_generated("/etc/group"));
        assert_false(vhc_managed_generated("/etc/modprobe.d/nvidia.conf"));
        assert_false(vhc_managed_generated("/etc/virt-host-config.conf"));
        assert_false(vhc_managed_generated("/etc/modprobe.d/x/virt-host-config.conf"));
        assert_false(vhc_managed_generated("/../etc/modprobe.d/virt-host-config.conf"));
}

static void test_dirs_entries(void **state) {
        assert_true(vhc_managed_dir("/var/lib/virt-host-config"));
        assert_true(vhc_managed_dir("/etc/libvirt/hooks/qemu.d"));
        assert_true(vhc_managed_dir("/etc/kernel"));
        assert_true(vhc_managed_dir("/etc"));
        assert_false(vhc_managed_dir("/home"));
        assert_false(vhc_managed_dir("/etc/ssh"));
        assert_false(vhc_managed_dir("/var/lib/virt-host-config/state.json"));
        assert_true(vhc_managed_boot_entry("/boot/loader/entries/abc-6.17.7-300.fc43.x86_64.conf"));
        assert_true(vhc_managed_boot_entry("/efi/loader/entries/a.conf"));
        assert_false(vhc_managed_boot_entry("/boot/loader/entries/a.txt"));
        assert_false(vhc_managed_boot_entry("/etc/passwd.conf"));
}

static void test_kargs(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        char dir[] = "/tmp/test-managed.XXXXXX", link[64];

        assert_non_null(mkdtemp(dir));
        assert_int_equal(vhc_root_new(dir, &r), 0);
        /* /etc/default/grub a link inside the root: its target counts, only it. */
        snprintf(link, sizeof(link), "%s/etc", dir);
        assert_int_equal(mkdir(link, 0755), 0);
        snprintf(link, sizeof(link), "%s/etc/default", dir);
        assert_int_equal(mkdir(link, 0755), 0);
        snprintf(link, sizeof(link), "%s/etc/sysconfig", dir);
        assert_int_equal(mkdir(link, 0755), 0);
        snprintf(link, sizeof(link), "%s/etc/sysconfig/grub", dir);
        fclose(fopen(link, "w"));
        snprintf(link, sizeof(link), "%s/etc/default/grub", dir);
        assert_int_equal(symlink("/etc/sysconfig/grub", link), 0);
        assert_true(vhc_managed_karg_file(r, "grub-defaults", "/etc/sysconfig/grub"));
        assert_int_equal(unlink(link), 0);
        assert_false(vhc_managed_karg_file(r, "grub-defaults", "/etc/sysconfig/grub"));
        snprintf(link, sizeof(link), "%s/etc/default", dir);
        assert_int_equal(rmdir(link), 0);
        snprintf(link, sizeof(link), "%s/etc/sysconfig/grub", dir);
        assert_int_equal(unlink(link), 0);
        snprintf(link, sizeof(link), "%s/etc/sysconfig", dir);
        assert_int_equal(rmdir(link), 0);
        snprintf(link, sizeof(link), "%s/etc", dir);
        assert_int_equal(rmdir(link), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_true(vhc_managed_karg_file(r, "grub-defaults", "/etc/default/grub"));
        assert_false(vhc_managed_karg_file(r, "grub-defaults", "/etc/shadow"));
        assert_true(vhc_managed_karg_file(r, "kernel-cmdline", "/etc/kernel/cmdline"));
        assert_false(vhc_managed_karg_file(r, "kernel-cmdline", "/etc/default/grub"));
        assert_true(vhc_managed_karg_file(r, "bls-entry", "/boot/loader/entries/a.conf"));
        assert_false(vhc_managed_karg_file(r, "bls-entry", "/etc/fstab"));
        assert_false(vhc_managed_karg_file(r, "other", "/etc/default/grub"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean),
                cmocka_unit_test(test_generated),
                cmocka_unit_test(test_dirs_entries),
                cmocka_unit_test(test_kargs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
