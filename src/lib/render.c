/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "fileio.h"
#include "render.h"
#include "root.h"
#include "strv.h"

/* The texts are built with open_memstream(): a failed write sets the stream's
 * error flag, checked once at the end (vhc_memstream_finish). */

static int cmp_entry_address(const void *a, const void *b) {
        const struct vhc_plan_entry *const *x = a, *const *y = b;

        return strcmp((*x)->dev->address, (*y)->dev->address);
}

/*
 * Two rules per isolated device, both matching the address (KERNEL) and the
 * vendor and device IDs, so a card moved to another slot, or another card in
 * this slot, is never captured.
 *
 * The first, on "add", sets driver_override: from then on the PCI core lets
 * only vfio-pci probe the device, whichever GPU driver 80-drivers.rules loads
 * later from the modalias. Setting the override binds nothing by itself, so
 * the rule then asks the PCI core to probe the device: when vfio-pci is
 * already loaded, that binds it now. It is loaded before udev starts
 * wherever the initramfs loads it early (dracut's force_drivers, our drop-in:
 * make check-vm saw every isolated device stay unbound without this probe),
 * or when an earlier device's rule loaded it. Otherwise the probe finds no
 * driver and does nothing, and RUN{builtin}="kmod load", udev's own module
 * loader (no path to modprobe, which is /usr/sbin on Fedora and /sbin
 * elsewhere), loads vfio-pci after the rule, whose registration binds every
 * unbound device whose override names it. A probe of a bound device does
 * nothing either: the second rule is for that case.
 *
 * The second handles a device that a driver took before the override was set:
 * a driver built into the kernel (Fedora builds xhci_pci in, and it takes a
 * Turing card's USB-C function at enumeration), one loaded early in the
 * initramfs, or a probe that raced with the first rule (hence "bind" too). It
 * unbinds the device and asks the PCI core to probe it again, which with the
 * override set can only bind vfio-pci. This needs no shell: udev writes sysfs
 * attributes itself, ATTR{driver/unbind} through the device's driver link and
 * ATTR{[subsystem/pci]drivers_probe} by udev's "[subsystem/sysname]attribute"
 * form, which names /sys/bus/pci/drivers_probe (udev refuses writes outside
 * /sys). A RUN of "/bin/sh -c 'echo ... > ...'" would do the same with a
 * shell, a fork and quoting to get wrong. The guard on driver_override keeps
 * the rule out of the way of whoever clears the override on purpose (libvirt
 * giving a device back to the host, driverctl): their re-probe binds the host
 * driver, and this rule must not undo it, or the two would loop. It cannot
 * loop on its own: after the re-probe only vfio-pci (or nothing) can bind.
 *
 * Every rule also tests (TEST==, a stat() of an absolute path) a file that
 * virt-host-config-host owns in /usr: the rule lives in /etc, and outlives
 * the package wherever no %preun reverts it (rpm-ostree uninstall runs none,
 * nor does rpm -e --noscripts, and a %preun can fail). Without the file the
 * rule matches no device, so nothing keeps a GPU on vfio-pci once the
 * package is gone. The initramfs gets the file with the rule (dracut's
 * install_optional_items, the initramfs-tools hook); one built after the
 * package went has the rule without it, which matches nothing there either.
 */
static void render_udev_device(FILE *f, const struct vhc_pci_dev *d) {
        char match[256];

        snprintf(match, sizeof(match),
                 "SUBSYSTEM==\"pci\", KERNEL==\"%s\", ATTR{vendor}==\"0x%04x\", ATTR{device}==\"0x%04x\", "
                 "TEST==\"%s\"",
                 d->address, d->vendor_id, d->device_id, vhc_path_abs(VHC_PATH_RULE_MARKER));
        fprintf(f, "\n# %s %04x:%04x class %04x\n", d->address, d->vendor_id, d->device_id,
                vhc_pci_class(d));
        fprintf(f,
                "ACTION==\"add\", %s, ATTR{driver_override}=\"vfio-pci\", "
                "ATTR{[subsystem/pci]drivers_probe}=\"%%k\", RUN{builtin}+=\"kmod load vfio-pci\"\n",
                match);
        fprintf(f,
                "ACTION==\"add|bind\", %s, ATTR{driver_override}==\"vfio-pci\", DRIVER==\"?*\", "
                "DRIVER!=\"vfio-pci\", ATTR{driver/unbind}=\"%%k\", "
                "ATTR{[subsystem/pci]drivers_probe}=\"%%k\"\n",
                match);
}

