/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <dirent.h>
#include <sys/stat.h>

#include "config.h"
#include "cpuinfo.h"
#include "fileio.h"
#include "guest.h"
#include "kmodule.h"
#include "passthru.h"
#include "pcidev.h"
#include "plan.h"
#include "strv.h"

#define NVIDIA_VENDOR 0x10de
/* Option ROMs are at most 16 MiB (the ROM BAR's largest size in practice). */
#define ROM_FILE_MAX (16u << 20)

void gx_host_done(struct gx_host *h) {
        free(h->audio_dir);
        free(h->hostdevs);
        free(h->nvidia_devs);
        free(h->roms);
        strv_free(h->rom_files);
        *h = (struct gx_host){};
}

static bool exists_on(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_root_join_nofollow(r, abs);
        struct stat st;

        return p && lstat(p, &st) == 0;
}

static bool exists_at(const struct vhc_root *r, enum vhc_path base, const char *tail) {
        _cleanup_free_ char *p = vhc_root_pathf(r, base, "%s", tail);
        struct stat st;

        return p && lstat(p, &st) == 0;
}

/* The first line of a small sysfs file; "" when it cannot be read. */
static void read_line(const struct vhc_root *r, enum vhc_path base, const char *tail, char *buf,
                      size_t size) {
        _cleanup_free_ char *p = vhc_root_pathf(r, base, "%s", tail), *text = NULL;
        size_t len = 0;

        buf[0] = '\0';
        if (!p || vhc_read_file(p, 4096, &text, &len) < 0)
                return;
        snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
}

static void newest_in(const char *dir, unsigned *best) {
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                unsigned v;

                if (vhc_libvirt_version_parse(de->d_name, &v) == 0 && v > *best)
                        *best = v;
        }
        closedir(d);
}

unsigned gx_libvirt_version(const struct vhc_root *r) {
        _cleanup_free_ char *lib64 = vhc_root_path(r, VHC_PATH_USR_LIB64),
                            *lib = vhc_root_path(r, VHC_PATH_USR_LIB);
        unsigned best = 0;
        DIR *d;
        struct dirent *de;

        if (!lib64 || !lib)
                return 0;
        newest_in(lib64, &best);
        newest_in(lib, &best);
        /* Debian's multiarch directories: /usr/lib/x86_64-linux-gnu. */
        d = opendir(lib);
        while (d && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                size_t n = strlen(de->d_name);

                if (n > 10 && streq(de->d_name + n - 10, "-linux-gnu") &&
                    asprintf(&sub, "%s/%s", lib, de->d_name) > 0)
                        newest_in(sub, &best);
        }
        if (d)
                closedir(d);
        return best;
}

void gx_libvirt_version_format(unsigned v, char buf[static 32]) {
        snprintf(buf, 32, "%u.%u.%u", v / 1000000, v / 1000 % 1000, v % 1000);
}

bool gx_have_program(const struct vhc_root *r, const char *name) {
        for (const enum vhc_path *d = vhc_path_list(VHC_PATHS_PROGRAM_DIRS); *d != _VHC_PATH_MAX; d++) {
                _cleanup_free_ char *p = vhc_root_pathf(r, *d, "%s", name);
                struct stat st;

                if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
                        return true;
        }
        return false;
}

/* The runtime directory of the user who runs us (under sudo, the one who
 * called sudo): where their PipeWire and PulseAudio sockets are. */
static int runtime_dir(char **ret) {
        const char *xdg = getenv("XDG_RUNTIME_DIR"), *sudo_uid = getenv("SUDO_UID");
        unsigned long uid = getuid();

        /* It goes into the XML: a value libvirt would refuse is not taken. */
        if (xdg && xdg[0] == '/' && vhc_domxml_string_ok(xdg) && !(geteuid() == 0 && sudo_uid)) {
                *ret = strdup(xdg);
                return *ret ? 0 : -ENOMEM;
        }
        if (geteuid() == 0 && sudo_uid && isdigit((unsigned char)sudo_uid[0]))
                uid = strtoul(sudo_uid, NULL, 10);
        return asprintf(ret, "%s/%lu", vhc_path_abs(VHC_PATH_RUN_USER), uid) < 0 ? -ENOMEM : 0;
}

