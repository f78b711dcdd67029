/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <strings.h>

#include "passthru.h"
#include "plan.h"

/* Per-device working state while the plan is made. */
struct planner {
        const struct vhc_pci_list *l;
        const struct vhc_config *c;
        struct vhc_err *e;
        bool *protect;  /* boot VGA, its slot and its group: never isolated */
        bool *selected; /* will be isolated (so far) */
        char **reason;  /* NULL: the mode's default keep reason */
        char **warning; /* what the user is told besides, for an isolated device */
        size_t *head;   /* the device whose selection brought this one (itself if none) */
};

static bool same_slot(const struct vhc_pci_dev *a, const struct vhc_pci_dev *b) {
        return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}

static bool same_group(const struct planner *p, const struct vhc_pci_dev *a, const struct vhc_pci_dev *b) {
        return p->l->groups_known && a->iommu_group >= 0 && a->iommu_group == b->iommu_group;
}

/* The display controllers of baseboard management controllers: the host's
 * remote console (IPMI KVM-over-IP) runs on them. IDs as pci.ids and the
 * kernel's ast and mgag200 drivers name them: ASPEED's one ID for the AST1xxx
 * and AST2xxx families, and the Matrox G200 server variants (G200e SE A and
 * SE B, G200EV, G200eW WPCM450, G200EH, G200eR2, G200eW3, G200eH3; pci.ids of
 * 2025 has no name for 0524, mgag200 binds it as G200_SE_B). */
bool vhc_plan_is_bmc_display(const struct vhc_pci_dev *d) {
        static const uint16_t matrox[] = {0x0522, 0x0524, 0x0530, 0x0532, 0x0533, 0x0534, 0x0536, 0x0538};

        if (!vhc_pci_is_display(d))
                return false;
        if (d->vendor_id == 0x1a03)
                return d->device_id == 0x2000;
        if (d->vendor_id == 0x102b)
                for (size_t i = 0; i < ELEMENTSOF(matrox); i++)
                        if (d->device_id == matrox[i])
                                return true;
        return false;
}

static ssize_t find_index(const struct vhc_pci_list *l, const char *address) {
        for (size_t i = 0; i < l->n; i++)
                if (strcasecmp(l->devs[i].address, address) == 0)
                        return (ssize_t)i;
        return -1;
}

/* pci.ids' names for the classes a passthrough host usually has, for when the
 * scan had no name database. */
static const char *class_name(const struct vhc_pci_dev *d) {
        static const struct {
                uint16_t class;
                const char *name;
        } names[] = {
                {0x0100, "SCSI storage controller"},
                {0x0106, "SATA controller"},
                {0x0108, "Non-Volatile memory controller"},
                {0x0200, "Ethernet controller"},
                {0x0280, "Network controller"},
                {0x0300, "VGA compatible controller"},
                {0x0302, "3D controller"},
                {0x0380, "Display controller"},
                {0x0403, "Audio device"},
                {0x0480, "Multimedia controller"},
                {0x0600, "Host bridge"},
                {0x0601, "ISA bridge"},
                {0x0604, "PCI bridge"},
                {0x0880, "System peripheral"},
                {0x0c03, "USB controller"},
                {0x0c05, "SMBus"},
                {0x0c80, "Serial bus controller"},
        };

        if (d->class_name)
                return d->class_name;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].class == vhc_pci_class(d))
                        return names[i].name;
        return NULL;
}

/* The host's own chipset functions: an ISA/LPC bridge, SMBus, the SPI flash
 * controller (class 0c80 on a root bus: on a card it is NVIDIA's UCSI), a
 * memory controller, host and other bridges. The host needs them: they never
 * go to a guest, whoever asks. */
static bool is_chipset_function(const struct vhc_pci_dev *d) {
        switch (vhc_pci_class(d)) {
        case 0x0600: /* host bridge */
        case 0x0601: /* ISA bridge (LPC, eSPI) */
        case 0x0680: /* other bridge */
        case 0x0c05: /* SMBus */
        case 0x0500: /* RAM memory (shared SRAM) */
        case 0x0580: /* memory controller */
                return true;
        case 0x0c80: /* SPI on the PCH; UCSI on a card */
                return d->bus == 0;
        default:
                return false;
        }
}

