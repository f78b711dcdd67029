/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "root.h"

/* What /proc/cpuinfo says of the first CPU. */
enum vhc_cpu_vendor {
        VHC_CPU_OTHER,
        VHC_CPU_INTEL,
        VHC_CPU_AMD, /* AuthenticAMD and HygonGenuine */
};

struct vhc_cpuinfo {
        enum vhc_cpu_vendor vendor;
        char vendor_id[32];
        char model_name[128];
        unsigned family, model;
        bool vmx, svm, pdpe1gb;
        unsigned phys_bits; /* "address sizes: N bits physical"; 0: not said */
        unsigned n_cpus; /* "processor" entries */
};

int vhc_cpuinfo_parse(const char *text, struct vhc_cpuinfo *ret);
int vhc_cpuinfo_read(const struct vhc_root *r, struct vhc_cpuinfo *ret, struct vhc_err *e);
