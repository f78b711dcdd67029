/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdarg.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>

#include "boot/regen.h"
#include "boot/store.h"
#include "spawn-cmd.h"
#include "cpuinfo.h"
#include "initramfs-tools.h"
#include "log.h"
#include "lookingglass.h"
#include "domxml.h"
#include "fileio.h"
#include "managed.h"
#include "grub-default.h"
#include "desktop.h"
#include "hostrole.h"
#include "kargs.h"
#include "kmodule.h"
#include "meminfo.h"
#include "pcidev.h"
#include "plan.h"
#include "recover.h"
#include "render.h"
#include "render-tuning.h"
#include "sha256.h"
#include "strv.h"
#include "topology.h"
#include "udiff.h"

void vhc_txn_init(struct vhc_txn *t, const struct vhc_root *r) {
        *t = (struct vhc_txn){ .root = r, .lock_fd = -1 };
        vhc_state_init(&t->before);
        vhc_state_init(&t->after);
}

void vhc_txn_done(struct vhc_txn *t) {
        vhc_changes_done(&t->ch);
        vhc_state_done(&t->before);
        vhc_state_done(&t->after);
        vhc_boot_done(&t->boot);
        strv_free(t->warnings);
        strv_free(t->state_dirs);
        if (t->lock_fd >= 0)
                close(t->lock_fd);
        *t = (struct vhc_txn){ .lock_fd = -1 };
}

_printf_(2, 3) static int warn(struct vhc_txn *t, const char *fmt, ...) {
        va_list ap;
        char *s;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return n < 0 ? -ENOMEM : strv_consume(&t->warnings, s);
}

/* tmp with the part of the machine path abs below the machine path top. */
static char *below(const char *tmp, const char *top, const char *abs) {
        return strprintf("%s%s", tmp, abs + strlen(top));
}

/* The state directory and the parents it lacks (t->state_dirs) appear at
 * once, with a record that names them: they are made under a temporary name
 * and renamed into place. A run killed before leaves only the temporary
 * directory, which the next run removes (remove_debris). */
static int make_state_dir(struct vhc_txn *t, struct vhc_err *e) {
        const char *top_abs = t->state_dirs[0], *file_abs = vhc_path_abs(VHC_PATH_STATE_FILE);
        _cleanup_free_ char *top = vhc_root_join(t->root, top_abs), *tmp = NULL, *file = NULL, *text = NULL;
        int r;

        if (!top)
                return -ENOMEM;
        r = vhc_temp_sibling_dir(top, &tmp);
        if (r < 0)
                return vhc_err_set(e, r, top, 0, "cannot create: %s", strerror(-r));
        for (size_t i = 1; r >= 0 && t->state_dirs[i]; i++) {
                _cleanup_free_ char *p = below(tmp, top_abs, t->state_dirs[i]);

                r = p ? vhc_mkdir(p, 0755) : -ENOMEM;
        }
        if (r >= 0) {
                struct vhc_state s = { .dirs = t->state_dirs };

                r = vhc_state_format(&s, &text);
        }
        if (r >= 0)
                r = (file = below(tmp, top_abs, file_abs)) ? vhc_write_file_atomic(file, text, strlen(text), 0644,
                                                                                   file_abs)
                                                          : -ENOMEM;
        if (r >= 0 && rename(tmp, top) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)vhc_remove_tree(tmp, 8);
                return vhc_err_set(e, r, top, 0, "cannot create: %s", strerror(-r));
        }
        t->made_state = true;
        return 0;
}

int vhc_txn_lock(struct vhc_txn *t, bool create, struct vhc_err *e) {
        _cleanup_free_ char *dir = vhc_root_path(t->root, VHC_PATH_STATE_DIR);
        /* vhc_root_dir() is "" for the running system. */
        const char *root = vhc_root_is_host(t->root) ? "/" : vhc_root_dir(t->root);
        int r;

        if (!dir)
                return -ENOMEM;
        /* The root directory itself: revert removes the state directory, and
         * a run waiting on a lock of that would go on in a directory that is
         * gone. Nothing of ours ever removes the root, nor creates a file for it. */
        t->lock_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->lock_fd < 0)
                return vhc_err_set(e, negative_errno(), root, 0, "cannot open: %s", strerror(errno));
        if (flock(t->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return vhc_err_set(e, negative_errno(), root, 0, "cannot lock: %s", strerror(errno));
                if (flock(t->lock_fd, LOCK_EX) < 0)
                        return vhc_err_set(e, negative_errno(), root, 0, "cannot lock: %s", strerror(errno));
        }
        if (create) {
                r = vhc_missing_dirs(t->root, vhc_path_abs(VHC_PATH_STATE_DIR), &t->state_dirs);
                if (r == -ENOLINK)
                        return vhc_err_set(
                                e, r, dir, 0,
                                "a link to a place that is not in the root: make it a directory, or "
                                "point it at one inside the root");
                if (r < 0)
                        return vhc_err_set(e, r, dir, 0, "cannot create: %s", strerror(-r));
                if (t->state_dirs && t->state_dirs[0])
                        return make_state_dir(t, e);
        }
        return 0;
}

static int load_state(struct vhc_txn *t, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(t->root, VHC_PATH_STATE_FILE);
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_state_load(&t->before, path, e);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = vhc_state_check_managed(&t->before, t->root, path, e);
        if (r < 0)
                return r;
        /* The record lock() made names only the directories it made. */
        t->had_state = !t->made_state;
        return 0;
}

/* The files apply generates: what each is for, and when a change to it
 * takes effect. A revert finds them by the path in the state record. */
static const struct generated_file {
        enum vhc_path path;
        const char *what;
        enum vhc_effect effect;
} generated_files[] = {
        {VHC_PATH_UDEV_RULE, "vfio-pci binding", VHC_EFFECT_REBOOT},
        {VHC_PATH_MODPROBE_CONF, "driver soft dependencies", VHC_EFFECT_REBOOT},
        {VHC_PATH_DRACUT_CONF, "initramfs (dracut)", VHC_EFFECT_REBOOT},
        {VHC_PATH_INITRAMFS_TOOLS_HOOK, "initramfs (initramfs-tools)", VHC_EFFECT_REBOOT},
        {VHC_PATH_LIMITS_CONF, "memlock for group kvm", VHC_EFFECT_LOGIN},
        {VHC_PATH_LIBVIRT_QEMU_HOOK, "libvirt hook: host tuning while guests run", VHC_EFFECT_LIBVIRT},
        {VHC_PATH_LOOKING_GLASS_TMPFILES, "Looking Glass shared memory", VHC_EFFECT_REBOOT},
        {VHC_PATH_KVMFR_MODPROBE, "Looking Glass kvmfr size", VHC_EFFECT_REBOOT},
        {VHC_PATH_KVMFR_MODULES_LOAD, "Looking Glass kvmfr at boot", VHC_EFFECT_REBOOT},
        {VHC_PATH_KVMFR_UDEV_RULE, "Looking Glass /dev/kvmfr0 for group kvm", VHC_EFFECT_REBOOT},
};

static const struct generated_file *generated_file_by_abs(const char *abs) {
        /* A record of an older version may name a file this one does not write. */
        static const struct generated_file unknown = {0, "generated file", VHC_EFFECT_REBOOT};

        for (size_t i = 0; i < ELEMENTSOF(generated_files); i++)
                if (streq(vhc_path_abs(generated_files[i].path), abs))
                        return &generated_files[i];
        return &unknown;
}

