/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "check.h"
#include "desktop.h"
#include "boot/detect.h"
#include "boot/store.h"
#include "boot/stores.h"
#include "cmdline.h"
#include "domxml.h"
#include "fileio.h"
#include "grub-default.h"
#include "kargs.h"
#include "lookingglass.h"
#include "meminfo.h"
#include "passthru.h"
#include "strv.h"

#define GIB (UINT64_C(1) << 30)
/* What the Ansible role this tool replaces gave group kvm: VFIO pins all of a
 * guest's RAM, and a gaming guest has 8 GiB or more. */
#define MEMLOCK_FLOOR (10 * GIB)
/* The kernel's default RLIMIT_MEMLOCK since Linux 5.16. */
#define MEMLOCK_DEFAULT (UINT64_C(8) << 20)

/* What several checks need, worked out once before they run. */
struct checker {
        const struct vhc_check_input *in;
        struct vhc_check_report *rep;
        char **wanted;       /* kernel arguments the config wants */
        char **live;         /* the running kernel's arguments; NULL: unreadable */
        char **not_live;     /* of the wanted, the ones the running kernel lacks */
        char **off;          /* patterns of arguments that turn the IOMMU off (kargs.h) */
        char **live_off;     /* the running kernel's arguments that match them */
        bool off_next_boot;  /* none of those is set for the next boot */
        char *cmdline_error; /* /proc/cmdline unreadable: why */
        bool next_boot;      /* the ones not live are set in every place the next boot reads */
        struct vhc_boot_report places; /* where the next boot's arguments come from */
        char *boot_error;              /* that could not be found out: why */
        bool applied_since_boot;
        bool firmware_iommu; /* an ACPI DMAR or IVRS table */
        char **iommu_units;  /* /sys/class/iommu entries */
        size_t n_groups;
        char **limit_texts, **limit_names; /* limits.conf and limits.d, as pam_limits reads them */
        struct vhc_memlock_limit memlock;  /* what they give group kvm */
        uint64_t memlock_eff;              /* the soft limit in effect */
        struct vhc_system system;          /* what kind of system (boot/system.h) */
};

/* The files rpm-ostree's initramfs must carry. */
static const enum vhc_path initramfs_carried[] = { VHC_PATH_UDEV_RULE, VHC_PATH_MODPROBE_CONF };

static bool iommu_active(const struct checker *c) {
        return c->iommu_units[0] || c->n_groups > 0;
}

/* Before the reboot that makes an apply take effect: the kernel arguments are
 * not live, or apply changed things after this boot. */
static bool before_reboot(const struct checker *c) {
        return c->cmdline_error || c->not_live[0] || c->applied_since_boot;
}

static char *str(const char *s) {
        return s ? strdup(s) : NULL;
}

/* Adds a result, taking message and hint (freed on failure too). A NULL
 * message (or a NULL hint on WARN/FAIL) is the OOM of the caller's strprintf(). */
static int add(struct checker *c, const char *id, enum vhc_check_status st, const char *title,
               const char *device, char *message, char *hint) {
        struct vhc_check_report *rep = c->rep;
        struct vhc_check_result *t, *res;

        if (!message || (st != VHC_CHECK_PASS && !hint))
                goto oom;
        t = realloc(rep->results, (rep->n + 1) * sizeof(*t));
        if (!t)
                goto oom;
        rep->results = t;
        res = &t[rep->n++];
        *res = (struct vhc_check_result){
                .id = id,
                .status = st,
                .title = strdup(title),
                .device = device ? strdup(device) : NULL,
                .message = message,
                .hint = hint,
        };
        rep->n_status[st]++;
        if (!res->title || (device && !res->device))
                return -ENOMEM; /* the rest goes with the report */
        return 0;
oom:
        free(message);
        free(hint);
        return -ENOMEM;
}

static char *human_size(uint64_t b) {
        if (b == UINT64_MAX)
                return strdup("unlimited");
        if (b >= GIB)
                return b % GIB == 0 ? strprintf("%" PRIu64 " GiB", b / GIB)
                                    : strprintf("%.1f GiB", (double)b / (double)GIB);
        if (b >= (UINT64_C(1) << 20))
                return strprintf("%" PRIu64 " MiB", b >> 20);
        return strprintf("%" PRIu64 " KiB", b >> 10);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* The names in a directory (no dot-files) ending in suffix, sorted as the C
 * locale sorts them; a negative errno if it cannot be read. */
static int list_dir(const char *path, const char *suffix, char ***ret) {
        _cleanup_(closedirp) DIR *d = opendir(path);
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        struct dirent *de;

        if (!names)
                return -ENOMEM;
        if (!d)
                return negative_errno();
        while ((errno = 0, de = readdir(d))) {
                size_t n = strlen(de->d_name), s = suffix ? strlen(suffix) : 0;

                if (de->d_name[0] == '.' || n < s || !streq(de->d_name + n - s, strempty(suffix)))
                        continue;
                if (strv_push_dup(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (errno != 0)
                return negative_errno();
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(names);
        return 0;
}

/* A directory's names, or an empty list when it cannot be read. */
static int list_dir_or_empty(const char *path, char ***ret) {
        int r = list_dir(path, NULL, ret);

        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        return 0;
}

static bool exists_in_root(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_root_join(r, abs);

        return p && access(p, F_OK) == 0;
}

/* ---- what the checks share ---------------------------------------------- */

/* The places the next boot's kernel arguments come from (boot/stores.h), and
 * whether the wanted ones that are not live are set in every one of them. */
static int boot_places(struct checker *c) {
        _cleanup_(vhc_boot_done) struct vhc_boot b = {};
        struct vhc_err e = {};
        int r;

        r = vhc_boot_detect(c->in->root, &b, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return (c->boot_error = vhc_err_line(&e, r)) ? 0 : -ENOMEM;
        r = vhc_boot_report(&b, c->wanted, &c->places);
        if (r < 0)
                return r;
        c->next_boot = c->places.n > 0;
        for (size_t i = 0; i < c->places.n; i++)
                /* With /proc/cmdline unreadable, every wanted argument counts as not live. */
                for (char **a = c->cmdline_error ? c->wanted : c->not_live; *a; a++)
                        if (c->places.v[i].error || strv_contains(c->places.v[i].missing, *a))
                                c->next_boot = false;
        if (c->live_off && c->live_off[0]) {
                _cleanup_(vhc_boot_report_done) struct vhc_boot_report off = {};

                r = vhc_boot_report(&b, c->live_off, &off);
                if (r < 0)
                        return r;
                c->off_next_boot = off.n > 0;
                for (size_t i = 0; i < off.n; i++)
                        if (off.v[i].error || strv_length(off.v[i].present) > 0)
                                c->off_next_boot = false;
        }
        return 0;
}

/* The boot time from /proc/stat's btime; 0 when unknown. */
static int64_t boot_time(const struct vhc_root *r) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_PROC_STAT), *text = NULL;
        const char *p;

        if (!path || vhc_read_file(path, 1 << 20, &text, NULL) < 0)
                return 0;
        p = strstr(text, "\nbtime ");
        return p ? strtoll(p + 7, NULL, 10) : 0;
}

/* Whether apply wrote its state record after this boot: its changes are not
 * in effect before the next one. */
bool vhc_applied_since_boot(const struct vhc_root *r, bool applied) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_STATE_FILE);
        int64_t btime = boot_time(r);
        struct stat st;

        if (!applied || !path || btime <= 0 || stat(path, &st) < 0)
                return false;
        return st.st_mtim.tv_sec >= btime;
}

static bool applied_after_boot(const struct checker *c) {
        return vhc_applied_since_boot(c->in->root, c->in->applied);
}

static int read_limits(const struct vhc_root *r, char ***ret_texts, char ***ret_names);

static int prepare(struct checker *c) {
        const struct vhc_check_input *in = c->in;
        const struct vhc_cpuinfo other = {.vendor = VHC_CPU_OTHER};
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_strv_free_ char **live = NULL, **groups = NULL;
        int r;

        r = read_limits(in->root, &c->limit_texts, &c->limit_names);
        if (r < 0)
                return r;
        vhc_limits_memlock(c->limit_texts, c->limit_names, "kvm", &c->memlock);
        c->memlock_eff = c->memlock.soft_set ? c->memlock.soft : MEMLOCK_DEFAULT;
        if (c->memlock.hard_set && c->memlock.hard < c->memlock_eff)
                c->memlock_eff = c->memlock.hard;

        r = vhc_kargs_wanted(in->config, in->cpu ? in->cpu : &other, &c->wanted);
        if (r < 0)
                return r;
        c->not_live = calloc(1, sizeof(char *));
        if (!c->not_live)
                return -ENOMEM;
        path = vhc_root_path(in->root, VHC_PATH_PROC_CMDLINE);
        if (!path)
                return -ENOMEM;
        r = vhc_read_file(path, 1 << 16, &text, NULL);
        if (r >= 0)
                r = vhc_cmdline_split(text, &live);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                c->cmdline_error = strprintf("%s: %s", vhc_path_abs(VHC_PATH_PROC_CMDLINE),
                                       r == -EINVAL ? "unbalanced double quote" : strerror(-r));
                if (!c->cmdline_error)
                        return -ENOMEM;
        }
        for (size_t i = 0; live && c->wanted[i]; i++)
                if (vhc_cmdline_find(live, c->wanted[i]) < 0 &&
                    strv_push_dup(&c->not_live, c->wanted[i]) < 0)
                        return -ENOMEM;
        r = vhc_kargs_off(in->config, in->cpu ? in->cpu : &other, &c->off);
        if (r < 0)
                return r;
        c->live_off = calloc(1, sizeof(char *));
        if (!c->live_off)
                return -ENOMEM;
        for (size_t i = 0; live && live[i]; i++)
                if (vhc_kargs_matches_off(live[i], c->off) && strv_push_dup(&c->live_off, live[i]) < 0)
                        return -ENOMEM;
        c->live = TAKE_PTR(live);
        r = boot_places(c);
        if (r < 0)
                return r;
        c->applied_since_boot = applied_after_boot(c);
        for (size_t i = 0; i < 2; i++) {
                free(path);
                path = vhc_root_pathf(in->root, VHC_PATH_SYS_ACPI_TABLES, "%s", i == 0 ? "DMAR" : "IVRS");
                if (!path)
                        return -ENOMEM;
                c->firmware_iommu |= access(path, F_OK) == 0;
        }

        free(path);
        path = vhc_root_path(in->root, VHC_PATH_SYS_CLASS_IOMMU);
        if (!path || list_dir_or_empty(path, &c->iommu_units) < 0)
                return -ENOMEM;
        free(path);
        path = vhc_root_path(in->root, VHC_PATH_SYS_IOMMU_GROUPS);
        if (!path || list_dir_or_empty(path, &groups) < 0)
                return -ENOMEM;
        c->n_groups = strv_length(groups);
        return 0;
}

/* ---- the checks --------------------------------------------------------- */

