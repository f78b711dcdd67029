/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "firmware.h"

#define ROOTS SRCDIR "/tests/golden/guest/roots"

static void find_in(const char *dir, bool sb, int want_r, const char *code, const char *vars, bool qcow2) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_firmware f = {};
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new(dir, &r), 0);
        assert_int_equal(vhc_firmware_find(r, sb, &f, &e), want_r);
        if (want_r < 0) {
                assert_null(f.code);
                return;
        }
        assert_string_equal(f.code, code);
        assert_string_equal(f.vars, vars);
        assert_int_equal(f.qcow2, qcow2);
        assert_int_equal(f.secure_boot, sb);
        vhc_firmware_done(&f);
}

static void test_debian(void **state) {
        find_in(ROOTS "/debian-ovmf", false, 0, "/usr/share/OVMF/OVMF_CODE_4M.fd",
                "/usr/share/OVMF/OVMF_VARS_4M.fd", false);
        /* 50-edk2-x86_64-secure.json has Secure Boot but no keys: the
         * enrolled 40- one wins. */
        find_in(ROOTS "/debian-ovmf", true, 0, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
                "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", false);
}

static void test_fedora(void **state) {
        /* The raw 2 MiB builds win over the qcow2 ones listed before them. */
        find_in(ROOTS "/fedora-edk2", false, 0, "/usr/share/edk2/ovmf/OVMF_CODE.fd",
                "/usr/share/edk2/ovmf/OVMF_VARS.fd", false);
        find_in(ROOTS "/fedora-edk2", true, 0, "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
                "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd", false);
}

/* ---- temporary trees ---- */

static char tmp[] = "/tmp/test-firmware-XXXXXX";

static void put(const char *rel, const char *text) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char *slash;

        assert_true(asprintf(&path, "%s/%s", tmp, rel) > 0);
        for (slash = strchr(path + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                (void)mkdir(path, 0755);
                *slash = '/';
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void drop(const char *rel) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/%s", tmp, rel) > 0);
        assert_int_equal(unlink(path), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        strcpy(tmp, "/tmp/test-firmware-XXXXXX");
        return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state) {
        return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char qcow2_desc[] =
        "{\"interface-types\": [\"uefi\"], \"mapping\": {\"device\": \"flash\", \"mode\": \"split\","
        " \"executable\": {\"filename\": \"/fw/CODE.qcow2\", \"format\": \"qcow2\"},"
        " \"nvram-template\": {\"filename\": \"/fw/VARS.qcow2\", \"format\": \"qcow2\"}},"
        " \"targets\": [{\"architecture\": \"x86_64\", \"machines\": [\"pc-q35-*\"]}], \"features\": []}";
static const char raw_desc[] =
        "{\"interface-types\": [\"uefi\"], \"mapping\": {\"device\": \"flash\","
        " \"executable\": {\"filename\": \"/fw/CODE.fd\"}, \"nvram-template\": {\"filename\": "
        "\"/fw/VARS.fd\"}},"
        " \"targets\": [{\"architecture\": \"x86_64\", \"machines\": [\"pc-q35-*\"]}], \"features\": []}";
static const char i440fx_only[] =
        "{\"interface-types\": [\"uefi\"], \"mapping\": {\"device\": \"flash\","
        " \"executable\": {\"filename\": \"/fw/CODE.fd\"}, \"nvram-template\": {\"filename\": "
        "\"/fw/VARS.fd\"}},"
        " \"targets\": [{\"architecture\": \"x86_64\", \"machines\": [\"pc-i440fx-*\"]}], \"features\": []}";
static const char bios_desc[] =
        "{\"interface-types\": [\"bios\"], \"mapping\": {\"device\": \"memory\", \"filename\": "
        "\"/fw/bios.bin\"},"
        " \"targets\": [{\"architecture\": \"x86_64\", \"machines\": [\"pc-q35-*\"]}], \"features\": []}";

static void test_qcow2_only(void **state) {
        put("usr/share/qemu/firmware/10-bios.json", bios_desc);
        put("usr/share/qemu/firmware/20-q.json", qcow2_desc);
        put("usr/share/qemu/firmware/30-i440fx.json", i440fx_only);
        put("fw/CODE.qcow2", "");
        put("fw/VARS.qcow2", "");
        put("fw/CODE.fd", "");
        put("fw/VARS.fd", "");
        put("fw/bios.bin", "");
        find_in(tmp, false, 0, "/fw/CODE.qcow2", "/fw/VARS.qcow2", true);
        find_in(tmp, true, -ENOENT, NULL, NULL, false);
}

static void test_etc_overrides(void **state) {
        put("usr/share/qemu/firmware/20-q.json", qcow2_desc);
        put("usr/share/qemu/firmware/30-raw.json", raw_desc);
        put("fw/CODE.qcow2", "");
        put("fw/VARS.qcow2", "");
        put("fw/CODE.fd", "");
        put("fw/VARS.fd", "");
        find_in(tmp, false, 0, "/fw/CODE.fd", "/fw/VARS.fd", false);
        /* An empty file in /etc masks the descriptor of the same name. */
        put("etc/qemu/firmware/30-raw.json", "");
        find_in(tmp, false, 0, "/fw/CODE.qcow2", "/fw/VARS.qcow2", true);
        /* A file in /etc replaces it. */
        put("etc/qemu/firmware/20-q.json", raw_desc);
        find_in(tmp, false, 0, "/fw/CODE.fd", "/fw/VARS.fd", false);
        /* Descriptors of missing files are skipped. */
        drop("fw/VARS.fd");
        find_in(tmp, false, -ENOENT, NULL, NULL, false);
}

static void test_known_paths(void **state) {
        find_in(tmp, false, -ENOENT, NULL, NULL, false);
        put("usr/share/OVMF/OVMF_CODE.fd", "");
        put("usr/share/OVMF/OVMF_VARS.fd", "");
        find_in(tmp, false, 0, "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd", false);
        find_in(tmp, true, -ENOENT, NULL, NULL, false);
        put("usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "");
        put("usr/share/edk2/ovmf/OVMF_VARS.secboot.fd", "");
        find_in(tmp, true, 0, "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
                "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd", false);
}

static void test_broken_descriptor(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_firmware f = {};
        struct vhc_err e = {};

        put("usr/share/qemu/firmware/50-broken.json", "{\"interface-types\": [");
        assert_int_equal(vhc_root_new(tmp, &r), 0);
        assert_int_equal(vhc_firmware_find(r, false, &f, &e), -EINVAL);
        assert_non_null(strstr(e.file, "/usr/share/qemu/firmware/50-broken.json"));
        assert_non_null(strstr(e.msg, "not a firmware descriptor"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_debian),
                cmocka_unit_test(test_fedora),
                cmocka_unit_test_setup_teardown(test_qcow2_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_etc_overrides, setup, teardown),
                cmocka_unit_test_setup_teardown(test_known_paths, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_descriptor, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
