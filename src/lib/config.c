/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <ini.h>

#include "config.h"
#include "domxml.h"
#include "fileio.h"
#include "strv.h"
#include "topology.h"

void vhc_config_init(struct vhc_config *c) {
        *c = (struct vhc_config){
                .iommu = true,
                .isolate = VHC_ISOLATE_AUTO,
                .memlock = VHC_MEMLOCK_AUTO,
                /* virt-guest-xml --looking-glass's default */
                .looking_glass_width = 2560,
                .looking_glass_height = 1440,
        };
}

void vhc_config_done(struct vhc_config *c) {
        c->isolate_list = strv_free(c->isolate_list);
}

int vhc_parse_size(const char *s, uint64_t *ret) {
        unsigned long long v;
        uint64_t mult = 1;
        char *end;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        switch (*end) {
        case '\0':
                break;
        case 'K': case 'k':
                mult = UINT64_C(1) << 10;
                break;
        case 'M': case 'm':
                mult = UINT64_C(1) << 20;
                break;
        case 'G': case 'g':
                mult = UINT64_C(1) << 30;
                break;
        case 'T': case 't':
                mult = UINT64_C(1) << 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end && end[1] != '\0' && !(streq(end + 1, "iB") || streq(end + 1, "B")))
                return -EINVAL;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

int vhc_parse_pci_address(const char *s, char buf[static 13]) {
        unsigned dom = 0, bus, dev, fn;
        int n = 0;

        if (strlen(s) == 12) {
                if (sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) != 4 || n != 12)
                        return -EINVAL;
        } else if (strlen(s) == 7) {
                if (sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) != 3 || n != 7)
                        return -EINVAL;
        } else
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                        return -EINVAL;
        if (dev > 0x1f || fn > 7)
                return -EINVAL;
        snprintf(buf, 13, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
        return 0;
}

struct parse_ctx {
        struct vhc_config *c;
        struct vhc_err *e;
        const char *name;
        const char *text; /* for the string reader */
        unsigned line;
        unsigned err_line;
        char err_msg[512];
};

_printf_(2, 3) static int fail(struct parse_ctx *p, const char *fmt, ...) {
        va_list ap;

        if (p->err_line == 0) {
                p->err_line = p->line;
                va_start(ap, fmt);
                vsnprintf(p->err_msg, sizeof(p->err_msg), fmt, ap);
                va_end(ap);
        }
        return 0;
}

static int set_isolate(struct parse_ctx *p, const char *value) {
        _cleanup_strv_free_ char **words = NULL, **list = NULL;

        if (streq(value, "auto") || streq(value, "none")) {
                p->c->isolate = streq(value, "auto") ? VHC_ISOLATE_AUTO : VHC_ISOLATE_NONE;
                p->c->isolate_list = strv_free(p->c->isolate_list);
                return 1;
        }
        if (strv_split_ws(value, &words) < 0)
                return fail(p, "out of memory");
        if (!words[0])
                return fail(p, "isolate needs a value: auto, none or PCI addresses");
        list = calloc(1, sizeof(char *));
        if (!list)
                return fail(p, "out of memory");
        for (char **w = words; *w; w++) {
                char addr[13];

                if (vhc_parse_pci_address(*w, addr) < 0)
                        return fail(p, "isolate: '%s' is not auto, none or a PCI address like 0000:01:00.0", *w);
                if (!strv_contains(list, addr) && strv_push_dup(&list, addr) < 0)
                        return fail(p, "out of memory");
        }
        strv_free(p->c->isolate_list);
        p->c->isolate_list = TAKE_PTR(list);
        p->c->isolate = VHC_ISOLATE_LIST;
        return 1;
}

static int set_memlock(struct parse_ctx *p, const char *value) {
        uint64_t v;

        if (streq(value, "auto"))
                p->c->memlock = VHC_MEMLOCK_AUTO;
        else if (streq(value, "unlimited"))
                p->c->memlock = VHC_MEMLOCK_UNLIMITED;
        else if (vhc_parse_size(value, &v) == 0 && v >= (UINT64_C(1) << 20)) {
                p->c->memlock = VHC_MEMLOCK_SIZE;
                p->c->memlock_bytes = v;
        } else
                return fail(p, "memlock: '%s' is not auto, unlimited or a size of 1M or more like 10G", value);
        return 1;
}