static int pick_audio(struct gx_ctx *ctx, struct gx_host *h) {
        const char *want = ctx->o->audio ?: "auto";
        _cleanup_free_ char *pw = NULL, *pulse = NULL;
        bool have_pw, have_pulse, pw_ok = !h->libvirt || h->libvirt >= VHC_LIBVIRT_PIPEWIRE;
        char ver[32];
        int r;

        gx_libvirt_version_format(h->libvirt, ver);
        if (streq(want, "spice") || (streq(want, "auto") && ctx->o->looking_glass)) {
                /* Looking Glass's client plays the guest's sound from SPICE. */
                h->ed.audio = VHC_AUDIO_SPICE;
                return 0;
        }
        /* patch leaves a domain's sound alone unless asked. */
        if (streq(want, "keep") || (ctx->o->patch && !ctx->o->audio)) {
                h->ed.audio = VHC_AUDIO_KEEP;
                return 0;
        }
        r = runtime_dir(&h->audio_dir);
        if (r < 0)
                return r;
        if (asprintf(&pw, "%s/pipewire-0", h->audio_dir) < 0 ||
            asprintf(&pulse, "%s/pulse/native", h->audio_dir) < 0)
                return -ENOMEM;
        have_pw = exists_on(ctx->root, pw);
        have_pulse = exists_on(ctx->root, pulse);
        h->ed.audio_dir = h->audio_dir;

        if (streq(want, "pipewire")) {
                if (!pw_ok)
                        return vhc_err_set(
                                &ctx->err, -EINVAL, NULL, 0,
                                "--audio pipewire: libvirt %s has no PipeWire audio (9.10 and later "
                                "have it); give --audio pulseaudio, which pipewire-pulse serves",
                                ver);
                h->ed.audio = VHC_AUDIO_PIPEWIRE;
        } else if (streq(want, "pulseaudio"))
                h->ed.audio = VHC_AUDIO_PULSEAUDIO;
        else if (have_pw && pw_ok)
                h->ed.audio = VHC_AUDIO_PIPEWIRE;
        else if (have_pulse)
                h->ed.audio = VHC_AUDIO_PULSEAUDIO;
        else {
                h->ed.audio = VHC_AUDIO_SPICE;
                if (have_pw)
                        gx_note("PipeWire runs in %s, but libvirt %s has no PipeWire audio and no "
                                "PulseAudio "
                                "socket is there (pipewire-pulse): the guest's sound goes to SPICE",
                                h->audio_dir, ver);
                return 0;
        }
        if (h->libvirt && h->libvirt < VHC_LIBVIRT_AUDIO)
                return 0;
        gx_note("the guest's sound goes to %s in %s: QEMU reaches it only as your user (user = \"you\" in "
                "%s/qemu.conf, or qemu:///session); see virt-guest-xml(1), AUDIO",
                h->ed.audio == VHC_AUDIO_PIPEWIRE ? "PipeWire" : "PulseAudio", h->audio_dir,
                vhc_path_abs(VHC_PATH_LIBVIRT_DIR));
        return 0;
}

static bool kvmfr_available(struct gx_ctx *ctx) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;
        struct vhc_err ignored = {};

        if (exists_on(ctx->root, vhc_path_abs(VHC_PATH_KVMFR_DEV)) ||
            exists_at(ctx->root, VHC_PATH_SYS_MODULE, "kvmfr"))
                return true;
        return vhc_kmod_new(ctx->root, NULL, &k, &ignored) >= 0 &&
               vhc_kmod_available(k, "kvmfr") != VHC_KMOD_MISSING;
}

