/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect.h"
#include "regen.h"
#include "root.h"
#include "strv.h"

/* Machine roots built file by file: what each boot path has on a real
 * install (Fedora 43 with GRUB and BLS, Debian 12 with GRUB, systemd-boot
 * from systemd 252 on /efi or /boot/efi, unified kernel images). Content
 * does not matter to detection, except /etc/default/grub. */

#define MID "3f1d2a7c9b8e4f0a8d6c5b4a39281706"
#define KVER "6.17.7-300.fc43.x86_64"
#define ENTRY "/boot/loader/entries/" MID "-" KVER ".conf"
#define FEDORA_GRUB                                                                                        \
        "GRUB_TIMEOUT=5\n"                                                                                 \
        "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"                           \
        "GRUB_DEFAULT=saved\n"                                                                             \
        "GRUB_DISABLE_SUBMENU=true\n"                                                                      \
        "GRUB_TERMINAL_OUTPUT=\"console\"\n"                                                              \
        "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"                                                             \
        "GRUB_DISABLE_RECOVERY=\"true\"\n"

static char tmp[] = "/tmp/test-boot-detect-XXXXXX";

static void mkdirs(const char *abs) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s%s/", tmp, abs) > 0);
        for (char *slash = strchr(path + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *slash = '/';
        }
}

static void put_mode(const char *abs, const char *text, mode_t mode) {
        _cleanup_free_ char *path = NULL, *dir = strdup(abs);
        int fd;

        assert_non_null(dir);
        *strrchr(dir, '/') = '\0';
        if (dir[0])
                mkdirs(dir);
        assert_true(asprintf(&path, "%s%s", tmp, abs) > 0);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        assert_int_equal(chmod(path, mode), 0);
}

static void put(const char *abs, const char *text) {
        put_mode(abs, text, 0644);
}

static void tool(const char *abs) {
        put_mode(abs, "#!/bin/sh\nexit 0\n", 0755);
}

static void link_to(const char *abs, const char *target) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s%s", tmp, abs) > 0);
        assert_int_equal(symlink(target, path), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

/* A merged /usr, as Fedora and Debian 12 have it. */
static int setup(void **state) {
        strcpy(tmp, "/tmp/test-boot-detect-XXXXXX");
        if (!mkdtemp(tmp))
                return -1;
        mkdirs("/usr/bin");
        mkdirs("/usr/sbin");
        mkdirs("/usr/lib");
        mkdirs("/etc");
        link_to("/bin", "usr/bin");
        link_to("/sbin", "usr/sbin");
        link_to("/lib", "usr/lib");
        return 0;
}

static int teardown(void **state) {
        return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct detected {
        struct vhc_root *root;
        struct vhc_boot b;
};

static void detect(struct detected *d) {
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new(tmp, &d->root), 0);
        assert_int_equal(vhc_boot_detect(d->root, &d->b, &e), 0);
        assert_int_equal(d->b.booted, 1);
}

static void detected_done(struct detected *d) {
        vhc_boot_done(&d->b);
        vhc_root_free(d->root);
}

static void assert_strv(char *const *l, const char *const *want) {
        size_t n = 0;

        for (; want[n]; n++) {
                assert_non_null(l);
                assert_non_null(l[n]);
                assert_string_equal(l[n], want[n]);
        }
        assert_int_equal(strv_length(l), n);
}

static void assert_entry_dir(const struct vhc_boot *b, size_t i, const char *path, const char *reader,
                             bool first_only) {
        assert_true(i < b->n_entry_dirs);
        assert_string_equal(b->entry_dirs[i].path, path);
        assert_string_equal(b->entry_dirs[i].reader, reader);
        assert_int_equal(b->entry_dirs[i].first_only, first_only);
}

/* Fedora 43, GRUB with BLS: /boot/grub2 and grub2-mkconfig, entries in
 * /boot/loader/entries, /etc/kernel/cmdline, dracut. */
static void fedora_bls(const char *blscfg_line) {
        _cleanup_free_ char *grub = NULL;

        assert_true(asprintf(&grub, FEDORA_GRUB "%s", blscfg_line) > 0);
        put("/etc/default/grub", grub);
        put("/boot/grub2/grub.cfg", "blscfg\n");
        put("/boot/grub2/grubenv", "# GRUB Environment Block\n");
        tool("/usr/sbin/grub2-mkconfig");
        tool("/usr/bin/dracut");
        tool("/usr/bin/kernel-install");
        put(ENTRY, "title Fedora Linux\noptions rhgb quiet\n");
        put("/etc/kernel/cmdline", "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rhgb quiet\n");
        put("/usr/lib/modules/" KVER "/vmlinuz", "kernel\n");
}

static void test_fedora_bls(void **state) {
        struct detected d = {};
        static const char *const kernels[] = {KVER, NULL},
                                 *const images[] = {"/usr/lib/modules/" KVER "/vmlinuz", NULL},
                                 *const none[] = {NULL};

        fedora_bls("GRUB_ENABLE_BLSCFG=true\n");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_GRUB2);
        assert_string_equal(d.b.grub_mkconfig, "/usr/sbin/grub2-mkconfig");
        assert_string_equal(d.b.grub_cfg, "/boot/grub2/grub.cfg");
        assert_true(d.b.blscfg);
        assert_false(vhc_boot_grub_cfg_holds_args(&d.b));
        assert_null(d.b.esp);
        assert_false(d.b.sdboot);
        assert_int_equal(d.b.n_entry_dirs, 1);
        assert_entry_dir(&d.b, 0, "/boot/loader/entries", "GRUB", true);
        assert_true(d.b.grub_defaults);
        assert_true(d.b.kernel_cmdline);
        assert_true(d.b.kernel_cmdline_exists);
        assert_strv(d.b.ukis, none);
        assert_string_equal(d.b.kernel_install, "/usr/bin/kernel-install");
        assert_strv(d.b.kernels, kernels);
        assert_strv(d.b.kernel_images, images);
        assert_int_equal(d.b.initramfs, VHC_INITRAMFS_DRACUT);
        assert_string_equal(d.b.initramfs_tool, "/usr/bin/dracut");

        /* With BLS grub2-mkconfig never runs; a new initramfs does. */
        assert_int_equal(vhc_boot_regen_need(&d.b, true, true, true), VHC_REGEN_INITRAMFS);
        assert_int_equal(vhc_boot_regen_need(&d.b, true, true, false), 0);
        assert_null(vhc_boot_uki_blocker(&d.b));
        detected_done(&d);
}

