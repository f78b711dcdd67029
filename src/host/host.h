/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "config.h"
#include "err.h"
#include "root.h"
#include "rpmq.h"

/* What main() parsed, handed to each command. */
struct vhc_ctx {
        struct vhc_root *root;
        const char *config_path; /* --config, NULL: the root's */
        bool json;
        bool dry_run;
        bool defer; /* apply: mark the regeneration for the next apply instead of running it */
        bool first_boot; /* apply: also hand the isolated devices to vfio-pci now (the first-boot unit) */
        bool color; /* stdout is a tty and NO_COLOR is unset */
        bool reverting; /* the command is revert */
        struct vhc_err err;
};

/* Loads the config (--config or <root>/etc/...). */
int vhc_ctx_load_config(struct vhc_ctx *ctx, struct vhc_config *c);

/* Records the outcome of apply or revert (not --dry-run): error NULL on
 * success, else its one line. Logged to the journal (err when failed) and
 * written to last-run.json (lastrun.h); never fails: a record that cannot be
 * written is a warning after a success, and nothing more after a failure
 * (its error stays the one line on stderr). */
void vhc_outcome_record(struct vhc_ctx *ctx, const char *error);

/* Colour escapes, empty when ctx->color is off. */
const char *vhc_color(const struct vhc_ctx *ctx, const char *ansi);
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_BOLD "\033[1m"
#define ANSI_DIM "\033[2m"
#define ANSI_RESET "\033[0m"

/* Each returns 0 (exit 0), a positive exit code, or a negative errno with ctx->err set. */
int cmd_apply(struct vhc_ctx *ctx);
int cmd_revert(struct vhc_ctx *ctx);
int cmd_status(struct vhc_ctx *ctx);
int cmd_list(struct vhc_ctx *ctx);
int cmd_check(struct vhc_ctx *ctx);

/* JSON text as list, check and status print it (cmd-list.c): pretty, slashes
 * unescaped, a newline at the end. */
struct json_object;
/* "schema_version" of every --json output: raised when a key changes meaning
 * or goes away; a new key may come without it. docs/virt-host-config.8.scd
 * (JSON OUTPUT) lists every key. */
#define VHC_JSON_SCHEMA_VERSION 1

/* Terminal width (wrap.c): the columns of stdout's terminal, 0 when stdout is
 * not a terminal (then nothing is cut or wrapped: scripts get the full text). */
size_t vhc_terminal_columns(void);
/* Prints s, the cursor being at column col, wrapped at word boundaries to
 * cols with continuation lines indented to col, then a newline. cols 0, or
 * fewer than VHC_WRAP_MIN columns left: s on one line. */
#define VHC_WRAP_MIN 20
void vhc_print_wrapped(const char *s, size_t col, size_t cols);
void vhc_print_json(struct json_object *o);

/* The versions of the packages `check` and `status` report
 * (vhc_rpmq_reported_packages), from the root's rpm database (packages.c).
 * No database (Debian without rpm, a fake root): v.have_db is false and
 * nothing is shown; a database that cannot be read: error is its one line. */
struct vhc_packages {
        struct vhc_rpm_versions v;
        char *error;
};
int vhc_packages_read(const struct vhc_ctx *ctx, struct vhc_packages *ret); /* -ENOMEM only */
void vhc_packages_done(struct vhc_packages *p);
/* Adds "packages" ({name: ["VERSION-RELEASE", ...]}, null without a
 * database) and, on a read error, "packages_error" to o. */
void vhc_packages_json(const struct vhc_packages *p, struct json_object *o);
/* "packages:" lines as status prints its facts: one package per line,
 * "not installed" where there is none; nothing without a database. */
void vhc_packages_print(const struct vhc_ctx *ctx, const struct vhc_packages *p);
