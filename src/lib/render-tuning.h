/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* The libvirt QEMU hook that tunes the host while guests run (pure: settings
 * in, script text out). libvirt (6.5 and later) runs every executable in
 * /etc/libvirt/hooks/qemu.d/ for each guest event with the guest's name, the
 * operation, a sub-operation and an extra argument, the domain XML on stdin.
 * The script counts running guests by a file per guest under run_dir: the
 * first guest's "prepare" records what it changes and changes it, the last
 * guest's "release" puts it back. */
struct vhc_hook_tuning {
        bool governor_performance; /* every CPU's cpufreq governor: performance */
        const char *host_cpus;     /* NULL: no isolation; else the CPUs systemd keeps the host's own
                                    * work on (AllowedCPUs of system.slice, user.slice, init.scope) */
        const char *guest_cpus;    /* the CPUs left to guests, for the comment ("2-7,10-15") */
        const char *sys_cpu_abs;   /* "/sys/devices/system/cpu" */
        const char *run_dir_abs;   /* "/run/virt-host-config" */
};

/* The POSIX sh script, starting with "#!/bin/sh" and VHC_GENERATED_HEADER on
 * line 2. *ret NULL when there is nothing to tune. -EINVAL for paths that
 * are not absolute or hold characters the shell would read, and CPU lists
 * that are not lists. */
int vhc_render_qemu_hook(const struct vhc_hook_tuning *h, char **ret);
