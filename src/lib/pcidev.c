/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "fileio.h"
#include "pcidev.h"

/* What each sysfs file of a device means when it is missing or odd:
 *
 *   vendor, device, class    The kernel always creates them: missing or not
 *                            "0x" + hex digits is an error naming the file.
 *   subsystem_*, revision    Cosmetic here; libpci reads them, 0 if absent.
 *   modalias                 Missing: modalias unknown (NULL).
 *   driver (link)            Missing: no driver bound. Dangling: error, the
 *                            kernel removes the link before the driver.
 *   iommu_group (link)       Missing: group unknown (-1, IOMMU off). Dangling
 *                            or a name that is not a number: error.
 *   boot_vga                 Missing: not the boot VGA device (the kernel has
 *                            it for VGA-class devices only). Else "0" or "1".
 *   boot_display             Missing: no. Present: must say "1". Read from
 *                            drm/card* /boot_display (6.18+) and from the
 *                            device itself (where linux-next first put it).
 *
 * A device whose entry in sys/bus/pci/devices is gone by the time we read it
 * was hot-unplugged: it is left out, as a later scan would. An entry that
 * is a dangling link is a damaged tree: error. */

void (*vhc_pci_enumerated_hook)(void) = NULL;

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

struct scan {
        const struct vhc_root *root;
        struct vhc_err *e;
        struct pci_access *acc;
        char *devices_dir;
        jmp_buf jmp;
        bool armed;
        char msg[512];
};

/* libpci's error callback takes no context and must not return: it finds
 * the scan here and jumps back into the guarded call. */
static __thread struct scan *current_scan;

