/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdarg.h>
#include <unistd.h>

#include "host.h"

#define PROG "virt-host-config"

struct verb {
        const char *name;
        int (*fn)(struct vhc_ctx *ctx);
        bool dry_run; /* takes --dry-run */
        bool json;    /* takes --json */
        const char *help;
};

static const struct verb verbs[] = {
        { "list", cmd_list, false, true, "PCI devices with IOMMU group, driver and the planned action" },
        { "check", cmd_check, false, true, "prerequisites: PASS/WARN/FAIL with hints; exit 1 on FAIL" },
        { "apply", cmd_apply, true, false, "make the system match the config (--dry-run: show the diff)" },
        { "revert", cmd_revert, true, false, "undo exactly what apply did, keeping others' changes" },
        { "status", cmd_status, false, true, "applied, reboot pending, isolated devices and their drivers" },
};

static void help(void) {
        printf("Usage: %s [--root DIR] [--config FILE] COMMAND [--json] [--dry-run]\n\n"
               "Configure this machine as a KVM host with VFIO PCI passthrough, and undo it.\n\n"
               "Commands:\n",
               PROG);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-8s %s\n", verbs[i].name, verbs[i].help);
        printf("\nOptions:\n"
               "  --root DIR     work on the machine tree under DIR (/etc, /sys, /proc, /var...)\n"
               "  --config FILE  read FILE instead of <root>/etc/virt-host-config/virt-host-config.conf\n"
               "  --json         machine-readable output\n"
               "  --dry-run      print a unified diff of what would change; write nothing\n"
               "  --defer        apply: record the boot-file rebuild as pending for the next apply (rpm "
               "%%post)\n"
               "  --first-boot   apply, then bind the isolated devices to vfio-pci now (the first-boot "
               "unit)\n"
               "  -h, --help     show this help\n"
               "  --version      show the version\n\n"
               "Each apply and revert records its outcome: 'status' and 'check' show the last one (a\n"
               "failure is a FAIL until a run succeeds), 'journalctl -p err' has the failures.\n\n"
               "Exit: 0 ok, 1 error, 2 usage error. See virt-host-config(8).\n");
}

_printf_(1, 2) static int usage_error(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s: ", PROG);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see '%s --help')\n", PROG);
        return 2;
}

const char *vhc_color(const struct vhc_ctx *ctx, const char *ansi) {
        return ctx->color ? ansi : "";
}

int vhc_ctx_load_config(struct vhc_ctx *ctx, struct vhc_config *c) {
        _cleanup_free_ char *path = NULL;

        vhc_config_init(c);
        if (ctx->config_path)
                return vhc_config_load_named(c, ctx->config_path, &ctx->err);
        path = vhc_root_path(ctx->root, VHC_PATH_CONFIG);
        if (!path)
                return -ENOMEM;
        return vhc_config_load(c, path, &ctx->err);
}

/* Colour on a terminal only, and not where no-color.org's NO_COLOR is set to
 * a non-empty value (set but empty does not count) or TERM says the terminal
 * has none. */
static bool color_wanted(void) {
        const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

        if (!isatty(STDOUT_FILENO))
                return false;
        if (no_color && no_color[0])
                return false;
        return !term || !streq(term, "dumb");
}

/* apply and revert change the running system's /etc and /boot: without root
 * they fail at the first write, after reading everything. Say so first. On
 * another root (--root DIR) whoever may write DIR may run them. */
static int need_root(const struct verb *verb, const char *root_dir, bool dry_run) {
        if ((verb->fn != cmd_apply && verb->fn != cmd_revert) || dry_run || geteuid() == 0)
                return 0;
        if (root_dir && !streq(root_dir, "/"))
                return 0;
        fprintf(stderr, "%s: must be run as root (sudo %s %s)\n", PROG, PROG, verb->name);
        return 1;
}

int main(int argc, char **argv) {
        enum { OPT_ROOT = 0x100, OPT_CONFIG, OPT_JSON, OPT_DRY_RUN, OPT_VERSION, OPT_DEFER, OPT_FIRST_BOOT };
        static const struct option options[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "json", no_argument, NULL, OPT_JSON },
                { "dry-run", no_argument, NULL, OPT_DRY_RUN },
                { "defer", no_argument, NULL, OPT_DEFER },
                { "first-boot", no_argument, NULL, OPT_FIRST_BOOT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        _cleanup_(vhc_root_freep) struct vhc_root *root = NULL;
        struct vhc_ctx ctx = {};
        const char *root_dir = NULL;
        const struct verb *verb = NULL;
        bool records;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1 || optind < argc) {
                if (c == -1) {
                        /* A non-option: the command, then options may follow it. */
                        if (verb)
                                return usage_error("unexpected argument '%s'", argv[optind]);
                        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                                if (streq(argv[optind], verbs[i].name))
                                        verb = &verbs[i];
                        if (!verb)
                                return usage_error("unknown command '%s'", argv[optind]);
                        optind++;
                        continue;
                }
                switch (c) {
                case OPT_ROOT:
                        root_dir = optarg;
                        break;
                case OPT_CONFIG:
                        ctx.config_path = optarg;
                        break;
                case OPT_JSON:
                        ctx.json = true;
                        break;
                case OPT_DRY_RUN:
                        ctx.dry_run = true;
                        break;
                case OPT_DEFER:
                        ctx.defer = true;
                        break;
                case OPT_FIRST_BOOT:
                        ctx.first_boot = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case OPT_VERSION:
                        printf("%s %s\n", PROG, VERSION);
                        return 0;
                case ':':
                        return usage_error("option '%s' needs an argument", argv[optind - 1]);
                default:
                        return usage_error("unknown option '%s'", argv[optind - 1]);
                }
        }
        if (!verb)
                return usage_error("no command given");
        if (ctx.dry_run && !verb->dry_run)
                return usage_error("--dry-run does not go with '%s'", verb->name);
        if (ctx.defer && verb->fn != cmd_apply)
                return usage_error("--defer goes only with 'apply'");
        if (ctx.first_boot && verb->fn != cmd_apply)
                return usage_error("--first-boot goes only with 'apply'");
        if (ctx.first_boot && (ctx.dry_run || ctx.defer))
                return usage_error("--first-boot goes with neither --dry-run nor --defer");
        if (ctx.json && !verb->json)
                return usage_error("--json does not go with '%s'", verb->name);

        if (need_root(verb, root_dir, ctx.dry_run))
                return 1;

        r = vhc_root_new(root_dir, &root);
        if (r < 0) {
                fprintf(stderr, "%s: --root %s: %s\n", PROG, root_dir, strerror(-r));
                return 1;
        }
        ctx.root = root;
        ctx.color = color_wanted();

        /* apply and revert record their outcome (after the usage and root
         * checks above, which write nothing): GNOME Software shows no
         * scriptlet output, status and check show this. */
        records = verb->fn == cmd_apply || verb->fn == cmd_revert;
        ctx.reverting = verb->fn == cmd_revert;
        r = verb->fn(&ctx);
        if (r < 0) {
                char line[sizeof(ctx.err.file) + sizeof(ctx.err.msg) + 32];

                if (!ctx.err.msg[0])
                        snprintf(ctx.err.msg, sizeof(ctx.err.msg), "%s", strerror(-r));
                vhc_err_format(&ctx.err, line, sizeof(line));
                fprintf(stderr, "%s: %s\n", PROG, line);
                if (records)
                        vhc_outcome_record(&ctx, line);
                return 1;
        }
        if (records)
                vhc_outcome_record(&ctx, r == 0 ? NULL : "failed");
        return r;
}
