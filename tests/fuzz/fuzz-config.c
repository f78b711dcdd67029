/* SPDX-License-Identifier: MIT */
/* Properties of the config parser on arbitrary text; abort() on a violation. */
#include <stdint.h>

#include "config.h"
#include "strv.h"

static unsigned n_lines(const char *s) {
        unsigned n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n + 1;
}

static bool same_config(const struct vhc_config *a, const struct vhc_config *b) {
        return a->iommu == b->iommu && a->isolate == b->isolate && a->memlock == b->memlock &&
               a->memlock_bytes == b->memlock_bytes && a->hugepages_bytes == b->hugepages_bytes &&
               a->cpu_governor == b->cpu_governor && a->isolate_cpus == b->isolate_cpus &&
               streq(a->isolate_cpus_list, b->isolate_cpus_list) && a->vendor_reset == b->vendor_reset &&
               strv_length(a->isolate_list) == strv_length(b->isolate_list);
}

/* One load: 0, or -EINVAL with the name and a line of the text, and a message. */
static int load(const char *text, struct vhc_config *c, struct vhc_err *e) {
        int r;

        vhc_config_init(c);
        *e = (struct vhc_err){};
        r = vhc_config_load_string(c, text, "fuzz.conf", e);
        if (r < 0 && (r != -EINVAL || !streq(e->file, "fuzz.conf") || e->line > n_lines(text) || !e->msg[0]))
                abort();
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *)data, size), *commented = NULL, *indented = NULL;
        struct vhc_config a, b;
        struct vhc_err e, e2;
        int r, k;

        if (!s)
                return 0;
        r = load(s, &a, &e);
        /* The same text gives the same answer. */
        k = load(s, &b, &e2);
        if (k != r || (r == 0 && !same_config(&a, &b)) ||
            (r < 0 && (e.line != e2.line || !streq(e.msg, e2.msg))))
                abort();
        vhc_config_done(&b);

        /* A comment line in front changes nothing but the line numbers. */
        if (asprintf(&commented, "# fuzz\n%s", s) < 0) {
                vhc_config_done(&a);
                return 0;
        }
        k = load(commented, &b, &e2);
        if (k != r || (r == 0 && !same_config(&a, &b)) || (r < 0 && e.line && e2.line != e.line + 1))
                abort();
        vhc_config_done(&b);

        /* An indented key after a valid file is never a continuation taken silently. */
        if (r == 0 && (!*s || s[strlen(s) - 1] == '\n') && asprintf(&indented, "%s  iommu = no\n", s) >= 0) {
                k = load(indented, &b, &e2);
                if (k != -EINVAL || e2.line != n_lines(s))
                        abort();
                vhc_config_done(&b);
        }
        vhc_config_done(&a);
        return 0;
}
