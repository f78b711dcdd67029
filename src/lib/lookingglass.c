/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdint.h>

#include "lookingglass.h"
#include "strv.h"

static const char *skip_space(const char *p) {
        for (;;) {
                while (*p && isspace((unsigned char)*p))
                        p++;
                if (*p != '#')
                        return p;
                p += strcspn(p, "\n");
        }
}

/* A double-quoted string of virconf at p (no escapes: virConfParseString
 * reads up to the next quote) into *ret; the end in *end. */
static int parse_string(const char *p, char **ret, const char **end) {
        const char *q;

        if (*p != '"')
                return -EINVAL;
        q = strchr(p + 1, '"');
        if (!q || memchr(p + 1, '\n', q - p - 1))
                return -EINVAL;
        *ret = strndup(p + 1, q - p - 1);
        if (!*ret)
                return -ENOMEM;
        *end = q + 1;
        return 0;
}

static int parse_list(const char *p, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return -ENOMEM;
        p = skip_space(p);
        if (*p != '[')
                return -EINVAL;
        p = skip_space(p + 1);
        while (*p != ']') {
                char *s;

                r = parse_string(p, &s, &p);
                if (r < 0)
                        return r;
                r = strv_consume(&l, s);
                if (r < 0)
                        return r;
                p = skip_space(p);
                if (*p == ',')
                        p = skip_space(p + 1);
                else if (*p != ']')
                        return -EINVAL;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int vhc_qemu_conf_acl(const char *text, char ***ret) {
        static const char key[] = "cgroup_device_acl";

        for (const char *l = text; *l;) {
                const char *p = l;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (startswith(p, key) &&
                    !(isalnum((unsigned char)p[strlen(key)]) || p[strlen(key)] == '_')) {
                        p += strlen(key);
                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (*p == '=')
                                return parse_list(p + 1, ret);
                }
                /* A list's later lines hold strings, never a name at their start
                 * that could be taken for this one. */
                l += strcspn(l, "\n");
                l += *l == '\n';
        }
        return -ENOENT;
}

char *vhc_qemu_conf_acl_line(const char *kvmfr_abs) {
        return strprintf(
                "cgroup_device_acl = [ \"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", "
                "\"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/userfaultfd\", \"%s\" ]",
                kvmfr_abs);
}

/* Field n (0-based) of the line of text whose field 0 is name, colon-separated; NULL if none. */
static char *colon_field(const char *text, const char *name, unsigned n) {
        size_t len = strlen(name);

        for (const char *l = text; *l;) {
                size_t ll = strcspn(l, "\n");

                if (ll > len && strncmp(l, name, len) == 0 && l[len] == ':') {
                        const char *f = l;

                        for (unsigned i = 0; i < n && f; i++) {
                                f = memchr(f, ':', l + ll - f);
                                f = f ? f + 1 : NULL;
                        }
                        if (f)
                                return strndup(f, strcspn(f, ":\n"));
                        return NULL;
                }
                l += ll + (l[ll] == '\n');
        }
        return NULL;
}

int vhc_user_in_group(const char *passwd_text, const char *group_text, const char *user, const char *group) {
        _cleanup_free_ char *ugid = colon_field(passwd_text, user, 3),
                            *ggid = colon_field(group_text, group, 2),
                            *members = colon_field(group_text, group, 3);
        _cleanup_strv_free_ char **m = NULL;

        if (!ugid)
                return -ENOENT;
        if (!ggid)
                return -ESRCH;
        if (streq(ugid, ggid))
                return 1;
        for (char *c = members; c && *c; c++)
                if (*c == ',')
                        *c = ' ';
        if (members && strv_split_ws(members, &m) >= 0 && strv_contains(m, user))
                return 1;
        return 0;
}

static int parse_id(const char *s, unsigned long *ret) {
        char *end;

        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        *ret = strtoul(s, &end, 10);
        return errno || *end || *ret > UINT32_MAX - 1 ? -EINVAL : 0;
}

int vhc_user_group_ids(const char *passwd_text, const char *group_text, const char *user, const char *group,
                       uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_free_ char *uid = colon_field(passwd_text, user, 2),
                            *gid = colon_field(group_text, group, 2);
        unsigned long u, g;

        if (parse_id(uid, &u) < 0)
                return -ENOENT;
        if (parse_id(gid, &g) < 0)
                return -ESRCH;
        *ret_uid = (uid_t)u;
        *ret_gid = (gid_t)g;
        return 0;
}
