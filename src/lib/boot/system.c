/* SPDX-License-Identifier: MIT */
#include "system.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <systemd/sd-daemon.h>

/* lstat: a marker is a file that exists; which kind of file does not matter
 * (podman's .containerenv is a regular file, ostree's marker too). */
static int exists(const struct vhc_root *r, enum vhc_path p, bool *ret) {
        _cleanup_free_ char *path = vhc_root_path(r, p);
        struct stat st;

        if (!path)
                return -ENOMEM;
        *ret = lstat(path, &st) == 0;
        return 0;
}

static int is_dir(const struct vhc_root *r, enum vhc_path p, bool *ret) {
        _cleanup_free_ char *path = vhc_root_path(r, p);
        struct stat st;

        if (!path)
                return -ENOMEM;
        *ret = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        return 0;
}

/* /var on a read-only mount, as rpm-ostree's bubblewrap binds it. */
static int read_only(const struct vhc_root *r, enum vhc_path p, bool *ret) {
        _cleanup_free_ char *path = vhc_root_path(r, p);
        struct statvfs sv;

        if (!path)
                return -ENOMEM;
        *ret = statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
        return 0;
}

int vhc_system_detect(const struct vhc_root *r, struct vhc_system *ret) {
        struct vhc_system s = {.kind = VHC_SYSTEM_CLASSIC};
        bool ostree, containerenv, dockerenv, sys_kernel, var_ro;
        int k;

        if ((k = exists(r, VHC_PATH_OSTREE_BOOTED, &ostree)) < 0 ||
            (k = exists(r, VHC_PATH_CONTAINERENV, &containerenv)) < 0 ||
            (k = exists(r, VHC_PATH_DOCKERENV, &dockerenv)) < 0 ||
            (k = is_dir(r, VHC_PATH_SYS_KERNEL, &sys_kernel)) < 0 ||
            (k = read_only(r, VHC_PATH_VAR, &var_ro)) < 0 ||
            (k = exists(r, VHC_PATH_BOOTC_BIN, &s.bootc)) < 0)
                return k;

        if (containerenv) {
                s.kind = VHC_SYSTEM_IMAGE_BUILD;
                s.evidence = "/run/.containerenv";
        } else if (dockerenv) {
                s.kind = VHC_SYSTEM_IMAGE_BUILD;
                s.evidence = "/.dockerenv";
        } else if (ostree && (var_ro || !sys_kernel)) {
                s.kind = VHC_SYSTEM_OSTREE_SANDBOX;
                s.evidence =
                        var_ro ? "/run/ostree-booted, /var read-only" : "/run/ostree-booted, no /sys/kernel";
        } else if (ostree) {
                s.kind = VHC_SYSTEM_OSTREE;
                s.evidence = "/run/ostree-booted";
        } else if (vhc_root_is_host(r) && sd_booted() <= 0) {
                /* A build container that left no marker (docker's BuildKit
                 * writes no /.dockerenv): not booted by systemd, and no IOMMU
                 * to plan from. A chroot on a booted host sees its /sys. */
                bool groups;

                if ((k = is_dir(r, VHC_PATH_SYS_IOMMU_GROUPS, &groups)) < 0)
                        return k;
                if (!groups) {
                        s.kind = VHC_SYSTEM_IMAGE_BUILD;
                        s.evidence = "sd_booted() false, no /sys/kernel/iommu_groups";
                }
        }
        *ret = s;
        return 0;
}

static const char *const kind_names[_VHC_SYSTEM_MAX] = {
        [VHC_SYSTEM_CLASSIC] = "classic",
        [VHC_SYSTEM_OSTREE] = "ostree",
        [VHC_SYSTEM_OSTREE_SANDBOX] = "ostree-sandbox",
        [VHC_SYSTEM_IMAGE_BUILD] = "image-build",
};

static const char *const kind_descriptions[_VHC_SYSTEM_MAX] = {
        [VHC_SYSTEM_CLASSIC] = "classic (packages installed with dnf)",
        [VHC_SYSTEM_OSTREE] = "rpm-ostree (a booted deployment)",
        [VHC_SYSTEM_OSTREE_SANDBOX] = "rpm-ostree scriptlet sandbox (a deployment being composed)",
        [VHC_SYSTEM_IMAGE_BUILD] = "container or bootc image build",
};

const char *vhc_system_kind_to_string(enum vhc_system_kind k) {
        return (unsigned)k < _VHC_SYSTEM_MAX ? kind_names[k] : NULL;
}

const char *vhc_system_kargs_where(const struct vhc_system *s) {
        switch (s->kind) {
        case VHC_SYSTEM_OSTREE:
                return "rpm-ostree kargs (the next deployment), the initramfs through rpm-ostree initramfs-etc";
        case VHC_SYSTEM_OSTREE_SANDBOX:
                return "nowhere here: the booted deployment sets them with rpm-ostree kargs";
        case VHC_SYSTEM_IMAGE_BUILD:
                return s->bootc ? "the image's /usr/lib/bootc/kargs.d; the booted machine plans its devices"
                                : "nowhere here: the machine that boots the image sets them";
        default:
                return "the boot loader's files";
        }
}

const char *vhc_system_kind_describe(enum vhc_system_kind k) {
        return (unsigned)k < _VHC_SYSTEM_MAX ? kind_descriptions[k] : NULL;
}
