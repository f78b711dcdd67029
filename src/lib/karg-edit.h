/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* What appending a kernel argument to a file did, so that removing it can
 * undo exactly that: kept in the state record with the argument. The same
 * for every file that holds arguments (grub defaults, a boot entry,
 * /etc/kernel/cmdline). */
struct vhc_karg_edit {
        bool space;         /* a space was put before the argument */
        bool line_added;    /* the file had no line for it: one was added */
        bool newline_added; /* ... after a newline the file lacked at its end */
};