static void pci_error_cb(char *msg, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void pci_error_cb(char *msg, ...) {
        struct scan *s = current_scan;
        va_list ap;

        if (!s || !s->armed)
                abort(); /* libpci ran outside a guarded call: a bug here */
        va_start(ap, msg);
        vsnprintf(s->msg, sizeof(s->msg), msg, ap);
        va_end(ap);
        s->armed = false;
        longjmp(s->jmp, 1);
}

static void pci_quiet_cb(char *msg, ...) __attribute__((format(printf, 1, 2)));
static void pci_quiet_cb(char *msg, ...) {
}

/* Each guard holds setjmp and one libpci call, and nothing that would need
 * cleaning up if libpci jumps out. */
static int guarded_init(struct scan *s) {
        if (setjmp(s->jmp))
                return -EIO;
        s->armed = true;
        pci_init(s->acc);
        s->armed = false;
        return 0;
}

static int guarded_scan_bus(struct scan *s) {
        if (setjmp(s->jmp))
                return -EIO;
        s->armed = true;
        pci_scan_bus(s->acc);
        s->armed = false;
        return 0;
}

static int guarded_fill(struct scan *s, struct pci_dev *d, int flags) {
        if (setjmp(s->jmp))
                return -EIO;
        s->armed = true;
        pci_fill_info(d, flags);
        s->armed = false;
        return 0;
}

/* NULL when pci.ids has no name for it. */
static int guarded_name(struct scan *s, char *buf, int size, int flags, unsigned a, unsigned b, char **ret) {
        if (setjmp(s->jmp))
                return -EIO;
        s->armed = true;
        *ret = pci_lookup_name(s->acc, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, a, b);
        s->armed = false;
        return 0;
}

/* The pci.ids of the machine, when it has one; NULL: libpci's default. */
static char *pci_ids_path(const struct vhc_root *r) {
        char *p;

        if (vhc_root_is_host(r))
                return NULL;
        p = vhc_root_path(r, VHC_PATH_PCI_IDS);
        if (p && access(p, R_OK) == 0)
                return p;
        free(p);
        p = vhc_root_path(r, VHC_PATH_PCI_IDS_MISC);
        if (p && access(p, R_OK) == 0)
                return p;
        free(p);
        return NULL;
}

/* "0000:01:00.0" exactly, as the kernel names devices (VMD domains have more
 * digits); libpci would exit on anything it cannot parse, so entries are
 * checked before it sees them. */
static bool parse_address(const char *s, unsigned *domain, unsigned *bus, unsigned *dev, unsigned *func) {
        size_t n = strspn(s, "0123456789abcdef");
        char tail;

        if (n < 4 || n > 8 || strlen(s) != n + 8 || s[n] != ':' || s[n + 3] != ':' || s[n + 6] != '.')
                return false;
        if (strspn(s + n + 1, "0123456789abcdef") != 2 || strspn(s + n + 4, "0123456789abcdef") != 2 ||
            !strchr("01234567", s[n + 7]) || s[n + 7] == '\0')
                return false;
        if (sscanf(s, "%8x:%2x:%2x.%1x%c", domain, bus, dev, func, &tail) != 4)
                return false;
        return *dev < 32 && *domain <= 0x7fffffff;
}

/* What libpci and we read of a device as files: never links or FIFOs in
 * sysfs (the ROM, read with a timeout by passthru.c, is not among them). */
static const char *const attr_files[] = {
        "vendor",         "device",           "class",
        "config",         "resource",         "irq",
        "revision",       "subsystem_vendor", "subsystem_device",
        "label",          "numa_node",        "modalias",
        "boot_vga",       "reset_method",     "enable",
        "d3cold_allowed", "local_cpulist",    "driver_override",
};

/* The device's directory, before libpci opens anything in it: inside the
 * root, and nothing there that could block a read or lead out of the tree. */
static int check_device_dir(struct scan *s, const char *name) {
        _cleanup_free_ char *path = NULL, *real = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        const char *root = vhc_root_dir(s->root);
        struct dirent *de;

        if (asprintf(&path, "%s/%s", s->devices_dir, name) < 0)
                return -ENOMEM;
        real = realpath(path, NULL);
        if (!real)
                return errno == ENOMEM ? -ENOMEM : 0; /* a dangling entry: read_device says so */
        if (root[0] && !(startswith(real, root) && real[strlen(root)] == '/'))
                return vhc_err_set(
                        s->e, -EXDEV, path, 0,
                        "leads out of the root (to %s): sysfs links are relative and stay in /sys; "
                        "fix the tree",
                        real);
        dir = opendir(path);
        if (!dir)
                return 0;
        while ((errno = 0, de = readdir(dir))) {
                struct stat st;
                bool attr = false;

                if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(attr_files); i++)
                        attr |= streq(de->d_name, attr_files[i]);
                if (!attr || S_ISREG(st.st_mode))
                        continue;
                free(path);
                if (asprintf(&path, "%s/%s/%s", s->devices_dir, name, de->d_name) < 0)
                        return -ENOMEM;
                return vhc_err_set(
                        s->e, -EIO, path, 0,
                        "%s: a sysfs attribute is a regular file, so this tree is not one the kernel "
                        "made; fix the tree",
                        S_ISLNK(st.st_mode) ? "is a symbolic link" : "is not a regular file");
        }
        return 0;
}

