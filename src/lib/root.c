/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "root.h"

struct vhc_root {
        char *dir;
};

static const char *const paths[_VHC_PATH_MAX] = {
        [VHC_PATH_GRUB_DEFAULT] = "/etc/default/grub",
        [VHC_PATH_CONFIG] = "/etc/virt-host-config/virt-host-config.conf",
        [VHC_PATH_STATE_DIR] = "/var/lib/virt-host-config",
        [VHC_PATH_STATE_FILE] = "/var/lib/virt-host-config/state.json",
        [VHC_PATH_LAST_RUN] = "/var/lib/virt-host-config/last-run.json",
        [VHC_PATH_PROC_CPUINFO] = "/proc/cpuinfo",
        [VHC_PATH_PROC_CMDLINE] = "/proc/cmdline",
        [VHC_PATH_PROC_MEMINFO] = "/proc/meminfo",
        [VHC_PATH_PROC_OSRELEASE] = "/proc/sys/kernel/osrelease",
        [VHC_PATH_SYS_BUS_PCI] = "/sys/bus/pci",
        [VHC_PATH_SYS_PCI_DEVICES] = "/sys/bus/pci/devices",
        [VHC_PATH_SYS_IOMMU_GROUPS] = "/sys/kernel/iommu_groups",
        [VHC_PATH_SYS_CLASS_IOMMU] = "/sys/class/iommu",
        [VHC_PATH_SYS_ACPI_TABLES] = "/sys/firmware/acpi/tables",
        [VHC_PATH_SYS_CPU] = "/sys/devices/system/cpu",
        [VHC_PATH_SYS_MODULE] = "/sys/module",
        [VHC_PATH_LIB_MODULES] = "/lib/modules",
        [VHC_PATH_MODPROBE_D_ETC] = "/etc/modprobe.d",
        [VHC_PATH_MODPROBE_D_RUN] = "/run/modprobe.d",
        [VHC_PATH_MODPROBE_D_LIB] = "/lib/modprobe.d",
        [VHC_PATH_MODPROBE_D_USR] = "/usr/lib/modprobe.d",
        [VHC_PATH_UDEV_RULE] = "/etc/udev/rules.d/61-virt-host-config-vfio.rules",
        [VHC_PATH_MODPROBE_CONF] = "/etc/modprobe.d/virt-host-config.conf",
        [VHC_PATH_DRACUT_CONF] = "/etc/dracut.conf.d/virt-host-config.conf",
        [VHC_PATH_INITRAMFS_TOOLS_HOOK] = "/etc/initramfs-tools/hooks/virt-host-config",
        [VHC_PATH_LIMITS_CONF] = "/etc/security/limits.d/90-virt-host-config.conf",
        [VHC_PATH_ETC_GROUP] = "/etc/group",
        [VHC_PATH_PCI_IDS] = "/usr/share/hwdata/pci.ids",
        [VHC_PATH_LIBVIRT_QEMU_HOOK] = "/etc/libvirt/hooks/qemu.d/virt-host-config",
        [VHC_PATH_HOOK_RUN_DIR] = "/run/virt-host-config",
        [VHC_PATH_SYS_DEVICES] = "/sys/devices",
        [VHC_PATH_MODPROBE_D_USR_LOCAL] = "/usr/local/lib/modprobe.d",
        [VHC_PATH_PCI_IDS_MISC] = "/usr/share/misc/pci.ids",
        [VHC_PATH_ETC_PASSWD] = "/etc/passwd",
        [VHC_PATH_USR_SBIN] = "/usr/sbin",
        [VHC_PATH_USR_BIN] = "/usr/bin",
        [VHC_PATH_SBIN] = "/sbin",
        [VHC_PATH_BIN] = "/bin",
        [VHC_PATH_GRUB2_DIR] = "/boot/grub2",
        [VHC_PATH_GRUB2_CFG] = "/boot/grub2/grub.cfg",
        [VHC_PATH_GRUB_DIR] = "/boot/grub",
        [VHC_PATH_GRUB_CFG] = "/boot/grub/grub.cfg",
        [VHC_PATH_BLS_ENTRIES] = "/boot/loader/entries",
        [VHC_PATH_QEMU_FIRMWARE_ETC] = "/etc/qemu/firmware",
        [VHC_PATH_QEMU_FIRMWARE_USR] = "/usr/share/qemu/firmware",
        [VHC_PATH_LIBVIRT_IMAGES] = "/var/lib/libvirt/images",
        [VHC_PATH_VIRTIO_WIN_ISO] = "/usr/share/virtio-win/virtio-win.iso",
        [VHC_PATH_PROC_INTERRUPTS] = "/proc/interrupts",
        [VHC_PATH_PROC_STAT] = "/proc/stat",
        [VHC_PATH_LIMITS_MAIN] = "/etc/security/limits.conf",
        [VHC_PATH_LIMITS_D] = "/etc/security/limits.d",
        [VHC_PATH_LIBVIRT_QEMU_DIR] = "/etc/libvirt/qemu",
        [VHC_PATH_KERNEL_CMDLINE] = "/etc/kernel/cmdline",
        [VHC_PATH_KERNEL_CMDLINE_USR] = "/usr/lib/kernel/cmdline",
        [VHC_PATH_KERNEL_INSTALL_CONF] = "/etc/kernel/install.conf",
        [VHC_PATH_KERNEL_INSTALL_CONF_USR] = "/usr/lib/kernel/install.conf",
        [VHC_PATH_EFI] = "/efi",
        [VHC_PATH_BOOT] = "/boot",
        [VHC_PATH_BOOT_EFI] = "/boot/efi",
        [VHC_PATH_USR_LIB_MODULES] = "/usr/lib/modules",
        [VHC_PATH_GRUB2_ENV] = "/boot/grub2/grubenv",
        [VHC_PATH_GRUB_ENV] = "/boot/grub/grubenv",
        [VHC_PATH_KVMFR_DEV] = "/dev/kvmfr0",
        [VHC_PATH_SHM_LOOKING_GLASS] = "/dev/shm/looking-glass",
        [VHC_PATH_RUN_USER] = "/run/user",
        [VHC_PATH_USR_LIB64] = "/usr/lib64",
        [VHC_PATH_USR_LIB] = "/usr/lib",
        [VHC_PATH_LIBVIRT_DIR] = "/etc/libvirt",
        [VHC_PATH_OSTREE_BOOTED] = "/run/ostree-booted",
        [VHC_PATH_CONTAINERENV] = "/run/.containerenv",
        [VHC_PATH_DOCKERENV] = "/.dockerenv",
        [VHC_PATH_SYS_KERNEL] = "/sys/kernel",
        [VHC_PATH_VAR] = "/var",
        [VHC_PATH_BOOTC_BIN] = "/usr/bin/bootc",
        [VHC_PATH_BOOTC_KARGS_D] = "/usr/lib/bootc/kargs.d",
        [VHC_PATH_MACHINE_ID] = "/etc/machine-id",
        [VHC_PATH_KERNEL_ENTRY_TOKEN] = "/etc/kernel/entry-token",
        [VHC_PATH_KERNEL_INSTALL_D] = "/etc/kernel/install.d",
        [VHC_PATH_KERNEL_INSTALL_D_USR] = "/usr/lib/kernel/install.d",
        [VHC_PATH_LOOKING_GLASS_TMPFILES] = "/etc/tmpfiles.d/virt-host-config-looking-glass.conf",
        [VHC_PATH_KVMFR_MODPROBE] = "/etc/modprobe.d/virt-host-config-kvmfr.conf",
        [VHC_PATH_KVMFR_MODULES_LOAD] = "/etc/modules-load.d/virt-host-config-kvmfr.conf",
        [VHC_PATH_KVMFR_UDEV_RULE] = "/etc/udev/rules.d/70-virt-host-config-kvmfr.rules",
        [VHC_PATH_SELINUX_CONFIG] = "/etc/selinux/config",
        [VHC_PATH_LIBVIRT_QEMU_CONF] = "/etc/libvirt/qemu.conf",
        [VHC_PATH_RULE_MARKER] = "/usr/lib/virt-host-config/host-installed",
        [VHC_PATH_PROC] = "/proc",
        [VHC_PATH_DEV_DRI] = "/dev/dri",
        [VHC_PATH_DEV_NULL] = "/dev/null",
};

