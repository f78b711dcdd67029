/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "config.h"
#include "fileio.h"
#include "firmware.h"
#include "guest.h"
#include "meminfo.h"
#include "strv.h"

#define QCOW2_MAGIC "QFI\xfb"

/* Everything the guest description points into, freed in one place. */
struct create {
        struct vhc_guest g;
        struct vhc_guest_disk *disks;
        char **disk_paths;
        char **cdroms;
        char *virtio_win;
        struct vhc_firmware fw;
        struct gx_host host;
        struct vhc_topology *topo;
        struct vhc_domxml_result res;
};

static void create_done(struct create *c) {
        free(c->disks);
        strv_free(c->disk_paths);
        strv_free(c->cdroms);
        free(c->virtio_win);
        vhc_firmware_done(&c->fw);
        gx_host_done(&c->host);
        vhc_topology_free(c->topo);
        vhc_domxml_result_done(&c->res);
}

static bool is_file_on(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_root_join(r, abs);
        struct stat st;

        return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int parse_memory(const char *s, uint64_t *ret_kib) {
        uint64_t bytes;
        bool bare = true;

        for (const char *p = s; *p; p++)
                bare = bare && isdigit((unsigned char)*p);
        if (!*s || vhc_parse_size(s, &bytes) < 0)
                return -EINVAL;
        if (bare) {
                /* A bare number is MiB, as virt-install's --memory takes it. */
                if (bytes > UINT64_MAX >> 20)
                        return -ERANGE;
                bytes <<= 20;
        }
        if (bytes < (UINT64_C(1) << 20) || bytes % 1024 != 0)
                return -EINVAL;
        *ret_kib = bytes / 1024;
        return 0;
}

static int parse_vcpus(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        /* 4096: the most any libvirt machine type takes. */
        if (errno || *end || v == 0 || v > 4096)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

static bool image_is_qcow2(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_root_join(r, abs);
        _cleanup_close_ int fd = -1;
        char magic[4];

        if (!p)
                return false;
        fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd >= 0 && read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
               memcmp(magic, QCOW2_MAGIC, sizeof(magic)) == 0;
}

static int parse_size_gib(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v == 0 || v > 1024 * 1024)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* PATH, PATH,size=N or size=N (the default path for the guest's name). */
static int parse_disk(struct gx_ctx *ctx, const char *spec, struct vhc_guest_disk *d, char **ret_path) {
        _cleanup_free_ char *copy = strdup(spec), *path = NULL;
        char *tok, *save = NULL;
        uint64_t size = 0;
        bool first = true;
        int r;

        if (!copy)
                return -ENOMEM;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = false) {
                if (first && !strchr(tok, '=')) {
                        r = gx_absolute(ctx, "--disk", tok, &path);
                        if (r != 0)
                                return r;
                } else if (startswith(tok, "size=")) {
                        if (parse_size_gib(tok + 5, &size) < 0)
                                return gx_usage("--disk %s: size= takes a number of GiB, like size=100",
                                                spec);
                } else
                        return gx_usage("--disk %s: unknown part '%s' (PATH[,size=GIB])", spec, tok);
        }
        if (!path) {
                if (size == 0)
                        return gx_usage("--disk %s: give a path, a size (size=100), or both", spec);
                if (asprintf(&path, "%s/%s.qcow2", vhc_path_abs(VHC_PATH_LIBVIRT_IMAGES), ctx->o->name) < 0)
                        return -ENOMEM;
        }

        if (is_file_on(ctx->root, path)) {
                if (size > 0)
                        gx_note("%s exists: the guest uses it as it is, size=%" PRIu64 " is ignored", path,
                                size);
                *d = (struct vhc_guest_disk){.qcow2 = image_is_qcow2(ctx->root, path)};
        } else if (size == 0)
                return vhc_err_set(&ctx->err, -ENOENT, NULL, 0,
                                   "--disk %s: no such image; add ,size=N to declare a new one of N GiB",
                                   path);
        else {
                gx_note("create the disk before the first start: qemu-img create -f qcow2 %s %" PRIu64 "G",
                        path, size);
                *d = (struct vhc_guest_disk){.size_gib = size, .qcow2 = true};
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int resolve_disks(struct gx_ctx *ctx, struct create *c) {
        size_t n = strv_length(ctx->o->disks);
        int r;

        if (n == 0)
                return 0;
        c->disks = calloc(n, sizeof(*c->disks));
        if (!c->disks)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char *path = NULL;

                r = parse_disk(ctx, ctx->o->disks[i], &c->disks[i], &path);
                if (r != 0)
                        return r;
                r = strv_consume(&c->disk_paths, path);
                if (r < 0)
                        return r;
                c->disks[i].path = path;
        }
        c->g.disks = c->disks;
        c->g.n_disks = n;
        return 0;
}

static int resolve_cdroms(struct gx_ctx *ctx, struct create *c) {
        int r;

        for (char **iso = ctx->o->cdroms; iso && *iso; iso++) {
                char *path = NULL;

                r = gx_absolute(ctx, "--cdrom", *iso, &path);
                if (r != 0)
                        return r;
                r = strv_consume(&c->cdroms, path);
                if (r < 0)
                        return r;
                if (!is_file_on(ctx->root, path))
                        return vhc_err_set(&ctx->err, -ENOENT, NULL, 0, "--cdrom %s: no such file", path);
        }
        c->g.cdroms = c->cdroms;

        if (c->g.os == VHC_GUEST_LINUX)
                return 0;
        /* Windows finds neither the virtio-scsi disk nor the virtio network
         * without the drivers on this ISO. */
        if (!is_file_on(ctx->root, vhc_path_abs(VHC_PATH_VIRTIO_WIN_ISO))) {
                gx_note("%s not found: install virtio-win, or give the driver ISO with --cdrom; Windows "
                        "needs "
                        "it for the virtio disk and network",
                        vhc_path_abs(VHC_PATH_VIRTIO_WIN_ISO));
                return 0;
        }
        if (strv_contains(c->cdroms, vhc_path_abs(VHC_PATH_VIRTIO_WIN_ISO)))
                return 0;
        c->virtio_win = strdup(vhc_path_abs(VHC_PATH_VIRTIO_WIN_ISO));
        if (!c->virtio_win)
                return -ENOMEM;
        c->g.virtio_win = c->virtio_win;
        return 0;
}

/* Huge pages are reserved up front; a guest that finds too few does not start. */
static void check_hugepages(struct gx_ctx *ctx, uint64_t memory_kib) {
        struct vhc_err ignored = {};
        struct vhc_meminfo mi;
        uint64_t page_kib, need;

        if (vhc_meminfo_read(ctx->root, &mi, &ignored) < 0 || mi.hugepage_size < 1024)
                return;
        page_kib = mi.hugepage_size / 1024;
        need = (memory_kib + page_kib - 1) / page_kib;
        if (mi.hugepages_free < need)
                gx_warn("--hugepages: the host has %" PRIu64 " free huge pages of %" PRIu64
                        " KiB, the guest needs "
                        "%" PRIu64 "; reserve them (sysctl vm.nr_hugepages) or the guest will not start",
                        mi.hugepages_free, page_kib, need);
}

/* Firmware by its features, which libvirt picks from QEMU's descriptors: on
 * Fedora the 4 MiB qcow2 build, whose variable store has room for Windows'
 * Secure Boot (DBX) updates. Named files only where libvirt cannot pick: older
 * than 7.2, or no descriptors to pick from. */
static int resolve_firmware(struct gx_ctx *ctx, struct create *c) {
        bool win11 = c->g.os == VHC_GUEST_WIN11;
        unsigned lv = c->host.libvirt;
        char ver[32];
        int r;

        gx_libvirt_version_format(lv, ver);
        r = vhc_firmware_find(ctx->root, win11, &c->fw, &ctx->err);
        if (r == -ENOENT) {
                gx_note("no %sOVMF firmware found%s%s: libvirt picks one when the guest is defined (install "
                        "edk2-ovmf)",
                        win11 ? "Secure Boot " : "", vhc_root_is_host(ctx->root) ? "" : " under ",
                        vhc_root_dir(ctx->root));
                return 0;
        }
        if (r < 0)
                return r;
        if (lv && lv < VHC_LIBVIRT_FIRMWARE_FEATURES) {
                gx_note("libvirt %s is older than 7.2 and cannot pick firmware by its features: the guest "
                        "names %s",
                        ver, c->fw.code);
                c->g.fw = &c->fw;
        } else if (!c->fw.source) {
                gx_note("no firmware descriptor in %s names %s: the guest names it, as libvirt has none to "
                        "pick from",
                        vhc_path_abs(VHC_PATH_QEMU_FIRMWARE_USR), c->fw.code);
                c->g.fw = &c->fw;
        }
        return 0;
}

int cmd_create(struct gx_ctx *ctx) {
        const struct gx_opts *o = ctx->o;
        _cleanup_free_ char *xml = NULL;
        struct create c = {};
        size_t len = 0;
        int r;

        if (!o->name)
                return gx_usage("--name is missing");
        if (!o->memory)
                return gx_usage("--memory is missing");
        if (!o->vcpus)
                return gx_usage("--vcpus is missing");
        if (parse_memory(o->memory, &c.g.memory_kib) < 0)
                return gx_usage("--memory %s: give a size of 1M or more, like 8G or 8192M", o->memory);
        if (parse_vcpus(o->vcpus, &c.g.vcpus) < 0)
                return gx_usage("--vcpus %s: give a number from 1 to 4096", o->vcpus);
        if (o->os && vhc_guest_os_from_string(o->os, &c.g.os) < 0)
                return gx_usage("--os %s: give win10, win11 or linux", o->os);
        if (o->audio && streq(o->audio, "keep"))
                return gx_usage("--audio keep goes with patch only");
        if (!o->os)
                c.g.os = VHC_GUEST_WIN10;
        c.g.name = o->name;
        c.g.spice_listen = o->spice_listen;

        if ((r = resolve_disks(ctx, &c)) != 0 || (r = resolve_cdroms(ctx, &c)) != 0 ||
            (r = gx_host_read(ctx, &c.host)) != 0 || (r = gx_resolve_hostdevs(ctx, &c.host, false)) != 0)
                goto out;
        if (o->pin && streq(o->pin, "auto")) {
                r = gx_read_topology(ctx, &c.topo);
                if (r < 0)
                        goto out;
                c.host.ed.pin = c.topo;
        }
        r = resolve_firmware(ctx, &c);
        if (r < 0)
                goto out;
        if (o->hugepages)
                check_hugepages(ctx, c.g.memory_kib);
        if (c.host.ed.lg.size_mib && c.host.ed.n_hostdevs == 0)
                gx_note("--looking-glass without --hostdev: the guest has no emulated display, and Looking "
                        "Glass shows only what a graphics card (or its indirect display driver) draws");
        c.g.ed = c.host.ed;

        r = vhc_domxml_render(&c.g, &xml, &len, &c.res, &ctx->err);
        if (r >= 0) {
                gx_result_notes(ctx, &c.res);
                r = gx_write_stdout(ctx, xml, len);
        }
out:
        create_done(&c);
        return r;
}
