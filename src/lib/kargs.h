/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "cpuinfo.h"
#include "err.h"
#include "grub-default.h"
#include "karg-edit.h"
#include "state.h"

/* The owned-argument engine: the kernel arguments the config wants, put into
 * GRUB_CMDLINE_LINUX, and the record of exactly what was added or replaced.
 * An argument the user already has stays theirs; one that contradicts
 * (intel_iommu=off) is replaced and the original recorded. */

/* iommu=pt when iommu = yes, and intel_iommu=on on Intel CPUs; with
 * hugepages, default_hugepagesz=, hugepagesz= and hugepages= (in that order:
 * hugepages= counts pages of the hugepagesz= before it). */
int vhc_kargs_wanted(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, char ***ret);

/* The arguments that keep the IOMMU off on this CPU whatever follows them,
 * as KEY=ITEM patterns (an argument matches when it has that key and an item
 * of its comma-separated value starting with ITEM, as the kernel parses them):
 * with iommu = yes, "iommu=off" (arch/x86/kernel/pci-dma.c iommu_setup() sets
 * no_iommu, which no later value clears) and on AMD "amd_iommu=off"
 * (drivers/iommu/amd/init.c: amd_iommu_disabled, likewise). intel_iommu=off
 * is not one: the last of intel_iommu=on/off wins, so the engine replaces it
 * like any contradicting value. An empty list with iommu = no. */
int vhc_kargs_off(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, char ***ret);
/* Whether token matches one of the patterns of vhc_kargs_off(). */
bool vhc_kargs_matches_off(const char *token, char *const *off);
/* Whether token keeps the IOMMU off on some CPU: what a "removed" record may
 * name (state records are checked with it). */
bool vhc_kargs_turns_iommu_off(const char *token);

/* The static huge pages hugepages = SIZE reserves: 1 GiB pages where the CPU
 * has pdpe1gb, else 2 MiB, as many as hold SIZE (rounded up). */
struct vhc_hugepages {
        uint64_t page_size;
        uint64_t count;
};
void vhc_hugepages_for(uint64_t bytes, const struct vhc_cpuinfo *cpu, struct vhc_hugepages *ret);
/* The same, refused with an error naming the config line when the pages
 * would take more than 75% of mem_total (MemTotal, bytes): the host needs the
 * rest, and pages reserved at boot are never available to it. */
int vhc_hugepages_check(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, uint64_t mem_total,
                        struct vhc_hugepages *ret, struct vhc_err *e);

/* One place that holds kernel arguments, as the engine edits it: a grub
 * defaults file, a boot entry, /etc/kernel/cmdline. vars are the variables
 * whose tokens the kernel gets (vars[0] takes what is added); the callbacks
 * edit obj in memory, changing only the bytes of the argument concerned.
 * readonly: tokens the kernel also gets that this place cannot edit (grub
 * variables such as $kernelopts, expanded from grubenv); NULL: none. */
struct vhc_kargs_target {
        const char *store; /* for the records: "grub-defaults" */
        const char *file;  /* the machine path the records name */
        const char *const *vars;
        size_t n_vars;
        void *obj;
        /* The tokens of var, in order; an empty list if it is not set. */
        int (*tokens)(void *obj, const char *var, char ***ret, struct vhc_err *e);
        int (*append)(void *obj, const char *var, const char *arg, struct vhc_karg_edit *ret_edit,
                      struct vhc_err *e);
        /* -ENOENT if arg is not there. */
        int (*remove)(void *obj, const char *var, const char *arg, const struct vhc_karg_edit *edit,
                      struct vhc_err *e);
        int (*replace)(void *obj, const char *var, const char *old_arg, const char *new_arg, struct vhc_err *e);
        /* Takes the user's token arg out (the last exact one): the bytes cut
         * and where, so that put_back restores them. -ENOENT if it is not there. */
        int (*take_out)(void *obj, const char *var, const char *arg, size_t *ret_at, char **ret_cut,
                        struct vhc_err *e);
        /* Puts it back where take_out cut it, or at the end when the place is
         * not known any more (the file was edited, or the store cannot say). */
        int (*put_back)(void *obj, const char *var, const char *arg, size_t at, const char *cut,
                        struct vhc_err *e);
        char *const *readonly;
};

/* Makes the target hold every wanted argument and none that an earlier apply
 * (records in old) put there and the config no longer wants. The records of
 * what it now holds of ours are added to new_state. A wanted argument the
 * kernel gets already (the user's own, or in readonly) is left alone; a token
 * that contradicts one (same parameter, other value) is replaced by it, and
 * the original recorded; one in readonly cannot be, and is an error. Then
 * every token left that matches off (vhc_kargs_off(); NULL: none) is taken
 * out, and recorded as removed so that revert puts it back where it was. */
int vhc_kargs_apply(const struct vhc_kargs_target *t, char *const *wanted, char *const *off,
                    const struct vhc_state *old, struct vhc_state *new_state, struct vhc_err *e);

/* Undoes every record of old that names the target's file, newest first. */
int vhc_kargs_revert(const struct vhc_kargs_target *t, const struct vhc_state *old, struct vhc_err *e);

/* The target for a parsed grub defaults file (GRUB_CMDLINE_LINUX, then
 * GRUB_CMDLINE_LINUX_DEFAULT). */
void vhc_kargs_grub_target(struct vhc_grub *g, const char *file, struct vhc_kargs_target *ret);
