/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "cpuinfo.h"
#include "err.h"
#include "kmodule.h"
#include "lastrun.h"
#include "macro.h"
#include "pcidev.h"
#include "plan.h"
#include "root.h"

/* The prerequisites of a passthrough host, checked the way virt-host-validate
 * checks them, through the root context. Each check is a function that adds
 * one or more results; a failing read is a result (FAIL or WARN saying what
 * could not be read), never an error: only OOM is. INFO is advice that needs
 * no change on the host (something to do in the guest): it has a hint and is
 * never a failure. */
enum vhc_check_status {
        VHC_CHECK_PASS,
        VHC_CHECK_WARN,
        VHC_CHECK_FAIL,
        VHC_CHECK_INFO,
        _VHC_CHECK_STATUS_MAX,
};

struct vhc_check_result {
        const char *id; /* stable, for --json: "cpu-virtualization" */
        char *title;    /* "CPU virtualization", "0000:01:00.0 on vfio-pci" */
        enum vhc_check_status status;
        char *message; /* what was found, one line */
        char *hint;    /* what to do, one line; NULL on PASS only */
        char *device;  /* the PCI address a per-device result is about; NULL */
};

struct vhc_check_report {
        struct vhc_check_result *results;
        size_t n;
        size_t n_status[_VHC_CHECK_STATUS_MAX]; /* by enum vhc_check_status */
};

/* What the checks look at. Whatever could not be read is NULL with the reason
 * in the matching *_error; the checks that need it say so. */
struct vhc_check_input {
        const struct vhc_root *root;
        const struct vhc_config *config;
        const struct vhc_cpuinfo *cpu;
        const char *cpu_error;
        const struct vhc_pci_list *pci;
        const char *pci_error;
        const struct vhc_plan *plan;
        const char *plan_error;
        struct vhc_kmod *kmod;
        const char *kmod_error;
        const struct vhc_lastrun *last_run; /* the last apply's or revert's outcome; NULL: none */
        const char *last_run_error;          /* why it could not be read; NULL */
        bool applied;     /* a state record exists: apply ran */
        unsigned pending; /* VHC_REGEN_* the state record says are still owed */
};

int vhc_check_run(const struct vhc_check_input *in, struct vhc_check_report **ret);
struct vhc_check_report *vhc_check_report_free(struct vhc_check_report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vhc_check_report *, vhc_check_report_free);

const char *vhc_check_status_name(enum vhc_check_status s); /* "PASS" */

/* The memlock limit that pam_limits gives a member of a group, from the text
 * of limits.conf and limits.d/ *.conf in the order pam_limits reads them:
 * "@group" lines beat "*" lines; of two lines of the same kind the later one
 * wins; "-" sets soft and hard. Values in bytes, UINT64_MAX: unlimited. */
struct vhc_memlock_limit {
        bool soft_set, hard_set;
        uint64_t soft, hard;
        const char *soft_from, *hard_from; /* the names[] entry that set it */
};

void vhc_limits_memlock(char *const *texts, char *const *names, const char *group,
                        struct vhc_memlock_limit *ret);

/* Whether the state record was written after the running kernel booted (an
 * apply since the boot). The one judgement of "before the reboot" that check
 * (vfio-binding, kernel-args) and status (reboot pending) share, with the
 * running kernel lacking one of our arguments. */
bool vhc_applied_since_boot(const struct vhc_root *r, bool applied);
