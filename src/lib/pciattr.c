/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>

#include "pciattr.h"
#include "unaligned.h"

/* Configuration space offsets (PCI Local Bus 3.0, PCIe Base 6.0 ch. 7). */
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_HEADER_TYPE 0x0e
#define CFG_CAP_PTR 0x34
#define CFG_CARDBUS_CAP_PTR 0x14
#define CAP_ID_PM 0x01
#define CAP_ID_EXP 0x10
#define CAP_ID_AF 0x13
#define PM_CTRL 4 /* PMCSR, from the PM capability */
#define PM_NO_SOFT_RESET 0x0008
#define EXP_FLAGS 2 /* PCIe Capabilities register: type in bits 7:4 */
#define EXP_DEVCAP 4
#define EXP_DEVCAP_FLR (UINT32_C(1) << 28)
#define AF_CAP 3
#define AF_CAP_FLR 0x02
#define EXT_START 0x100
#define EXT_ID_REBAR 0x0015
#define REBAR_CAP 4 /* per entry, 8 bytes apart */
#define REBAR_CTRL 8
#define REBAR_CTRL_BAR_IDX 0x7
#define REBAR_CTRL_NBAR(c) (((c) >> 5) & 0x7)
#define REBAR_CTRL_SIZE(c) (((c) >> 8) & 0x3f)

static void parse_rebar(const uint8_t *cfg, size_t len, size_t off, struct vhc_pcicfg *c) {
        unsigned n;

        if (off + REBAR_CTRL + 4 > len)
                return;
        n = REBAR_CTRL_NBAR(unaligned_read_le32(cfg + off + REBAR_CTRL));
        for (unsigned i = 0; i < n && i < VHC_PCI_N_BARS; i++) {
                size_t e = off + 8 * i;
                uint32_t cap, ctrl;
                struct vhc_pci_rebar *rb;

                if (e + REBAR_CTRL + 4 > len)
                        return;
                cap = unaligned_read_le32(cfg + e + REBAR_CAP);
                ctrl = unaligned_read_le32(cfg + e + REBAR_CTRL);
                /* Cap bits 31:4 are 1 MiB to 128 TiB, control bits 31:16 go on
                 * from 256 TiB (the PCIe 5.0 ECN). */
                rb = &c->rebar[c->n_rebar];
                *rb = (struct vhc_pci_rebar){
                        .bar = ctrl & REBAR_CTRL_BAR_IDX,
                        .sizes = (uint64_t)(cap >> 4) | (uint64_t)(ctrl >> 16) << 28,
                        .current = REBAR_CTRL_SIZE(ctrl),
                };
                if (rb->bar >= VHC_PCI_N_BARS || vhc_pcicfg_rebar(c, rb->bar))
                        continue; /* a bad index, or a BAR listed twice: the first counts */
                c->n_rebar++;
        }
}

static void parse_ext(const uint8_t *cfg, size_t len, struct vhc_pcicfg *c) {
        size_t off = EXT_START;

        /* Each header takes 4 bytes of the 3840: more hops than that is a loop. */
        for (unsigned hops = 0; hops < (4096 - EXT_START) / 4 && off >= EXT_START && off + 4 <= len;
             hops++) {
                uint32_t h = unaligned_read_le32(cfg + off);

                if (h == 0 || h == UINT32_MAX)
                        return;
                if ((h & 0xffff) == EXT_ID_REBAR && c->n_rebar == 0)
                        parse_rebar(cfg, len, off, c);
                off = (h >> 20) & 0xffc;
                if (off == 0)
                        return;
        }
}

static void parse_caps(const uint8_t *cfg, size_t len, struct vhc_pcicfg *c) {
        unsigned ptr_at = (cfg[CFG_HEADER_TYPE] & 0x7f) == 2 ? CFG_CARDBUS_CAP_PTR : CFG_CAP_PTR;
        size_t off = cfg[ptr_at] & 0xfc;

        /* 48 capabilities of 4 bytes fill the 192 bytes after the header. */
        for (unsigned hops = 0; hops < 48 && off >= 0x40 && off + 2 <= len && off + 2 <= 256; hops++) {
                uint8_t id = cfg[off];

                if (id == 0xff)
                        return;
                if (id == CAP_ID_PM && !c->pm && off + PM_CTRL + 2 <= len) {
                        c->pm = true;
                        c->pm_no_soft_reset = unaligned_read_le16(cfg + off + PM_CTRL) & PM_NO_SOFT_RESET;
                } else if (id == CAP_ID_EXP && !c->pcie && off + EXP_DEVCAP + 4 <= len) {
                        c->pcie = true;
                        c->pcie_type = (unaligned_read_le16(cfg + off + EXP_FLAGS) >> 4) & 0xf;
                        c->flr = unaligned_read_le32(cfg + off + EXP_DEVCAP) & EXP_DEVCAP_FLR;
                } else if (id == CAP_ID_AF && off + AF_CAP + 1 <= len)
                        c->af_flr = c->af_flr || (cfg[off + AF_CAP] & AF_CAP_FLR);
                off = cfg[off + 1] & 0xfc;
        }
}

