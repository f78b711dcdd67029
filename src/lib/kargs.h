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

/* iommu=pt when iommu = yes, and intel_iommu=on on Intel CPUs; with
 * hugepages, default_hugepagesz=, hugepagesz= and hugepages= (in that order:
 * hugepages= counts pages of the hugepagesz= before it). */
int vhc_kargs_wanted(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, char ***ret);

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

/* Makes g hold every wanted argument and none that an earlier apply (records
 * in old) put there and the config no longer wants. file is the path named in
 * records ("/etc/default/grub"). The records of what g now holds of ours are
 * added to new_state. */
int vhc_kargs_apply(struct vhc_grub *g, const char *file, char *const *wanted, const struct vhc_state *old,
                    struct vhc_state *new_state, struct vhc_err *e);

/* Undoes every record of old that names file, newest first. */
int vhc_kargs_revert(struct vhc_grub *g, const char *file, const struct vhc_state *old, struct vhc_err *e);
