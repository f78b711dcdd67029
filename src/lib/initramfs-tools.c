/* SPDX-License-Identifier: MIT */
#include "initramfs-tools.h"
#include "fileio.h"
#include "render.h"
#include "root.h"

int vhc_render_initramfs_tools_hook(const struct vhc_plan *p, const char *udev_rule_abs, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!udev_rule_abs || udev_rule_abs[0] != '/' ||
            strpbrk(udev_rule_abs, " \t\n\"'`$\\;&|<>()*?[]{}~#"))
                return -EINVAL;
        if (vhc_plan_count_isolated(p) == 0) {
                *ret = NULL;
                return 0;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        /* PREREQ udev: our copy lands in a tree the udev hook has set up. */
        fputs("#!/bin/sh\n" VHC_GENERATED_HEADER "\n"
              "#\n"
              "# initramfs-tools hook: vfio-pci must hold the isolated devices in the\n"
              "# initramfs already, before a GPU driver loads there: load the vfio modules\n"
              "# first and take the udev rule that reserves the devices.\n"
              "PREREQ=\"udev\"\n"
              "prereqs() { echo \"$PREREQ\"; }\n"
              "case \"$1\" in\n"
              "prereqs)\n"
              "        prereqs\n"
              "        exit 0\n"
              "        ;;\n"
              "esac\n"
              "\n"
              ". /usr/share/initramfs-tools/hook-functions\n"
              "\n"
              "force_load vfio\n"
              "force_load vfio_iommu_type1\n"
              "force_load vfio_pci\n"
              "mkdir -p \"${DESTDIR}/etc/udev/rules.d\"\n",
              f);
        fprintf(f, "cp -p %s \"${DESTDIR}/etc/udev/rules.d/\"\n", udev_rule_abs);
        /* The file the rule tests: where the package is gone and this hook
         * stayed, the rule goes in without it and matches nothing. */
        fprintf(f,
                "if [ -e %1$s ]; then\n"
                "        mkdir -p \"${DESTDIR}$(dirname %1$s)\"\n"
                "        cp -p %1$s \"${DESTDIR}%1$s\"\n"
                "fi\n",
                vhc_path_abs(VHC_PATH_RULE_MARKER));
        return vhc_memstream_finish(f, &buf, ret);
}
