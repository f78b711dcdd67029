/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "boot/detect.h"
#include "boot/store.h"
#include "boot/stores.h"
#include "boot/system.h"
#include "check.h"
#include "cmdline.h"
#include "rpmq.h"
#include "fileio.h"
#include "host.h"
#include "lastrun.h"
#include "pcidev.h"
#include "plan.h"
#include "state.h"
#include "strv.h"

/* Kernel arguments of ours that the running kernel was not booted with. */
static int pending_args(struct vhc_ctx *ctx, const struct vhc_state *s, char ***ret) {
        _cleanup_free_ char *path = vhc_root_path(ctx->root, VHC_PATH_PROC_CMDLINE), *text = NULL;
        _cleanup_strv_free_ char **live = NULL, **pending = calloc(1, sizeof(char *));
        int r;

        if (!path || !pending)
                return -ENOMEM;
        r = vhc_read_file(path, 1 << 16, &text, NULL);
        if (r < 0)
                return vhc_err_set(&ctx->err, r, path, 0, "cannot read: %s", strerror(-r));
        r = vhc_cmdline_split(text, &live);
        if (r < 0)
                return vhc_err_set(&ctx->err, r, path, 0, "cannot split the kernel command line");
        /* Ours not live yet; of the user's we took out, those still live. */
        for (size_t i = 0; i < s->n_kargs; i++)
                if ((vhc_cmdline_find(live, s->kargs[i].arg) < 0) != s->kargs[i].removed &&
                    !strv_contains(pending, s->kargs[i].arg))
                        if (strv_push_dup(&pending, s->kargs[i].arg) < 0)
                                return -ENOMEM;
        *ret = TAKE_PTR(pending);
        return 0;
}

/* The arguments of ours (removed: the user's that apply took out), each
 * once, in the order first recorded. */
static int our_args(const struct vhc_state *s, bool removed, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_kargs; i++)
                if (s->kargs[i].removed == removed && !strv_contains(l, s->kargs[i].arg) &&
                    strv_push_dup(&l, s->kargs[i].arg) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Every place the next boot's arguments come from, with ours present or
 * missing; what cannot be found out is said in its place (*ret_error). */
static int boot_places(struct vhc_ctx *ctx, char *const *args, struct vhc_boot_report *ret, char **ret_error) {
        _cleanup_(vhc_boot_done) struct vhc_boot b = {};
        struct vhc_err e = {};
        int r;

        *ret = (struct vhc_boot_report){};
        r = vhc_boot_detect(ctx->root, &b, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return (*ret_error = vhc_err_line(&e, r)) ? 0 : -ENOMEM;
        return vhc_boot_report(&b, args, ret);
}

/* "iommu=pt intel_iommu=on present", "intel_iommu=on missing (iommu=pt present)" */
static char *place_line(const struct vhc_boot_place *p) {
        _cleanup_free_ char *present = vhc_cmdline_join(p->present), *missing = vhc_cmdline_join(p->missing);

        if (p->error)
                return strprintf("unreadable: %s", p->error);
        if (!present || !missing)
                return NULL;
        if (!p->missing[0])
                return strprintf("%s present", present);
        if (!p->present[0])
                return strprintf("%s missing", missing);
        return strprintf("%s missing (%s present)", missing, present);
}

static json_object *json_strv(char *const *l) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && l && l[i]; i++)
                json_object_array_add(a, json_object_new_string(l[i]));
        return a;
}

static json_object *json_places(const struct vhc_boot_report *rep) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < rep->n; i++) {
                const struct vhc_boot_place *p = &rep->v[i];
                json_object *o = json_object_new_object();

                json_object_array_add(a, o);
                json_object_object_add(o, "kind", json_object_new_string(p->kind));
                json_object_object_add(o, "label", json_object_new_string(p->label));
                json_object_object_add(o, "path", json_object_new_string(p->path));
                json_object_object_add(o, "present", json_strv(p->present));
                json_object_object_add(o, "missing", json_strv(p->missing));
                json_object_object_add(o, "error", p->error ? json_object_new_string(p->error) : NULL);
        }
        return a;
}

static json_object *json_regen(unsigned pending) {
        json_object *a = json_object_new_array();

        for (unsigned f = 1; a && (f & _VHC_REGEN_ALL); f <<= 1)
                if (pending & f)
                        json_object_array_add(a, json_object_new_string(vhc_regen_name(f)));
        return a;
}