static int set_hugepages(struct parse_ctx *p, const char *value) {
        uint64_t v;

        if (streq(value, "none"))
                v = 0;
        else if (vhc_parse_size(value, &v) < 0 || v < (UINT64_C(2) << 20))
                return fail(p, "hugepages: '%s' is not none or a size of 2M or more like 16G", value);
        p->c->hugepages_bytes = v;
        p->c->hugepages_line = p->line;
        return 1;
}

static int set_cpu_governor(struct parse_ctx *p, const char *value) {
        if (streq(value, "keep"))
                p->c->cpu_governor = VHC_GOVERNOR_KEEP;
        else if (streq(value, "performance"))
                p->c->cpu_governor = VHC_GOVERNOR_PERFORMANCE;
        else
                return fail(p, "cpu_governor: '%s' is not keep or performance", value);
        return 1;
}

static int set_isolate_cpus(struct parse_ctx *p, const char *value) {
        _cleanup_free_ unsigned *cpus = NULL;
        unsigned n = 0;

        p->c->isolate_cpus_line = p->line;
        p->c->isolate_cpus_list[0] = '\0';
        if (streq(value, "none") || streq(value, "auto")) {
                p->c->isolate_cpus = streq(value, "none") ? VHC_ISOLATE_CPUS_NONE : VHC_ISOLATE_CPUS_AUTO;
                return 1;
        }
        /* Which CPUs exist is known only when applying, on the machine. */
        if (strlen(value) >= sizeof(p->c->isolate_cpus_list) || strchr(value, '\n') ||
            vhc_cpulist_parse(value, &cpus, &n) < 0 || n == 0)
                return fail(p, "isolate_cpus: '%s' is not none, auto or a CPU list like 2-7,10-15", value);
        snprintf(p->c->isolate_cpus_list, sizeof(p->c->isolate_cpus_list), "%s", value);
        p->c->isolate_cpus = VHC_ISOLATE_CPUS_LIST;
        return 1;
}

/* A user name as useradd(8) takes it (and tmpfiles.d's field needs no quoting). */
static bool valid_user_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 32 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("_-.", s[i]) && !(s[i] == '$' && i == n - 1))
                        return false;
        return true;
}

static int set_looking_glass(struct parse_ctx *p, const char *key, const char *value) {
        struct vhc_config *c = p->c;

        if (streq(key, "looking_glass")) {
                if (!streq(value, "yes") && !streq(value, "no"))
                        return fail(p, "looking_glass: '%s' is not yes or no", value);
                c->looking_glass = streq(value, "yes");
                c->looking_glass_line = p->line;
        } else if (streq(key, "looking_glass_user")) {
                if (value[0] && !valid_user_name(value))
                        return fail(p, "looking_glass_user: '%s' is not a user name", value);
                snprintf(c->looking_glass_user, sizeof(c->looking_glass_user), "%s", value);
                c->looking_glass_user_line = p->line;
        } else if (vhc_looking_glass_parse_resolution(value, &c->looking_glass_width,
                                                      &c->looking_glass_height) < 0)
                return fail(p, "looking_glass_resolution: '%s' is not a resolution like 2560x1440", value);
        return 1;
}

/* On one line: tests/cli/test-manpages.sh reads the list from here. */
/* clang-format off */
#define KNOWN_KEYS "known: iommu, isolate, memlock, hugepages, cpu_governor, isolate_cpus, vendor_reset, looking_glass, looking_glass_user, looking_glass_resolution"
/* clang-format on */

static int handler(void *user, const char *section, const char *key, const char *value) {
        struct parse_ctx *p = user;

        if (section[0])
                return fail(p, "sections like [%s] are not used in this file", section);
        if (streq(key, "iommu")) {
                if (streq(value, "yes") || streq(value, "no"))
                        p->c->iommu = streq(value, "yes");
                else
                        return fail(p, "iommu: '%s' is not yes or no", value);
                return 1;
        }
        if (streq(key, "isolate"))
                return set_isolate(p, value);
        if (streq(key, "memlock"))
                return set_memlock(p, value);
        if (streq(key, "hugepages"))
                return set_hugepages(p, value);
        if (streq(key, "cpu_governor"))
                return set_cpu_governor(p, value);
        if (streq(key, "isolate_cpus"))
                return set_isolate_cpus(p, value);
        if (streq(key, "vendor_reset")) {
                if (!streq(value, "yes") && !streq(value, "no"))
                        return fail(p, "vendor_reset: '%s' is not yes or no", value);
                p->c->vendor_reset = streq(value, "yes");
                return 1;
        }
        if (streq(key, "looking_glass") || streq(key, "looking_glass_user") ||
            streq(key, "looking_glass_resolution"))
                return set_looking_glass(p, key, value);
        return fail(p, "unknown key '%s' (" KNOWN_KEYS ")", key);
}

