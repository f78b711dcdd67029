/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "fileio.h"
#include "log.h"
#include "regen.h"
#include "spawn-cmd.h"
#include "strv.h"

void vhc_regen_done(struct vhc_regen *g) {
        free(g->command);
        free(g->message);
        free(g->output);
        *g = (struct vhc_regen){};
}

/* The argv as it runs on the machine: with "chroot DIR" in front for another root. */
static int chrooted(const struct vhc_boot *b, char *const *argv, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        if (!vhc_root_is_host(b->root) &&
            (strv_push_dup(&l, "chroot") < 0 || strv_push_dup(&l, vhc_root_dir(b->root)) < 0))
                return -ENOMEM;
        for (size_t i = 0; argv[i]; i++)
                if (strv_push_dup(&l, argv[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The same as the user would type it. */
static char *display_command(const struct vhc_boot *b, char *const *argv) {
        _cleanup_strv_free_ char **l = NULL;

        return chrooted(b, argv, &l) < 0 ? NULL : vhc_argv_to_string(l);
}

static int skip(struct vhc_regen *g, char *command, int result, const char *fmt, ...) _printf_(4, 5);
static int skip(struct vhc_regen *g, char *command, int result, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&g->message, fmt, ap);
        va_end(ap);
        if (k < 0) {
                g->message = NULL;
                free(command);
                return -ENOMEM;
        }
        g->command = command;
        vhc_log_change(VHC_LOG_SKIP, NULL, g->message);
        return result;
}

/* Runs each argv of cmds (paths as the machine sees them) on the machine, in
 * turn, stopping at the first failure; or skips them all on a system that is
 * not booted. what is what they rebuild. */
static int run(const struct vhc_boot *b, char **const *cmds, size_t n, const char *what, struct vhc_regen *ret) {
        _cleanup_free_ char *all = NULL;
        struct vhc_regen g = {};

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *c = display_command(b, cmds[i]);
                char *t;

                if (!c)
                        return -ENOMEM;
                t = strprintf("%s%s%s", strempty(all), all ? " && " : "", c);
                if (!t)
                        return -ENOMEM;
                free(all);
                all = t;
        }
        if (b->booted <= 0) {
                char *c = TAKE_PTR(all);
                int k = skip(&g, c, VHC_REGEN_SKIP_NOT_BOOTED,
                             "not a booted system (chroot, container or image build): %s was not rebuilt; "
                             "run: %s",
                             what, c);

                if (k >= 0)
                        *ret = g;
                return k;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *command = display_command(b, cmds[i]), *output = NULL;
                _cleanup_strv_free_ char **logged = NULL;
                int status, k;

                if (!command)
                        return -ENOMEM;
                k = vhc_spawn(cmds[i], vhc_root_is_host(b->root) ? NULL : vhc_root_dir(b->root), &output, &status);
                if (chrooted(b, cmds[i], &logged) < 0)
                        return -ENOMEM;
                vhc_log_command(logged, k < 0 ? k : status);
                if (k == -ENOMEM)
                        return k;
                if (k >= 0 && status == 0)
                        continue;
                if (k < 0) {
                        g.status = k;
                        g.message = strprintf("could not run %s (%s): %s was not rebuilt; run it by hand", command,
                                              strerror(-k), what);
                } else {
                        g.status = status;
                        g.message = strprintf("%s failed with exit status %d: %s was not rebuilt; fix what its "
                                              "output says and run 'virt-host-config %s' again",
                                              command, status, what, b->verb ? b->verb : "apply");
                        g.output = TAKE_PTR(output);
                }
                g.command = TAKE_PTR(command);
                if (!g.message) {
                        vhc_regen_done(&g);
                        return -ENOMEM;
                }
                *ret = g;
                return VHC_REGEN_FAILED;
        }
        g.command = TAKE_PTR(all);
        *ret = g;
        return VHC_REGEN_DONE;
}

static int no_tool(const struct vhc_boot *b, struct vhc_regen *ret, const char *fmt, ...) _printf_(3, 4);
static int no_tool(const struct vhc_boot *b, struct vhc_regen *ret, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL;
        struct vhc_regen g = {};
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        k = skip(&g, NULL, VHC_REGEN_SKIP_NO_TOOL, "%s%s%s", why, vhc_root_is_host(b->root) ? "" : " under ",
                 vhc_root_dir(b->root));
        if (k >= 0)
                *ret = g;
        return k;
}

int vhc_boot_regenerate_bootloader(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e) {
        char *argv[] = { b->grub_mkconfig, (char *)"-o", (char *)b->grub_cfg, NULL };
        char **cmds[] = { argv };

        if (!vhc_boot_grub_cfg_holds_args(b)) {
                *ret = (struct vhc_regen){};
                return VHC_REGEN_DONE;
        }
        if (!b->grub_mkconfig)
                return no_tool(b, ret,
                               "%s is there but %s is not installed: %s was not rebuilt; install it and run "
                               "'virt-host-config %s' again",
                               b->grub_cfg, b->grub == VHC_GRUB_GRUB2 ? "grub2-mkconfig" : "grub-mkconfig",
                               b->grub_cfg, b->verb ? b->verb : "apply");
        return run(b, cmds, 1, "the boot loader configuration", ret);
}

static const struct vhc_ki_entry *ki_entry_of(const struct vhc_boot *b, const char *kver) {
        for (size_t i = 0; i < b->n_ki_entries; i++)
                if (streq(b->ki_entries[i].kver, kver))
                        return b->ki_entries + i;
        return NULL;
}

/* An entry's bytes before a run, put back after it. */
struct saved_entry {
        char *path; /* on this machine */
        char *data;
        size_t len;
};

/* kernel-install add writes the entry anew, its options from
 * /etc/kernel/cmdline: a token that lived only in that entry (the user's own,
 * set by hand or with grubby) would be lost, and revert could not be exact.
 * The entry's store has already made the entry what it must be: its bytes are
 * kept across the run. */
static int restore_entries(struct saved_entry *s, size_t n) {
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *now = NULL;
                size_t len = 0;
                int k;

                if (!s[i].data)
                        continue;
                k = vhc_read_file(s[i].path, 1 << 20, &now, &len);
                if (k >= 0 && len == s[i].len && memcmp(now, s[i].data, len) == 0)
                        continue;
                k = vhc_write_file_atomic(s[i].path, s[i].data, s[i].len, 0644, NULL);
                if (k < 0 && r == 0)
                        r = k;
                if (k > 0)
                        vhc_log_change(
                                VHC_LOG_UPDATED, s[i].path,
                                "entry kept as its store left it: kernel-install add rewrote its options");
        }
        return r;
}

/* Where kernel-install made systemd-boot's type-1 entries, the entry's
 * initrd lives next to its kernel on the ESP or XBOOTLDR partition
 * ($BOOT/TOKEN/KVER/), put there by kernel-install: "dracut --regenerate-all"
 * writes elsewhere (on Debian /boot/initrd.img-KVER, or a new
 * $BOOT/TOKEN/KVER/initrd no entry names), so what systemd-boot boots would
 * never change. The rebuild is therefore, for each of those kernels,
 *   the generator where kernel-install takes the initrd from (Debian's
 *   85-initrd.install: /boot/initrd.img-KVER), unless a kernel-install plugin
 *   builds it (Fedora's dracut 50-dracut.install),
 *   then "kernel-install add KVER IMAGE", as a kernel update runs it,
 * and for the other kernels the generator alone, to /boot/initrd.img-KVER
 * for Debian's /boot/vmlinuz-KVER (as its kernel hooks do) so that nothing
 * new appears on the ESP. */
static int regenerate_ki(const struct vhc_boot *b, struct vhc_regen *ret) {
        size_t nk = strv_length(b->kernels), n = 0;
        _cleanup_strv_free_ char **owned = NULL;
        _cleanup_free_ char ***cmds = NULL;
        _cleanup_free_ char **argv = NULL;
        _cleanup_free_ struct saved_entry *saved = NULL;
        int k, kr;

        /* At most one generator run per kernel, or one for all, and one
         * kernel-install add per entry: 6 words each, NULL included. */
        cmds = calloc(nk + 1 + b->n_ki_entries, sizeof(*cmds));
        argv = calloc((nk + 1 + b->n_ki_entries) * 6, sizeof(*argv));
        saved = calloc(b->n_ki_entries, sizeof(*saved));
        if (!cmds || !argv || !saved)
                return -ENOMEM;
        if (b->initramfs == VHC_INITRAMFS_TOOLS) {
                /* update-initramfs writes /boot/initrd.img-KVER for each. */
                char **a = argv + n * 6;

                a[0] = b->initramfs_tool;
                a[1] = (char *)"-u";
                a[2] = (char *)"-k";
                a[3] = (char *)"all";
                cmds[n++] = a;
        } else if (b->initramfs == VHC_INITRAMFS_DRACUT) {
                for (size_t i = 0; i < nk; i++) {
                        _cleanup_free_ char *deb =
                                strprintf("%s/vmlinuz-%s", vhc_path_abs(VHC_PATH_BOOT), b->kernels[i]);
                        char **a = argv + n * 6;

                        if (!deb)
                                return -ENOMEM;
                        if (ki_entry_of(b, b->kernels[i]) && b->ki_makes_initrd)
                                continue;
                        a[0] = b->initramfs_tool;
                        a[1] = (char *)"-f";
                        if (streq(b->kernel_images[i], deb)) {
                                char *out = strprintf("%s/initrd.img-%s", vhc_path_abs(VHC_PATH_BOOT),
                                                      b->kernels[i]);

                                if (!out || strv_consume(&owned, out) < 0)
                                        return -ENOMEM;
                                a[2] = out;
                                a[3] = b->kernels[i];
                        } else {
                                a[2] = (char *)"--kver";
                                a[3] = b->kernels[i];
                        }
                        cmds[n++] = a;
                }
        } else if (!b->ki_makes_initrd) {
                return no_tool(b, ret,
                               "no dracut or update-initramfs: the initramfs was not rebuilt; rebuild it "
                               "by hand");
        }
        for (size_t i = 0; i < b->n_ki_entries; i++) {
                char **a = argv + n * 6;

                a[0] = b->kernel_install;
                a[1] = (char *)"add";
                a[2] = b->ki_entries[i].kver;
                a[3] = b->ki_entries[i].image;
                cmds[n++] = a;
                saved[i].path = vhc_boot_path(b->root, b->ki_entries[i].entry);
                if (!saved[i].path)
                        goto oom;
                k = vhc_read_file(saved[i].path, 1 << 20, &saved[i].data, &saved[i].len);
                if (k == -ENOMEM)
                        goto oom;
        }
        k = run(b, cmds, n, "the initramfs", ret);
        kr = b->booted > 0 ? restore_entries(saved, b->n_ki_entries) : 0;
        for (size_t i = 0; i < b->n_ki_entries; i++) {
                free(saved[i].path);
                free(saved[i].data);
        }
        if (k >= 0 && kr < 0 && k != VHC_REGEN_FAILED) {
                vhc_regen_done(ret);
                ret->status = kr;
                ret->message =
                        strprintf("kernel-install add rewrote the boot entries, and putting them back "
                                  "failed (%s): run 'virt-host-config apply' again",
                                  strerror(-kr));
                return ret->message ? VHC_REGEN_FAILED : -ENOMEM;
        }
        return k;
oom:
        for (size_t i = 0; i < b->n_ki_entries; i++) {
                free(saved[i].path);
                free(saved[i].data);
        }
        return -ENOMEM;
}

int vhc_boot_regenerate_initramfs(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e) {
        char *dracut[] = {b->initramfs_tool, (char *)"-f", (char *)"--regenerate-all", NULL};
        char *tools[] = {b->initramfs_tool, (char *)"-u", (char *)"-k", (char *)"all", NULL};
        char **cmds[1];

        if (b->n_ki_entries > 0)
                return regenerate_ki(b, ret);
        switch (b->initramfs) {
        case VHC_INITRAMFS_DRACUT:
                cmds[0] = dracut;
                break;
        case VHC_INITRAMFS_TOOLS:
                cmds[0] = tools;
                break;
        default:
                return no_tool(b, ret,
                               "no dracut or update-initramfs: the initramfs was not rebuilt; rebuild it "
                               "by hand");
        }
        return run(b, cmds, 1, "the initramfs", ret);
}

const char *vhc_boot_uki_blocker(const struct vhc_boot *b) {
        if (strv_length(b->ukis) == 0)
                return NULL;
        if (!b->kernel_install)
                return "kernel-install is not installed";
        if (strv_length(b->kernels) == 0)
                return "no installed kernel has an image (/usr/lib/modules/KVER/vmlinuz or /boot/vmlinuz-KVER)";
        return NULL;
}

int vhc_boot_regenerate_ukis(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e) {
        size_t n = strv_length(b->kernels);
        _cleanup_free_ char ***cmds = NULL;
        _cleanup_free_ char **argv = NULL;
        const char *why = vhc_boot_uki_blocker(b);
        int k;

        if (strv_length(b->ukis) == 0) {
                *ret = (struct vhc_regen){};
                return VHC_REGEN_DONE;
        }
        if (why)
                return no_tool(b, ret, "%s: the unified kernel images were not rebuilt", why);
        cmds = calloc(n, sizeof(*cmds));
        argv = calloc(n * 5, sizeof(*argv));
        if (!cmds || !argv)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char **a = argv + i * 5;

                a[0] = b->kernel_install;
                a[1] = (char *)"add";
                a[2] = b->kernels[i];
                a[3] = b->kernel_images[i];
                cmds[i] = a;
        }
        k = run(b, cmds, n, "the unified kernel images", ret);
        return k;
}