/* The kernel arguments, in every store the machine boots from (boot/stores.h). */
static int plan_kargs(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e) {
        _cleanup_strv_free_ char **wanted = NULL, **off = NULL;
        const char *why;
        int r;

        if (c) {
                struct vhc_cpuinfo cpu = {};

                if (c->iommu || c->hugepages_bytes) {
                        r = vhc_cpuinfo_read(t->root, &cpu, e);
                        if (r < 0)
                                return r;
                }
                if (c->hugepages_bytes) {
                        struct vhc_hugepages h;
                        struct vhc_meminfo m;

                        r = vhc_meminfo_read(t->root, &m, e);
                        if (r < 0)
                                return r;
                        r = vhc_hugepages_check(c, &cpu, m.total, &h, e);
                        if (r < 0)
                                return r;
                }
                r = vhc_kargs_wanted(c, &cpu, &wanted);
                if (r >= 0)
                        r = vhc_kargs_off(c, &cpu, &off);
                if (r < 0)
                        return r;
        }
        r = vhc_boot_plan(&t->boot, wanted, off, &t->before, &t->after, &t->ch, &t->edits, &t->warnings, e);
        if (r < 0)
                return r;
        if (wanted && wanted[0] && !t->boot.grub_defaults && t->boot.n_entry_dirs == 0 &&
            !t->boot.kernel_cmdline && t->boot.system.kind != VHC_SYSTEM_OSTREE)
                return warn(t, "no boot loader found (GRUB, systemd-boot) and no /etc/kernel/cmdline: kernel "
                               "arguments not set; add %s to your boot loader",
                            wanted[0]);
        /* A unified kernel image carries its command line: it must be rebuilt. */
        why = (t->edits.kernel_cmdline || t->edits.entries) ? vhc_boot_uki_blocker(&t->boot) : NULL;
        if (why && c)
                return vhc_err_set(e, -EOPNOTSUPP, NULL, 0,
                                   "the unified kernel images in %s/EFI/Linux carry the kernel command line, and %s "
                                   "to rebuild them: install systemd's kernel-install (and the kernel's image) and "
                                   "run apply again; nothing was changed",
                                   t->boot.esp ? t->boot.esp : "", why);
        if (why)
                return warn(t, "the unified kernel images keep their command line (%s): rebuild them by hand", why);
        return 0;
}

static bool generated_by_us(const char *text) {
        /* Line 1, or line 2 after a "#!" line (the initramfs-tools hook). */
        if (startswith(text, "#!")) {
                const char *nl = strchr(text, '\n');
                text = nl ? nl + 1 : "";
        }
        return startswith(text, "# generated by virt-host-config");
}

static int file_sha(const char *text, size_t len, char out[static 65]) {
        vhc_sha256_hex(text, len, out);
        return 0;
}

/* A file apply generates: content NULL means it should not exist. */
static int plan_generated(struct vhc_txn *t, enum vhc_path p, const char *content, mode_t mode,
                          struct vhc_err *e) {
        const char *abs = vhc_path_abs(p);
        const struct generated_file *g = generated_file_by_abs(abs);
        _cleanup_free_ char *path = vhc_root_path_nofollow(t->root, p), *old = NULL, *dir = NULL;
        const struct vhc_file_record *rec = vhc_state_find_file(&t->before, abs);
        char sha[65];
        size_t old_len;
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_read_own_file(path, &old, &old_len, e);
        if (r < 0)
                return r;
        if (old)
                file_sha(old, old_len, sha);
        if (!content)
                return 0; /* one an earlier apply wrote is removed with the others it no longer wants */
        if (old && !rec && !generated_by_us(old))
                return vhc_err_set(e, -EEXIST, path, 0,
                                   "exists and was not written by virt-host-config: move it away and run apply again");
        if (old && rec && !streq(rec->sha256, sha)) {
                r = warn(t, "%s was edited since virt-host-config wrote it: replaced", path);
                if (r < 0)
                        return r;
        }
        dir = strdup(abs);
        if (!dir)
                return -ENOMEM;
        r = vhc_missing_dirs(t->root, dirname(dir), &t->ch.mkdirs);
        if (r == -ENOLINK) {
                _cleanup_free_ char *link = vhc_root_join_nofollow(t->root, dir);

                return vhc_err_set(e, r, link ? link : path, 0,
                                   "a link to a place that is not in the root, where %s would go: make it a "
                                   "directory, or point it at one inside the root",
                                   abs);
        }
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot create its directory: %s", strerror(-r));
        for (size_t i = 0; t->ch.mkdirs && t->ch.mkdirs[i]; i++)
                if ((r = vhc_state_add_dir(&t->after, t->ch.mkdirs[i])) < 0)
                        return r;
        file_sha(content, strlen(content), sha);
        r = vhc_state_add_file(&t->after, abs, sha);
        if (r < 0)
                return r;
        return vhc_changes_add(&t->ch, abs, path, old, old_len, content, strlen(content), mode, g->what, g->effect);
}

/* The drivers that could claim an isolated device before vfio-pci: what its
 * modalias resolves to, and what holds it now. */
static int claiming_drivers(struct vhc_txn *t, const struct vhc_plan *plan, char ***ret, struct vhc_err *e) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        struct vhc_err ke = {};
        int r;

        if (!l)
                return -ENOMEM;
        if (vhc_plan_count_isolated(plan) == 0) {
                *ret = TAKE_PTR(l);
                return 0;
        }
        r = vhc_kmod_new(t->root, NULL, &k, &ke);
        if (r < 0 && (r = warn(t, "cannot read kernel modules (%s): softdeps only for the drivers bound now",
                               ke.msg)) < 0)
                return r;
        for (size_t i = 0; i < plan->n; i++) {
                const struct vhc_pci_dev *d = plan->entries[i].dev;
                _cleanup_strv_free_ char **mods = NULL;

                if (plan->entries[i].action != VHC_ACTION_ISOLATE)
                        continue;
                /* Its name goes into a modprobe.d line: a link that names no
                 * module (a sysfs that is not the kernel's) is no driver to
                 * load vfio-pci before. */
                if (d->driver && !vhc_render_module_name_ok(d->driver))
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "%s: its driver link (%s/%s/driver) names '%s', which is no "
                                           "kernel module name (letters, digits, '_', '-') and cannot go "
                                           "into %s: check that %s is the kernel's sysfs",
                                           d->address, vhc_path_abs(VHC_PATH_SYS_PCI_DEVICES), d->address,
                                           d->driver, vhc_path_abs(VHC_PATH_MODPROBE_CONF),
                                           vhc_path_abs(VHC_PATH_SYS_PCI_DEVICES));
                if (d->driver && !streq(d->driver, "vfio-pci") && !strv_contains(l, d->driver) &&
                    strv_push_dup(&l, d->driver) < 0)
                        return -ENOMEM;
                if (!k || !d->modalias || vhc_kmod_drivers_for(k, d->modalias, &mods) < 0)
                        continue;
                for (size_t j = 0; mods && mods[j]; j++)
                        if (!strv_contains(l, mods[j]) && strv_push_dup(&l, mods[j]) < 0)
                                return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int memlock_bytes(struct vhc_txn *t, const struct vhc_config *c, uint64_t *ret, struct vhc_err *e) {
        struct vhc_meminfo m;
        int r;

        switch (c->memlock) {
        case VHC_MEMLOCK_UNLIMITED:
                *ret = UINT64_MAX;
                return 0;
        case VHC_MEMLOCK_SIZE:
                *ret = c->memlock_bytes;
                return 0;
        case VHC_MEMLOCK_AUTO:
                break;
        }
        r = vhc_meminfo_read(t->root, &m, e);
        if (r < 0)
                return r;
        *ret = m.total;
        return 0;
}