static int check_cpu(struct checker *c, const char *id) {
        const struct vhc_cpuinfo *cpu = c->in->cpu;
        const char *t = "CPU virtualization";

        if (!cpu)
                return add(c, id, VHC_CHECK_FAIL, t, NULL, strprintf("cannot read the CPU: %s", c->in->cpu_error),
                           str("check that /proc is mounted"));
        if (cpu->vmx)
                return add(c, id, VHC_CHECK_PASS, t, NULL, str("Intel VT-x (vmx)"), NULL);
        if (cpu->svm)
                return add(c, id, VHC_CHECK_PASS, t, NULL, str("AMD-V (svm)"), NULL);
        return add(
                c, id, VHC_CHECK_FAIL, t, NULL,
                strprintf("no vmx or svm flag in /proc/cpuinfo (%s)", cpu->model_name[0] ? cpu->model_name : "?"),
                str("enable Intel VT-x or AMD SVM in the firmware setup (in a VM: nested virtualization)"));
}

static int check_iommu_firmware(struct checker *c, const char *id) {
        static const struct {
                const char *sig, *what, *hint;
        } tables[] = {
                {"DMAR", "Intel VT-d",
                 "enable VT-d (Virtualization Technology for Directed I/O) in the firmware setup"},
                {"IVRS", "AMD-Vi", "enable the IOMMU (AMD-Vi) in the firmware setup"},
        };
        enum vhc_cpu_vendor v = c->in->cpu ? c->in->cpu->vendor : VHC_CPU_OTHER;
        const char *t = "IOMMU in firmware";

        for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                _cleanup_free_ char *p =
                        vhc_root_pathf(c->in->root, VHC_PATH_SYS_ACPI_TABLES, "%s", tables[i].sig);

                if (!p)
                        return -ENOMEM;
                if (access(p, F_OK) == 0)
                        return add(c, id, VHC_CHECK_PASS, t, NULL,
                                   strprintf("ACPI %s table (%s)", tables[i].sig, tables[i].what), NULL);
        }
        if (v == VHC_CPU_INTEL || v == VHC_CPU_AMD) {
                size_t i = v == VHC_CPU_INTEL ? 0 : 1;

                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           strprintf("no ACPI %s table: %s is off in the firmware or not supported", tables[i].sig,
                               tables[i].what),
                           str(tables[i].hint));
        }
        return add(c, id, VHC_CHECK_FAIL, t, NULL, str("no ACPI DMAR or IVRS table"),
                   str("enable the IOMMU (VT-d or AMD-Vi) in the firmware setup"));
}

static int check_kernel_args(struct checker *c, const char *id) {
        _cleanup_free_ char *wanted = vhc_cmdline_join(c->wanted), *missing = vhc_cmdline_join(c->not_live);
        const char *t = "kernel arguments";

        if (!wanted || !missing)
                return -ENOMEM;
        if (!c->wanted[0])
                return add(c, id, VHC_CHECK_PASS, t, NULL, str("none wanted (iommu = no in the config)"),
                           NULL);
        if (c->cmdline_error)
                return add(c, id, VHC_CHECK_FAIL, t, NULL, strprintf("cannot read %s", c->cmdline_error),
                           str("check that /proc is mounted"));
        if (c->live_off[0]) {
                _cleanup_free_ char *off = vhc_cmdline_join(c->live_off);

                if (!off)
                        return -ENOMEM;
                if (c->off_next_boot && (!c->not_live[0] || c->next_boot))
                        return add(c, id, VHC_CHECK_WARN, t, NULL,
                                   strprintf("%s: on the running kernel's command line, keeps the IOMMU off; "
                                             "taken out for the next boot",
                                             off),
                                   str("reboot"));
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           strprintf("%s: on the kernel command line, keeps the IOMMU off", off),
                           str("run 'virt-host-config apply' (it takes that out and puts it back on revert), "
                               "then reboot"));
        }
        if (!c->not_live[0])
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("%s: on the running kernel's command line", wanted), NULL);
        if (c->next_boot)
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           strprintf("%s: set for the next boot, not live yet", missing), str("reboot"));
        return add(c, id, VHC_CHECK_FAIL, t, NULL, strprintf("%s: not on the kernel command line", missing),
                   str("run 'virt-host-config apply', then reboot"));
}

/* What kind of system this is, and so where the arguments are set
 * (boot/system.h). On rpm-ostree the initramfs carries our files only once
 * rpm-ostree initramfs-etc tracks them. */
static int check_system(struct checker *c, const char *id) {
        const char *t = "kind of system", *where = vhc_system_kargs_where(&c->system);
        const char *what = vhc_system_kind_describe(c->system.kind);
        _cleanup_(vhc_boot_done) struct vhc_boot b = {};
        _cleanup_strv_free_ char **tracked = NULL;
        struct vhc_err e = {};
        int r;

        switch (c->system.kind) {
        case VHC_SYSTEM_OSTREE_SANDBOX:
        case VHC_SYSTEM_IMAGE_BUILD:
                return add(c, id, VHC_CHECK_WARN, t, NULL, strprintf("%s (%s): arguments set in %s", what,
                                                                     c->system.evidence, where),
                           str("run 'virt-host-config check' on the booted machine"));
        case VHC_SYSTEM_OSTREE:
                if (!c->in->applied)
                        return add(c, id, VHC_CHECK_WARN, t, NULL,
                                   strprintf("%s: arguments set in %s; not applied yet", what, where),
                                   str("run 'sudo virt-host-config apply', then reboot into the new deployment"));
                r = vhc_boot_detect(c->in->root, &b, &e);
                if (r >= 0)
                        r = vhc_store_ostree_tracked(&b, &tracked, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return add(c, id, VHC_CHECK_FAIL, t, NULL,
                                   strprintf("%s: cannot tell what the initramfs carries: %s", what, e.msg),
                                   str("fix rpm-ostree, then run 'virt-host-config apply'"));
                for (size_t i = 0; i < ELEMENTSOF(initramfs_carried); i++) {
                        _cleanup_free_ char *p = vhc_root_path(c->in->root, initramfs_carried[i]);
                        const char *abs = vhc_path_abs(initramfs_carried[i]);

                        if (!p)
                                return -ENOMEM;
                        if (access(p, F_OK) == 0 && !strv_contains(tracked, abs))
                                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                                           strprintf("%s: %s is not carried into the initramfs", what, abs),
                                           str("run 'sudo virt-host-config apply' (it runs rpm-ostree "
                                               "initramfs-etc --track), then reboot"));
                }
                break;
        default:
                break;
        }
        return add(c, id, VHC_CHECK_PASS, t, NULL,
                   strprintf("%s%s%s%s: arguments set in %s", what, c->system.evidence ? " (" : "",
                             strempty(c->system.evidence), c->system.evidence ? ")" : "", where),
                   NULL);
}

/* Each place the next boot's arguments come from: the wanted ones there or not. */
static int check_boot_places(struct checker *c, const char *id) {
        int r;

        if (!c->wanted[0])
                return 0;
        if (c->boot_error)
                return add(c, id, VHC_CHECK_FAIL, "boot entries", NULL,
                           strprintf("cannot tell where the kernel arguments live: %s", c->boot_error),
                           str("fix that file, then run 'virt-host-config apply'"));
        for (size_t i = 0; i < c->places.n; i++) {
                const struct vhc_boot_place *p = &c->places.v[i];
                _cleanup_free_ char *present = vhc_cmdline_join(p->present), *missing = vhc_cmdline_join(p->missing);

                if (!present || !missing)
                        return -ENOMEM;
                if (p->error)
                        r = add(c, id, VHC_CHECK_FAIL, p->label, NULL, strprintf("unreadable: %s", p->error),
                                strprintf("fix %s", p->path));
                else if (!p->missing[0])
                        r = add(c, id, VHC_CHECK_PASS, p->label, NULL, strprintf("%s present", present), NULL);
                else
                        r = add(c, id, c->in->applied ? VHC_CHECK_FAIL : VHC_CHECK_WARN, p->label, NULL,
                                strprintf("%s missing", missing), str("run 'virt-host-config apply'"));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Boot files a regeneration still owes (it failed, or was skipped). */
static int check_boot_files(struct checker *c, const char *id) {
        _cleanup_free_ char *names = NULL;

        if (!c->in->pending)
                return 0;
        names = vhc_regen_names(c->in->pending);
        if (!names)
                return -ENOMEM;
        return add(c, id, VHC_CHECK_FAIL, "boot files", NULL,
                   strprintf("%s not rebuilt since the last change (it failed or was skipped)", names),
                   str("run 'virt-host-config apply'; it rebuilds what is pending"));
}

/* Haswell parts with integrated graphics, by the kernel's intel-family.h:
 * HASWELL (0x3C), HASWELL_L (0x45), HASWELL_G (0x46). HASWELL_X (0x3F,
 * Haswell-E/EP) has no integrated GPU, so no HDMI audio of its own. */
static bool haswell_with_igpu(const struct vhc_cpuinfo *cpu) {
        return cpu->vendor == VHC_CPU_INTEL && cpu->family == 6 &&
               (cpu->model == 0x3c || cpu->model == 0x45 || cpu->model == 0x46);
}

/* Whether the running kernel has intel_iommu=on: each intel_iommu= token's
 * comma-separated options in order, as the kernel reads them. */
static bool intel_iommu_live(char *const *live) {
        bool on = false;

        for (size_t i = 0; live && live[i]; i++) {
                const char *v = strchr(live[i], '=');
                char opt[32];

                if (!v || !vhc_cmdline_same_key(live[i], "intel_iommu"))
                        continue;
                for (v++; *v;) {
                        size_t n = strcspn(v, ",");
                        size_t k = 0;

                        for (size_t j = 0; j < n && k < sizeof(opt) - 1; j++)
                                if (v[j] != '"')
                                        opt[k++] = v[j];
                        opt[k] = '\0';
                        if (streq(opt, "on"))
                                on = true;
                        else if (streq(opt, "off"))
                                on = false;
                        v += n + (v[n] == ',');
                }
        }
        return on;
}

static bool has_intel_display(const struct vhc_pci_list *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->devs[i].vendor_id == 0x8086 && vhc_pci_is_display(&l->devs[i]))
                        return true;
        return false;
}

static int check_haswell_audio(struct checker *c, const char *id) {
        const struct vhc_cpuinfo *cpu = c->in->cpu;
        const char *when;

        if (!cpu || !haswell_with_igpu(cpu))
                return 0;
        /* An integrated GPU turned off in the firmware has no audio to lose. */
        if (c->in->pci && !has_intel_display(c->in->pci))
                return 0;
        if (intel_iommu_live(c->live))
                when = "on the running kernel's command line";
        else if (strv_contains(c->wanted, "intel_iommu=on"))
                when = c->not_live[0] && c->next_boot ? "set for the next boot" : "that 'apply' sets";
        else
                return 0;
        return add(c, id, VHC_CHECK_WARN, "Haswell HDMI/DP audio", NULL,
                   strprintf("%s (family 6, model %u) with intel_iommu=on %s: the integrated GPU's HDMI/DP audio "
                       "may fail (kernel bug 60769)",
                       cpu->model_name[0] ? cpu->model_name : "Intel Haswell", cpu->model, when),
                   str("if it does, send the host's sound to another device (analog, USB, another card); "
                       "iommu = no avoids the bug but rules out passthrough"));
}

static int check_iommu_active(struct checker *c, const char *id) {
        const char *t = "IOMMU active";

        if (iommu_active(c)) {
                _cleanup_free_ char *units = vhc_cmdline_join(c->iommu_units);

                if (!units)
                        return -ENOMEM;
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("%zu IOMMU groups%s%s", c->n_groups, units[0] ? ", units: " : "", units),
                           NULL);
        }
        if (!c->in->config->iommu)
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           str("no IOMMU groups, and iommu = no in the config"),
                           str("set iommu = yes in the config, run 'virt-host-config apply', then reboot"));
        if (!c->firmware_iommu)
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           str("no IOMMU groups, and no IOMMU in the firmware's ACPI tables"),
                           str("enable VT-d or AMD-Vi (IOMMU) in the firmware setup, then reboot"));
        if (c->cmdline_error || c->not_live[0])
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           str("not yet: no IOMMU groups (the kernel arguments are not live)"),
                           str(c->next_boot ? "reboot: the kernel arguments for it are set for the next boot"
                                            : "run 'virt-host-config apply', then reboot"));
        return add(c, id, VHC_CHECK_FAIL, t, NULL,
                   str("no IOMMU groups, although the kernel arguments are live"),
                   str("check the IOMMU setting in the firmware setup and 'journalctl -k -g "
                       "\"DMAR|AMD-Vi|IOMMU\"'"));
}

