/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "root.h"

static char tmp[] = "/tmp/test-root-XXXXXX";

static void mkdirs(const char *rel) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/%s/", tmp, rel) > 0);
        for (char *slash = strchr(path + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *slash = '/';
        }
}

static void put(const char *rel) {
        _cleanup_free_ char *path = NULL, *dir = strdup(rel);
        _cleanup_close_ int fd = -1;
        char *slash;

        assert_non_null(dir);
        slash = strrchr(dir, '/');
        if (slash) {
                *slash = '\0';
                mkdirs(dir);
        }
        assert_true(asprintf(&path, "%s/%s", tmp, rel) > 0);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        assert_true(fd >= 0);
}

static void link_to(const char *rel, const char *target) {
        _cleanup_free_ char *path = NULL, *dir = strdup(rel);
        char *slash;

        assert_non_null(dir);
        slash = strrchr(dir, '/');
        if (slash) {
                *slash = '\0';
                mkdirs(dir);
        }
        assert_true(asprintf(&path, "%s/%s", tmp, rel) > 0);
        assert_int_equal(symlink(target, path), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        strcpy(tmp, "/tmp/test-root-XXXXXX");
        return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state) {
        return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct vhc_root *root_at(const char *dir) {
        struct vhc_root *r = NULL;

        assert_int_equal(vhc_root_new(dir, &r), 0);
        assert_non_null(r);
        return r;
}

/* Every table entry is a clean absolute path: a stray slash would make
 * vhc_root_join() build a different file than the machine's. */
static bool clean_abs(const char *p) {
        size_t n = p ? strlen(p) : 0;

        return n > 1 && p[0] == '/' && p[n - 1] != '/' && !strstr(p, "//") && !strstr(p, "/./") &&
               !strstr(p, "/../");
}

static void test_table(void **state) {
        for (int p = 0; p < _VHC_PATH_MAX; p++) {
                assert_true(clean_abs(vhc_path_abs(p)));
                for (int q = 0; q < p; q++)
                        assert_string_not_equal(vhc_path_abs(p), vhc_path_abs(q));
        }
        assert_null(vhc_path_abs(_VHC_PATH_MAX));
        assert_null(vhc_path_abs((enum vhc_path) - 1));

        assert_string_equal(vhc_path_abs(VHC_PATH_GRUB_DEFAULT), "/etc/default/grub");
        assert_string_equal(vhc_path_abs(VHC_PATH_SYS_CPU), "/sys/devices/system/cpu");
        assert_string_equal(vhc_path_abs(VHC_PATH_GRUB2_CFG), "/boot/grub2/grub.cfg");
        assert_string_equal(vhc_path_abs(VHC_PATH_ETC_PASSWD), "/etc/passwd");
}

static void test_lists(void **state) {
        static const char *const program_dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL};
        static const char *const qemu[] = {"/etc/qemu/firmware", "/usr/share/qemu/firmware", NULL};
        const enum vhc_path *l;
        size_t i;

        for (int k = 0; k < _VHC_PATHS_MAX; k++) {
                l = vhc_path_list(k);
                assert_non_null(l);
                for (i = 0; l[i] != _VHC_PATH_MAX; i++)
                        assert_true(i < _VHC_PATH_MAX && l[i] < _VHC_PATH_MAX);
                assert_true(i > 0);
        }
        assert_null(vhc_path_list(_VHC_PATHS_MAX));

        l = vhc_path_list(VHC_PATHS_PROGRAM_DIRS);
        for (i = 0; program_dirs[i]; i++)
                assert_string_equal(vhc_path_abs(l[i]), program_dirs[i]);
        assert_int_equal(l[i], _VHC_PATH_MAX);
        l = vhc_path_list(VHC_PATHS_QEMU_FIRMWARE);
        for (i = 0; qemu[i]; i++)
                assert_string_equal(vhc_path_abs(l[i]), qemu[i]);
        assert_int_equal(l[i], _VHC_PATH_MAX);
}

static void test_ovmf(void **state) {
        const struct vhc_ovmf_path *o = vhc_path_ovmf();
        size_t n = 0, sb = 0;

        for (; o[n].code; n++) {
                assert_true(clean_abs(o[n].code));
                assert_true(clean_abs(o[n].vars));
                assert_string_not_equal(o[n].code, o[n].vars);
                sb += o[n].secure_boot;
        }
        assert_int_equal(n, 7);
        assert_int_equal(sb, 3);
        assert_null(o[n].vars);
        /* Fedora's files are looked for first. */
        assert_string_equal(o[0].code, "/usr/share/edk2/ovmf/OVMF_CODE.fd");
        assert_false(o[0].secure_boot);
        assert_string_equal(o[1].vars, "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd");
        assert_true(o[1].secure_boot);
}

static void test_new(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *host = root_at(NULL), *slash = root_at("/"), *r = NULL,
                                                  *via_link = NULL;
        _cleanup_free_ char *with_slash = NULL, *messy = NULL, *link = NULL;
        struct vhc_root *untouched = (struct vhc_root *)&untouched;

        assert_true(vhc_root_is_host(host));
        assert_string_equal(vhc_root_dir(host), "");
        assert_true(vhc_root_is_host(slash));
        assert_string_equal(vhc_root_dir(slash), "");

        /* The root is kept canonical, as paths are compared and shown with it. */
        assert_true(asprintf(&with_slash, "%s/", tmp) > 0);
        r = root_at(with_slash);
        assert_false(vhc_root_is_host(r));
        assert_string_equal(vhc_root_dir(r), tmp);
        mkdirs("sub");
        assert_true(asprintf(&messy, "%s//sub/..", tmp) > 0);
        vhc_root_free(r);
        r = root_at(messy);
        assert_string_equal(vhc_root_dir(r), tmp);
        link_to("sub/here", "..");
        assert_true(asprintf(&link, "%s/sub/here", tmp) > 0);
        via_link = root_at(link);
        assert_string_equal(vhc_root_dir(via_link), tmp);

        assert_int_equal(vhc_root_new("/nonexistent/virt-host-config-test", &untouched), -ENOENT);
        assert_ptr_equal(untouched, (struct vhc_root *)&untouched);

        assert_null(vhc_root_free(NULL));
}

static void test_path(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *host = root_at(NULL), *r = root_at(tmp);
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *want = NULL;

        a = vhc_root_path(host, VHC_PATH_GRUB_DEFAULT);
        assert_string_equal(a, "/etc/default/grub");
        b = vhc_root_path(r, VHC_PATH_GRUB_DEFAULT);
        assert_true(asprintf(&want, "%s/etc/default/grub", tmp) > 0);
        assert_string_equal(b, want);

        for (int p = 0; p < _VHC_PATH_MAX; p++) {
                _cleanup_free_ char *s = vhc_root_path(r, p), *w = NULL;

                assert_true(asprintf(&w, "%s%s", tmp, vhc_path_abs(p)) > 0);
                assert_string_equal(s, w);
        }
        c = vhc_root_path(host, VHC_PATH_SYS_PCI_DEVICES);
        assert_string_equal(c, "/sys/bus/pci/devices");
}

static void test_pathf(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *host = root_at(NULL), *r = root_at(tmp);
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *want = NULL;

        a = vhc_root_pathf(host, VHC_PATH_SYS_CPU, "cpu%u/topology/%s", 3u, "core_id");
        assert_string_equal(a, "/sys/devices/system/cpu/cpu3/topology/core_id");
        b = vhc_root_pathf(r, VHC_PATH_SYS_PCI_DEVICES, "%s/driver_override", "0000:01:00.0");
        assert_true(asprintf(&want, "%s/sys/bus/pci/devices/0000:01:00.0/driver_override", tmp) > 0);
        assert_string_equal(b, want);
        c = vhc_root_pathf(host, VHC_PATH_SYS_DEVICES, "%s/cpus", "cpu_atom");
        assert_string_equal(c, "/sys/devices/cpu_atom/cpus");
}

static void test_join(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *host = root_at(NULL), *r = root_at(tmp);
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *w1 = NULL, *w2 = NULL;

        a = vhc_root_join(host, "/etc/udev/rules.d/x.rules");
        assert_string_equal(a, "/etc/udev/rules.d/x.rules");
        b = vhc_root_join(host, "etc/x");
        assert_string_equal(b, "/etc/x");
        c = vhc_root_join(r, "/etc/udev/rules.d/x.rules");
        assert_true(asprintf(&w1, "%s/etc/udev/rules.d/x.rules", tmp) > 0);
        assert_string_equal(c, w1);
        /* A relative path is still taken from the root, never from the cwd. */
        d = vhc_root_join(r, "etc/x");
        assert_true(asprintf(&w2, "%s/etc/x", tmp) > 0);
        assert_string_equal(d, w2);
}

static void resolves(const struct vhc_root *r, const char *abs, const char *want) {
        _cleanup_free_ char *got = NULL;

        assert_int_equal(vhc_root_resolve(r, abs, &got), 0);
        assert_string_equal(got, want);
}

static void fails(const struct vhc_root *r, const char *abs, int want) {
        char *got = (char *)&got;

        assert_int_equal(vhc_root_resolve(r, abs, &got), want);
        assert_ptr_equal(got, (char *)&got);
}

static void test_resolve(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL, *host = root_at(NULL);
        _cleanup_free_ char *outside = NULL, *host_link = NULL, *host_want = NULL;

        put("usr/sbin/tool");
        mkdirs("etc");
        link_to("sbin/abs", "/usr/sbin/tool");
        link_to("sbin/rel", "../usr/sbin/tool");
        link_to("sbin/chain", "rel");
        link_to("sbin/chain2", "/sbin/chain");
        link_to("sbin/up", "../../../../../usr/sbin/tool");
        link_to("sbin/absup", "/../../usr/./sbin//tool");
        link_to("sbin/dangling", "/usr/sbin/missing");
        link_to("sbin/dangling-rel", "nothing-here");
        link_to("sbin/loop1", "loop2");
        link_to("sbin/loop2", "/sbin/loop1");
        link_to("sbin/self", "self");
        link_to("sbin/dir", "/usr/sbin");
        link_to("etc/mid", "/usr");
        link_to("etc/deep", "/usr/sbin");
        /* The test's own file exists on the host, not under the root. */
        assert_true(asprintf(&outside, "%s/usr/sbin/tool", tmp) > 0);
        link_to("sbin/outside", outside);
        r = root_at(tmp);

        resolves(r, "/usr/sbin/tool", "/usr/sbin/tool");
        resolves(r, "/usr//sbin/./tool", "/usr/sbin/tool");
        resolves(r, "/sbin/abs", "/usr/sbin/tool");
        resolves(r, "/sbin/rel", "/usr/sbin/tool");
        resolves(r, "/sbin/chain", "/usr/sbin/tool");
        resolves(r, "/sbin/chain2", "/usr/sbin/tool");
        resolves(r, "/sbin/dir", "/usr/sbin");
        /* ".." stops at the root, in links and in the path asked for. */
        resolves(r, "/sbin/up", "/usr/sbin/tool");
        resolves(r, "/sbin/absup", "/usr/sbin/tool");
        resolves(r, "/../../etc", "/etc");
        resolves(r, "/..", "/");
        resolves(r, "/", "/");
        /* Relative and empty paths are taken from the root, as vhc_root_join()
         * takes them (normalize() once wrote past a buffer on these). */
        resolves(r, "usr/sbin/tool", "/usr/sbin/tool");
        resolves(r, "sbin/rel", "/usr/sbin/tool");
        resolves(r, "", "/");
        /* Not there at all (not a link): the path itself. */
        resolves(r, "/etc/not-there", "/etc/not-there");
        resolves(r, "/etc/not-there/../x/./y", "/etc/x/y");
        /* Links in the middle of the path are followed inside the root too,
         * and ".." after one leaves its target, as the kernel has it. */
        resolves(r, "/etc/mid/sbin/tool", "/usr/sbin/tool");
        resolves(r, "/sbin/dir/tool", "/usr/sbin/tool");
        resolves(r, "/etc/deep/../sbin/tool", "/usr/sbin/tool");
        resolves(r, "/etc/mid/sbin/not-there", "/usr/sbin/not-there");

        fails(r, "/sbin/dangling", -ENOENT);
        fails(r, "/sbin/dangling-rel", -ENOENT);
        fails(r, "/sbin/outside", -ENOENT);
        fails(r, "/sbin/loop1", -ELOOP);
        fails(r, "/sbin/self", -ELOOP);
        fails(r, "/usr/sbin/tool/x", -ENOTDIR);

        /* On the running system the same links lead where the host says. */
        assert_true(asprintf(&host_link, "%s/sbin/rel", tmp) > 0);
        assert_true(asprintf(&host_want, "%s/usr/sbin/tool", tmp) > 0);
        resolves(host, host_link, host_want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_lists),
                cmocka_unit_test(test_ovmf),
                cmocka_unit_test_setup_teardown(test_new, setup, teardown),
                cmocka_unit_test_setup_teardown(test_path, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pathf, setup, teardown),
                cmocka_unit_test_setup_teardown(test_join, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