/* No /etc/kernel/cmdline yet: a store all the same, to be created. */
static void test_fedora_bls_no_kernel_cmdline(void **state) {
        struct detected d = {};

        fedora_bls("GRUB_ENABLE_BLSCFG=true\n");
        {
                _cleanup_free_ char *p = NULL;

                assert_true(asprintf(&p, "%s/etc/kernel/cmdline", tmp) > 0);
                assert_int_equal(unlink(p), 0);
        }
        detect(&d);
        assert_true(d.b.kernel_cmdline);
        assert_false(d.b.kernel_cmdline_exists);
        detected_done(&d);
}

/* Fedora's 10_linux: BLS when GRUB_ENABLE_BLSCFG is unset and grubby's
 * new-kernel-pkg is not installed. */
static void test_blscfg_unset(void **state) {
        struct detected d = {};

        fedora_bls("");
        detect(&d);
        assert_true(d.b.blscfg);
        assert_int_equal(d.b.n_entry_dirs, 1);
        assert_entry_dir(&d.b, 0, "/boot/loader/entries", "GRUB", true);
        detected_done(&d);
}

static void test_blscfg_unset_new_kernel_pkg(void **state) {
        struct detected d = {};

        fedora_bls("");
        tool("/usr/sbin/new-kernel-pkg");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_GRUB2);
        assert_false(d.b.blscfg);
        assert_true(vhc_boot_grub_cfg_holds_args(&d.b));
        /* GRUB does not read the entries then: not a store. */
        assert_int_equal(d.b.n_entry_dirs, 0);
        assert_true(d.b.grub_defaults);
        assert_int_equal(vhc_boot_regen_need(&d.b, true, false, false), VHC_REGEN_BOOTLOADER);
        detected_done(&d);
}

static void test_blscfg_false(void **state) {
        struct detected d = {};

        fedora_bls("GRUB_ENABLE_BLSCFG=false\n");
        detect(&d);
        assert_false(d.b.blscfg);
        assert_int_equal(d.b.n_entry_dirs, 0);
        /* /etc/kernel/cmdline exists: still a store (kernel-install reads it). */
        assert_true(d.b.kernel_cmdline);
        detected_done(&d);
}

/* A broken /etc/default/grub: what it says about BLS cannot be known. */
static void test_grub_default_unreadable(void **state) {
        struct detected d = {};
        struct vhc_err e = {};

        fedora_bls("GRUB_ENABLE_BLSCFG=\"true\n");
        assert_int_equal(vhc_root_new(tmp, &d.root), 0);
        assert_true(vhc_boot_detect(d.root, &d.b, &e) < 0);
        assert_non_null(strstr(e.file, "/etc/default/grub"));
        assert_null(d.b.entry_dirs);
        vhc_root_free(d.root);
}

