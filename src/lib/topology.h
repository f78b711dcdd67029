/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "macro.h"
#include "root.h"

/* The host's CPU topology as <root>/sys/devices/system/cpu shows it, grouped
 * into physical cores, and the choice of cores a pinned guest gets. Pure
 * reading and arithmetic: no printing. */

enum vhc_core_kind {
        VHC_CORE_ANY,         /* not a hybrid CPU */
        VHC_CORE_PERFORMANCE, /* listed in /sys/devices/cpu_core/cpus */
        VHC_CORE_EFFICIENCY,  /* listed in /sys/devices/cpu_atom/cpus */
};

/* One physical core: its hardware threads (siblings), ascending. */
struct vhc_core {
        unsigned *cpus;
        unsigned n_cpus;
        int package; /* physical_package_id */
        int die;     /* die_id, 0 when absent */
        int cluster; /* cluster_id, -1 when absent */
        int core_id; /* core_id */
        int l3;      /* the first CPU of the L3 cache's shared_cpu_list; -1: no L3 known */
        enum vhc_core_kind kind;
};

struct vhc_topology {
        struct vhc_core *cores; /* ordered by first CPU */
        size_t n_cores;
        unsigned n_cpus;  /* online CPUs */
        unsigned max_cpu; /* highest online CPU number */
        bool hybrid;      /* performance and efficiency cores */
};

/* Reads the online CPUs' topology. -ENOENT with e set when the root has no CPU
 * topology; -EINVAL with e for files that cannot be parsed. */
int vhc_topology_read(const struct vhc_root *r, struct vhc_topology **ret, struct vhc_err *e);
struct vhc_topology *vhc_topology_free(struct vhc_topology *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_topology *, vhc_topology_free);

/* Which host CPU each guest vCPU runs on. */
struct vhc_pinning {
        unsigned n_vcpus;
        unsigned *vcpu_cpu;    /* [n_vcpus]: vCPU i runs on host CPU vcpu_cpu[i] */
        unsigned cores;        /* guest topology: sockets = dies = 1, cores, threads */
        unsigned threads;      /* 2 when pinned to sibling pairs, else 1 */
        char *emulator_cpuset; /* the CPUs left to the host, "0-1,16-17" (never empty) */
        unsigned n_l3;         /* L3 domains the guest spans (0: unknown) */
        bool performance_only; /* hybrid CPU: only performance cores were used */
        unsigned n_efficiency; /* hybrid CPU: efficiency cores used, one vCPU each (then threads = 1) */
};

void vhc_pinning_done(struct vhc_pinning *p);

/* The cores a guest with vcpus vCPUs gets, as virt-guest-xml --pin auto picks
 * them (and isolate_cpus = auto, from the same code): whole physical cores
 * only (vCPU pairs on SMT siblings); never the core of CPU 0, which stays for
 * the host with every CPU the guest does not take; performance cores only on
 * a hybrid CPU, and when the guest has more vCPUs than their threads,
 * every free performance core's threads and then whole efficiency cores, one
 * vCPU each, the guest seeing vcpus single-thread cores; within one L3 domain when one has room (the one with the most
 * free cores, then the lowest), else across as few domains as that order
 * gives. -EINVAL with e when vcpus does not fit in whole cores (odd on SMT) or
 * the host has fewer free cores than needed: the message says how many vCPUs
 * it can take. */
int vhc_topology_pick(const struct vhc_topology *t, unsigned vcpus, struct vhc_pinning *ret,
                      struct vhc_err *e);

/* "0-3,8,10-11" → a sorted, deduplicated array. -EINVAL on bad syntax. */
int vhc_cpulist_parse(const char *s, unsigned **ret, unsigned *ret_n);
/* A sorted array → "0-3,8,10-11"; NULL on OOM. */
char *vhc_cpulist_format(const unsigned *cpus, unsigned n);
