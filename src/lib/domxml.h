/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "cpuinfo.h"
#include "err.h"
#include "firmware.h"
#include "macro.h"
#include "topology.h"

/* libvirt domain XML for a KVM guest with VFIO passthrough, built as a libxml2
 * tree (libxml2 stays behind domxml.c). Pure: a description in, bytes out; the
 * same description gives the same bytes.
 *
 * A new guest is a plain domain (what virt-install would write) with the
 * edits of struct vhc_domxml_edits applied; `patch` applies the very same
 * edits, through the same code, to a domain written by another tool. */

enum vhc_guest_os {
        VHC_GUEST_WIN10,
        VHC_GUEST_WIN11,
        VHC_GUEST_LINUX,
        _VHC_GUEST_OS_MAX,
};

/* "win10" → VHC_GUEST_WIN10; -EINVAL for an unknown name. */
int vhc_guest_os_from_string(const char *s, enum vhc_guest_os *ret);
const char *vhc_guest_os_to_string(enum vhc_guest_os os);

/* libvirt's own version encoding: major * 1000000 + minor * 1000 + micro. */
#define VHC_LIBVIRT_VERSION(major, minor, micro) ((major)*1000000u + (minor)*1000u + (micro))
/* What the domain XML relies on, by the libvirt release that brought it. */
#define VHC_LIBVIRT_FIRMWARE_FEATURES                                                                       \
        VHC_LIBVIRT_VERSION(7, 2, 0)                          /* <os firmware='efi'><firmware><feature> */
#define VHC_LIBVIRT_FWCFG VHC_LIBVIRT_VERSION(6, 5, 0)        /* <sysinfo type='fwcfg'> */
#define VHC_LIBVIRT_AUDIO VHC_LIBVIRT_VERSION(7, 2, 0)        /* <audio> backends */
#define VHC_LIBVIRT_QEMU_JSON VHC_LIBVIRT_VERSION(7, 9, 0)    /* QEMU JSON -device/-object */
#define VHC_LIBVIRT_HYPERV_AVIC VHC_LIBVIRT_VERSION(8, 10, 0) /* <hyperv><avic> */
#define VHC_LIBVIRT_PIPEWIRE VHC_LIBVIRT_VERSION(9, 10, 0)    /* <audio type='pipewire'> */

/* A libvirt library's file name, "libvirt.so.0.9000.0" (libvirt's build
 * names it libvirt.so.0.<major * 1000 + minor>.<micro>), → its version;
 * -EINVAL for any other name. */
int vhc_libvirt_version_parse(const char *name, unsigned *ret);

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

/* Where the guest's sound goes. */
enum vhc_audio {
        VHC_AUDIO_SPICE,      /* to the SPICE client (libvirt's default with SPICE) */
        VHC_AUDIO_PULSEAUDIO, /* to the PulseAudio socket in runtime_dir (pipewire-pulse too) */
        VHC_AUDIO_PIPEWIRE,   /* to PipeWire in runtime_dir (libvirt >= 9.10) */
        VHC_AUDIO_KEEP,       /* patch: leave the domain's audio as it is */
};

/* A ROM file for a passed function (<rom file=...> in its hostdev): what the
 * guest's firmware runs instead of the card's own ROM. */
struct vhc_guest_rom {
        struct vhc_guest_hostdev dev; /* one of edits.hostdevs */
        const char *file;             /* absolute, as the machine sees it */
};

/* Looking Glass: the IVSHMEM device its host application writes the frames to. */
struct vhc_looking_glass {
        unsigned size_mib;  /* 0: no Looking Glass; else a power of two (vhc_looking_glass_size_mib) */
        bool kvmfr;         /* /dev/kvmfr0 of the kvmfr module (<qemu:commandline>), else
                               <shmem> on /dev/shm/looking-glass */
        bool legacy_syntax; /* libvirt < 7.9: QEMU's key=value syntax for kvmfr */
};

/* The edits that a new guest gets and that `patch` applies. Everything here
 * but the choices of the user comes from the host (see virt-guest-xml(1)). */
struct vhc_domxml_edits {
        enum vhc_cpu_vendor vendor; /* the host CPU's: evmcs on Intel, topoext on AMD */
        bool no_nested;             /* kvm_intel nested=N: no evmcs (QEMU would refuse it) */
        unsigned libvirt;           /* the host's libvirt (VHC_LIBVIRT_VERSION); 0: unknown, taken as new */
        const struct vhc_topology *pin; /* non-NULL: pin the domain's vCPUs (vhc_topology_pick) */
        bool hugepages;
        int nvidia; /* 1: "Error 43" settings; 0: none; -1: when a hostdev is one of nvidia_devs */
        const struct vhc_guest_hostdev *nvidia_devs; /* the host's NVIDIA functions, for -1 */
        size_t n_nvidia_devs;
        const struct vhc_guest_hostdev *hostdevs; /* to pass through, whole slots, adjacent */
        size_t n_hostdevs;
        char *const *evdevs; /* /dev/input/by-id/... paths, NULL-terminated (may be NULL) */
        enum vhc_audio audio;
        const char *audio_dir; /* the user's runtime directory (/run/user/1000) for PulseAudio, PipeWire */
        struct vhc_looking_glass lg;
        /* > 0: OVMF's 64-bit PCI MMIO window in MiB, opt/ovmf/X-PciMmio64Mb in
         * <sysinfo type="fwcfg"> (a larger value the domain has stays) */
        uint64_t mmio64_mib;
        const struct vhc_guest_rom *roms; /* <rom file=...> for these hostdevs */
        size_t n_roms;
};

