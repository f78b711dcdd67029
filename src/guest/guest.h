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
        char **inputs;   /* --input, repeatable */
        const char *pin; /* --pin auto|none */
        const char *spice_listen;
        bool hugepages;
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

/* The host topology for --pin auto, and whether the host CPU is AMD (whose
 * SMT the guest sees only with topoext). */
int gx_read_topology(struct gx_ctx *ctx, struct vhc_topology **ret, bool *ret_amd);

/* Writes all of buf to stdout; -EIO (with ctx->err) when stdout fails. */
int gx_write_stdout(struct gx_ctx *ctx, const char *buf, size_t len);
