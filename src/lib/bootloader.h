/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "macro.h"
#include "root.h"

/* The boot files a change of ours must be rebuilt into, and the tools that
 * rebuild them, chosen by what the machine has (never by its OS name).
 *
 * Boot loader configuration, the first that applies:
 *   GRUB2_MKCONFIG  grub2-mkconfig and /boot/grub2 (Fedora, RHEL):
 *                   grub2-mkconfig -o /boot/grub2/grub.cfg, plus
 *                   --update-bls-cmdline when GRUB_ENABLE_BLSCFG=true and the
 *                   tool's --help offers it (RHEL 9.3+, 10: without it the BLS
 *                   entries keep their old options). Never the stub that
 *                   Fedora 34+ keeps in /boot/efi/EFI/<os>/grub.cfg.
 *                   Except: GRUB_ENABLE_BLSCFG is not true, BLS entries exist
 *                   and grubby is there: GRUBBY, as grub2-mkconfig would then
 *                   not touch the entries' options.
 *   GRUB_MKCONFIG   grub-mkconfig and /boot/grub (Debian, Ubuntu):
 *                   grub-mkconfig -o /boot/grub/grub.cfg, which is all that
 *                   update-grub runs (update-grub is a wrapper that not every
 *                   GRUB build ships; its own kernel hook also checks /boot/grub).
 *   GRUBBY          grubby without the above: grubby --update-kernel=ALL
 *                   --remove-args=... --args=... with only our own arguments.
 *
 * initramfs: dracut when present (Fedora, and Debian hosts that switched to
 * it): dracut -f --regenerate-all; else initramfs-tools' update-initramfs:
 * update-initramfs -u -k all. The two read different drop-ins: see
 * initramfs-tools.h for the hook initramfs-tools needs. */

enum vhc_bootcfg_kind {
        VHC_BOOTCFG_NONE,
        VHC_BOOTCFG_GRUB2_MKCONFIG,
        VHC_BOOTCFG_GRUB_MKCONFIG,
        VHC_BOOTCFG_GRUBBY,
        _VHC_BOOTCFG_MAX,
};

enum vhc_initramfs_kind {
        VHC_INITRAMFS_NONE,
        VHC_INITRAMFS_DRACUT,
        VHC_INITRAMFS_TOOLS, /* initramfs-tools (update-initramfs) */
        _VHC_INITRAMFS_MAX,
};

struct vhc_boot {
        const struct vhc_root *root;
        enum vhc_bootcfg_kind bootcfg;
        char *bootcfg_tool;   /* the tool as the machine sees it ("/usr/sbin/grub2-mkconfig"); NULL: none */
        const char *grub_cfg; /* what grub(2)-mkconfig writes, as the machine sees it; NULL for grubby */
        bool blscfg;          /* GRUB_ENABLE_BLSCFG=true in /etc/default/grub */
        char *bootcfg_reason; /* with VHC_BOOTCFG_NONE: why, one phrase */
        enum vhc_initramfs_kind initramfs;
        char *initramfs_tool; /* as the machine sees it; NULL: none */
        /* For the running system ("/"), sd_booted(): > 0 booted; <= 0 a
         * chroot, container or image build, where nothing is regenerated.
         * For another root always 1: the tools run chrooted into it. */
        int booted;
};

void vhc_boot_done(struct vhc_boot *b);

/* Looks at the machine (reads /etc/default/grub, looks for the tools in
 * /usr/sbin, /usr/bin, /sbin, /bin and for /boot/grub2, /boot/grub,
 * /boot/loader/entries); runs nothing. */
int vhc_boot_detect(const struct vhc_root *r, struct vhc_boot *ret, struct vhc_err *e);

const char *vhc_bootcfg_kind_to_string(enum vhc_bootcfg_kind k);
const char *vhc_initramfs_kind_to_string(enum vhc_initramfs_kind k);

/* What a regeneration did. The values are the return values of the
 * vhc_boot_regenerate_*() functions. */
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

/* Rebuilds the boot loader configuration. args_added and args_removed are
 * the kernel arguments of ours that the change added and removed (NULL:
 * none); only the grubby method needs them, and runs nothing when both are
 * empty. Each must be one token without spaces or quotes (-EINVAL). Every
 * command run and every skip is logged (log.h). Returns a vhc_regen_result
 * (ret filled), or a negative errno (OOM, bad arguments) with e set. */
int vhc_boot_regenerate_bootloader(const struct vhc_boot *b, char *const *args_added,
                                   char *const *args_removed, struct vhc_regen *ret, struct vhc_err *e);

/* Rebuilds every initramfs of the machine. Same returns. */
int vhc_boot_regenerate_initramfs(const struct vhc_boot *b, struct vhc_regen *ret, struct vhc_err *e);
