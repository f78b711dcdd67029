/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>

#include "fileio.h"
#include "passthru.h"

#define SYSFS_MAGIC 0x62656572 /* linux/magic.h */
#define ROM_MAX (UINT64_C(16) << 20)

int (*vhc_passthru_sysfs_write_hook)(const char *path, const char *value) = NULL;

static char *dev_path(const struct vhc_root *r, const struct vhc_pci_dev *d, const char *attr) {
        return vhc_root_pathf(r, VHC_PATH_SYS_PCI_DEVICES, "%s/%s", d->address, attr);
}

/* The bridge above d: the directory its sysfs entry lives in, when that is a
 * PCI device and not a root bus ("pci0000:00"). */
static int parent_bridge(const struct vhc_root *r, const struct vhc_pci_dev *d, char parent[static 20]) {
        _cleanup_free_ char *abs = NULL, *real = NULL;
        const char *slash, *name;
        unsigned a, b, c, f;
        char tail;
        int k;

        parent[0] = '\0';
        if (asprintf(&abs, "%s/%s", vhc_path_abs(VHC_PATH_SYS_PCI_DEVICES), d->address) < 0)
                return -ENOMEM;
        k = vhc_root_resolve(r, abs, &real);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return 0;
        slash = strrchr(real, '/');
        if (!slash || slash == real)
                return 0;
        /* The component before the last one. */
        for (name = slash - 1; name > real && name[-1] != '/'; name--)
                ;
        if ((size_t)(slash - name) >= 20 || sscanf(name, "%x:%x:%x.%x%c", &a, &b, &c, &f, &tail) != 5 ||
            tail != '/')
                return 0;
        memcpy(parent, name, (size_t)(slash - name));
        parent[slash - name] = '\0';
        return 0;
}

int vhc_passthru_read(const struct vhc_root *r, const struct vhc_pci_dev *d, struct vhc_passthru_info *ret) {
        _cleanup_free_ char *cfg_path = dev_path(r, d, "config"), *res_path = dev_path(r, d, "resource"),
                            *rm_path = dev_path(r, d, "reset_method");
        _cleanup_free_ char *cfg = NULL, *res = NULL, *rm = NULL;
        struct vhc_passthru_info i = {};
        size_t len = 0;
        int k;

        if (!cfg_path || !res_path || !rm_path)
                return -ENOMEM;

        k = vhc_read_file(cfg_path, 4096, &cfg, &len);
        if (k == -ENOMEM)
                return k;
        i.cfg_r = k < 0 ? k : vhc_pcicfg_parse((const uint8_t *)cfg, len, &i.cfg);

        k = vhc_read_file(res_path, 8192, &res, &len);
        if (k == -ENOMEM)
                return k;
        i.res_r = k < 0 ? k : vhc_pci_resources_parse(res, len, &i.res, &i.res_line);

        k = vhc_read_file(rm_path, 4096, &rm, NULL);
        if (k == -ENOMEM)
                return k;
        i.reset_r = k < 0 ? k : vhc_reset_methods_parse(rm, &i.reset);

        k = parent_bridge(r, d, i.parent);
        if (k < 0)
                return k;
        *ret = i;
        return 0;
}

/* ------------------------------------------------------------------ the ROM */

_printf_(3, 4) static void set_why(struct vhc_rom_read *rr, int r, const char *fmt, ...) {
        va_list ap;

        rr->r = r;
        va_start(ap, fmt);
        vsnprintf(rr->why, sizeof(rr->why), fmt, ap);
        va_end(ap);
}

static int sysfs_write(const char *path, const char *value) {
        _cleanup_close_ int fd = -1;
        size_t n = strlen(value);

        if (vhc_passthru_sysfs_write_hook)
                return vhc_passthru_sysfs_write_hook(path, value);
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (write(fd, value, n) != (ssize_t)n)
                return negative_errno();
        return 0;
}