/* /sbin and /bin come last: on a merged /usr they are links to what was
 * already looked at. */
static const enum vhc_path program_dirs[] = {
        VHC_PATH_USR_SBIN, VHC_PATH_USR_BIN, VHC_PATH_SBIN, VHC_PATH_BIN, _VHC_PATH_MAX,
};

/* QEMU's and libvirt's order: /etc overrides (or, with an empty file, masks)
 * the packaged descriptor of the same name. */
static const enum vhc_path qemu_firmware_dirs[] = {
        VHC_PATH_QEMU_FIRMWARE_ETC,
        VHC_PATH_QEMU_FIRMWARE_USR,
        _VHC_PATH_MAX,
};

/* bootctl's order (src/shared/find-esp.c): /efi, then /boot, then /boot/efi. */
static const enum vhc_path esp_dirs[] = {
        VHC_PATH_EFI,
        VHC_PATH_BOOT,
        VHC_PATH_BOOT_EFI,
        _VHC_PATH_MAX,
};

/* Merged /usr first: /lib is a link to it there. */
static const enum vhc_path module_dirs[] = {
        VHC_PATH_USR_LIB_MODULES,
        VHC_PATH_LIB_MODULES,
        _VHC_PATH_MAX,
};

static const enum vhc_path *const lists[_VHC_PATHS_MAX] = {
        [VHC_PATHS_PROGRAM_DIRS] = program_dirs,
        [VHC_PATHS_QEMU_FIRMWARE] = qemu_firmware_dirs,
        [VHC_PATHS_ESP] = esp_dirs,
        [VHC_PATHS_KERNEL_MODULES] = module_dirs,
};

