/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "err.h"
#include "karg-edit.h"
#include "macro.h"

/* Kernel arguments written in a file that is not a shell script: a Boot
 * Loader Specification type-1 entry (its "options" lines) or
 * /etc/kernel/cmdline (the whole file). Tokens are split as the kernel splits
 * them (cmdline.h). Edits touch only the bytes of the argument they add,
 * remove or replace; every edit is proven by reading the text again.
 *
 * A BLS entry is read as both of its readers read it: a line is a key, blanks
 * (space, tab), the value; blank lines and lines starting with '#' (after
 * blanks) are skipped; a "\r" before the newline is not part of the value.
 * systemd-boot (bootspec) joins every "options" line; GRUB's blscfg takes
 * only the first (grub-core/commands/blscfg.c: bls_get_val(entry, "options",
 * NULL)). With first_only, only the first line counts and takes additions;
 * else additions go to the last.
 *
 * /etc/kernel/cmdline is read as kernel-install reads it (tr -s "$IFS" ' '):
 * every line, newlines are blanks; additions go after its last token. */
enum vhc_kline_format {
        VHC_KLINE_BLS,
        VHC_KLINE_CMDLINE,
};

struct vhc_kline;

/* -EINVAL (with e naming the line) for what cannot be read safely: a NUL
 * byte, an unbalanced double quote in a value that counts. */
int vhc_kline_parse(const char *text, size_t len, enum vhc_kline_format format, bool first_only,
                    const char *name, struct vhc_kline **ret, struct vhc_err *e);
struct vhc_kline *vhc_kline_free(struct vhc_kline *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_kline *, vhc_kline_free);

/* The text after the edits so far (NUL-terminated). */
const char *vhc_kline_text(const struct vhc_kline *k, size_t *ret_len);

/* The tokens that count, in order. */
int vhc_kline_tokens(const struct vhc_kline *k, char ***ret);

/* The value of the first line with that key (a BLS entry's "version",
 * "title"); -ENOENT if there is none. */
int vhc_kline_get(const struct vhc_kline *k, const char *key, char **ret);

/* Appends arg (one token without blanks or quotes); a BLS entry without an
 * options line gets one at its end ("options ARG"). */
int vhc_kline_append(struct vhc_kline *k, const char *arg, struct vhc_karg_edit *ret_edit, struct vhc_err *e);
/* Removes the last token that is exactly arg, with the blank the append put
 * before it (or one after it); an options line the append added goes too
 * when nothing else is left in it. -ENOENT if arg is not there. */
int vhc_kline_remove(struct vhc_kline *k, const char *arg, const struct vhc_karg_edit *edit, struct vhc_err *e);
/* Replaces the last token that is exactly old_arg by new_arg. -ENOENT if
 * old_arg is not there. */
int vhc_kline_replace(struct vhc_kline *k, const char *old_arg, const char *new_arg, struct vhc_err *e);
/* Takes the last token that is exactly arg out, with the blank (space, tab)
 * after it on its line, else the one before it: the bytes taken (*ret_cut)
 * and their offset in the text (*ret_at). -ENOENT if arg is not there. */
int vhc_kline_take_out(struct vhc_kline *k, const char *arg, size_t *ret_at, char **ret_cut, struct vhc_err *e);
/* Puts cut back at offset at, when that inserts exactly the token arg among
 * those that count and changes no other; else appends arg. */
int vhc_kline_put_back(struct vhc_kline *k, const char *arg, size_t at, const char *cut, struct vhc_err *e);
