/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>
#include <sys/ioctl.h>

#include "desktop.h"
#include "host.h"
#include "passthru.h"
#include "pcidev.h"
#include "plan.h"
#include "strv.h"

enum col {
        COL_GROUP,
        COL_ADDRESS,
        COL_CLASS,
        COL_ID,
        COL_VENDOR,
        COL_DEVICE,
        COL_DRIVER,
        COL_ACTION,
        COL_REASON,
        _COL_MAX,
};

static const char *const headers[_COL_MAX] = {
        "GROUP", "ADDRESS", "CLASS", "ID", "VENDOR", "DEVICE", "DRIVER", "ACTION", "REASON",
};

/* One device as list shows it: the plan's decision, or none when the config
 * has no valid plan. */
struct row {
        const struct vhc_pci_dev *dev;
        enum vhc_action action;
        const char *reason;
        char *cells[_COL_MAX];
};

#define NO_PLAN_REASON "no plan: the config has an error (see the message below)"

void vhc_print_json(json_object *o) {
        json_object *out = json_object_new_object();

        /* "schema_version" first, then o's keys in their order. */
        if (!out || json_object_object_add(out, "schema_version", json_object_new_int(VHC_JSON_SCHEMA_VERSION)) < 0) {
                json_object_put(out);
                out = json_object_get(o);
        } else {
                json_object_object_foreach(o, k, v) json_object_object_add(out, k, json_object_get(v));
        }
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
}

/* Columns a string takes on a terminal: UTF-8 code points (pci.ids names have
 * no wide characters). */
static size_t width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char)*s & 0xc0) != 0x80;
        return n;
}

/* Cuts s to w columns, ending in "..." when it had more. */
static void truncate_to(char *s, size_t w) {
        size_t n = 0;

        if (w < 4 || width(s) <= w)
                return;
        for (char *p = s; *p; p++)
                if (((unsigned char)*p & 0xc0) != 0x80 && n++ == w - 3) {
                        strcpy(p, "...");
                        return;
                }
}

static int fill_cells(struct row *r) {
        const struct vhc_pci_dev *d = r->dev;
        char **c = r->cells;

        c[COL_GROUP] = d->iommu_group >= 0 ? strprintf("%d", d->iommu_group) : strdup("-");
        c[COL_ADDRESS] = strdup(d->address);
        c[COL_CLASS] = strprintf("%04x", vhc_pci_class(d));
        c[COL_ID] = strprintf("%04x:%04x", d->vendor_id, d->device_id);
        c[COL_VENDOR] = strdup(d->vendor_name ? d->vendor_name : "-");
        c[COL_DEVICE] = strdup(d->device_name ? d->device_name : "-");
        c[COL_DRIVER] = strdup(d->driver ? d->driver : "-");
        c[COL_ACTION] = strdup(r->action == VHC_ACTION_ISOLATE ? "isolate" : "keep");
        c[COL_REASON] = strdup(strempty(r->reason));
        for (size_t i = 0; i < _COL_MAX; i++)
                if (!c[i])
                        return -ENOMEM;
        return 0;
}

static int cmp_group_address(const void *a, const void *b) {
        const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
        /* As unsigned, -1 (no group) sorts after every group. */
        unsigned gx = (unsigned)x->dev->iommu_group, gy = (unsigned)y->dev->iommu_group;

        if (gx != gy)
                return gx < gy ? -1 : 1;
        return strcmp(x->dev->address, y->dev->address);
}

/* A blank line goes between IOMMU groups, or between slots when no groups are
 * known (the plan goes by slot then). */
static bool new_block(const struct vhc_pci_list *l, const struct row *prev, const struct row *r) {
        if (l->groups_known)
                return prev->dev->iommu_group != r->dev->iommu_group;
        return !vhc_pci_same_slot(prev->dev, r->dev);
}

/* On a narrow terminal the names give way, then the columns the ID column
 * repeats (CLASS, VENDOR) go, and the reason wraps under its column (below
 * the row, from column 4, when even that has no room): a row that wraps
 * where the terminal cuts it is harder to read. Off a terminal nothing is cut.
 * Returns the columns to wrap REASON at, 0 for none; hidden columns get w 0. */