/*
 * vendor_reset = yes: vendor-reset (gnif/vendor-reset, out of tree, DKMS)
 * hooks the kernel's device-specific reset, and since Linux 5.15 a device
 * uses it only when its reset_method says device_specific. The kernel takes
 * that word only once the module is loaded (it probes the method when it is
 * written), so the write cannot sit in the device's own rule, whose ATTR{}
 * assignments run before its RUN list loads the module. It goes in a rule on
 * the module's own "add" event instead, through udev's [subsystem/sysname]
 * form; coldplug replays that event when the module was loaded before udev
 * ran. The first rule matches the IDs like the ones above; a card of another
 * model in the slot refuses the word ("Unsupported reset method"), which
 * changes nothing.
 */
static void render_vendor_reset(FILE *f, const struct vhc_pci_dev *d) {
        fputs("# vendor-reset resets it between guests (vendor_reset = yes): reset_method device_specific\n", f);
        fprintf(f,
                "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", ATTR{vendor}==\"0x%04x\", "
                "ATTR{device}==\"0x%04x\", TEST==\"%s\", RUN{builtin}+=\"kmod load vendor-reset\"\n",
                d->address, d->vendor_id, d->device_id, vhc_path_abs(VHC_PATH_RULE_MARKER));
        fprintf(f,
                "ACTION==\"add\", SUBSYSTEM==\"module\", KERNEL==\"vendor_reset\", TEST==\"%s\", "
                "ATTR{[pci/%s]reset_method}=\"device_specific\"\n",
                vhc_path_abs(VHC_PATH_RULE_MARKER), d->address);
}

int vhc_render_udev_rule(const struct vhc_plan *p, char **ret) {
        _cleanup_free_ const struct vhc_plan_entry **sorted = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, size = 0;
        FILE *f;

        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].action == VHC_ACTION_ISOLATE)
                        n++;
        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        sorted = calloc(n, sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        n = 0;
        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].action == VHC_ACTION_ISOLATE)
                        sorted[n++] = &p->entries[i];
        qsort(sorted, n, sizeof(*sorted), cmp_entry_address);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(VHC_GENERATED_HEADER
              "\n"
              "#\n"
              "# Reserves each PCI device that virt-host-config isolates for vfio-pci, by\n"
              "# address and IDs, before 80-drivers.rules loads a driver for it; unbinds a\n"
              "# driver that took it first. Also in the initramfs (dracut install_items).\n"
              "# Each rule tests a file of virt-host-config-host in /usr, and does nothing\n"
              "# once that package is gone.\n",
              f);
        for (size_t i = 0; i < n; i++) {
                render_udev_device(f, sorted[i]->dev);
                if (sorted[i]->vendor_reset)
                        render_vendor_reset(f, sorted[i]->dev);
        }
        return vhc_memstream_finish(f, &buf, ret);
}

/* A module name as modprobe compares it: '-' and '_' are the same. */
bool vhc_render_module_name_ok(const char *name) {
        return name && name[0] &&
               strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(name);
}

static int normalize_module(const char *name, char **ret) {
        char *s;

        if (!vhc_render_module_name_ok(name))
                return -EINVAL;
        s = strdup(name);
        if (!s)
                return -ENOMEM;
        for (char *c = s; *c; c++)
                if (*c == '-')
                        *c = '_';
        *ret = s;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vhc_render_modprobe(char *const *drivers, char **ret) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, n;
        FILE *f;
        int r;

        if (!names)
                return -ENOMEM;
        for (size_t i = 0; drivers && drivers[i]; i++) {
                char *m;

                r = normalize_module(drivers[i], &m);
                if (r < 0)
                        return r;
                /* vfio-pci cannot be its own pre-dependency, and its helpers load with it. */
                if (startswith(m, "vfio") || strv_contains(names, m)) {
                        free(m);
                        continue;
                }
                r = strv_consume(&names, m);
                if (r < 0)
                        return r;
        }
        n = strv_length(names);
        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        qsort(names, n, sizeof(char *), cmp_str);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(VHC_GENERATED_HEADER
              "\n"
              "#\n"
              "# Loads vfio-pci before each driver that would claim an isolated device, so\n"
              "# that vfio-pci holds the device first (the udev rule's driver_override does\n"
              "# the binding, per device; nothing here binds by vendor:device ID).\n",
              f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "softdep %s pre: vfio-pci\n", names[i]);
        return vhc_memstream_finish(f, &buf, ret);
}

int vhc_render_dracut(const struct vhc_plan *p, const char *udev_rule_abs, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        /* dracut.conf is sourced by bash: the path goes inside double quotes. */
        if (!udev_rule_abs || udev_rule_abs[0] != '/' || strpbrk(udev_rule_abs, " \t\n\"'`$\\"))
                return -EINVAL;
        if (vhc_plan_count_isolated(p) == 0) {
                *ret = NULL;
                return 0;
        }
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(VHC_GENERATED_HEADER
              "\n"
              "#\n"
              "# vfio-pci must hold the isolated devices in the initramfs already, before a\n"
              "# GPU driver loads there: load the vfio modules early and take the udev rule.\n"
              "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n",
              f);
        fprintf(f, "install_items+=\" %s \"\n", udev_rule_abs);
        /* Optional: after an erase that left this file, dracut still builds
         * (the rule then matches nothing in the initramfs). */
        fprintf(f, "install_optional_items+=\" %s \"\n", vhc_path_abs(VHC_PATH_RULE_MARKER));
        return vhc_memstream_finish(f, &buf, ret);
}

