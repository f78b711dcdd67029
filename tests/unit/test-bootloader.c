/* SPDX-License-Identifier: MIT */
/* Boot-file regeneration on fake machine roots: stand-in tools (the
 * "record" fixture) in the places each distribution puts the real ones. The
 * runs are chrooted into the root, as for `--root DIR`, so they need root;
 * detection does not. */
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <cmocka.h>

#include "bootloader.h"
#include "fileio.h"
#include "initramfs-tools.h"
#include "render.h"
#include "spawn-cmd.h"

#define FIXTURES SRCDIR "/tests/fixtures/bootloader"

static char *root_dir;
static struct vhc_root *root;

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...) {
        char *cmd;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        assert_true(k > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
}

static char *path(const char *rel) {
        char *p;

        assert_int_equal(asprintf(&p, "%s%s", root_dir, rel) > 0, 1);
        return p;
}

static void put(const char *rel, const char *content, mode_t mode) {
        char *p = path(rel), *copy = strdup(p);

        sh("mkdir -p '%s'", dirname(copy));
        assert_int_equal(vhc_write_file_atomic(p, content, strlen(content), mode, NULL) >= 0, 1);
        assert_int_equal(chmod(p, mode), 0);
        free(copy);
        free(p);
}

static void dir(const char *rel) {
        sh("mkdir -p '%s%s'", root_dir, rel);
}

/* The stand-in at abs; help: the fixture its --help prints (NULL: none). */
static void tool(const char *abs, const char *help) {
        char *p = path(abs), *copy = strdup(p);

        sh("mkdir -p '%s' && cp " FIXTURES "/record '%s' && chmod 755 '%s'", dirname(copy), p, p);
        if (help)
                sh("mkdir -p '%s/usr/share/vhc-test' && cp " FIXTURES
                   "/help/%s '%s/usr/share/vhc-test/%s.help'",
                   root_dir, help, root_dir, strrchr(abs, '/') + 1);
        free(copy);
        free(p);
}

static char *ran(void) {
        char *p = path("/ran.log"), *text;
        size_t len;
        int k = vhc_read_file(p, 1 << 20, &text, &len);

        free(p);
        if (k == -ENOENT)
                return strdup("");
        assert_int_equal(k, 0);
        return text;
}

static void clear_ran(void) {
        char *p = path("/ran.log");

        (void)unlink(p);
        free(p);
}

static int setup(void **state) {
        char tmpl[] = "/tmp/vhc-boot-XXXXXX";

        if (!mkdtemp(tmpl))
                return -1;
        root_dir = strdup(tmpl);
        return vhc_root_new(root_dir, &root);
}

static int teardown(void **state) {
        sh("rm -rf '%s'", root_dir);
        free(root_dir);
        root = vhc_root_free(root);
        return 0;
}

/* Under valgrind a failed exec kills the child instead of reaching us. */
static bool under_valgrind(void) {
        const char *p = getenv("LD_PRELOAD");

        return p && strstr(p, "vgpreload");
}

static bool need_root(void) {
        if (geteuid() == 0)
                return true;
        print_message("SKIP: running the tools chrooted into a fake root needs root\n");
        return false;
}

static void detect(struct vhc_boot *b) {
        struct vhc_err e = {};
        int k = vhc_boot_detect(root, b, &e);

        if (k < 0)
                fail_msg("detect: %d %s", k, e.msg);
}

static const char fedora_grub[] = "GRUB_TIMEOUT=5\n"
                                  "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
                                  "GRUB_DEFAULT=saved\n"
                                  "GRUB_DISABLE_SUBMENU=true\n"
                                  "GRUB_TERMINAL_OUTPUT=\"console\"\n"
                                  "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
                                  "GRUB_DISABLE_RECOVERY=\"true\"\n"
                                  "GRUB_ENABLE_BLSCFG=true\n";

static const char debian_grub[] = "GRUB_DEFAULT=0\n"
                                  "GRUB_TIMEOUT=5\n"
                                  "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
                                  "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
                                  "GRUB_CMDLINE_LINUX=\"\"\n";

static const char bls_entry[] = "title Fedora Linux (6.8.5-301.fc40.x86_64) 40 (Workstation Edition)\n"
                                "version 6.8.5-301.fc40.x86_64\n"
                                "linux /vmlinuz-6.8.5-301.fc40.x86_64\n"
                                "initrd /initramfs-6.8.5-301.fc40.x86_64.img\n"
                                "options root=UUID=1b2c ro rootflags=subvol=root rhgb quiet\n"
                                "grub_users $grub_users\n"
                                "grub_arg --unrestricted\n"
                                "grub_class fedora\n";

/* A Fedora 40 machine: BLS entries, grub2-mkconfig, grubby and dracut. */
static void make_fedora(const char *help) {
        put("/etc/default/grub", fedora_grub, 0644);
        put("/boot/loader/entries/0123456789abcdef-6.8.5-301.fc40.x86_64.conf", bls_entry, 0644);
        dir("/boot/grub2");
        dir("/boot/efi/EFI/fedora");
        tool("/usr/sbin/grub2-mkconfig", help);
        tool("/usr/sbin/grubby", NULL);
        tool("/usr/bin/dracut", NULL);
}

static void make_debian(void) {
        put("/etc/default/grub", debian_grub, 0644);
        dir("/boot/grub");
        tool("/usr/sbin/grub-mkconfig", "grub-mkconfig.help");
        tool("/usr/sbin/update-initramfs", NULL);
}

static void chrootable(void) {
        sh("sh " FIXTURES "/mkroot.sh '%s'", root_dir);
}

static void test_detect_fedora(void **state) {
        struct vhc_boot b;

        make_fedora("grub2-mkconfig-fedora.help");
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_GRUB2_MKCONFIG);
        assert_string_equal(b.bootcfg_tool, "/usr/sbin/grub2-mkconfig");
        assert_string_equal(b.grub_cfg, "/boot/grub2/grub.cfg");
        assert_true(b.blscfg);
        assert_null(b.bootcfg_reason);
        assert_int_equal(b.initramfs, VHC_INITRAMFS_DRACUT);
        assert_string_equal(b.initramfs_tool, "/usr/bin/dracut");
        assert_int_equal(b.booted, 1); /* another root: not asked of systemd */
        assert_string_equal(vhc_bootcfg_kind_to_string(b.bootcfg), "grub2-mkconfig");
        assert_string_equal(vhc_initramfs_kind_to_string(b.initramfs), "dracut");
        vhc_boot_done(&b);
}

