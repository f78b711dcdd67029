/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "detect.h"
#include "fileio.h"
#include "grub-default.h"
#include "strv.h"

static const char *const grub_names[_VHC_GRUB_MAX] = {
        [VHC_GRUB_NONE] = "none",
        [VHC_GRUB_GRUB2] = "grub2",
        [VHC_GRUB_GRUB] = "grub",
};

static const char *const initramfs_names[_VHC_INITRAMFS_MAX] = {
        [VHC_INITRAMFS_NONE] = "none",
        [VHC_INITRAMFS_DRACUT] = "dracut",
        [VHC_INITRAMFS_TOOLS] = "initramfs-tools",
};

const char *vhc_grub_kind_to_string(enum vhc_grub_kind k) {
        return (unsigned)k < _VHC_GRUB_MAX ? grub_names[k] : NULL;
}

const char *vhc_initramfs_kind_to_string(enum vhc_initramfs_kind k) {
        return (unsigned)k < _VHC_INITRAMFS_MAX ? initramfs_names[k] : NULL;
}

void vhc_boot_done(struct vhc_boot *b) {
        free(b->grub_mkconfig);
        free(b->esp);
        for (size_t i = 0; i < b->n_entry_dirs; i++)
                free(b->entry_dirs[i].path);
        free(b->entry_dirs);
        strv_free(b->ukis);
        free(b->kernel_install);
        strv_free(b->kernels);
        strv_free(b->kernel_images);
        for (size_t i = 0; i < b->n_ki_entries; i++) {
                free(b->ki_entries[i].kver);
                free(b->ki_entries[i].image);
                free(b->ki_entries[i].entry);
        }
        free(b->ki_entries);
        free(b->initramfs_tool);
        free(b->rpm_ostree);
        *b = (struct vhc_boot){};
}

bool vhc_boot_grub_cfg_holds_args(const struct vhc_boot *b) {
        return b->grub != VHC_GRUB_NONE && !b->blscfg;
}

char *vhc_boot_path(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *resolved = NULL;

        if (vhc_root_resolve(r, abs, &resolved) == -ENOMEM)
                return NULL;
        return vhc_root_join(r, resolved ? resolved : abs);
}