/* What the edits did, for the notes of the caller. */
struct vhc_domxml_result {
        struct vhc_pinning pin; /* the pinning, when edits.pin was given */
        unsigned n_domains;     /* patch: the domains in the input (virt-install writes 2 for a CD-ROM) */
        bool boot_from_install; /* patch: the boot order came from virt-install's installation domain */
        bool evmcs;             /* the Hyper-V list has evmcs */
        unsigned root_ports_added;
        bool tpm_emulator; /* the domain has a TPM that libvirt emulates with swtpm */
};

void vhc_domxml_result_done(struct vhc_domxml_result *r);

struct vhc_guest {
        const char *name;
        uint64_t memory_kib;
        unsigned vcpus;
        enum vhc_guest_os os;
        const struct vhc_guest_disk *disks;
        size_t n_disks;
        char *const *cdroms;           /* installation ISOs, NULL-terminated (may be NULL): booted first */
        const char *virtio_win;        /* the virtio-win driver ISO, after them; NULL: none */
        const struct vhc_firmware *fw; /* NULL: <os firmware='efi'>, libvirt picks from the descriptors */
        const char *spice_listen;      /* NULL: 127.0.0.1 */
        struct vhc_domxml_edits ed;
};

/* Renders the domain. ret gets the XML (NUL-terminated, len without it); res
 * (may be NULL) what the edits did, to be freed with vhc_domxml_result_done.
 * -EINVAL with e for a description that cannot make a domain or a vCPU count
 * the host cannot pin. */
int vhc_domxml_render(const struct vhc_guest *g, char **ret, size_t *ret_len, struct vhc_domxml_result *res,
                      struct vhc_err *e);

/* Applies the edits to xml (len bytes) and returns the whole domain again,
 * everything else kept in its bytes where the edits leave it alone: the text
 * before and after the domain as it was, attributes in the input's quotes, its
 * indentation. Applying them twice gives the same bytes as once. Input with
 * several domains one after the other (virt-install --print-xml for a CD-ROM
 * installation: the installation's, then the guest's) gives the last one,
 * booting as the first did. name is the input's name for messages
 * ("<stdin>"). -EINVAL with e for input that is not a libvirt domain or a vCPU
 * count the host cannot pin. */
int vhc_domxml_patch(const char *xml, size_t len, const char *name, const struct vhc_domxml_edits *ed,
                     char **ret, size_t *ret_len, struct vhc_domxml_result *res, struct vhc_err *e);

/* The <memory> of a libvirt domain (as libvirt keeps it in
 * /etc/libvirt/qemu/NAME.xml) in bytes, scaled by its unit attribute the way
 * libvirt scales it (none: KiB; b, bytes, k, KiB, KB, M, MiB, MB ... G, T, P,
 * E, case-insensitive), and its <name> ("" when it has none; ret_domain may be
 * NULL). name is the file's name for messages. -EINVAL with e for a file that
 * is not a domain or has no <memory> size. */
int vhc_domxml_memory(const char *xml, size_t len, const char *name, uint64_t *ret_bytes, char **ret_domain,
                      struct vhc_err *e);

/* Whether s can stand in a domain's XML as libvirt takes it: valid UTF-8
 * (no overlong form, surrogate or code point past U+10FFFF) without control
 * characters (C0, DEL, C1): another C0 control is not well-formed XML, and a
 * newline in a path or name fails libvirt's schema. */
bool vhc_domxml_string_ok(const char *s);
/* An address libvirt's schema takes for <listen address=...>: IPv4, IPv6 or
 * a DNS name ([A-Za-z0-9.-]+). */
bool vhc_domxml_listen_ok(const char *s);

/* Looking Glass's documented size of the shared memory for frames of
 * width x height at 4 bytes a pixel (SDR): two frames, plus 10 MiB, rounded up
 * to a power of two, in MiB (1920x1080: 32, 2560x1440: 64, 3840x2160: 128).
 * -ERANGE past 16384x16384. */
int vhc_looking_glass_size_mib(unsigned width, unsigned height, unsigned *ret);
/* "2560x1440" → 2560, 1440; -EINVAL for anything else (both from 1 to 16384). */
int vhc_looking_glass_parse_resolution(const char *s, unsigned *ret_width, unsigned *ret_height);

/* The Hyper-V vendor_id value written for NVIDIA guests (at most 12 characters). */
#define VHC_HYPERV_VENDOR_ID "virtguestxml"