/* GRUB_ENABLE_BLSCFG unset with BLS entries: grub2-mkconfig would not touch
 * the entries' options; grubby edits them. */
static void test_detect_blscfg_off(void **state) {
        struct vhc_boot b;

        make_fedora(NULL);
        put("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_ENABLE_BLSCFG=false\n", 0644);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_GRUBBY);
        assert_string_equal(b.bootcfg_tool, "/usr/sbin/grubby");
        assert_null(b.grub_cfg);
        assert_false(b.blscfg);
        vhc_boot_done(&b);

        /* ... but without entries, grub.cfg is all there is. */
        sh("rm -rf '%s/boot/loader'", root_dir);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_GRUB2_MKCONFIG);
        vhc_boot_done(&b);

        /* ... and without grubby, grub2-mkconfig too. */
        put("/boot/loader/entries/a.conf", bls_entry, 0644);
        sh("rm '%s/usr/sbin/grubby'", root_dir);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_GRUB2_MKCONFIG);
        vhc_boot_done(&b);
}

static void test_detect_debian(void **state) {
        struct vhc_boot b;

        make_debian();
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_GRUB_MKCONFIG);
        assert_string_equal(b.bootcfg_tool, "/usr/sbin/grub-mkconfig");
        assert_string_equal(b.grub_cfg, "/boot/grub/grub.cfg");
        assert_false(b.blscfg);
        assert_int_equal(b.initramfs, VHC_INITRAMFS_TOOLS);
        assert_string_equal(b.initramfs_tool, "/usr/sbin/update-initramfs");
        assert_string_equal(vhc_initramfs_kind_to_string(b.initramfs), "initramfs-tools");
        vhc_boot_done(&b);

        /* dracut wins over initramfs-tools (a Debian host that switched). */
        tool("/usr/bin/dracut", NULL);
        detect(&b);
        assert_int_equal(b.initramfs, VHC_INITRAMFS_DRACUT);
        vhc_boot_done(&b);
}