/* Whether the slot rule brings mate along with the display controller card:
 * the card's own functions carry its vendor ID (HDMI audio, USB-C, UCSI); an
 * AMD APU's iGPU (1002) shares its slot with the host's PSP, USB and audio
 * (1022), and a chipset function never goes. */
static bool card_function(const struct vhc_pci_dev *card, const struct vhc_pci_dev *mate) {
        return mate != card && same_slot(mate, card) && !vhc_pci_is_bridge(mate) &&
               mate->vendor_id == card->vendor_id && !is_chipset_function(mate);
}

_printf_(3, 4) static int set_reason(struct planner *p, size_t i, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        free(p->reason[i]);
        p->reason[i] = s;
        return 0;
}

/* The boot VGA device, its slot and its group stay with the host: the
 * firmware console and the host's display run on it. */
static int mark_protected(struct planner *p) {
        const struct vhc_pci_list *l = p->l;
        int r;

        for (size_t b = 0; b < l->n; b++) {
                const struct vhc_pci_dev *boot = &l->devs[b];

                if (!boot->boot_vga)
                        continue;
                for (size_t i = 0; i < l->n; i++) {
                        const struct vhc_pci_dev *d = &l->devs[i];

                        if (p->protect[i])
                                continue;
                        if (i == b)
                                r = set_reason(p, i, "boot VGA device");
                        else if (same_slot(d, boot))
                                r = set_reason(p, i, "shares slot with the boot VGA %s", boot->address);
                        else if (same_group(p, d, boot))
                                r = set_reason(p, i, "shares IOMMU group %d with the boot VGA %s",
                                               boot->iommu_group, boot->address);
                        else
                                continue;
                        if (r < 0)
                                return r;
                        p->protect[i] = true;
                }
        }
        return 0;
}

static int refuse_listed(struct planner *p, const char *address, const char *why) {
        return vhc_err_set(p->e, -EINVAL, NULL, 0, "%s: cannot be isolated (%s); remove it from 'isolate'",
                           address, why);
}

static int select_auto(struct planner *p) {
        int r;

        if (!p->l->boot_vga_known)
                return 0;
        for (size_t i = 0; i < p->l->n; i++) {
                const struct vhc_pci_dev *d = &p->l->devs[i];

                if (!vhc_pci_is_display(d) || p->protect[i])
                        continue;
                if (vhc_plan_is_bmc_display(d)) {
                        r = set_reason(p, i, "BMC display (remote console)");
                        if (r < 0)
                                return r;
                        continue;
                }
                r = set_reason(p, i, "non-boot display controller");
                if (r < 0)
                        return r;
                p->selected[i] = true;
        }
        return 0;
}

static int select_list(struct planner *p) {
        for (char **a = p->c->isolate_list; a && *a; a++) {
                ssize_t i = find_index(p->l, *a);
                int r;

                if (i < 0)
                        return vhc_err_set(p->e, -EINVAL, NULL, 0,
                                           "%s: no such PCI device; see 'virt-host-config list'", *a);
                if (vhc_pci_is_bridge(&p->l->devs[i]))
                        return refuse_listed(p, *a, "a PCI bridge stays with the host");
                if (is_chipset_function(&p->l->devs[i])) {
                        const char *cn = class_name(&p->l->devs[i]);
                        _cleanup_free_ char *why = NULL;

                        if ((cn ? asprintf(&why, "%s: a chipset function stays with the host", cn)
                                : asprintf(&why, "class %04x: a chipset function stays with the host",
                                           vhc_pci_class(&p->l->devs[i]))) < 0)
                                return -ENOMEM;
                        return refuse_listed(p, *a, why);
                }
                if (p->protect[i])
                        return refuse_listed(p, *a, p->reason[i]);
                if (p->selected[i])
                        continue;
                r = set_reason(p, i, "listed in isolate");
                if (r < 0)
                        return r;
                if (vhc_plan_is_bmc_display(&p->l->devs[i]) &&
                    asprintf(&p->warning[i],
                             "%s is a BMC display (remote console): isolating it ends the host's remote "
                             "console (IPMI KVM-over-IP) at the next boot",
                             *a) < 0)
                        return -ENOMEM;
                p->selected[i] = true;
        }
        return 0;
}

/* Clears the selection of the unit that unit belongs to (a display
 * controller and the card functions it brought, or a device named alone) and
 * gives them reason. */