/* A device status shows: one the plan isolates, or one on vfio-pci anyway
 * (libvirt binds a managed hostdev to vfio-pci while its guest runs). */
struct dev_status {
        const struct vhc_pci_dev *dev;
        bool planned;
        bool on_vfio;
};

struct devices {
        struct vhc_pci_list *l;
        struct vhc_plan *plan;
        struct dev_status *d;
        size_t n;
        struct vhc_err err; /* msg set: the devices are unknown */
};

static void devices_done(struct devices *x) {
        free(x->d);
        vhc_plan_free(x->plan);
        vhc_pci_list_free(x->l);
}

/* The devices part never fails status: what cannot be read is said in its place. */
static int scan_devices(struct vhc_ctx *ctx, struct devices *x) {
        _cleanup_(vhc_config_done) struct vhc_config c = {};
        int r;

        r = vhc_ctx_load_config(ctx, &c);
        if (r < 0) {
                x->err = ctx->err;
                ctx->err = (struct vhc_err){};
                return r == -ENOMEM ? r : 0;
        }
        r = vhc_pci_scan(ctx->root, &x->l, &x->err);
        if (r >= 0)
                r = vhc_plan_make(x->l, &c, &x->plan, &x->err);
        if (r < 0) {
                if (!x->err.msg[0])
                        vhc_err_set(&x->err, r, NULL, 0, "%s", strerror(-r));
                return r == -ENOMEM ? r : 0;
        }
        x->d = calloc(x->l->n + 1, sizeof(*x->d));
        if (!x->d)
                return -ENOMEM;
        for (size_t i = 0; i < x->plan->n; i++) {
                const struct vhc_pci_dev *d = x->plan->entries[i].dev;
                bool planned = x->plan->entries[i].action == VHC_ACTION_ISOLATE;
                bool on_vfio = d->driver && streq(d->driver, "vfio-pci");

                if (planned || on_vfio)
                        x->d[x->n++] = (struct dev_status){.dev = d, .planned = planned, .on_vfio = on_vfio};
        }
        return 0;
}

/* Pending a reboot: planned, not on vfio-pci, and the system not booted with
 * the configuration yet (an argument of ours not live, or an apply since the
 * boot), as check's vfio-binding judges it. After a boot with it, a device
 * on another driver is not waiting for a reboot: check says why. */
static bool device_pending(bool before_reboot, bool applied, const struct dev_status *d) {
        return applied && d->planned && !d->on_vfio && before_reboot;
}

static void print_device(struct vhc_ctx *ctx, bool before_reboot, bool applied, const struct dev_status *d) {
        const char *drv = d->dev->driver ? d->dev->driver : "no driver";

        if (d->on_vfio)
                printf("%s %s%s%s%s\n", d->dev->address, vhc_color(ctx, ANSI_GREEN), drv,
                       vhc_color(ctx, ANSI_RESET),
                       d->planned ? "" : " (not in the plan: bound by libvirt or by hand)");
        else
                printf("%s %s%s%s (%s)\n", d->dev->address, vhc_color(ctx, ANSI_YELLOW), drv,
                       vhc_color(ctx, ANSI_RESET),
                       !applied        ? "to isolate: not applied"
                       : before_reboot ? "vfio-pci after the reboot"
                                       : "not on vfio-pci after a boot with the configuration: see "
                                         "'virt-host-config check'");
}

static json_object *json_devices(const struct devices *x, bool before_reboot, bool applied,
                                 json_object **ret_pending) {
        json_object *a = json_object_new_array(), *p = json_object_new_array();
        char id[8];

        for (size_t i = 0; a && p && i < x->n; i++) {
                const struct dev_status *d = &x->d[i];
                json_object *e = json_object_new_object();

                json_object_array_add(a, e);
                json_object_object_add(e, "address", json_object_new_string(d->dev->address));
                snprintf(id, sizeof(id), "%04x", d->dev->vendor_id);
                json_object_object_add(e, "vendor", json_object_new_string(id));
                snprintf(id, sizeof(id), "%04x", d->dev->device_id);
                json_object_object_add(e, "device", json_object_new_string(id));
                json_object_object_add(e, "driver",
                                       d->dev->driver ? json_object_new_string(d->dev->driver) : NULL);
                json_object_object_add(e, "isolate", json_object_new_boolean(d->planned));
                json_object_object_add(e, "on_vfio", json_object_new_boolean(d->on_vfio));
                if (device_pending(before_reboot, applied, d))
                        json_object_array_add(p, json_object_new_string(d->dev->address));
        }
        *ret_pending = p;
        return a;
}

