/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Reads a whole file, at most max bytes (-EFBIG beyond). The buffer gets a
 * terminating NUL that *ret_len does not count. Opened non-blocking: a FIFO,
 * socket or device is -EBADFD, and never blocks. */
int vhc_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* The same, but a symlink at path itself is -ELOOP, not followed. */
int vhc_read_file_nofollow(const char *path, size_t max, char **ret, size_t *ret_len);

/* The largest file of the machine this tool edits or writes: what it writes
 * it must read back to revert (a udev rule for every function of 30,000). */
#define VHC_MANAGED_FILE_MAX (16 << 20)

/* A file of the machine that this tool edits (at most VHC_MANAGED_FILE_MAX):
 * *ret NULL if it is absent; other failures set e, naming the file. */
struct vhc_err;
int vhc_read_machine_file(const char *path, char **ret, size_t *ret_len, struct vhc_err *e);
/* The same for a file virt-host-config wrote: a symlink there is refused (-ELOOP), not read through. */
int vhc_read_own_file(const char *path, char **ret, size_t *ret_len, struct vhc_err *e);

/* Replaces path atomically: a temporary file in the same directory, written,
 * fsynced, renamed over path, then the directory fsynced. An existing file
 * keeps its mode, owner and SELinux label; a new one gets mode and the label
 * that the policy gives label_path (the path as the booted system sees it;
 * NULL: none). Writes nothing when the content is already the same: returns 0
 * then, 1 when it wrote. path must not be a symlink (resolve it first). */
int vhc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          const char *label_path);

/* Closes f, a stream from open_memstream(buf, ...), and hands its text to
 * *ret (taken from *buf). A write that failed on the way (the stream's error
 * flag) or a failed close is -ENOMEM, with *buf freed and *ret untouched. */
int vhc_memstream_finish(FILE *f, char **buf, char **ret);

/* Removes a file and fsyncs its directory. 0 if removed, -ENOENT if absent. */
int vhc_remove_file(const char *path);

/* Moves the regular file path to the name to in the same directory (an
 * edited file of ours kept as PATH.rpmsave), never over anything there: a
 * file at to that holds these very bytes (content, len) already is taken as
 * the copy and path is only removed; anything else there is -EEXIST, with
 * nothing changed (if it appeared during the call: but path's mode). Before
 * the move the file loses its execute and set-id bits, so that no directory
 * that runs what is executable in it (libvirt's hooks/qemu.d,
 * initramfs-tools' hooks) runs the copy, not even after a crash between the
 * two steps. Then the directory is fsynced. path itself a symlink is -ELOOP;
 * absent, -ENOENT. */
int vhc_save_file(const char *path, const char *to, const void *content, size_t len);

/* Creates a directory (one level) with mode; 1 if created, 0 if it existed. */
int vhc_mkdir(const char *path, mode_t mode);
/* The same, and with SELinux on, the directory gets the label the policy
 * gives label_path (the path as the booted system sees it; NULL: none). */
int vhc_mkdir_label(const char *path, mode_t mode, const char *label_path);
/* The label file_contexts gives label_path for a file of mode (its type bits
 * included: S_IFREG, S_IFDIR); spec_file NULL: the loaded policy's, else
 * that file_contexts file (SELABEL_OPT_PATH). *ret NULL when none (or no
 * policy); free it with freecon(). */
int vhc_selabel_lookup(const char *spec_file, const char *label_path, mode_t mode, char **ret);

/* Removes a directory if empty; 0 if removed or absent, -ENOTEMPTY if not empty. */
int vhc_rmdir(const char *path);

/* Test-only fault injection: when set, called before each step of a write;
 * a negative return makes that step fail with that errno. */
enum vhc_fault_op {
        VHC_FAULT_CREATE,
        VHC_FAULT_WRITE,
        VHC_FAULT_FSYNC,
        VHC_FAULT_RENAME,
        VHC_FAULT_FSYNC_DIR,
        VHC_FAULT_UNLINK,
        VHC_FAULT_MKDIR,
};
extern int (*vhc_fault_hook)(enum vhc_fault_op op, const char *path);

/* The directory and the last component of path, each newly allocated. */
int vhc_split_path(const char *path, char **ret_dir, char **ret_base);
