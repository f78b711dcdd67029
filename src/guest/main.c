/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdarg.h>

#include "guest.h"
#include "strv.h"

static void help(void) {
        printf("Usage: %s --name NAME --memory SIZE --vcpus N [OPTION...] > NAME.xml\n"
               "       %s patch [EDIT...] [--diff] < in.xml > out.xml\n\n"
               "Write libvirt domain XML for a KVM guest with VFIO passthrough to stdout.\n\n"
               "A Windows 10 guest with the GPU that virt-host-config isolated, the seed's virt-install\n"
               "recipe as one command:\n"
               "  %s --name my-guest --memory 8G --vcpus 4 --os win10 --disk size=100 \\\n"
               "      --cdrom /var/lib/libvirt/images/win10.iso --hostdev auto --spice-listen 0.0.0.0 \\\n"
               "      > my-guest.xml\n"
               "  virsh define my-guest.xml && virsh start my-guest\n\n"
               "Options:\n"
               "  --name NAME            the guest's name\n"
               "  --memory SIZE          8G, 8192M (a bare number is MiB)\n"
               "  --vcpus N              virtual CPUs\n"
               "  --os win10|win11|linux guest OS (default win10); win11 adds Secure Boot\n"
               "  --disk [PATH][,size=N] an existing image, or a qcow2 volume of N GiB to create\n"
               "                         (default PATH: /var/lib/libvirt/images/NAME.qcow2)\n"
               "  --cdrom ISO            installation medium, booted first (repeatable); Windows\n"
               "                         guests also get the virtio-win driver ISO when installed\n"
               "  --hostdev auto|ADDR    pass through what virt-host-config isolates, each device\n"
               "                         with all its slot's functions (repeatable)\n"
               "  --rom [ADDR=]FILE      the passed device's option ROM from FILE, which must hold\n"
               "                         a UEFI (EFI x86-64) image (default ADDR: the passed GPU)\n"
               "  --pin auto|none        pin vCPUs to whole host cores; core 0 stays with the host\n"
               "  --hugepages            back the guest's memory with huge pages\n"
               "  --input evdev:PATH     pass a keyboard or mouse (/dev/input/by-id/...); both\n"
               "                         Ctrl keys switch them between host and guest (repeatable)\n"
               "  --nvidia, --no-nvidia  NVIDIA \"Error 43\" settings (default: with an NVIDIA device)\n"
               "  --spice-listen ADDR    SPICE display address (default 127.0.0.1)\n"
               "  --audio auto|pipewire|pulseaudio|spice\n"
               "                         where the guest's sound goes (default auto: the sound\n"
               "                         server running in your session, else SPICE)\n"
               "  --looking-glass[=WxH]  Looking Glass: its shared memory for WxH (default\n"
               "                         2560x1440), kvmfr when installed, SPICE input, no emulated\n"
               "                         display\n"
               "  --diff                 patch: print what changed as a unified diff, not the XML\n"
               "  --root DIR             read the machine under DIR (/sys, /proc, /etc, /usr)\n"
               "  --config FILE          virt-host-config's config for --hostdev auto\n"
               "  -h, --help             show this help\n"
               "  --version              show the version\n\n"
               "With a graphics card passed through, SPICE stays for the installation; the card is\n"
               "the primary display once its driver is in: plug a monitor into it.\n\n"
               "patch applies the same edits as a new guest gets to a domain on stdin (virsh dumpxml,\n"
               "virt-install --print-xml), everything else kept byte for byte. EDIT: --hostdev, --rom,\n"
               "--input, --pin, --hugepages, --nvidia, --no-nvidia, --audio (also keep, the default),\n"
               "--looking-glass, --root, --config.\n\n"
               "Exit: 0 ok, 1 error, 2 usage error. See virt-guest-xml(1).\n",
               PROG, PROG, PROG);
}

int gx_usage(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s: ", PROG);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see '%s --help')\n", PROG);
        return 2;
}

/* Notes wait until the XML is out: a run that fails says one thing only. */
static char **pending_notes;

static void vline(const char *kind, const char *fmt, va_list ap) {
        char *msg = NULL, *line = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                return;
        if (asprintf(&line, "%s: %s: %s", PROG, kind, msg) >= 0)
                (void)strv_consume(&pending_notes, line);
        free(msg);
}

static void flush_notes(bool print) {
        for (char **l = pending_notes; print && l && *l; l++)
                fprintf(stderr, "%s\n", *l);
        pending_notes = strv_free(pending_notes);
}

void gx_note(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vline("note", fmt, ap);
        va_end(ap);
}

void gx_warn(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vline("warning", fmt, ap);
        va_end(ap);
}

