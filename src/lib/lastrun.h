/* SPDX-License-Identifier: MIT */
#pragma once

#include "err.h"
#include "macro.h"
#include "root.h"

/* The outcome of the last apply or revert that was not a --dry-run:
 * <root>/var/lib/virt-host-config/last-run.json. GNOME Software and
 * PackageKit show no scriptlet output, so a failed %post apply is seen here,
 * by status and check, until a later run succeeds. Beside state.json, not in
 * it: state.json is exactly what apply changed and goes with a full revert,
 * while a failure that changed nothing (a bad config) must be kept too. */

#define VHC_LASTRUN_VERSION 1

struct vhc_lastrun {
        /* Of the first run in a row with this outcome (apply or revert alike,
         * the same result, error and next step): */
        char *command;   /* "apply", "apply --defer", "apply --first-boot", "revert" */
        char *time;      /* UTC, ISO 8601: "2026-12-04T18:00:00Z" */
        bool failed;     /* "result": "failed" (else "ok") */
        char *error;     /* the one-line error; NULL when ok */
        char *next_step; /* the one command to run: "sudo virt-host-config apply"; NULL when ok */
        char **dirs;     /* directories the record's writing created, parents first (revert removes them) */
};

void vhc_lastrun_done(struct vhc_lastrun *l);

/* Strict: every key known and of its type, result "ok" or "failed", error
 * and next_step strings exactly when failed, dirs leading to the state
 * directory. Errors name the file (name) in one line; l is left empty. */
int vhc_lastrun_parse(struct vhc_lastrun *l, const char *text, const char *name, struct vhc_err *e);
/* JSON text, deterministic, ending in a newline. */
int vhc_lastrun_format(const struct vhc_lastrun *l, char **ret);

/* -ENOENT: no record. Other errors name the file. */
int vhc_lastrun_load(const struct vhc_root *r, struct vhc_lastrun *l, struct vhc_err *e);
/* Writes the record atomically, creating the state directory and the parents
 * it lacks (added to l->dirs) when they are missing. */
int vhc_lastrun_save(const struct vhc_root *r, struct vhc_lastrun *l, struct vhc_err *e);
/* Removes the record and then, if empty, the directories it says it made
 * (those that are still there). 0 also when there was none. */
int vhc_lastrun_remove(const struct vhc_root *r, const struct vhc_lastrun *l, struct vhc_err *e);

/* The time of a record now, ISO 8601 UTC. The environment variable VHC_NOW
 * (seconds since the epoch) fixes it, for tests. NULL on OOM. */
char *vhc_lastrun_now(void);
/* "2026-12-04 18:00:00 UTC" from a record's time, for people. */
char *vhc_lastrun_time_human(const char *iso);