/* inih's reader, counting lines so the handler knows where it is. */
static char *string_reader(char *str, int num, void *stream) {
        struct parse_ctx *p = stream;
        size_t n;

        if (!*p->text)
                return NULL;
        n = strcspn(p->text, "\n");
        if (p->text[n] == '\n')
                n++;
        if (n > (size_t)num - 1) /* not reached: lines are checked first */
                return NULL;
        memcpy(str, p->text, n);
        str[n] = '\0';
        p->text += n;
        if (n > 0 && str[n - 1] == '\n')
                p->line++;
        else if (!*p->text)
                p->line++;
        return str;
}

int vhc_config_load_string(struct vhc_config *c, const char *text, const char *name,
                           struct vhc_err *e) {
        struct parse_ctx p = { .c = c, .e = e, .name = name, .text = text };
        int r;

        for (const char *l = text; *l;) {
                size_t n = strcspn(l, "\n");

                p.line++;
                /* inih's default line buffer holds 200 bytes with "\r\n\0". */
                if (n > 196)
                        return vhc_err_set(e, -EINVAL, name, p.line, "line longer than 196 bytes");
                /* inih would join an indented line to the value above it
                 * (its multi-line mode) and replace that value silently. */
                if (n > 0 && (l[0] == ' ' || l[0] == '\t')) {
                        size_t k = strspn(l, " \t\r");

                        if (k < n && l[k] != '#' && l[k] != ';')
                                return vhc_err_set(e, -EINVAL, name, p.line,
                                                   "an indented line: write each 'key = value' at the start of a "
                                                   "line of its own (a value continued on the next line is not "
                                                   "supported)");
                }
                l += n + (l[n] == '\n');
        }
        p.line = 0;
        snprintf(c->source, sizeof(c->source), "%s", strempty(name));
        r = ini_parse_stream(string_reader, &p, handler, &p);
        if (r == 0 && p.err_line == 0) {
                if (c->looking_glass && !c->looking_glass_user[0])
                        return vhc_err_set(
                                e, -EINVAL, name, c->looking_glass_line,
                                "looking_glass = yes needs looking_glass_user = NAME, the user (a member "
                                "of group kvm) who runs the Looking Glass client");
                return 0;
        }
        if (p.err_line && (r <= 0 || (unsigned)r >= p.err_line))
                return vhc_err_set(e, -EINVAL, name, p.err_line, "%s", p.err_msg);
        return vhc_err_set(e, -EINVAL, name, r > 0 ? (unsigned)r : 0,
                           "expected 'key = value' or a '#' comment");
}

int vhc_config_err(const struct vhc_config *c, struct vhc_err *e, unsigned line, const char *fmt, ...) {
        char msg[sizeof(e->msg)];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return vhc_err_set(e, -EINVAL, c->source[0] && line ? c->source : NULL, line, "%s", msg);
}

int vhc_config_load(struct vhc_config *c, const char *path, struct vhc_err *e) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = vhc_read_file(path, 1 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot read: %s", strerror(-r));
        if (strlen(text) != len)
                return vhc_err_set(e, -EINVAL, path, 0, "contains a NUL byte");
        return vhc_config_load_string(c, text, path, e);
}

int vhc_config_load_named(struct vhc_config *c, const char *path, struct vhc_err *e) {
        struct stat st;

        /* A file the user named that is not there is a typo, not "use the
         * defaults": only the default path may be absent. */
        if (stat(path, &st) < 0 && errno == ENOENT)
                return vhc_err_set(e, -ENOENT, path, 0,
                                   "no such file (named by --config); check the path, or leave --config out "
                                   "to read the default config");
        return vhc_config_load(c, path, e);
}
