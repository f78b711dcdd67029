/* SPDX-License-Identifier: MIT */
/* Properties of the qemu.conf cgroup_device_acl reader on arbitrary text;
 * abort() on a violation. */
#include <stdint.h>

#include "lookingglass.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *)data, size), *again = NULL;
        _cleanup_strv_free_ char **acl = NULL, **acl2 = NULL;
        int r;

        if (!s)
                return 0;
        r = vhc_qemu_conf_acl(s, &acl);
        if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOMEM)
                abort();
        if (r < 0)
                return 0;
        /* Strings hold neither quotes nor newlines; put back as one list, the
         * same list comes out. */
        for (size_t i = 0; acl[i]; i++)
                if (strchr(acl[i], '"') || strchr(acl[i], '\n'))
                        abort();
        again = strdup("cgroup_device_acl = [");
        for (size_t i = 0; again && acl[i]; i++) {
                char *t = strprintf("%s%s\"%s\"", again, i ? ", " : " ", acl[i]);

                free(again);
                again = t;
        }
        if (!again)
                return 0;
        {
                char *t = strprintf("%s ]\n", again);

                free(again);
                again = t;
        }
        if (!again || vhc_qemu_conf_acl(again, &acl2) == -ENOMEM)
                return 0;
        if (!acl2 || strv_length(acl2) != strv_length(acl))
                abort();
        for (size_t i = 0; acl[i]; i++)
                if (!streq(acl[i], acl2[i]))
                        abort();
        return 0;
}