enum support { UNKNOWN, SUPPORTED, UNSUPPORTED };

/* What the hardware says of interrupt remapping, before the kernel uses it. */
static int remap_support(struct checker *c, enum support *ret, char **ret_why) {
        const struct vhc_root *r = c->in->root;
        _cleanup_free_ char *dmar = NULL, *text = NULL;
        size_t len;
        int k;

        *ret = UNKNOWN;
        *ret_why = NULL;
        for (size_t i = 0; c->iommu_units[i]; i++) {
                _cleanup_free_ char *ecap = vhc_root_pathf(r, VHC_PATH_SYS_CLASS_IOMMU,
                                                           "%s/intel-iommu/ecap", c->iommu_units[i]),
                                    *amd = vhc_root_pathf(r, VHC_PATH_SYS_CLASS_IOMMU, "%s/amd-iommu",
                                                          c->iommu_units[i]),
                                    *v = NULL;

                if (!ecap || !amd)
                        return -ENOMEM;
                if (access(amd, F_OK) == 0) {
                        *ret = SUPPORTED;
                        *ret_why = strprintf("every AMD-Vi IOMMU remaps interrupts (%s)", c->iommu_units[i]);
                        return *ret_why ? 0 : -ENOMEM;
                }
                if (vhc_read_file(ecap, 64, &v, NULL) < 0)
                        continue;
                /* VT-d extended capability register, bit 3: IR. */
                *ret = strtoull(v, NULL, 16) & (1u << 3) ? SUPPORTED : UNSUPPORTED;
                *ret_why = strprintf("the extended capabilities of %s say so", c->iommu_units[i]);
                return *ret_why ? 0 : -ENOMEM;
        }
        dmar = vhc_root_pathf(r, VHC_PATH_SYS_ACPI_TABLES, "DMAR");
        if (!dmar)
                return -ENOMEM;
        k = vhc_read_file(dmar, 1 << 20, &text, &len);
        if (k == -ENOMEM)
                return k;
        /* The DMAR table's flags byte follows the 36-byte header and the host address width; bit 0:
         * INTR_REMAP. */
        if (k >= 0 && len >= 38) {
                *ret = text[37] & 1 ? SUPPORTED : UNSUPPORTED;
                *ret_why = strdup("the ACPI DMAR table's INTR_REMAP flag says so");
                return *ret_why ? 0 : -ENOMEM;
        }
        free(dmar);
        dmar = vhc_root_pathf(r, VHC_PATH_SYS_ACPI_TABLES, "IVRS");
        if (!dmar)
                return -ENOMEM;
        if (access(dmar, F_OK) == 0) {
                *ret = SUPPORTED;
                *ret_why = strdup("every AMD-Vi IOMMU remaps interrupts (ACPI IVRS table)");
                return *ret_why ? 0 : -ENOMEM;
        }
        return 0;
}

static bool unsafe_interrupts_allowed(const struct vhc_root *r) {
        _cleanup_free_ char *p = vhc_root_pathf(r, VHC_PATH_SYS_MODULE,
                                                "vfio_iommu_type1/parameters/allow_unsafe_interrupts"),
                            *v = NULL;

        return p && vhc_read_file(p, 64, &v, NULL) >= 0 && (v[0] == 'Y' || v[0] == '1');
}

static int check_interrupt_remapping(struct checker *c, const char *id) {
        _cleanup_free_ char *path = vhc_root_path(c->in->root, VHC_PATH_PROC_INTERRUPTS), *text = NULL,
                            *why = NULL;
        const char *t = "interrupt remapping";
        enum support s;
        bool have_proc;
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_read_file(path, 16 << 20, &text, NULL);
        if (r == -ENOMEM)
                return r;
        have_proc = r >= 0;
        /* With remapping on, the kernel names the interrupt chips IR-PCI-MSI, IR-IO-APIC. */
        if (have_proc && strstr(text, "IR-"))
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           str("active (IR- interrupt chips in /proc/interrupts)"), NULL);
        if (have_proc && iommu_active(c)) {
                if (unsafe_interrupts_allowed(c->in->root))
                        return add(c, id, VHC_CHECK_WARN, t, NULL,
                                   str("off; vfio_iommu_type1.allow_unsafe_interrupts lets vfio go on "
                                       "without it"),
                                   str("enable interrupt remapping (x2APIC) in the firmware setup: without "
                                       "it a "
                                       "guest can send interrupts to the host"));
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           str("off (no IR- interrupt chips in /proc/interrupts): vfio refuses to assign "
                               "devices"),
                           str("enable interrupt remapping (x2APIC) in the firmware setup, or accept the "
                               "risk with "
                               "vfio_iommu_type1.allow_unsafe_interrupts=1"));
        }
        r = remap_support(c, &s, &why);
        if (r < 0)
                return r;
        if (s == SUPPORTED)
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("supported: %s%s", why, iommu_active(c) ? "" : "; on with the IOMMU"), NULL);
        if (s == UNSUPPORTED)
                return add(c, id, VHC_CHECK_FAIL, t, NULL, strprintf("not supported: %s", why),
                           str("enable interrupt remapping (x2APIC) in the firmware setup, or accept the "
                               "risk with "
                               "vfio_iommu_type1.allow_unsafe_interrupts=1"));
        return add(c, id, VHC_CHECK_WARN, t, NULL,
                   str(iommu_active(c)
                               ? "cannot tell: no /proc/interrupts, nothing in the IOMMU's capabilities"
                               : "cannot tell before the IOMMU is active"),
                   str("after the reboot, run 'virt-host-config check' again"));
}

static bool in_group_or_slot(const struct vhc_pci_list *l, const struct vhc_pci_dev *a,
                             const struct vhc_pci_dev *b) {
        return vhc_pci_same_slot(a, b) ||
               (l->groups_known && a->iommu_group >= 0 && a->iommu_group == b->iommu_group);
}

/* Whether the config asks for d: auto and a display controller away from the
 * boot VGA device, or listed. */
static bool wanted_by_config(const struct checker *c, const struct vhc_pci_dev *d) {
        const struct vhc_pci_list *l = c->in->pci;

        switch (c->in->config->isolate) {
        case VHC_ISOLATE_LIST:
                return strv_contains(c->in->config->isolate_list, d->address);
        case VHC_ISOLATE_AUTO:
                if (!vhc_pci_is_display(d) || !l->boot_vga_known || vhc_plan_is_bmc_display(d))
                        return false;
                for (size_t i = 0; i < l->n; i++)
                        if (l->devs[i].boot_vga && in_group_or_slot(l, &l->devs[i], d))
                                return false;
                return true;
        case VHC_ISOLATE_NONE:
        default:
                return false;
        }
}

static bool is_vfio_driver(const char *drv) {
        /* vfio-pci and its variant drivers (mlx5_vfio_pci, nvgrace_gpu_vfio_pci...). */
        return drv && strstr(drv, "vfio");
}

/* Drivers vfio accepts beside its own in a group it hands to a guest: none,
 * and pci-stub. (Bridges are left out before: their pcieport is accepted.) */
static bool host_driver(const char *drv) {
        return drv && !is_vfio_driver(drv) && !streq(drv, "pci-stub");
}

static bool planned_isolate(const struct vhc_plan *p, const struct vhc_pci_dev *d) {
        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].dev == d)
                        return p->entries[i].action == VHC_ACTION_ISOLATE;
        return false;
}

/* Whether d goes to a guest: the plan isolates it, or vfio holds it now (an
 * apply made before the groups were known, driverctl, a running guest). */
static bool for_passthrough(const struct vhc_plan *p, const struct vhc_pci_dev *d) {
        return planned_isolate(p, d) || is_vfio_driver(d->driver);
}

/* vfio refuses a group while a device in it other than a bridge is bound to a
 * host driver ("group is not viable"). The plan's own devices on a host
 * driver are the binding check's; here, the others. Adds one FAIL per group
 * that is not viable and marks its devices in bad[]. */
static int check_group_viable(struct checker *c, const char *id, const struct vhc_pci_dev *d, bool *bad) {
        const struct vhc_pci_list *l = c->in->pci;
        const struct vhc_plan *p = c->in->plan;
        _cleanup_free_ char *mates = NULL;
        const char *first = NULL;
        int r;

        for (size_t j = 0; j < l->n; j++) {
                const struct vhc_pci_dev *m = &l->devs[j];
                char *n;

                if (m == d || m->iommu_group != d->iommu_group || vhc_pci_is_bridge(m) ||
                    for_passthrough(p, m) || !host_driver(m->driver))
                        continue;
                n = strprintf("%s%s%s (%s)", strempty(mates), mates ? ", " : "", m->address, m->driver);
                if (!n)
                        return -ENOMEM;
                free(mates);
                mates = n;
                first = first ? first : m->address;
        }
        if (!mates)
                return 0;
        for (size_t j = 0; j < l->n; j++)
                if (l->devs[j].iommu_group == d->iommu_group)
                        bad[j] = true;
        r = add(c, id, VHC_CHECK_FAIL, "IOMMU groups", d->address,
                strprintf("%s: IOMMU group %d is not viable: a host driver holds %s, and vfio refuses the group "
                    "while it does",
                    d->address, d->iommu_group, mates),
                strprintf("put the card in a slot with a group of its own, or give the host's devices in it to "
                    "vfio-pci too, losing them on the host ('driverctl set-override %s vfio-pci')",
                    first));
        return r < 0 ? r : 1;
}

