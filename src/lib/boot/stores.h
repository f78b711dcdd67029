/* SPDX-License-Identifier: MIT */
#pragma once

#include "change.h"
#include "detect.h"
#include "err.h"
#include "state.h"

/* The kernel arguments of ours in every store the machine boots from
 * (detect.h), planned as file changes (change.h): nothing is written here.
 *
 * Each file has its own records (state.h). A boot entry that was not there
 * when apply ran (kernel-install made it from /etc/kernel/cmdline for a
 * kernel update) holds what /etc/kernel/cmdline held: the records of that
 * file stand for it (for a version 1 record, those of /etc/default/grub, from
 * which grub2-mkconfig made every entry). So revert takes out exactly ours
 * and leaves the user's own tokens.
 *
 * /etc/kernel/cmdline, where it is a store and absent, is created from its
 * base: /usr/lib/kernel/cmdline, else the tokens that every entry but the
 * rescue ones shares (without $variables, BOOT_IMAGE=, initrd= and
 * systemd.machine_id=, which kernel-install adds itself), else /proc/cmdline.
 * It is removed again once it holds exactly that base. Fedora's
 * 20-grub.install runs grub2-mkconfig when /etc/kernel/cmdline is older than
 * /etc/default/grub: the changes keep it the newer of the two if it was. */

/* What the plan changes. */
struct vhc_boot_edits {
        bool grub_defaults;  /* /etc/default/grub */
        bool entries;        /* a boot entry */
        bool kernel_cmdline; /* /etc/kernel/cmdline */
        bool ostree_kargs;   /* rpm-ostree kargs (a command to run) */
};

/* wanted: the arguments apply puts everywhere; NULL to revert. off: the
 * patterns of the user's arguments apply takes out (vhc_kargs_off()). Records of
 * what the stores hold of ours after the changes go to after (apply: with
 * the list of boot entries there are now). Warnings (one line each) go to
 * *warnings. Errors name the file (and line) and leave ch as it was
 * extended so far: the caller drops the whole transaction. */
int vhc_boot_plan(const struct vhc_boot *b, char *const *wanted, char *const *off, const struct vhc_state *before,
                  struct vhc_state *after, struct vhc_changes *ch, struct vhc_boot_edits *ret, char ***warnings,
                  struct vhc_err *e);

/* One place the kernel arguments of the next boot come from, and which of
 * the arguments asked about it holds. */
struct vhc_boot_place {
        char *kind;  /* "grub-defaults", "bls-entry", "kernel-cmdline", "uki" */
        char *label; /* "/etc/default/grub", "entry 6.17.7-300.fc43", "image linux-6.17.efi" */
        char *path;  /* as the machine sees it */
        char **present;
        char **missing;
        char *error; /* it could not be read: why (present and missing empty) */
};

struct vhc_boot_report {
        struct vhc_boot_place *v;
        size_t n;
};

void vhc_boot_report_done(struct vhc_boot_report *r);

/* Every store file and unified kernel image, with which of args it holds. */
int vhc_boot_report(const struct vhc_boot *b, char *const *args, struct vhc_boot_report *ret);
