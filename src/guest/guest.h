/* SPDX-License-Identifier: MIT */
#pragma once

#include "domxml.h"
#include "err.h"
#include "root.h"
#include "topology.h"

#define PROG "virt-guest-xml"

/* What main() parsed; every command reads the options that are its own. */
struct gx_opts {
        const char *root_dir;    /* --root */
        const char *config_path; /* --config */
        const char *name;
        const char *memory;
        const char *vcpus;
        const char *os;
        char **disks;    /* --disk, repeatable */
        char **cdroms;   /* --cdrom, repeatable */
        char **hostdevs; /* --hostdev, repeatable */
        char **evdevs;   /* --input evdev:PATH, repeatable: the PATHs */
        char **roms;     /* --rom [ADDR=]FILE, repeatable */
        const char *pin; /* --pin auto|none */
        const char *spice_listen;
        const char *audio; /* --audio auto|pipewire|pulseaudio|spice (patch: also keep); NULL: auto */
        const char *looking_glass; /* --looking-glass[=WxH]: "" for the default size; NULL: none */
        bool hugepages;
        bool diff;  /* patch --diff */
        bool patch; /* the command is patch */
        int nvidia; /* -1: automatic, 0: --no-nvidia, 1: --nvidia */
};

/* A command returns 0, an exit code (2 after gx_usage) or a negative errno
 * with err set: main() prints that as one line and exits 1. */
struct gx_ctx {
        const struct gx_opts *o;
        struct vhc_root *root;
        struct vhc_err err;
};

int cmd_create(struct gx_ctx *ctx);
int cmd_patch(struct gx_ctx *ctx);

/* A usage error on stderr, pointing to --help; returns 2, the exit code. */
int gx_usage(const char *fmt, ...) _printf_(1, 2);

/* One line for stderr, "virt-guest-xml: note: ..." or "...: warning: ...",
 * printed once the command has succeeded. */
void gx_note(const char *fmt, ...) _printf_(1, 2);
void gx_warn(const char *fmt, ...) _printf_(1, 2);

/* Writes all of buf to stdout; -EIO (with ctx->err) when stdout fails. */
int gx_write_stdout(struct gx_ctx *ctx, const char *buf, size_t len);

/* ---- host.c: what the guest's XML takes from the host -------------------- */

struct gx_host {
        struct vhc_domxml_edits ed;
        unsigned libvirt; /* the host's libvirt (VHC_LIBVIRT_VERSION); 0: none found */
        char *audio_dir;
        struct vhc_guest_hostdev *hostdevs, *nvidia_devs;
        struct vhc_guest_rom *roms;
        char **rom_files;
        bool any_nvidia; /* a device to pass is NVIDIA's */
};

void gx_host_done(struct gx_host *h);

/* The edits from the options and the host: CPU vendor, nested VMX, libvirt's
 * version, the sound server, Looking Glass's device. Notes say what was
 * chosen where the user must do something. 0, 2 (usage) or -errno. */
int gx_host_read(struct gx_ctx *ctx, struct gx_host *h);
/* --hostdev into h->ed.hostdevs; for patch also the host's NVIDIA functions
 * for an automatic --nvidia. 0, 2 (usage) or -errno. */
int gx_resolve_hostdevs(struct gx_ctx *ctx, struct gx_host *h, bool for_patch);
/* An absolute path as the machine sees it, for option opt: a relative one is
 * taken from the working directory, which only means something on the
 * running system. 0, 2 (usage) or -errno. */
int gx_absolute(struct gx_ctx *ctx, const char *opt, const char *path, char **ret);
int gx_read_topology(struct gx_ctx *ctx, struct vhc_topology **ret);
/* Notes on what the edits did: pinning across L3 domains or onto E-cores, a
 * TPM without swtpm on the host. */
void gx_result_notes(struct gx_ctx *ctx, const struct vhc_domxml_result *res);

/* The newest libvirt library in /usr/lib64, /usr/lib, /usr/lib/<triplet>; 0: none. */
unsigned gx_libvirt_version(const struct vhc_root *r);
void gx_libvirt_version_format(unsigned v, char buf[static 32]);
bool gx_have_program(const struct vhc_root *r, const char *name);
