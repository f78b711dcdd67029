/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "err.h"
#include "firmware.h"
#include "macro.h"
#include "topology.h"

/* libvirt domain XML for a KVM guest with VFIO passthrough, built as a libxml2
 * tree (libxml2 stays behind domxml.c). Pure: a description in, bytes out; the
 * same description gives the same bytes. */

enum vhc_guest_os {
        VHC_GUEST_WIN10,
        VHC_GUEST_WIN11,
        VHC_GUEST_LINUX,
        _VHC_GUEST_OS_MAX,
};

/* "win10" → VHC_GUEST_WIN10; -EINVAL for an unknown name. */
int vhc_guest_os_from_string(const char *s, enum vhc_guest_os *ret);
const char *vhc_guest_os_to_string(enum vhc_guest_os os);

struct vhc_guest_disk {
        const char *path;  /* as the machine sees it */
        uint64_t size_gib; /* > 0: a qcow2 volume the user still has to create */
        bool qcow2;        /* the image's format (size_gib > 0 implies it) */
};

/* One PCI function to pass through. Functions of one slot (same
 * domain:bus:slot) must be adjacent and go to one guest slot. */
struct vhc_guest_hostdev {
        unsigned domain, bus, slot, function;
};

struct vhc_guest {
        const char *name;
        uint64_t memory_kib;
        unsigned vcpus;
        enum vhc_guest_os os;
        const struct vhc_guest_disk *disks;
        size_t n_disks;
        char *const *cdroms;    /* installation ISOs, NULL-terminated (may be NULL): booted first */
        const char *virtio_win; /* the virtio-win driver ISO, after them; NULL: none */
        const struct vhc_guest_hostdev *hostdevs;
        size_t n_hostdevs;
        char *const *evdevs; /* /dev/input/by-id/... paths, NULL-terminated (may be NULL) */
        bool nvidia;         /* hidden KVM signature and a Hyper-V vendor_id (NVIDIA "Error 43") */
        bool hugepages;
        const struct vhc_pinning *pin; /* NULL: not pinned */
        bool topoext;                  /* AMD host: SMT pairs need topoext to show in the guest */
        const struct vhc_firmware *fw; /* NULL: <os firmware='efi'>, libvirt picks */
        const char *spice_listen;      /* NULL: 127.0.0.1 */
};

/* Renders the domain. ret gets the XML (NUL-terminated, len without it).
 * -EINVAL with e for a description that cannot make a domain. */
int vhc_domxml_render(const struct vhc_guest *g, char **ret, size_t *ret_len, struct vhc_err *e);

/* The edits of `virt-guest-xml patch`, on a domain written by any tool. */
struct vhc_domxml_edits {
        bool nvidia;
        bool hugepages;
        const struct vhc_topology *pin; /* non-NULL: pin the domain's vCPUs (vhc_topology_pick) */
        bool topoext;
};

/* Applies the edits to xml (len bytes) and returns the whole domain again,
 * everything else kept; applying them twice gives the same bytes as once.
 * name is the input's name for messages ("<stdin>"). -EINVAL with e for
 * input that is not a libvirt domain or a vCPU count the host cannot pin. */
int vhc_domxml_patch(const char *xml, size_t len, const char *name, const struct vhc_domxml_edits *ed,
                     char **ret, size_t *ret_len, struct vhc_err *e);

/* The <memory> of a libvirt domain (as libvirt keeps it in
 * /etc/libvirt/qemu/NAME.xml) in bytes, scaled by its unit attribute the way
 * libvirt scales it (none: KiB; b, bytes, k, KiB, KB, M, MiB, MB ... G, T, P,
 * E, case-insensitive), and its <name> ("" when it has none; ret_domain may be
 * NULL). name is the file's name for messages. -EINVAL with e for a file that
 * is not a domain or has no <memory> size. */
int vhc_domxml_memory(const char *xml, size_t len, const char *name, uint64_t *ret_bytes, char **ret_domain,
                      struct vhc_err *e);

/* The Hyper-V vendor_id value written for NVIDIA guests (at most 12 characters). */
#define VHC_HYPERV_VENDOR_ID "virtguestxml"
