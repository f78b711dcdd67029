/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "macro.h"

/* Kernel command-line arguments, split as the kernel's next_arg() splits them:
 * runs of the kernel's isspace() characters (space, \t, \n, \v, \f, \r and
 * 0xA0) separate, double quotes group anywhere in a token, so foo="a b" and
 * "foo=a b" are one token each. There is no escape character. Tokens keep
 * their quotes as written. An unbalanced double quote is -EINVAL (the kernel
 * would take the rest of the line). NULL or "" gives an empty array. */
int vhc_cmdline_split(const char *s, char ***ret);

/* The same split of s[0..len) (NUL bytes are token characters), as byte
 * ranges: where each token is written, for editing it in place. */
struct vhc_cmdline_range {
        size_t start, end;
};
int vhc_cmdline_ranges(const char *s, size_t len, struct vhc_cmdline_range **ret, size_t *ret_n);

/* The kernel's isspace() (lib/ctype.c), not the C library's: it is what
 * next_arg() splits on, and its table also marks 0xA0 (Latin-1 NBSP) as a
 * space, whatever the locale. */
bool vhc_cmdline_isspace(char c);

/* The parameter name of a token, as the kernel compares it: the text before
 * the first '=' (next_arg() looks for it inside quotes too, so "foo=a b" is
 * foo), double quotes removed, '-' folded to '_' as parameq() does
 * ("intel-iommu=off" → "intel_iommu"). NULL on OOM. */
char *vhc_cmdline_key(const char *token);

/* Whether two tokens (or keys) name the same parameter. False on OOM. */
bool vhc_cmdline_same_key(const char *a, const char *b);

/* Index of the last token equal to token (exact text), or -1. */
ssize_t vhc_cmdline_find(char *const *tokens, const char *token);
/* Index of the last token with the same key as key_or_token, or -1 (also on
 * OOM). */
ssize_t vhc_cmdline_find_key(char *const *tokens, const char *key_or_token);

/* Tokens joined by single spaces. NULL on OOM. */
char *vhc_cmdline_join(char *const *tokens);

/* Whether one of the comma-separated items of token's value starts with
 * prefix, as the kernel's parsers of iommu=, amd_iommu= and intel_iommu= read
 * them ("iommu=pt,off" has "off"). */
bool vhc_cmdline_has_item(const char *token, const char *prefix);

/* Whether cut is token alone, or token with one blank (not a newline) right
 * before or right after it: what taking token out of a line removes. */
bool vhc_cmdline_cut_valid(const char *token, const char *cut);

/* Whether after is before with token inserted at one place, nothing else
 * changed. */
bool vhc_cmdline_is_insertion(char *const *before, char *const *after, const char *token);