static int pick_looking_glass(struct gx_ctx *ctx, struct gx_host *h) {
        struct vhc_looking_glass *lg = &h->ed.lg;
        unsigned w = 2560, hh = 1440;
        char loaded[64];

        if (!ctx->o->looking_glass)
                return 0;
        if (ctx->o->looking_glass[0] &&
            vhc_looking_glass_parse_resolution(ctx->o->looking_glass, &w, &hh) < 0)
                return gx_usage("--looking-glass=%s: give the guest's largest resolution, like "
                                "--looking-glass=2560x1440",
                                ctx->o->looking_glass);
        (void)vhc_looking_glass_size_mib(w, hh, &lg->size_mib);
        lg->kvmfr = kvmfr_available(ctx);
        lg->legacy_syntax = h->libvirt && h->libvirt < VHC_LIBVIRT_QEMU_JSON;
        if (!lg->kvmfr) {
                gx_note("Looking Glass: %ux%u needs %u MiB on %s; without kvmfr QEMU makes that file as its "
                        "own user: create it for yours first (looking_glass = yes in %s does, or f %s 0660 "
                        "you "
                        "kvm - in a tmpfiles.d file)",
                        w, hh, lg->size_mib, vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS),
                        vhc_path_abs(VHC_PATH_CONFIG), vhc_path_abs(VHC_PATH_SHM_LOOKING_GLASS));
                return 0;
        }
        read_line(ctx->root, VHC_PATH_SYS_MODULE, "kvmfr/parameters/static_size_mb", loaded, sizeof(loaded));
        if (loaded[0] && strtoul(loaded, NULL, 10) != lg->size_mib)
                gx_warn("Looking Glass: kvmfr is loaded with static_size_mb=%s, %ux%u needs %u: set "
                        "'options kvmfr static_size_mb=%u' in a modprobe.d file and reload kvmfr",
                        loaded, w, hh, lg->size_mib, lg->size_mib);
        gx_note("Looking Glass: %ux%u needs %u MiB on %s (kvmfr): libvirt lets QEMU open it only when it is "
                "in "
                "cgroup_device_acl (%s/qemu.conf)",
                w, hh, lg->size_mib, vhc_path_abs(VHC_PATH_KVMFR_DEV), vhc_path_abs(VHC_PATH_LIBVIRT_DIR));
        return 0;
}

int gx_host_read(struct gx_ctx *ctx, struct gx_host *h) {
        struct vhc_err ignored = {};
        struct vhc_cpuinfo ci;
        char nested[16];
        int r;

        h->ed.nvidia = ctx->o->nvidia;
        h->ed.hugepages = ctx->o->hugepages;
        h->ed.evdevs = ctx->o->evdevs;
        h->libvirt = gx_libvirt_version(ctx->root);
        h->ed.libvirt = h->libvirt;
        if (vhc_cpuinfo_read(ctx->root, &ci, &ignored) >= 0)
                h->ed.vendor = ci.vendor;
        read_line(ctx->root, VHC_PATH_SYS_MODULE, "kvm_intel/parameters/nested", nested, sizeof(nested));
        h->ed.no_nested = streq(nested, "N") || streq(nested, "0");
        r = pick_audio(ctx, h);
        if (r != 0)
                return r;
        return pick_looking_glass(ctx, h);
}

