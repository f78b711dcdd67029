/* SPDX-License-Identifier: MIT */
/* virt-guest-xml patch on arbitrary bytes: the first byte chooses the edits
 * (CPU vendor, NVIDIA, huge pages, sound, Looking Glass, a GPU to add with
 * its ROM file and the 64-bit MMIO window it needs), the
 * rest is the input. What patches must patch again to the same bytes (the
 * documented idempotence), and an input with one domain that patch writes
 * must come out once, whole. The Looking Glass resolution and libvirt
 * version parsers, and the text and listen address checks, get the same
 * bytes. abort() on a violation. */
#include <stdint.h>

#include "domxml.h"

static const struct vhc_guest_hostdev gpu[] = {{0, 1, 0, 0}, {0, 1, 0, 1}};
static const struct vhc_guest_rom rom = {{0, 1, 0, 0}, "/usr/share/vgabios/gpu.rom"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vhc_domxml_edits ed = {.audio_dir = "/run/user/1000"};
        struct vhc_domxml_result res = {};
        char *out = NULL, *again = NULL, *text;
        size_t out_len = 0, again_len = 0;
        struct vhc_err e = {};
        unsigned w, h, v;
        uint8_t k;

        if (size < 1 || size > 1 << 16)
                return 0;
        k = data[0];
        ed.vendor = k & 1 ? VHC_CPU_INTEL : VHC_CPU_AMD;
        ed.nvidia = (k >> 1 & 3) == 3 ? -1 : (k >> 1 & 1);
        ed.nvidia_devs = gpu;
        ed.n_nvidia_devs = 2;
        ed.hugepages = k & 8;
        ed.audio = (enum vhc_audio)(k >> 4 & 3);
        ed.lg.size_mib = k & 64 ? 64 : 0;
        ed.lg.kvmfr = k & 32;
        if (k & 128) {
                ed.hostdevs = gpu;
                ed.n_hostdevs = 2;
                ed.roms = &rom;
                ed.n_roms = 1;
                ed.mmio64_mib = 65536;
        }

        text = strndup((const char *)data + 1, size - 1);
        if (!text)
                return 0;
        (void)vhc_looking_glass_parse_resolution(text, &w, &h);
        (void)vhc_libvirt_version_parse(text, &v);
        (void)vhc_domxml_string_ok(text);
        (void)vhc_domxml_listen_ok(text);

        if (vhc_domxml_patch((const char *)data + 1, size - 1, "<fuzz>", &ed, &out, &out_len, &res, &e) ==
            0) {
                struct vhc_domxml_result res2 = {};

                if (strlen(out) != out_len)
                        abort();
                if (vhc_domxml_patch(out, out_len, "<fuzz>", &ed, &again, &again_len, &res2, &e) != 0)
                        abort();
                if (again_len != out_len || memcmp(out, again, out_len) != 0)
                        abort();
                if (res2.n_domains != 1)
                        abort();
                vhc_domxml_result_done(&res2);
        }
        vhc_domxml_result_done(&res);
        free(out);
        free(again);
        free(text);
        return 0;
}