/* Debian 12: /boot/grub, grub-mkconfig, no BLS (unset means no on GRUB
 * without Fedora's patches), initramfs-tools, /boot/vmlinuz-KVER. */
static void test_debian(void **state) {
        struct detected d = {};
        static const char *const kernels[] = {"6.1.0-41-amd64", NULL},
                                 *const images[] = {"/boot/vmlinuz-6.1.0-41-amd64", NULL};

        put("/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
                                 "GRUB_CMDLINE_LINUX=\"\"\n");
        put("/boot/grub/grub.cfg", "### BEGIN /etc/grub.d/10_linux ###\n");
        tool("/usr/sbin/grub-mkconfig");
        tool("/usr/sbin/update-initramfs");
        /* An entries directory nothing reads. */
        put(ENTRY, "options quiet\n");
        put("/boot/vmlinuz-6.1.0-41-amd64", "kernel\n");
        mkdirs("/usr/lib/modules/6.1.0-41-amd64/kernel");
        /* Modules without an image (a removed kernel's leftovers). */
        mkdirs("/usr/lib/modules/6.1.0-40-amd64");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_GRUB);
        assert_string_equal(d.b.grub_mkconfig, "/usr/sbin/grub-mkconfig");
        assert_string_equal(d.b.grub_cfg, "/boot/grub/grub.cfg");
        assert_false(d.b.blscfg);
        assert_true(vhc_boot_grub_cfg_holds_args(&d.b));
        assert_int_equal(d.b.n_entry_dirs, 0);
        assert_true(d.b.grub_defaults);
        assert_false(d.b.kernel_cmdline);
        assert_null(d.b.kernel_install);
        assert_strv(d.b.kernels, kernels);
        assert_strv(d.b.kernel_images, images);
        assert_int_equal(d.b.initramfs, VHC_INITRAMFS_TOOLS);
        assert_string_equal(d.b.initramfs_tool, "/usr/sbin/update-initramfs");
        assert_int_equal(vhc_boot_regen_need(&d.b, true, false, true), VHC_REGEN_BOOTLOADER | VHC_REGEN_INITRAMFS);
        assert_int_equal(vhc_boot_regen_need(&d.b, false, false, true), VHC_REGEN_INITRAMFS);
        assert_null(vhc_boot_uki_blocker(&d.b));
        detected_done(&d);
}

/* What a removed GRUB leaves: its directory, neither tool nor grub.cfg. */
static void test_grub_leftover_dir(void **state) {
        struct detected d = {};

        put("/etc/default/grub", FEDORA_GRUB);
        mkdirs("/boot/grub2/fonts");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_NONE);
        assert_null(d.b.grub_mkconfig);
        assert_false(d.b.blscfg);
        /* No boot loader found at all: /etc/default/grub is the only place known. */
        assert_true(d.b.grub_defaults);
        assert_false(d.b.kernel_cmdline);
        detected_done(&d);

        /* grub.cfg without the tool counts. */
        put("/boot/grub2/grub.cfg", "blscfg\n");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_GRUB2);
        assert_null(d.b.grub_mkconfig);
        detected_done(&d);
}

/* systemd-boot on /efi, as bootctl install and kernel-install (systemd 252)
 * lay it out: EFI/systemd/systemd-bootx64.efi, loader/entries. */
static void test_sdboot_efi(void **state) {
        struct detected d = {};
        static const char *const none[] = {NULL};

        put("/etc/default/grub", FEDORA_GRUB);
        put("/efi/EFI/systemd/systemd-bootx64.efi", "MZ");
        put("/efi/EFI/BOOT/BOOTX64.EFI", "MZ");
        put("/efi/loader/entries/" MID "-" KVER ".conf", "options quiet\n");
        tool("/usr/bin/kernel-install");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_NONE);
        assert_string_equal(d.b.esp, "/efi");
        assert_true(d.b.sdboot);
        assert_int_equal(d.b.n_entry_dirs, 1);
        assert_entry_dir(&d.b, 0, "/efi/loader/entries", "systemd-boot", false);
        /* /etc/default/grub boots nothing here. */
        assert_false(d.b.grub_defaults);
        assert_true(d.b.kernel_cmdline);
        assert_false(d.b.kernel_cmdline_exists);
        assert_strv(d.b.ukis, none);
        assert_int_equal(vhc_boot_regen_need(&d.b, true, true, false), 0);
        detected_done(&d);
}

/* On /boot/efi with only loader/loader.conf; an XBOOTLDR partition at
 * /boot holds more entries. */
