/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "err.h"
#include "macro.h"

/* /etc/virt-host-config/virt-host-config.conf: "key = value" lines, "#" comments. */
enum vhc_isolate_mode {
        VHC_ISOLATE_AUTO,
        VHC_ISOLATE_NONE,
        VHC_ISOLATE_LIST,
};

enum vhc_memlock_mode {
        VHC_MEMLOCK_AUTO,      /* the host's RAM */
        VHC_MEMLOCK_SIZE,      /* memlock_bytes */
        VHC_MEMLOCK_UNLIMITED,
};

struct vhc_config {
        bool iommu;
        enum vhc_isolate_mode isolate;
        char **isolate_list; /* VHC_ISOLATE_LIST: normalized PCI addresses */
        enum vhc_memlock_mode memlock;
        uint64_t memlock_bytes;
};

void vhc_config_init(struct vhc_config *c);
void vhc_config_done(struct vhc_config *c);

/* Loads path; a missing file leaves every default (returns 0). Errors name the
 * file and line in e and return -EINVAL. */
int vhc_config_load(struct vhc_config *c, const char *path, struct vhc_err *e);
/* The same from a string; name is used in error messages. */
int vhc_config_load_string(struct vhc_config *c, const char *text, const char *name,
                           struct vhc_err *e);

/* "10G", "16384M", "512K", "1048576" (bytes) → bytes. -EINVAL, -ERANGE. */
int vhc_parse_size(const char *s, uint64_t *ret);
/* "0000:01:00.0" or "01:00.0" → "0000:01:00.0" in buf (13 bytes). -EINVAL. */
int vhc_parse_pci_address(const char *s, char buf[static 13]);
