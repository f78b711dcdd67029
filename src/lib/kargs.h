/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "cpuinfo.h"
#include "err.h"
#include "grub-default.h"
#include "state.h"

/* The owned-argument engine: the kernel arguments the config wants, put into
 * GRUB_CMDLINE_LINUX, and the record of exactly what was added or replaced.
 * An argument the user already has stays theirs; one that contradicts
 * (intel_iommu=off) is replaced and the original recorded. */

/* iommu=pt when iommu = yes, and intel_iommu=on on Intel CPUs. */
int vhc_kargs_wanted(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, char ***ret);

/* Makes g hold every wanted argument and none that an earlier apply (records
 * in old) put there and the config no longer wants. file is the path named in
 * records ("/etc/default/grub"). The records of what g now holds of ours are
 * added to new_state. */
int vhc_kargs_apply(struct vhc_grub *g, const char *file, char *const *wanted, const struct vhc_state *old,
                    struct vhc_state *new_state, struct vhc_err *e);

/* Undoes every record of old that names file, newest first. */
int vhc_kargs_revert(struct vhc_grub *g, const char *file, const struct vhc_state *old, struct vhc_err *e);
