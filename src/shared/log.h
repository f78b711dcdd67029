/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"

/* The journal's record of what virt-host-config did to a machine: every file
 * it created, updated or removed, every command it ran and every
 * regeneration it skipped. All records carry this MESSAGE_ID, so
 *
 *     journalctl MESSAGE_ID=bf3f8f58222b4281a6e653f80a817efe
 *
 * shows the history (generated once with systemd-id128 new; never change it).
 * Fields: VHC_ACTION (created, updated, removed, regenerate, skip, outcome),
 * VHC_FILE, VHC_COMMAND (shell-quoted), VHC_EXIT_STATUS, VHC_DETAIL, and
 * PRIORITY: info for changes and successful commands, notice for skips, err
 * for a command that failed or could not run. The outcome of each apply and
 * revert (VHC_ACTION=outcome) adds VHC_RUN ("apply", "apply --defer",
 * "apply --first-boot", "revert"), VHC_RESULT (ok, failed) and, when failed,
 * VHC_ERROR and VHC_NEXT_STEP, at err: `journalctl -p err` shows a failed
 * %post apply that GNOME Software did not.
 *
 * Logging never fails for the caller: without a journal (a test, a chroot, a
 * container) the records are dropped quietly. When the environment variable
 * VHC_LOG_FILE names a file, each record is also appended to it as one text
 * line, "virt-host-config: VHC_ACTION=... VHC_FILE=... ... PRIORITY=N", which tests (and
 * the package lifecycle test, counting regenerations) read. */
#define VHC_LOG_MESSAGE_ID "bf3f8f58222b4281a6e653f80a817efe"

enum vhc_log_action {
        VHC_LOG_CREATED,
        VHC_LOG_UPDATED,
        VHC_LOG_REMOVED,
        VHC_LOG_REGENERATE,
        VHC_LOG_SKIP,
        VHC_LOG_OUTCOME,
        _VHC_LOG_ACTION_MAX,
};

const char *vhc_log_action_to_string(enum vhc_log_action a);

/* A change to a file (path: as the user should see it, NULL: none), or a
 * skipped step; detail (NULL: none) is a short free text. */
void vhc_log_change(enum vhc_log_action action, const char *path, const char *detail);

/* A command that ran (status: its exit status, 0 = success) or could not run
 * (status: a negative errno). Logged with VHC_ACTION=regenerate. */
void vhc_log_command(char *const argv[], int status);

/* The outcome of an apply or revert (run: "apply", "apply --defer", ...):
 * at err when failed, with the one-line error and the command to run then. */
void vhc_log_outcome(const char *run, bool failed, const char *error, const char *next_step);