static int unselect_unit(struct planner *p, size_t unit, const char *reason) {
        _cleanup_free_ char *copy = strdup(reason); /* reason may be one of the strings replaced */
        size_t h = p->head[unit];

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < p->l->n; i++) {
                if (i != h && !(p->selected[i] && p->head[i] == h))
                        continue;
                if (set_reason(p, i, "%s", copy) < 0)
                        return -ENOMEM;
                p->selected[i] = false;
                p->head[i] = i;
        }
        return 0;
}

/* A selected display controller brings the functions of its card (see
 * card_function()); a named device of another class comes alone. A card
 * that holds a protected function cannot go at all. */
static int expand_slots(struct planner *p) {
        const struct vhc_pci_list *l = p->l;
        int r;

        for (size_t s = 0; s < l->n; s++) {
                if (!p->selected[s] || !vhc_pci_is_display(&l->devs[s]))
                        continue;
                for (size_t i = 0; i < l->n; i++) {
                        _cleanup_free_ char *why = NULL;

                        if (!card_function(&l->devs[s], &l->devs[i]) || !p->protect[i])
                                continue;
                        if (asprintf(&why, "slot mate %s %s", l->devs[i].address, p->reason[i]) < 0)
                                return -ENOMEM;
                        if (p->c->isolate == VHC_ISOLATE_LIST)
                                return refuse_listed(p, l->devs[s].address, why);
                        r = unselect_unit(p, s, why);
                        if (r < 0)
                                return r;
                        break;
                }
                if (!p->selected[s])
                        continue;
                for (size_t i = 0; i < l->n; i++) {
                        if (p->selected[i] || !card_function(&l->devs[s], &l->devs[i]))
                                continue;
                        r = set_reason(p, i, "function of %s (isolated)", l->devs[s].address);
                        if (r < 0)
                                return r;
                        p->selected[i] = true;
                        p->head[i] = s;
                }
        }
        return 0;
}

/* VFIO hands a guest whole IOMMU groups: isolating a device whose group also
 * holds a device of another slot would take that device from the host too.
 * Bridges do not count: vfio allows them to stay on pcieport. Devices of other
 * slots that are selected themselves do not count either (two GPUs behind one
 * switch go together). Unselecting a slot can make it the foreign device of
 * another group, so this runs until nothing changes. */
static int apply_groups(struct planner *p) {
        const struct vhc_pci_list *l = p->l;
        bool changed;
        int r;

        if (!l->groups_known)
                return 0;
        do {
                changed = false;
                for (size_t s = 0; s < l->n; s++) {
                        if (!p->selected[s] || l->devs[s].iommu_group < 0)
                                continue;
                        for (size_t f = 0; f < l->n; f++) {
                                const struct vhc_pci_dev *d = &l->devs[f];
                                _cleanup_free_ char *why = NULL;
                                const char *cn;

                                if (p->selected[f] || vhc_pci_is_bridge(d) || !same_group(p, d, &l->devs[s]))
                                        continue;
                                cn = class_name(d);
                                if (cn)
                                        r = asprintf(&why, "IOMMU group %d also holds %s (%s): not isolated",
                                                     d->iommu_group, d->address, cn);
                                else
                                        r = asprintf(
                                                &why,
                                                "IOMMU group %d also holds %s (class %04x): not isolated",
                                                d->iommu_group, d->address, vhc_pci_class(d));
                                if (r < 0)
                                        return -ENOMEM;
                                r = unselect_unit(p, s, why);
                                if (r < 0)
                                        return r;
                                changed = true;
                                break;
                        }
                }
        } while (changed);
        return 0;
}

static const char *default_reason(const struct planner *p, const struct vhc_pci_dev *d) {
        if (vhc_pci_is_bridge(d))
                return "PCI bridge";
        switch (p->c->isolate) {
        case VHC_ISOLATE_NONE:
                return "isolate = none";
        case VHC_ISOLATE_LIST:
                return "not listed in isolate";
        case VHC_ISOLATE_AUTO:
        default:
                if (!vhc_pci_is_display(d))
                        return "not a display controller";
                return "no boot VGA device known: auto isolates no display controller";
        }
}

