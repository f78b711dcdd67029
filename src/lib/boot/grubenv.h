/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "macro.h"

/* A GRUB environment block (/boot/grub2/grubenv), read only: what GRUB's
 * envblk.c reads. The block starts with "# GRUB Environment Block\n"; then
 * "NAME=VALUE" lines, a backslash escaping the next character (grub-editenv
 * writes "\\" and "\<newline>"); '#' fills the rest of the 1024 bytes.
 * load_env sets every assignment in turn: the last of a name counts.
 * Boot entries name its variables ($kernelopts on RHEL 8, tuned's
 * $tuned_params): their tokens reach the kernel too. */

/* The value of name; -ENOENT if it is not set, -EINVAL if text is not an
 * environment block. */
int vhc_grubenv_get(const char *text, size_t len, const char *name, char **ret);