static void test_sdboot_boot_efi_xbootldr(void **state) {
        struct detected d = {};

        put("/boot/efi/EFI/fedora/shimx64.efi", "MZ");
        put("/boot/efi/loader/loader.conf", "timeout 3\n#console-mode keep\n");
        mkdirs("/boot/efi/loader/entries");
        put(ENTRY, "options quiet\n");
        detect(&d);
        assert_string_equal(d.b.esp, "/boot/efi");
        assert_true(d.b.sdboot);
        assert_int_equal(d.b.n_entry_dirs, 2);
        assert_entry_dir(&d.b, 0, "/boot/efi/loader/entries", "systemd-boot", false);
        assert_entry_dir(&d.b, 1, "/boot/loader/entries", "systemd-boot", false);
        assert_false(d.b.grub_defaults);
        detected_done(&d);
}

/* An ESP that systemd-boot is not on (shim and GRUB only). */
static void test_esp_without_sdboot(void **state) {
        struct detected d = {};

        put("/boot/efi/EFI/fedora/shimx64.efi", "MZ");
        put("/boot/efi/EFI/systemd/README", "not a boot loader\n");
        mkdirs("/boot/efi/loader/entries");
        put("/boot/efi/EFI/Linux/" MID "-" KVER ".efi", "MZ");
        detect(&d);
        assert_string_equal(d.b.esp, "/boot/efi");
        assert_false(d.b.sdboot);
        assert_int_equal(d.b.n_entry_dirs, 0);
        assert_null(d.b.ukis);
        detected_done(&d);
}

/* bootctl's order: /efi before /boot before /boot/efi. */
static void test_esp_order(void **state) {
        struct detected d = {};

        put("/boot/efi/EFI/systemd/systemd-bootx64.efi", "MZ");
        put("/boot/EFI/systemd/systemd-bootx64.efi", "MZ");
        mkdirs("/boot/loader/entries");
        detect(&d);
        assert_string_equal(d.b.esp, "/boot");
        /* The ESP's own entries: no XBOOTLDR twice. */
        assert_int_equal(d.b.n_entry_dirs, 1);
        assert_entry_dir(&d.b, 0, "/boot/loader/entries", "systemd-boot", false);
        detected_done(&d);
}

/* GRUB with BLS and systemd-boot read the same /boot/loader/entries: what
 * GRUB counts (the first options line) is what counts for both. */
static void test_grub_and_sdboot(void **state) {
        struct detected d = {};

        fedora_bls("GRUB_ENABLE_BLSCFG=true\n");
        put("/boot/EFI/systemd/systemd-bootx64.efi", "MZ");
        detect(&d);
        assert_string_equal(d.b.esp, "/boot");
        assert_true(d.b.sdboot);
        assert_int_equal(d.b.n_entry_dirs, 1);
        assert_entry_dir(&d.b, 0, "/boot/loader/entries", "GRUB and systemd-boot", true);
        assert_true(d.b.grub_defaults);
        detected_done(&d);
}

/* Unified kernel images in ESP/EFI/Linux and XBOOTLDR/EFI/Linux. */
static void uki_machine(void) {
        put("/efi/EFI/systemd/systemd-bootx64.efi", "MZ");
        put("/efi/loader/loader.conf", "timeout 3\n");
        put("/efi/EFI/Linux/" MID "-" KVER ".efi", "MZ");
        put("/efi/EFI/Linux/" MID "-6.17.5-200.fc43.x86_64.EFI", "MZ");
        put("/efi/EFI/Linux/notes.txt", "");
        put("/efi/EFI/Linux/.hidden.efi", "MZ");
        put("/boot/EFI/Linux/other.efi", "MZ");
        tool("/usr/bin/kernel-install");
        tool("/usr/bin/dracut");
        put("/usr/lib/modules/" KVER "/vmlinuz", "kernel\n");
        put("/usr/lib/modules/6.17.5-200.fc43.x86_64/vmlinuz", "kernel\n");
        mkdirs("/usr/lib/modules/6.16.0-100.fc43.x86_64");
}