static size_t fit(struct row **rows, size_t n, size_t w[_COL_MAX], bool hide[_COL_MAX]) {
        static const struct {
                enum col col;
                size_t min;
        } shrink[] = {{COL_DEVICE, 24}, {COL_VENDOR, 18}, {COL_DEVICE, 16}, {COL_DRIVER, 10}};
        size_t cols = vhc_terminal_columns(), total = 0;

        if (cols == 0)
                return 0;
        for (size_t c = 0; c < _COL_MAX; c++)
                total += w[c] + 2;
        /* Room for the reason is wanted too, but only when it is short of it. */
        for (size_t s = 0; s < ELEMENTSOF(shrink) && total > cols; s++) {
                enum col c = shrink[s].col;
                size_t keep, over;

                if (s == 2 && !hide[COL_VENDOR]) {
                        /* Before the names get shorter than this: drop the repeated columns. */
                        hide[COL_CLASS] = hide[COL_VENDOR] = true;
                        total -= w[COL_CLASS] + 2 + w[COL_VENDOR] + 2;
                        if (total <= cols)
                                break;
                }
                over = total - cols;
                if (hide[c] || w[c] <= shrink[s].min)
                        continue;
                if (c == COL_DEVICE || c == COL_DRIVER) {
                        /* Leave the reason its minimum before cutting further. */
                        size_t others = total - (w[COL_REASON] + 2);

                        /* The reason has room beside, or goes below the row: names stay. */
                        if (others + strlen(headers[COL_REASON]) <= cols)
                                break;
                        over = others + strlen(headers[COL_REASON]) - cols;
                }
                keep = w[c] - shrink[s].min > over ? w[c] - over : shrink[s].min;
                total -= w[c] - keep;
                w[c] = keep;
                for (size_t i = 0; i < n; i++)
                        truncate_to(rows[i]->cells[c], keep);
        }
        for (size_t c = 0; c < _COL_MAX; c++)
                if (hide[c])
                        w[c] = 0;
        return total > cols ? cols : 0;
}

static void print_cell(const struct vhc_ctx *ctx, const char *s, size_t w, const char *color, bool last) {
        if (color)
                printf("%s%s%s", vhc_color(ctx, color), s, vhc_color(ctx, ANSI_RESET));
        else
                fputs(s, stdout);
        if (!last)
                printf("%*s", (int)(w - width(s) + 2), "");
}

static const char *cell_color(const struct row *r, enum col c) {
        bool iso = r->action == VHC_ACTION_ISOLATE;

        if (c == COL_ACTION && iso)
                return ANSI_BOLD ANSI_GREEN;
        if (c == COL_DRIVER && r->dev->driver && streq(r->dev->driver, "vfio-pci"))
                return ANSI_GREEN;
        if (c == COL_REASON && !iso)
                return ANSI_DIM;
        return NULL;
}

/* The cells of a row, the reason wrapped to wrap columns (0: not). */
static void print_row(const struct vhc_ctx *ctx, char *const *cells, const struct row *r, const size_t w[_COL_MAX],
                      const bool hide[_COL_MAX], size_t wrap, const char *color) {
        size_t at = 0;

        for (size_t c = 0; c < _COL_MAX; c++) {
                const char *col = r ? cell_color(r, c) : color;

                if (hide[c])
                        continue;
                if (c == COL_REASON && wrap) {
                        if (wrap - at < VHC_WRAP_MIN) {
                                printf("\n    ");
                                at = 4;
                        }
                        if (col)
                                fputs(vhc_color(ctx, col), stdout);
                        vhc_print_wrapped(cells[c], at, wrap);
                        if (col)
                                fputs(vhc_color(ctx, ANSI_RESET), stdout);
                        return;
                }
                print_cell(ctx, cells[c], w[c], col, c == _COL_MAX - 1);
                at += w[c] + 2;
        }
        printf("\n");
}

