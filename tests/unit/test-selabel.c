/* SPDX-License-Identifier: MIT */
/* SELinux labels of what apply creates, looked up in a file_contexts file
 * through selabel_open(SELABEL_OPT_PATH), so the lookup runs although
 * SELinux is off here: the file type is part of the lookup (a "--" entry
 * matches regular files only), and a directory gets its own label. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <selinux/selinux.h>

#include "fileio.h"
#include "macro.h"

/* Lines as Fedora's targeted policy has them (virt.fc, udev.fc, files.fc). */
static const char contexts[] =
        "/etc(/.*)?\tsystem_u:object_r:etc_t:s0\n"
        "/etc/libvirt/hooks(/.*)?\tsystem_u:object_r:virt_hook_t:s0\n"
        "/etc/udev/rules\\.d(/.*)?\t--\tsystem_u:object_r:udev_rules_t:s0\n"
        "/etc/modprobe\\.d(/.*)?\t--\tsystem_u:object_r:modules_conf_t:s0\n"
        "/etc/modprobe\\.d(/.*)?\t-d\tsystem_u:object_r:etc_t:s0\n";

static char spec[64];

static int setup(void **state) {
        int fd;

        snprintf(spec, sizeof(spec), "/tmp/vhc-file_contexts.XXXXXX");
        fd = mkstemp(spec);
        if (fd < 0 || write(fd, contexts, sizeof(contexts) - 1) != (ssize_t)(sizeof(contexts) - 1))
                return -1;
        close(fd);
        return 0;
}

static int teardown(void **state) {
        unlink(spec);
        return 0;
}

static void expect_label(const char *path, mode_t mode, const char *want) {
        char *con = NULL;

        assert_int_equal(vhc_selabel_lookup(spec, path, mode, &con), 0);
        if (!want) {
                assert_null(con);
                return;
        }
        assert_non_null(con);
        assert_string_equal(con, want);
        freecon(con);
}

static void test_regular_files(void **state) {
        expect_label("/etc/udev/rules.d/61-virt-host-config-vfio.rules", S_IFREG | 0644,
                     "system_u:object_r:udev_rules_t:s0");
        expect_label("/etc/modprobe.d/virt-host-config.conf", S_IFREG | 0644,
                     "system_u:object_r:modules_conf_t:s0");
        /* Without the type bits (what copy_label used to pass) every
         * type-qualified entry matches: the directories' one, last, wins. */
        expect_label("/etc/modprobe.d/virt-host-config.conf", 0644, "system_u:object_r:etc_t:s0");
}

static void test_directories(void **state) {
        expect_label("/etc/libvirt/hooks/qemu.d", S_IFDIR | 0755, "system_u:object_r:virt_hook_t:s0");
        expect_label("/etc/libvirt/hooks/qemu.d/virt-host-config", S_IFREG | 0755,
                     "system_u:object_r:virt_hook_t:s0");
        /* A "--" entry is for files: a directory there takes the general one. */
        expect_label("/etc/udev/rules.d", S_IFDIR | 0755, "system_u:object_r:etc_t:s0");
}

static void test_no_entry(void **state) {
        expect_label("/var/lib/virt-host-config", S_IFDIR | 0755, NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_regular_files),
                cmocka_unit_test(test_directories),
                cmocka_unit_test(test_no_entry),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
