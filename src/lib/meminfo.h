/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "err.h"
#include "root.h"

/* What /proc/meminfo says, in bytes. */
struct vhc_meminfo {
        uint64_t total;
        uint64_t hugepages_total; /* pages */
        uint64_t hugepages_free;  /* pages */
        uint64_t hugepage_size;   /* bytes */
};

int vhc_meminfo_parse(const char *text, struct vhc_meminfo *ret);
int vhc_meminfo_read(const struct vhc_root *r, struct vhc_meminfo *ret, struct vhc_err *e);
