/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"

/* The machine the tool works on: "/" or a directory tree that stands for one
 * (a test's fake machine, a chroot, an image). Every path under /etc, /sys,
 * /proc, /boot, /lib, /usr and /var is named here and nowhere else. */
enum vhc_path {
        VHC_PATH_GRUB_DEFAULT,      /* /etc/default/grub */
        VHC_PATH_CONFIG,            /* /etc/virt-host-config/virt-host-config.conf */
        VHC_PATH_STATE_DIR,         /* /var/lib/virt-host-config */
        VHC_PATH_STATE_FILE,        /* /var/lib/virt-host-config/state.json */
        VHC_PATH_LAST_RUN,          /* /var/lib/virt-host-config/last-run.json (the last apply's or revert's outcome) */
        VHC_PATH_PROC_CPUINFO,      /* /proc/cpuinfo */
        VHC_PATH_PROC_CMDLINE,      /* /proc/cmdline */
        VHC_PATH_PROC_MEMINFO,      /* /proc/meminfo */
        VHC_PATH_PROC_OSRELEASE,    /* /proc/sys/kernel/osrelease */
        VHC_PATH_SYS_BUS_PCI,       /* /sys/bus/pci */
        VHC_PATH_SYS_PCI_DEVICES,   /* /sys/bus/pci/devices */
        VHC_PATH_SYS_IOMMU_GROUPS,  /* /sys/kernel/iommu_groups */
        VHC_PATH_SYS_CLASS_IOMMU,   /* /sys/class/iommu */
        VHC_PATH_SYS_ACPI_TABLES,   /* /sys/firmware/acpi/tables */
        VHC_PATH_SYS_CPU,           /* /sys/devices/system/cpu */
        VHC_PATH_SYS_MODULE,        /* /sys/module */
        VHC_PATH_LIB_MODULES,       /* /lib/modules */
        VHC_PATH_MODPROBE_D_ETC,    /* /etc/modprobe.d */
        VHC_PATH_MODPROBE_D_RUN,    /* /run/modprobe.d */
        VHC_PATH_MODPROBE_D_LIB,    /* /lib/modprobe.d */
        VHC_PATH_MODPROBE_D_USR,    /* /usr/lib/modprobe.d */
        VHC_PATH_UDEV_RULE,         /* /etc/udev/rules.d/<NN>-virt-host-config-vfio.rules */
        VHC_PATH_MODPROBE_CONF,     /* /etc/modprobe.d/virt-host-config.conf */
        VHC_PATH_DRACUT_CONF,       /* /etc/dracut.conf.d/virt-host-config.conf */
        VHC_PATH_INITRAMFS_TOOLS_HOOK, /* /etc/initramfs-tools/hooks/virt-host-config */
        VHC_PATH_LIMITS_CONF,       /* /etc/security/limits.d/<NN>-virt-host-config.conf */
        VHC_PATH_ETC_GROUP,         /* /etc/group */
        VHC_PATH_PCI_IDS,           /* /usr/share/hwdata/pci.ids */
        VHC_PATH_LIBVIRT_QEMU_HOOK, /* /etc/libvirt/hooks/qemu.d/virt-host-config */
        VHC_PATH_HOOK_RUN_DIR,      /* /run/virt-host-config (what the libvirt hook keeps while guests run) */
        VHC_PATH_SYS_DEVICES,       /* /sys/devices (hybrid CPUs' PMUs: <pmu>/cpus) */
        VHC_PATH_MODPROBE_D_USR_LOCAL, /* /usr/local/lib/modprobe.d */
        VHC_PATH_PCI_IDS_MISC,      /* /usr/share/misc/pci.ids (Debian, Arch) */
        VHC_PATH_ETC_PASSWD,        /* /etc/passwd */
        VHC_PATH_USR_SBIN,          /* /usr/sbin */
        VHC_PATH_USR_BIN,           /* /usr/bin */
        VHC_PATH_SBIN,              /* /sbin */
        VHC_PATH_BIN,               /* /bin */
        VHC_PATH_GRUB2_DIR,         /* /boot/grub2 */
        VHC_PATH_GRUB2_CFG,         /* /boot/grub2/grub.cfg */
        VHC_PATH_GRUB_DIR,          /* /boot/grub */
        VHC_PATH_GRUB_CFG,          /* /boot/grub/grub.cfg */
        VHC_PATH_BLS_ENTRIES,       /* /boot/loader/entries */
        VHC_PATH_QEMU_FIRMWARE_ETC, /* /etc/qemu/firmware */
        VHC_PATH_QEMU_FIRMWARE_USR, /* /usr/share/qemu/firmware */
        VHC_PATH_LIBVIRT_IMAGES,    /* /var/lib/libvirt/images */
        VHC_PATH_VIRTIO_WIN_ISO,    /* /usr/share/virtio-win/virtio-win.iso */
        VHC_PATH_PROC_INTERRUPTS,   /* /proc/interrupts */
        VHC_PATH_PROC_STAT,         /* /proc/stat */
        VHC_PATH_LIMITS_MAIN,       /* /etc/security/limits.conf */
        VHC_PATH_LIMITS_D,          /* /etc/security/limits.d */
        VHC_PATH_LIBVIRT_QEMU_DIR,  /* /etc/libvirt/qemu (libvirt's domain XML) */
        VHC_PATH_KERNEL_CMDLINE,    /* /etc/kernel/cmdline (kernel-install's arguments for new entries) */
        VHC_PATH_KERNEL_CMDLINE_USR, /* /usr/lib/kernel/cmdline (its packaged default) */
        VHC_PATH_KERNEL_INSTALL_CONF, /* /etc/kernel/install.conf */
        VHC_PATH_KERNEL_INSTALL_CONF_USR, /* /usr/lib/kernel/install.conf */
        VHC_PATH_EFI,               /* /efi (an ESP mount point) */
        VHC_PATH_BOOT,              /* /boot */
        VHC_PATH_BOOT_EFI,          /* /boot/efi */
        VHC_PATH_USR_LIB_MODULES,   /* /usr/lib/modules */
        VHC_PATH_GRUB2_ENV,         /* /boot/grub2/grubenv */
        VHC_PATH_GRUB_ENV,          /* /boot/grub/grubenv */
        VHC_PATH_KVMFR_DEV,         /* /dev/kvmfr0 (Looking Glass's kvmfr module) */
        VHC_PATH_SHM_LOOKING_GLASS, /* /dev/shm/looking-glass (Looking Glass without kvmfr) */
        VHC_PATH_RUN_USER,          /* /run/user (users' runtime directories: PipeWire, PulseAudio) */
        VHC_PATH_USR_LIB64,         /* /usr/lib64 (Fedora's libvirt.so.0.*) */
        VHC_PATH_USR_LIB,           /* /usr/lib (Debian's <triplet>/libvirt.so.0.*, Arch's) */
        VHC_PATH_LIBVIRT_DIR,       /* /etc/libvirt (qemu.conf) */
        VHC_PATH_OSTREE_BOOTED,     /* /run/ostree-booted (a booted ostree system, and rpm-ostree's scriptlet sandbox) */
        VHC_PATH_CONTAINERENV,      /* /run/.containerenv (podman, buildah: a container or image build) */
        VHC_PATH_DOCKERENV,         /* /.dockerenv (docker) */
        VHC_PATH_SYS_KERNEL,        /* /sys/kernel (absent from rpm-ostree's reduced /sys) */
        VHC_PATH_VAR,               /* /var (read-only in rpm-ostree's scriptlet sandbox) */
        VHC_PATH_BOOTC_BIN,         /* /usr/bin/bootc (a bootc image or system; -host owns /usr/lib/bootc/kargs.d) */
        VHC_PATH_BOOTC_KARGS_D,     /* /usr/lib/bootc/kargs.d (image-mode kernel arguments) */
        VHC_PATH_MACHINE_ID,        /* /etc/machine-id */
        VHC_PATH_KERNEL_ENTRY_TOKEN, /* /etc/kernel/entry-token (kernel-install's name for entries) */
        VHC_PATH_KERNEL_INSTALL_D,  /* /etc/kernel/install.d (kernel-install plugins; masks those of /usr) */
        VHC_PATH_KERNEL_INSTALL_D_USR, /* /usr/lib/kernel/install.d */
        VHC_PATH_LOOKING_GLASS_TMPFILES, /* /etc/tmpfiles.d/virt-host-config-looking-glass.conf */
        VHC_PATH_KVMFR_MODPROBE,    /* /etc/modprobe.d/virt-host-config-kvmfr.conf */
        VHC_PATH_KVMFR_MODULES_LOAD, /* /etc/modules-load.d/virt-host-config-kvmfr.conf */
        VHC_PATH_KVMFR_UDEV_RULE,   /* /etc/udev/rules.d/70-virt-host-config-kvmfr.rules */
        VHC_PATH_SELINUX_CONFIG,    /* /etc/selinux/config (the machine has SELinux) */
        VHC_PATH_LIBVIRT_QEMU_CONF, /* /etc/libvirt/qemu.conf */
        VHC_PATH_RULE_MARKER,       /* /usr/lib/virt-host-config/host-installed (the generated udev rule's TEST==) */
        VHC_PATH_PROC,              /* /proc (processes' open files: who holds /dev/dri/cardN) */
        VHC_PATH_DEV_DRI,           /* /dev/dri (DRM device nodes; compared with fd links, not opened) */
        VHC_PATH_DEV_NULL,          /* /dev/null (a link to it in /etc/kernel/install.d masks a plugin) */
        _VHC_PATH_MAX,
};