static int make_note(const struct planner *p, size_t n_isolated, char **ret) {
        bool any_display = false, any_bmc = false;

        *ret = NULL;
        if (p->c->isolate == VHC_ISOLATE_AUTO && !p->l->boot_vga_known) {
                *ret = strdup("no device is marked as the boot VGA device (boot_vga), so auto isolates "
                              "no display controller; name the devices in 'isolate' to choose");
                return *ret ? 0 : -ENOMEM;
        }
        if (p->c->isolate == VHC_ISOLATE_AUTO) {
                for (size_t i = 0; i < p->l->n; i++)
                        if (vhc_pci_is_display(&p->l->devs[i]) && !p->protect[i] &&
                            !vhc_plan_is_bmc_display(&p->l->devs[i]))
                                any_display = true;
                        else if (vhc_plan_is_bmc_display(&p->l->devs[i]) && !p->protect[i])
                                any_bmc = true;
                if (!any_display) {
                        *ret = strdup(
                                any_bmc ? "no display controller besides the boot VGA device and the BMC "
                                          "display (remote console): nothing to isolate"
                                        : "no display controller besides the boot VGA device: nothing to "
                                          "isolate");
                        return *ret ? 0 : -ENOMEM;
                }
        }
        if (!p->l->groups_known && n_isolated > 0) {
                *ret = strdup(
                        "IOMMU groups are unknown (IOMMU off or not active yet): planned by slot only; "
                        "the groups are checked after the reboot");
                return *ret ? 0 : -ENOMEM;
        }
        return 0;
}

static void planner_done(struct planner *p) {
        if (p->reason)
                for (size_t i = 0; i < p->l->n; i++)
                        free(p->reason[i]);
        if (p->warning)
                for (size_t i = 0; i < p->l->n; i++)
                        free(p->warning[i]);
        free(p->reason);
        free(p->warning);
        free(p->head);
        free(p->protect);
        free(p->selected);
}

int vhc_plan_make(const struct vhc_pci_list *l, const struct vhc_config *c, struct vhc_plan **ret,
                  struct vhc_err *e) {
        _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
        _cleanup_(planner_done) struct planner p = {.l = l, .c = c, .e = e};
        size_t n_isolated = 0;
        int r;

        p.protect = calloc(l->n + 1, sizeof(bool));
        p.selected = calloc(l->n + 1, sizeof(bool));
        p.reason = calloc(l->n + 1, sizeof(char *));
        p.warning = calloc(l->n + 1, sizeof(char *));
        p.head = calloc(l->n + 1, sizeof(size_t));
        plan = calloc(1, sizeof(*plan));
        if (!p.protect || !p.selected || !p.reason || !p.warning || !p.head || !plan)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                p.head[i] = i;

        r = mark_protected(&p);
        if (r < 0)
                return r;
        if (c->isolate == VHC_ISOLATE_AUTO)
                r = select_auto(&p);
        else if (c->isolate == VHC_ISOLATE_LIST)
                r = select_list(&p);
        if (r < 0)
                return r;
        r = expand_slots(&p);
        if (r < 0)
                return r;
        r = apply_groups(&p);
        if (r < 0)
                return r;

        plan->entries = calloc(l->n + 1, sizeof(*plan->entries));
        if (!plan->entries)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                struct vhc_plan_entry *en = &plan->entries[i];

                en->dev = &l->devs[i];
                en->action = p.selected[i] ? VHC_ACTION_ISOLATE : VHC_ACTION_KEEP;
                en->vendor_reset = p.selected[i] && c->vendor_reset &&
                                   vhc_passthru_reset_quirk(l->devs[i].vendor_id, l->devs[i].device_id);
                en->reason = p.reason[i] ? TAKE_PTR(p.reason[i]) : strdup(default_reason(&p, &l->devs[i]));
                if (p.selected[i])
                        en->warning = TAKE_PTR(p.warning[i]);
                plan->n++;
                if (!en->reason)
                        return -ENOMEM;
                if (p.selected[i])
                        n_isolated++;
        }
        plan->groups_known = l->groups_known;
        r = make_note(&p, n_isolated, &plan->note);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(plan);
        return 0;
}

struct vhc_plan *vhc_plan_free(struct vhc_plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++) {
                free(p->entries[i].reason);
                free(p->entries[i].warning);
        }
        free(p->entries);
        free(p->note);
        free(p);
        return NULL;
}

size_t vhc_plan_count_isolated(const struct vhc_plan *p) {
        size_t n = 0;

        for (size_t i = 0; p && i < p->n; i++)
                if (p->entries[i].action == VHC_ACTION_ISOLATE)
                        n++;
        return n;
}
