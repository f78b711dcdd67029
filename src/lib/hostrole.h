/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "root.h"
#include "state.h"

/* What a transaction's changes need regenerated before the next boot. */
enum {
        VHC_REGEN_BOOTLOADER = 1 << 0, /* the kernel arguments changed */
        VHC_REGEN_INITRAMFS = 1 << 1,  /* what the initramfs carries changed */
};

/* apply and revert as transactions: first everything is read and the new
 * content of every file computed (nothing written), then the transaction is
 * shown as a diff (--dry-run) or committed. Commit writes the state record
 * before it changes a file and prunes it after it undoes one, and each file
 * atomically, so a crash leaves every file old or new and the record a
 * superset of what the files hold; the next run converges. */
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
        mode_t mode; /* of a new file */
        const char *what; /* what the file is for: "vfio-pci binding" */
        enum vhc_effect effect;
};

struct vhc_txn {
        const struct vhc_root *root;
        struct vhc_file_change *changes;
        size_t n_changes;
        struct vhc_state before, after;
        bool had_state;
        bool kargs_changed;  /* the kernel command line of the next boot changes */
        char **warnings;     /* one line each, for the user */
        char **mkdirs;       /* machine paths to create, parents first */
        char **state_dirs;   /* the state directory and parents that lock() created */
        int lock_fd;
};

void vhc_txn_init(struct vhc_txn *t, const struct vhc_root *r);
void vhc_txn_done(struct vhc_txn *t);

/* Takes the lock (flock on the state directory) before anything is read;
 * create: make the directory (apply) rather than skip locking when absent. */
int vhc_txn_lock(struct vhc_txn *t, bool create, struct vhc_err *e);

int vhc_txn_plan_apply(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e);
int vhc_txn_plan_revert(struct vhc_txn *t, struct vhc_err *e);
int vhc_txn_commit(struct vhc_txn *t, struct vhc_err *e);
/* The whole run: lock (unless dry_run), plan apply (c) or revert (c NULL),
 * commit (unless dry_run); on failure the tree is left as the commit left it. */
int vhc_txn_run(struct vhc_txn *t, const struct vhc_config *c, bool dry_run, struct vhc_err *e);

/* After a failure: removes the state directory lock() made, unless a state
 * record was written into it. */
int vhc_txn_abort(struct vhc_txn *t);

/* What must be regenerated, and for grubby (which edits each boot entry)
 * the arguments of ours that were added and removed. */
struct vhc_regen_need {
        unsigned flags; /* VHC_REGEN_* */
        char **added;
        char **removed;
};
void vhc_regen_need_done(struct vhc_regen_need *n);
int vhc_txn_regen_need(const struct vhc_txn *t, struct vhc_regen_need *ret);

/* The marker an "apply --defer" (rpm's %post) leaves so that the next apply
 * (%posttrans) regenerates once per transaction: read (empty if absent),
 * merge into it, remove it. */
int vhc_regen_marker_read(const struct vhc_root *r, struct vhc_regen_need *ret, struct vhc_err *e);
int vhc_regen_marker_add(const struct vhc_root *r, const struct vhc_regen_need *n, struct vhc_err *e);
int vhc_regen_marker_clear(const struct vhc_root *r, struct vhc_err *e);

/* Runs what n needs, with the tools the machine has. One line per step for
 * the user goes to *ret_lines (done, skipped with the command to run, or
 * failed with what to run). Returns the number of steps that failed, or a
 * negative errno. */
int vhc_regenerate(const struct vhc_root *r, const struct vhc_regen_need *n, char ***ret_lines,
                   struct vhc_err *e);

/* A unified diff of every file the transaction changes. */
int vhc_txn_diff(const struct vhc_txn *t, FILE *f);