/* Paths the machine's own software searches in a fixed order: the order is
 * part of what they mean, so it is kept here with them. */
enum vhc_path_list {
        VHC_PATHS_PROGRAM_DIRS,  /* /usr/sbin, /usr/bin, /sbin, /bin */
        VHC_PATHS_QEMU_FIRMWARE, /* descriptors: a file in /etc hides the one of its name in /usr/share */
        VHC_PATHS_ESP,           /* where the EFI system partition is mounted: /efi, /boot, /boot/efi (bootctl's order) */
        VHC_PATHS_KERNEL_MODULES, /* /usr/lib/modules, /lib/modules */
        _VHC_PATHS_MAX,
};

/* Where edk2-ovmf packages put the firmware when no descriptor is installed. */
struct vhc_ovmf_path {
        const char *code, *vars; /* as the machine sees them */
        bool secure_boot;        /* Secure Boot with Microsoft's keys enrolled */
};

struct vhc_root;

/* dir NULL or "/" is the running system. */
int vhc_root_new(const char *dir, struct vhc_root **ret);
struct vhc_root *vhc_root_free(struct vhc_root *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_root *, vhc_root_free);

/* "" for the running system, else the root directory without a trailing slash. */
const char *vhc_root_dir(const struct vhc_root *r);
bool vhc_root_is_host(const struct vhc_root *r);