unsigned vhc_boot_regen_need(const struct vhc_boot *b, bool grub_defaults, bool kernel_cmdline, bool initramfs) {
        bool ukis = strv_length(b->ukis) > 0;
        unsigned n = 0;

        /* rpm-ostree makes the next deployment with its arguments and its
         * initramfs (initramfs-etc carries our files): nothing to rebuild. */
        if (b->system.kind == VHC_SYSTEM_OSTREE)
                return 0;

        if (grub_defaults && vhc_boot_grub_cfg_holds_args(b))
                n |= VHC_REGEN_BOOTLOADER;
        /* A machine that boots only unified images has its initrds inside them. */
        if (initramfs && !(ukis && b->grub == VHC_GRUB_NONE && b->n_entry_dirs == 0))
                n |= VHC_REGEN_INITRAMFS;
        if (ukis && (kernel_cmdline || initramfs))
                n |= VHC_REGEN_UKI;
        return n;
}

static const char *step_what(unsigned step) {
        switch (step) {
        case VHC_REGEN_BOOTLOADER:
                return "the boot loader configuration";
        case VHC_REGEN_INITRAMFS:
                return "the initramfs";
        default:
                return "the unified kernel images";
        }
}

static int report(char ***lines, int result, const struct vhc_regen *g, const char *what) {
        char *s;

        switch (result) {
        case VHC_REGEN_DONE:
                if (!g->command)
                        return 0;
                s = strprintf("regenerated %s: %s", what, g->command);
                break;
        case VHC_REGEN_FAILED:
                if (g->output && g->output[0]) {
                        /* The tool's own words first, then the one line that says what to do. */
                        fputs(g->output, stderr);
                        if (g->output[strlen(g->output) - 1] != '\n')
                                fputc('\n', stderr);
                }
                /* fall through */
        default:
                s = strdup(g->message ? g->message : "regeneration skipped");
                break;
        }
        return s ? strv_consume(lines, s) : -ENOMEM;
}

