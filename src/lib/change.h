/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "macro.h"
#include "root.h"

/* The changes a transaction will make to the machine's files, computed
 * before anything is written (hostrole.h commits them). */

/* When a change to a file takes effect. */
enum vhc_effect {
        VHC_EFFECT_REBOOT,  /* kernel arguments, udev rule, modprobe.d, the initramfs */
        VHC_EFFECT_LOGIN,   /* limits.d: the next login of a member of group kvm */
        VHC_EFFECT_LIBVIRT, /* the QEMU hook: the next guest libvirt starts */
};

struct vhc_file_change {
        char *abs;  /* the path as the machine sees it */
        char *path; /* on this machine */
        char *old;  /* NULL: absent */
        size_t old_len;
        char *new;  /* NULL: to be removed */
        size_t new_len;
        mode_t mode;      /* of a new file */
        const char *what; /* what the file is for: "vfio-pci binding" */
        enum vhc_effect effect;
        /* The content stays; the file's modification time is set to now (the
         * order of two files' times means something to a tool that reads
         * them: see boot/stores.c). Shown nowhere, written by commit. */
        bool touch;
        /* Not NULL (with new NULL): a file of ours that someone edited; it is
         * removed by moving it to its path with this suffix (".rpmsave"),
         * out of what reads the directory, instead of deleted. */
        char *save;
        /* Not a file: what a tool keeps (rpm-ostree's kernel arguments and
         * initramfs-etc files). abs and path are a label ("rpm-ostree kargs"),
         * old and new that text before and after, for the diff; commit runs
         * argv (paths as the machine sees them, chrooted into another root)
         * instead of writing. NULL for a file. */
        char **argv;
};

struct vhc_changes {
        struct vhc_file_change *v; /* in the order they are written */
        size_t n;
        char **mkdirs; /* machine paths of directories to create first, parents first */
};

void vhc_changes_done(struct vhc_changes *c);

/* Adds a change of the file at abs (path: on this machine) from old to new
 * (either NULL: absent); nothing when both are the same. */
int vhc_changes_add(struct vhc_changes *c, const char *abs, const char *path, const char *old, size_t old_len,
                    const char *new, size_t new_len, mode_t mode, const char *what, enum vhc_effect effect);
/* A change made by running argv (see argv above); old and new are texts. */
int vhc_changes_add_command(struct vhc_changes *c, const char *label, const char *old, const char *new,
                            char *const *argv, const char *what, enum vhc_effect effect);
/* A touch of an existing file (see touch above). */
int vhc_changes_add_touch(struct vhc_changes *c, const char *abs, const char *path);
/* The change planned for abs, or NULL. */
const struct vhc_file_change *vhc_changes_find(const struct vhc_changes *c, const char *abs);

/* Adds to *l the directories from "/" down to dir (a machine path) that do
 * not exist on the machine yet, parents first, each once. -ENOTDIR if a file
 * stands in the way. */
/* -ENOLINK: dir (or one above it) is a link to a place that is not in the root. */
int vhc_missing_dirs(const struct vhc_root *r, const char *dir, char ***l);