static void test_detect_none(void **state) {
        struct vhc_boot b;

        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_NONE);
        assert_null(b.bootcfg_tool);
        assert_string_equal(b.bootcfg_reason, "no grub2-mkconfig, grub-mkconfig or grubby");
        assert_int_equal(b.initramfs, VHC_INITRAMFS_NONE);
        assert_null(b.initramfs_tool);
        vhc_boot_done(&b);

        /* grub-mkconfig without /boot/grub: GRUB is installed as a package,
         * not as the boot loader (a container image, systemd-boot). */
        tool("/usr/sbin/grub-mkconfig", NULL);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_NONE);
        assert_string_equal(b.bootcfg_reason,
                            "/usr/sbin/grub-mkconfig is installed but /boot/grub is missing");
        vhc_boot_done(&b);

        tool("/usr/sbin/grub2-mkconfig", NULL);
        detect(&b);
        assert_string_equal(b.bootcfg_reason,
                            "/usr/sbin/grub2-mkconfig is installed but /boot/grub2 is missing");
        vhc_boot_done(&b);

        /* grubby alone, in /bin (a real directory here). */
        tool("/bin/grubby", NULL);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_GRUBBY);
        assert_string_equal(b.bootcfg_tool, "/bin/grubby");
        vhc_boot_done(&b);
}

static void test_detect_not_a_tool(void **state) {
        struct vhc_boot b;

        /* Not executable, a directory, a dangling link: none is a tool. */
        put("/usr/sbin/grub2-mkconfig", "#!/bin/sh\n", 0644);
        dir("/boot/grub2");
        dir("/usr/bin/dracut");
        sh("ln -s /nonexistent '%s/usr/sbin/update-initramfs'", root_dir);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_NONE);
        assert_int_equal(b.initramfs, VHC_INITRAMFS_NONE);
        vhc_boot_done(&b);

        /* A symlink to a tool is found, under the name it has. */
        tool("/usr/lib/dracut/dracut.sh", NULL);
        sh("rmdir '%s/usr/bin/dracut' && ln -s ../lib/dracut/dracut.sh '%s/usr/bin/dracut'", root_dir,
           root_dir);
        /* An absolute link is taken inside the root, as the machine sees it. */
        sh("rm '%s/usr/sbin/update-initramfs' && ln -s /usr/lib/dracut/dracut.sh "
           "'%s/usr/sbin/update-initramfs'",
           root_dir, root_dir);
        detect(&b);
        assert_int_equal(b.initramfs, VHC_INITRAMFS_DRACUT);
        assert_string_equal(b.initramfs_tool, "/usr/bin/dracut");
        vhc_boot_done(&b);
}

/* Merged /usr with an absolute /sbin -> /usr/sbin link: followed on the host
 * it would find the host's tools, not the root's. */
static void test_detect_no_escape(void **state) {
        struct vhc_boot b;

        dir("/boot/grub");
        dir("/boot/grub2");
        sh("ln -s /usr/sbin '%s/sbin' && ln -s /usr/bin '%s/bin'", root_dir, root_dir);
        detect(&b);
        assert_int_equal(b.bootcfg, VHC_BOOTCFG_NONE);
        assert_int_equal(b.initramfs, VHC_INITRAMFS_NONE);
        vhc_boot_done(&b);
}

/* The running system: looked at, nothing run; booted as systemd says. */
static void test_detect_host(void **state) {
        struct vhc_root *host;
        struct vhc_boot b;
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new("/", &host), 0);
        if (vhc_boot_detect(host, &b, &e) == -EINVAL) {
                print_message("SKIP: this machine's /etc/default/grub is beyond the parser: %s\n", e.msg);
                vhc_root_free(host);
                skip();
        }
        assert_int_equal(b.booted, sd_booted());
        assert_ptr_equal(b.root, host);
        assert_true(b.bootcfg < _VHC_BOOTCFG_MAX && b.initramfs < _VHC_INITRAMFS_MAX);
        assert_true((b.bootcfg == VHC_BOOTCFG_NONE) == (b.bootcfg_tool == NULL));
        assert_true((b.initramfs == VHC_INITRAMFS_NONE) == (b.initramfs_tool == NULL));
        vhc_boot_done(&b);
        vhc_root_free(host);
}

