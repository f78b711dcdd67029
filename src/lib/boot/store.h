/* SPDX-License-Identifier: MIT */
#pragma once

#include "detect.h"
#include "err.h"
#include "kargs.h"

/* One kind of place where kernel arguments live, behind one interface: it
 * reads a file of its kind and hands the owned-argument engine (kargs.h) a
 * target that edits it in memory; the planner (stores.h) does the rest the
 * same for every kind. One file each: store-grub.c, store-bls.c,
 * store-cmdline.c, store-ostree.c. */

/* One file of a store, open for editing. */
struct vhc_store_file {
        struct vhc_kargs_target target;
        void *obj;
        const char *(*text)(const void *obj, size_t *ret_len); /* the text after the edits */
        void (*free)(void *obj);
        char **readonly; /* owned: target.readonly */
        char *label;     /* for status: "/etc/default/grub", "entry 6.17.7-300.fc43" */
};

void vhc_store_file_done(struct vhc_store_file *f);

struct vhc_store {
        const char *name; /* in the records: "grub-defaults", "bls-entry", "kernel-cmdline" */
        const char *what; /* what the file is for, in the list of changes */
        /* Parses text (the bytes of the file at abs) into *ret. -EINVAL (e
         * naming the file and line) for what cannot be edited safely. */
        int (*open)(const struct vhc_boot *b, const char *abs, const char *text, size_t len,
                    struct vhc_store_file *ret, struct vhc_err *e);
        /* A store that is not a file (rpm-ostree): reads its text with its
         * tool; NULL: the file at abs is read. */
        int (*read)(const struct vhc_boot *b, char **ret_text, size_t *ret_len, struct vhc_err *e);
        /* ... and the command that makes the edits done on obj (argv, paths as
         * the machine sees them); *ret NULL when there are none. */
        int (*command)(const struct vhc_boot *b, const void *obj, char ***ret);
};

extern const struct vhc_store vhc_store_grub_defaults;
extern const struct vhc_store vhc_store_bls_entry;
extern const struct vhc_store vhc_store_kernel_cmdline;
extern const struct vhc_store vhc_store_rpm_ostree;

/* What the records of the rpm-ostree store name as their file: the
 * deployments whose arguments rpm-ostree edits. */
#define VHC_STORE_OSTREE_FILE "/ostree/deploy"

/* Runs argv (rpm-ostree, as the machine sees it) on the machine: chrooted
 * into another root. As vhc_spawn(). */
int vhc_store_ostree_run(const struct vhc_boot *b, char *const *argv, char **ret_output, int *ret_status);
/* The /etc files rpm-ostree carries into the initramfs of the pending (else
 * the booted) deployment, as `rpm-ostree initramfs-etc` lists them. Errors
 * name rpm-ostree. */
int vhc_store_ostree_tracked(const struct vhc_boot *b, char ***ret, struct vhc_err *e);

/* By the name a record holds; NULL if unknown. */
const struct vhc_store *vhc_store_by_name(const char *name);

/* The engine's callbacks for a text of kline.h (bls and cmdline stores). */
struct vhc_kline;
void vhc_store_kline_target(struct vhc_store_file *f, const struct vhc_store *s, const char *abs, const char *var,
                            struct vhc_kline *k);
