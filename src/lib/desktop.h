/* SPDX-License-Identifier: MIT */
#pragma once

#include "pcidev.h"
#include "root.h"

/* Whether a display device drives the host's desktop now: a DRM connector
 * of it whose status is "connected" (<root>/sys/bus/pci/devices/ADDR/drm/
 * cardN/cardN-NAME/status), or a process that holds its /dev/dri/cardN open
 * (<root>/proc/PID/fd, where readable: the display server). *ret is NULL
 * when neither, else one line: "HDMI-A-1 connected; /dev/dri/card1 open in
 * gnome-shell (pid 2101)". Returns 0 or -ENOMEM; what cannot be read
 * counts as not in use. */
int vhc_desktop_use(const struct vhc_root *r, const struct vhc_pci_dev *d, char **ret);

/* The warning for an isolated device in use: "0000:01:00.0 drives the
 * desktop now (...): the host display on that output goes dark at the
 * reboot, when vfio-pci takes the device". NULL on -ENOMEM. */
char *vhc_desktop_warning(const struct vhc_pci_dev *d, const char *use);
