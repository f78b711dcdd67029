/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "macro.h"
#include "root.h"

/* Kernel modules of the machine through libkmod (<root>/lib/modules/<release>,
 * configuration read under the root). libkmod stays behind this file. */
struct vhc_kmod;

/* release NULL: <root>/proc/sys/kernel/osrelease, else the newest directory
 * under <root>/lib/modules. */
int vhc_kmod_new(const struct vhc_root *r, const char *release, struct vhc_kmod **ret,
                 struct vhc_err *e);
struct vhc_kmod *vhc_kmod_free(struct vhc_kmod *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_kmod *, vhc_kmod_free);

const char *vhc_kmod_release(const struct vhc_kmod *k);

enum vhc_kmod_avail {
        VHC_KMOD_MISSING,
        VHC_KMOD_MODULE,
        VHC_KMOD_BUILTIN,
};
/* Whether a module ("vfio_pci", "vfio-pci") exists as a module or built in. */
enum vhc_kmod_avail vhc_kmod_available(struct vhc_kmod *k, const char *name);

/* Loads a module and its dependencies into the running kernel, as modprobe
 * does (loaded already or built in: 0). Only for the machine itself: a
 * caller with another --root must not call it. */
int vhc_kmod_load(struct vhc_kmod *k, const char *name, struct vhc_err *e);

/* The drivers (module names, NUL-terminated list, sorted, no duplicates)
 * that would claim a device with this modalias, as lspci -k finds them. */
int vhc_kmod_drivers_for(struct vhc_kmod *k, const char *modalias, char ***ret);