static int check_entries(struct scan *s) {
        _cleanup_(closedirp) DIR *dir = opendir(s->devices_dir);
        struct dirent *de;
        unsigned a, b, c, d;
        int r;

        if (!dir)
                return vhc_err_set(s->e, negative_errno(), s->devices_dir, 0,
                                   "cannot list PCI devices: %m (is sysfs mounted under the root?)");
        while ((errno = 0, de = readdir(dir))) {
                if (de->d_name[0] == '.')
                        continue;
                if (!parse_address(de->d_name, &a, &b, &c, &d))
                        return vhc_err_set(s->e, -EIO, s->devices_dir, 0,
                                           "\"%s\" is not a PCI address (want 0000:01:00.0)", de->d_name);
                r = check_device_dir(s, de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno)
                return vhc_err_set(s->e, negative_errno(), s->devices_dir, 0, "cannot list PCI devices: %m");
        return 0;
}

/* Reads a small sysfs attribute, without its trailing newline. */
static int read_attr(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = vhc_read_file_nofollow(path, 4096, &buf, &len);
        if (r < 0)
                return r;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool is_hex_id(const char *s, size_t digits) {
        if (!startswith(s, "0x") || strlen(s) != 2 + digits)
                return false;
        for (size_t i = 2; i < 2 + digits; i++)
                if (!strchr("0123456789abcdefABCDEF", s[i]))
                        return false;
        return true;
}

static bool entry_gone(const struct scan *s, const char *addr) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (asprintf(&p, "%s/%s", s->devices_dir, addr) < 0)
                return false;
        return lstat(p, &st) < 0 && errno == ENOENT;
}

/* The files libpci would read with no way to report garbage: checked first,
 * with a message that names the file. */
static int check_ids(struct scan *s, const char *dir, const char *addr) {
        static const struct {
                const char *name;
                size_t digits;
        } ids[] = {{"vendor", 4}, {"device", 4}, {"class", 6}};

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_free_ char *v = NULL, *path = NULL;
                int r = read_attr(dir, ids[i].name, &v);

                if (r == -ENOENT && entry_gone(s, addr))
                        return 0;
                if (asprintf(&path, "%s/%s", dir, ids[i].name) < 0)
                        return -ENOMEM;
                if (r == -ENOENT)
                        return vhc_err_set(
                                s->e, r, path, 0,
                                "missing; the kernel always has it, so this sysfs tree is damaged");
                if (r < 0)
                        return vhc_err_set(s->e, r, path, 0, "cannot read: %s", strerror(-r));
                /* Its bytes are not shown: they are not what a kernel writes there. */
                if (!is_hex_id(v, ids[i].digits))
                        return vhc_err_set(
                                s->e, -EIO, path, 0,
                                "holds %zu bytes that are not 0x and %zu hex digits: this sysfs tree is "
                                "damaged",
                                strlen(v), ids[i].digits);
        }
        return 1;
}

/* A link libpci reported nothing for: absent is normal, dangling is not. */
static int check_link_absent(struct scan *s, const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL;
        char target[256];
        ssize_t n;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
                return errno == ENOENT ? 0 : vhc_err_set(s->e, negative_errno(), path, 0, "not a link: %m");
        target[n] = '\0';
        return vhc_err_set(s->e, -EIO, path, 0, "dangling link to %s; this sysfs tree is damaged", target);
}

static int read_group(struct scan *s, struct pci_dev *d, const char *dir, int *ret) {
        const char *g = NULL;
        char *end;
        long v;

#ifdef PCI_FILL_IOMMU_GROUP
        g = pci_get_string_property(d, PCI_FILL_IOMMU_GROUP);
#endif
        if (!g) {
                int r = check_link_absent(s, dir, "iommu_group");
                if (r < 0)
                        return r;
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtol(g, &end, 10);
        if (errno || end == g || *end || v < 0 || v > INT32_MAX) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/iommu_group", dir) < 0)
                        return -ENOMEM;
                return vhc_err_set(s->e, -EIO, path, 0, "links to group \"%.40s\", which is not a number",
                                   g);
        }
        *ret = (int)v;
        return 0;
}

