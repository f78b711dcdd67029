/* SPDX-License-Identifier: MIT */
#include <limits.h>

#include "managed.h"
#include "store.h"
#include "strv.h"

static const enum vhc_path generated[] = {
        VHC_PATH_UDEV_RULE,   VHC_PATH_MODPROBE_CONF,
        VHC_PATH_DRACUT_CONF, VHC_PATH_INITRAMFS_TOOLS_HOOK,
        VHC_PATH_LIMITS_CONF, VHC_PATH_LIBVIRT_QEMU_HOOK,
        /* looking_glass = yes */
        VHC_PATH_LOOKING_GLASS_TMPFILES, VHC_PATH_KVMFR_MODPROBE,
        VHC_PATH_KVMFR_MODULES_LOAD, VHC_PATH_KVMFR_UDEV_RULE,
};

/* The places a directory we made can lead to (besides the generated files). */
static const enum vhc_path dir_targets[] = {VHC_PATH_STATE_FILE, VHC_PATH_LAST_RUN, VHC_PATH_KERNEL_CMDLINE};

bool vhc_managed_path_clean(const char *abs) {
        const char *c = abs;

        if (!abs || abs[0] != '/' || abs[1] == '\0' || strlen(abs) >= PATH_MAX)
                return false;
        for (const char *p = abs; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        while (*c == '/') {
                size_t n = strcspn(c + 1, "/");

                if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
                        return false;
                c += 1 + n;
        }
        return *c == '\0';
}

/* dir/base, base one component: the length of dir, or 0 if abs is not so. */
static size_t dir_len(const char *abs) {
        const char *slash = strrchr(abs, '/');

        return slash && slash[1] ? (size_t)(slash - abs) : 0;
}

static bool in_dir(const char *abs, const char *dir) {
        size_t n = dir_len(abs);

        return n > 0 && strlen(dir) == n && strncmp(abs, dir, n) == 0;
}

bool vhc_managed_generated(const char *abs) {
        if (!vhc_managed_path_clean(abs))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(generated); i++) {
                const char *g = vhc_path_abs(generated[i]);
                size_t n = dir_len(g);

                if (dir_len(abs) == n && strncmp(abs, g, n) == 0 && strstr(abs + n + 1, "virt-host-config"))
                        return true;
        }
        return false;
}

bool vhc_managed_boot_entry(const char *abs) {
        size_t n;

        if (!vhc_managed_path_clean(abs))
                return false;
        n = strlen(abs);
        if (n < 5 || !streq(abs + n - 5, ".conf"))
                return false;
        for (const enum vhc_path *d = vhc_path_list(VHC_PATHS_ESP); *d != _VHC_PATH_MAX; d++) {
                _cleanup_free_ char *entries = strprintf("%s/loader/entries", vhc_path_abs(*d));

                if (entries && in_dir(abs, entries))
                        return true;
        }
        return false;
}

/* abs is a proper ancestor of target. */
static bool leads_to(const char *abs, const char *target) {
        size_t n = strlen(abs);

        return strncmp(abs, target, n) == 0 && target[n] == '/';
}

bool vhc_managed_dir(const char *abs) {
        if (!vhc_managed_path_clean(abs))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(generated); i++)
                if (leads_to(abs, vhc_path_abs(generated[i])))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(dir_targets); i++)
                if (leads_to(abs, vhc_path_abs(dir_targets[i])))
                        return true;
        return false;
}

bool vhc_managed_karg_file(const struct vhc_root *r, const char *store, const char *abs) {
        if (!vhc_managed_path_clean(abs))
                return false;
        if (streq(store, "grub-defaults")) {
                _cleanup_free_ char *real = NULL;
                const char *grub = vhc_path_abs(VHC_PATH_GRUB_DEFAULT);

                if (streq(abs, grub))
                        return true;
                return vhc_root_resolve(r, grub, &real) >= 0 && streq(real, abs);
        }
        if (streq(store, "bls-entry"))
                return vhc_managed_boot_entry(abs);
        if (streq(store, "kernel-cmdline"))
                return streq(abs, vhc_path_abs(VHC_PATH_KERNEL_CMDLINE));
        /* Not a file: the label of rpm-ostree's kargs (store-ostree.c). */
        if (streq(store, "rpm-ostree"))
                return streq(abs, VHC_STORE_OSTREE_FILE);
        return false;
}

/* What the message may show of a path read from the record: one line. */
static const char *shown(const char *p) {
        for (const char *c = p; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return "(a path with control characters)";
        return p;
}

#define REFUSE(what, i, path)                                                                               \
        vhc_err_set(e, -EPERM, name, 0,                                                                     \
                    what                                                                                    \
                    " entry %zu names \"%.200s\", not a file virt-host-config manages: nothing was "        \
                    "changed; restore the record from a backup, or remove it to forget what was applied",   \
                    i, shown(path))

int vhc_state_check_managed(const struct vhc_state *s, const struct vhc_root *r, const char *name,
                            struct vhc_err *e) {
        for (size_t i = 0; i < s->n_kargs; i++) {
                if (!vhc_managed_karg_file(r, s->kargs[i].store, s->kargs[i].file))
                        return REFUSE("kernel_args", i, s->kargs[i].file);
                /* Revert writes a removed argument back: only one apply takes out. */
                if (s->kargs[i].removed && !vhc_kargs_turns_iommu_off(s->kargs[i].arg))
                        return vhc_err_set(e, -EPERM, name, 0,
                                           "kernel_args entry %zu says \"%.200s\" was taken out, which "
                                           "virt-host-config never takes out: nothing was changed; restore the "
                                           "record from a backup, or remove it to forget what was applied",
                                           i, shown(s->kargs[i].arg));
        }
        for (size_t i = 0; i < s->n_files; i++)
                if (!vhc_managed_generated(s->files[i].path))
                        return REFUSE("files", i, s->files[i].path);
        for (size_t i = 0; i < s->n_created; i++)
                if (!streq(s->created[i].path, vhc_path_abs(VHC_PATH_KERNEL_CMDLINE)))
                        return REFUSE("created", i, s->created[i].path);
        for (size_t i = 0; s->boot_entries && s->boot_entries[i]; i++)
                if (!vhc_managed_boot_entry(s->boot_entries[i]))
                        return REFUSE("boot_entries", i, s->boot_entries[i]);
        for (size_t i = 0; s->dirs && s->dirs[i]; i++)
                if (!vhc_managed_dir(s->dirs[i]))
                        return REFUSE("dirs", i, s->dirs[i]);
        return 0;
}
