/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "system.h"

/* Roots with the markers each kind of system has: a classic Fedora (sysfs
 * with /sys/kernel), a booted Silverblue (/run/ostree-booted, which ostree's
 * ostree-remount writes at boot), rpm-ostree's scriptlet sandbox (the marker
 * and a /sys without /sys/kernel: rpm-ostree binds only block, bus, class,
 * dev and devices), podman/buildah builds (/run/.containerenv) and docker
 * (/.dockerenv). /var read-only needs a mount: the bubblewrap test of the
 * RPM covers it. */

static char tmp[] = "/tmp/test-boot-system-XXXXXX";

static void mkdirs(const char *abs) {
        char path[4096];

        snprintf(path, sizeof(path), "%s%s/", tmp, abs);
        for (char *slash = strchr(path + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *slash = '/';
        }
}

static void touch(const char *abs) {
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s%s", tmp, abs);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        strcpy(tmp, "/tmp/test-boot-system-XXXXXX");
        if (!mkdtemp(tmp))
                return -1;
        mkdirs("/run");
        mkdirs("/var");
        mkdirs("/sys/bus/pci");
        return 0;
}

static int teardown(void **state) {
        return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct vhc_system detect(void) {
        struct vhc_root *r;
        struct vhc_system s;

        assert_int_equal(vhc_root_new(tmp, &r), 0);
        assert_int_equal(vhc_system_detect(r, &s), 0);
        vhc_root_free(r);
        return s;
}

static void test_classic(void **state) {
        struct vhc_system s;

        mkdirs("/sys/kernel/iommu_groups");
        mkdirs("/usr/lib/bootc/kargs.d"); /* what -host installs */
        s = detect();
        assert_int_equal(s.kind, VHC_SYSTEM_CLASSIC);
        assert_null(s.evidence);
        assert_false(s.bootc);
}

/* Another root than "/" is never judged by sd_booted(): a fake machine
 * without /sys/kernel is still classic. */
static void test_classic_no_sysfs(void **state) {
        assert_int_equal(detect().kind, VHC_SYSTEM_CLASSIC);
}

static void test_ostree_booted(void **state) {
        struct vhc_system s;

        mkdirs("/sys/kernel");
        touch("/run/ostree-booted");
        s = detect();
        assert_int_equal(s.kind, VHC_SYSTEM_OSTREE);
        assert_string_equal(s.evidence, "/run/ostree-booted");
}

static void test_ostree_sandbox(void **state) {
        struct vhc_system s;

        touch("/run/ostree-booted");
        s = detect();
        assert_int_equal(s.kind, VHC_SYSTEM_OSTREE_SANDBOX);
        assert_string_equal(s.evidence, "/run/ostree-booted, no /sys/kernel");
}

static void test_containerenv(void **state) {
        struct vhc_system s;

        mkdirs("/sys/kernel");
        mkdirs("/usr/lib/bootc/kargs.d"); /* -host's: not a sign of bootc */
        mkdirs("/usr/bin");
        touch("/usr/bin/bootc");
        touch("/run/.containerenv");
        touch("/run/ostree-booted"); /* a bootc base image has both */
        s = detect();
        assert_int_equal(s.kind, VHC_SYSTEM_IMAGE_BUILD);
        assert_string_equal(s.evidence, "/run/.containerenv");
        assert_true(s.bootc);
}

static void test_dockerenv(void **state) {
        mkdirs("/sys/kernel/iommu_groups");
        touch("/.dockerenv");
        assert_int_equal(detect().kind, VHC_SYSTEM_IMAGE_BUILD);
}

static void test_names(void **state) {
        assert_string_equal(vhc_system_kind_to_string(VHC_SYSTEM_CLASSIC), "classic");
        assert_string_equal(vhc_system_kind_to_string(VHC_SYSTEM_OSTREE), "ostree");
        assert_string_equal(vhc_system_kind_to_string(VHC_SYSTEM_OSTREE_SANDBOX), "ostree-sandbox");
        assert_string_equal(vhc_system_kind_to_string(VHC_SYSTEM_IMAGE_BUILD), "image-build");
        assert_null(vhc_system_kind_to_string(_VHC_SYSTEM_MAX));
        for (int k = 0; k < _VHC_SYSTEM_MAX; k++)
                assert_non_null(vhc_system_kind_describe(k));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_classic),
                T(test_classic_no_sysfs),
                T(test_ostree_booted),
                T(test_ostree_sandbox),
                T(test_containerenv),
                T(test_dockerenv),
                cmocka_unit_test(test_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