static int plan_dropins(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;
        _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
        _cleanup_strv_free_ char **drivers = NULL;
        _cleanup_free_ char *udev = NULL, *modprobe = NULL, *dracut = NULL, *hook = NULL, *limits = NULL;
        const struct vhc_boot *boot = &t->boot;
        const char *rule = vhc_path_abs(VHC_PATH_UDEV_RULE);
        uint64_t memlock;
        int r;

        r = vhc_pci_scan(t->root, &l, e);
        if (r < 0)
                return r;
        r = vhc_plan_make(l, c, &plan, e);
        if (r < 0)
                return r;
        if (plan->note && (r = warn(t, "%s", plan->note)) < 0)
                return r;
        for (size_t i = 0; i < plan->n; i++) {
                _cleanup_free_ char *use = NULL;

                if (plan->entries[i].warning && (r = warn(t, "%s", plan->entries[i].warning)) < 0)
                        return r;
                if (plan->entries[i].action != VHC_ACTION_ISOLATE)
                        continue;
                if ((r = vhc_desktop_use(t->root, plan->entries[i].dev, &use)) < 0)
                        return r;
                if (use && (r = strv_consume(&t->warnings, vhc_desktop_warning(plan->entries[i].dev, use))) < 0)
                        return r;
        }
        r = claiming_drivers(t, plan, &drivers, e);
        if (r < 0)
                return r;
        r = memlock_bytes(t, c, &memlock, e);
        if (r < 0)
                return r;
        /* The initramfs binds the devices before any GPU driver loads: dracut
         * reads a drop-in, initramfs-tools runs a hook. */
        if ((r = vhc_render_udev_rule(plan, &udev)) < 0 || (r = vhc_render_modprobe(drivers, &modprobe)) < 0 ||
            (r = vhc_render_limits(memlock, &limits)) < 0 ||
            (boot->initramfs == VHC_INITRAMFS_TOOLS ? (r = vhc_render_initramfs_tools_hook(plan, rule, &hook))
                                                   : (r = vhc_render_dracut(plan, rule, &dracut))) < 0)
                return vhc_err_set(e, r, NULL, 0, "cannot render the drop-in files: %s", strerror(-r));

        if ((r = plan_generated(t, VHC_PATH_UDEV_RULE, udev, 0644, e)) < 0 ||
            (r = plan_generated(t, VHC_PATH_MODPROBE_CONF, modprobe, 0644, e)) < 0 ||
            (r = plan_generated(t, VHC_PATH_DRACUT_CONF, dracut, 0644, e)) < 0 ||
            (r = plan_generated(t, VHC_PATH_INITRAMFS_TOOLS_HOOK, hook, 0755, e)) <
                    0 ||
            (r = plan_generated(t, VHC_PATH_LIMITS_CONF, limits, 0644, e)) < 0)
                return r;
        return 0;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

        return x < y ? -1 : x > y;
}

/* The CPUs guests get with isolate_cpus = auto: those of the largest guest
 * vhc_topology_pick places, so the same code as virt-guest-xml --pin auto
 * decides, and a guest pinned by it never shares a CPU with the host's work.
 * The host keeps the core of CPU 0 (and on a hybrid CPU its efficiency cores). */
static int auto_guest_cpus(const struct vhc_topology *topo, unsigned **ret, unsigned *ret_n,
                           struct vhc_err *e) {
        for (unsigned v = topo->n_cpus; v > 0; v--) {
                _cleanup_(vhc_pinning_done) struct vhc_pinning p = {};
                unsigned *cpus;

                /* Efficiency cores stay with the host here, as documented. */
                if (vhc_topology_pick(topo, v, &p, NULL) < 0 || p.n_efficiency > 0)
                        continue;
                cpus = malloc(p.n_vcpus * sizeof(*cpus));
                if (!cpus)
                        return -ENOMEM;
                memcpy(cpus, p.vcpu_cpu, p.n_vcpus * sizeof(*cpus));
                qsort(cpus, p.n_vcpus, sizeof(*cpus), cmp_unsigned);
                *ret = cpus;
                *ret_n = p.n_vcpus;
                return 0;
        }
        /* For its message, which says why. */
        return vhc_topology_pick(topo, 1, &(struct vhc_pinning){}, e);
}

static bool has_cpu(const unsigned *cpus, unsigned n, unsigned cpu) {
        return bsearch(&cpu, cpus, n, sizeof(*cpus), cmp_unsigned) != NULL;
}

/* cpus[] that are (want true) or are not in the sorted set[], as a list. NULL on OOM. */
static char *cpus_where(const unsigned *cpus, unsigned n, const unsigned *set, unsigned n_set, bool want,
                        unsigned *ret_n) {
        _cleanup_free_ unsigned *l = calloc(n + 1, sizeof(*l));
        unsigned k = 0;

        if (!l)
                return NULL;
        for (unsigned i = 0; i < n; i++)
                if (has_cpu(set, n_set, cpus[i]) == want)
                        l[k++] = cpus[i];
        *ret_n = k;
        return vhc_cpulist_format(l, k);
}

/* The CPU lists of isolate_cpus: *ret_guest the guests', *ret_host the rest
 * of the online CPUs; both NULL with isolate_cpus = none. */
static int isolate_cpus(struct vhc_txn *t, const struct vhc_config *c, char **ret_guest, char **ret_host,
                        struct vhc_err *e) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *topo = NULL;
        _cleanup_free_ unsigned *guest = NULL, *online = NULL;
        _cleanup_free_ char *missing = NULL, *g = NULL, *h = NULL, *on = NULL;
        unsigned n_guest = 0, n_online = 0, n_missing, n_host, n;
        struct vhc_err te = {};
        int r;

        *ret_guest = *ret_host = NULL;
        if (c->isolate_cpus == VHC_ISOLATE_CPUS_NONE)
                return 0;
        r = vhc_topology_read(t->root, &topo, &te);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vhc_config_err(c, e, c->isolate_cpus_line,
                                      "isolate_cpus: cannot read the CPU topology: %s%s%s", te.file,
                                      te.file[0] ? ": " : "", te.msg);
        if (c->isolate_cpus == VHC_ISOLATE_CPUS_AUTO) {
                r = auto_guest_cpus(topo, &guest, &n_guest, &te);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return vhc_config_err(c, e, c->isolate_cpus_line, "isolate_cpus = auto: %s", te.msg);
        } else {
                r = vhc_cpulist_parse(c->isolate_cpus_list, &guest, &n_guest);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || n_guest == 0)
                        return vhc_config_err(c, e, c->isolate_cpus_line,
                                              "isolate_cpus: '%s' is not a CPU list", c->isolate_cpus_list);
        }

        online = calloc(topo->n_cpus + 1, sizeof(*online));
        if (!online)
                return -ENOMEM;
        for (size_t k = 0; k < topo->n_cores; k++)
                for (unsigned i = 0; i < topo->cores[k].n_cpus && n_online < topo->n_cpus; i++)
                        online[n_online++] = topo->cores[k].cpus[i];
        qsort(online, n_online, sizeof(*online), cmp_unsigned);

        missing = cpus_where(guest, n_guest, online, n_online, false, &n_missing);
        g = cpus_where(guest, n_guest, online, n_online, true, &n);
        h = cpus_where(online, n_online, guest, n_guest, false, &n_host);
        on = vhc_cpulist_format(online, n_online);
        if (!missing || !g || !h || !on)
                return -ENOMEM;
        if (n_missing > 0)
                return vhc_config_err(c, e, c->isolate_cpus_line,
                                      "isolate_cpus: CPU%s %s %s not online on this host (online: %s)",
                                      n_missing > 1 ? "s" : "", missing, n_missing > 1 ? "are" : "is", on);
        if (n_host == 0)
                return vhc_config_err(
                        c, e, c->isolate_cpus_line,
                        "isolate_cpus: '%s' leaves no CPU to the host (online: %s): keep at least "
                        "CPU 0 out of the list",
                        c->isolate_cpus_list, on);
        *ret_guest = TAKE_PTR(g);
        *ret_host = TAKE_PTR(h);
        return 0;
}

