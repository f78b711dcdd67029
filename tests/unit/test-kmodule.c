/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>

#include "fileio.h"
#include "kmodule.h"
#include "strv.h"

#define MACHINES SRCDIR "/tests/machines"

static const char *const machines[] = {
        "intel-nvidia", "two-amd-identical", "rtx2070-4fn",    "shared-group",     "first-install",
        "single-gpu",   "server-bmc",        "optimus-laptop", "apu-boot-display",
};

static inline void pclosep(FILE **f) {
        if (*f)
                pclose(*f);
}

static char tmpdir[] = "/tmp/test-kmodule.XXXXXX";
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

static struct vhc_kmod *open_root(const char *dir, const char *release) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_kmod *k = NULL;
        struct vhc_err e = {};
        int q;

        assert_int_equal(vhc_root_new(dir, &r), 0);
        q = vhc_kmod_new(r, release, &k, &e);
        if (q < 0)
                fail_msg("%s: %d %s: %s", dir, q, e.file, e.msg);
        return k;
}

static struct vhc_kmod *open_machine(const char *name) {
        _cleanup_free_ char *dir = NULL;

        assert_true(asprintf(&dir, "%s/%s", MACHINES, name) > 0);
        return open_root(dir, NULL);
}

/* The "kernel" line of the machine's description. */
static void machine_kernel(const char *name, char *buf, size_t size) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char line[512];

        assert_true(asprintf(&path, "%s/%s.machine", MACHINES, name) > 0);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (startswith(line, "kernel ")) {
                        line[strcspn(line, "\n")] = '\0';
                        assert_true(strlen(line + 7) < size);
                        memcpy(buf, line + 7, strlen(line + 7) + 1);
                        return;
                }
        fail_msg("%s: no kernel line", path);
}

static void test_release_from_osrelease(void **state) {
        for (size_t m = 0; m < ELEMENTSOF(machines); m++) {
                _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = open_machine(machines[m]);
                char want[128];

                machine_kernel(machines[m], want, sizeof(want));
                assert_string_equal(vhc_kmod_release(k), want);
        }
}

static void test_available(void **state) {
        for (size_t m = 0; m < ELEMENTSOF(machines); m++) {
                _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = open_machine(machines[m]);

                assert_int_equal(vhc_kmod_available(k, "vfio_pci"), VHC_KMOD_MODULE);
                assert_int_equal(vhc_kmod_available(k, "vfio-pci"), VHC_KMOD_MODULE);
                assert_int_equal(vhc_kmod_available(k, "vfio_iommu_type1"), VHC_KMOD_MODULE);
                assert_int_equal(vhc_kmod_available(k, "vfio"), VHC_KMOD_MODULE);
                assert_int_equal(vhc_kmod_available(k, "xhci_pci"), VHC_KMOD_BUILTIN);
                assert_int_equal(vhc_kmod_available(k, "xhci-pci"), VHC_KMOD_BUILTIN);
                assert_int_equal(vhc_kmod_available(k, "nouveau"), VHC_KMOD_MODULE);
                assert_int_equal(vhc_kmod_available(k, "nvidia"), VHC_KMOD_MISSING);
                assert_int_equal(vhc_kmod_available(k, ""), VHC_KMOD_MISSING);
                /* An alias is not a module name. */
                assert_int_equal(vhc_kmod_available(k, "pci:v000010DEd*sv*sd*bc03sc*i*"), VHC_KMOD_MISSING);
        }
}

/* The sysfs driver name of each module the machines bind (where they differ). */
static const char *module_of_driver(const char *driver) {
        static const char *const map[][2] = {
                {"xhci_hcd", "xhci_pci"},   {"nvidia-gpu", "i2c_nvidia_gpu"},
                {"i801_smbus", "i2c_i801"}, {"piix4_smbus", "i2c_piix4"},
                {"pcieport", NULL},         {"skl_uncore", NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i][0], driver))
                        return map[i][1];
        return driver;
}

/* Every bound device: its modalias leads to the module of its driver, as
 * lspci -k would show it. */
