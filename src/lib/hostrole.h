/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>
#include <sys/types.h>

#include "boot/detect.h"
#include "boot/stores.h"
#include "change.h"
#include "config.h"
#include "err.h"
#include "root.h"
#include "state.h"

/* apply and revert as transactions: first everything is read and the new
 * content of every file computed (nothing written), then the transaction is
 * shown as a diff (--dry-run) or committed. Commit writes the state record
 * before it changes a file and prunes it after it undoes one, and each file
 * atomically, so a crash leaves every file old or new and the record a
 * superset of what the files hold; the next run converges. */
struct vhc_txn {
        const struct vhc_root *root;
        struct vhc_changes ch; /* touches included (shown nowhere) */
        struct vhc_state before, after;
        bool had_state;
        bool reverting;
        struct vhc_system system;   /* what kind of system (boot/system.h), found before anything else */
        const char *hands_off;      /* not NULL: nothing was done here, and this line says why (static) */
        struct vhc_boot boot;       /* where kernel arguments live, what rebuilds the boot files */
        struct vhc_boot_edits edits; /* which kinds of kernel-argument store change */
        unsigned regen;              /* VHC_REGEN_* the changes need (after.pending has them too) */
        char **warnings;             /* one line each, for the user */
        char **state_dirs;   /* the state directory and parents that lock() created */
        bool made_state;     /* lock() made them, with a record that names them */
        bool committing;
        int lock_fd;
};

/* Whether apply and revert leave this kind of system alone, and why: NULL
 * where they act (classic, a booted ostree system); else one line for the
 * user naming what to run, and where. In rpm-ostree's scriptlet sandbox
 * nothing of the machine that will boot the deployment can be read or
 * changed (/var is read-only, /sys cut down); in a container or image build
 * the machine is the build machine: nothing is planned from its hardware and
 * nothing host-specific is written. The one place this is decided. */
const char *vhc_system_hands_off(const struct vhc_system *s, bool reverting);

void vhc_txn_init(struct vhc_txn *t, const struct vhc_root *r);
void vhc_txn_done(struct vhc_txn *t);

/* Takes the lock (flock on the root directory, which no run removes) before
 * anything is read; create: then make the state directory (apply). */
int vhc_txn_lock(struct vhc_txn *t, bool create, struct vhc_err *e);

int vhc_txn_plan_apply(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e);
int vhc_txn_plan_revert(struct vhc_txn *t, struct vhc_err *e);
int vhc_txn_commit(struct vhc_txn *t, struct vhc_err *e);
/* The whole run: find the kind of system (t->system; where
 * vhc_system_hands_off() says so, t->hands_off is set and nothing else is
 * done), lock (unless dry_run), plan apply (c) or revert (c NULL), commit
 * (unless dry_run); on failure the tree is left as the commit left it. */
int vhc_txn_run(struct vhc_txn *t, const struct vhc_config *c, bool dry_run, struct vhc_err *e);

/* After a failure: removes the state directory lock() made, unless a state
 * record was written into it. */
int vhc_txn_abort(struct vhc_txn *t);

/* After a commit: rebuilds the boot files still owed (after.pending: what
 * this transaction needs, and what an earlier one left), or with defer
 * leaves them pending. One line per step for the user goes to *ret_lines
 * (done, skipped with the command to run, or failed with what to run). The
 * state then keeps pending what failed, and after an apply what was skipped
 * as well (a revert drops skips: nothing of ours is left to rebuild for).
 * Returns the number of steps that failed, or a negative errno. */
int vhc_txn_regenerate(struct vhc_txn *t, bool defer, char ***ret_lines, struct vhc_err *e);

/* The number of file changes a user sees (touches not counted). */
size_t vhc_txn_n_shown(const struct vhc_txn *t);

/* A unified diff of every file the transaction changes. */
int vhc_txn_diff(const struct vhc_txn *t, FILE *f);