/* The libvirt hook that applies cpu_governor and isolate_cpus while guests run. */
static int plan_tuning(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e) {
        _cleanup_free_ char *guest = NULL, *host = NULL, *hook = NULL, *path = NULL;
        struct vhc_hook_tuning h = {
                .governor_performance = c->cpu_governor == VHC_GOVERNOR_PERFORMANCE,
                .sys_cpu_abs = vhc_path_abs(VHC_PATH_SYS_CPU),
                .run_dir_abs = vhc_path_abs(VHC_PATH_HOOK_RUN_DIR),
        };
        bool existed;
        int r;

        r = isolate_cpus(t, c, &guest, &host, e);
        if (r < 0)
                return r;
        h.guest_cpus = guest;
        h.host_cpus = host;
        r = vhc_render_qemu_hook(&h, &hook);
        if (r < 0)
                return vhc_err_set(e, r, NULL, 0, "cannot render the libvirt hook: %s", strerror(-r));
        path = vhc_root_path(t->root, VHC_PATH_LIBVIRT_QEMU_HOOK);
        if (!path)
                return -ENOMEM;
        existed = access(path, F_OK) == 0;
        r = plan_generated(t, VHC_PATH_LIBVIRT_QEMU_HOOK, hook, 0755, e);
        if (r < 0)
                return r;
        /* libvirt looks for hooks when it starts (and on SIGHUP), not when a guest does. */
        if (hook && !existed)
                return warn(t, "libvirt finds new hooks only when it starts: run 'systemctl try-restart "
                               "virtqemud.service libvirtd.service' (running guests keep running)");
        return 0;
}

/* looking_glass_user must be able to own the shm file and open /dev/kvmfr0. */
static int check_looking_glass_user(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e) {
        _cleanup_free_ char *pp = vhc_root_path(t->root, VHC_PATH_ETC_PASSWD),
                            *gp = vhc_root_path(t->root, VHC_PATH_ETC_GROUP), *passwd = NULL, *group = NULL;
        const char *u = c->looking_glass_user;
        size_t len;
        int r;

        if (!pp || !gp)
                return -ENOMEM;
        if ((r = vhc_read_machine_file(pp, &passwd, &len, e)) < 0 ||
            (r = vhc_read_machine_file(gp, &group, &len, e)) < 0)
                return r;
        r = vhc_user_in_group(strempty(passwd), strempty(group), u, "kvm");
        if (r == -ENOENT)
                return vhc_config_err(c, e, c->looking_glass_user_line,
                                      "looking_glass_user: no user '%s' in %s", u,
                                      vhc_path_abs(VHC_PATH_ETC_PASSWD));
        if (r == -ESRCH)
                return vhc_config_err(
                        c, e, c->looking_glass_user_line,
                        "looking_glass_user: no group kvm in %s: create it ('groupadd -r kvm')",
                        vhc_path_abs(VHC_PATH_ETC_GROUP));
        if (r == 0)
                return vhc_config_err(
                        c, e, c->looking_glass_user_line,
                        "looking_glass_user: '%s' is not a member of group kvm: run 'usermod -aG kvm %s' "
                        "and apply again",
                        u, u);
        return 0;
}

static bool kvmfr_installed(struct vhc_txn *t) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;
        struct vhc_err ignored = {};

        return vhc_kmod_new(t->root, NULL, &k, &ignored) >= 0 &&
               vhc_kmod_available(k, "kvmfr") != VHC_KMOD_MISSING;
}

/* Whether libvirt lets QEMU open dev: qemu.conf's cgroup_device_acl names it. */
static bool qemu_conf_allows(const struct vhc_root *root, const char *dev) {
        _cleanup_free_ char *path = vhc_root_path(root, VHC_PATH_LIBVIRT_QEMU_CONF), *text = NULL;
        _cleanup_strv_free_ char **acl = NULL;

        return path && vhc_read_file(path, 1 << 20, &text, NULL) >= 0 &&
               vhc_qemu_conf_acl(text, &acl) >= 0 && strv_contains(acl, dev);
}

/* looking_glass = yes: the shm file always (a guest without kvmfr uses it),
 * and kvmfr's files when the module is installed for the kernel, as
 * virt-guest-xml then writes the guest for /dev/kvmfr0. */
static int plan_looking_glass(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e) {
        _cleanup_free_ char *tmpfiles = NULL, *modprobe = NULL, *load = NULL, *udev = NULL, *sel = NULL,
                            *line = NULL;
        const char *kvmfr = vhc_path_abs(VHC_PATH_KVMFR_DEV);
        unsigned mib;
        int r;

        if (c->looking_glass) {
                r = check_looking_glass_user(t, c, e);
                if (r < 0)
                        return r;
                sel = vhc_root_path(t->root, VHC_PATH_SELINUX_CONFIG);
                if (!sel)
                        return -ENOMEM;
                r = vhc_render_looking_glass_tmpfiles(vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS),
                                                      c->looking_glass_user, access(sel, F_OK) == 0,
                                                      &tmpfiles);
                if (r >= 0 && kvmfr_installed(t)) {
                        r = vhc_looking_glass_size_mib(c->looking_glass_width, c->looking_glass_height,
                                                       &mib);
                        if (r >= 0)
                                r = vhc_render_kvmfr_modprobe(mib, c->looking_glass_width,
                                                              c->looking_glass_height, &modprobe);
                        if (r >= 0)
                                r = vhc_render_kvmfr_modules_load(&load);
                        if (r >= 0)
                                r = vhc_render_kvmfr_udev_rule(&udev);
                }
                if (r < 0)
                        return vhc_err_set(e, r, NULL, 0, "cannot render the Looking Glass files: %s",
                                           strerror(-r));
        }
        if ((r = plan_generated(t, VHC_PATH_LOOKING_GLASS_TMPFILES, tmpfiles, 0644, e)) < 0 ||
            (r = plan_generated(t, VHC_PATH_KVMFR_MODPROBE, modprobe, 0644, e)) < 0 ||
            (r = plan_generated(t, VHC_PATH_KVMFR_MODULES_LOAD, load, 0644, e)) < 0 ||
            (r = plan_generated(t, VHC_PATH_KVMFR_UDEV_RULE, udev, 0644, e)) < 0)
                return r;
        /* libvirt has no drop-in directory for qemu.conf, and qemu.conf is the
         * user's: say what to add rather than edit it. */
        if (udev && !qemu_conf_allows(t->root, kvmfr)) {
                line = vhc_qemu_conf_acl_line(kvmfr);
                if (!line)
                        return -ENOMEM;
                return warn(t,
                            "Looking Glass: libvirt lets QEMU open %s only when %s's cgroup_device_acl "
                            "names it, "
                            "and reads no drop-in for that file: add the line '%s' there",
                            kvmfr, vhc_path_abs(VHC_PATH_LIBVIRT_QEMU_CONF), line);
        }
        return 0;
}