static int read_driver(struct scan *s, struct pci_dev *d, const char *dir, char **ret) {
        const char *drv = NULL;
        char *copy;

#ifdef PCI_FILL_DRIVER
        drv = pci_get_string_property(d, PCI_FILL_DRIVER);
#else
        char target[256];
        _cleanup_free_ char *path = NULL;
        ssize_t n;

        if (asprintf(&path, "%s/driver", dir) < 0)
                return -ENOMEM;
        n = readlink(path, target, sizeof(target) - 1);
        if (n >= 0 && access(path, F_OK) == 0) {
                target[n] = '\0';
                drv = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        }
#endif
        if (!drv) {
                int r = check_link_absent(s, dir, "driver");
                if (r < 0)
                        return r;
                *ret = NULL;
                return 0;
        }
        copy = strdup(drv);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

/* 1, 0, or -ENOENT when the file is absent. */
static int read_flag(struct scan *s, const char *dir, const char *name, bool one_only) {
        _cleanup_free_ char *v = NULL, *path = NULL;
        int r = read_attr(dir, name, &v);

        if (r == -ENOENT)
                return r;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (r < 0)
                return vhc_err_set(s->e, r, path, 0, "cannot read: %s", strerror(-r));
        if (streq(v, "1"))
                return 1;
        if (streq(v, "0") && !one_only)
                return 0;
        return vhc_err_set(s->e, -EIO, path, 0, "\"%.40s\" is not %s", v, one_only ? "1" : "0 or 1");
}

static int read_boot_display(struct scan *s, const char *dir, bool *ret) {
        _cleanup_(closedirp) DIR *drm = NULL;
        _cleanup_free_ char *drm_dir = NULL;
        struct dirent *de;
        bool found = false;
        int r;

        r = read_flag(s, dir, "boot_display", true);
        if (r < 0 && r != -ENOENT)
                return r;
        found = r == 1;
        if (asprintf(&drm_dir, "%s/drm", dir) < 0)
                return -ENOMEM;
        drm = opendir(drm_dir);
        if (!drm) {
                if (errno != ENOENT && errno != ENOTDIR)
                        return vhc_err_set(s->e, negative_errno(), drm_dir, 0, "cannot list: %m");
                *ret = found;
                return 0;
        }
        while ((de = readdir(drm))) {
                _cleanup_free_ char *card = NULL;

                if (!startswith(de->d_name, "card") || strchr(de->d_name, '-'))
                        continue;
                if (asprintf(&card, "%s/%s", drm_dir, de->d_name) < 0)
                        return -ENOMEM;
                r = read_flag(s, card, "boot_display", true);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r == 1)
                        found = true;
        }
        *ret = found;
        return 0;
}

static void dev_done(struct vhc_pci_dev *d) {
        free(d->driver);
        free(d->modalias);
        free(d->vendor_name);
        free(d->device_name);
        free(d->class_name);
}

/* Names are cosmetic: a pci.ids that libpci cannot parse leaves them unknown
 * (and leaks the file libpci had open; it gives no way to close it). */
static int lookup_names(struct scan *s, struct vhc_pci_dev *v, bool *names_ok) {
        const struct {
                int flags;
                unsigned a, b;
                char **out;
        } q[] = {
                {PCI_LOOKUP_VENDOR, v->vendor_id, 0, &v->vendor_name},
                {PCI_LOOKUP_DEVICE, v->vendor_id, v->device_id, &v->device_name},
                {PCI_LOOKUP_CLASS, vhc_pci_class(v), 0, &v->class_name},
        };

        for (size_t i = 0; *names_ok && i < ELEMENTSOF(q); i++) {
                char buf[256];
                char *n;

                if (guarded_name(s, buf, sizeof(buf), q[i].flags, q[i].a, q[i].b, &n) < 0) {
                        *names_ok = false;
                        break;
                }
                if (n && !(*q[i].out = strdup(n)))
                        return -ENOMEM;
        }
        return 0;
}

