/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "macro.h"
#include "root.h"
#include "system.h"

/* Where kernel arguments live on this machine, and what rebuilds the boot
 * files: found by what the machine has (files, directories, tools), never by
 * its name. Nothing is run.
 *
 * GRUB: /boot/grub2 (Fedora, RHEL: grub2-mkconfig) or /boot/grub (Debian,
 * Ubuntu: grub-mkconfig), a grub.cfg or the tool in it. With BLS
 * (GRUB_ENABLE_BLSCFG=true, or unset on Fedora's grub2 without
 * new-kernel-pkg, as its 10_linux decides) grub.cfg only calls blscfg: the
 * arguments live in /boot/loader/entries, and grub2-mkconfig must not run
 * (Fedora's rewrites the options line of every entry). Without BLS they live
 * in grub.cfg, which grub(2)-mkconfig makes from /etc/default/grub.
 *
 * systemd-boot: the EFI system partition where bootctl looks for it (/efi,
 * /boot, /boot/efi: the first with an EFI directory), with
 * EFI/systemd/systemd-boot*.efi or loader/loader.conf; it reads the type-1
 * entries in ESP/loader/entries (and /boot/loader/entries, an XBOOTLDR
 * partition) and the type-2 entries (unified kernel images) in
 * ESP/EFI/Linux.
 *
 * The stores (one file each in this folder):
 *   grub-defaults   /etc/default/grub, where GRUB boots the machine (or where
 *                   no boot loader is found at all: the only place known);
 *   bls-entry       each entry in a directory that a boot loader reads;
 *   kernel-cmdline  /etc/kernel/cmdline, from which kernel-install makes the
 *                   entries and images of new kernels: where it exists, and
 *                   created where entries or images are read;
 *   rpm-ostree      on a booted ostree system (system.h) the only store:
 *                   `rpm-ostree kargs` edits the arguments of the next
 *                   deployment. ostree writes each deployment's entry itself
 *                   and ignores /etc/default/grub, so none of the others is
 *                   a store there, and nothing is regenerated: the initramfs
 *                   takes our /etc files through `rpm-ostree initramfs-etc`. */

enum vhc_grub_kind {
        VHC_GRUB_NONE,
        VHC_GRUB_GRUB2, /* /boot/grub2, grub2-mkconfig */
        VHC_GRUB_GRUB,  /* /boot/grub, grub-mkconfig */
        _VHC_GRUB_MAX,
};

enum vhc_initramfs_kind {
        VHC_INITRAMFS_NONE,
        VHC_INITRAMFS_DRACUT,
        VHC_INITRAMFS_TOOLS, /* initramfs-tools (update-initramfs) */
        _VHC_INITRAMFS_MAX,
};

/* A loader/entries directory that a boot loader reads. */
struct vhc_entry_dir {
        char *path;      /* as the machine sees it */
        const char *reader; /* "GRUB", "systemd-boot", "GRUB and systemd-boot" */
        bool first_only; /* GRUB reads it: only an entry's first options line counts */
};

/* A kernel whose type-1 entry kernel-install made, in a directory that
 * systemd-boot reads: the entry is TOKEN-KVER.conf, TOKEN being
 * kernel-install's entry token (/etc/kernel/entry-token, else the machine
 * ID), KVER an installed kernel. kernel-install also put the entry's initrd
 * next to its kernel on that partition ($BOOT/TOKEN/KVER/): a generator run
 * on its own writes elsewhere (Debian's dracut: /boot/initrd.img-KVER), so
 * only kernel-install rebuilds what systemd-boot boots. */
struct vhc_ki_entry {
        char *kver;
        char *image; /* the kernel's image (kernels, kernel_images), as the machine sees it */
        char *entry; /* the entry file, as the machine sees it */
};

struct vhc_boot {
        const struct vhc_root *root;
        struct vhc_system system; /* what kind of system: decides the rest */
        char *rpm_ostree;         /* rpm-ostree as the machine sees it; NULL: none */

        enum vhc_grub_kind grub;
        char *grub_mkconfig;  /* the tool as the machine sees it; NULL: not installed */
        const char *grub_cfg; /* what it writes */
        bool blscfg;          /* grub.cfg reads the BLS entries */

        char *esp;   /* the EFI system partition's mount point; NULL: none */
        bool sdboot; /* systemd-boot is installed there */

        bool grub_defaults; /* /etc/default/grub is a store */
        struct vhc_entry_dir *entry_dirs;
        size_t n_entry_dirs;
        bool kernel_cmdline;        /* /etc/kernel/cmdline is a store */
        bool kernel_cmdline_exists; /* ... and exists now (else it is created) */
        char **ukis;                /* unified kernel images, as the machine sees them */

        char *kernel_install; /* kernel-install, as the machine sees it; NULL: none */
        char **kernels;       /* installed kernel versions that have an image... */
        char **kernel_images; /* ... and that image, as the machine sees it */
        struct vhc_ki_entry *ki_entries;
        size_t n_ki_entries;
        /* A kernel-install plugin builds the initrd itself (dracut's
         * 50-dracut.install: Fedora); without one, kernel-install takes
         * /boot/initrd.img-KVER (Debian's 85-initrd.install). */
        bool ki_makes_initrd;

        enum vhc_initramfs_kind initramfs;
        char *initramfs_tool; /* as the machine sees it; NULL: none */

        /* For the running system ("/"), sd_booted(): > 0 booted; <= 0 a
         * chroot, container or image build, where nothing is regenerated.
         * For another root always 1: the tools run chrooted into it. */
        int booted;

        /* What runs the owed rebuilds again, for the messages: "apply"
         * (NULL) or "revert". */
        const char *verb;
};

void vhc_boot_done(struct vhc_boot *b);

/* Errors: a /etc/default/grub that cannot be read (it says whether grub.cfg
 * reads the entries), OOM. */
int vhc_boot_detect(const struct vhc_root *r, struct vhc_boot *ret, struct vhc_err *e);

const char *vhc_grub_kind_to_string(enum vhc_grub_kind k);
const char *vhc_initramfs_kind_to_string(enum vhc_initramfs_kind k);

/* Whether grub.cfg holds the kernel arguments (GRUB without BLS): only then
 * does a change of /etc/default/grub need grub(2)-mkconfig. */
bool vhc_boot_grub_cfg_holds_args(const struct vhc_boot *b);

/* An executable regular file name in one of the program directories of the
 * machine; *ret is its path as the machine sees it, or NULL. */
int vhc_boot_find_tool(const struct vhc_root *r, const char *name, char **ret);

/* The names in the directory abs (as the machine sees it) that end in suffix
 * (case-insensitive; dot-files skipped), sorted; an absent directory has
 * none. */
int vhc_boot_list_dir(const struct vhc_root *r, const char *abs, const char *suffix, char ***ret);

/* The path of abs (as the machine sees it) on this machine, its links
 * followed inside the root. NULL on OOM; a path that cannot be resolved is
 * joined as written. */
char *vhc_boot_path(const struct vhc_root *r, const char *abs);