/* Takes s out of l (in place). */
static void strv_drop(char **l, const char *s) {
        size_t j = 0;

        for (size_t i = 0; l && l[i]; i++) {
                if (streq(l[i], s))
                        free(l[i]);
                else
                        l[j++] = l[i];
        }
        if (l)
                l[j] = NULL;
}

static char *tracked_text(char *const *l) {
        char *s = strdup(strv_length(l) ? "Tracked files:\n" : "No tracked files.\n");

        for (size_t i = 0; s && l && l[i]; i++) {
                char *n = strprintf("%s  %s\n", s, l[i]);

                free(s);
                s = n;
        }
        return s;
}

/* On rpm-ostree the initramfs is made for the deployment, not by dracut
 * here: it carries the udev rule and the modprobe drop-in once they are
 * tracked (`rpm-ostree initramfs-etc --track`). Only what we tracked is
 * untracked again; a file the user tracked before stays tracked. */
static int plan_initramfs_etc(struct vhc_txn *t, struct vhc_err *e) {
        static const enum vhc_path carried[] = {VHC_PATH_UDEV_RULE, VHC_PATH_MODPROBE_CONF};
        _cleanup_strv_free_ char **now = NULL, **next = NULL, **argv = NULL,
                                 **wanted = calloc(1, sizeof(char *));
        _cleanup_free_ char *old = NULL, *new = NULL;
        bool ostree = t->boot.system.kind == VHC_SYSTEM_OSTREE;
        int r;

        if (!wanted)
                return -ENOMEM;
        for (size_t i = 0; ostree && !t->reverting && i < ELEMENTSOF(carried); i++)
                if (vhc_state_find_file(&t->after, vhc_path_abs(carried[i])) &&
                    strv_push_dup(&wanted, vhc_path_abs(carried[i])) < 0)
                        return -ENOMEM;
        if (strv_length(wanted) == 0 && strv_length(t->before.initramfs_etc) == 0)
                return 0;
        r = vhc_store_ostree_tracked(&t->boot, &now, e);
        if (r < 0)
                return r;
        next = strv_copy(now);
        if (!next || strv_push_dup(&argv, t->boot.rpm_ostree) < 0 ||
            strv_push_dup(&argv, "initramfs-etc") < 0)
                return -ENOMEM;
        for (size_t i = 0; wanted[i]; i++) {
                if (!strv_contains(now, wanted[i])) {
                        if (strv_consume(&argv, strprintf("--track=%s", wanted[i])) < 0 ||
                            strv_push_dup(&next, wanted[i]) < 0)
                                return -ENOMEM;
                } else if (!strv_contains(t->before.initramfs_etc, wanted[i]))
                        continue; /* the user's */
                if ((r = vhc_state_add_initramfs_etc(&t->after, wanted[i])) < 0)
                        return r;
        }
        for (size_t i = 0; t->before.initramfs_etc && t->before.initramfs_etc[i]; i++) {
                const char *f = t->before.initramfs_etc[i];

                if (strv_contains(wanted, f) || !strv_contains(now, f))
                        continue;
                if (strv_consume(&argv, strprintf("--untrack=%s", f)) < 0)
                        return -ENOMEM;
                strv_drop(next, f);
        }
        if (strv_length(argv) == 2)
                return 0;
        old = tracked_text(now);
        new = tracked_text(next);
        if (!old || !new)
                return -ENOMEM;
        return vhc_changes_add_command(&t->ch, "rpm-ostree initramfs-etc", old, new, argv,
                                       "/etc files in the initramfs (rpm-ostree initramfs-etc)",
                                       VHC_EFFECT_REBOOT);
}

/* The suffix that keeps an edited file of ours out of what reads its
 * directory: ".rpmsave", as rpm keeps a modified %config file on erase.
 * Unlike rpm, never over what is there already (an earlier .rpmsave is the
 * user's edit too): ".rpmsave.1", ".2" and on, unless one of them holds
 * these very bytes (the same edit, saved before). */
static int save_suffix(const char *path, const char *text, size_t len, char **ret) {
        for (unsigned n = 0; n < 100; n++) {
                _cleanup_free_ char *suffix = n ? strprintf(".rpmsave.%u", n) : strdup(".rpmsave"), *p = NULL,
                                    *there = NULL;
                size_t l;
                int r;

                if (!suffix || !(p = strprintf("%s%s", path, suffix)))
                        return -ENOMEM;
                r = vhc_read_file_nofollow(p, VHC_MANAGED_FILE_MAX, &there, &l);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT || (r == 0 && l == len && memcmp(there, text, len) == 0)) {
                        *ret = TAKE_PTR(suffix);
                        return 0;
                }
        }
        return -EEXIST;
}

/* Removes a file we wrote. One that someone edited since is theirs, but it
 * still holds our lines (a vfio-pci binding, a soft dependency, a hook):
 * left active, it would keep binding a device after the package is gone,
 * and rpm deletes a %ghost file on erase whatever it holds. So it moves to
 * PATH.rpmsave (save_suffix), which no reader of the directory takes
 * (udev: *.rules; modprobe.d, modules-load.d, tmpfiles.d, limits.d,
 * dracut.conf.d: *.conf), without its execute bits (libvirt runs every
 * executable file of hooks/qemu.d, whatever its name), and rpm, which does
 * not own that name, leaves it alone. */
static int plan_removal(struct vhc_txn *t, const struct vhc_file_record *rec, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_join_nofollow(t->root, rec->path), *old = NULL, *suffix = NULL;
        const struct generated_file *g = generated_file_by_abs(rec->path);
        struct vhc_err le = {};
        char sha[65];
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_read_own_file(path, &old, &len, &le);
        /* Someone else's now: never read through it, never removed. */
        if (r == -ELOOP || r == -EBADFD)
                return warn(t, "%s: %s: left in place", path,
                            r == -ELOOP ? "a symbolic link now, not the file virt-host-config wrote"
                                        : "not a regular file now");
        if (r < 0)
                return vhc_err_set(e, r, le.file, le.line, "%s", le.msg);
        if (r < 0 || !old)
                return r;
        file_sha(old, len, sha);
        if (!streq(sha, rec->sha256)) {
                r = save_suffix(path, old, len, &suffix);
                if (r == -EEXIST)
                        return vhc_err_set(e, r, path, 0,
                                           "was edited since virt-host-config wrote it, and %s.rpmsave up to "
                                           ".rpmsave.99 exist: move those away and run again",
                                           path);
                if (r < 0)
                        return r;
                r = warn(t,
                         "%s was edited since virt-host-config wrote it: kept as %s%s, so nothing of it stays "
                         "active",
                         path, path, suffix);
                if (r < 0)
                        return r;
        }
        r = vhc_changes_add(&t->ch, rec->path, path, old, len, NULL, 0, 0644, g->what, g->effect);
        if (r < 0)
                return r;
        t->ch.v[t->ch.n - 1].save = TAKE_PTR(suffix);
        return 0;
}