static bool is_dir_abs(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_boot_path(r, abs);
        struct stat st;

        return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file_abs(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_boot_path(r, abs);
        struct stat st;

        return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* There, as a file or a link (a dangling one is an error for its store). */
static bool exists_abs(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_root_join_nofollow(r, abs);
        struct stat st;

        return p && lstat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* /sbin and /bin count only when they are directories: as symlinks (merged
 * /usr) they lead to /usr, looked at first. */
int vhc_boot_find_tool(const struct vhc_root *r, const char *name, char **ret) {
        for (const enum vhc_path *d = vhc_path_list(VHC_PATHS_PROGRAM_DIRS); *d != _VHC_PATH_MAX; d++) {
                _cleanup_free_ char *dir = vhc_root_path_nofollow(r, *d), *abs = NULL, *full = NULL;
                struct stat st;

                if (!dir)
                        return -ENOMEM;
                if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                abs = strprintf("%s/%s", vhc_path_abs(*d), name);
                full = abs ? vhc_boot_path(r, abs) : NULL;
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

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vhc_boot_list_dir(const struct vhc_root *r, const char *abs, const char *suffix, char ***ret) {
        _cleanup_free_ char *dir = vhc_boot_path(r, abs);
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        struct dirent *de;
        DIR *d;
        int k = 0;

        if (!dir || !l)
                return -ENOMEM;
        d = opendir(dir);
        if (d) {
                while (k >= 0 && (de = readdir(d))) {
                        size_t n = strlen(de->d_name), s = strlen(suffix);

                        if (de->d_name[0] == '.' || n <= s || strcasecmp(de->d_name + n - s, suffix) != 0)
                                continue;
                        k = strv_push_dup(&l, de->d_name);
                }
                closedir(d);
        }
        if (k < 0)
                return k;
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

/* GRUB_ENABLE_BLSCFG as grub2-mkconfig sees it once it sources the file;
 * -ENOENT when it is not set. */
static int read_blscfg(const struct vhc_root *r, bool *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_GRUB_DEFAULT), *text = NULL, *value = NULL;
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL;
        size_t len;
        int k;

        if (!path)
                return -ENOMEM;
        k = vhc_read_file(path, 1 << 20, &text, &len);
        if (k == -ENOENT)
                return k;
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read: %s", strerror(-k));
        k = vhc_grub_parse(text, len, path, &g, e);
        if (k < 0)
                return k;
        k = vhc_grub_get(g, "GRUB_ENABLE_BLSCFG", &value);
        if (k == -ENOENT)
                return k;
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read GRUB_ENABLE_BLSCFG: %s", strerror(-k));
        *ret = streq(value, "true");
        return 0;
}

static int detect_grub(const struct vhc_root *r, struct vhc_boot *b, struct vhc_err *e) {
        static const struct {
                enum vhc_grub_kind kind;
                enum vhc_path dir, cfg;
                const char *tool;
        } kinds[] = {
                { VHC_GRUB_GRUB2, VHC_PATH_GRUB2_DIR, VHC_PATH_GRUB2_CFG, "grub2-mkconfig" },
                { VHC_GRUB_GRUB, VHC_PATH_GRUB_DIR, VHC_PATH_GRUB_CFG, "grub-mkconfig" },
        };
        int k;

        for (size_t i = 0; i < ELEMENTSOF(kinds) && b->grub == VHC_GRUB_NONE; i++) {
                _cleanup_free_ char *tool = NULL;

                if (!is_dir_abs(r, vhc_path_abs(kinds[i].dir)))
                        continue;
                k = vhc_boot_find_tool(r, kinds[i].tool, &tool);
                if (k < 0)
                        return k;
                /* The directory alone may be what a removed GRUB left. */
                if (!tool && !is_file_abs(r, vhc_path_abs(kinds[i].cfg)))
                        continue;
                b->grub = kinds[i].kind;
                b->grub_mkconfig = TAKE_PTR(tool);
                b->grub_cfg = vhc_path_abs(kinds[i].cfg);
        }
        if (b->grub == VHC_GRUB_NONE)
                return 0;
        k = read_blscfg(r, &b->blscfg, e);
        if (k == -ENOENT) {
                _cleanup_free_ char *nkp = NULL;

                /* Fedora's 10_linux: "Make BLS the default if GRUB_ENABLE_BLSCFG
                 * was not set and grubby is not installed" (new-kernel-pkg). */
                k = vhc_boot_find_tool(r, "new-kernel-pkg", &nkp);
                b->blscfg = b->grub == VHC_GRUB_GRUB2 && k == 0;
        }
        return k < 0 ? k : 0;
}

static int add_entry_dir(struct vhc_boot *b, const char *abs, const char *reader, bool first_only) {
        struct vhc_entry_dir *t;

        for (size_t i = 0; i < b->n_entry_dirs; i++)
                if (streq(b->entry_dirs[i].path, abs)) {
                        /* Read by both: what GRUB counts is what counts for both. */
                        b->entry_dirs[i].reader = "GRUB and systemd-boot";
                        b->entry_dirs[i].first_only |= first_only;
                        return 0;
                }
        t = realloc(b->entry_dirs, (b->n_entry_dirs + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        b->entry_dirs = t;
        t[b->n_entry_dirs] = (struct vhc_entry_dir){ .path = strdup(abs), .reader = reader,
                                                     .first_only = first_only };
        return t[b->n_entry_dirs++].path ? 0 : -ENOMEM;
}

static int add_ukis(const struct vhc_root *r, struct vhc_boot *b, const char *base) {
        _cleanup_free_ char *dir = strprintf("%s/EFI/Linux", base);
        _cleanup_strv_free_ char **names = NULL;
        int k;

        if (!dir)
                return -ENOMEM;
        k = vhc_boot_list_dir(r, dir, ".efi", &names);
        for (size_t i = 0; k >= 0 && names[i]; i++) {
                char *p = strprintf("%s/%s", dir, names[i]);

                k = p ? strv_consume(&b->ukis, p) : -ENOMEM;
        }
        return k;
}

static int detect_sdboot(const struct vhc_root *r, struct vhc_boot *b) {
        const char *boot = vhc_path_abs(VHC_PATH_BOOT);
        _cleanup_free_ char *efi = NULL, *sd = NULL, *conf = NULL, *entries = NULL, *xbl = NULL;
        _cleanup_strv_free_ char **stubs = NULL;
        int k;

        for (const enum vhc_path *d = vhc_path_list(VHC_PATHS_ESP); *d != _VHC_PATH_MAX && !b->esp; d++) {
                free(efi);
                efi = strprintf("%s/EFI", vhc_path_abs(*d));
                if (!efi)
                        return -ENOMEM;
                if (is_dir_abs(r, efi) && !(b->esp = strdup(vhc_path_abs(*d))))
                        return -ENOMEM;
        }
        if (!b->esp)
                return 0;
        sd = strprintf("%s/EFI/systemd", b->esp);
        conf = strprintf("%s/loader/loader.conf", b->esp);
        entries = strprintf("%s/loader/entries", b->esp);
        xbl = strprintf("%s/loader/entries", boot);
        if (!sd || !conf || !entries || !xbl)
                return -ENOMEM;
        k = vhc_boot_list_dir(r, sd, ".efi", &stubs);
        if (k < 0)
                return k;
        for (size_t i = 0; stubs[i] && !b->sdboot; i++)
                b->sdboot = startswith(stubs[i], "systemd-boot");
        b->sdboot = b->sdboot || is_file_abs(r, conf);
        if (!b->sdboot)
                return 0;
        if (is_dir_abs(r, entries) && (k = add_entry_dir(b, entries, "systemd-boot", false)) < 0)
                return k;
        /* An XBOOTLDR partition at /boot is read too. */
        if (!streq(b->esp, boot) && is_dir_abs(r, xbl) && (k = add_entry_dir(b, xbl, "systemd-boot", false)) < 0)
                return k;
        k = add_ukis(r, b, b->esp);
        if (k >= 0 && !streq(b->esp, boot))
                k = add_ukis(r, b, boot);
        return k;
}

/* Installed kernels with an image kernel-install can take: Fedora's
 * /usr/lib/modules/KVER/vmlinuz, else Debian's /boot/vmlinuz-KVER. */
static int detect_kernels(const struct vhc_root *r, struct vhc_boot *b) {
        for (const enum vhc_path *d = vhc_path_list(VHC_PATHS_KERNEL_MODULES); *d != _VHC_PATH_MAX; d++) {
                _cleanup_free_ char *dir = vhc_root_path(r, *d);
                _cleanup_strv_free_ char **names = NULL;
                struct stat st;
                int k;

                if (!dir)
                        return -ENOMEM;
                /* /lib as a link to usr/lib: already seen. */
                if (*d == VHC_PATH_LIB_MODULES) {
                        _cleanup_free_ char *abs = strdup(vhc_path_abs(*d)), *lib = NULL;

                        if (!abs)
                                return -ENOMEM;
                        *strrchr(abs, '/') = '\0';
                        lib = vhc_root_join_nofollow(r, abs);
                        if (!lib)
                                return -ENOMEM;
                        if (lstat(lib, &st) < 0 || !S_ISDIR(st.st_mode))
                                continue;
                }
                k = vhc_boot_list_dir(r, vhc_path_abs(*d), "", &names);
                for (size_t i = 0; k >= 0 && names[i]; i++) {
                        _cleanup_free_ char *mod = strprintf("%s/%s/vmlinuz", vhc_path_abs(*d), names[i]),
                                            *deb = strprintf("%s/vmlinuz-%s", vhc_path_abs(VHC_PATH_BOOT),
                                                             names[i]);
                        const char *img;

                        if (!mod || !deb)
                                return -ENOMEM;
                        img = is_file_abs(r, mod) ? mod : is_file_abs(r, deb) ? deb : NULL;
                        if (!img || strv_contains(b->kernels, names[i]))
                                continue;
                        k = strv_push_dup(&b->kernels, names[i]);
                        if (k >= 0)
                                k = strv_push_dup(&b->kernel_images, img);
                }
                if (k < 0)
                        return k;
        }
        return 0;
}

/* The first word of a one-line file of the machine (the machine ID, the entry
 * token); NULL in *ret when it is absent or empty. */
static int read_token(const struct vhc_root *r, enum vhc_path p, char **ret) {
        _cleanup_free_ char *path = vhc_root_path(r, p), *text = NULL;
        size_t len, n;
        int k;

        *ret = NULL;
        if (!path)
                return -ENOMEM;
        k = vhc_read_file(path, 4096, &text, &len);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return 0;
        n = strspn(text, " \t\n");
        len = strcspn(text + n, " \t\n");
        if (len == 0)
                return 0;
        *ret = strndup(text + n, len);
        return *ret ? 0 : -ENOMEM;
}

/* kernel-install's plugin of that name, unless /etc masks it (a link to
 * /dev/null) or replaces it. */
static bool ki_plugin(const struct vhc_root *r, const char *name) {
        _cleanup_free_ char *etc = vhc_root_pathf(r, VHC_PATH_KERNEL_INSTALL_D, "/%s", name),
                            *usr = vhc_root_pathf(r, VHC_PATH_KERNEL_INSTALL_D_USR, "/%s", name);
        char target[64];
        struct stat st;
        ssize_t n;

        if (!etc || !usr)
                return false;
        if (lstat(etc, &st) == 0) {
                if (!S_ISLNK(st.st_mode))
                        return true;
                n = readlink(etc, target, sizeof(target) - 1);
                if (n >= 0) {
                        target[n] = '\0';
                        if (streq(target, vhc_path_abs(VHC_PATH_DEV_NULL)))
                                return false;
                }
                return true;
        }
        return stat(usr, &st) == 0 && S_ISREG(st.st_mode);
}

static int detect_ki_entries(const struct vhc_root *r, struct vhc_boot *b) {
        _cleanup_free_ char *token = NULL;
        int k;

        if (!b->sdboot || !b->kernel_install)
                return 0;
        k = read_token(r, VHC_PATH_KERNEL_ENTRY_TOKEN, &token);
        if (k >= 0 && !token)
                k = read_token(r, VHC_PATH_MACHINE_ID, &token);
        if (k < 0 || !token)
                return k;
        b->ki_makes_initrd = ki_plugin(r, "50-dracut.install");
        for (size_t d = 0; d < b->n_entry_dirs; d++) {
                _cleanup_strv_free_ char **names = NULL;

                /* GRUB's own (Fedora's /boot/loader/entries): the generator
                 * writes the initrd its entries name. */
                if (!strstr(b->entry_dirs[d].reader, "systemd-boot"))
                        continue;
                k = vhc_boot_list_dir(r, b->entry_dirs[d].path, ".conf", &names);
                if (k < 0)
                        return k;
                for (size_t i = 0; names[i]; i++) {
                        size_t t = strlen(token), n = strlen(names[i]);
                        _cleanup_free_ char *kver = NULL;
                        struct vhc_ki_entry *e;
                        size_t j;

                        if (n <= t + 1 + 5 || !startswith(names[i], token) || names[i][t] != '-')
                                continue;
                        kver = strndup(names[i] + t + 1, n - t - 1 - 5);
                        if (!kver)
                                return -ENOMEM;
                        for (j = 0; b->kernels && b->kernels[j]; j++)
                                if (streq(b->kernels[j], kver))
                                        break;
                        if (!b->kernels || !b->kernels[j])
                                continue;
                        e = realloc(b->ki_entries, (b->n_ki_entries + 1) * sizeof(*e));
                        if (!e)
                                return -ENOMEM;
                        b->ki_entries = e;
                        e += b->n_ki_entries++;
                        *e = (struct vhc_ki_entry){
                                .kver = TAKE_PTR(kver),
                                .image = strdup(b->kernel_images[j]),
                                .entry = strprintf("%s/%s", b->entry_dirs[d].path, names[i]),
                        };
                        if (!e->image || !e->entry)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int detect_initramfs(const struct vhc_root *r, struct vhc_boot *b) {
        char *tool;
        int k;

        k = vhc_boot_find_tool(r, "dracut", &tool);
        if (k < 0)
                return k;
        if (k > 0) {
                b->initramfs = VHC_INITRAMFS_DRACUT;
                b->initramfs_tool = tool;
                return 0;
        }
        k = vhc_boot_find_tool(r, "update-initramfs", &tool);
        if (k < 0)
                return k;
        b->initramfs = k > 0 ? VHC_INITRAMFS_TOOLS : VHC_INITRAMFS_NONE;
        b->initramfs_tool = tool;
        return 0;
}

static int detect_stores(const struct vhc_root *r, struct vhc_boot *b) {
        const char *bls = vhc_path_abs(VHC_PATH_BLS_ENTRIES);
        int k;

        if (b->blscfg && is_dir_abs(r, bls) && (k = add_entry_dir(b, bls, "GRUB", true)) < 0)
                return k;
        /* /etc/default/grub boots nothing where another loader is found and GRUB is not. */
        b->grub_defaults = exists_abs(r, vhc_path_abs(VHC_PATH_GRUB_DEFAULT)) &&
                           (b->grub != VHC_GRUB_NONE || (!b->sdboot && strv_length(b->ukis) == 0));
        b->kernel_cmdline_exists = is_file_abs(r, vhc_path_abs(VHC_PATH_KERNEL_CMDLINE));
        b->kernel_cmdline = b->kernel_cmdline_exists || b->n_entry_dirs > 0 || strv_length(b->ukis) > 0;
        return 0;
}

/* ostree makes the entries of each deployment (ostree-N-OS.conf) from the
 * deployment's own arguments, and grub2-mkconfig leaves BLS entries alone
 * there: rpm-ostree kargs is the one store. */
static void ostree_stores(struct vhc_boot *b) {
        for (size_t i = 0; i < b->n_entry_dirs; i++)
                free(b->entry_dirs[i].path);
        free(b->entry_dirs);
        b->entry_dirs = NULL;
        b->n_entry_dirs = 0;
        b->grub_defaults = false;
        b->kernel_cmdline = b->kernel_cmdline_exists = false;
        b->ukis = strv_free(b->ukis);
}

int vhc_boot_detect(const struct vhc_root *r, struct vhc_boot *ret, struct vhc_err *e) {
        struct vhc_boot b = {.root = r};
        int k;

        k = vhc_system_detect(r, &b.system);
        if (k >= 0)
                k = detect_grub(r, &b, e);
        if (k >= 0)
                k = detect_sdboot(r, &b);
        if (k >= 0)
                k = detect_stores(r, &b);
        if (k >= 0)
                k = vhc_boot_find_tool(r, "rpm-ostree", &b.rpm_ostree);
        if (k >= 0 && b.system.kind == VHC_SYSTEM_OSTREE)
                ostree_stores(&b);
        if (k >= 0)
                k = vhc_boot_find_tool(r, "kernel-install", &b.kernel_install);
        if (k >= 0)
                k = detect_kernels(r, &b);
        if (k >= 0)
                k = detect_ki_entries(r, &b);
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