int vhc_pcicfg_parse(const uint8_t *cfg, size_t len, struct vhc_pcicfg *ret) {
        struct vhc_pcicfg c = {.len = len};

        if (len < 64)
                return -EINVAL;
        c.vendor_id = unaligned_read_le16(cfg);
        c.device_id = unaligned_read_le16(cfg + 2);
        if (c.vendor_id == 0xffff || c.device_id == 0xffff)
                return -EINVAL;
        /* A user reads the 64-byte header only; the list starts after it. */
        c.caps_read = len >= 256;
        c.ext_read = len >= 4096;
        if (c.caps_read && (unaligned_read_le16(cfg + CFG_STATUS) & CFG_STATUS_CAP_LIST))
                parse_caps(cfg, len, &c);
        if (c.ext_read && c.pcie)
                parse_ext(cfg, len, &c);
        *ret = c;
        return 0;
}

const struct vhc_pci_rebar *vhc_pcicfg_rebar(const struct vhc_pcicfg *c, unsigned bar) {
        for (size_t i = 0; i < c->n_rebar; i++)
                if (c->rebar[i].bar == bar)
                        return &c->rebar[i];
        return NULL;
}

/* ------------------------------------------------------------------ resource */

static bool parse_hex(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;
        size_t n = 0;

        if (s[0] != '0' || s[1] != 'x')
                return false;
        for (s += 2; isxdigit((unsigned char)*s); s++, n++) {
                if (n == 16)
                        return false;
                v = v << 4 |
                    (uint64_t)(isdigit((unsigned char)*s) ? *s - '0'
                                                          : (tolower((unsigned char)*s) - 'a' + 10));
        }
        if (n == 0)
                return false;
        *p = s;
        *ret = v;
        return true;
}

int vhc_pci_resources_parse(const char *text, size_t len, struct vhc_pci_resources *ret,
                            unsigned *ret_line) {
        struct vhc_pci_resources r = {};
        const char *p = text, *end = text + len;
        unsigned line = 0;

        *ret_line = 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                uint64_t v[3];
                const char *q;
                char buf[80];
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

                line++;
                if (n >= sizeof(buf))
                        goto bad;
                memcpy(buf, p, n);
                buf[n] = '\0';
                q = buf;
                for (int i = 0; i < 3; i++) {
                        if (i > 0 && *q++ != ' ')
                                goto bad;
                        if (!parse_hex(&q, &v[i]))
                                goto bad;
                }
                if (*q != '\0' || v[0] > v[1])
                        goto bad;
                /* An unused resource is all zeros; a used one has flags. */
                if (line <= VHC_PCI_N_BARS && v[2] != 0 && (v[1] > v[0] || v[0] != 0)) {
                        struct vhc_pci_bar *b = &r.bars[r.n++];

                        *b = (struct vhc_pci_bar){
                                .index = line - 1,
                                .start = v[0],
                                .size = v[1] - v[0] + 1,
                                .flags = v[2],
                                .io = v[2] & VHC_IORESOURCE_IO,
                                .mem64 = (v[2] & VHC_IORESOURCE_MEM) && (v[2] & VHC_IORESOURCE_MEM_64),
                                .prefetch = v[2] & VHC_IORESOURCE_PREFETCH,
                        };
                } else if (line == VHC_PCI_N_BARS + 1 && v[2] != 0 && v[1] > v[0])
                        r.rom_size = v[1] - v[0] + 1;
                p = nl ? nl + 1 : end;
        }
        if (line < VHC_PCI_N_BARS) {
                *ret_line = line + 1;
                return -EINVAL;
        }
        *ret = r;
        return 0;
bad:
        *ret_line = line;
        return -EINVAL;
}

/* -------------------------------------------------------------- reset_method */

static const char *const method_names[_VHC_RESET_MAX] = {
        [VHC_RESET_DEVICE_SPECIFIC] = "device_specific",
        [VHC_RESET_ACPI] = "acpi",
        [VHC_RESET_FLR] = "flr",
        [VHC_RESET_AF_FLR] = "af_flr",
        [VHC_RESET_PM] = "pm",
        [VHC_RESET_BUS] = "bus",
        [VHC_RESET_CXL_BUS] = "cxl_bus",
        [VHC_RESET_OTHER] = "other",
};

const char *vhc_reset_method_name(enum vhc_reset_method m) {
        return (unsigned)m < _VHC_RESET_MAX ? method_names[m] : "other";
}

int vhc_reset_methods_parse(const char *text, struct vhc_reset_methods *ret) {
        struct vhc_reset_methods r = {};
        const char *p = text;

        for (;;) {
                size_t n;

                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
                if (n == 0 || n >= sizeof(r.name[0]) || !strchr(" \t\n", p[n]) || r.n == ELEMENTSOF(r.m))
                        return -EINVAL;
                memcpy(r.name[r.n], p, n);
                r.name[r.n][n] = '\0';
                r.m[r.n] = VHC_RESET_OTHER;
                for (unsigned m = 0; m < VHC_RESET_OTHER; m++)
                        if (streq(r.name[r.n], method_names[m]))
                                r.m[r.n] = m;
                r.n++;
                p += n;
        }
        *ret = r;
        return 0;
}

bool vhc_reset_methods_has(const struct vhc_reset_methods *r, enum vhc_reset_method m) {
        for (size_t i = 0; i < r->n; i++)
                if (r->m[i] == m)
                        return true;
        return false;
}
