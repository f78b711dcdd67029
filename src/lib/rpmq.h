/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "err.h"
#include "macro.h"
#include "root.h"

/* The rpm database of a machine, read with librpm as `rpm --root DIR` reads
 * it: rpm's own configuration (macros) of the running system, %_dbpath taken
 * inside the root. A machine without an rpm database (Debian without rpm, a
 * fake root) is no error: have_db is false. librpm's messages never reach
 * stdout or stderr; an error's text goes into e. */

/* The packages `check` and `status` report. */
extern const char *const vhc_rpmq_reported_packages[];

struct vhc_rpm_pkg {
        char *name;
        /* "VERSION-RELEASE" of each installed instance, newest first (kernels:
         * several); empty when not installed. Epochs are compared, not shown. */
        char **versions;
};

struct vhc_rpm_versions {
        bool have_db;
        size_t n;
        struct vhc_rpm_pkg *pkgs; /* one per name asked, in the order asked; n = 0 without a database */
};

int vhc_rpmq_versions(const struct vhc_root *r, const char *const *names, struct vhc_rpm_versions *ret,
                      struct vhc_err *e);
void vhc_rpm_versions_done(struct vhc_rpm_versions *v);

/* What differs in a file from what its package installed, as `rpm -V`
 * reports it (its letters in vhc_rpmv_string()). */
enum {
        VHC_RPMV_SIZE = 1 << 0,     /* S */
        VHC_RPMV_MODE = 1 << 1,     /* M: permissions or file type */
        VHC_RPMV_DIGEST = 1 << 2,   /* 5 */
        VHC_RPMV_LINK = 1 << 3,     /* L: symlink target */
        VHC_RPMV_USER = 1 << 4,     /* U */
        VHC_RPMV_GROUP = 1 << 5,    /* G */
        VHC_RPMV_MTIME = 1 << 6,    /* T */
        VHC_RPMV_MISSING = 1 << 7,  /* "missing" */
        VHC_RPMV_READFAIL = 1 << 8, /* content unreadable: "?" for 5 */
};

struct vhc_rpm_file {
        char *package; /* name-version-release.arch */
        char *path;    /* as the machine sees it */
        unsigned flags;
        bool config; /* %config: a change may be the administrator's, on purpose */
        bool ghost;  /* %ghost: only mode, owner and group are compared, and only if it exists */
};

struct vhc_rpm_verify {
        bool have_db;
        char **not_installed; /* packages asked for that are not installed (NULL-terminated; NULL: none) */
        size_t n;
        struct vhc_rpm_file *files; /* the files that differ, in package then file order */
};

/* Compares every file of the installed packages with the database as rpm -V
 * does: size, digest, mode, symlink target, owner and group (names looked up
 * in the root's /etc/passwd and /etc/group), mtime; %ghost files only for
 * mode, owner and group and only when present, missing %ghost and
 * %config(missingok) files are fine; files rpm did not install (excluded
 * docs, other arch's color) are skipped. Not compared: capabilities, ACLs,
 * device numbers, SELinux contexts. */
int vhc_rpmq_verify(const struct vhc_root *r, const char *const *packages, struct vhc_rpm_verify *ret,
                    struct vhc_err *e);
void vhc_rpm_verify_done(struct vhc_rpm_verify *v);

/* flags as rpm -V prints them: "SM5DLUGTP" with '.' for what is the same
 * ("missing  " for a missing file). buf: at least 10 bytes. */
void vhc_rpmv_string(unsigned flags, char *buf);