/* The boot files the changes need rebuilt, and what an earlier run left owed. */
static int plan_regen(struct vhc_txn *t) {
        static const enum vhc_path initramfs[] = { VHC_PATH_UDEV_RULE, VHC_PATH_MODPROBE_CONF,
                                                   VHC_PATH_DRACUT_CONF, VHC_PATH_INITRAMFS_TOOLS_HOOK };
        bool carried = false;

        for (size_t i = 0; i < ELEMENTSOF(initramfs); i++)
                carried |= vhc_changes_find(&t->ch, vhc_path_abs(initramfs[i])) != NULL;
        t->regen = vhc_boot_regen_need(&t->boot, t->edits.grub_defaults, t->edits.kernel_cmdline, carried);
        t->after.pending = t->before.pending | t->regen;
        return 0;
}

size_t vhc_txn_n_shown(const struct vhc_txn *t) {
        size_t n = 0;

        for (size_t i = 0; i < t->ch.n; i++)
                n += !t->ch.v[i].touch;
        return n;
}

int vhc_txn_plan_apply(struct vhc_txn *t, const struct vhc_config *c, struct vhc_err *e) {
        int r;

        r = load_state(t, e);
        if (r < 0)
                return r;
        r = vhc_boot_detect(t->root, &t->boot, e);
        if (r < 0)
                return r;
        r = plan_kargs(t, c, e);
        if (r < 0)
                return r;
        r = plan_dropins(t, c, e);
        if (r < 0)
                return r;
        r = plan_tuning(t, c, e);
        if (r < 0)
                return r;
        r = plan_looking_glass(t, c, e);
        if (r < 0)
                return r;
        r = plan_initramfs_etc(t, e);
        if (r < 0)
                return r;
        /* Files an earlier apply wrote that this one does not know any more. */
        for (size_t i = 0; i < t->before.n_files; i++)
                if (!vhc_state_find_file(&t->after, t->before.files[i].path) &&
                    (r = plan_removal(t, &t->before.files[i], e)) < 0)
                        return r;
        /* The state directory is ours if this run made it, or an earlier one did. */
        for (size_t i = 0; t->state_dirs && t->state_dirs[i]; i++)
                if ((r = vhc_state_add_dir(&t->after, t->state_dirs[i])) < 0)
                        return r;
        for (size_t i = 0; t->before.dirs && t->before.dirs[i]; i++) {
                _cleanup_free_ char *p = vhc_root_join(t->root, t->before.dirs[i]);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) == 0 && (r = vhc_state_add_dir(&t->after, t->before.dirs[i])) < 0)
                        return r;
        }
        return plan_regen(t);
}

int vhc_txn_plan_revert(struct vhc_txn *t, struct vhc_err *e) {
        int r;

        t->reverting = true;
        r = load_state(t, e);
        if (r < 0)
                return r;
        r = vhc_boot_detect(t->root, &t->boot, e);
        if (r < 0)
                return r;
        r = plan_kargs(t, NULL, e);
        if (r < 0)
                return r;
        for (size_t i = 0; t->before.dirs && t->before.dirs[i]; i++)
                if ((r = vhc_state_add_dir(&t->after, t->before.dirs[i])) < 0)
                        return r;
        /* Untracked before the files go. */
        r = plan_initramfs_etc(t, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->before.n_files; i++)
                if ((r = plan_removal(t, &t->before.files[i], e)) < 0)
                        return r;
        return plan_regen(t);
}

static int write_state(struct vhc_txn *t, const struct vhc_state *s, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(t->root, VHC_PATH_STATE_FILE), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        if (vhc_state_empty(s)) {
                r = vhc_remove_file(path);
                if (r < 0 && r != -ENOENT)
                        return vhc_err_set(e, r, path, 0, "cannot remove: %s", strerror(-r));
                return 0;
        }
        r = vhc_state_format(s, &text);
        if (r < 0)
                return r;
        r = vhc_write_file_atomic(path, text, strlen(text), 0644, vhc_path_abs(VHC_PATH_STATE_FILE));
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot write: %s", strerror(-r));
        return 0;
}

/* A directory we made stays while it holds what is not ours: says so when
 * that is a file this run kept as .rpmsave in it (the user's other files
 * there are theirs to keep, silently). */
static int warn_kept_dir(struct vhc_txn *t, const char *abs, const char *path) {
        for (size_t i = 0; i < t->ch.n; i++) {
                const struct vhc_file_change *c = &t->ch.v[i];
                const char *slash = c->save ? strrchr(c->abs, '/') : NULL;

                if (slash && (size_t)(slash - c->abs) == strlen(abs) && strneq(c->abs, abs, strlen(abs)))
                        return warn(t, "%s stays: it holds %s%s", path, c->path, c->save);
        }
        return 0;
}

/* Removes the directories a state record says we made, deepest first, if empty. */
static int remove_dirs(struct vhc_txn *t, char *const *dirs, struct vhc_err *e) {
        for (size_t i = strv_length(dirs); i-- > 0;) {
                _cleanup_free_ char *p = vhc_root_join_nofollow(t->root, dirs[i]);
                int r;

                if (!p)
                        return -ENOMEM;
                r = vhc_rmdir(p);
                if (r == -ENOTEMPTY && warn_kept_dir(t, dirs[i], p) < 0)
                        return -ENOMEM;
                /* A link or a file there now is not the directory we made. */
                if (r == -ENOTEMPTY || r == -EEXIST || r == -ENOTDIR)
                        continue;
                if (r < 0)
                        return vhc_err_set(e, r, p, 0, "cannot remove directory: %s", strerror(-r));
        }
        return 0;
}

/* Whether the machine path d is the state directory or one of its parents. */
static bool on_state_path(const char *d) {
        const char *sd = vhc_path_abs(VHC_PATH_STATE_DIR);
        size_t n = strlen(d);

        return strneq(sd, d, n) && (sd[n] == '/' || sd[n] == '\0');
}

/* Whether the directory at path holds nothing but the entry only (NULL: the
 * state record and the last-run record, which goes with it after a revert)
 * and the temporary files of their writes. */
static bool holds_only(const char *path, const char *only) {
        const char *state = strrchr(vhc_path_abs(VHC_PATH_STATE_FILE), '/') + 1,
                   *last = strrchr(vhc_path_abs(VHC_PATH_LAST_RUN), '/') + 1;
        _cleanup_free_ char *tmp_prefix = strprintf(".#%s.", state), *last_prefix = strprintf(".#%s.", last);
        struct dirent *de;
        bool ok = tmp_prefix && last_prefix;
        DIR *d = opendir(path);

        if (!d)
                return false;
        while (ok && (de = readdir(d)))
                ok = streq(de->d_name, ".") || streq(de->d_name, "..") ||
                     (only ? streq(de->d_name, only)
                           : streq(de->d_name, state) || startswith(de->d_name, tmp_prefix) ||
                                      streq(de->d_name, last) || startswith(de->d_name, last_prefix));
        closedir(d);
        return ok;
}

/* Removes the record and those of the directories dirs (ours, parents first)
 * that are then empty. The state directory goes with the parents of it we
 * made in one rename to a temporary name, so that a run killed on the way
 * leaves the record in place or only a temporary directory (remove_debris). */
