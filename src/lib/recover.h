/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* What a run of ours that was killed may leave, and its removal by the next
 * run: the temporary files of atomic writes (".#NAME.XXXXXX" next to NAME,
 * fileio.h) and the temporary directories the state directory is made and
 * removed through (".#NAME.XXXXXX" next to the directory NAME). */

/* Removes every ".#BASE.XXXXXX" next to path (BASE its last component): a
 * file, or a directory holding only directories and files. Returns how many
 * were removed, or a negative errno. A missing directory is none. */
int vhc_recover_temps(const char *path);

/* Removes path and, if it is a directory, what it holds (depth levels at
 * most), never following a symbolic link. -ENOENT if it is not there. */
int vhc_remove_tree(const char *path, int depth);

/* Makes the temporary sibling directory for path (".#BASE.XXXXXX", mode
 * 0755), its name into *ret. */
int vhc_temp_sibling_dir(const char *path, char **ret);
