/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "err.h"
#include "karg-edit.h"
#include "macro.h"

/* /etc/default/grub as the shell that grub2-mkconfig sources it sees it:
 * assignments in double, single or no quotes, backslash escapes, comments,
 * continuation lines, several assignments of one variable (the last wins) and
 * self-references ("$GRUB_CMDLINE_LINUX ..."). Edits touch only the bytes of
 * the argument they add, remove or replace; everything else stays as it was.
 * What cannot be read safely (unbalanced quotes, command substitution, other
 * variables in a value we edit, NUL bytes, carriage returns, lines over
 * 8 KiB) is -EINVAL with the line in e. The variables read and edited are
 * GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT; other assignments are
 * followed only as far as those two need them. */
struct vhc_grub;

int vhc_grub_parse(const char *text, size_t len, const char *name, struct vhc_grub **ret,
                   struct vhc_err *e);
struct vhc_grub *vhc_grub_free(struct vhc_grub *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_grub *, vhc_grub_free);

/* The file's text after the edits so far (NUL-terminated). */
const char *vhc_grub_text(const struct vhc_grub *g, size_t *ret_len);

/* The value of var once the file is sourced; -ENOENT if it is never assigned. */
int vhc_grub_get(const struct vhc_grub *g, const char *var, char **ret);

/* Appends arg (a kernel-argument token without shell specials) to the last
 * assignment of var, or adds a line VAR="arg" at the end if there is none. */
int vhc_grub_append_arg(struct vhc_grub *g, const char *var, const char *arg,
                        struct vhc_karg_edit *ret_edit, struct vhc_err *e);

/* Removes the last occurrence of the exact token arg from the value of var
 * (wherever in the file it was written), with the space the append put
 * before it; when edit says the line was added by us and nothing else is
 * left in it, the line goes too. -ENOENT if arg is not in the value. */
int vhc_grub_remove_arg(struct vhc_grub *g, const char *var, const char *arg,
                        const struct vhc_karg_edit *edit, struct vhc_err *e);

/* Replaces the last occurrence of the exact token old_arg in the value of var
 * by new_arg, where it is written. -ENOENT if old_arg is not there. */
int vhc_grub_replace_arg(struct vhc_grub *g, const char *var, const char *old_arg,
                         const char *new_arg, struct vhc_err *e);

/* Takes the last occurrence of the exact token arg out of the value of var,
 * with the blank (space or tab) after it, else the one before it: the bytes
 * taken (*ret_cut) and where they began in the text (*ret_at), so that
 * vhc_grub_put_back_arg() writes them back. -ENOENT if arg is not there. */
int vhc_grub_take_out_arg(struct vhc_grub *g, const char *var, const char *arg, size_t *ret_at, char **ret_cut,
                          struct vhc_err *e);
/* Puts cut back at offset at of the text, when that inserts exactly the token
 * arg into the value of var and changes no other token of it (the file is as
 * the take-out left it, or edited after that place); else appends arg, as
 * vhc_grub_append_arg() does. */
int vhc_grub_put_back_arg(struct vhc_grub *g, const char *var, const char *arg, size_t at, const char *cut,
                          struct vhc_err *e);
