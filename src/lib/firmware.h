/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "macro.h"
#include "root.h"

/* UEFI firmware for an x86_64 q35 guest, found on the machine: QEMU's
 * firmware descriptors (/etc/qemu/firmware over /usr/share/qemu/firmware, as
 * libvirt reads them), else the paths edk2-ovmf packages install
 * (/usr/share/edk2/ovmf on Fedora, /usr/share/OVMF on Debian). */
struct vhc_firmware {
        char *code;       /* the executable, as the machine sees the path */
        char *vars;       /* its NVRAM template */
        bool qcow2;       /* both files are qcow2 (libvirt >= 9.2 reads format=) */
        bool secure_boot; /* Secure Boot with Microsoft's keys enrolled; needs SMM */
        char *source;     /* the descriptor it came from, or NULL for a known path */
};

void vhc_firmware_done(struct vhc_firmware *f);

/* secure_boot: firmware with Secure Boot and enrolled keys (Windows 11);
 * otherwise firmware without Secure Boot. Among descriptors that match, the
 * first raw one in priority order wins (every libvirt reads raw), then the
 * first qcow2 one. Descriptors whose files are missing are skipped, as libvirt
 * skips them. -ENOENT (e untouched) when nothing is found; -EINVAL with e for
 * a descriptor that is not JSON. */
int vhc_firmware_find(const struct vhc_root *r, bool secure_boot, struct vhc_firmware *ret,
                      struct vhc_err *e);
