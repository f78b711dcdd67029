/* SPDX-License-Identifier: MIT */
#pragma once

#include "plan.h"

/* initramfs-tools (Debian, Ubuntu) reads no dracut.conf.d. What the dracut
 * drop-in does there is done by a hook script that mkinitramfs runs,
 * /etc/initramfs-tools/hooks/virt-host-config (mode 0755, executable or
 * mkinitramfs ignores it): force_load the vfio modules (included and loaded
 * first thing at boot) and copy the udev rule into the image's
 * /etc/udev/rules.d, which udev reads in the initramfs as on the host. One
 * whole file of ours, created and removed, rather than lines added to the
 * administrator's /etc/initramfs-tools/modules. */

/* The hook: "#!/bin/sh" on line 1, VHC_GENERATED_HEADER on line 2; *ret NULL
 * when nothing is isolated. -EINVAL unless udev_rule_abs is absolute and free
 * of spaces and shell characters. */
int vhc_render_initramfs_tools_hook(const struct vhc_plan *p, const char *udev_rule_abs, char **ret);
