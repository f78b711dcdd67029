/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "lookingglass.h"
#include "render.h"
#include "strv.h"

static void expect_acl(const char *text, int want_r, const char *want_joined) {
        _cleanup_strv_free_ char **acl = NULL;
        _cleanup_free_ char *j = NULL;
        size_t len = 0;
        int r = vhc_qemu_conf_acl(text, &acl);

        assert_int_equal(r, want_r);
        if (r < 0)
                return;
        for (size_t i = 0; acl[i]; i++)
                len += strlen(acl[i]) + 1;
        j = calloc(1, len + 1);
        assert_non_null(j);
        for (size_t i = 0; acl[i]; i++) {
                if (i)
                        strcat(j, " ");
                strcat(j, acl[i]);
        }
        assert_string_equal(j, want_joined);
}

/* Fedora's qemu.conf (libvirt 11.6) has the list commented out: libvirt's
 * default applies. */
static void test_acl_default(void **state) {
        expect_acl("# What's allowed\n"
                   "#cgroup_device_acl = [\n"
                   "#    \"/dev/null\", \"/dev/full\", \"/dev/zero\",\n"
                   "#    \"/dev/random\", \"/dev/urandom\",\n"
                   "#    \"/dev/ptmx\", \"/dev/kvm\",\n"
                   "#    \"/dev/userfaultfd\"\n"
                   "#]\n"
                   "#cgroup_device_acl_x = 1\n",
                   -ENOENT, NULL);
        expect_acl("", -ENOENT, NULL);
        expect_acl("cgroup_device_acls = [ \"/dev/kvmfr0\" ]\n", -ENOENT, NULL);
}

static void test_acl_set(void **state) {
        expect_acl("cgroup_device_acl = [ \"/dev/null\", \"/dev/kvmfr0\" ]\n", 0, "/dev/null /dev/kvmfr0");
        expect_acl("  cgroup_device_acl=[\n"
                   "    \"/dev/null\",   # the first\n"
                   "    # \"/dev/commented\",\n"
                   "    \"/dev/kvmfr0\",\n"
                   "]\n"
                   "cgroup_device_acl = [ \"/dev/second\" ]\n",
                   0, "/dev/null /dev/kvmfr0");
        expect_acl("cgroup_device_acl = []", 0, "");
}

static void test_acl_bad(void **state) {
        expect_acl("cgroup_device_acl = \"/dev/kvmfr0\"\n", -EINVAL, NULL);
        expect_acl("cgroup_device_acl = [ \"/dev/null\" \"/dev/kvmfr0\" ]\n", -EINVAL, NULL);
        expect_acl("cgroup_device_acl = [ \"/dev/null\n", -EINVAL, NULL);
        expect_acl("cgroup_device_acl = [ /dev/null ]\n", -EINVAL, NULL);
}

static void test_acl_line(void **state) {
        _cleanup_free_ char *l = vhc_qemu_conf_acl_line("/dev/kvmfr0");
        _cleanup_strv_free_ char **acl = NULL;

        assert_non_null(l);
        /* What check prints, the parser reads back with kvmfr0 in it. */
        assert_int_equal(vhc_qemu_conf_acl(l, &acl), 0);
        assert_int_equal(strv_length(acl), 9);
        assert_true(strv_contains(acl, "/dev/kvm"));
        assert_true(strv_contains(acl, "/dev/kvmfr0"));
}

static void test_user_in_group(void **state) {
        const char *passwd = "root:x:0:0:root:/root:/bin/bash\n"
                             "alice:x:1000:1000::/home/alice:/bin/bash\n"
                             "bob:x:1001:36::/home/bob:/bin/bash\n"
                             "carol:x:1002:1002::/home/carol:/bin/bash\n"
                             "ali:x:1003:1003::/home/ali:/bin/bash";
        const char *group = "wheel:x:10:alice\nkvm:x:36:qemu,alice\nqemu:x:107:";

        assert_int_equal(vhc_user_in_group(passwd, group, "alice", "kvm"), 1);
        assert_int_equal(vhc_user_in_group(passwd, group, "bob", "kvm"), 1);
        assert_int_equal(vhc_user_in_group(passwd, group, "carol", "kvm"), 0);
        assert_int_equal(vhc_user_in_group(passwd, group, "ali", "kvm"), 0);
        assert_int_equal(vhc_user_in_group(passwd, group, "dave", "kvm"), -ENOENT);
        assert_int_equal(vhc_user_in_group(passwd, group, "alice", "libvirt"), -ESRCH);
        assert_int_equal(vhc_user_in_group(passwd, "kvm:x:36:", "carol", "kvm"), 0);
}

