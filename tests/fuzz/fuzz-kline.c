/* SPDX-License-Identifier: MIT */
/* BLS entries and /etc/kernel/cmdline (boot/kline.h) on arbitrary bytes. The
 * first byte picks the format (BLS for GRUB, BLS for systemd-boot, cmdline).
 * What parses must take the product's arguments through the owned-argument
 * engine such that: they are among the tokens afterwards, applying again
 * changes nothing, the applied text parses again with the same tokens, and
 * reverting the records gives back the input bytes; no token that turns the
 * IOMMU off is left. abort() on a violation. */
#include <stdint.h>

#include "boot/kline.h"
#include "boot/store.h"
#include "kargs.h"
#include "strv.h"

static char iommu[] = "iommu=pt", intel[] = "intel_iommu=on";
static char *wanted[] = {iommu, intel, NULL};
/* The user's arguments that turn the IOMMU off are taken out too. */
static char iommu_off[] = "iommu=off", amd_off[] = "amd_iommu=off";
static char *off[] = {iommu_off, amd_off, NULL};

static const struct vhc_store fake = {.name = "kernel-cmdline"};

static int open_text(const char *text, size_t len, enum vhc_kline_format fmt, bool first,
                     struct vhc_store_file *f) {
        struct vhc_kline *k;
        int r = vhc_kline_parse(text, len, fmt, first, "fuzz", &k, NULL);

        if (r < 0)
                return r;
        *f = (struct vhc_store_file){};
        vhc_store_kline_target(f, &fake, "/fuzz", fmt == VHC_KLINE_BLS ? "options" : "cmdline", k);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vhc_store_file_done) struct vhc_store_file f = {}, g = {};
        _cleanup_strv_free_ char **tokens = NULL, **again = NULL;
        _cleanup_free_ char *applied = NULL;
        struct vhc_state none, after, after2;
        enum vhc_kline_format fmt;
        const char *text = (const char *)data + 1, *t;
        size_t len, alen;
        bool first;
        int r;

        if (size < 1)
                return 0;
        fmt = data[0] % 3 == 2 ? VHC_KLINE_CMDLINE : VHC_KLINE_BLS;
        first = data[0] % 3 == 0;
        len = size - 1;
        if (open_text(text, len, fmt, first, &f) < 0)
                return 0;
        vhc_state_init(&none);
        vhc_state_init(&after);
        vhc_state_init(&after2);
        r = vhc_kargs_apply(&f.target, wanted, off, &none, &after, NULL);
        if (r == -ENOMEM)
                abort();
        if (r < 0)
                goto out; /* refused (a token it cannot edit safely): nothing to check */
        t = f.text(f.obj, &alen);
        applied = malloc(alen + 1);
        if (!applied)
                abort();
        memcpy(applied, t, alen);
        applied[alen] = '\0';
        if (vhc_kline_tokens(f.obj, &tokens) < 0)
                abort();
        for (size_t i = 0; wanted[i]; i++)
                if (!strv_contains(tokens, wanted[i]))
                        abort();
        for (size_t i = 0; tokens[i]; i++)
                if (vhc_kargs_matches_off(tokens[i], off))
                        abort();

        /* The applied text parses again, to the same tokens, and a second apply changes nothing. */
        if (open_text(applied, alen, fmt, first, &g) < 0)
                abort();
        if (vhc_kline_tokens(g.obj, &again) < 0 || strv_length(again) != strv_length(tokens))
                abort();
        for (size_t i = 0; tokens[i]; i++)
                if (!streq(tokens[i], again[i]))
                        abort();
        if (vhc_kargs_apply(&g.target, wanted, off, &after, &after2, NULL) < 0)
                abort();
        t = g.text(g.obj, &len);
        if (len != alen || memcmp(t, applied, alen) != 0)
                abort();

        /* Reverting the records gives back the input. */
        if (vhc_kargs_revert(&f.target, &after, NULL) < 0)
                abort();
        t = f.text(f.obj, &len);
        if (len != size - 1 || memcmp(t, text, len) != 0)
                abort();
out:
        vhc_state_done(&after);
        vhc_state_done(&after2);
        return 0;
}