int vhc_render_limits(uint64_t bytes, char **ret) {
        _cleanup_free_ char *buf = NULL;
        char value[32];
        size_t size = 0;
        FILE *f;

        if (bytes == 0)
                return -EINVAL;
        if (bytes == UINT64_MAX)
                snprintf(value, sizeof(value), "unlimited");
        else /* limits.conf(5): memlock is in KiB; round up, never below what was asked */
                snprintf(value, sizeof(value), "%" PRIu64, bytes / 1024 + (bytes % 1024 != 0));

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(VHC_GENERATED_HEADER
              "\n"
              "#\n"
              "# Lets members of group kvm lock guest memory, as VFIO passthrough pins all\n"
              "# of a guest's RAM for DMA (memlock is in KiB).\n",
              f);
        fprintf(f, "@kvm soft memlock %s\n", value);
        fprintf(f, "@kvm hard memlock %s\n", value);
        return vhc_memstream_finish(f, &buf, ret);
}

/*
 * Looking Glass without kvmfr: QEMU opens /dev/shm/looking-glass and the
 * client, run by the user, maps the same file. Left to QEMU the file is
 * qemu's and 0644 (doc/ivshmem_shm.rst), so tmpfiles.d creates it first,
 * the user's and group kvm's (QEMU runs as qemu, a member of kvm).
 *
 * SELinux: the policy (selinux-policy, policy/modules/contrib/virt.te) lets a
 * guest's QEMU (svirt_t, a virt_domain) open files on tmpfs only of type
 * svirt_tmpfs_t (manage_files_pattern(virt_domain, svirt_tmpfs_t, ...));
 * such files get it by type transition when QEMU creates them. Created by
 * systemd-tmpfiles, the file would be tmpfs_t: file_contexts has
 * "/dev/shm/.* <<none>>" (policy/modules/kernel/filesystem.fc), and QEMU is
 * refused. The "t" line sets the label as tmpfiles creates the file, which
 * systemd_tmpfiles_t may do (files_relabel_non_auth_files in systemd.te): no
 * policy module and no "semanage fcontext" rule in the policy store, so
 * revert takes it out with this file. Level s0: the guests' categories
 * dominate it.
 */
int vhc_render_looking_glass_tmpfiles(const char *shm_abs, const char *user, bool selinux, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!shm_abs || shm_abs[0] != '/' || strpbrk(shm_abs, " \t\n\\%") || !user || !user[0] ||
            strpbrk(user, " \t\n\\%:"))
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(VHC_GENERATED_HEADER
              "\n"
              "#\n"
              "# Looking Glass's shared memory for guests without kvmfr (<shmem\n"
              "# name='looking-glass'>): the client's user and QEMU (group kvm) share it.\n",
              f);
        fprintf(f, "f %s 0660 %s kvm -\n", shm_abs, user);
        if (selinux) {
                fputs("# SELinux: the type QEMU (svirt_t) may open on tmpfs.\n", f);
                fprintf(f, "t %s - - - - security.selinux=system_u:object_r:svirt_tmpfs_t:s0\n", shm_abs);
        }
        return vhc_memstream_finish(f, &buf, ret);
}

int vhc_render_kvmfr_modprobe(unsigned size_mib, unsigned width, unsigned height, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (size_mib == 0)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(VHC_GENERATED_HEADER
              "\n"
              "#\n"
              "# Looking Glass's kvmfr module: one device, /dev/kvmfr0, of the size the\n",
              f);
        fprintf(f,
                "# guest's IVSHMEM device has for %ux%u (virt-guest-xml --looking-glass=%ux%u).\n"
                "options kvmfr static_size_mb=%u\n",
                width, height, width, height, size_mib);
        return vhc_memstream_finish(f, &buf, ret);
}

int vhc_render_kvmfr_modules_load(char **ret) {
        /* Nothing loads kvmfr by itself (no device asks for it), and a guest
         * started before it would make /dev/kvmfr0 a plain file. */
        char *s = strdup(VHC_GENERATED_HEADER "\n"
                                              "#\n"
                                              "# Looking Glass: /dev/kvmfr0 from boot on.\n"
                                              "kvmfr\n");

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int vhc_render_kvmfr_udev_rule(char **ret) {
        char *s = strdup(VHC_GENERATED_HEADER
                         "\n"
                         "#\n"
                         "# Looking Glass: /dev/kvmfr0 for QEMU and the client's user, both in group kvm.\n"
                         "SUBSYSTEM==\"kvmfr\", GROUP=\"kvm\", MODE=\"0660\"\n");

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