static int print_table(const struct vhc_ctx *ctx, const struct vhc_pci_list *l, struct row *rows, size_t n) {
        _cleanup_free_ struct row **order = calloc(n + 1, sizeof(*order));
        bool hide[_COL_MAX] = {};
        size_t w[_COL_MAX], wrap;

        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                order[i] = &rows[i];
        qsort(order, n, sizeof(*order), cmp_group_address);
        for (size_t c = 0; c < _COL_MAX; c++) {
                w[c] = width(headers[c]);
                for (size_t i = 0; i < n; i++)
                        if (width(rows[i].cells[c]) > w[c])
                                w[c] = width(rows[i].cells[c]);
        }
        wrap = fit(order, n, w, hide);
        print_row(ctx, (char *const *)headers, NULL, w, hide, 0, ANSI_BOLD);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && new_block(l, order[i - 1], order[i]))
                        printf("\n");
                print_row(ctx, order[i]->cells, order[i], w, hide, wrap, NULL);
        }
        return 0;
}

static void print_summary(const struct row *rows, size_t n, char *const *notes, char *const *warnings) {
        size_t n_iso = 0;

        for (size_t i = 0; i < n; i++)
                n_iso += rows[i].action == VHC_ACTION_ISOLATE;
        printf("\n%zu PCI device%s; ", n, n == 1 ? "" : "s");
        if (n_iso == 0)
                printf("none to isolate");
        else
                printf("%zu to isolate:", n_iso);
        for (size_t i = 0; i < n; i++)
                if (rows[i].action == VHC_ACTION_ISOLATE)
                        printf(" %s", rows[i].dev->address);
        printf("\n");
        for (size_t i = 0; notes[i]; i++)
                printf("note: %s\n", notes[i]);
        for (size_t i = 0; warnings && warnings[i]; i++)
                printf("warning: %s\n", warnings[i]);
}

static json_object *json_string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

static json_object *json_hex4(unsigned v) {
        char buf[8];

        snprintf(buf, sizeof(buf), "%04x", v & 0xffff);
        return json_object_new_string(buf);
}

static json_object *json_u64(uint64_t v) {
        return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* "reset": what reset_method and the config space say, and vendor-reset's word. */
static json_object *reset_json(const struct vhc_pci_dev *d, const struct vhc_passthru_info *i) {
        const struct vhc_reset_quirk *q = vhc_passthru_reset_quirk(d->vendor_id, d->device_id);
        json_object *o = json_object_new_object(), *m = NULL;

        if (!o)
                return NULL;
        if (i->reset_r == 0) {
                m = json_object_new_array();
                for (size_t k = 0; m && k < i->reset.n; k++)
                        json_object_array_add(m, json_object_new_string(i->reset.name[k]));
        }
        json_object_object_add(o, "methods", m);
        json_object_object_add(o, "flr",
                               i->cfg_r == 0 && i->cfg.caps_read
                                       ? json_object_new_boolean(i->cfg.flr || i->cfg.af_flr)
                                       : NULL);
        json_object_object_add(o, "reset_bug", q ? json_object_new_string(q->family) : NULL);
        return o;
}

static json_object *image_json(const struct vhc_rom_image *im) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "offset", json_u64(im->offset));
        json_object_object_add(o, "length", json_u64(im->length));
        json_object_object_add(o, "code_type", json_object_new_int(im->code_type));
        json_object_object_add(o, "type", json_string_or_null(vhc_rom_code_name(im->code_type)));
        json_object_object_add(o, "vendor", json_hex4(im->vendor_id));
        json_object_object_add(o, "device", json_hex4(im->device_id));
        json_object_object_add(o, "last", json_object_new_boolean(im->last));
        if (im->code_type == VHC_ROM_CODE_EFI) {
                json_object_object_add(
                        o, "efi_machine",
                        im->efi_valid ? json_string_or_null(vhc_efi_machine_name(im->efi_machine)) : NULL);
                json_object_object_add(
                        o, "efi_subsystem",
                        im->efi_valid ? json_string_or_null(vhc_efi_subsystem_name(im->efi_subsystem))
                                      : NULL);
        }
        return o;
}

