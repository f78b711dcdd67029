/* SPDX-License-Identifier: MIT */
#pragma once

#include "detect.h"
#include "err.h"
#include "state.h"

/* Rebuilding the boot files from what the stores hold, with the machine's
 * own tools (detect.h):
 *   VHC_REGEN_BOOTLOADER  grub(2)-mkconfig -o grub.cfg, only where grub.cfg
 *                         holds the arguments (GRUB without BLS). With BLS
 *                         it never runs: Fedora's rewrites the options line
 *                         of every entry from /etc/default/grub.
 *   VHC_REGEN_INITRAMFS   dracut -f --regenerate-all (it writes where the
 *                         boot loader reads: /boot/initramfs-KVER.img, or the
 *                         entry's own initrd on the ESP), else
 *                         update-initramfs -u -k all.
 *   VHC_REGEN_UKI         kernel-install add KVER IMAGE for each installed
 *                         kernel: a unified kernel image carries the command
 *                         line and the initrd inside.
 * Every command run and every skip is logged (log.h). */

/* What a regeneration did. */
enum vhc_regen_result {
        VHC_REGEN_DONE = 0,            /* ran and succeeded (or had nothing to do: command NULL) */
        VHC_REGEN_SKIP_NOT_BOOTED = 1, /* "/" is not a booted system: command is what to run */
        VHC_REGEN_SKIP_NO_TOOL = 2,    /* the machine has no tool for it (command NULL) */
        VHC_REGEN_FAILED = 3,          /* ran and failed, or could not be started */
};

struct vhc_regen {
        /* The command line that ran or that the user should run, as one can
         * paste it into a shell ("chroot DIR ..." for another root); NULL when
         * nothing ran and there is nothing to run. */
        char *command;
        /* For a skip or a failure: one line for the user, saying what was not
         * done and what to do. NULL after success. */
        char *message;
        /* For a failure: the command's output (stdout and stderr), NULL if it
         * did not start. */
        char *output;
        int status; /* the exit status when it ran; -errno when it could not start */
};

void vhc_regen_done(struct vhc_regen *g);

/* Each returns a vhc_regen_result (ret filled), or a negative errno (OOM)
 * with e set. */
int vhc_boot_regenerate_bootloader(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e);
int vhc_boot_regenerate_initramfs(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e);
int vhc_boot_regenerate_ukis(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e);

/* Runs the steps of flags (VHC_REGEN_*), in that order. *ret_done gets the
 * steps that need nothing more: they succeeded, or the machine has no tool
 * for them (a later run could do no better; the line says so);
 * *ret_skipped those skipped on a system that is not booted (the line says
 * what to run there); *ret_lines one line per step for the user. Returns the number of steps that failed, or a negative errno. */
int vhc_regenerate(const struct vhc_boot *b, unsigned flags, unsigned *ret_done, unsigned *ret_skipped,
                   char ***ret_lines, struct vhc_err *e);

/* The steps a change needs on this machine: grub_defaults, kernel_cmdline:
 * those files changed; initramfs: what the initramfs carries changed. */
unsigned vhc_boot_regen_need(const struct vhc_boot *b, bool grub_defaults, bool kernel_cmdline, bool initramfs);

/* Whether kernel-install can rebuild the unified kernel images: NULL if it
 * can, else the reason, one phrase (static). */
const char *vhc_boot_uki_blocker(const struct vhc_boot *b);
