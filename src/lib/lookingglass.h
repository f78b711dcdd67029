/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "err.h"
#include "macro.h"

/* The host side of Looking Glass that more than one command needs: what
 * libvirt's qemu.conf lets QEMU open, and who may own the shared memory. */

/* The devices of the first cgroup_device_acl assignment of a qemu.conf
 * (libvirt's virconf syntax: "name = [ "a", "b" ]" over several lines, "#"
 * comments), in *ret, in order. The one libvirt uses: virConfGetValue takes
 * the first. -ENOENT when no line sets it (libvirt's built-in list, which
 * has no /dev/kvmfr0), -EINVAL when its value is not a list of strings. */
int vhc_qemu_conf_acl(const char *text, char ***ret);

/* The line to put in qemu.conf for QEMU to open /dev/kvmfr0: libvirt's
 * default list (qemu.conf's commented example) and kvmfr_abs. NULL on OOM. */
char *vhc_qemu_conf_acl_line(const char *kvmfr_abs);

/* Whether user is in /etc/passwd (passwd_text) and a member of group
 * (group_text: as a listed member, or by its primary group): 1 a member, 0
 * not, -ENOENT no such user, -ESRCH no such group. */
int vhc_user_in_group(const char *passwd_text, const char *group_text, const char *user, const char *group);

/* The uid of user in passwd_text and the gid of group in group_text:
 * -ENOENT no such user, -ESRCH no such group. */
int vhc_user_group_ids(const char *passwd_text, const char *group_text, const char *user, const char *group,
                       uid_t *ret_uid, gid_t *ret_gid);
