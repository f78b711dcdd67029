/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"
#include "root.h"

/* What kind of system the machine is, which decides where kernel arguments
 * live before any store is looked at: found by what the machine has, never
 * by its name (Silverblue, Kinoite, Bazzite and CoreOS are all "ostree").
 *
 *   classic        a package-based system (dnf, rpm): /etc/default/grub, the
 *                  BLS entries, /etc/kernel/cmdline (detect.h);
 *   ostree         a booted ostree deployment (/run/ostree-booted): ostree
 *                  makes the entries of each deployment, and only
 *                  `rpm-ostree kargs` changes their arguments;
 *   ostree-sandbox rpm-ostree's scriptlet sandbox while it composes a new
 *                  deployment (/run/ostree-booted, with /var read-only or no
 *                  /sys/kernel): nothing of the running machine can be read
 *                  or changed there;
 *   image-build    a container or bootc image build (/run/.containerenv,
 *                  /.dockerenv; for the running system also sd_booted()
 *                  false with no /sys/kernel/iommu_groups): the machine that
 *                  will boot the image is not this one, so nothing is
 *                  planned from it; image-mode kernel arguments live in
 *                  the TOML files of /usr/lib/bootc/kargs.d. */

enum vhc_system_kind {
        VHC_SYSTEM_CLASSIC,
        VHC_SYSTEM_OSTREE,
        VHC_SYSTEM_OSTREE_SANDBOX,
        VHC_SYSTEM_IMAGE_BUILD,
        _VHC_SYSTEM_MAX,
};

struct vhc_system {
        enum vhc_system_kind kind;
        /* What showed it, as the machine sees it ("/run/ostree-booted",
         * "/run/.containerenv", "sd_booted() false, no
         * /sys/kernel/iommu_groups"); NULL for classic. Static. */
        const char *evidence;
        /* /usr/bin/bootc exists (an image built for bootc, or a booted bootc
         * system): kargs.d files are read when the image is deployed. Not
         * /usr/lib/bootc: virt-host-config-host owns its kargs.d everywhere. */
        bool bootc;
};

/* Never fails on what the machine holds: an unreadable marker counts as
 * absent. -ENOMEM only. */
int vhc_system_detect(const struct vhc_root *r, struct vhc_system *ret);

/* "classic", "ostree", "ostree-sandbox", "image-build" (the names of status
 * --json and check --json); NULL if out of range. */
const char *vhc_system_kind_to_string(enum vhc_system_kind k);
/* For people: "classic (dnf)", "rpm-ostree (booted deployment)", ... */
const char *vhc_system_kind_describe(enum vhc_system_kind k);

/* Where the kernel arguments of this kind of system are set, for status and
 * check: "the boot loader's files", "rpm-ostree kargs (the next
 * deployment)", ...; one phrase (static). */
const char *vhc_system_kargs_where(const struct vhc_system *s);