static int check_iommu_groups(struct checker *c, const char *id) {
        const struct vhc_pci_list *l = c->in->pci;
        const struct vhc_plan *p = c->in->plan;
        const char *t = "IOMMU groups";
        _cleanup_free_ bool *bad = NULL;
        size_t n_warn = 0;
        int r;

        if (!l)
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           strprintf("cannot read the PCI devices: %s", c->in->pci_error),
                           str("check that sysfs is mounted"));
        if (!p)
                return add(c, id, VHC_CHECK_FAIL, t, NULL, strprintf("no isolation plan: %s", c->in->plan_error),
                           str("fix 'isolate' in the config (see 'virt-host-config list')"));
        if (!l->groups_known)
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           str("unknown until the IOMMU is active: the plan is made by slot, and the groups "
                               "are "
                               "verified after the reboot"),
                           str("after the reboot, run 'virt-host-config check' again"));
        bad = calloc(l->n ? l->n : 1, sizeof(bool));
        if (!bad)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                if (bad[i] || l->devs[i].iommu_group < 0 || !for_passthrough(p, &l->devs[i]))
                        continue;
                r = check_group_viable(c, id, &l->devs[i], bad);
                if (r < 0)
                        return r;
                n_warn += (size_t)r;
        }
        for (size_t i = 0; i < p->n; i++) {
                const struct vhc_plan_entry *en = &p->entries[i];
                size_t k = (size_t)(en->dev - l->devs);

                /* A group already reported as not viable says it all. */
                if (en->action != VHC_ACTION_KEEP || !wanted_by_config(c, en->dev) || (k < l->n && bad[k]))
                        continue;
                r = add(c, id, VHC_CHECK_WARN, t, en->dev->address,
                        strprintf("%s: %s", en->dev->address, en->reason),
                        str("put the card in a slot with a group of its own (often the CPU's x16 slot), or "
                            "enable "
                            "ACS in the firmware setup"));
                if (r < 0)
                        return r;
                n_warn++;
        }
        if (n_warn > 0)
                return 0;
        if (vhc_plan_count_isolated(p) == 0)
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("%zu groups; no device to isolate", c->n_groups), NULL);
        return add(c, id, VHC_CHECK_PASS, t, NULL,
                   strprintf("%zu groups; those of the isolated devices hold no other device but bridges",
                       c->n_groups),
                   NULL);
}

static int check_vfio_modules(struct checker *c, const char *id) {
        static const char *const mods[] = {"vfio", "vfio_iommu_type1", "vfio_pci"};
        _cleanup_free_ char *found = NULL, *missing = NULL;
        const char *t = "vfio modules";
        struct vhc_kmod *k = c->in->kmod;

        if (!k)
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           strprintf("cannot read the kernel modules: %s", c->in->kmod_error),
                           str("install the running kernel's modules (kernel-modules-core on Fedora)"));
        for (size_t i = 0; i < ELEMENTSOF(mods); i++) {
                enum vhc_kmod_avail a = vhc_kmod_available(k, mods[i]);
                char **s = a == VHC_KMOD_MISSING ? &missing : &found;
                char *n = strprintf("%s%s%s%s", strempty(*s), *s ? ", " : "", mods[i],
                              a == VHC_KMOD_BUILTIN ? " (built in)" : "");

                if (!n)
                        return -ENOMEM;
                free(*s);
                *s = n;
        }
        if (missing)
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           strprintf("missing from kernel %s: %s", strempty(vhc_kmod_release(k)), missing),
                           str("install the kernel's modules (kernel-modules-core on Fedora)"));
        return add(c, id, VHC_CHECK_PASS, t, NULL,
                   strprintf("%s (kernel %s)", found, strempty(vhc_kmod_release(k))), NULL);
}

static int check_kvm_group(struct checker *c, const char *id) {
        _cleanup_free_ char *path = vhc_root_path(c->in->root, VHC_PATH_ETC_GROUP), *text = NULL;
        const char *t = "group kvm";
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_read_file(path, 16 << 20, &text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add(c, id, VHC_CHECK_FAIL, t, NULL,
                           strprintf("cannot read %s: %s", vhc_path_abs(VHC_PATH_ETC_GROUP), strerror(-r)),
                           str("check the file's permissions"));
        for (const char *l = text; *l;) {
                size_t n = strcspn(l, "\n");

                if (startswith(l, "kvm:")) {
                        _cleanup_free_ char *line = strndup(l, n);
                        char *gid, *members;

                        if (!line)
                                return -ENOMEM;
                        gid = strchr(line + 4, ':');
                        gid = gid ? gid + 1 : line + n;
                        members = strchr(gid, ':');
                        if (members)
                                *members++ = '\0';
                        return add(c, id, VHC_CHECK_PASS, t, NULL,
                                   strprintf("kvm (gid %s)%s%s", gid[0] ? gid : "?",
                                       members && members[0] ? ", members: " : ", no members",
                                       members && members[0] ? members : ""),
                                   NULL);
                }
                l += n + (l[n] == '\n');
        }
        return add(c, id, VHC_CHECK_FAIL, t, NULL,
                   strprintf("no group kvm in %s", vhc_path_abs(VHC_PATH_ETC_GROUP)),
                   str("create it: systemd-sysusers does on Fedora, or 'groupadd -r kvm'"));
}

/* pam_limits' value: KiB, or unlimited. false if it is not a number. */
static bool parse_limit(const char *v, uint64_t *ret) {
        char *end;
        unsigned long long k;

        if (streq(v, "-1") || strcasecmp(v, "unlimited") == 0 || strcasecmp(v, "infinity") == 0) {
                *ret = UINT64_MAX;
                return true;
        }
        errno = 0;
        k = strtoull(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || v[0] == '-')
                return false;
        *ret = k >= UINT64_MAX / 1024 ? UINT64_MAX : (uint64_t)k * 1024;
        return true;
}

void vhc_limits_memlock(char *const *texts, char *const *names, const char *group,
                        struct vhc_memlock_limit *ret) {
        /* pam_limits' precedence: a group line (1) beats the "*" line (2); equal ones, the later. */
        int src_soft = 3, src_hard = 3;
        struct vhc_memlock_limit m = {};

        for (size_t i = 0; texts && texts[i]; i++)
                for (const char *l = texts[i]; *l;) {
                        size_t n = strcspn(l, "\n");
                        char line[1024], dom[256], type[16], item[32], val[32];
                        uint64_t v;
                        int prio;

                        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
                                 l);
                        l += n + (l[n] == '\n');
                        line[strcspn(line, "#")] = '\0';
                        if (sscanf(line, "%255s %15s %31s %31s", dom, type, item, val) != 4 ||
                            !streq(item, "memlock") || !parse_limit(val, &v))
                                continue;
                        if (dom[0] == '@' && streq(dom + 1, group))
                                prio = 1;
                        else if (streq(dom, "*"))
                                prio = 2;
                        else
                                continue;
                        if ((streq(type, "soft") || streq(type, "-")) && prio <= src_soft) {
                                src_soft = prio;
                                m.soft_set = true;
                                m.soft = v;
                                m.soft_from = names ? names[i] : NULL;
                        }
                        if ((streq(type, "hard") || streq(type, "-")) && prio <= src_hard) {
                                src_hard = prio;
                                m.hard_set = true;
                                m.hard = v;
                                m.hard_from = names ? names[i] : NULL;
                        }
                }
        *ret = m;
}

/* limits.conf, then limits.d/ *.conf in C-locale order, as pam_limits reads
 * them; names as the machine sees them. Unreadable files are left out. */
static int read_limits(const struct vhc_root *r, char ***ret_texts, char ***ret_names) {
        _cleanup_strv_free_ char **texts = calloc(1, sizeof(char *)), **names = calloc(1, sizeof(char *)),
                                 **files = NULL, **abs = calloc(1, sizeof(char *));
        _cleanup_free_ char *dir = vhc_root_path(r, VHC_PATH_LIMITS_D);
        int k;

        if (!texts || !names || !abs || !dir || strv_push_dup(&abs, vhc_path_abs(VHC_PATH_LIMITS_MAIN)) < 0)
                return -ENOMEM;
        k = list_dir(dir, ".conf", &files);
        if (k == -ENOMEM)
                return k;
        for (size_t i = 0; k >= 0 && files[i]; i++)
                if (strv_consume(&abs, strprintf("%s/%s", vhc_path_abs(VHC_PATH_LIMITS_D), files[i])) < 0)
                        return -ENOMEM;
        for (size_t i = 0; abs[i]; i++) {
                _cleanup_free_ char *path = vhc_root_join(r, abs[i]), *text = NULL;

                if (!path)
                        return -ENOMEM;
                k = vhc_read_file(path, 1 << 20, &text, NULL);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        continue;
                if (strv_consume(&texts, TAKE_PTR(text)) < 0 || strv_push_dup(&names, abs[i]) < 0)
                        return -ENOMEM;
        }
        *ret_texts = TAKE_PTR(texts);
        *ret_names = TAKE_PTR(names);
        return 0;
}

static int memlock_wanted(struct checker *c, uint64_t *ret_need, uint64_t *ret_ram, char **ret_what) {
        const struct vhc_config *cf = c->in->config;
        struct vhc_meminfo m;

        *ret_ram = vhc_meminfo_read(c->in->root, &m, NULL) >= 0 ? m.total : 0;
        switch (cf->memlock) {
        case VHC_MEMLOCK_UNLIMITED:
                *ret_need = UINT64_MAX;
                *ret_what = strdup("memlock = unlimited");
                break;
        case VHC_MEMLOCK_SIZE: {
                _cleanup_free_ char *h = human_size(cf->memlock_bytes);

                *ret_need = cf->memlock_bytes;
                *ret_what = h ? strprintf("memlock = %s", h) : NULL;
                break;
        }
        case VHC_MEMLOCK_AUTO:
        default:
                *ret_need = *ret_ram ? *ret_ram : MEMLOCK_FLOOR;
                *ret_what = strdup(*ret_ram ? "memlock = auto: the RAM" : "memlock = auto, RAM unknown");
                break;
        }
        return *ret_what ? 0 : -ENOMEM;
}

static int check_memlock(struct checker *c, const char *id) {
        _cleanup_free_ char *what = NULL, *have = NULL, *need_s = NULL;
        const char *t = "memlock of group kvm";
        const struct vhc_memlock_limit m = c->memlock;
        uint64_t need, ram, eff = c->memlock_eff;
        int r;

        if (!m.soft_set && !m.hard_set)
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           strprintf("no memlock line for @kvm in %s or %s/*.conf: the default of 8 MiB applies",
                               vhc_path_abs(VHC_PATH_LIMITS_MAIN), vhc_path_abs(VHC_PATH_LIMITS_D)),
                           strprintf("run 'virt-host-config apply' (it writes %s)",
                               vhc_path_abs(VHC_PATH_LIMITS_CONF)));
        r = memlock_wanted(c, &need, &ram, &what);
        if (r < 0)
                return r;
        have = human_size(eff);
        need_s = human_size(need);
        if (!have || !need_s)
                return -ENOMEM;
        if (eff < need)
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           strprintf("@kvm may lock %s (%s), less than %s (%s)", have,
                               strempty(m.soft_set ? m.soft_from : m.hard_from), need_s, what),
                           str("run 'virt-host-config apply', or raise the limit in the file named"));
        if (eff < MEMLOCK_FLOOR && (ram == 0 || ram > eff))
                return add(
                        c, id, VHC_CHECK_WARN, t, NULL,
                        strprintf("@kvm may lock %s (%s), less than 10 GiB: a larger guest with a device passed "
                            "through will not start",
                            have, strempty(m.soft_set ? m.soft_from : m.hard_from)),
                        str("set memlock = auto or 10G or more in the config and run 'virt-host-config "
                            "apply'"));
        return add(c, id, VHC_CHECK_PASS, t, NULL,
                   strprintf("@kvm may lock %s (%s)", have, strempty(m.soft_set ? m.soft_from : m.hard_from)),
                   NULL);
}

/* The libvirt domains defined on the machine (<root>/etc/libvirt/qemu/ *.xml):
 * the largest <memory>, and its guest's name. 0 when there is none. */