/* "rom": read for isolated devices only (null for the others), as check reads it. */
static int rom_json(const struct vhc_ctx *ctx, const struct vhc_pci_dev *d, json_object **ret) {
        json_object *o, *imgs;
        struct vhc_rom_read rr;
        int r;

        r = vhc_passthru_read_rom(ctx->root, d, VHC_ROM_TIMEOUT_MS, &rr);
        if (r < 0)
                return r;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "read", json_object_new_boolean(rr.state == VHC_ROM_READ));
        if (rr.state != VHC_ROM_READ) {
                json_object_object_add(
                        o, "why", json_object_new_string(rr.state == VHC_ROM_NONE ? "no rom file" : rr.why));
                *ret = o;
                return 0;
        }
        imgs = json_object_new_array();
        for (size_t k = 0; imgs && k < rr.rom.n; k++)
                json_object_array_add(imgs, image_json(&rr.rom.images[k]));
        json_object_object_add(o, "images", imgs);
        json_object_object_add(
                o, "efi_x86_64",
                json_object_new_boolean(vhc_pcirom_efi(&rr.rom, VHC_EFI_MACHINE_X64) != NULL));
        *ret = o;
        return 0;
}

/* "bars": the BARs in use, with their Resizable BAR sizes; null when resource is unreadable. */
static json_object *bars_json(const struct vhc_passthru_info *i) {
        json_object *a;

        if (i->res_r < 0)
                return NULL;
        a = json_object_new_array();
        for (size_t k = 0; a && k < i->res.n; k++) {
                const struct vhc_pci_bar *b = &i->res.bars[k];
                const struct vhc_pci_rebar *rb = i->cfg_r == 0 ? vhc_pcicfg_rebar(&i->cfg, b->index) : NULL;
                json_object *o = json_object_new_object(), *rz = NULL;

                if (!o)
                        break;
                json_object_array_add(a, o);
                json_object_object_add(o, "index", json_object_new_int((int)b->index));
                json_object_object_add(o, "size", json_u64(b->size));
                json_object_object_add(o, "type",
                                       json_object_new_string(b->io      ? "io"
                                                              : b->mem64 ? "mem64"
                                                                         : "mem32"));
                json_object_object_add(o, "prefetchable", json_object_new_boolean(b->prefetch));
                if (rb) {
                        json_object *sizes = json_object_new_array();

                        rz = json_object_new_object();
                        for (unsigned bit = 0; sizes && bit < 44; bit++)
                                if (rb->sizes & (UINT64_C(1) << bit))
                                        json_object_array_add(sizes, json_u64(UINT64_C(1) << (20 + bit)));
                        if (rz) {
                                json_object_object_add(rz, "current",
                                                       json_u64(UINT64_C(1) << (20 + rb->current)));
                                json_object_object_add(rz, "sizes", sizes);
                        } else
                                json_object_put(sizes);
                }
                json_object_object_add(o, "resizable", rz);
        }
        return a;
}

static int add_passthru(const struct vhc_ctx *ctx, const struct row *row, json_object *e) {
        struct vhc_passthru_info i;
        json_object *rom = NULL;
        int r;

        r = vhc_passthru_read(ctx->root, row->dev, &i);
        if (r < 0)
                return r;
        if (row->action == VHC_ACTION_ISOLATE) {
                r = rom_json(ctx, row->dev, &rom);
                if (r < 0)
                        return r;
        }
        json_object_object_add(e, "reset", reset_json(row->dev, &i));
        json_object_object_add(e, "rom", rom);
        json_object_object_add(e, "bars", bars_json(&i));
        return 0;
}