static void test_ukis(void **state) {
        struct detected d = {};
        static const char *const ukis[] = {"/efi/EFI/Linux/" MID "-6.17.5-200.fc43.x86_64.EFI",
                                           "/efi/EFI/Linux/" MID "-" KVER ".efi", "/boot/EFI/Linux/other.efi",
                                           NULL},
                                 *const kernels[] = {"6.17.5-200.fc43.x86_64", KVER, NULL},
                                 *const images[] = {"/usr/lib/modules/6.17.5-200.fc43.x86_64/vmlinuz",
                                                    "/usr/lib/modules/" KVER "/vmlinuz", NULL};

        uki_machine();
        detect(&d);
        assert_string_equal(d.b.esp, "/efi");
        assert_true(d.b.sdboot);
        assert_int_equal(d.b.n_entry_dirs, 0);
        assert_strv(d.b.ukis, ukis);
        assert_true(d.b.kernel_cmdline);
        assert_false(d.b.grub_defaults);
        assert_strv(d.b.kernels, kernels);
        assert_strv(d.b.kernel_images, images);
        assert_null(vhc_boot_uki_blocker(&d.b));
        /* Only images: their initrds are inside them, rebuilt by kernel-install. */
        assert_int_equal(vhc_boot_regen_need(&d.b, false, false, true), VHC_REGEN_UKI);
        assert_int_equal(vhc_boot_regen_need(&d.b, false, true, false), VHC_REGEN_UKI);
        assert_int_equal(vhc_boot_regen_need(&d.b, true, false, false), 0);
        detected_done(&d);

        /* With type-1 entries besides, their initrds are dracut's. */
        mkdirs("/efi/loader/entries");
        detect(&d);
        assert_int_equal(vhc_boot_regen_need(&d.b, false, false, true), VHC_REGEN_INITRAMFS | VHC_REGEN_UKI);
        detected_done(&d);
}

static void test_uki_blocker(void **state) {
        struct detected d = {};
        _cleanup_free_ char *ki = NULL, *k1 = NULL, *k2 = NULL;

        uki_machine();
        assert_true(asprintf(&ki, "%s/usr/bin/kernel-install", tmp) > 0);
        assert_int_equal(chmod(ki, 0644), 0);
        detect(&d);
        assert_null(d.b.kernel_install);
        assert_string_equal(vhc_boot_uki_blocker(&d.b), "kernel-install is not installed");
        detected_done(&d);

        assert_int_equal(chmod(ki, 0755), 0);
        assert_true(asprintf(&k1, "%s/usr/lib/modules/" KVER "/vmlinuz", tmp) > 0);
        assert_true(asprintf(&k2, "%s/usr/lib/modules/6.17.5-200.fc43.x86_64/vmlinuz", tmp) > 0);
        assert_int_equal(unlink(k1), 0);
        assert_int_equal(unlink(k2), 0);
        detect(&d);
        assert_non_null(d.b.kernel_install);
        assert_int_equal(strv_length(d.b.kernels), 0);
        assert_non_null(strstr(vhc_boot_uki_blocker(&d.b), "no installed kernel has an image"));
        detected_done(&d);
}

/* A non-merged /usr (Debian before 12): /lib/modules and /sbin count. */
static void test_unmerged_usr(void **state) {
        struct detected d = {};
        _cleanup_free_ char *p = NULL;
        static const char *const kernels[] = {"5.10.0-35-amd64", NULL},
                                 *const images[] = {"/boot/vmlinuz-5.10.0-35-amd64", NULL};

        for (const char *const *l = (const char *const[]){"/bin", "/sbin", "/lib", NULL}; *l; l++) {
                free(p);
                assert_true(asprintf(&p, "%s%s", tmp, *l) > 0);
                assert_int_equal(unlink(p), 0);
        }
        put("/boot/grub/grub.cfg", "### BEGIN /etc/grub.d/10_linux ###\n");
        tool("/usr/sbin/grub-mkconfig");
        tool("/sbin/update-initramfs");
        mkdirs("/lib/modules/5.10.0-35-amd64");
        put("/boot/vmlinuz-5.10.0-35-amd64", "kernel\n");
        detect(&d);
        assert_int_equal(d.b.grub, VHC_GRUB_GRUB);
        assert_false(d.b.blscfg);
        assert_false(d.b.grub_defaults); /* no /etc/default/grub */
        assert_string_equal(d.b.initramfs_tool, "/sbin/update-initramfs");
        assert_strv(d.b.kernels, kernels);
        assert_strv(d.b.kernel_images, images);
        detected_done(&d);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_fedora_bls),
                T(test_fedora_bls_no_kernel_cmdline),
                T(test_blscfg_unset),
                T(test_blscfg_unset_new_kernel_pkg),
                T(test_blscfg_false),
                T(test_grub_default_unreadable),
                T(test_debian),
                T(test_grub_leftover_dir),
                T(test_sdboot_efi),
                T(test_sdboot_boot_efi_xbootldr),
                T(test_esp_without_sdboot),
                T(test_esp_order),
                T(test_grub_and_sdboot),
                T(test_ukis),
                T(test_uki_blocker),
                T(test_unmerged_usr),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