static void test_detect_bad_grub(void **state) {
        struct vhc_boot b = {.bootcfg = 99};
        struct vhc_err e = {};

        put("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"unbalanced\n", 0644);
        assert_int_equal(vhc_boot_detect(root, &b, &e), -EINVAL);
        assert_int_equal(b.bootcfg, 99); /* untouched */
        assert_non_null(strstr(e.file, "/etc/default/grub"));
}

static int regen_boot(char *const *add, char *const *remove, struct vhc_regen *g) {
        struct vhc_boot b;
        struct vhc_err e = {};
        int k;

        detect(&b);
        k = vhc_boot_regenerate_bootloader(&b, add, remove, g, &e);
        vhc_boot_done(&b);
        return k;
}

static int regen_initramfs(struct vhc_regen *g) {
        struct vhc_boot b;
        struct vhc_err e = {};
        int k;

        detect(&b);
        k = vhc_boot_regenerate_initramfs(&b, g, &e);
        vhc_boot_done(&b);
        return k;
}

static void check_command(const struct vhc_regen *g, const char *tail) {
        char *want;

        assert_int_equal(asprintf(&want, "chroot %s %s", root_dir, tail) > 0, 1);
        assert_non_null(g->command);
        assert_string_equal(g->command, want);
        free(want);
}

static void check_ran(const char *want) {
        char *text = ran();

        assert_string_equal(text, want);
        free(text);
        clear_ran();
}

static void test_run_fedora(void **state) {
        struct vhc_regen g;

        if (!need_root())
                skip();
        chrootable();
        make_fedora("grub2-mkconfig-fedora.help");
        assert_int_equal(regen_boot((char *[]){(char *)"iommu=pt", NULL}, NULL, &g), VHC_REGEN_DONE);
        check_ran("/usr/sbin/grub2-mkconfig|-o|/boot/grub2/grub.cfg|\n");
        check_command(&g, "/usr/sbin/grub2-mkconfig -o /boot/grub2/grub.cfg");
        assert_null(g.message);
        assert_null(g.output); /* kept only when it failed */
        assert_int_equal(g.status, 0);
        vhc_regen_done(&g);

        assert_int_equal(regen_initramfs(&g), VHC_REGEN_DONE);
        check_ran("/usr/bin/dracut|-f|--regenerate-all|\n");
        check_command(&g, "/usr/bin/dracut -f --regenerate-all");
        vhc_regen_done(&g);
}

/* RHEL 9.3+: the tool offers --update-bls-cmdline, and without it the BLS
 * entries would keep their old options. */
static void test_run_rhel(void **state) {
        struct vhc_regen g;

        if (!need_root())
                skip();
        chrootable();
        make_fedora("grub2-mkconfig-rhel.help");
        assert_int_equal(regen_boot(NULL, NULL, &g), VHC_REGEN_DONE);
        check_ran("/usr/sbin/grub2-mkconfig|--update-bls-cmdline|-o|/boot/grub2/grub.cfg|\n");
        check_command(&g, "/usr/sbin/grub2-mkconfig --update-bls-cmdline -o /boot/grub2/grub.cfg");
        vhc_regen_done(&g);

        /* Not with BLS off: there are no entries' options to overwrite. */
        put("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n", 0644);
        sh("rm -rf '%s/boot/loader'", root_dir);
        assert_int_equal(regen_boot(NULL, NULL, &g), VHC_REGEN_DONE);
        check_ran("/usr/sbin/grub2-mkconfig|-o|/boot/grub2/grub.cfg|\n");
        vhc_regen_done(&g);
}

static void test_run_debian(void **state) {
        struct vhc_regen g;

        if (!need_root())
                skip();
        chrootable();
        make_debian();
        assert_int_equal(regen_boot(NULL, NULL, &g), VHC_REGEN_DONE);
        check_ran("/usr/sbin/grub-mkconfig|-o|/boot/grub/grub.cfg|\n");
        vhc_regen_done(&g);
        assert_int_equal(regen_initramfs(&g), VHC_REGEN_DONE);
        check_ran("/usr/sbin/update-initramfs|-u|-k|all|\n");
        check_command(&g, "/usr/sbin/update-initramfs -u -k all");
        vhc_regen_done(&g);
}

static void test_run_grubby(void **state) {
        struct vhc_regen g;

        if (!need_root())
                skip();
        chrootable();
        put("/boot/loader/entries/a.conf", bls_entry, 0644);
        tool("/usr/sbin/grubby", NULL);
        assert_int_equal(regen_boot((char *[]){(char *)"intel_iommu=on", (char *)"iommu=pt", NULL},
                                    (char *[]){(char *)"intel_iommu=off", NULL}, &g),
                         VHC_REGEN_DONE);
        /* One run: grubby removes first, then adds, so a replaced value ends right. */
        check_ran("/usr/sbin/grubby|--update-kernel=ALL|--remove-args=intel_iommu=off|--args=intel_iommu=on "
                  "iommu=pt|\n");
        check_command(&g, "/usr/sbin/grubby --update-kernel=ALL --remove-args=intel_iommu=off "
                          "'--args=intel_iommu=on iommu=pt'");
        vhc_regen_done(&g);

        assert_int_equal(regen_boot(NULL, (char *[]){(char *)"iommu=pt", NULL}, &g), VHC_REGEN_DONE);
        check_ran("/usr/sbin/grubby|--update-kernel=ALL|--remove-args=iommu=pt|\n");
        vhc_regen_done(&g);

        /* Nothing of ours changed: nothing to run. */
        assert_int_equal(regen_boot(NULL, (char *[]){NULL}, &g), VHC_REGEN_DONE);
        assert_null(g.command);
        check_ran("");
        vhc_regen_done(&g);
}

static void test_bad_args(void **state) {
        struct vhc_regen g = {.status = 42};
        struct vhc_boot b;
        struct vhc_err e = {};

        tool("/usr/sbin/grubby", NULL);
        detect(&b);
        assert_int_equal(vhc_boot_regenerate_bootloader(&b, (char *[]){(char *)"a b", NULL}, NULL, &g, &e),
                         -EINVAL);
        assert_non_null(strstr(e.msg, "\"a b\""));
        assert_int_equal(g.status, 42);
        assert_int_equal(
                vhc_boot_regenerate_bootloader(&b, NULL, (char *[]){(char *)"x=\"1\"", NULL}, &g, &e),
                -EINVAL);
        assert_int_equal(vhc_boot_regenerate_bootloader(&b, (char *[]){(char *)"", NULL}, NULL, &g, &e),
                         -EINVAL);
        check_ran("");
        vhc_boot_done(&b);
}

static void test_failure(void **state) {
        struct vhc_regen g;
        int k;

        if (!need_root())
                skip();
        chrootable();
        make_fedora("grub2-mkconfig-fedora.help");
        assert_int_equal(setenv("VHC_FAKE_EXIT", "3", 1), 0);
        k = regen_initramfs(&g);
        assert_int_equal(unsetenv("VHC_FAKE_EXIT"), 0);
        assert_int_equal(k, VHC_REGEN_FAILED);
        check_ran("/usr/bin/dracut|-f|--regenerate-all|\n");
        assert_int_equal(g.status, 3);
        check_command(&g, "/usr/bin/dracut -f --regenerate-all");
        assert_string_equal(g.output, "dracut: fake output\ndracut: fake error\n");
        assert_non_null(strstr(g.message, "failed with exit status 3"));
        assert_non_null(strstr(g.message, "the initramfs was not rebuilt"));
        vhc_regen_done(&g);

        /* A tool that cannot even start (its interpreter is missing). */
        if (under_valgrind()) {
                print_message("SKIP exec failures under valgrind\n");
                return;
        }
        put("/usr/sbin/grub2-mkconfig", "#!/nonexistent/sh\n", 0755);
        assert_int_equal(regen_boot(NULL, NULL, &g), VHC_REGEN_FAILED);
        assert_int_equal(g.status, -ENOENT);
        assert_null(g.output);
        assert_non_null(strstr(g.message, "could not run"));
        vhc_regen_done(&g);
}

static void test_skip_not_booted(void **state) {
        struct vhc_regen g;
        struct vhc_boot b;
        struct vhc_err e = {};

        make_fedora("grub2-mkconfig-fedora.help");
        detect(&b);
        b.booted = 0;
        assert_int_equal(vhc_boot_regenerate_bootloader(&b, NULL, NULL, &g, &e), VHC_REGEN_SKIP_NOT_BOOTED);
        check_command(&g, "/usr/sbin/grub2-mkconfig -o /boot/grub2/grub.cfg");
        assert_non_null(strstr(g.message, "not a booted system"));
        assert_non_null(strstr(g.message, "; run: chroot "));
        vhc_regen_done(&g);
        assert_int_equal(vhc_boot_regenerate_initramfs(&b, &g, &e), VHC_REGEN_SKIP_NOT_BOOTED);
        check_command(&g, "/usr/bin/dracut -f --regenerate-all");
        vhc_regen_done(&g);
        check_ran("");
        vhc_boot_done(&b);
}

static void test_skip_no_tool(void **state) {
        struct vhc_regen g;
        char *want;

        assert_int_equal(
                regen_boot((char *[]){(char *)"iommu=pt", (char *)"intel_iommu=on", NULL}, NULL, &g),
                VHC_REGEN_SKIP_NO_TOOL);
        assert_null(g.command);
        assert_int_equal(
                asprintf(&want,
                         "no grub2-mkconfig, grub-mkconfig or grubby under %s: the boot loader "
                         "configuration was not rebuilt; add \"iommu=pt intel_iommu=on\" to the kernel "
                         "command line of the boot loader by hand",
                         root_dir) > 0,
                1);
        assert_string_equal(g.message, want);
        free(want);
        vhc_regen_done(&g);

        assert_int_equal(regen_initramfs(&g), VHC_REGEN_SKIP_NO_TOOL);
        assert_null(g.command);
        assert_non_null(strstr(g.message, "no dracut or update-initramfs under "));
        vhc_regen_done(&g);
}

/* Each run and each skip reaches the log (its text copy here). */
static void test_logged(void **state) {
        char *logfile = path("/vhc.log"), *text, *want;
        struct vhc_regen g;
        struct vhc_boot b;
        struct vhc_err e = {};
        size_t len;

        if (!need_root())
                skip();
        chrootable();
        make_debian();
        assert_int_equal(setenv("VHC_LOG_FILE", logfile, 1), 0);
        detect(&b);
        assert_int_equal(vhc_boot_regenerate_bootloader(&b, NULL, NULL, &g, &e), VHC_REGEN_DONE);
        vhc_regen_done(&g);
        b.booted = 0;
        assert_int_equal(vhc_boot_regenerate_initramfs(&b, &g, &e), VHC_REGEN_SKIP_NOT_BOOTED);
        vhc_regen_done(&g);
        vhc_boot_done(&b);
        assert_int_equal(unsetenv("VHC_LOG_FILE"), 0);

        assert_int_equal(vhc_read_file(logfile, 1 << 20, &text, &len), 0);
        assert_int_equal(
                asprintf(&want,
                         "virt-host-config: VHC_ACTION=regenerate VHC_COMMAND=chroot %s "
                         "/usr/sbin/grub-mkconfig -o /boot/grub/grub.cfg VHC_EXIT_STATUS=0\n"
                         "virt-host-config: VHC_ACTION=skip VHC_DETAIL=not a booted system (chroot, "
                         "container or image build): the initramfs was not rebuilt; run: chroot %s "
                         "/usr/sbin/update-initramfs -u -k all\n",
                         root_dir, root_dir) > 0,
                1);
        assert_string_equal(text, want);
        free(want);
        free(text);
        free(logfile);
}

/* The initramfs-tools hook: golden text, and a run the way mkinitramfs runs
 * it (with a stand-in hook-functions), chrooted. */
static void make_plan(struct vhc_plan *p, struct vhc_plan_entry *entries, struct vhc_pci_dev *devs,
                      bool isolate) {
        devs[0] = (struct vhc_pci_dev){.address = "0000:01:00.0", .vendor_id = 0x10de, .device_id = 0x1b80};
        entries[0] = (struct vhc_plan_entry){.dev = &devs[0],
                                             .action = isolate ? VHC_ACTION_ISOLATE : VHC_ACTION_KEEP,
                                             .reason = (char *)"test"};
        *p = (struct vhc_plan){.entries = entries, .n = 1};
}

static void test_initramfs_tools_hook(void **state) {
        const char *rule = "/etc/udev/rules.d/61-virt-host-config-vfio.rules";
        struct vhc_plan_entry entries[1];
        struct vhc_pci_dev devs[1];
        char *text, *want, *out = NULL;
        struct vhc_plan p;
        size_t len;

        make_plan(&p, entries, devs, false);
        text = (char *)0x1;
        assert_int_equal(vhc_render_initramfs_tools_hook(&p, rule, &text), 0);
        assert_null(text);

        make_plan(&p, entries, devs, true);
        assert_int_equal(vhc_render_initramfs_tools_hook(&p, "relative", &text), -EINVAL);
        assert_int_equal(vhc_render_initramfs_tools_hook(&p, "/etc/a b", &text), -EINVAL);
        assert_int_equal(vhc_render_initramfs_tools_hook(&p, "/etc/$(x)", &text), -EINVAL);
        assert_int_equal(vhc_render_initramfs_tools_hook(&p, rule, &text), 0);
        if (getenv("REGENERATE"))
                assert_int_equal(vhc_write_file_atomic(FIXTURES "/initramfs-tools-hook.expected", text,
                                                       strlen(text), 0644, NULL) >= 0,
                                 1);
        assert_int_equal(vhc_read_file(FIXTURES "/initramfs-tools-hook.expected", 1 << 20, &want, &len), 0);
        assert_string_equal(text, want);
        assert_true(startswith(text, "#!/bin/sh\n" VHC_GENERATED_HEADER "\n"));
        free(want);

        if (!need_root()) {
                free(text);
                skip();
        }
        sh("sh " FIXTURES "/mkroot.sh '%s' /bin/mkdir /bin/cp", root_dir);
        put("/etc/initramfs-tools/hooks/virt-host-config", text, 0755);
        put(rule, "# the rule\n", 0644);
        put("/usr/share/initramfs-tools/hook-functions",
            "force_load() { echo \"force_load $*\" >> /ran.log; }\n"
            "manual_add_modules() { echo \"manual_add_modules $*\" >> /ran.log; }\n",
            0644);
        dir("/var/tmp/mkinitramfs_x");
        {
                char *argv[] = {(char *)"/etc/initramfs-tools/hooks/virt-host-config", (char *)"prereqs",
                                NULL};
                int status;

                assert_int_equal(setenv("DESTDIR", "/var/tmp/mkinitramfs_x", 1), 0);
                assert_int_equal(vhc_spawn(argv, root_dir, &out, &status), 0);
                assert_int_equal(status, 0);
                assert_string_equal(out, "udev\n");
                free(out);
                argv[1] = NULL;
                assert_int_equal(vhc_spawn(argv, root_dir, &out, &status), 0);
                assert_int_equal(unsetenv("DESTDIR"), 0);
                assert_string_equal(out, "");
                assert_int_equal(status, 0);
                free(out);
        }
        check_ran("force_load vfio\nforce_load vfio_iommu_type1\nforce_load vfio_pci\n");
        {
                char *copy = path("/var/tmp/mkinitramfs_x/etc/udev/rules.d/61-virt-host-config-vfio.rules");

                assert_int_equal(vhc_read_file(copy, 1 << 20, &want, &len), 0);
                assert_string_equal(want, "# the rule\n");
                free(want);
                free(copy);
        }
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_detect_fedora, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detect_blscfg_off, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detect_debian, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detect_none, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detect_not_a_tool, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detect_no_escape, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detect_bad_grub, setup, teardown),
                cmocka_unit_test(test_detect_host),
                cmocka_unit_test_setup_teardown(test_run_fedora, setup, teardown),
                cmocka_unit_test_setup_teardown(test_run_rhel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_run_debian, setup, teardown),
                cmocka_unit_test_setup_teardown(test_run_grubby, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_skip_not_booted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_skip_no_tool, setup, teardown),
                cmocka_unit_test_setup_teardown(test_logged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_initramfs_tools_hook, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