int gx_write_stdout(struct gx_ctx *ctx, const char *buf, size_t len) {
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
                return vhc_err_set(&ctx->err, -EIO, NULL, 0, "cannot write to stdout: %s", strerror(errno));
        return 0;
}

/* An argument as one line for a message: control characters and bytes past
 * ASCII as \xNN, since the argument may not be UTF-8. */
static void escaped(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < size; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *p);
                else
                        buf[n++] = (char)*p;
        buf[n] = '\0';
}

/* Every value that reaches the domain's XML must be text libvirt takes. */
static int check_value(const char *opt, const char *value) {
        char shown[256];
        bool control = false;

        if (vhc_domxml_string_ok(value))
                return 0;
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
                control = control || *p < 0x20 || *p == 0x7f;
        escaped(value, shown, sizeof(shown));
        return gx_usage(
                "--%s %s: %s", opt, shown,
                control ? "has a control character (a newline, a tab...), which libvirt does not take"
                        : "is not valid UTF-8, which libvirt's XML must be");
}

static void opts_done(struct gx_opts *o) {
        strv_free(o->disks);
        strv_free(o->cdroms);
        strv_free(o->hostdevs);
        strv_free(o->evdevs);
        strv_free(o->roms);
}

int main(int argc, char **argv) {
        enum {
                OPT_ROOT = 0x100,
                OPT_CONFIG,
                OPT_NAME,
                OPT_MEMORY,
                OPT_VCPUS,
                OPT_OS,
                OPT_DISK,
                OPT_CDROM,
                OPT_HOSTDEV,
                OPT_INPUT,
                OPT_PIN,
                OPT_HUGEPAGES,
                OPT_NVIDIA,
                OPT_NO_NVIDIA,
                OPT_SPICE_LISTEN,
                OPT_AUDIO,
                OPT_LOOKING_GLASS,
                OPT_ROM,
                OPT_DIFF,
                OPT_VERSION,
        };
        static const struct option options[] = {
                {"root", required_argument, NULL, OPT_ROOT},
                {"config", required_argument, NULL, OPT_CONFIG},
                {"name", required_argument, NULL, OPT_NAME},
                {"memory", required_argument, NULL, OPT_MEMORY},
                {"vcpus", required_argument, NULL, OPT_VCPUS},
                {"os", required_argument, NULL, OPT_OS},
                {"disk", required_argument, NULL, OPT_DISK},
                {"cdrom", required_argument, NULL, OPT_CDROM},
                {"hostdev", required_argument, NULL, OPT_HOSTDEV},
                {"input", required_argument, NULL, OPT_INPUT},
                {"pin", required_argument, NULL, OPT_PIN},
                {"hugepages", no_argument, NULL, OPT_HUGEPAGES},
                {"nvidia", no_argument, NULL, OPT_NVIDIA},
                {"no-nvidia", no_argument, NULL, OPT_NO_NVIDIA},
                {"spice-listen", required_argument, NULL, OPT_SPICE_LISTEN},
                {"audio", required_argument, NULL, OPT_AUDIO},
                {"looking-glass", optional_argument, NULL, OPT_LOOKING_GLASS},
                {"rom", required_argument, NULL, OPT_ROM},
                {"diff", no_argument, NULL, OPT_DIFF},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {},
        };
        /* Options that `patch` takes: the edits; the others describe a new guest. */
        static const int patch_opts[] = {OPT_ROOT,  OPT_CONFIG,        OPT_HOSTDEV, OPT_INPUT,
                                         OPT_PIN,   OPT_HUGEPAGES,     OPT_NVIDIA,  OPT_NO_NVIDIA,
                                         OPT_AUDIO, OPT_LOOKING_GLASS, OPT_ROM};
        _cleanup_(vhc_root_freep) struct vhc_root *root = NULL;
        struct gx_opts o = {.nvidia = -1};
        struct gx_ctx ctx = {.o = &o};
        const char *create_only = NULL, *patch_only = NULL;
        bool patch = false;
        int c, r, ret = 2, idx = -1;

        opterr = 0;

        while ((c = getopt_long(argc, argv, "+:h", options, &idx)) != -1 || optind < argc) {
                bool for_patch = false;

                if (c == -1) {
                        if (patch || !streq(argv[optind], "patch")) {
                                gx_usage("unexpected argument '%s'", argv[optind]);
                                goto out;
                        }
                        patch = true;
                        optind++;
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(patch_opts); i++)
                        for_patch = for_patch || c == patch_opts[i];
                if (!for_patch && c >= OPT_ROOT && c != OPT_VERSION && c != OPT_DIFF && !create_only &&
                    idx >= 0)
                        create_only = options[idx].name;
                if (c == OPT_DIFF)
                        patch_only = "diff";
                /* --root and --config are this machine's paths, not the guest's. */
                if (c > OPT_CONFIG && c != OPT_VERSION && idx >= 0 && optarg &&
                    check_value(options[idx].name, optarg) != 0)
                        goto out;
                idx = -1;

                switch (c) {
                case OPT_ROOT:
                        o.root_dir = optarg;
                        break;
                case OPT_CONFIG:
                        o.config_path = optarg;
                        break;
                case OPT_NAME:
                        o.name = optarg;
                        break;
                case OPT_MEMORY:
                        o.memory = optarg;
                        break;
                case OPT_VCPUS:
                        o.vcpus = optarg;
                        break;
                case OPT_OS:
                        o.os = optarg;
                        break;
                case OPT_DISK:
                        r = strv_push_dup(&o.disks, optarg);
                        if (r < 0)
                                goto oom;
                        break;
                case OPT_CDROM:
                        r = strv_push_dup(&o.cdroms, optarg);
                        if (r < 0)
                                goto oom;
                        break;
                case OPT_HOSTDEV:
                        r = strv_push_dup(&o.hostdevs, optarg);
                        if (r < 0)
                                goto oom;
                        break;
                case OPT_ROM:
                        r = strv_push_dup(&o.roms, optarg);
                        if (r < 0)
                                goto oom;
                        break;
                case OPT_INPUT:
                        if (!startswith(optarg, "evdev:/")) {
                                gx_usage("--input %s: give evdev:/dev/input/by-id/...", optarg);
                                goto out;
                        }
                        r = strv_push_dup(&o.evdevs, optarg + strlen("evdev:"));
                        if (r < 0)
                                goto oom;
                        break;
                case OPT_PIN:
                        if (!streq(optarg, "auto") && !streq(optarg, "none")) {
                                gx_usage("--pin takes auto or none, not '%s'", optarg);
                                goto out;
                        }
                        o.pin = optarg;
                        break;
                case OPT_HUGEPAGES:
                        o.hugepages = true;
                        break;
                case OPT_NVIDIA:
                        o.nvidia = 1;
                        break;
                case OPT_NO_NVIDIA:
                        o.nvidia = 0;
                        break;
                case OPT_SPICE_LISTEN:
                        if (!vhc_domxml_listen_ok(optarg)) {
                                gx_usage("--spice-listen %s: give an IPv4 or IPv6 address (127.0.0.1, "
                                         "0.0.0.0, ::1) or a host name",
                                         optarg);
                                goto out;
                        }
                        o.spice_listen = optarg;
                        break;
                case OPT_AUDIO:
                        if (!streq(optarg, "auto") && !streq(optarg, "pipewire") &&
                            !streq(optarg, "pulseaudio") && !streq(optarg, "spice") &&
                            !streq(optarg, "keep")) {
                                gx_usage("--audio takes auto, pipewire, pulseaudio or spice, not '%s'",
                                         optarg);
                                goto out;
                        }
                        o.audio = optarg;
                        break;
                case OPT_LOOKING_GLASS:
                        o.looking_glass = optarg ?: "";
                        break;
                case OPT_DIFF:
                        o.diff = true;
                        break;
                case 'h':
                        help();
                        ret = 0;
                        goto out;
                case OPT_VERSION:
                        printf("%s %s\n", PROG, VERSION);
                        ret = 0;
                        goto out;
                case ':':
                        gx_usage("option '%s' needs an argument", argv[optind - 1]);
                        goto out;
                default:
                        gx_usage("unknown option '%s'", argv[optind - 1]);
                        goto out;
                }
        }
        if (patch && create_only) {
                gx_usage("--%s does not go with patch", create_only);
                goto out;
        }
        if (!patch && patch_only) {
                gx_usage("--%s goes with patch only", patch_only);
                goto out;
        }

        r = vhc_root_new(o.root_dir, &root);
        if (r < 0) {
                fprintf(stderr, "%s: --root %s: %s\n", PROG, o.root_dir, strerror(-r));
                ret = 1;
                goto out;
        }
        ctx.root = root;

        o.patch = patch;
        r = patch ? cmd_patch(&ctx) : cmd_create(&ctx);
        if (r < 0) {
                char line[sizeof(ctx.err.file) + sizeof(ctx.err.msg) + 32];

                if (!ctx.err.msg[0])
                        snprintf(ctx.err.msg, sizeof(ctx.err.msg), "%s", strerror(-r));
                vhc_err_format(&ctx.err, line, sizeof(line));
                fprintf(stderr, "%s: %s\n", PROG, line);
                ret = 1;
        } else
                ret = r;
        flush_notes(ret == 0);
        goto out;
oom:
        fprintf(stderr, "%s: %s\n", PROG, strerror(ENOMEM));
        ret = 1;
out:
        flush_notes(false);
        opts_done(&o);
        return ret;
}
