/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bootloader.h"
#include "fileio.h"
#include "grub-default.h"
#include "log.h"
#include "spawn-cmd.h"
#include "strv.h"

static const char *const bootcfg_names[_VHC_BOOTCFG_MAX] = {
        [VHC_BOOTCFG_NONE] = "none",
        [VHC_BOOTCFG_GRUB2_MKCONFIG] = "grub2-mkconfig",
        [VHC_BOOTCFG_GRUB_MKCONFIG] = "grub-mkconfig",
        [VHC_BOOTCFG_GRUBBY] = "grubby",
};

static const char *const initramfs_names[_VHC_INITRAMFS_MAX] = {
        [VHC_INITRAMFS_NONE] = "none",
        [VHC_INITRAMFS_DRACUT] = "dracut",
        [VHC_INITRAMFS_TOOLS] = "initramfs-tools",
};

const char *vhc_bootcfg_kind_to_string(enum vhc_bootcfg_kind k) {
        return (unsigned)k < _VHC_BOOTCFG_MAX ? bootcfg_names[k] : NULL;
}

const char *vhc_initramfs_kind_to_string(enum vhc_initramfs_kind k) {
        return (unsigned)k < _VHC_INITRAMFS_MAX ? initramfs_names[k] : NULL;
}

void vhc_boot_done(struct vhc_boot *b) {
        free(b->bootcfg_tool);
        free(b->bootcfg_reason);
        free(b->initramfs_tool);
        *b = (struct vhc_boot){};
}

void vhc_regen_done(struct vhc_regen *g) {
        free(g->command);
        free(g->message);
        free(g->output);
        *g = (struct vhc_regen){};
}

static bool is_dir(const struct vhc_root *r, enum vhc_path dir) {
        _cleanup_free_ char *p = vhc_root_path(r, dir);
        struct stat st;

        return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An executable regular file name in one of the program directories of the
 * machine; *ret is its path as the machine sees it, or NULL. /sbin and /bin
 * count only when they are directories: as symlinks (merged /usr) they lead
 * to /usr, looked at first, and an absolute link would lead out of the root. */
static int find_tool(const struct vhc_root *r, const char *name, char **ret) {
        for (const enum vhc_path *d = vhc_path_list(VHC_PATHS_PROGRAM_DIRS); *d != _VHC_PATH_MAX; d++) {
                _cleanup_free_ char *dir = vhc_root_path(r, *d), *abs = NULL, *resolved = NULL, *full = NULL;
                struct stat st;
                int k;

                if (!dir)
                        return -ENOMEM;
                if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (asprintf(&abs, "%s/%s", vhc_path_abs(*d), name) < 0)
                        return -ENOMEM;
                k = vhc_root_resolve(r, abs, &resolved);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        continue;
                full = vhc_root_join(r, resolved);
                if (!full)
                        return -ENOMEM;
                if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
                        *ret = TAKE_PTR(abs);
                        return 1;
                }
        }
        *ret = NULL;
        return 0;
}

static int has_bls_entries(const struct vhc_root *r) {
        _cleanup_free_ char *dir = vhc_root_path(r, VHC_PATH_BLS_ENTRIES);
        struct dirent *de;
        bool found = false;
        DIR *d;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return 0;
        while (!found && (de = readdir(d))) {
                size_t n = strlen(de->d_name);

                found = n > 5 && de->d_name[0] != '.' && streq(de->d_name + n - 5, ".conf");
        }
        closedir(d);
        return found;
}

/* GRUB_ENABLE_BLSCFG as grub2-mkconfig sees it once it sources the file. */
static int read_blscfg(const struct vhc_root *r, bool *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_GRUB_DEFAULT), *text = NULL, *value = NULL;
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL;
        size_t len;
        int k;

        if (!path)
                return -ENOMEM;
        k = vhc_read_file(path, 1 << 20, &text, &len);
        if (k == -ENOENT) {
                *ret = false;
                return 0;
        }
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read: %s", strerror(-k));
        k = vhc_grub_parse(text, len, path, &g, e);
        if (k < 0)
                return k;
        k = vhc_grub_get(g, "GRUB_ENABLE_BLSCFG", &value);
        if (k == -ENOENT) {
                *ret = false;
                return 0;
        }
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read GRUB_ENABLE_BLSCFG: %s", strerror(-k));
        *ret = streq(value, "true");
        return 0;
}

