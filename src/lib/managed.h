/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "root.h"
#include "state.h"

/* What virt-host-config may manage: the files it creates and edits and the
 * directories it may have made for them. A state record that names anything
 * else (a corrupt, tampered or restored record) is refused before a file is
 * touched. */

/* "/a/b": absolute, no empty, "." or ".." component, no trailing "/", no
 * control character. */
bool vhc_managed_path_clean(const char *abs);
/* A file apply generates (files[]): the drop-ins, in their directories, by
 * a name holding "virt-host-config" (older versions named theirs so too). */
bool vhc_managed_generated(const char *abs);
/* A boot entry (a *.conf in loader/entries under /efi, /boot or /boot/efi). */
bool vhc_managed_boot_entry(const char *abs);
/* A directory apply may have created: one that leads to a managed file or
 * to the state directory. */
bool vhc_managed_dir(const char *abs);
/* The file a kernel-argument store of that name edits (/etc/default/grub
 * may be a link: its target inside the root counts). */
bool vhc_managed_karg_file(const struct vhc_root *r, const char *store, const char *abs);

/* Every record of s checked; name is the state file, for the message. */
int vhc_state_check_managed(const struct vhc_state *s, const struct vhc_root *r, const char *name,
                            struct vhc_err *e);
