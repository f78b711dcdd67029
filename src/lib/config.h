/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
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

enum vhc_cpu_governor {
        VHC_GOVERNOR_KEEP,
        VHC_GOVERNOR_PERFORMANCE, /* while any libvirt guest runs */
};

enum vhc_isolate_cpus_mode {
        VHC_ISOLATE_CPUS_NONE,
        VHC_ISOLATE_CPUS_AUTO, /* the cores virt-guest-xml --pin auto gives the largest guest */
        VHC_ISOLATE_CPUS_LIST, /* isolate_cpus_list */
};

struct vhc_config {
        bool iommu;
        enum vhc_isolate_mode isolate;
        char **isolate_list; /* VHC_ISOLATE_LIST: normalized PCI addresses */
        enum vhc_memlock_mode memlock;
        uint64_t memlock_bytes;
        uint64_t hugepages_bytes; /* 0: none */
        enum vhc_cpu_governor cpu_governor;
        enum vhc_isolate_cpus_mode isolate_cpus;
        char isolate_cpus_list[200]; /* VHC_ISOLATE_CPUS_LIST: a valid CPU list as written, "2-7,10-15" */
        bool vendor_reset; /* isolated devices on vendor-reset's list get its device-specific reset */
        bool looking_glass;          /* the host side of Looking Glass: the shm file, kvmfr */
        char looking_glass_user[33]; /* who runs the client: owner of /dev/shm/looking-glass; "" unset */
        unsigned looking_glass_width, looking_glass_height; /* the guest's largest resolution */

        /* Where the values came from, for the errors only apply can find
         * (against the host's RAM and CPUs): the file as loaded ("" for
         * defaults) and the line of each key (0: not set there). */
        char source[PATH_MAX];
        unsigned hugepages_line;
        unsigned isolate_cpus_line;
        unsigned looking_glass_line, looking_glass_user_line;
};

void vhc_config_init(struct vhc_config *c);
void vhc_config_done(struct vhc_config *c);

/* Loads path; a missing file leaves every default (returns 0). Errors name the
 * file and line in e and return -EINVAL. */
int vhc_config_load(struct vhc_config *c, const char *path, struct vhc_err *e);
/* The same for a file named on the command line (--config): a missing file
 * is an error (-ENOENT, with e). */
int vhc_config_load_named(struct vhc_config *c, const char *path, struct vhc_err *e);
/* The same from a string; name is used in error messages. */
int vhc_config_load_string(struct vhc_config *c, const char *text, const char *name,
                           struct vhc_err *e);

/* Records an error about a value of c found after loading: "FILE:LINE: key: msg"
 * when line is known, else "key: msg". Returns -EINVAL. */
int vhc_config_err(const struct vhc_config *c, struct vhc_err *e, unsigned line, const char *fmt, ...)
        _printf_(4, 5);

/* "10G", "16384M", "512K", "1048576" (bytes) → bytes. -EINVAL, -ERANGE. */
int vhc_parse_size(const char *s, uint64_t *ret);
/* "0000:01:00.0" or "01:00.0" → "0000:01:00.0" in buf (13 bytes). -EINVAL. */
int vhc_parse_pci_address(const char *s, char buf[static 13]);