static int print_json(const struct vhc_ctx *ctx, const struct row *rows, size_t n, char *const *notes,
                      char *const *warnings) {
        json_object *o = json_object_new_object(), *a = json_object_new_array(),
                    *w = json_object_new_array();

        if (!o || !a || !w) {
                json_object_put(o);
                json_object_put(a);
                json_object_put(w);
                return -ENOMEM;
        }
        json_object_object_add(o, "devices", a);
        json_object_object_add(o, "warnings", w);
        for (size_t i = 0; warnings && warnings[i]; i++)
                json_object_array_add(w, json_object_new_string(warnings[i]));
        for (size_t i = 0; i < n; i++) {
                const struct vhc_pci_dev *d = rows[i].dev;
                json_object *e = json_object_new_object();

                if (!e) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                json_object_array_add(a, e);
                json_object_object_add(e, "address", json_object_new_string(d->address));
                json_object_object_add(e, "vendor", json_hex4(d->vendor_id));
                json_object_object_add(e, "device", json_hex4(d->device_id));
                json_object_object_add(e, "class", json_hex4(vhc_pci_class(d)));
                json_object_object_add(e, "iommu_group",
                                       d->iommu_group >= 0 ? json_object_new_int(d->iommu_group) : NULL);
                json_object_object_add(e, "boot_vga", json_object_new_boolean(d->boot_vga));
                json_object_object_add(e, "driver", json_string_or_null(d->driver));
                json_object_object_add(
                        e, "action",
                        json_object_new_string(rows[i].action == VHC_ACTION_ISOLATE ? "isolate" : "keep"));
                json_object_object_add(e, "reason", json_object_new_string(strempty(rows[i].reason)));
                if (add_passthru(ctx, &rows[i], e) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        /* Always there, null without a note: scripts need not test for it. */
        json_object_object_add(o, "note", NULL);
        if (notes[0]) {
                _cleanup_free_ char *joined = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&joined, &len);

                if (!f) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                for (size_t i = 0; notes[i]; i++)
                        fprintf(f, "%s%s", i ? "; " : "", notes[i]);
                if (fclose(f) != 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                json_object_object_add(o, "note", json_object_new_string(joined));
        }
        vhc_print_json(o);
        json_object_put(o);
        return 0;
}

#define GROUPS_NOTE                                                                                         \
        "IOMMU groups are unknown (the IOMMU is off or not active yet): they are verified after the "       \
        "reboot, by "                                                                                       \
        "'virt-host-config check'"

static void rows_free(struct row *rows, size_t n) {
        for (size_t i = 0; rows && i < n; i++)
                for (size_t c = 0; c < _COL_MAX; c++)
                        free(rows[i].cells[c]);
        free(rows);
}

int cmd_list(struct vhc_ctx *ctx) {
        _cleanup_(vhc_config_done) struct vhc_config c = {};
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;
        _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
        const char *notes[3] = {};
        _cleanup_strv_free_ char **warnings = NULL;
        size_t n_notes = 0;
        struct row *rows;
        int r, plan_r;

        r = vhc_ctx_load_config(ctx, &c);
        if (r < 0)
                return r;
        r = vhc_pci_scan(ctx->root, &l, &ctx->err);
        if (r < 0)
                return r;
        /* A config whose plan is an error (a listed device that does not exist
         * or is the boot VGA) still gets the list: it is where the user looks
         * for the addresses to put there. The error follows it. */
        plan_r = vhc_plan_make(l, &c, &plan, &ctx->err);
        if (plan_r < 0 && plan_r != -EINVAL)
                return plan_r;

        rows = calloc(l->n + 1, sizeof(*rows));
        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                rows[i].dev = &l->devs[i];
                rows[i].action = plan ? plan->entries[i].action : VHC_ACTION_KEEP;
                rows[i].reason = plan ? plan->entries[i].reason : NO_PLAN_REASON;
                r = fill_cells(&rows[i]);
                if (r < 0)
                        goto out;
        }
        if (plan && plan->note)
                notes[n_notes++] = plan->note;
        if (!l->groups_known && l->n > 0 && !(plan && plan->note && strstr(plan->note, "IOMMU groups")))
                notes[n_notes++] = GROUPS_NOTE;

        for (size_t i = 0; plan && i < plan->n; i++) {
                _cleanup_free_ char *use = NULL;

                if (plan->entries[i].warning && (r = strv_push_dup(&warnings, plan->entries[i].warning)) < 0)
                        goto out;
                if (plan->entries[i].action != VHC_ACTION_ISOLATE || !plan->entries[i].dev->driver ||
                    streq(plan->entries[i].dev->driver, "vfio-pci"))
                        continue;
                if ((r = vhc_desktop_use(ctx->root, plan->entries[i].dev, &use)) < 0)
                        goto out;
                if (use && (r = strv_consume(&warnings, vhc_desktop_warning(plan->entries[i].dev, use))) < 0)
                        goto out;
        }

        r = ctx->json ? print_json(ctx, rows, l->n, (char *const *)notes, warnings)
                      : print_table(ctx, l, rows, l->n);
        if (r >= 0 && !ctx->json)
                print_summary(rows, l->n, (char *const *)notes, warnings);
        if (r >= 0)
                r = plan_r < 0 ? plan_r : 0;
out:
        rows_free(rows, l->n);
        return r;
}