static void test_drivers_for_bound_devices(void **state) {
        size_t checked = 0;

        for (size_t m = 0; m < ELEMENTSOF(machines); m++) {
                _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = open_machine(machines[m]);
                _cleanup_free_ char *cmd = NULL;
                _cleanup_(pclosep) FILE *p = NULL;
                char line[PATH_MAX];

                assert_true(asprintf(&cmd,
                                     "cd %s/%s/sys/bus/pci/devices && for d in *; do "
                                     "[ -e $d/driver ] && echo $(basename $(readlink $d/driver)) $(cat "
                                     "$d/modalias); "
                                     "done",
                                     MACHINES, machines[m]) > 0);
                p = popen(cmd, "re");
                assert_non_null(p);
                while (fgets(line, sizeof(line), p)) {
                        _cleanup_strv_free_ char **mods = NULL;
                        char driver[64], alias[256];
                        const char *want;
                        int n;

                        assert_int_equal(sscanf(line, "%63s %255s", driver, alias), 2);
                        want = module_of_driver(driver);
                        n = vhc_kmod_drivers_for(k, alias, &mods);
                        assert_true(n >= 0);
                        assert_non_null(mods);
                        assert_int_equal(strv_length(mods), n);
                        if (want && !strv_contains(mods, want))
                                fail_msg("%s: %s: want %s, got %s", machines[m], alias, want,
                                         n > 0 ? mods[0] : "nothing");
                        if (!want)
                                assert_int_equal(n, 0);
                        checked++;
                }
        }
        assert_true(checked > 80);
}

static void check_drivers(struct vhc_kmod *k, const char *alias, ...) {
        _cleanup_strv_free_ char **mods = NULL;
        const char *want;
        size_t i = 0;
        va_list ap;
        int n;

        n = vhc_kmod_drivers_for(k, alias, &mods);
        assert_true(n >= 0);
        va_start(ap, alias);
        while ((want = va_arg(ap, const char *))) {
                if (!mods[i] || !streq(mods[i], want))
                        fail_msg("%s: #%zu is %s, want %s", alias, i, strempty(mods[i]), want);
                i++;
        }
        va_end(ap);
        assert_null(mods[i]);
        assert_int_equal(n, i);
}

static void test_drivers_for(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = open_machine("two-amd-identical");

        /* amdgpu matches twice (by ID and by class): listed once. */
        check_drivers(k, "pci:v00001002d000073BFsv00001002sd00000E3Abc03sc00i00", "amdgpu", NULL);
        check_drivers(k, "pci:v00001002d0000AB28sv00001002sd0000AB28bc04sc03i00", "snd_hda_intel", NULL);
        check_drivers(k, "vfio_pci:v00001002d000073BFsv00001002sd00000E3Abc03sc00i00", "vfio_pci", NULL);
        check_drivers(k, "pci:v00001234d00005678sv00000000sd00000000bcFFscFFi00", NULL);
        /* Builtin aliases (modules.builtin.modinfo) count too. */
        check_drivers(k, "pci:v00001022d0000149Csv00000000sd00000000bc0Csc03i30", "xhci_pci", NULL);
        /* A trailing newline, as libpci passes a sysfs modalias, still matches. */
        check_drivers(k, "pci:v000010DEd00002484sv00000000sd00000000bc03sc00i00\n", "nouveau", NULL);
        assert_int_equal(vhc_kmod_drivers_for(k, "", &(char **){NULL}), -EINVAL);
        assert_int_equal(vhc_kmod_drivers_for(k, NULL, &(char **){NULL}), -EINVAL);
}

/* ------------------------------------------------ changed copies */

static int copy_machine(void **state) {
        snprintf(root, sizeof(root), "%s/root", tmpdir);
        sh("rm -rf '%s' && cp -a '%s/intel-nvidia' '%s'", root, MACHINES, root);
        return 0;
}

#define MODDIR "usr/lib/modules/6.17.7-300.fc43.x86_64"

static void test_config_in_root(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;

        /* modprobe.d of the root, not of the host, in every directory
         * libkmod reads: aliases there come first, all of them, sorted. */
        sh("mkdir -p %s/usr/local/lib/modprobe.d %s/usr/lib/modprobe.d %s/run/modprobe.d", root, root, root);
        sh("echo 'alias pci:v000010DEd00001B80* zz_test' > %s/etc/modprobe.d/a.conf", root);
        sh("echo 'alias pci:v000010DEd00001B80* aa_test' > %s/usr/local/lib/modprobe.d/b.conf", root);
        sh("echo 'alias pci:v000010DEd00001B80* mm_test' > %s/usr/lib/modprobe.d/c.conf", root);
        sh("echo 'alias pci:v000010DEd00001B80* bb_test' > %s/run/modprobe.d/d.conf", root);
        k = open_root(root, NULL);
        check_drivers(k, "pci:v000010DEd00001B80sv00001458sd00003702bc03sc00i00", "aa_test", "bb_test",
                      "mm_test", "zz_test", NULL);
}

