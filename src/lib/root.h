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
        VHC_PATH_RPM_STATE_DIR,     /* /var/lib/rpm-state/virt-host-config */
        VHC_PATH_REGEN_MARKER,      /* /var/lib/rpm-state/virt-host-config/regenerate */
        _VHC_PATH_MAX,
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

/* The path on this machine (root prefixed); NULL on OOM. */
char *vhc_root_path(const struct vhc_root *r, enum vhc_path p);
/* The same, with "/" and a formatted tail appended. */
char *vhc_root_pathf(const struct vhc_root *r, enum vhc_path p, const char *fmt, ...) _printf_(3, 4);
/* An absolute path of the machine (as a state record holds it) on this machine. */
char *vhc_root_join(const struct vhc_root *r, const char *abs);

/* Follows symlinks at the end of abs (a path as the machine sees it), taking
 * absolute link targets relative to the root, as the machine would. Returns
 * the resolved path as the machine sees it; -ENOENT for a dangling link. */
int vhc_root_resolve(const struct vhc_root *r, const char *abs, char **ret);