int vhc_regenerate(const struct vhc_boot *b, unsigned flags, unsigned *ret_done, unsigned *ret_skipped,
                   char ***ret_lines, struct vhc_err *e) {
        static int (*const steps[])(const struct vhc_boot *, struct vhc_regen *, struct vhc_err *) = {
                vhc_boot_regenerate_bootloader,
                vhc_boot_regenerate_initramfs,
                vhc_boot_regenerate_ukis,
        };
        _cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
        _cleanup_strv_free_ char **not_booted = NULL;
        unsigned done = 0, skipped = 0;
        int failed = 0, k;

        if (!lines)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                _cleanup_(vhc_regen_done) struct vhc_regen g = {};
                unsigned step = 1U << i;

                if (!(flags & step))
                        continue;
                k = steps[i](b, &g, e);
                if (k < 0)
                        return k;
                /* No tool for it here: nothing a later run could do either (the
                 * line says so); not pending. */
                if (k == VHC_REGEN_DONE || k == VHC_REGEN_SKIP_NO_TOOL)
                        done |= step;
                else if (k == VHC_REGEN_FAILED)
                        failed++;
                else
                        skipped |= step;
                /* Not booted: one line with all there is to run, at the end. */
                if (k == VHC_REGEN_SKIP_NOT_BOOTED) {
                        if (strv_push_dup(&not_booted, g.command) < 0)
                                return -ENOMEM;
                        continue;
                }
                k = report(&lines, k, &g, step_what(step));
                if (k < 0)
                        return k;
        }
        if (not_booted) {
                _cleanup_free_ char *cmd = NULL;

                for (size_t i = 0; not_booted[i]; i++) {
                        char *t = strprintf("%s%s%s", strempty(cmd), cmd ? " && " : "", not_booted[i]);

                        if (!t)
                                return -ENOMEM;
                        free(cmd);
                        cmd = t;
                }
                k = strv_consume(&lines, strprintf("not a booted system: boot files not regenerated; run '%s' on "
                                                   "the booted system",
                                                   cmd));
                if (k < 0)
                        return k;
        }
        *ret_done = done;
        *ret_skipped = skipped;
        *ret_lines = TAKE_PTR(lines);
        return failed;
}