/* Our packages: the versions of what we depend on, and our files that differ
 * from what the package installed (as rpm -V says). Nothing without an rpmdb. */
static const char *const own_packages[] = { "virt-host-config", "virt-host-config-host",
                                            "virt-host-config-guest", NULL };

static int rpm_facts(struct vhc_ctx *ctx, json_object *o) {
        _cleanup_(vhc_packages_done) struct vhc_packages p = {};
        struct vhc_rpm_verify f = {};
        struct vhc_err e = {};
        int r;

        r = vhc_packages_read(ctx, &p);
        if (r < 0)
                return r;
        if (p.v.have_db && vhc_rpmq_verify(ctx->root, own_packages, &f, &e) < 0)
                f = (struct vhc_rpm_verify){};
        if (o) {
                json_object *mf = NULL;

                vhc_packages_json(&p, o);
                if (p.v.have_db)
                        mf = json_object_new_array();
                for (size_t i = 0; mf && i < f.n; i++) {
                        json_object *x = json_object_new_object();
                        char flags[16];

                        vhc_rpmv_string(f.files[i].flags, flags);
                        json_object_object_add(x, "path", json_object_new_string(f.files[i].path));
                        json_object_object_add(x, "rpm_verify", json_object_new_string(flags));
                        json_object_object_add(x, "config", json_object_new_boolean(f.files[i].config));
                        json_object_array_add(mf, x);
                }
                json_object_object_add(o, "modified_files", mf);
                goto out;
        }
        vhc_packages_print(ctx, &p);
        for (size_t i = 0; i < f.n; i++) {
                char flags[16];

                vhc_rpmv_string(f.files[i].flags, flags);
                printf("%-15s %s %s %s%s\n", i == 0 ? "modified:" : "", flags, f.files[i].config ? "c" : " ",
                       f.files[i].path, f.files[i].config ? "" : " (differs from the package: reinstall it)");
        }
out:
        vhc_rpm_verify_done(&f);
        return 0;
}

static json_object *json_last_run(const struct vhc_lastrun *l) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "command", json_object_new_string(l->command));
        json_object_object_add(o, "time", json_object_new_string(l->time));
        json_object_object_add(o, "result", json_object_new_string(l->failed ? "failed" : "ok"));
        json_object_object_add(o, "error", l->error ? json_object_new_string(l->error) : NULL);
        json_object_object_add(o, "next_step", l->next_step ? json_object_new_string(l->next_step) : NULL);
        return o;
}

