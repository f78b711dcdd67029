/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <spawn.h>

#include "macro.h"

/* At most this much of a program's output is kept (the end of it: that is
 * where the error usually is). */
#define VHC_SPAWN_OUTPUT_MAX (1U << 20)

/* Runs argv[0] with argv, never through a shell: a name without a slash is
 * looked up in PATH (inside chroot_dir, when given). The environment is passed
 * through as it is; stdin is /dev/null; stdout and stderr go, interleaved as
 * written, into one buffer; no other descriptor is inherited. chroot_dir
 * (NULL: none) runs the program chrooted into that directory, with "/" as its
 * working directory (needs CAP_SYS_CHROOT).
 *
 * Returns 0 when the program ran, whatever its exit status: *ret_status is its
 * exit status, or 128 + the signal number when a signal killed it (as a shell
 * reports it); *ret_output (NULL: the output is discarded) is its output,
 * NUL-terminated, the last VHC_SPAWN_OUTPUT_MAX bytes of it. Returns a
 * negative errno when it could not run: -ENOENT (no such program), -EACCES,
 * -ENOEXEC, -EPERM (chroot refused), ... Out-parameters are written only on
 * success. */
int vhc_spawn(char *const argv[], const char *chroot_dir, char **ret_output, int *ret_status);

/* argv as one line a user can paste into a shell: words quoted with single
 * quotes where they need it. NULL on OOM. */
char *vhc_argv_to_string(char *const argv[]);