/* The path as the machine itself sees it ("/etc/default/grub"). */
const char *vhc_path_abs(enum vhc_path p);
/* The paths of a family in order, ending with _VHC_PATH_MAX; NULL for an
 * unknown family. */
const enum vhc_path *vhc_path_list(enum vhc_path_list l);
/* The known OVMF files, most likely first (Fedora, then Debian's 4 MiB and
 * older 2 MiB builds, then Arch), ending with an entry whose code is NULL. */
const struct vhc_ovmf_path *vhc_path_ovmf(void);

/* The path on this machine (root prefixed), confined to the root: every
 * component resolved inside it as the machine would (absolute link targets
 * from the root, ".." never above it; a dangling link gives the place its
 * target names, inside the root), so what the kernel follows afterwards is
 * never a link. The running system ("/") is left to the kernel. NULL on OOM,
 * or with errno ELOOP after 40 links. */
char *vhc_root_path(const struct vhc_root *r, enum vhc_path p);
/* The same, with "/" and a formatted tail appended. */
char *vhc_root_pathf(const struct vhc_root *r, enum vhc_path p, const char *fmt, ...) _printf_(3, 4);
/* An absolute path of the machine (as a state record holds it) on this machine, confined the same way. */
char *vhc_root_join(const struct vhc_root *r, const char *abs);
/* The same, but the last component itself is not followed: for the files
 * the tool owns, where a link put in place of one is not ours to follow. */
char *vhc_root_join_nofollow(const struct vhc_root *r, const char *abs);
char *vhc_root_path_nofollow(const struct vhc_root *r, enum vhc_path p);
char *vhc_root_pathf_nofollow(const struct vhc_root *r, enum vhc_path p, const char *fmt, ...)
        _printf_(3, 4);

/* Follows the symlinks of abs (a path as the machine sees it), in every
 * component as the kernel does, taking absolute link targets relative to the
 * root, as the machine would. Returns the resolved path as the machine sees
 * it; a path that does not exist (not through a dangling link) is returned
 * as written from where it stops existing; -ENOENT for a dangling link,
 * -ENOTDIR for a file in the middle, -ELOOP after 40 links. ".." never climbs
 * above the root, and a path without a leading "/" is taken from the root too. */
int vhc_root_resolve(const struct vhc_root *r, const char *abs, char **ret);