static int detect_bootcfg(const struct vhc_root *r, struct vhc_boot *b, struct vhc_err *e) {
        _cleanup_free_ char *grub2 = NULL, *grub = NULL, *grubby = NULL;
        int k, bls;

        k = read_blscfg(r, &b->blscfg, e);
        if (k < 0)
                return k;
        if (find_tool(r, "grub2-mkconfig", &grub2) < 0 || find_tool(r, "grub-mkconfig", &grub) < 0 ||
            find_tool(r, "grubby", &grubby) < 0)
                return -ENOMEM;
        bls = has_bls_entries(r);
        if (bls < 0)
                return bls;

        if (grub2 && !b->blscfg && grubby && bls) {
                /* grub.cfg holds no blscfg command: the menu is made from the
                 * entries' options, which only grubby edits (and it then runs
                 * grub2-mkconfig itself). */
                b->bootcfg = VHC_BOOTCFG_GRUBBY;
                b->bootcfg_tool = TAKE_PTR(grubby);
        } else if (grub2 && is_dir(r, VHC_PATH_GRUB2_DIR)) {
                b->bootcfg = VHC_BOOTCFG_GRUB2_MKCONFIG;
                b->bootcfg_tool = TAKE_PTR(grub2);
                b->grub_cfg = vhc_path_abs(VHC_PATH_GRUB2_CFG);
        } else if (grub && is_dir(r, VHC_PATH_GRUB_DIR)) {
                b->bootcfg = VHC_BOOTCFG_GRUB_MKCONFIG;
                b->bootcfg_tool = TAKE_PTR(grub);
                b->grub_cfg = vhc_path_abs(VHC_PATH_GRUB_CFG);
        } else if (grubby) {
                b->bootcfg = VHC_BOOTCFG_GRUBBY;
                b->bootcfg_tool = TAKE_PTR(grubby);
        } else {
                b->bootcfg = VHC_BOOTCFG_NONE;
                if (grub2)
                        k = asprintf(&b->bootcfg_reason, "%s is installed but %s is missing", grub2,
                                     vhc_path_abs(VHC_PATH_GRUB2_DIR));
                else if (grub)
                        k = asprintf(&b->bootcfg_reason, "%s is installed but %s is missing", grub,
                                     vhc_path_abs(VHC_PATH_GRUB_DIR));
                else
                        k = asprintf(&b->bootcfg_reason, "no grub2-mkconfig, grub-mkconfig or grubby");
                if (k < 0) {
                        b->bootcfg_reason = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

static int detect_initramfs(const struct vhc_root *r, struct vhc_boot *b) {
        char *tool;
        int k;

        k = find_tool(r, "dracut", &tool);
        if (k < 0)
                return k;
        if (k > 0) {
                b->initramfs = VHC_INITRAMFS_DRACUT;
                b->initramfs_tool = tool;
                return 0;
        }
        k = find_tool(r, "update-initramfs", &tool);
        if (k < 0)
                return k;
        b->initramfs = k > 0 ? VHC_INITRAMFS_TOOLS : VHC_INITRAMFS_NONE;
        b->initramfs_tool = tool;
        return 0;
}

int vhc_boot_detect(const struct vhc_root *r, struct vhc_boot *ret, struct vhc_err *e) {
        struct vhc_boot b = {.root = r};
        int k;

        k = detect_bootcfg(r, &b, e);
        if (k >= 0)
                k = detect_initramfs(r, &b);
        if (k < 0) {
                vhc_boot_done(&b);
                return k;
        }
        b.booted = vhc_root_is_host(r) ? sd_booted() : 1;
        *ret = b;
        return 0;
}

/* The argv as the user would type it: with "chroot DIR" in front for another root. */
static char *display_command(const struct vhc_boot *b, char *const *argv) {
        _cleanup_strv_free_ char **l = NULL;

        if (!vhc_root_is_host(b->root) &&
            (strv_push_dup(&l, "chroot") < 0 || strv_push_dup(&l, vhc_root_dir(b->root)) < 0))
                return NULL;
        for (size_t i = 0; argv[i]; i++)
                if (strv_push_dup(&l, argv[i]) < 0)
                        return NULL;
        return vhc_argv_to_string(l);
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

/* Runs argv (paths as the machine sees them) on the machine, or skips it on
 * a system that is not booted; what is what the command rebuilds. */
static int run(const struct vhc_boot *b, char *const *argv, const char *what, struct vhc_regen *ret) {
        _cleanup_free_ char *command = display_command(b, argv), *output = NULL;
        _cleanup_strv_free_ char **logged = NULL;
        struct vhc_regen g = {};
        int status, k;

        if (!command)
                return -ENOMEM;
        if (b->booted <= 0) {
                char *c = TAKE_PTR(command);

                k = skip(&g, c, VHC_REGEN_SKIP_NOT_BOOTED,
                         "not a booted system (chroot, container or image build): %s was not rebuilt; run: "
                         "%s",
                         what, c);
                if (k >= 0)
                        *ret = g;
                return k;
        }

        k = vhc_spawn(argv, vhc_root_is_host(b->root) ? NULL : vhc_root_dir(b->root), &output, &status);
        if (!vhc_root_is_host(b->root)) {
                if (strv_push_dup(&logged, "chroot") < 0 ||
                    strv_push_dup(&logged, vhc_root_dir(b->root)) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; argv[i]; i++)
                if (strv_push_dup(&logged, argv[i]) < 0)
                        return -ENOMEM;
        vhc_log_command(logged, k < 0 ? k : status);

        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                g.status = k;
                if (asprintf(&g.message, "could not run %s (%s): %s was not rebuilt; run it by hand",
                             command, strerror(-k), what) < 0)
                        return -ENOMEM;
        } else if (status != 0) {
                g.status = status;
                if (asprintf(&g.message,
                             "%s failed with exit status %d: %s was not rebuilt; fix what its output says "
                             "and "
                             "run it again",
                             command, status, what) < 0)
                        return -ENOMEM;
                g.output = TAKE_PTR(output);
        } else {
                g.command = TAKE_PTR(command);
                *ret = g;
                return VHC_REGEN_DONE;
        }
        g.command = TAKE_PTR(command);
        *ret = g;
        return VHC_REGEN_FAILED;
}

/* Whether grub2-mkconfig --help offers --update-bls-cmdline (RHEL 9.3+):
 * asked of the tool itself, as backports make the version say nothing. */
static bool offers_update_bls_cmdline(const struct vhc_boot *b) {
        char *argv[] = {b->bootcfg_tool, (char *)"--help", NULL};
        _cleanup_free_ char *output = NULL;
        int status;

        if (vhc_spawn(argv, vhc_root_is_host(b->root) ? NULL : vhc_root_dir(b->root), &output, &status) < 0)
                return false;
        return strstr(output, "--update-bls-cmdline") != NULL;
}

/* A kernel argument we pass to grubby in one space-separated option. */
static bool arg_ok(const char *a) {
        return a[0] && !strpbrk(a, " \t\n\r\v\f\"'\\");
}

static int join_args(char *const *args, const char *option, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        *ret = NULL;
        if (strv_length(args) == 0)
                return 0;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(option, f);
        for (size_t i = 0; args[i]; i++)
                fprintf(f, "%s%s", i > 0 ? " " : "", args[i]);
        return vhc_memstream_finish(f, &buf, ret);
}

static int args_phrase(char *const *added, char *const *removed, char **ret) {
        _cleanup_free_ char *a = NULL, *r = NULL;
        int k;

        if (join_args(added, "", &a) < 0 || join_args(removed, "", &r) < 0)
                return -ENOMEM;
        if (a && r)
                k = asprintf(ret,
                             "add \"%s\" to and remove \"%s\" from the kernel command line of the boot "
                             "loader by hand",
                             a, r);
        else if (a)
                k = asprintf(ret, "add \"%s\" to the kernel command line of the boot loader by hand", a);
        else if (r)
                k = asprintf(ret, "remove \"%s\" from the kernel command line of the boot loader by hand",
                             r);
        else
                k = asprintf(ret, "regenerate the boot loader configuration by hand");
        return k < 0 ? -ENOMEM : 0;
}

int vhc_boot_regenerate_bootloader(const struct vhc_boot *b, char *const *args_added,
                                   char *const *args_removed, struct vhc_regen *ret, struct vhc_err *e) {
        const char *what = "the boot loader configuration";
        _cleanup_free_ char *add = NULL, *remove = NULL;
        char *argv[6];
        size_t n = 0;

        for (size_t i = 0; args_added && args_added[i]; i++)
                if (!arg_ok(args_added[i]))
                        return vhc_err_set(e, -EINVAL, NULL, 0, "kernel argument \"%s\" cannot be passed on",
                                           args_added[i]);
        for (size_t i = 0; args_removed && args_removed[i]; i++)
                if (!arg_ok(args_removed[i]))
                        return vhc_err_set(e, -EINVAL, NULL, 0, "kernel argument \"%s\" cannot be passed on",
                                           args_removed[i]);

        switch (b->bootcfg) {
        case VHC_BOOTCFG_GRUB2_MKCONFIG:
                argv[n++] = b->bootcfg_tool;
                if (b->blscfg && offers_update_bls_cmdline(b))
                        argv[n++] = (char *)"--update-bls-cmdline";
                argv[n++] = (char *)"-o";
                argv[n++] = (char *)b->grub_cfg;
                break;
        case VHC_BOOTCFG_GRUB_MKCONFIG:
                argv[n++] = b->bootcfg_tool;
                argv[n++] = (char *)"-o";
                argv[n++] = (char *)b->grub_cfg;
                break;
        case VHC_BOOTCFG_GRUBBY:
                if (join_args(args_added, "--args=", &add) < 0 ||
                    join_args(args_removed, "--remove-args=", &remove) < 0)
                        return -ENOMEM;
                if (!add && !remove) {
                        *ret = (struct vhc_regen){};
                        return VHC_REGEN_DONE;
                }
                argv[n++] = b->bootcfg_tool;
                argv[n++] = (char *)"--update-kernel=ALL";
                /* grubby removes first, then adds: a replaced value comes back right. */
                if (remove)
                        argv[n++] = remove;
                if (add)
                        argv[n++] = add;
                break;
        default: {
                _cleanup_free_ char *todo = NULL;
                struct vhc_regen g = {};
                int k;

                if (args_phrase(args_added, args_removed, &todo) < 0)
                        return -ENOMEM;
                k = skip(&g, NULL, VHC_REGEN_SKIP_NO_TOOL, "%s%s%s: %s was not rebuilt; %s",
                         strempty(b->bootcfg_reason), vhc_root_is_host(b->root) ? "" : " under ",
                         vhc_root_dir(b->root), what, todo);
                if (k >= 0)
                        *ret = g;
                return k;
        }
        }
        argv[n] = NULL;
        return run(b, argv, what, ret);
}

int vhc_boot_regenerate_initramfs(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e) {
        const char *what = "the initramfs";
        char *argv[5];

        switch (b->initramfs) {
        case VHC_INITRAMFS_DRACUT:
                argv[0] = b->initramfs_tool;
                argv[1] = (char *)"-f";
                argv[2] = (char *)"--regenerate-all";
                argv[3] = NULL;
                break;
        case VHC_INITRAMFS_TOOLS:
                argv[0] = b->initramfs_tool;
                argv[1] = (char *)"-u";
                argv[2] = (char *)"-k";
                argv[3] = (char *)"all";
                argv[4] = NULL;
                break;
        default: {
                struct vhc_regen g = {};
                int k;

                k = skip(&g, NULL, VHC_REGEN_SKIP_NO_TOOL,
                         "no dracut or update-initramfs%s%s: %s was not rebuilt; rebuild it by hand so that "
                         "it "
                         "carries the vfio modules and the udev rule",
                         vhc_root_is_host(b->root) ? "" : " under ", vhc_root_dir(b->root), what);
                if (k >= 0)
                        *ret = g;
                return k;
        }
        }
        return run(b, argv, what, ret);
}