static int remove_state(struct vhc_txn *t, char *const *dirs, struct vhc_err *e) {
        _cleanup_free_ char *sp = vhc_root_path(t->root, VHC_PATH_STATE_FILE), *top = NULL, *tmp = NULL;
        _cleanup_strv_free_ char **other = calloc(1, sizeof(char *));
        const char *top_abs = NULL;
        bool whole = true;
        int r;

        if (!sp || !other)
                return -ENOMEM;
        for (size_t i = 0; dirs && dirs[i]; i++)
                if (!on_state_path(dirs[i])) {
                        if (strv_push_dup(&other, dirs[i]) < 0)
                                return -ENOMEM;
                } else if (!top_abs || strlen(dirs[i]) < strlen(top_abs))
                        top_abs = dirs[i];
        r = remove_dirs(t, other, e);
        if (r < 0)
                return r;
        /* From top_abs down, each directory must hold only the next one. */
        for (size_t n = top_abs ? strlen(top_abs) : 0; top_abs && whole;) {
                const char *sd = vhc_path_abs(VHC_PATH_STATE_DIR), *next;
                _cleanup_free_ char *d = strndup(sd, n), *p = NULL, *name = NULL;

                if (!d || !(p = vhc_root_join(t->root, d)))
                        return -ENOMEM;
                if (sd[n] == '\0') {
                        whole = holds_only(p, NULL);
                        break;
                }
                next = strchrnul(sd + n + 1, '/');
                name = strndup(sd + n + 1, (size_t)(next - sd - n - 1));
                if (!name)
                        return -ENOMEM;
                whole = holds_only(p, name);
                n = (size_t)(next - sd);
        }
        if (top_abs && whole) {
                top = vhc_root_join(t->root, top_abs);
                if (!top)
                        return -ENOMEM;
                r = vhc_temp_sibling_dir(top, &tmp);
                if (r >= 0 && rename(top, tmp) < 0)
                        r = negative_errno();
                if (r >= 0)
                        (void)vhc_remove_tree(tmp, 8);
                else if (tmp)
                        (void)rmdir(tmp);
                if (r < 0)
                        return vhc_err_set(e, r, top, 0, "cannot remove directory: %s", strerror(-r));
                return 0;
        }
        r = write_state(t, &(struct vhc_state){}, e);
        if (r < 0)
                return r;
        if (access(sp, F_OK) == 0 || errno != ENOENT)
                return 0;
        for (size_t i = 0; dirs && dirs[i]; i++)
                if (on_state_path(dirs[i]) && (r = strv_push_dup(&other, dirs[i])) < 0)
                        return r;
        return remove_dirs(t, other, e);
}

/* A change a tool makes (rpm-ostree): it makes it whole or not at all. */
static int commit_command(struct vhc_txn *t, const struct vhc_file_change *c, struct vhc_err *e) {
        _cleanup_free_ char *out = NULL, *shown = vhc_argv_to_string(c->argv);
        int status, r;

        if (!shown)
                return -ENOMEM;
        r = vhc_spawn(c->argv, vhc_root_is_host(t->root) ? NULL : vhc_root_dir(t->root), &out, &status);
        vhc_log_command(c->argv, r < 0 ? r : status);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vhc_err_set(e, r, NULL, 0, "could not run %s: %s; run apply again", shown,
                                   strerror(-r));
        if (status != 0) {
                size_t n = strlen(out);

                while (n > 0 && out[n - 1] == '\n')
                        out[--n] = '\0';
                return vhc_err_set(
                        e, -EIO, NULL, 0,
                        "%s failed with exit status %d (%s): fix that and run 'virt-host-config %s' "
                        "again",
                        shown, status, strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out,
                        t->reverting ? "revert" : "apply");
        }
        vhc_log_change(VHC_LOG_UPDATED, c->abs, c->what);
        return 0;
}

static int commit_change(struct vhc_txn *t, const struct vhc_file_change *c, struct vhc_err *e) {
        int r;

        if (c->argv)
                return commit_command(t, c, e);
        if (c->touch) {
                if (utimensat(AT_FDCWD, c->path, NULL, 0) < 0)
                        return vhc_err_set(e, negative_errno(), c->path, 0, "cannot set its modification time: %s",
                                           strerror(errno));
                return 0;
        }

        if (!c->new && c->save) {
                _cleanup_free_ char *to = strprintf("%s%s", c->path, c->save),
                                    *detail = strprintf("%s; edited since virt-host-config wrote it: kept as %s%s",
                                                        c->what, c->path, c->save);

                if (!to || !detail)
                        return -ENOMEM;
                r = vhc_save_file(c->path, to, c->old, c->old_len);
                if (r == -EEXIST)
                        return vhc_err_set(e, r, to, 0,
                                           "appeared while virt-host-config ran: move it away and run "
                                           "'virt-host-config %s' again",
                                           t->reverting ? "revert" : "apply");
                if (r == -ENOENT) /* gone meanwhile: nothing to keep */
                        return 0;
                if (r < 0)
                        return vhc_err_set(e, r, c->path, 0, "cannot move it to %s: %s", to, strerror(-r));
                vhc_log_change(VHC_LOG_REMOVED, c->path, detail);
                return 0;
        }
        if (!c->new) {
                r = vhc_remove_file(c->path);
                if (r < 0 && r != -ENOENT)
                        return vhc_err_set(e, r, c->path, 0, "cannot remove: %s", strerror(-r));
                vhc_log_change(VHC_LOG_REMOVED, c->path, c->what);
                return 0;
        }
        r = vhc_write_file_atomic(c->path, c->new, c->new_len, c->mode, c->abs);
        if (r < 0)
                return vhc_err_set(e, r, c->path, 0, "cannot write: %s; nothing half-written, run again",
                                   strerror(-r));
        vhc_log_change(c->old ? VHC_LOG_UPDATED : VHC_LOG_CREATED, c->path, c->what);
        return 0;
}

/* Whether a change that failed left its file as it was. */
static bool still_old(const struct vhc_file_change *c) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (c->touch || c->argv)
                return true;
        r = vhc_read_file(c->path, VHC_MANAGED_FILE_MAX, &text, &len);

        if (!c->old)
                return r == -ENOENT;
        return r == 0 && len == c->old_len && memcmp(text, c->old, len) == 0;
}

/* Nothing was changed yet: put the record back as it was and take away the
 * directories this run made, so a failed run leaves the tree as it found it. */
static void rollback(struct vhc_txn *t, const struct vhc_state *intent) {
        if (t->had_state)
                (void)write_state(t, &t->before, NULL);
        for (size_t i = strv_length(t->ch.mkdirs); i-- > 0;) {
                _cleanup_free_ char *p = vhc_root_join(t->root, t->ch.mkdirs[i]);
                if (p)
                        (void)vhc_rmdir(p);
        }
        if (!t->had_state)
                (void)remove_state(t, t->state_dirs, NULL);
}

/* The record of what the transaction left: none, and no directory we made,
 * once nothing of ours is left. */
static int write_final(struct vhc_txn *t, struct vhc_err *e) {
        _cleanup_strv_free_ char **dirs = NULL;

        if (!vhc_state_clean(&t->after))
                return write_state(t, &t->after, e);
        for (int pass = 0; pass < 2; pass++)
                for (char **d = pass ? t->after.dirs : t->before.dirs; d && *d; d++)
                        if (!strv_contains(dirs, *d) && strv_push_dup(&dirs, *d) < 0)
                                return -ENOMEM;
        return remove_state(t, dirs, e);
}