/* 1: filled in; 0: the device went away; negative: error. */
static int read_device(struct scan *s, struct pci_dev *d, struct vhc_pci_dev *v, bool *names_ok) {
        _cleanup_free_ char *dir = NULL;
        int flags = PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_MODULE_ALIAS;
        int r, b;

        v->iommu_group = -1;
        v->domain = (unsigned)d->domain;
        v->bus = d->bus;
        v->dev = d->dev;
        v->func = d->func;
        snprintf(v->address, sizeof(v->address), "%04x:%02x:%02x.%x", v->domain & 0x7fffffffu,
                 v->bus & 0xffu, v->dev & 0x1fu, v->func & 7u);
        if (asprintf(&dir, "%s/%s", s->devices_dir, v->address) < 0)
                return -ENOMEM;
        if (access(dir, F_OK) < 0) {
                if (entry_gone(s, v->address))
                        return 0;
                return vhc_err_set(s->e, -EIO, dir, 0, "dangling link: the device directory is missing");
        }
        r = check_ids(s, dir, v->address);
        if (r <= 0)
                return r;

#ifdef PCI_FILL_CLASS_EXT
        flags |= PCI_FILL_CLASS_EXT;
#endif
#ifdef PCI_FILL_SUBSYS
        flags |= PCI_FILL_SUBSYS;
#endif
#ifdef PCI_FILL_IOMMU_GROUP
        flags |= PCI_FILL_IOMMU_GROUP;
#endif
#ifdef PCI_FILL_DRIVER
        flags |= PCI_FILL_DRIVER;
#endif
        if (guarded_fill(s, d, flags) < 0) {
                if (entry_gone(s, v->address))
                        return 0;
                return vhc_err_set(s->e, -EIO, dir, 0, "libpci: %s", s->msg);
        }
        v->vendor_id = d->vendor_id;
        v->device_id = d->device_id;
        v->class_code = (uint32_t)d->device_class << 8;
#ifdef PCI_FILL_CLASS_EXT
        v->class_code |= d->prog_if;
#endif
#ifdef PCI_FILL_SUBSYS
        if (d->known_fields & PCI_FILL_SUBSYS) {
                v->subsys_vendor_id = d->subsys_vendor_id;
                v->subsys_device_id = d->subsys_id;
        }
#endif
        if (d->module_alias) {
                size_t n = strcspn(d->module_alias, "\n");

                v->modalias = strndup(d->module_alias, n);
                if (!v->modalias)
                        return -ENOMEM;
        }
        r = read_group(s, d, dir, &v->iommu_group);
        if (r < 0)
                return r;
        r = read_driver(s, d, dir, &v->driver);
        if (r < 0)
                return r;
        b = read_flag(s, dir, "boot_vga", false);
        if (b < 0 && b != -ENOENT)
                return b;
        v->boot_vga = b == 1;
        r = lookup_names(s, v, names_ok);
        if (r < 0)
                return r;
        return 1;
}

static int cmp_pci_dev(const void *a, const void *b) {
        const struct pci_dev *x = *(struct pci_dev *const *)a, *y = *(struct pci_dev *const *)b;

        if (x->domain != y->domain)
                return x->domain < y->domain ? -1 : 1;
        if (x->bus != y->bus)
                return x->bus < y->bus ? -1 : 1;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->func != y->func)
                return x->func < y->func ? -1 : 1;
        return 0;
}

static int groups_present(const struct vhc_root *r, bool *ret) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_SYS_IOMMU_GROUPS);
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;

        if (!path)
                return -ENOMEM;
        *ret = false;
        dir = opendir(path);
        if (!dir)
                return 0;
        while ((de = readdir(dir)))
                if (de->d_name[0] != '.') {
                        *ret = true;
                        break;
                }
        return 0;
}

/* The boot display when no device has boot_vga = 1: the DRM boot_display
 * attribute, which also covers display devices that are not VGA class. */
static int apply_boot_display(struct scan *s, struct vhc_pci_list *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->devs[i].boot_vga) {
                        l->boot_vga_known = true;
                        return 0;
                }
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *dir = NULL;
                bool b = false;
                int r;

                if (asprintf(&dir, "%s/%s", s->devices_dir, l->devs[i].address) < 0)
                        return -ENOMEM;
                r = read_boot_display(s, dir, &b);
                if (r < 0)
                        return r;
                if (b) {
                        l->devs[i].boot_vga = true;
                        l->boot_vga_known = true;
                }
        }
        return 0;
}

/* In address order, so that the first damaged device reported is always
 * the same one. */
static int scan_devices(struct scan *s, struct vhc_pci_list *l) {
        _cleanup_free_ struct pci_dev **order = NULL;
        bool names_ok = true;
        size_t n = 0;
        int r;

        for (struct pci_dev *d = s->acc->devices; d; d = d->next)
                n++;
        if (n == 0)
                return 0;
        order = calloc(n, sizeof(*order));
        l->devs = calloc(n, sizeof(*l->devs));
        if (!order || !l->devs)
                return -ENOMEM;
        n = 0;
        for (struct pci_dev *d = s->acc->devices; d; d = d->next)
                order[n++] = d;
        qsort(order, n, sizeof(*order), cmp_pci_dev);
        for (size_t i = 0; i < n; i++) {
                struct vhc_pci_dev v = {};

                r = read_device(s, order[i], &v, &names_ok);
                if (r <= 0) {
                        dev_done(&v);
                        if (r < 0)
                                return r;
                        continue;
                }
                l->devs[l->n++] = v;
        }
        return 0;
}