static const struct vhc_ovmf_path ovmf_paths[] = {
        {"/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd", false},
        {"/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd", true},
        {"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", false},
        {"/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", true},
        {"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd", false},
        {"/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.ms.fd", true},
        {"/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd", false},
        {},
};

int vhc_root_new(const char *dir, struct vhc_root **ret) {
        struct vhc_root *r = calloc(1, sizeof(*r));
        char buf[PATH_MAX];

        if (!r)
                return -ENOMEM;
        if (!dir || streq(dir, "/"))
                r->dir = strdup("");
        else if (!realpath(dir, buf)) {
                int e = negative_errno();
                free(r);
                return e;
        } else
                r->dir = strdup(streq(buf, "/") ? "" : buf);
        if (!r->dir) {
                free(r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

struct vhc_root *vhc_root_free(struct vhc_root *r) {
        if (r) {
                free(r->dir);
                free(r);
        }
        return NULL;
}

const char *vhc_root_dir(const struct vhc_root *r) {
        return r->dir;
}

bool vhc_root_is_host(const struct vhc_root *r) {
        return r->dir[0] == '\0';
}

const char *vhc_path_abs(enum vhc_path p) {
        return (unsigned)p < _VHC_PATH_MAX ? paths[p] : NULL;
}

const enum vhc_path *vhc_path_list(enum vhc_path_list l) {
        return (unsigned)l < _VHC_PATHS_MAX ? lists[l] : NULL;
}

const struct vhc_ovmf_path *vhc_path_ovmf(void) {
        return ovmf_paths;
}

/* The root and abs side by side, nothing resolved. */
static char *join_lexical(const struct vhc_root *r, const char *abs) {
        char *s;

        if (asprintf(&s, "%s%s%s", r->dir, abs[0] == '/' ? "" : "/", abs) < 0)
                return NULL;
        return s;
}

char *vhc_root_path(const struct vhc_root *r, enum vhc_path p) {
        return vhc_root_join(r, vhc_path_abs(p));
}

_printf_(4, 0) static char *pathf(const struct vhc_root *r, enum vhc_path p, bool nofollow, const char *fmt,
                                   va_list ap) {
        _cleanup_free_ char *tail = NULL, *abs = NULL;

        if (vasprintf(&tail, fmt, ap) < 0)
                return NULL;
        if (asprintf(&abs, "%s/%s", vhc_path_abs(p), tail) < 0)
                return NULL;
        return nofollow ? vhc_root_join_nofollow(r, abs) : vhc_root_join(r, abs);
}

char *vhc_root_pathf(const struct vhc_root *r, enum vhc_path p, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = pathf(r, p, false, fmt, ap);
        va_end(ap);
        return s;
}

char *vhc_root_pathf_nofollow(const struct vhc_root *r, enum vhc_path p, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = pathf(r, p, true, fmt, ap);
        va_end(ap);
        return s;
}

/* Appends "/" and n bytes of c to *done (a resolved path, "" for the root). */
static int append_component(char **done, const char *c, size_t n) {
        char *s;

        if (asprintf(&s, "%s/%.*s", *done, (int)n, c) < 0)
                return -ENOMEM;
        free(*done);
        *done = s;
        return 0;
}

/* One component at a time, as the kernel walks a path, so that a link in
 * the middle ("/etc/x" where /etc is a link) is followed inside the root too,
 * and ".." after a link leaves the link's target. */
enum {
        RESOLVE_DANGLING =
                1 << 0, /* a dangling link: its target as written (where O_CREAT would create it) */
        RESOLVE_NOFOLLOW = 1 << 1, /* the last component itself is not followed */
};

static int resolve(const struct vhc_root *r, const char *abs, unsigned flags, char **ret) {
        _cleanup_free_ char *todo = strdup(abs), *done = strdup("");
        bool via_final_link = false; /* the rest of todo is the target of the path's last link */
        unsigned links = 0;
        size_t pos = 0;

        if (!todo || !done)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *full = NULL, *cand = NULL, *next = NULL;
                char target[PATH_MAX];
                const char *c, *rest;
                struct stat st;
                size_t n;
                ssize_t k;

                c = todo + pos + strspn(todo + pos, "/");
                n = strcspn(c, "/");
                if (n == 0)
                        break;
                rest = c + n;
                pos = (size_t)(rest - todo);
                if (n == 1 && c[0] == '.')
                        continue;
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        char *slash = strrchr(done, '/');

                        if (slash)
                                *slash = '\0'; /* never above the root */
                        continue;
                }
                if (asprintf(&cand, "%s/%.*s", done, (int)n, c) < 0)
                        return -ENOMEM;
                full = join_lexical(r, cand);
                if (!full)
                        return -ENOMEM;
                if (lstat(full, &st) < 0) {
                        if (errno != ENOENT || (via_final_link && !(flags & RESOLVE_DANGLING)))
                                return negative_errno();
                        /* Not there: the path itself, from here on as written. */
                        free(done);
                        done = TAKE_PTR(cand);
                        for (;;) {
                                c = todo + pos + strspn(todo + pos, "/");
                                n = strcspn(c, "/");
                                if (n == 0)
                                        break;
                                pos = (size_t)(c + n - todo);
                                if (n == 2 && c[0] == '.' && c[1] == '.') {
                                        char *slash = strrchr(done, '/');

                                        if (slash)
                                                *slash = '\0';
                                } else if (!(n == 1 && c[0] == '.') && append_component(&done, c, n) < 0)
                                        return -ENOMEM;
                        }
                        break;
                }
                if (!S_ISLNK(st.st_mode) ||
                    ((flags & RESOLVE_NOFOLLOW) && !via_final_link && rest[strspn(rest, "/")] == '\0')) {
                        if (rest[strspn(rest, "/")] != '\0' && !S_ISDIR(st.st_mode)) {
                                if (!(flags & RESOLVE_DANGLING))
                                        return -ENOTDIR;
                                /* The kernel says ENOTDIR at this file, which is no link. */
                                if (asprintf(&next, "%s%s", cand, rest) < 0)
                                        return -ENOMEM;
                                free(done);
                                done = TAKE_PTR(next);
                                break;
                        }
                        free(done);
                        done = TAKE_PTR(cand);
                        continue;
                }
                if (++links > 40)
                        return -ELOOP;
                k = readlink(full, target, sizeof(target) - 1);
                if (k < 0)
                        return negative_errno();
                target[k] = '\0';
                if (rest[strspn(rest, "/")] == '\0')
                        via_final_link = true;
                /* An absolute target starts again from the root; a relative one
                 * from the link's directory, which done already is. */
                if (target[0] == '/')
                        done[0] = '\0';
                if (asprintf(&next, "%s%s", target, rest) < 0)
                        return -ENOMEM;
                free(todo);
                todo = TAKE_PTR(next);
                pos = 0;
        }
        if (!done[0]) {
                free(done);
                done = strdup("/");
                if (!done)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(done);
        return 0;
}

int vhc_root_resolve(const struct vhc_root *r, const char *abs, char **ret) {
        return resolve(r, abs, 0, ret);
}

static char *join_confined(const struct vhc_root *r, const char *abs, unsigned flags) {
        _cleanup_free_ char *resolved = NULL;
        int k;

        /* On the running system the kernel resolves as we would. */
        if (vhc_root_is_host(r))
                return join_lexical(r, abs);
        k = resolve(r, abs, flags | RESOLVE_DANGLING, &resolved);
        if (k < 0) {
                errno = -k;
                return NULL;
        }
        return join_lexical(r, resolved);
}

char *vhc_root_join(const struct vhc_root *r, const char *abs) {
        return join_confined(r, abs, 0);
}

char *vhc_root_join_nofollow(const struct vhc_root *r, const char *abs) {
        return join_confined(r, abs, RESOLVE_NOFOLLOW);
}

char *vhc_root_path_nofollow(const struct vhc_root *r, enum vhc_path p) {
        const char *abs = vhc_path_abs(p);

        return abs ? vhc_root_join_nofollow(r, abs) : NULL;
}