static int largest_guest(const struct vhc_root *r, uint64_t *ret_bytes, char **ret_name) {
        _cleanup_free_ char *dir = vhc_root_path(r, VHC_PATH_LIBVIRT_QEMU_DIR);
        _cleanup_strv_free_ char **files = NULL;
        int k;

        *ret_bytes = 0;
        *ret_name = NULL;
        if (!dir)
                return -ENOMEM;
        k = list_dir(dir, ".xml", &files);
        if (k < 0)
                return k == -ENOMEM ? k : 0;
        for (size_t i = 0; files[i]; i++) {
                _cleanup_free_ char *abs = strprintf("%s/%s", vhc_path_abs(VHC_PATH_LIBVIRT_QEMU_DIR), files[i]),
                                    *path = NULL, *text = NULL, *name = NULL;
                struct vhc_err e = {};
                uint64_t bytes;
                size_t len;

                if (!abs || !(path = vhc_root_join(r, abs)))
                        return -ENOMEM;
                k = vhc_read_file(path, 16 << 20, &text, &len);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        continue;
                /* What libvirt itself would refuse to load is no guest to plan for. */
                k = vhc_domxml_memory(text, len, abs, &bytes, &name, &e);
                if (k == -ENOMEM)
                        return k;
                if (k < 0 || bytes <= *ret_bytes)
                        continue;
                *ret_bytes = bytes;
                free(*ret_name);
                *ret_name = name[0] ? TAKE_PTR(name) : strdup(files[i]);
                if (!*ret_name)
                        return -ENOMEM;
        }
        return *ret_name ? 1 : 0;
}

/* VFIO pins all of a guest's RAM, so a guest larger than the memlock limit
 * of its user cannot start with a device passed through. */
static int check_memlock_guests(struct checker *c, const char *id) {
        _cleanup_free_ char *guest = NULL, *size = NULL, *have = NULL, *what = NULL;
        const char *t = "memlock for guests", *from;
        uint64_t bytes, need, ram;
        int r;

        r = largest_guest(c->in->root, &bytes, &guest);
        if (r <= 0)
                return r;
        size = human_size(bytes);
        have = human_size(c->memlock_eff);
        if (!size || !have)
                return -ENOMEM;
        from = c->memlock.soft_set   ? c->memlock.soft_from
               : c->memlock.hard_set ? c->memlock.hard_from
                                     : "the kernel's default";
        if (c->memlock_eff >= bytes)
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("the largest guest, '%s', has %s of RAM: within the %s @kvm may lock", guest,
                               size, have),
                           NULL);
        r = memlock_wanted(c, &need, &ram, &what);
        if (r < 0)
                return r;
        /* libvirt gives QEMU the guest's RAM and 1 GiB more for a guest with a host device. */
        return add(
                c, id, VHC_CHECK_WARN, t, NULL,
                strprintf("guest '%s' has %s of RAM, more than the %s @kvm may lock (%s): run by a member of kvm "
                    "with a device passed through, it cannot start",
                    guest, size, have, strempty(from)),
                need >= bytes ? strprintf("run 'virt-host-config apply' (%s)", what)
                              : strprintf("set memlock = %" PRIu64 "G (or unlimited) in the config, then run "
                                    "'virt-host-config apply'",
                                    (bytes + GIB - 1) / GIB + 1));
}

/* A QEMU firmware descriptor (docs/interop/firmware.json) of UEFI firmware for
 * x86_64 whose code file exists: that file, as the machine sees it. */