int gx_absolute(struct gx_ctx *ctx, const char *opt, const char *path, char **ret) {
        _cleanup_free_ char *cwd = NULL;

        if (path[0] == '/') {
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        if (!vhc_root_is_host(ctx->root))
                return gx_usage("%s %s: give an absolute path when --root is used", opt, path);
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return vhc_err_set(&ctx->err, negative_errno(), NULL, 0,
                                   "cannot get the working directory: %s", strerror(errno));
        if (asprintf(ret, "%s/%s", streq(cwd, "/") ? "" : cwd, path) < 0)
                return -ENOMEM;
        return 0;
}

int gx_read_topology(struct gx_ctx *ctx, struct vhc_topology **ret) {
        return vhc_topology_read(ctx->root, ret, &ctx->err);
}

void gx_result_notes(struct gx_ctx *ctx, const struct vhc_domxml_result *res) {
        const struct vhc_pinning *p = &res->pin;

        if (p->n_vcpus && p->n_l3 > 1)
                gx_note("no L3 cache domain has %u free cores: the guest spans %u of them", p->cores,
                        p->n_l3);
        if (p->n_vcpus && p->n_efficiency > 0)
                gx_note("%u vCPUs on performance-core threads and %u on efficiency cores, one each: "
                        "the guest sees %u cores of one thread",
                        p->n_vcpus - p->n_efficiency, p->n_efficiency, p->n_vcpus);
        if (res->tpm_emulator &&
            (!gx_have_program(ctx->root, "swtpm") || !gx_have_program(ctx->root, "swtpm_setup")))
                gx_warn("the guest's TPM 2.0 needs swtpm and swtpm_setup, and libvirt does not start it "
                        "without "
                        "them: install swtpm and swtpm-tools");
}

static int load_config(struct gx_ctx *ctx, struct vhc_config *cfg) {
        _cleanup_free_ char *path = NULL;

        vhc_config_init(cfg);
        if (ctx->o->config_path)
                return vhc_config_load_named(cfg, ctx->o->config_path, &ctx->err);
        path = vhc_root_path(ctx->root, VHC_PATH_CONFIG);
        if (!path)
                return -ENOMEM;
        return vhc_config_load(cfg, path, &ctx->err);
}

static bool plan_isolates(const struct vhc_plan *plan, const struct vhc_pci_dev *d) {
        for (size_t i = 0; i < plan->n; i++)
                if (plan->entries[i].dev == d)
                        return plan->entries[i].action == VHC_ACTION_ISOLATE;
        return false;
}

static const char *plan_reason(const struct vhc_plan *plan, const struct vhc_pci_dev *d) {
        for (size_t i = 0; i < plan->n; i++)
                if (plan->entries[i].dev == d)
                        return plan->entries[i].reason;
        return "";
}

static struct vhc_guest_hostdev to_hostdev(const struct vhc_pci_dev *d) {
        return (struct vhc_guest_hostdev){
                .domain = d->domain,
                .bus = d->bus,
                .slot = d->dev,
                .function = d->func,
        };
}

/* The host's NVIDIA functions, for the "Error 43" settings of a patched
 * domain that passes one; none where the PCI devices cannot be read. */
static int nvidia_devices(struct gx_ctx *ctx, struct gx_host *h, const struct vhc_pci_list *l) {
        size_t n = 0;

        h->nvidia_devs = calloc(l->n + 1, sizeof(*h->nvidia_devs));
        if (!h->nvidia_devs)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                if (l->devs[i].vendor_id == NVIDIA_VENDOR)
                        h->nvidia_devs[n++] = to_hostdev(&l->devs[i]);
        h->ed.nvidia_devs = h->nvidia_devs;
        h->ed.n_nvidia_devs = n;
        return 0;
}

/* OVMF's 64-bit MMIO window, when the 64-bit BARs of the devices to pass
 * take more than it gives by default. */
static int size_mmio64(struct gx_ctx *ctx, struct gx_host *h, const struct vhc_pci_list *l,
                       const bool *pick) {
        uint64_t sum = 0, need;
        char gib[32];

        for (size_t i = 0; i < l->n; i++) {
                struct vhc_passthru_info info;
                uint64_t bars;
                int r;

                if (!pick[i])
                        continue;
                r = vhc_passthru_read(ctx->root, &l->devs[i], &info);
                if (r < 0)
                        return r;
                if (info.res_r < 0)
                        continue;
                bars = vhc_passthru_bars64(&info.res, NULL, NULL);
                sum = sum + bars < sum ? UINT64_MAX : sum + bars;
        }
        need = vhc_passthru_mmio64_need(sum);
        if (need <= VHC_OVMF_MMIO64_CLASSIC)
                return 0;
        snprintf(gib, sizeof(gib), "%" PRIu64 " GiB", need >> 30);
        if (h->libvirt && h->libvirt < VHC_LIBVIRT_FWCFG) {
                char ver[32];

                gx_libvirt_version_format(h->libvirt, ver);
                gx_warn("the passed devices' 64-bit BARs need a %s 64-bit MMIO window, more than the 32 GiB "
                        "OVMF gives by default, and libvirt %s cannot set it (<sysinfo type=\"fwcfg\"> came "
                        "with 6.5): turn Resizable BAR off in the host's firmware, or update libvirt",
                        gib, ver);
                return 0;
        }
        h->ed.mmio64_mib = need >> 20;
        gx_note("the passed devices' 64-bit BARs take more than the 32 GiB 64-bit MMIO window OVMF gives by "
                "default: the guest sets it to %s (opt/ovmf/X-PciMmio64Mb=%" PRIu64 ")",
                gib, h->ed.mmio64_mib);
        return 0;
}

static bool is_passed(const struct gx_host *h, const struct vhc_pci_dev *d) {
        for (size_t i = 0; i < h->ed.n_hostdevs; i++)
                if (h->hostdevs[i].domain == d->domain && h->hostdevs[i].bus == d->bus &&
                    h->hostdevs[i].slot == d->dev && h->hostdevs[i].function == d->func)
                        return true;
        return false;
}

/* FILE must hold an option ROM with an EFI x86-64 image, starting at its first
 * byte as QEMU's romfile is read: that is what OVMF runs. */
static int check_rom_file(struct gx_ctx *ctx, const char *spec, const char *abs,
                          const struct vhc_pci_dev *d) {
        _cleanup_free_ char *p = vhc_root_join(ctx->root, abs), *data = NULL;
        struct vhc_rom_error re = {};
        struct vhc_rom rom;
        const struct vhc_rom_image *efi;
        size_t len = 0, at;
        struct stat st;
        int r;

        if (!p)
                return -ENOMEM;
        if (stat(p, &st) < 0)
                return vhc_err_set(&ctx->err, negative_errno(), NULL, 0, "--rom %s: %s: %s", spec, abs,
                                   strerror(errno));
        if (!S_ISREG(st.st_mode))
                return vhc_err_set(&ctx->err, -EINVAL, NULL, 0, "--rom %s: %s is not a file", spec, abs);
        if ((uint64_t)st.st_size > ROM_FILE_MAX)
                return vhc_err_set(&ctx->err, -EFBIG, NULL, 0,
                                   "--rom %s: %s has %" PRIu64 " bytes, more than the 16 MiB a PCI option "
                                   "ROM can have: give the ROM image itself",
                                   spec, abs, (uint64_t)st.st_size);
        r = vhc_read_file(p, ROM_FILE_MAX, &data, &len);
        if (r < 0)
                return vhc_err_set(&ctx->err, r, NULL, 0, "--rom %s: cannot read %s: %s", spec, abs,
                                   strerror(-r));
        if (vhc_pcirom_parse((const uint8_t *)data, len, &rom, &re) < 0) {
                at = vhc_pcirom_find((const uint8_t *)data, len);
                if (at != SIZE_MAX)
                        return vhc_err_set(
                                &ctx->err, -EINVAL, NULL, 0,
                                "--rom %s: in %s the option ROM starts at byte %zu, after a "
                                "header QEMU does not skip: cut it off first (dd if=%s of=NEW.rom "
                                "bs=%zu skip=1), then give NEW.rom",
                                spec, abs, at, abs, at);
                return vhc_err_set(&ctx->err, -EINVAL, NULL, 0,
                                   "--rom %s: %s is not a PCI option ROM (at byte %zu: %s)", spec, abs,
                                   re.offset, re.what);
        }
        efi = vhc_pcirom_efi(&rom, VHC_EFI_MACHINE_X64);
        if (!efi) {
                _cleanup_free_ char *kinds = NULL;
                size_t klen = 0;
                FILE *f = open_memstream(&kinds, &klen);

                if (!f)
                        return -ENOMEM;
                for (size_t i = 0; i < rom.n; i++) {
                        const struct vhc_rom_image *img = &rom.images[i];
                        const char *code = vhc_rom_code_name(img->code_type);

                        fprintf(f, "%s", i ? ", " : "");
                        if (code)
                                fprintf(f, "%s", code);
                        else
                                fprintf(f, "code type %u", img->code_type);
                        if (img->code_type == VHC_ROM_CODE_EFI)
                                fprintf(f, " (%s)",
                                        vhc_efi_machine_name(img->efi_machine) ?: "unknown machine");
                }
                if (fclose(f) != 0)
                        return -ENOMEM;
                return vhc_err_set(&ctx->err, -EINVAL, NULL, 0,
                                   "--rom %s: %s holds no EFI x86-64 image (its images: %s), so OVMF "
                                   "shows nothing with it either: give a ROM with a UEFI (GOP) image",
                                   spec, abs, kinds);
        }
        if (!vhc_pcirom_image_for(efi, d->vendor_id, d->device_id))
                gx_warn("--rom %s: the EFI image in %s is for %04x:%04x, not for %s (%04x:%04x): OVMF may "
                        "not run it for this card",
                        spec, abs, efi->vendor_id, efi->device_id, d->address, d->vendor_id, d->device_id);
        return 0;
}

/* --rom [ADDR=]FILE: ADDR one of the passed functions, by default the one
 * passed display controller. */
static int resolve_roms(struct gx_ctx *ctx, struct gx_host *h, const struct vhc_pci_list *l,
                        const bool *pick) {
        size_t n = strv_length(ctx->o->roms), k = 0;
        int r;

        if (n == 0)
                return 0;
        h->roms = calloc(n, sizeof(*h->roms));
        if (!h->roms)
                return -ENOMEM;
        for (char **s = ctx->o->roms; *s; s++) {
                const char *eq = strchr(*s, '='), *file = *s;
                const struct vhc_pci_dev *d = NULL;
                char *abs = NULL;

                if (eq) {
                        _cleanup_free_ char *a = strndup(*s, (size_t)(eq - *s));
                        char addr[13];

                        if (!a)
                                return -ENOMEM;
                        if (vhc_parse_pci_address(a, addr) < 0)
                                return gx_usage("--rom %s: give FILE or ADDR=FILE, ADDR a PCI address like "
                                                "0000:01:00.0",
                                                *s);
                        d = vhc_pci_find(l, addr);
                        if (!d || !is_passed(h, d))
                                return vhc_err_set(&ctx->err, -EINVAL, NULL, 0,
                                                   "--rom %s: %s is not a device this guest gets: give it "
                                                   "with --hostdev too",
                                                   *s, addr);
                        file = eq + 1;
                } else {
                        for (size_t i = 0; i < l->n; i++) {
                                if (!pick[i] || !vhc_pci_is_display(&l->devs[i]))
                                        continue;
                                if (d)
                                        return gx_usage("--rom %s: the guest gets %s and %s: say which one, "
                                                        "--rom ADDR=FILE",
                                                        *s, d->address, l->devs[i].address);
                                d = &l->devs[i];
                        }
                        if (!d)
                                return gx_usage(
                                        "--rom %s: the guest gets no graphics card: say which device, "
                                        "--rom ADDR=FILE",
                                        *s);
                }
                if (!file[0])
                        return gx_usage("--rom %s: the file is missing", *s);
                for (size_t i = 0; i < k; i++)
                        if (h->roms[i].dev.domain == d->domain && h->roms[i].dev.bus == d->bus &&
                            h->roms[i].dev.slot == d->dev && h->roms[i].dev.function == d->func)
                                return gx_usage("--rom %s: %s has a ROM file already", *s, d->address);
                r = gx_absolute(ctx, "--rom", file, &abs);
                if (r != 0)
                        return r;
                r = strv_consume(&h->rom_files, abs);
                if (r < 0)
                        return r;
                r = check_rom_file(ctx, *s, abs, d);
                if (r != 0)
                        return r;
                h->roms[k++] = (struct vhc_guest_rom){.dev = to_hostdev(d), .file = abs};
        }
        h->ed.roms = h->roms;
        h->ed.n_roms = k;
        return 0;
}

/* The devices to pass: with auto every device the host role isolates, else
 * each listed one; always with every function of their slots. Functions of
 * a slot come out adjacent since the scan is in address order. */
int gx_resolve_hostdevs(struct gx_ctx *ctx, struct gx_host *h, bool for_patch) {
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;
        _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
        _cleanup_free_ bool *pick = NULL;
        struct vhc_config cfg;
        bool any = false, nvidia = false;
        size_t n = 0;
        int r;

        for (char **s = ctx->o->hostdevs; s && *s; s++) {
                char addr[13];

                if (!streq(*s, "auto") && vhc_parse_pci_address(*s, addr) < 0)
                        return gx_usage("--hostdev %s: give auto or a PCI address like 0000:01:00.0", *s);
        }
        if (ctx->o->roms && !ctx->o->hostdevs)
                return gx_usage("--rom goes with --hostdev: the ROM is for a device the guest gets");
        if (!ctx->o->hostdevs && !for_patch)
                return 0;
        if (!ctx->o->hostdevs) {
                struct vhc_err ignored = {};

                /* patch without --hostdev: only the NVIDIA check needs the devices. */
                if (ctx->o->nvidia >= 0 || vhc_pci_scan(ctx->root, &l, &ignored) < 0)
                        return 0;
                return nvidia_devices(ctx, h, l);
        }

        r = vhc_pci_scan(ctx->root, &l, &ctx->err);
        if (r < 0)
                return r;
        r = nvidia_devices(ctx, h, l);
        if (r < 0)
                return r;
        r = load_config(ctx, &cfg);
        if (r >= 0)
                r = vhc_plan_make(l, &cfg, &plan, &ctx->err);
        vhc_config_done(&cfg);
        if (r < 0)
                return r;

        pick = calloc(l->n + 1, sizeof(*pick));
        if (!pick)
                return -ENOMEM;
        for (char **s = ctx->o->hostdevs; *s; s++) {
                const struct vhc_pci_dev *d;
                char addr[13];

                if (streq(*s, "auto")) {
                        for (size_t i = 0; i < l->n; i++)
                                if (plan_isolates(plan, &l->devs[i]))
                                        pick[i] = any = true;
                        if (!any)
                                return vhc_err_set(
                                        &ctx->err, -ENOENT, NULL, 0,
                                        "--hostdev auto: virt-host-config isolates no device on this "
                                        "machine%s%s",
                                        plan->note ? ": " : "", strempty(plan->note));
                        continue;
                }
                (void)vhc_parse_pci_address(*s, addr);
                d = vhc_pci_find(l, addr);
                if (!d)
                        return vhc_err_set(&ctx->err, -ENOENT, NULL, 0,
                                           "--hostdev %s: no PCI device %s here", *s, addr);
                if (!plan_isolates(plan, d))
                        return vhc_err_set(
                                &ctx->err, -EINVAL, NULL, 0,
                                "--hostdev %s: %s is not isolated for passthrough (%s); list it in "
                                "isolate in virt-host-config.conf and run virt-host-config apply",
                                *s, addr, plan_reason(plan, d));
                for (size_t i = 0; i < l->n; i++)
                        if (vhc_pci_same_slot(d, &l->devs[i])) {
                                if (!plan_isolates(plan, &l->devs[i]))
                                        return vhc_err_set(
                                                &ctx->err, -EINVAL, NULL, 0,
                                                "--hostdev %s: its slot mate %s is not isolated (%s)", *s,
                                                l->devs[i].address, plan_reason(plan, &l->devs[i]));
                                pick[i] = true;
                        }
        }

        h->hostdevs = calloc(l->n + 1, sizeof(*h->hostdevs));
        if (!h->hostdevs)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                if (!pick[i])
                        continue;
                /* The slot's other functions come too, isolated with it. */
                for (size_t j = 0; j < l->n; j++)
                        if (!pick[j] && vhc_pci_same_slot(&l->devs[i], &l->devs[j]) &&
                            plan_isolates(plan, &l->devs[j]))
                                pick[j] = true;
        }
        for (size_t i = 0; i < l->n; i++) {
                if (!pick[i])
                        continue;
                h->hostdevs[n++] = to_hostdev(&l->devs[i]);
                nvidia = nvidia || l->devs[i].vendor_id == NVIDIA_VENDOR;
        }
        h->ed.hostdevs = h->hostdevs;
        h->ed.n_hostdevs = n;
        h->any_nvidia = nvidia;
        r = size_mmio64(ctx, h, l, pick);
        if (r != 0)
                return r;
        return resolve_roms(ctx, h, l, pick);
}