static int scan(struct scan *s, struct vhc_pci_list *l) {
        _cleanup_free_ char *bus_dir = vhc_root_path(s->root, VHC_PATH_SYS_BUS_PCI);
        char *ids;
        int r;

        if (!bus_dir)
                return -ENOMEM;
        r = check_entries(s);
        if (r < 0)
                return r;

        s->acc = pci_alloc();
        if (!s->acc)
                return -ENOMEM;
        s->acc->error = pci_error_cb;
        s->acc->warning = pci_quiet_cb;
        s->acc->debug = pci_quiet_cb;
        s->acc->method = PCI_ACCESS_SYS_BUS_PCI;
        /* Names come from pci.ids only: the cache only matters for DNS
         * lookups, udev's hwdb describes the running host and not another
         * root, and libpci 3.9 leaks a udev context per lookup when the
         * host has no hwdb.bin. */
        s->acc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
        if (pci_set_param(s->acc, (char *)"sysfs.path", bus_dir) < 0)
                return vhc_err_set(s->e, -ENOTSUP, NULL, 0, "libpci has no linux-sysfs access method");
        ids = pci_ids_path(s->root);
        if (ids)
                pci_set_name_list_path(s->acc, ids, 1);

        if (guarded_init(s) < 0)
                return vhc_err_set(s->e, -EIO, bus_dir, 0, "libpci: %s", s->msg);
        if (guarded_scan_bus(s) < 0)
                return vhc_err_set(s->e, -EIO, bus_dir, 0, "libpci: %s", s->msg);
        if (vhc_pci_enumerated_hook)
                vhc_pci_enumerated_hook();
        r = scan_devices(s, l);
        if (r < 0)
                return r;
        r = apply_boot_display(s, l);
        if (r < 0)
                return r;
        return groups_present(s->root, &l->groups_known);
}

int vhc_pci_scan(const struct vhc_root *r, struct vhc_pci_list **ret, struct vhc_err *e) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = calloc(1, sizeof(*l));
        struct scan s = {.root = r, .e = e};
        struct scan *saved = current_scan;
        int k;

        if (!l)
                return -ENOMEM;
        s.devices_dir = vhc_root_path(r, VHC_PATH_SYS_PCI_DEVICES);
        if (!s.devices_dir)
                return -ENOMEM;
        current_scan = &s;
        k = scan(&s, l);
        if (s.acc)
                pci_cleanup(s.acc);
        current_scan = saved;
        free(s.devices_dir);
        if (k == -ENOMEM)
                return vhc_err_set(e, k, NULL, 0, "out of memory while scanning PCI devices");
        if (k < 0)
                return k;
        *ret = TAKE_PTR(l);
        return 0;
}

struct vhc_pci_list *vhc_pci_list_free(struct vhc_pci_list *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                dev_done(&l->devs[i]);
        free(l->devs);
        free(l);
        return NULL;
}

const struct vhc_pci_dev *vhc_pci_find(const struct vhc_pci_list *l, const char *address) {
        unsigned domain = 0, bus, dev, func;
        char tail;

        if (sscanf(address, "%x:%x:%x.%x%c", &domain, &bus, &dev, &func, &tail) != 4) {
                domain = 0;
                if (sscanf(address, "%x:%x.%x%c", &bus, &dev, &func, &tail) != 3)
                        return NULL;
        }
        for (size_t i = 0; i < l->n; i++) {
                const struct vhc_pci_dev *d = &l->devs[i];

                if (d->domain == domain && d->bus == bus && d->dev == dev && d->func == func)
                        return d;
        }
        return NULL;
}

bool vhc_pci_same_slot(const struct vhc_pci_dev *a, const struct vhc_pci_dev *b) {
        return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}