static int ovmf_from_descriptor(const struct vhc_root *r, const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        json_object *o, *a, *m, *x, *f = NULL;
        bool uefi = false, x86 = false;
        int k;

        *ret = NULL;
        k = vhc_read_file(path, 1 << 20, &text, NULL);
        if (k < 0)
                return k == -ENOMEM ? k : 0;
        o = json_tokener_parse(text);
        if (!o)
                return 0;
        if (json_object_object_get_ex(o, "interface-types", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        uefi |= streq(strempty(json_object_get_string(json_object_array_get_idx(a, i))),
                                      "uefi");
        if (json_object_object_get_ex(o, "targets", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        if (json_object_object_get_ex(json_object_array_get_idx(a, i), "architecture", &x))
                                x86 |= streq(strempty(json_object_get_string(x)), "x86_64");
        if (uefi && x86 && json_object_object_get_ex(o, "mapping", &m)) {
                if (json_object_object_get_ex(m, "executable", &x))
                        json_object_object_get_ex(x, "filename", &f);
                else
                        json_object_object_get_ex(m, "filename", &f);
        }
        if (f && json_object_is_type(f, json_type_string) && exists_in_root(r, json_object_get_string(f))) {
                *ret = strdup(json_object_get_string(f));
                if (!*ret) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        json_object_put(o);
        return 0;
}

/* The descriptors as QEMU and libvirt search them: by file name over both
 * directories, a file in /etc hiding the one of the same name in /usr (an
 * empty one is how a user turns a firmware off). */
static int find_ovmf_descriptor(const struct vhc_root *r, char **ret_code, char **ret_desc) {
        const enum vhc_path *dirs = vhc_path_list(VHC_PATHS_QEMU_FIRMWARE);
        _cleanup_strv_free_ char **all = calloc(1, sizeof(char *));
        int k;

        if (!all)
                return -ENOMEM;
        for (size_t d = 0; dirs[d] != _VHC_PATH_MAX; d++) {
                _cleanup_free_ char *p = vhc_root_path(r, dirs[d]);
                _cleanup_strv_free_ char **names = NULL;

                if (!p)
                        return -ENOMEM;
                k = list_dir(p, ".json", &names);
                if (k == -ENOMEM)
                        return k;
                for (size_t i = 0; k >= 0 && names[i]; i++)
                        if (!strv_contains(all, names[i]) && strv_push_dup(&all, names[i]) < 0)
                                return -ENOMEM;
        }
        qsort(all, strv_length(all), sizeof(char *), cmp_str);
        for (size_t i = 0; all[i]; i++)
                for (size_t d = 0; dirs[d] != _VHC_PATH_MAX; d++) {
                        _cleanup_free_ char *abs = strprintf("%s/%s", vhc_path_abs(dirs[d]), all[i]), *p = NULL,
                                            *code = NULL;
                        struct stat st;

                        if (!abs || !(p = vhc_root_join(r, abs)))
                                return -ENOMEM;
                        if (stat(p, &st) < 0)
                                continue;
                        k = ovmf_from_descriptor(r, p, &code);
                        if (k < 0)
                                return k;
                        if (code) {
                                *ret_code = TAKE_PTR(code);
                                *ret_desc = TAKE_PTR(abs);
                                return 1;
                        }
                        break;
                }
        return 0;
}

static int check_ovmf(struct checker *c, const char *id) {
        _cleanup_free_ char *code = NULL, *desc = NULL;
        const char *t = "UEFI firmware (OVMF)";
        int r;

        r = find_ovmf_descriptor(c->in->root, &code, &desc);
        if (r < 0)
                return r;
        if (r > 0)
                return add(c, id, VHC_CHECK_PASS, t, NULL, strprintf("%s (%s)", code, desc), NULL);
        /* The files without Secure Boot are what every edk2-ovmf package has. */
        for (const struct vhc_ovmf_path *o = vhc_path_ovmf(); o->code; o++)
                if (!o->secure_boot && exists_in_root(c->in->root, o->code))
                        return add(
                                c, id, VHC_CHECK_WARN, t, NULL,
                                strprintf("%s, but no firmware descriptor in %s: libvirt cannot pick it by itself",
                                    o->code, vhc_path_abs(VHC_PATH_QEMU_FIRMWARE_USR)),
                                str("install edk2-ovmf, which ships the descriptors"));
        return add(c, id, VHC_CHECK_FAIL, t, NULL, str("no UEFI firmware for x86_64 guests"),
                   str("install edk2-ovmf ('dnf install edk2-ovmf')"));
}

/* The device's driver_override: NULL when unset ("(null)") or unreadable. */
static int driver_override(const struct vhc_root *r, const char *address, char **ret) {
        _cleanup_free_ char *path = vhc_root_pathf(r, VHC_PATH_SYS_PCI_DEVICES, "%s/driver_override",
                                                   address),
                            *v = NULL;
        int k;

        *ret = NULL;
        if (!path)
                return -ENOMEM;
        k = vhc_read_file(path, 4096, &v, NULL);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return 0;
        v[strcspn(v, "\n")] = '\0';
        if (v[0] && !streq(v, "(null)"))
                *ret = TAKE_PTR(v);
        return 0;
}

/* "xhci_hcd (built into the kernel)", "nvidia-gpu (module i2c_nvidia_gpu)",
 * "snd_hda_intel": a driver as the user can act on it. The driver's module
 * link names the module, built in or not. */
static char *driver_desc(const struct checker *c, const char *drv, bool *ret_builtin) {
        _cleanup_free_ char *link =
                vhc_root_pathf_nofollow(c->in->root, VHC_PATH_SYS_BUS_PCI, "drivers/%s/module", drv);
        char target[PATH_MAX];
        const char *mod;
        ssize_t n;

        *ret_builtin = false;
        if (!link)
                return NULL;
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return strdup(drv);
        target[n] = '\0';
        mod = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        if (c->in->kmod && vhc_kmod_available(c->in->kmod, mod) == VHC_KMOD_BUILTIN) {
                *ret_builtin = true;
                return strprintf("%s (built into the kernel)", drv);
        }
        /* The kernel's rule for parameter names holds for module names: '-' is '_'. */
        if (vhc_cmdline_same_key(mod, drv))
                return strdup(drv);
        return strprintf("%s (module %s)", drv, mod);
}

static bool vfio_pci_bound(const struct vhc_pci_list *l) {
        for (size_t i = 0; l && i < l->n; i++)
                if (l->devs[i].driver && streq(l->devs[i].driver, "vfio-pci"))
                        return true;
        return false;
}

/* Applied before this boot, and still not on vfio-pci: driver_override tells
 * which step did not happen. The device still reaches a guest (libvirt's
 * managed hostdev unbinds the driver when the guest starts), hence WARN. */
static int binding_after_boot(struct checker *c, const char *id, const char *title,
                              const struct vhc_pci_dev *d) {
        const char *a = d->address, *dev_dir = vhc_path_abs(VHC_PATH_SYS_PCI_DEVICES);
        _cleanup_free_ char *ov = NULL, *desc = NULL;
        bool builtin = false;
        int r;

        r = driver_override(c->in->root, a, &ov);
        if (r < 0)
                return r;
        if (!d->driver) {
                if (ov && streq(ov, "vfio-pci") && vfio_pci_bound(c->in->pci))
                        return add(c, id, VHC_CHECK_WARN, title, a,
                                   str("bound to no driver, although driver_override says vfio-pci and "
                                       "vfio-pci is loaded: it refused the device"),
                                   str("'journalctl -k -g vfio' says why; the device may need a reset "
                                       "that it does not support"));
                if (ov && streq(ov, "vfio-pci"))
                        return add(c, id, VHC_CHECK_WARN, title, a,
                                   str("bound to no driver, although driver_override says vfio-pci: the "
                                       "vfio-pci module did not load"),
                                   str("'modprobe vfio-pci' binds it now; 'lsinitrd | grep vfio' shows "
                                       "whether the initramfs has it ('dracut -f' regenerates it)"));
                return add(c, id, VHC_CHECK_WARN, title, a,
                           str("bound to no driver, and driver_override is unset: the udev rule did not "
                               "run for it at boot"),
                           strprintf("regenerate the initramfs ('dracut -f') and reboot; 'udevadm test %s/%s' "
                               "shows whether the rule matches",
                               dev_dir, a));
        }
        desc = driver_desc(c, d->driver, &builtin);
        if (!desc)
                return -ENOMEM;
        if (ov && streq(ov, "vfio-pci"))
                return add(c, id, VHC_CHECK_WARN, title, a,
                           strprintf("bound to %s, although driver_override says vfio-pci: %s, and the udev "
                               "rule's unbind did not move it",
                               desc,
                               builtin ? "the driver took it before any rule ran"
                                       : "the driver took it before the rule set the override"),
                           strprintf("'driverctl set-override %s vfio-pci' moves it now and at every boot; "
                               "'journalctl -b -u systemd-udevd' may say why the unbind failed",
                               a));
        if (ov)
                return add(c, id, VHC_CHECK_WARN, title, a,
                           strprintf("bound to %s: driver_override says %s, set by another tool (driverctl, "
                               "libvirt)",
                               desc, ov),
                           strprintf("'driverctl unset-override %s' hands it back to the rule at the next boot; "
                               "'driverctl set-override %s vfio-pci' moves it now",
                               a, a));
        /* libvirt's managed hostdevs go back to the host driver, override cleared, when the guest stops. */
        return add(c, id, VHC_CHECK_WARN, title, a,
                   strprintf("bound to %s, and driver_override is unset: the udev rule did not run for it at "
                       "boot, or libvirt gave it back to the host when a guest stopped",
                       desc),
                   strprintf("'driverctl set-override %s vfio-pci' moves it now; if no guest ran since the boot, "
                       "regenerate the initramfs ('dracut -f') and reboot ('udevadm test %s/%s' shows "
                       "whether the rule matches)",
                       a, dev_dir, a));
}

/* An isolated display device the desktop runs on now: the reboot takes it. */
static int check_desktop(struct checker *c, const char *id, const struct vhc_pci_dev *d) {
        _cleanup_free_ char *use = NULL, *title = NULL;
        int r;

        if (d->driver && streq(d->driver, "vfio-pci"))
                return 0;
        r = vhc_desktop_use(c->in->root, d, &use);
        if (r < 0 || !use)
                return r;
        title = strprintf("%s desktop", d->address);
        if (!title)
                return -ENOMEM;
        return add(c, id, VHC_CHECK_WARN, title, d->address, vhc_desktop_warning(d, use),
                   str("plug the monitor into the card that stays with the host (the boot display), or "
                       "remove the device from 'isolate'"));
}

static int check_binding(struct checker *c, const char *id) {
        const struct vhc_plan *p = c->in->plan;
        const char *apply_hint = c->in->applied ? "reboot" : "run 'virt-host-config apply', then reboot";
        int r;

        if (!p)
                return 0; /* "IOMMU groups" said why */
        if (vhc_plan_count_isolated(p) == 0) {
                if (c->in->config->isolate == VHC_ISOLATE_NONE)
                        return add(c, id, VHC_CHECK_PASS, "devices for vfio-pci", NULL,
                                   str("none: isolate = none in the config"), NULL);
                return add(
                        c, id, VHC_CHECK_WARN, "devices for vfio-pci", NULL,
                        str(p->note ? p->note : "no device to isolate"),
                        str("name the devices to pass through in 'isolate' (see 'virt-host-config list')"));
        }
        for (size_t i = 0; i < p->n; i++) {
                const struct vhc_pci_dev *d = p->entries[i].dev;
                _cleanup_free_ char *title = NULL, *now = NULL;

                if (p->entries[i].action != VHC_ACTION_ISOLATE)
                        continue;
                title = strprintf("%s on vfio-pci", d->address);
                now = d->driver ? strprintf("bound to %s", d->driver) : strdup("bound to no driver");
                if (!title || !now)
                        return -ENOMEM;
                if (d->driver && streq(d->driver, "vfio-pci"))
                        r = add(c, id, VHC_CHECK_PASS, title, d->address, str("bound to vfio-pci"), NULL);
                else if (before_reboot(c))
                        r = add(c, id, VHC_CHECK_WARN, title, d->address,
                                c->in->applied
                                        ? strprintf("%s now; vfio-pci takes it at the next boot", now)
                                        : strprintf("%s; vfio-pci takes it after 'apply' and a reboot", now),
                                str(apply_hint));
                else if (!c->in->applied)
                        r = add(c, id, VHC_CHECK_FAIL, title, d->address, strprintf("%s: not applied yet", now),
                                str(apply_hint));
                else
                        r = binding_after_boot(c, id, title, d);
                if (r < 0)
                        return r;
                r = check_desktop(c, id, d);
                if (r < 0)
                        return r;
                if (p->entries[i].warning) {
                        _cleanup_free_ char *wt = strprintf("%s BMC display", d->address);

                        if (!wt)
                                return -ENOMEM;
                        r = add(c, id, VHC_CHECK_WARN, wt, d->address, str(p->entries[i].warning),
                                strprintf("remove %s from 'isolate' to keep the remote console", d->address));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* NVIDIA's HDMI audio function in a guest: the Windows driver sets it up
 * with line-based interrupts, and their emulation makes the sound stutter
 * and crackle; MSI fixes it, and only the guest can turn it on. */
static int check_nvidia_audio(struct checker *c, const char *id) {
        const struct vhc_plan *p = c->in->plan;
        int r;

        for (size_t i = 0; p && i < p->n; i++) {
                const struct vhc_pci_dev *d = p->entries[i].dev;
                _cleanup_free_ char *title = NULL;

                if (p->entries[i].action != VHC_ACTION_ISOLATE || d->vendor_id != 0x10de ||
                    vhc_pci_class(d) != 0x0403)
                        continue;
                title = strprintf("%s HDMI audio", d->address);
                if (!title)
                        return -ENOMEM;
                r = add(c, id, VHC_CHECK_INFO, title, d->address,
                        strprintf("NVIDIA HDMI audio (10de:%04x) goes to the guest: its Windows driver uses "
                            "line-based interrupts unless told otherwise, and the sound stutters",
                            d->device_id),
                        strprintf("in the Windows guest, set the DWORD MSISupported=1 in "
                            "HKLM\\SYSTEM\\CurrentControlSet\\Enum\\PCI\\VEN_10DE&DEV_%04X*\\*\\"
                            "Device Parameters\\Interrupt Management\\MessageSignaledInterruptProperties "
                            "(or with an MSI utility); restart the guest",
                            d->device_id));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- will the card work in a guest: reset, UEFI GOP, BARs (issue 13) ---- */

/* Every device on d's bus goes to a guest: vfio-pci may then reset the bus
 * through the bridge above it (a secondary bus reset) when the guest has
 * them all. *ret_other names one that does not. */
static bool bus_all_passed(const struct checker *c, const struct vhc_pci_dev *d, const char **ret_other) {
        const struct vhc_pci_list *l = c->in->pci;

        *ret_other = NULL;
        for (size_t i = 0; i < l->n; i++)
                if (l->devs[i].domain == d->domain && l->devs[i].bus == d->bus &&
                    !for_passthrough(c->in->plan, &l->devs[i])) {
                        *ret_other = l->devs[i].address;
                        return false;
                }
        return true;
}

/* The first method of reset_method that resets the function alone (all but bus). */
static const char *function_reset(const struct vhc_passthru_info *i) {
        if (i->reset_r < 0)
                return i->cfg_r == 0 && i->cfg.caps_read && (i->cfg.flr || i->cfg.af_flr) ? "FLR" : NULL;
        for (size_t k = 0; k < i->reset.n; k++)
                if (i->reset.m[k] != VHC_RESET_BUS)
                        return i->reset.name[k];
        return NULL;
}

/* A reset method as the user knows it (drivers/pci/pci.c, pci_reset_fn_methods[]). */
static const char *method_desc(const char *name) {
        static const struct {
                const char *name, *desc;
        } d[] = {
                {"flr", "FLR"},
                {"FLR", "FLR (PCIe DevCap)"},
                {"af_flr", "FLR (Advanced Features capability)"},
                {"pm", "a power-management reset (D3hot to D0)"},
                {"acpi", "the ACPI _RST method"},
                {"device_specific", "a device-specific reset of the kernel's"},
                {"cxl_bus", "a CXL bus reset"},
        };

        for (size_t k = 0; k < ELEMENTSOF(d); k++)
                if (streq(d[k].name, name))
                        return d[k].desc;
        return name;
}

static char *methods_text(const struct vhc_passthru_info *i) {
        _cleanup_free_ char *s = NULL;
        char *out;
        size_t len = 0;
        FILE *f;

        if (i->reset_r == -ENOENT)
                return strdup("no reset_method file: the kernel found no reset for it");
        if (i->reset_r < 0)
                return strprintf("reset_method unreadable (%s)", strerror(-i->reset_r));
        f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        fputs("reset_method:", f);
        for (size_t k = 0; k < i->reset.n; k++)
                fprintf(f, " %s", i->reset.name[k]);
        if (i->reset.n == 0)
                fputs(" empty (resets turned off)", f);
        return vhc_memstream_finish(f, &s, &out) < 0 ? NULL : out;
}

static int reset_bug(struct checker *c, const char *id, const char *title, const struct vhc_pci_dev *d,
                     const struct vhc_passthru_info *i, const struct vhc_reset_quirk *q) {
        _cleanup_free_ char *loaded_path =
                vhc_root_pathf(c->in->root, VHC_PATH_SYS_MODULE, "%s", VHC_VENDOR_RESET_MODULE);
        const char *conf = vhc_path_abs(VHC_PATH_CONFIG);
        bool loaded, installed, specific;
        const char *now;

        if (!loaded_path)
                return -ENOMEM;
        loaded = access(loaded_path, F_OK) == 0;
        installed = loaded || (c->in->kmod &&
                               vhc_kmod_available(c->in->kmod, VHC_VENDOR_RESET_MODULE) != VHC_KMOD_MISSING);
        specific = i->reset_r == 0 && i->reset.n > 0 && i->reset.m[0] == VHC_RESET_DEVICE_SPECIFIC;
        if (loaded && specific)
                return add(c, id, VHC_CHECK_PASS, title, d->address,
                           strprintf("vendor-reset's device-specific reset (%s)", q->family), NULL);
        now = !installed ? "vendor-reset is not installed"
              : !loaded  ? "vendor-reset is installed, not loaded"
                         : "vendor-reset is loaded, but reset_method does not start with device_specific";
        return add(c, id, VHC_CHECK_WARN, title, d->address,
                   strprintf("%s (%s): the reset bug; a guest's second start finds the card hung unless "
                             "vendor-reset resets it (gnif/vendor-reset lists it in src/device-db.h); %s",
                             q->family, q->cards, now),
                   !installed
                           ? strprintf("install vendor-reset (https://github.com/gnif/vendor-reset, 'dkms "
                                       "install .'), set vendor_reset = yes in %s and run 'virt-host-config "
                                       "apply', then reboot",
                                       conf)
                   : !c->in->config->vendor_reset
                           ? strprintf("set vendor_reset = yes in %s and run 'virt-host-config apply', then "
                                       "reboot: the udev rule loads vendor-reset and sets reset_method to "
                                       "device_specific",
                                       conf)
                           : strdup(c->in->applied ? "reboot: the udev rule loads vendor-reset and sets "
                                                     "reset_method to device_specific"
                                                   : "run 'virt-host-config apply', then reboot"));
}

static int reset_line(struct checker *c, const char *id, const struct vhc_pci_dev *d,
                      const struct vhc_passthru_info *i) {
        const struct vhc_reset_quirk *q = vhc_passthru_reset_quirk(d->vendor_id, d->device_id);
        _cleanup_free_ char *title = strprintf("%s reset", d->address), *methods = methods_text(i);
        const char *fn = function_reset(i), *other = NULL;

        if (!title || !methods)
                return -ENOMEM;
        if (q)
                return reset_bug(c, id, title, d, i, q);
        if (i->reset_r == 0 && i->reset.n == 0)
                return add(c, id, VHC_CHECK_WARN, title, d->address, strprintf("%s", methods),
                           strprintf("'echo default > %s/%s/reset_method' gives the kernel's methods back",
                                     vhc_path_abs(VHC_PATH_SYS_PCI_DEVICES), d->address));
        if (fn)
                return add(c, id, VHC_CHECK_PASS, title, d->address,
                           strprintf("%s resets the function alone (%s)", method_desc(fn), methods), NULL);
        if (i->parent[0] && bus_all_passed(c, d, &other))
                return add(c, id, VHC_CHECK_PASS, title, d->address,
                           strprintf("no reset of its own (%s); vfio-pci resets bus %02x through %s, "
                                     "which holds only devices that go to the guest",
                                     methods, d->bus, i->parent),
                           NULL);
        if (!i->parent[0])
                return add(c, id, VHC_CHECK_WARN, title, d->address,
                           strprintf("no reset: %s, and on a root bus there is no bridge to reset it "
                                     "through",
                                     methods),
                           strdup("a guest's second start finds it as the first one left it; if it hangs, "
                                  "reboot the host"));
        return add(
                c, id, VHC_CHECK_WARN, title, d->address,
                strprintf("no reset: %s, and bus %02x also holds %s, which stays with the host, so vfio-pci "
                          "cannot reset the bus",
                          methods, d->bus, other),
                strprintf("give %s to the guest too (isolate it), or put the card in a slot of its own; "
                          "else a guest's second start finds it as the first one left it",
                          other));
}

static int rom_line(struct checker *c, const char *id, const struct vhc_pci_dev *d) {
        _cleanup_free_ char *title = strprintf("%s UEFI GOP", d->address);
        const struct vhc_rom_image *efi;
        struct vhc_rom_read rr;
        int r;

        if (!title)
                return -ENOMEM;
        r = vhc_passthru_read_rom(c->in->root, d, VHC_ROM_TIMEOUT_MS, &rr);
        if (r < 0)
                return r;
        switch (rr.state) {
        case VHC_ROM_SKIPPED:
                return add(c, id, VHC_CHECK_INFO, title, d->address,
                           strprintf("ROM not readable now: %s", rr.why),
                           strdup("run 'virt-host-config check' again after the reboot"));
        case VHC_ROM_NONE:
                return add(c, id, VHC_CHECK_INFO, title, d->address,
                           strdup("ROM not readable now: the kernel shows no rom file for it (no expansion "
                                  "ROM BAR)"),
                           strprintf("OVMF has no driver for it then: pass a ROM file with an EFI image, "
                                     "'virt-guest-xml --rom %s=FILE'",
                                     d->address));
        case VHC_ROM_UNREADABLE:
                return add(c, id, VHC_CHECK_INFO, title, d->address,
                           strprintf("ROM not readable now: %s", rr.why),
                           rr.r == -EACCES ? strdup("run 'sudo virt-host-config check'")
                           : rr.r == -ETIMEDOUT
                                   ? strdup("the card did not answer: after a reboot (or a guest's clean "
                                            "shutdown) run 'virt-host-config check' again")
                                   : strprintf("under vfio-pci a card should give its ROM; if it stays "
                                               "unreadable, pass a ROM file with an EFI image: "
                                               "'virt-guest-xml --rom %s=FILE'",
                                               d->address));
        case VHC_ROM_READ:
                break;
        }
        efi = vhc_pcirom_efi(&rr.rom, VHC_EFI_MACHINE_X64);
        if (efi)
                return add(c, id, VHC_CHECK_PASS, title, d->address,
                           strprintf("EFI x86-64 image in ROM (image %zu of %zu, at 0x%zx)",
                                     (size_t)(efi - rr.rom.images) + 1, rr.rom.n, efi->offset),
                           NULL);
        return add(
                c, id, VHC_CHECK_WARN, title, d->address,
                strprintf("no UEFI image: OVMF shows nothing until the guest driver loads (the ROM holds "
                          "%zu image%s, none for EFI on x86-64)",
                          rr.rom.n, rr.rom.n == 1 ? "" : "s"),
                strprintf(
                        "the guest works once its driver loads (SPICE shows the installer meanwhile); "
                        "for a picture from the start flash the vendor's UEFI firmware, set the card's BIOS "
                        "switch to UEFI if it has one, or pass a ROM file with an EFI image: "
                        "'virt-guest-xml --rom %s=FILE'",
                        d->address));
}

static int bar_line(struct checker *c, const char *id, const struct vhc_pci_dev *d,
                    const struct vhc_passthru_info *i) {
        _cleanup_free_ char *title = strprintf("%s BARs", d->address), *largest_s = NULL, *sum_s = NULL,
                            *need_s = NULL, *rebar = NULL, *dyn_s = NULL;
        const struct vhc_pci_rebar *rb = NULL;
        uint64_t largest, sum, need, dyn = 0;
        unsigned bar, bits = c->in->cpu ? c->in->cpu->phys_bits : 0;

        if (!title)
                return -ENOMEM;
        if (i->res_r == -ENOENT)
                return 0; /* no resource file: nothing to say about BARs */
        if (i->res_r < 0)
                return add(c, id, VHC_CHECK_INFO, title, d->address,
                           strprintf("BARs not readable: resource %s",
                                     i->res_r == -EINVAL ? "is not as the kernel writes it"
                                                         : strerror(-i->res_r)),
                           strdup("virt-guest-xml cannot size the guest's 64-bit MMIO window for it"));
        sum = vhc_passthru_bars64(&i->res, &largest, &bar);
        if (sum == 0)
                return 0;
        need = vhc_passthru_mmio64_need(sum);
        if (i->cfg_r == 0)
                rb = vhc_pcicfg_rebar(&i->cfg, bar);
        if (rb && rb->sizes) {
                unsigned lo = (unsigned)__builtin_ctzll(rb->sizes),
                         hi = 63 - (unsigned)__builtin_clzll(rb->sizes);
                _cleanup_free_ char *lo_s = human_size(UINT64_C(1) << (20 + lo)),
                                    *hi_s = human_size(UINT64_C(1) << (20 + hi));

                if (!lo_s || !hi_s)
                        return -ENOMEM;
                rebar = strprintf(" (Resizable BAR: %s to %s)", lo_s, hi_s);
        } else
                rebar = strdup("");
        largest_s = human_size(largest);
        sum_s = human_size(sum);
        need_s = human_size(need);
        if (!rebar || !largest_s || !sum_s || !need_s)
                return -ENOMEM;
        if (need <= VHC_OVMF_MMIO64_CLASSIC)
                return add(
                        c, id, VHC_CHECK_INFO, title, d->address,
                        strprintf("largest 64-bit BAR: BAR %u, %s%s; its 64-bit BARs take %s, within the "
                                  "32 GiB 64-bit MMIO window OVMF gives by default",
                                  bar, largest_s, rebar, sum_s),
                        strdup("nothing to set for it alone; virt-guest-xml sizes the window from all the "
                               "cards a guest gets"));
        if (bits)
                dyn = vhc_passthru_ovmf_dynamic_window(bits, c->in->cpu->pdpe1gb);
        dyn_s = dyn ? human_size(dyn) : NULL;
        return add(
                c, id, VHC_CHECK_WARN, title, d->address,
                strprintf(
                        "largest 64-bit BAR: BAR %u, %s%s; with headroom the guest needs a %s 64-bit MMIO "
                        "window, more than the 32 GiB OVMF gives by default (PcdPciMmio64Size, edk2's "
                        "OvmfPkgX64.dsc)%s%s%s%s",
                        bar, largest_s, rebar, need_s, dyn_s ? "; edk2-stable202211 and later give " : "",
                        dyn_s ? dyn_s : "",
                        dyn_s ? " on this CPU instead (1/8 of the guest's physical address space, with the "
                                "host's address bits), but only where they trust its address width"
                              : "",
                        dyn && dyn < need ? ", still too little" : ""),
                strprintf("'virt-guest-xml --hostdev %s' sets opt/ovmf/X-PciMmio64Mb=%" PRIu64
                          " (<sysinfo type=\"fwcfg\">), which every OVMF honours; without it Windows shows "
                          "Code 12 or the guest does not boot; or turn Resizable BAR off in the host's "
                          "firmware",
                          d->address, need >> 20));
}

/* One line of each kind per isolated device: the reset for every one, the
 * ROM for display controllers, the BARs for devices with 64-bit ones. */
static int for_isolated(struct checker *c, const char *id,
                        int (*fn)(struct checker *c, const char *id, const struct vhc_pci_dev *d,
                                  const struct vhc_passthru_info *i),
                        bool display_only) {
        const struct vhc_plan *p = c->in->plan;
        int r;

        for (size_t k = 0; p && k < p->n; k++) {
                const struct vhc_pci_dev *d = p->entries[k].dev;
                struct vhc_passthru_info i;

                if (p->entries[k].action != VHC_ACTION_ISOLATE || (display_only && !vhc_pci_is_display(d)))
                        continue;
                r = vhc_passthru_read(c->in->root, d, &i);
                if (r < 0)
                        return r;
                r = fn(c, id, d, &i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int rom_line_i(struct checker *c, const char *id, const struct vhc_pci_dev *d,
                      const struct vhc_passthru_info *i) {
        return rom_line(c, id, d);
}

static int check_device_reset(struct checker *c, const char *id) {
        return for_isolated(c, id, reset_line, false);
}

static int check_uefi_gop(struct checker *c, const char *id) {
        return for_isolated(c, id, rom_line_i, true);
}

static int check_bars(struct checker *c, const char *id) {
        return for_isolated(c, id, bar_line, false);
}

/* The report's order; one check a line, which clang-format would pack. */
/* ---- Looking Glass ----------------------------------------------------- */

static bool kvmfr_used(const struct checker *c) {
        return c->in->kmod && vhc_kmod_available(c->in->kmod, "kvmfr") != VHC_KMOD_MISSING;
}

/* What is wrong with the shm file tmpfiles.d made or QEMU made first: its
 * owner, group, mode, or SELinux type; *ret NULL when nothing is (or it is
 * not there yet). */
static int shm_problem(struct checker *c, char **ret, bool *ret_exists) {
        const struct vhc_config *cf = c->in->config;
        const struct vhc_root *r = c->in->root;
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_SHM_LOOKING_GLASS),
                            *pp = vhc_root_path(r, VHC_PATH_ETC_PASSWD),
                            *gp = vhc_root_path(r, VHC_PATH_ETC_GROUP), *passwd = NULL, *group = NULL;
        char label[256] = "";
        struct stat st;
        uid_t uid;
        gid_t gid;
        ssize_t n;

        *ret = NULL;
        *ret_exists = false;
        if (!path || !pp || !gp)
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return 0;
        *ret_exists = true;
        if (!S_ISREG(st.st_mode)) {
                *ret = strprintf("%s is not a regular file", vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS));
                return *ret ? 0 : -ENOMEM;
        }
        if (vhc_read_file(pp, 16 << 20, &passwd, NULL) == -ENOMEM ||
            vhc_read_file(gp, 16 << 20, &group, NULL) == -ENOMEM)
                return -ENOMEM;
        if (vhc_user_group_ids(strempty(passwd), strempty(group), cf->looking_glass_user, "kvm", &uid,
                               &gid) >= 0 &&
            (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != 0660)) {
                *ret = strprintf(
                        "%s is owned by %u:%u, mode %04o, not %s:kvm 0660 as tmpfiles.d makes it "
                        "(QEMU makes it its own when a guest starts first): the client cannot map it",
                        vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS), (unsigned)st.st_uid, (unsigned)st.st_gid,
                        (unsigned)(st.st_mode & 07777), cf->looking_glass_user);
                return *ret ? 0 : -ENOMEM;
        }
        if (!exists_in_root(r, vhc_path_abs(VHC_PATH_SELINUX_CONFIG)))
                return 0;
        n = lgetxattr(path, "security.selinux", label, sizeof(label) - 1);
        label[n > 0 ? n : 0] = '\0';
        if (!strstr(label, ":svirt_tmpfs_t:")) {
                *ret = strprintf("%s has the SELinux label '%s', not svirt_tmpfs_t: QEMU (svirt_t) may not "
                                 "open it",
                                 vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS), label[0] ? label : "(none)");
                return *ret ? 0 : -ENOMEM;
        }
        return 0;
}

/* looking_glass = yes: the files apply writes for it, and kvmfr's size as loaded. */
static int check_looking_glass(struct checker *c, const char *id) {
        const struct vhc_config *cf = c->in->config;
        const struct vhc_root *r = c->in->root;
        const char *t = "Looking Glass", *shm = vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS);
        _cleanup_free_ char *sizep = NULL, *loaded = NULL, *problem = NULL;
        unsigned mib;
        bool kvmfr = kvmfr_used(c), shm_exists = false;
        int r_;

        if (!cf || !cf->looking_glass)
                return 0;
        if (vhc_looking_glass_size_mib(cf->looking_glass_width, cf->looking_glass_height, &mib) < 0)
                return -EINVAL;
        if (!exists_in_root(r, vhc_path_abs(VHC_PATH_LOOKING_GLASS_TMPFILES)) ||
            (kvmfr && !exists_in_root(r, vhc_path_abs(VHC_PATH_KVMFR_MODPROBE))))
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           strprintf("looking_glass = yes, but %s is not written yet",
                                     vhc_path_abs(
                                             exists_in_root(r, vhc_path_abs(VHC_PATH_LOOKING_GLASS_TMPFILES))
                                                     ? VHC_PATH_KVMFR_MODPROBE
                                                     : VHC_PATH_LOOKING_GLASS_TMPFILES)),
                           str("run 'virt-host-config apply', then reboot"));
        r_ = shm_problem(c, &problem, &shm_exists);
        if (r_ < 0)
                return r_;
        if (problem)
                return add(c, id, VHC_CHECK_WARN, t, NULL, TAKE_PTR(problem),
                           strprintf("with no guest running: 'rm %s && systemd-tmpfiles --create %s'", shm,
                                     vhc_path_abs(VHC_PATH_LOOKING_GLASS_TMPFILES)));
        if (!kvmfr)
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("no kvmfr module: %s, %s:kvm 0660%s, %s; %ux%u needs %u MiB "
                                     "(virt-guest-xml --looking-glass=%ux%u)",
                                     shm, cf->looking_glass_user,
                                     exists_in_root(r, vhc_path_abs(VHC_PATH_SELINUX_CONFIG))
                                             ? ", SELinux type svirt_tmpfs_t"
                                             : "",
                                     shm_exists ? "present" : "made at the next boot",
                                     cf->looking_glass_width, cf->looking_glass_height, mib,
                                     cf->looking_glass_width, cf->looking_glass_height),
                           NULL);
        sizep = vhc_root_pathf(r, VHC_PATH_SYS_MODULE, "kvmfr/parameters/static_size_mb");
        if (!sizep)
                return -ENOMEM;
        if (vhc_read_file(sizep, 64, &loaded, NULL) >= 0) {
                loaded[strcspn(loaded, "\n")] = '\0';
                if (strtoul(loaded, NULL, 10) != mib)
                        return add(c, id, VHC_CHECK_WARN, t, NULL,
                                   strprintf("kvmfr is loaded with static_size_mb=%s, %ux%u needs %u",
                                             loaded, cf->looking_glass_width, cf->looking_glass_height, mib),
                                   str("with no guest running, 'modprobe -r kvmfr && modprobe kvmfr', or "
                                       "reboot"));
        }
        return add(c, id, VHC_CHECK_PASS, t, NULL,
                   strprintf("kvmfr (kernel %s): %s of %u MiB for %ux%u, group kvm, %s",
                             strempty(vhc_kmod_release(c->in->kmod)), vhc_path_abs(VHC_PATH_KVMFR_DEV), mib,
                             cf->looking_glass_width, cf->looking_glass_height,
                             loaded ? "loaded" : "loaded at the next boot"),
                   NULL);
}

/* kvmfr: libvirt's device cgroup lets QEMU open only what qemu.conf lists. */
static int check_kvmfr_acl(struct checker *c, const char *id) {
        const struct vhc_config *cf = c->in->config;
        const char *t = "kvmfr in qemu.conf", *dev = vhc_path_abs(VHC_PATH_KVMFR_DEV),
                   *conf = vhc_path_abs(VHC_PATH_LIBVIRT_QEMU_CONF);
        _cleanup_free_ char *path = vhc_root_path(c->in->root, VHC_PATH_LIBVIRT_QEMU_CONF), *text = NULL,
                            *line = vhc_qemu_conf_acl_line(dev);
        _cleanup_strv_free_ char **acl = NULL;
        int r;

        if (!cf || !cf->looking_glass || !kvmfr_used(c))
                return 0;
        if (!path || !line)
                return -ENOMEM;
        r = vhc_read_file(path, 1 << 20, &text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = vhc_qemu_conf_acl(text, &acl);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && strv_contains(acl, dev))
                return add(c, id, VHC_CHECK_PASS, t, NULL,
                           strprintf("cgroup_device_acl in %s has %s", conf, dev), NULL);
        return add(
                c, id, VHC_CHECK_FAIL, t, NULL,
                strprintf("%s: QEMU may not open %s (libvirt reads no drop-in for qemu.conf, so "
                          "virt-host-config leaves it to you)",
                          r == -ENOENT
                                  ? "no cgroup_device_acl line in qemu.conf: libvirt's default list applies"
                          : r == -EINVAL ? "cgroup_device_acl in qemu.conf is not a list of strings"
                          : r < 0        ? "no qemu.conf"
                                         : "cgroup_device_acl in qemu.conf lacks it",
                          dev),
                strprintf("add to %s, then restart libvirt ('systemctl try-restart virtqemud.service "
                          "libvirtd.service'): %s",
                          conf, line));
}

/* A failed apply or revert (a %post in GNOME Software shows nothing) is a
 * failure of the host until a later run succeeds. No record: no result. */
static int check_last_run(struct checker *c, const char *id) {
        const struct vhc_lastrun *l = c->in->last_run;
        const char *t = "last apply or revert";
        _cleanup_free_ char *when = NULL;

        if (c->in->last_run_error)
                return add(c, id, VHC_CHECK_WARN, t, NULL,
                           strprintf("unreadable: %s", c->in->last_run_error),
                           str("remove it; the next apply or revert writes a new one"));
        if (!l)
                return 0;
        when = vhc_lastrun_time_human(l->time);
        if (!when)
                return -ENOMEM;
        if (!l->failed)
                return add(c, id, VHC_CHECK_PASS, t, NULL, strprintf("%s succeeded at %s", l->command, when),
                           NULL);
        return add(c, id, VHC_CHECK_FAIL, t, NULL,
                   strprintf("%s failed at %s: %s", l->command, when, l->error),
                   strprintf("fix what the error names, then run '%s'", l->next_step));
}

/* clang-format off */
static const struct {
        const char *id;
        int (*fn)(struct checker *c, const char *id);
} checks[] = {
        {"last-run", check_last_run},
        {"system", check_system},
        {"cpu-virtualization", check_cpu},
        {"iommu-firmware", check_iommu_firmware},
        {"kernel-args", check_kernel_args},
        {"boot-places", check_boot_places},
        {"boot-files", check_boot_files},
        {"haswell-hdmi-audio", check_haswell_audio},
        {"iommu-active", check_iommu_active},
        {"interrupt-remapping", check_interrupt_remapping},
        {"iommu-groups", check_iommu_groups},
        {"vfio-modules", check_vfio_modules},
        {"kvm-group", check_kvm_group},
        {"memlock", check_memlock},
        {"memlock-guests", check_memlock_guests},
        {"ovmf", check_ovmf},
        {"vfio-binding", check_binding},
        {"device-reset", check_device_reset},
        {"uefi-gop", check_uefi_gop},
        {"bar-size", check_bars},
        {"nvidia-audio-msi", check_nvidia_audio},
        {"looking-glass", check_looking_glass},
        {"kvmfr-cgroup-acl", check_kvmfr_acl},
};
/* clang-format on */

int vhc_check_run(const struct vhc_check_input *in, struct vhc_check_report **ret) {
        _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = calloc(1, sizeof(*rep));
        struct checker c = {.in = in, .rep = rep};
        int r;

        if (!rep)
                return -ENOMEM;
        r = vhc_system_detect(in->root, &c.system);
        if (r >= 0)
                r = prepare(&c);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(checks); i++)
                r = checks[i].fn(&c, checks[i].id);
        strv_free(c.wanted);
        strv_free(c.live);
        strv_free(c.not_live);
        strv_free(c.off);
        strv_free(c.live_off);
        strv_free(c.limit_texts);
        strv_free(c.limit_names);
        strv_free(c.iommu_units);
        free(c.cmdline_error);
        vhc_boot_report_done(&c.places);
        free(c.boot_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rep);
        return 0;
}

struct vhc_check_report *vhc_check_report_free(struct vhc_check_report *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                free(r->results[i].title);
                free(r->results[i].message);
                free(r->results[i].hint);
                free(r->results[i].device);
        }
        free(r->results);
        free(r);
        return NULL;
}

const char *vhc_check_status_name(enum vhc_check_status s) {
        switch (s) {
        case VHC_CHECK_PASS:
                return "PASS";
        case VHC_CHECK_WARN:
                return "WARN";
        case VHC_CHECK_INFO:
                return "INFO";
        case VHC_CHECK_FAIL:
        default:
                return "FAIL";
        }
}
