/* SPDX-License-Identifier: MIT */
/* Properties of the parsers of a PCI device's config, resource and
 * reset_method attributes on arbitrary bytes; abort() on a violation. The
 * same input goes to all three. */
#include <stdint.h>

#include "pciattr.h"

static void check_cfg(const uint8_t *data, size_t size) {
        struct vhc_pcicfg c;
        int r = vhc_pcicfg_parse(data, size, &c);

        if (r < 0) {
                if (r != -EINVAL || (size >= 64 && data[0] + data[1] != 0x1fe && data[2] + data[3] != 0x1fe))
                        abort();
                return;
        }
        if (size < 64 || c.len != size)
                abort();
        if (!c.caps_read && (c.pcie || c.pm || c.flr || c.af_flr))
                abort();
        if (!c.pcie && c.flr)
                abort();
        if ((!c.ext_read || !c.pcie) && c.n_rebar)
                abort();
        if (c.n_rebar > VHC_PCI_N_BARS)
                abort();
        for (size_t i = 0; i < c.n_rebar; i++) {
                if (c.rebar[i].bar >= VHC_PCI_N_BARS || c.rebar[i].current > 63)
                        abort();
                if (vhc_pcicfg_rebar(&c, c.rebar[i].bar) != &c.rebar[i])
                        abort();
        }
}

static void check_resources(const char *text, size_t size) {
        struct vhc_pci_resources r;
        unsigned line = 0;
        size_t lines = 0;

        for (size_t i = 0; i < size; i++)
                lines += text[i] == '\n';
        if (vhc_pci_resources_parse(text, size, &r, &line) < 0) {
                if (line == 0 || line > lines + 2)
                        abort();
                return;
        }
        if (r.n > VHC_PCI_N_BARS)
                abort();
        for (size_t i = 0; i < r.n; i++) {
                if (r.bars[i].index >= VHC_PCI_N_BARS || (i > 0 && r.bars[i].index <= r.bars[i - 1].index))
                        abort();
                if (r.bars[i].size == 0 || (r.bars[i].mem64 && !(r.bars[i].flags & VHC_IORESOURCE_MEM)))
                        abort();
        }
}

static void check_reset(const char *text) {
        struct vhc_reset_methods m;

        if (vhc_reset_methods_parse(text, &m) < 0)
                return;
        if (m.n > ELEMENTSOF(m.m))
                abort();
        for (size_t i = 0; i < m.n; i++) {
                if (!m.name[i][0] ||
                    strspn(m.name[i], "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(m.name[i]))
                        abort();
                if (!strstr(text, m.name[i]))
                        abort();
                if (m.m[i] != VHC_RESET_OTHER && !streq(vhc_reset_method_name(m.m[i]), m.name[i]))
                        abort();
                if (!vhc_reset_methods_has(&m, m.m[i]))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = strndup((const char *)data, size);

        check_cfg(data, size);
        if (!text)
                return 0;
        check_resources(text, strlen(text));
        check_reset(text);
        return 0;
}