static void test_tmpfiles(void **state) {
        _cleanup_free_ char *plain = NULL, *sel = NULL, *bad = NULL;

        assert_int_equal(vhc_render_looking_glass_tmpfiles("/dev/shm/looking-glass", "alice", false, &plain),
                         0);
        assert_non_null(strstr(plain, "\nf /dev/shm/looking-glass 0660 alice kvm -\n"));
        assert_null(strstr(plain, "selinux"));
        assert_int_equal(vhc_render_looking_glass_tmpfiles("/dev/shm/looking-glass", "alice", true, &sel),
                         0);
        assert_non_null(strstr(sel, "\nt /dev/shm/looking-glass - - - - "
                                    "security.selinux=system_u:object_r:svirt_tmpfs_t:s0\n"));
        assert_true(startswith(sel, VHC_GENERATED_HEADER "\n"));
        assert_int_equal(vhc_render_looking_glass_tmpfiles("/dev/shm/a b", "alice", false, &bad), -EINVAL);
        assert_int_equal(vhc_render_looking_glass_tmpfiles("/dev/shm/lg", "a b", false, &bad), -EINVAL);
        assert_int_equal(vhc_render_looking_glass_tmpfiles("dev/shm/lg", "alice", false, &bad), -EINVAL);
        assert_null(bad);
}

static void test_kvmfr(void **state) {
        _cleanup_free_ char *m = NULL, *u = NULL, *l = NULL, *none = NULL;

        assert_int_equal(vhc_render_kvmfr_modprobe(128, 3840, 2160, &m), 0);
        assert_non_null(strstr(m, "\noptions kvmfr static_size_mb=128\n"));
        assert_int_equal(vhc_render_kvmfr_modprobe(0, 3840, 2160, &none), -EINVAL);
        assert_int_equal(vhc_render_kvmfr_udev_rule(&u), 0);
        assert_non_null(strstr(u, "\nSUBSYSTEM==\"kvmfr\", GROUP=\"kvm\", MODE=\"0660\"\n"));
        assert_int_equal(vhc_render_kvmfr_modules_load(&l), 0);
        assert_non_null(strstr(l, "\nkvmfr\n"));
}

static void test_config(void **state) {
        struct vhc_config c;
        struct vhc_err e = {};

        vhc_config_init(&c);
        assert_false(c.looking_glass);
        assert_int_equal(c.looking_glass_width, 2560);
        assert_int_equal(vhc_config_load_string(&c,
                                                "looking_glass = yes\nlooking_glass_user = alice\n"
                                                "looking_glass_resolution = 3840x2160\n",
                                                "t.conf", &e),
                         0);
        assert_true(c.looking_glass);
        assert_string_equal(c.looking_glass_user, "alice");
        assert_int_equal(c.looking_glass_width, 3840);
        assert_int_equal(c.looking_glass_height, 2160);
        assert_int_equal(c.looking_glass_user_line, 2);
        vhc_config_done(&c);

        vhc_config_init(&c);
        assert_int_equal(vhc_config_load_string(&c, "# x\nlooking_glass = yes\n", "t.conf", &e), -EINVAL);
        assert_int_equal(e.line, 2);
        vhc_config_done(&c);
        vhc_config_init(&c);
        assert_int_equal(vhc_config_load_string(&c, "looking_glass_user = 1abc\n", "t.conf", &e), -EINVAL);
        assert_int_equal(vhc_config_load_string(&c,
                                                "looking_glass_user = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                                                "t.conf", &e),
                         -EINVAL);
        assert_int_equal(vhc_config_load_string(&c, "looking_glass_resolution = 0x1440\n", "t.conf", &e),
                         -EINVAL);
        assert_int_equal(
                vhc_config_load_string(&c, "looking_glass_user =\nlooking_glass = no\n", "t.conf", &e), 0);
        assert_string_equal(c.looking_glass_user, "");
        vhc_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_acl_default),   cmocka_unit_test(test_acl_set),
                cmocka_unit_test(test_acl_bad),       cmocka_unit_test(test_acl_line),
                cmocka_unit_test(test_user_in_group), cmocka_unit_test(test_tmpfiles),
                cmocka_unit_test(test_kvmfr),         cmocka_unit_test(test_config),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