int vhc_txn_commit(struct vhc_txn *t, struct vhc_err *e) {
        struct vhc_state intent;
        int r;

        t->committing = true;
        r = vhc_state_union(&t->before, &t->after, &intent);
        if (r < 0)
                return r;
        if (!vhc_state_clean(&intent)) {
                r = write_state(t, &intent, e);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; t->ch.mkdirs && t->ch.mkdirs[i]; i++) {
                _cleanup_free_ char *p = vhc_root_join(t->root, t->ch.mkdirs[i]);

                if (!p) {
                        r = -ENOMEM;
                        goto out;
                }
                r = vhc_mkdir_label(p, 0755, t->ch.mkdirs[i]);
                if (r < 0) {
                        r = vhc_err_set(e, r, p, 0, "cannot create directory: %s", strerror(-r));
                        rollback(t, &intent);
                        goto out;
                }
        }
        for (size_t i = 0; i < t->ch.n; i++) {
                r = commit_change(t, &t->ch.v[i], e);
                if (r < 0) {
                        if (i == 0 && still_old(&t->ch.v[i]))
                                rollback(t, &intent);
                        goto out;
                }
        }
        r = write_final(t, e);
out:
        vhc_state_done(&intent);
        return r;
}

int vhc_txn_diff(const struct vhc_txn *t, FILE *f) {
        for (size_t i = 0; i < t->ch.n; i++) {
                const struct vhc_file_change *c = &t->ch.v[i];
                _cleanup_free_ char *a = NULL, *b = NULL;
                int r;

                if (c->touch)
                        continue;
                if (asprintf(&a, "a%s", c->abs) < 0 || asprintf(&b, "b%s", c->abs) < 0)
                        return -ENOMEM;
                r = vhc_udiff(f, a, c->old, c->old_len, b, c->new, c->new_len);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vhc_txn_abort(struct vhc_txn *t) {
        _cleanup_free_ char *path = vhc_root_path(t->root, VHC_PATH_STATE_FILE);

        if (!path)
                return -ENOMEM;
        /* A commit that failed has left the record that the files need. */
        if (t->committing || (access(path, F_OK) == 0 && !t->made_state))
                return 0;
        return remove_state(t, t->state_dirs, NULL);
}

static int remove_temps_of(struct vhc_txn *t, const char *abs, struct vhc_err *e) {
        _cleanup_free_ char *p = vhc_root_join(t->root, abs);
        int r;

        if (!p)
                return -ENOMEM;
        r = vhc_recover_temps(p);
        if (r < 0)
                return vhc_err_set(e, r, p, 0, "cannot remove the temporary files of an earlier run next to it: %s",
                                   strerror(-r));
        return 0;
}

/* What a run of ours killed on the way left (recover.h): the temporary files
 * next to every file a run writes, and the temporary directories next to the
 * state directory and its parents. */
static int remove_debris(struct vhc_txn *t, struct vhc_err *e) {
        static const enum vhc_path fixed[] = {VHC_PATH_STATE_FILE, VHC_PATH_LAST_RUN, VHC_PATH_GRUB_DEFAULT,
                                              VHC_PATH_KERNEL_CMDLINE};
        _cleanup_free_ char *sd = strdup(vhc_path_abs(VHC_PATH_STATE_DIR));
        int r = 0;

        if (!sd)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fixed); i++)
                r = remove_temps_of(t, vhc_path_abs(fixed[i]), e);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(generated_files); i++)
                r = remove_temps_of(t, vhc_path_abs(generated_files[i].path), e);
        for (size_t i = 0; r >= 0 && i < t->ch.n; i++)
                r = remove_temps_of(t, t->ch.v[i].abs, e);
        for (size_t i = 0; r >= 0 && i < t->before.n_files; i++)
                r = remove_temps_of(t, t->before.files[i].path, e);
        for (size_t i = 0; r >= 0 && i < t->before.n_kargs; i++)
                r = remove_temps_of(t, t->before.kargs[i].file, e);
        for (size_t i = 0; r >= 0 && i < t->before.n_created; i++)
                r = remove_temps_of(t, t->before.created[i].path, e);
        for (char *slash; r >= 0 && (slash = strrchr(sd, '/')) && slash > sd; *slash = '\0')
                r = remove_temps_of(t, sd, e);
        return r;
}

const char *vhc_system_hands_off(const struct vhc_system *s, bool reverting) {
        switch (s->kind) {
        case VHC_SYSTEM_OSTREE_SANDBOX:
                return "rpm-ostree is composing a new deployment: nothing was changed; after rebooting into "
                       "it, run "
                       "'sudo virt-host-config apply', then reboot";
        case VHC_SYSTEM_IMAGE_BUILD:
                return reverting ? "container or image build: nothing of virt-host-config's is applied here"
                                 : "container or image build: nothing was planned from the build machine; "
                                   "on the "
                                   "machine that boots the image, run 'sudo virt-host-config apply', then "
                                   "reboot";
        default:
                return NULL;
        }
}

/* Nothing is written that a later run could not read back to revert it. */
static int check_sizes(const struct vhc_txn *t, struct vhc_err *e) {
        for (size_t i = 0; i < t->ch.n; i++)
                if (t->ch.v[i].new && t->ch.v[i].new_len > VHC_MANAGED_FILE_MAX)
                        return vhc_err_set(e, -EFBIG, t->ch.v[i].path, 0,
                                           "would be larger than %d MiB, more than this tool reads back to "
                                           "revert it: isolate fewer devices; nothing was changed",
                                           VHC_MANAGED_FILE_MAX >> 20);
        return 0;
}

int vhc_txn_run(struct vhc_txn *t, const struct vhc_config *c, bool dry_run, struct vhc_err *e) {
        int r;

        r = vhc_system_detect(t->root, &t->system);
        if (r < 0)
                return r;
        t->hands_off = vhc_system_hands_off(&t->system, c == NULL);
        if (t->hands_off)
                return 0;

        if (!dry_run) {
                r = vhc_txn_lock(t, c != NULL, e);
                if (r < 0)
                        goto fail;
        }
        r = c ? vhc_txn_plan_apply(t, c, e) : vhc_txn_plan_revert(t, e);
        if (r < 0)
                goto fail;
        r = check_sizes(t, e);
        if (r < 0)
                goto fail;
        if (dry_run)
                return 0;
        r = remove_debris(t, e);
        if (r < 0)
                goto fail;
        r = vhc_txn_commit(t, e);
        if (r < 0)
                goto fail;
        return 0;
fail:
        if (!dry_run)
                (void)vhc_txn_abort(t);
        return r;
}

int vhc_txn_regenerate(struct vhc_txn *t, bool defer, char ***ret_lines, struct vhc_err *e) {
        _cleanup_strv_free_ char **lines = NULL;
        unsigned done = 0, skipped = 0, left;
        int failed, r;

        *ret_lines = NULL;
        if (t->after.pending == 0 || defer)
                return 0;
        failed = vhc_regenerate(&t->boot, t->after.pending, &done, &skipped, &lines, e);
        if (failed < 0)
                return failed;
        left = t->after.pending & ~done;
        if (t->reverting)
                left &= ~skipped;
        if (left != t->after.pending) {
                t->after.pending = left;
                r = write_final(t, e);
                if (r < 0)
                        return r;
        }
        *ret_lines = TAKE_PTR(lines);
        return failed;
}