int cmd_status(struct vhc_ctx *ctx) {
        _cleanup_free_ char *path = vhc_root_path(ctx->root, VHC_PATH_STATE_FILE);
        _cleanup_strv_free_ char **pending = NULL, **args = NULL, **taken_out = NULL;
        _cleanup_(devices_done) struct devices x = {};
        _cleanup_(vhc_boot_report_done) struct vhc_boot_report places = {};
        _cleanup_free_ char *boot_err = NULL, *regen = NULL;
        bool applied, devs_pending = false, before_reboot;
        struct vhc_system sys;
        const char *next_step = NULL;
        _cleanup_(vhc_lastrun_done) struct vhc_lastrun last = {};
        _cleanup_free_ char *last_error = NULL, *last_when = NULL;
        bool have_last;
        struct vhc_state s;
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_system_detect(ctx->root, &sys);
        if (r < 0)
                return r;
        {
                struct vhc_err e = {};

                r = vhc_lastrun_load(ctx->root, &last, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && r != -ENOENT && !(last_error = vhc_err_line(&e, r)))
                        return -ENOMEM;
                have_last = r == 0;
                if (have_last && !(last_when = vhc_lastrun_time_human(last.time)))
                        return -ENOMEM;
        }
        vhc_state_init(&s);
        r = vhc_state_load(&s, path, &ctx->err);
        if (r < 0 && r != -ENOENT)
                return r;
        applied = r == 0 && !vhc_state_empty(&s);
        r = pending_args(ctx, &s, &pending);
        if (r < 0)
                goto out;
        r = our_args(&s, false, &args);
        if (r >= 0)
                r = our_args(&s, true, &taken_out);
        if (r < 0)
                goto out;
        if (args[0] && (r = boot_places(ctx, args, &places, &boot_err)) < 0)
                goto out;
        regen = vhc_regen_names(s.pending);
        if (!regen) {
                r = -ENOMEM;
                goto out;
        }
        r = scan_devices(ctx, &x);
        if (r < 0)
                goto out;
        before_reboot = pending[0] != NULL || vhc_applied_since_boot(ctx->root, applied);
        for (size_t i = 0; i < x.n; i++)
                devs_pending |= device_pending(before_reboot, applied, &x.d[i]);
        /* rpm-ostree install runs no apply that sticks (the scriptlets run in
         * its sandbox): after the reboot into the new deployment it is owed. */
        if (!applied && sys.kind == VHC_SYSTEM_OSTREE)
                next_step = "sudo virt-host-config apply, then reboot into the new deployment";
        /* A failed apply or revert says what to run until a later run succeeds. */
        if (have_last && last.failed)
                next_step = last.next_step;

        if (ctx->json) {
                json_object *o = json_object_new_object(), *a = json_object_new_array(),
                            *p = json_object_new_array();
                json_object *pd = NULL, *devs = NULL;

                json_object_object_add(o, "system", json_object_new_string(vhc_system_kind_to_string(sys.kind)));
                json_object_object_add(o, "system_evidence",
                                       sys.evidence ? json_object_new_string(sys.evidence) : NULL);
                json_object_object_add(o, "bootc", json_object_new_boolean(sys.bootc));
                json_object_object_add(o, "kernel_args_where",
                                       json_object_new_string(vhc_system_kargs_where(&sys)));
                json_object_object_add(o, "initramfs_etc", json_strv(s.initramfs_etc));
                json_object_object_add(o, "next_step", next_step ? json_object_new_string(next_step) : NULL);
                json_object_object_add(o, "applied", json_object_new_boolean(applied));
                json_object_object_add(o, "last_run", have_last ? json_last_run(&last) : NULL);
                if (last_error)
                        json_object_object_add(o, "last_run_error", json_object_new_string(last_error));
                json_object_object_add(o, "reboot_pending",
                                       json_object_new_boolean(pending[0] != NULL || devs_pending));
                for (size_t i = 0; args[i]; i++)
                        json_object_array_add(a, json_object_new_string(args[i]));
                for (size_t i = 0; pending[i]; i++)
                        json_object_array_add(p, json_object_new_string(pending[i]));
                json_object_object_add(o, "kernel_args", a);
                json_object_object_add(o, "pending_kernel_args", p);
                json_object_object_add(o, "removed_kernel_args", json_strv(taken_out));
                json_object_object_add(o, "boot_places", json_places(&places));
                if (boot_err)
                        json_object_object_add(o, "boot_places_error", json_object_new_string(boot_err));
                json_object_object_add(o, "pending_regeneration", json_regen(s.pending));
                if (!x.err.msg[0])
                        devs = json_devices(&x, before_reboot, applied, &pd);
                else {
                        char line[sizeof(x.err.file) + sizeof(x.err.msg) + 16];

                        vhc_err_format(&x.err, line, sizeof(line));
                        json_object_object_add(o, "devices_error", json_object_new_string(line));
                }
                json_object_object_add(o, "devices", devs);
                json_object_object_add(o, "pending_devices", pd);
                r = rpm_facts(ctx, o);
                if (r >= 0)
                        vhc_print_json(o);
                json_object_put(o);
                goto out;
        }

        printf("%-15s %s%s%s%s\n", "system:", vhc_system_kind_describe(sys.kind), sys.evidence ? " (" : "",
               strempty(sys.evidence), sys.evidence ? ")" : "");
        printf("%-15s %s\n", "args set in:", vhc_system_kargs_where(&sys));
        printf("%-15s %s%s%s\n", "applied:", vhc_color(ctx, applied ? ANSI_GREEN : ANSI_DIM),
               applied ? "yes" : "no", vhc_color(ctx, ANSI_RESET));
        if (last_error)
                printf("%-15s unreadable: %s\n", "last run:", last_error);
        else if (have_last && last.failed) {
                _cleanup_free_ char *line =
                        strprintf("%s %sfailed%s at %s: %s", last.command, vhc_color(ctx, ANSI_RED),
                                  vhc_color(ctx, ANSI_RESET), last_when, last.error);

                if (!line) {
                        r = -ENOMEM;
                        goto out;
                }
                printf("%-15s ", "last run:");
                vhc_print_wrapped(line, 16, vhc_terminal_columns());
        } else if (have_last)
                printf("%-15s %s ok at %s\n", "last run:", last.command, last_when);
        if (next_step)
                printf("%-15s %s\n", "to do:", next_step);
        for (size_t i = 0; s.initramfs_etc && s.initramfs_etc[i]; i++)
                printf("%-15s %s\n", i == 0 ? "initramfs-etc:" : "", s.initramfs_etc[i]);
        if (args[0]) {
                _cleanup_strv_free_ char **shown = NULL;

                printf("%-15s", "kernel args:");
                for (size_t i = 0; i < s.n_kargs; i++) {
                        _cleanup_free_ char *one = s.kargs[i].removed ? NULL
                                                   : s.kargs[i].replaced
                                                           ? strprintf("%s (was %s)", s.kargs[i].arg, s.kargs[i].replaced)
                                                           : strdup(s.kargs[i].arg);

                        if (s.kargs[i].removed)
                                continue;
                        if (!one) {
                                r = -ENOMEM;
                                goto out;
                        }
                        if (strv_contains(shown, one))
                                continue;
                        printf(" %s", one);
                        if (strv_push_dup(&shown, one) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
                printf("\n");
        }
        for (size_t i = 0; taken_out[i]; i++)
                printf("%-15s %s (keeps the IOMMU off; back on revert)\n", i == 0 ? "taken out:" : "",
                       taken_out[i]);
        if (boot_err)
                printf("%-15s unknown: %s\n", "boot:", boot_err);
        for (size_t i = 0; i < places.n; i++) {
                _cleanup_free_ char *line = place_line(&places.v[i]);
                bool whole = !places.v[i].error && !places.v[i].missing[0];

                if (!line) {
                        r = -ENOMEM;
                        goto out;
                }
                printf("%-15s %s: %s%s%s\n", i == 0 ? "boot:" : "", places.v[i].label,
                       vhc_color(ctx, whole ? ANSI_GREEN : ANSI_YELLOW), line, vhc_color(ctx, ANSI_RESET));
        }
        if (s.pending)
                printf("%-15s %s%s not rebuilt yet%s: run 'virt-host-config apply'\n", "boot files:",
                       vhc_color(ctx, ANSI_YELLOW), regen, vhc_color(ctx, ANSI_RESET));
        if (pending[0] || devs_pending) {
                printf("%-15s %syes%s%s:", "reboot pending:", vhc_color(ctx, ANSI_YELLOW),
                       vhc_color(ctx, ANSI_RESET),
                       sys.kind == VHC_SYSTEM_OSTREE ? " (into the new deployment)" : "");
                if (pending[0]) {
                        printf(" not on the running kernel's command line:");
                        for (size_t i = 0; pending[i]; i++)
                                printf(" %s", pending[i]);
                }
                if (devs_pending) {
                        printf("%s not on vfio-pci yet:", pending[0] ? ";" : "");
                        for (size_t i = 0; i < x.n; i++)
                                if (device_pending(before_reboot, applied, &x.d[i]))
                                        printf(" %s", x.d[i].dev->address);
                }
                printf("\n");
        } else
                printf("%-15s no\n", "reboot pending:");
        printf("%-15s ", "devices:");
        if (x.err.msg[0]) {
                char line[sizeof(x.err.file) + sizeof(x.err.msg) + 16];

                vhc_err_format(&x.err, line, sizeof(line));
                printf("unknown: %s\n", line);
        } else if (x.n == 0)
                printf("none to isolate, none on vfio-pci\n");
        for (size_t i = 0; i < x.n; i++) {
                if (i > 0)
                        printf("%-15s ", "");
                print_device(ctx, before_reboot, applied, &x.d[i]);
        }
        r = rpm_facts(ctx, NULL);
out:
        vhc_state_done(&s);
        return r;
}