static bool on_sysfs(const char *path) {
        struct statfs sf;

        if (vhc_passthru_sysfs_write_hook)
                return true;
        return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == SYSFS_MAGIC;
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child: the ROM's bytes into the pipe, then exit. Only read(), write()
 * and _exit() after fork. */
_Noreturn static void rom_child(const char *path, int out, size_t max) {
        char buf[65536];
        size_t total = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                _exit(errno == EACCES || errno == EPERM ? 2 : 1);
        while (total < max) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        _exit(3);
                if (n == 0)
                        break;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, (size_t)(n - off));

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                _exit(4);
                        off += w;
                }
                total += (size_t)n;
        }
        _exit(0);
}

/* Reads path in a child, within timeout_ms. *ret NULL on failure, with rr's why. */
static int read_bounded(const char *path, size_t max, unsigned timeout_ms, struct vhc_rom_read *rr,
                        uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        int64_t deadline = now_ms() + timeout_ms;
        bool timed_out = false;
        int p[2], status = 0;
        pid_t pid;

        *ret = NULL;
        if (pipe2(p, O_CLOEXEC) < 0) {
                set_why(rr, negative_errno(), "cannot make a pipe: %m");
                return 0;
        }
        pid = fork();
        if (pid < 0) {
                set_why(rr, negative_errno(), "cannot fork: %m");
                close(p[0]);
                close(p[1]);
                return 0;
        }
        if (pid == 0) {
                close(p[0]);
                rom_child(path, p[1], max);
        }
        close(p[1]);
        for (;;) {
                struct pollfd pfd = {.fd = p[0], .events = POLLIN};
                int64_t left = deadline - now_ms();
                ssize_t n;
                int k;

                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                k = poll(&pfd, 1, (int)left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        timed_out = k == 0;
                        break;
                }
                if (len == cap) {
                        uint8_t *t;

                        cap = cap ? cap * 2 : 65536;
                        t = realloc(buf, cap);
                        if (!t) {
                                close(p[0]);
                                kill(pid, SIGKILL);
                                (void)waitpid(pid, NULL, 0);
                                return -ENOMEM;
                        }
                        buf = t;
                }
                n = read(p[0], buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(p[0]);
        if (timed_out) {
                /* A child stuck in the kernel dies when its read returns; do not wait for that. */
                kill(pid, SIGKILL);
                for (int i = 0; i < 20 && waitpid(pid, NULL, WNOHANG) == 0; i++)
                        usleep(5000);
                set_why(rr, -ETIMEDOUT, "the device sent no ROM within %u ms", timeout_ms);
                return 0;
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

                if (code == 2)
                        set_why(rr, -EACCES, "reading it needs root");
                else
                        set_why(rr, -EIO, "reading it failed (the device may be in a low-power state)");
                return 0;
        }
        if (len == 0) {
                set_why(rr, -ENODATA, "the device returned no bytes");
                return 0;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static bool device_enabled(const char *enable) {
        _cleanup_free_ char *v = NULL;

        return vhc_read_file(enable, 64, &v, NULL) >= 0 && v[0] != '0';
}

/* "1" when the device's enable file says 0; *enabled says whether we did. */
static void enable_device(const char *enable, bool *enabled) {
        _cleanup_free_ char *v = NULL;

        *enabled = false;
        if (vhc_read_file(enable, 64, &v, NULL) < 0 || v[0] != '0')
                return;
        *enabled = sysfs_write(enable, "1") == 0;
}

int vhc_passthru_read_rom(const struct vhc_root *r, const struct vhc_pci_dev *d, unsigned timeout_ms,
                          struct vhc_rom_read *ret) {
        _cleanup_free_ char *rom = dev_path(r, d, "rom"), *enable = dev_path(r, d, "enable");
        _cleanup_free_ uint8_t *bytes = NULL;
        struct vhc_rom_read rr = {.state = VHC_ROM_UNREADABLE};
        struct stat st;
        bool sysfs, dev_enabled = false;
        size_t len = 0;
        int k;

        if (!rom || !enable)
                return -ENOMEM;
        if (d->driver && !streq(d->driver, "vfio-pci")) {
                rr.state = VHC_ROM_SKIPPED;
                set_why(&rr, -EBUSY, "%s has the device; it is read once vfio-pci has it", d->driver);
                *ret = rr;
                return 0;
        }
        if (d->driver && device_enabled(enable)) {
                /* vfio-pci enables a device when QEMU opens it: a guest may be using
                 * it, and turning on the ROM BAR's decoder can take its other BARs. */
                rr.state = VHC_ROM_SKIPPED;
                set_why(&rr, -EBUSY,
                        "vfio-pci has the device open (a guest is using it); it is read when "
                        "none is");
                *ret = rr;
                return 0;
        }
        if (stat(rom, &st) < 0) {
                rr.state = errno == ENOENT ? VHC_ROM_NONE : VHC_ROM_UNREADABLE;
                set_why(&rr, negative_errno(), "cannot look at it: %m");
                *ret = rr;
                return 0;
        }
        sysfs = on_sysfs(rom);
        if (sysfs) {
                enable_device(enable, &dev_enabled);
                k = sysfs_write(rom, "1");
                if (k < 0) {
                        if (k == -EACCES || k == -EPERM)
                                set_why(&rr, k, "reading it needs root");
                        else
                                set_why(&rr, k, "the kernel refused to enable it: %s", strerror(-k));
                        if (dev_enabled)
                                (void)sysfs_write(enable, "0");
                        *ret = rr;
                        return 0;
                }
                rr.enabled_by_us = true;
        }
        k = read_bounded(rom, ROM_MAX, timeout_ms, &rr, &bytes, &len);
        if (sysfs) {
                /* Undone whatever the read gave: the ROM BAR decodes again only when asked. */
                (void)sysfs_write(rom, "0");
                if (dev_enabled)
                        (void)sysfs_write(enable, "0");
        }
        if (k < 0)
                return k;
        if (bytes) {
                k = vhc_pcirom_parse(bytes, len, &rr.rom, &rr.error);
                if (k < 0)
                        set_why(&rr, k, "at 0x%zx: %s", rr.error.offset, rr.error.what);
                else
                        rr.state = VHC_ROM_READ;
        }
        *ret = rr;
        return 0;
}

/* ------------------------------------------------------------ the reset bug */

/* vendor-reset's README names the cards of each family. */
static const struct vhc_reset_quirk families[] = {
        {"AMD Polaris 10", "RX 470, 480, 570, 580, 590"},
        {"AMD Polaris 11", "RX 460, 560"},
        {"AMD Polaris 12", "RX 540, 550"},
        {"AMD Vega 10", "Vega 56, 64, Frontier Edition"},
        {"AMD Vega 20", "Radeon VII"},
        {"AMD Arcturus", "Instinct MI100"},
        {"AMD Navi 10", "RX 5600 XT, 5700, 5700 XT"},
        {"AMD Navi 12", "Pro 5600M"},
        {"AMD Navi 14", "Pro 5300, RX 5300, 5500 XT"},
};

enum { POLARIS10, POLARIS11, POLARIS12, VEGA10, VEGA20, ARCTURUS, NAVI10, NAVI12, NAVI14 };

/* gnif/vendor-reset src/device-db.h at 084881c: every device of vendor 1002 it lists. */
static const struct {
        uint16_t device;
        uint8_t family;
} reset_bug_ids[] = {
        {0x67c0, POLARIS10}, {0x67c1, POLARIS10}, {0x67c2, POLARIS10}, {0x67c4, POLARIS10},
        {0x67c7, POLARIS10}, {0x67d0, POLARIS10}, {0x67df, POLARIS10}, {0x67c8, POLARIS10},
        {0x67c9, POLARIS10}, {0x67ca, POLARIS10}, {0x67cc, POLARIS10}, {0x67cf, POLARIS10},
        {0x6fdf, POLARIS10}, {0x67e0, POLARIS11}, {0x67e3, POLARIS11}, {0x67e8, POLARIS11},
        {0x67eb, POLARIS11}, {0x67ef, POLARIS11}, {0x67ff, POLARIS11}, {0x67e1, POLARIS11},
        {0x67e7, POLARIS11}, {0x67e9, POLARIS11}, {0x6980, POLARIS12}, {0x6981, POLARIS12},
        {0x6985, POLARIS12}, {0x6986, POLARIS12}, {0x6987, POLARIS12}, {0x6995, POLARIS12},
        {0x6997, POLARIS12}, {0x699f, POLARIS12}, {0x6860, VEGA10},    {0x6861, VEGA10},
        {0x6862, VEGA10},    {0x6863, VEGA10},    {0x6864, VEGA10},    {0x6867, VEGA10},
        {0x6868, VEGA10},    {0x6869, VEGA10},    {0x686a, VEGA10},    {0x686b, VEGA10},
        {0x686c, VEGA10},    {0x686d, VEGA10},    {0x686e, VEGA10},    {0x686f, VEGA10},
        {0x687f, VEGA10},    {0x66a0, VEGA20},    {0x66a1, VEGA20},    {0x66a2, VEGA20},
        {0x66a3, VEGA20},    {0x66a4, VEGA20},    {0x66a7, VEGA20},    {0x66af, VEGA20},
        {0x7310, NAVI10},    {0x7312, NAVI10},    {0x7318, NAVI10},    {0x7319, NAVI10},
        {0x731a, NAVI10},    {0x731b, NAVI10},    {0x731e, NAVI10},    {0x731f, NAVI10},
        {0x7340, NAVI14},    {0x7341, NAVI14},    {0x7347, NAVI14},    {0x734f, NAVI14},
        {0x7360, NAVI12},    {0x7362, NAVI12},    {0x738c, ARCTURUS},
};

const struct vhc_reset_quirk *vhc_passthru_reset_quirk(uint16_t vendor_id, uint16_t device_id) {
        if (vendor_id != 0x1002)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(reset_bug_ids); i++)
                if (reset_bug_ids[i].device == device_id)
                        return &families[reset_bug_ids[i].family];
        return NULL;
}

/* ----------------------------------------------------------------- the BARs */

uint64_t vhc_passthru_bars64(const struct vhc_pci_resources *res, uint64_t *ret_largest, unsigned *ret_bar) {
        uint64_t sum = 0, largest = 0;
        unsigned bar = 0;

        for (size_t i = 0; i < res->n; i++) {
                const struct vhc_pci_bar *b = &res->bars[i];

                if (!b->mem64)
                        continue;
                sum = sum + b->size < sum ? UINT64_MAX : sum + b->size;
                if (b->size > largest) {
                        largest = b->size;
                        bar = b->index;
                }
        }
        if (ret_largest)
                *ret_largest = largest;
        if (ret_bar)
                *ret_bar = bar;
        return sum;
}

uint64_t vhc_passthru_ovmf_dynamic_window(unsigned phys_bits, bool gbpages) {
        if (phys_bits > 46)
                phys_bits = 46;
        if (!gbpages && phys_bits > 40)
                phys_bits = 40;
        if (phys_bits < 36)
                return 0;
        return UINT64_C(1) << (phys_bits - 3);
}

uint64_t vhc_passthru_mmio64_need(uint64_t sum) {
        uint64_t want, p = 1;

        if (sum == 0)
                return 0;
        if (sum > UINT64_C(1) << 60)
                return UINT64_C(1) << 62;
        want = sum + sum / 4;
        while (p < want)
                p <<= 1;
        return p;
}
