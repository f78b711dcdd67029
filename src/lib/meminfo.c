/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "fileio.h"
#include "meminfo.h"

int vhc_meminfo_parse(const char *text, struct vhc_meminfo *ret) {
        struct vhc_meminfo m = {};
        bool have_total = false;

        for (const char *l = text; *l;) {
                char key[64], unit[8] = "";
                uint64_t v;
                int n = sscanf(l, "%63[^:]: %" SCNu64 " %7s", key, &v, unit);

                if (n >= 2) {
                        uint64_t mult = streq(unit, "kB") ? 1024 : 1;

                        if (streq(key, "MemTotal")) {
                                m.total = v * mult;
                                have_total = true;
                        } else if (streq(key, "HugePages_Total"))
                                m.hugepages_total = v;
                        else if (streq(key, "HugePages_Free"))
                                m.hugepages_free = v;
                        else if (streq(key, "Hugepagesize"))
                                m.hugepage_size = v * mult;
                }
                l += strcspn(l, "\n");
                l += *l == '\n';
        }
        if (!have_total)
                return -ENODATA;
        *ret = m;
        return 0;
}

int vhc_meminfo_read(const struct vhc_root *r, struct vhc_meminfo *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_PROC_MEMINFO), *text = NULL;
        int k;

        if (!path)
                return -ENOMEM;
        k = vhc_read_file(path, 1 << 20, &text, NULL);
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read: %s", strerror(-k));
        k = vhc_meminfo_parse(text, ret);
        if (k == -ENODATA)
                return vhc_err_set(e, -EINVAL, path, 0, "no MemTotal line");
        return k;
}