static void test_quiet(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;
        _cleanup_free_ char *log = NULL, *text = NULL;
        int fd, saved;

        assert_int_equal(unsetenv("KMOD_LOG"), 0);
        sh("printf 'bogus line here\\noptions\\n' > %s/etc/modprobe.d/bad.conf", root);
        assert_true(asprintf(&log, "%s/stderr", tmpdir) > 0);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        k = open_root(root, NULL);
        assert_int_equal(vhc_kmod_available(k, "nonexistent_module"), VHC_KMOD_MISSING);
        check_drivers(k, "pci:v0000FFFFd0000FFFFsv00000000sd00000000bcFFscFFi00", NULL);
        fflush(stderr);
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
        close(fd);
        assert_null(getenv("KMOD_LOG"));
        assert_int_equal(vhc_read_file(log, 65536, &text, NULL), 0);
        if (text[0])
                fail_msg("libkmod wrote: %s", text);
}

static void test_deleted_module_file(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;

        sh("rm %s/" MODDIR "/kernel/drivers/vfio/pci/vfio-pci.ko.xz", root);
        k = open_root(root, NULL);
        assert_int_equal(vhc_kmod_available(k, "vfio_pci"), VHC_KMOD_MISSING);
        assert_int_equal(vhc_kmod_available(k, "vfio_iommu_type1"), VHC_KMOD_MODULE);
}

static void test_no_indexes(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;

        sh("rm %s/" MODDIR "/*.bin", root);
        k = open_root(root, NULL);
        assert_int_equal(vhc_kmod_available(k, "vfio_pci"), VHC_KMOD_MISSING);
        assert_int_equal(vhc_kmod_available(k, "xhci_pci"), VHC_KMOD_MISSING);
        check_drivers(k, "pci:v000010DEd00001B80sv00001458sd00003702bc03sc00i00", NULL);
}

static void test_newest_release_without_osrelease(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;

        /* 6.17.10 sorts after 6.17.7 by version, before it by bytes. */
        sh("rm %s/proc/sys/kernel/osrelease && mkdir %s/usr/lib/modules/6.17.10-300.fc43.x86_64 "
           "%s/usr/lib/modules/6.9.0-1.fc43.x86_64 && touch %s/usr/lib/modules/7.0.0-file",
           root, root, root, root);
        k = open_root(root, NULL);
        assert_string_equal(vhc_kmod_release(k), "6.17.10-300.fc43.x86_64");
        assert_int_equal(vhc_kmod_available(k, "vfio_pci"), VHC_KMOD_MISSING);
}

static void test_osrelease_not_installed(void **state) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;

        /* A chroot whose /proc is the host's: its running kernel is not here. */
        sh("echo 6.19.0-100.fc44.x86_64 > %s/proc/sys/kernel/osrelease", root);
        k = open_root(root, NULL);
        assert_string_equal(vhc_kmod_release(k), "6.17.7-300.fc43.x86_64");
}

static void test_explicit_release(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = open_root(root, "6.17.7-300.fc43.x86_64");
        struct vhc_kmod *none = NULL;
        struct vhc_err e = {};

        assert_string_equal(vhc_kmod_release(k), "6.17.7-300.fc43.x86_64");
        assert_int_equal(vhc_root_new(root, &r), 0);
        assert_int_equal(vhc_kmod_new(r, "6.1.0-13-amd64", &none, &e), -ENOENT);
        assert_null(none);
        assert_non_null(strstr(e.file, "/lib/modules/6.1.0-13-amd64"));
        memset(&e, 0, sizeof(e));
        assert_int_equal(vhc_kmod_new(r, "../../etc", &none, &e), -EINVAL);
}

static void test_no_modules_at_all(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_kmod *k = NULL;
        struct vhc_err e = {};

        sh("rm -r %s/usr/lib/modules", root);
        assert_int_equal(vhc_root_new(root, &r), 0);
        assert_int_equal(vhc_kmod_new(r, NULL, &k, &e), -ENOENT);
        assert_null(k);
        assert_non_null(strstr(e.file, "/lib/modules"));
        assert_non_null(strstr(e.msg, "kernel-modules"));
}

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown(void **state) {
        sh("rm -rf '%s'", tmpdir);
        return 0;
}

#define CHANGED(fn) cmocka_unit_test_setup(fn, copy_machine)

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_release_from_osrelease),
                cmocka_unit_test(test_available),
                cmocka_unit_test(test_drivers_for_bound_devices),
                cmocka_unit_test(test_drivers_for),
                CHANGED(test_config_in_root),
                CHANGED(test_quiet),
                CHANGED(test_deleted_module_file),
                CHANGED(test_no_indexes),
                CHANGED(test_newest_release_without_osrelease),
                CHANGED(test_osrelease_not_installed),
                CHANGED(test_explicit_release),
                CHANGED(test_no_modules_at_all),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
