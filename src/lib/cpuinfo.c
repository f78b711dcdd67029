/* SPDX-License-Identifier: MIT */
#include "cpuinfo.h"
#include "fileio.h"

static bool has_flag(const char *flags, const char *flag) {
        size_t n = strlen(flag);

        for (const char *p = flags; (p = strstr(p, flag)); p += n)
                if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
                        return true;
        return false;
}

int vhc_cpuinfo_parse(const char *text, struct vhc_cpuinfo *ret) {
        struct vhc_cpuinfo c = {};
        bool first_done = false;

        for (const char *l = text; *l;) {
                size_t n = strcspn(l, "\n");
                _cleanup_free_ char *line = strndup(l, n);
                char *colon, *key, *val;

                if (!line)
                        return -ENOMEM;
                l += n + (l[n] == '\n');
                colon = strchr(line, ':');
                if (!colon) {
                        if (c.n_cpus > 0)
                                first_done = true;
                        continue;
                }
                *colon = '\0';
                key = line;
                for (char *e = colon - 1; e >= key && (*e == ' ' || *e == '\t'); e--)
                        *e = '\0';
                val = colon + 1 + strspn(colon + 1, " \t");
                if (streq(key, "processor"))
                        c.n_cpus++;
                if (first_done)
                        continue;
                if (streq(key, "vendor_id"))
                        snprintf(c.vendor_id, sizeof(c.vendor_id), "%s", val);
                else if (streq(key, "model name"))
                        snprintf(c.model_name, sizeof(c.model_name), "%s", val);
                else if (streq(key, "cpu family"))
                        c.family = (unsigned)strtoul(val, NULL, 10);
                else if (streq(key, "model"))
                        c.model = (unsigned)strtoul(val, NULL, 10);
                else if (streq(key, "address sizes"))
                        /* "39 bits physical, 48 bits virtual" */
                        c.phys_bits = (unsigned)strtoul(val, NULL, 10);
                else if (streq(key, "flags")) {
                        c.vmx = has_flag(val, "vmx");
                        c.svm = has_flag(val, "svm");
                        c.pdpe1gb = has_flag(val, "pdpe1gb");
                }
        }
        if (!c.vendor_id[0])
                return -ENODATA;
        c.vendor = streq(c.vendor_id, "GenuineIntel")                                            ? VHC_CPU_INTEL
                   : streq(c.vendor_id, "AuthenticAMD") || streq(c.vendor_id, "HygonGenuine") ? VHC_CPU_AMD
                                                                                               : VHC_CPU_OTHER;
        *ret = c;
        return 0;
}

int vhc_cpuinfo_read(const struct vhc_root *r, struct vhc_cpuinfo *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_PROC_CPUINFO), *text = NULL;
        int k;

        if (!path)
                return -ENOMEM;
        k = vhc_read_file(path, 16 << 20, &text, NULL);
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read: %s", strerror(-k));
        k = vhc_cpuinfo_parse(text, ret);
        if (k == -ENODATA)
                return vhc_err_set(e, -EINVAL, path, 0, "no vendor_id line: cannot tell Intel from AMD");
        return k;
}
