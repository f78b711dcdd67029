/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "grub-default.h"
#include "macro.h"

/* The record of exactly what apply changed, so revert undoes only that:
 * <root>/var/lib/virt-host-config/state.json. Paths are as the machine sees
 * them. The record is written before a change is made and pruned after a
 * change is undone, so it always holds at least what is in the files. */
struct vhc_karg_record {
        char *file;     /* "/etc/default/grub" */
        char *var;      /* "GRUB_CMDLINE_LINUX" */
        char *arg;      /* what we put there: "intel_iommu=on" */
        char *replaced; /* the user's token we replaced ("intel_iommu=off"); NULL: we added arg */
        struct vhc_grub_edit edit; /* for an added arg */
};

struct vhc_file_record {
        char *path;   /* "/etc/udev/rules.d/61-virt-host-config-vfio.rules" */
        char *sha256; /* of the content we wrote */
};

struct vhc_state {
        struct vhc_karg_record *kargs;
        size_t n_kargs;
        struct vhc_file_record *files;
        size_t n_files;
        char **dirs; /* directories we created, parents first */
};

void vhc_state_init(struct vhc_state *s);
void vhc_state_done(struct vhc_state *s);
bool vhc_state_empty(const struct vhc_state *s);

/* -ENOENT: no record (nothing applied). Errors name the file. */
int vhc_state_load(struct vhc_state *s, const char *path, struct vhc_err *e);
int vhc_state_parse(struct vhc_state *s, const char *text, const char *name, struct vhc_err *e);
/* JSON text, deterministic, ending in a newline. */
int vhc_state_format(const struct vhc_state *s, char **ret);

int vhc_state_add_karg(struct vhc_state *s, const struct vhc_karg_record *rec);
int vhc_state_add_file(struct vhc_state *s, const char *path, const char *sha256);
int vhc_state_add_dir(struct vhc_state *s, const char *dir);
const struct vhc_file_record *vhc_state_find_file(const struct vhc_state *s, const char *path);
/* A copy holding the records of both (a first, then what b adds). */
int vhc_state_union(const struct vhc_state *a, const struct vhc_state *b, struct vhc_state *ret);
