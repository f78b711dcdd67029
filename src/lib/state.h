/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "karg-edit.h"
#include "macro.h"

/* The record of exactly what apply changed, so revert undoes only that:
 * <root>/var/lib/virt-host-config/state.json. Paths are as the machine sees
 * them. The record is written before a change is made and pruned after a
 * change is undone, so it always holds at least what is in the files. */

/* One kernel argument of ours in one place that holds arguments. */
struct vhc_karg_record {
        char *store;    /* the kind of place: "grub-defaults", "bls-entry", "kernel-cmdline", "rpm-ostree" */
        char *file;     /* "/etc/default/grub", "/boot/loader/entries/ID.conf", "/etc/kernel/cmdline";
                           "/ostree/deploy" for rpm-ostree kargs */
        char *var;      /* where in it: "GRUB_CMDLINE_LINUX", "options", "cmdline", "kargs" */
        char *arg;      /* what we put there: "intel_iommu=on" */
        char *replaced; /* the user's token we replaced ("intel_iommu=off"); NULL: we added arg */
        struct vhc_karg_edit edit; /* for an added arg */
        /* arg is the user's own token, which we took out because it turns the
         * IOMMU off ("amd_iommu=off", kargs.h): putting back cut (the bytes
         * taken: the token and one blank beside it) at cut_at (where the
         * store's text had them) restores it. replaced is NULL then. */
        bool removed;
        size_t cut_at;
        char *cut;
};

struct vhc_file_record {
        char *path;   /* "/etc/udev/rules.d/61-virt-host-config-vfio.rules" */
        char *sha256; /* of the content we wrote */
};

/* A file a store created to hold arguments (/etc/kernel/cmdline): once our
 * arguments are out of it again and it holds exactly base, it is removed. */
struct vhc_created_record {
        char *path;
        char *base;
};

/* Boot-file rebuilds still owed (a failed or skipped regeneration, or one an
 * "apply --defer" left to the next run). */
enum {
        VHC_REGEN_BOOTLOADER = 1 << 0, /* grub(2)-mkconfig: grub.cfg holds the arguments */
        VHC_REGEN_INITRAMFS = 1 << 1,  /* dracut or update-initramfs */
        VHC_REGEN_UKI = 1 << 2,        /* kernel-install add for each kernel: unified kernel images */
        _VHC_REGEN_ALL = (1 << 3) - 1,
};

struct vhc_state {
        struct vhc_karg_record *kargs; /* several equal records: as many tokens */
        size_t n_kargs;
        struct vhc_file_record *files;
        size_t n_files;
        struct vhc_created_record *created;
        size_t n_created;
        char **boot_entries; /* the boot entries apply saw: one not listed appeared since */
        unsigned pending;    /* VHC_REGEN_* */
        /* Read from a version 1 record (0.1.0): its arguments reached the boot
         * entries and /etc/kernel/cmdline through grub2-mkconfig, so there
         * the /etc/default/grub records stand for them. Not written. */
        bool from_v1;
        char **dirs;         /* directories we created, parents first */
        /* /etc files we made rpm-ostree carry into the initramfs
         * (`rpm-ostree initramfs-etc --track`): revert untracks these only.
         * Written as "initramfs_etc" when not empty. */
        char **initramfs_etc;
};

void vhc_state_init(struct vhc_state *s);
void vhc_state_done(struct vhc_state *s);
/* Nothing recorded at all. */
bool vhc_state_empty(const struct vhc_state *s);
/* Nothing of ours in any file and nothing pending (directories and the list
 * of boot entries may be left). */
bool vhc_state_clean(const struct vhc_state *s);

/* -ENOENT: no record (nothing applied). Errors name the file. Version 1
 * records (0.1.0) are read as version 2 with every argument in
 * /etc/default/grub. */
int vhc_state_load(struct vhc_state *s, const char *path, struct vhc_err *e);
int vhc_state_parse(struct vhc_state *s, const char *text, const char *name, struct vhc_err *e);
/* Strict JSON, the whole text (json-c's lax mode takes "{...,}" and ignores
 * what follows the first value); NULL if it is not. The records' parsers share it. */
struct json_object;
struct json_object *vhc_json_parse_strict(const char *text);
/* JSON text, deterministic, ending in a newline. */
int vhc_state_format(const struct vhc_state *s, char **ret);

/* Appends a record (an equal one may exist: each stands for one token). */
int vhc_state_add_karg(struct vhc_state *s, const struct vhc_karg_record *rec);
int vhc_state_add_file(struct vhc_state *s, const char *path, const char *sha256);
int vhc_state_add_created(struct vhc_state *s, const char *path, const char *base);
int vhc_state_add_entry(struct vhc_state *s, const char *path);
int vhc_state_add_dir(struct vhc_state *s, const char *dir);
int vhc_state_add_initramfs_etc(struct vhc_state *s, const char *path);
const struct vhc_file_record *vhc_state_find_file(const struct vhc_state *s, const char *path);
const struct vhc_created_record *vhc_state_find_created(const struct vhc_state *s, const char *path);
/* The records of ours in file (a machine path). */
bool vhc_state_has_file_kargs(const struct vhc_state *s, const char *file);
/* Whether two records say the same. */
bool vhc_karg_record_same(const struct vhc_karg_record *a, const struct vhc_karg_record *b);
/* A copy holding the records of both (a first, then what b adds; of equal
 * argument records as many as the one that has more). */
int vhc_state_union(const struct vhc_state *a, const struct vhc_state *b, struct vhc_state *ret);

/* "bootloader initramfs uki" order; the names the record uses. */
const char *vhc_regen_name(unsigned flag);
/* The names of the steps in flags, for the user: "initramfs, uki" ("" for
 * none). NULL on OOM. */
char *vhc_regen_names(unsigned flags);
