/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "cmdline.h"
#include "fileio.h"
#include "managed.h"
#include "state.h"
#include "strv.h"

#define STATE_VERSION 2

void vhc_state_init(struct vhc_state *s) {
        *s = (struct vhc_state){};
}

void vhc_state_done(struct vhc_state *s) {
        for (size_t i = 0; i < s->n_kargs; i++) {
                free(s->kargs[i].store);
                free(s->kargs[i].file);
                free(s->kargs[i].var);
                free(s->kargs[i].arg);
                free(s->kargs[i].replaced);
                free(s->kargs[i].cut);
        }
        free(s->kargs);
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].path);
                free(s->files[i].sha256);
        }
        free(s->files);
        for (size_t i = 0; i < s->n_created; i++) {
                free(s->created[i].path);
                free(s->created[i].base);
        }
        free(s->created);
        strv_free(s->boot_entries);
        strv_free(s->dirs);
        strv_free(s->initramfs_etc);
        vhc_state_init(s);
}

bool vhc_state_clean(const struct vhc_state *s) {
        return s->n_kargs == 0 && s->n_files == 0 && s->n_created == 0 && s->pending == 0 &&
               strv_length(s->initramfs_etc) == 0;
}

bool vhc_state_empty(const struct vhc_state *s) {
        return vhc_state_clean(s) && strv_length(s->dirs) == 0 && strv_length(s->boot_entries) == 0;
}

static const char *const regen_names[] = { "bootloader", "initramfs", "uki" };

const char *vhc_regen_name(unsigned flag) {
        for (size_t i = 0; i < ELEMENTSOF(regen_names); i++)
                if (flag == 1U << i)
                        return regen_names[i];
        return NULL;
}

char *vhc_regen_names(unsigned flags) {
        char *s = strdup("");

        for (size_t i = 0; s && i < ELEMENTSOF(regen_names); i++)
                if (flags & (1U << i)) {
                        char *t = strprintf("%s%s%s", s, s[0] ? ", " : "", regen_names[i]);

                        free(s);
                        s = t;
                }
        return s;
}

bool vhc_karg_record_same(const struct vhc_karg_record *a, const struct vhc_karg_record *b) {
        return streq(a->store, b->store) && streq(a->file, b->file) && streq(a->var, b->var) &&
               streq(a->arg, b->arg) && !!a->replaced == !!b->replaced &&
               streq(strempty(a->replaced), strempty(b->replaced)) && a->removed == b->removed &&
               (!a->removed || (a->cut_at == b->cut_at && streq(strempty(a->cut), strempty(b->cut))));
}

int vhc_state_add_karg(struct vhc_state *s, const struct vhc_karg_record *rec) {
        struct vhc_karg_record *t, *k;

        t = realloc(s->kargs, (s->n_kargs + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->kargs = t;
        k = &t[s->n_kargs];
        *k = (struct vhc_karg_record){
                .store = strdup(rec->store),
                .file = strdup(rec->file),
                .var = strdup(rec->var),
                .arg = strdup(rec->arg),
                .replaced = rec->replaced ? strdup(rec->replaced) : NULL,
                .edit = rec->edit,
                .removed = rec->removed,
                .cut_at = rec->cut_at,
                .cut = rec->cut ? strdup(rec->cut) : NULL,
        };
        s->n_kargs++;
        if (!k->store || !k->file || !k->var || !k->arg || (rec->replaced && !k->replaced) ||
            (rec->cut && !k->cut))
                return -ENOMEM;
        return 0;
}

bool vhc_state_has_file_kargs(const struct vhc_state *s, const char *file) {
        for (size_t i = 0; i < s->n_kargs; i++)
                if (streq(s->kargs[i].file, file))
                        return true;
        return false;
}

const struct vhc_file_record *vhc_state_find_file(const struct vhc_state *s, const char *path) {
        for (size_t i = 0; i < s->n_files; i++)
                if (streq(s->files[i].path, path))
                        return &s->files[i];
        return NULL;
}

int vhc_state_add_file(struct vhc_state *s, const char *path, const char *sha256) {
        struct vhc_file_record *t;

        for (size_t i = 0; i < s->n_files; i++)
                if (streq(s->files[i].path, path)) {
                        char *h = strdup(sha256);
                        if (!h)
                                return -ENOMEM;
                        free(s->files[i].sha256);
                        s->files[i].sha256 = h;
                        return 0;
                }
        t = realloc(s->files, (s->n_files + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->files = t;
        t[s->n_files] = (struct vhc_file_record){ strdup(path), strdup(sha256) };
        s->n_files++;
        if (!t[s->n_files - 1].path || !t[s->n_files - 1].sha256)
                return -ENOMEM;
        return 0;
}

const struct vhc_created_record *vhc_state_find_created(const struct vhc_state *s, const char *path) {
        for (size_t i = 0; i < s->n_created; i++)
                if (streq(s->created[i].path, path))
                        return &s->created[i];
        return NULL;
}

int vhc_state_add_created(struct vhc_state *s, const char *path, const char *base) {
        struct vhc_created_record *t;

        if (vhc_state_find_created(s, path))
                return 0;
        t = realloc(s->created, (s->n_created + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->created = t;
        t[s->n_created] = (struct vhc_created_record){ strdup(path), strdup(base) };
        s->n_created++;
        if (!t[s->n_created - 1].path || !t[s->n_created - 1].base)
                return -ENOMEM;
        return 0;
}

int vhc_state_add_entry(struct vhc_state *s, const char *path) {
        if (strv_contains(s->boot_entries, path))
                return 0;
        return strv_push_dup(&s->boot_entries, path);
}

int vhc_state_add_initramfs_etc(struct vhc_state *s, const char *path) {
        if (strv_contains(s->initramfs_etc, path))
                return 0;
        return strv_push_dup(&s->initramfs_etc, path);
}

int vhc_state_add_dir(struct vhc_state *s, const char *dir) {
        if (strv_contains(s->dirs, dir))
                return 0;
        return strv_push_dup(&s->dirs, dir);
}

static size_t count_karg(const struct vhc_state *s, const struct vhc_karg_record *k) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_kargs; i++)
                n += vhc_karg_record_same(&s->kargs[i], k);
        return n;
}

int vhc_state_union(const struct vhc_state *a, const struct vhc_state *b, struct vhc_state *ret) {
        struct vhc_state u;
        int r = 0;

        vhc_state_init(&u);
        u.pending = a->pending | b->pending;
        for (int pass = 0; pass < 2 && r >= 0; pass++) {
                const struct vhc_state *s = pass ? b : a;

                /* Equal records stand for as many tokens: keep the larger count. */
                for (size_t i = 0; i < s->n_kargs && r >= 0; i++)
                        if (count_karg(&u, &s->kargs[i]) < count_karg(s, &s->kargs[i]))
                                r = vhc_state_add_karg(&u, &s->kargs[i]);
                for (size_t i = 0; i < s->n_files && r >= 0; i++)
                        if (!vhc_state_find_file(&u, s->files[i].path) || pass == 1)
                                r = vhc_state_add_file(&u, s->files[i].path, s->files[i].sha256);
                for (size_t i = 0; i < s->n_created && r >= 0; i++)
                        r = vhc_state_add_created(&u, s->created[i].path, s->created[i].base);
                for (size_t i = 0; s->boot_entries && s->boot_entries[i] && r >= 0; i++)
                        r = vhc_state_add_entry(&u, s->boot_entries[i]);
                for (size_t i = 0; s->dirs && s->dirs[i] && r >= 0; i++)
                        r = vhc_state_add_dir(&u, s->dirs[i]);
                for (size_t i = 0; s->initramfs_etc && s->initramfs_etc[i] && r >= 0; i++)
                        r = vhc_state_add_initramfs_etc(&u, s->initramfs_etc[i]);
        }
        if (r < 0) {
                vhc_state_done(&u);
                return r;
        }
        *ret = u;
        return 0;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static json_object *get_array(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

static bool is_abs_string(json_object *o) {
        return json_object_is_type(o, json_type_string) && vhc_managed_path_clean(json_object_get_string(o));
}

/* The schema, before any record is taken: every known key of the right
 * type, each entry of an array too. NULL if it holds, else what is wrong. */
static const char *schema_error(json_object *root, char *buf, size_t size) {
        static const struct {
                const char *key;
                json_type type;         /* of the value */
                json_type item;         /* of each entry, for an array */
                const char *strings[7]; /* string members of an object entry (NULL-ended) */
                const char *bools[5];
                const char *ints[2];
        } keys[] = {
                {"version", json_type_int, json_type_null, {}, {}},
                {"kernel_args",
                 json_type_array,
                 json_type_object,
                 {"store", "file", "var", "arg", "replaced", "cut"},
                 {"space", "line_added", "newline_added", "removed"},
                 {"cut_at"}},
                {"files", json_type_array, json_type_object, {"path", "sha256"}, {}},
                {"created", json_type_array, json_type_object, {"path", "base"}, {}},
                {"boot_entries", json_type_array, json_type_string, {}, {}},
                {"pending", json_type_array, json_type_string, {}, {}},
                {"dirs", json_type_array, json_type_string, {}, {}},
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_object *v;

                if (!json_object_object_get_ex(root, keys[i].key, &v))
                        continue;
                if (!json_object_is_type(v, keys[i].type)) {
                        snprintf(buf, size, "\"%s\" is not %s", keys[i].key,
                                 keys[i].type == json_type_int ? "a number" : "an array");
                        return buf;
                }
                if (keys[i].type != json_type_array)
                        continue;
                for (size_t j = 0; j < json_object_array_length(v); j++) {
                        json_object *o = json_object_array_get_idx(v, j), *m;

                        if (!json_object_is_type(o, keys[i].item)) {
                                snprintf(buf, size, "%s entry %zu is not %s", keys[i].key, j,
                                         keys[i].item == json_type_object ? "an object" : "a string");
                                return buf;
                        }
                        for (size_t k = 0; keys[i].strings[k]; k++)
                                if (json_object_object_get_ex(o, keys[i].strings[k], &m) &&
                                    !json_object_is_type(m, json_type_string)) {
                                        snprintf(buf, size, "%s entry %zu: \"%s\" is not a string",
                                                 keys[i].key, j, keys[i].strings[k]);
                                        return buf;
                                }
                        for (size_t k = 0; keys[i].bools[k]; k++)
                                if (json_object_object_get_ex(o, keys[i].bools[k], &m) &&
                                    !json_object_is_type(m, json_type_boolean)) {
                                        snprintf(buf, size, "%s entry %zu: \"%s\" is not true or false",
                                                 keys[i].key, j, keys[i].bools[k]);
                                        return buf;
                                }
                        for (size_t k = 0; keys[i].ints[k]; k++)
                                if (json_object_object_get_ex(o, keys[i].ints[k], &m) &&
                                    (!json_object_is_type(m, json_type_int) || json_object_get_int64(m) < 0 ||
                                     json_object_get_int64(m) > INT32_MAX)) {
                                        snprintf(buf, size, "%s entry %zu: \"%s\" is not a byte offset",
                                                 keys[i].key, j, keys[i].ints[k]);
                                        return buf;
                                }
                        for (size_t k = 0; keys[i].ints[k]; k++)
                                if (json_object_object_get_ex(o, keys[i].ints[k], &m) &&
                                    (!json_object_is_type(m, json_type_int) || json_object_get_int64(m) < 0 ||
                                     json_object_get_int64(m) > INT32_MAX)) {
                                        snprintf(buf, size, "%s entry %zu: \"%s\" is not a byte offset",
                                                 keys[i].key, j, keys[i].ints[k]);
                                        return buf;
                                }
                }
        }
        return NULL;
}

static bool is_sha256_hex(const char *h) {
        return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

/* Strict JSON, the whole text: json-c's lax mode takes "{...,}" and
 * ignores what follows the first value. */
json_object *vhc_json_parse_strict(const char *text) {
        struct json_tokener *tok = json_tokener_new();
        json_object *o;
        size_t n = strlen(text);

        if (!tok)
                return NULL;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, text, (int)(n > INT32_MAX ? INT32_MAX : n));
        if (o && (json_tokener_get_error(tok) != json_tokener_success ||
                  text[json_tokener_get_parse_end(tok) +
                       strspn(text + json_tokener_get_parse_end(tok), " \t\r\n")])) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

int vhc_state_parse(struct vhc_state *s, const char *text, const char *name, struct vhc_err *e) {
        json_object *root, *a, *v;
        int r = 0, version;

        root = vhc_json_parse_strict(text);
        if (!root || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return vhc_err_set(e, -EINVAL, name, 0,
                                   "not a state record of virt-host-config (broken JSON): restore it or remove "
                                   "it to forget what was applied");
        }
        version = json_object_object_get_ex(root, "version", &v) ? json_object_get_int(v) : 0;
        if (version != 1 && version != STATE_VERSION) {
                r = vhc_err_set(e, -EINVAL, name, 0,
                                "unknown state record version %d (this virt-host-config reads 1 and %d): written "
                                "by a newer version? install it again to revert",
                                version, STATE_VERSION);
                goto out;
        }
        {
                char buf[256];
                const char *bad = schema_error(root, buf, sizeof(buf));

                if (bad) {
                        r = vhc_err_set(
                                e, -EINVAL, name, 0,
                                "not a state record of virt-host-config (%s): nothing was changed; restore "
                                "it or remove it to forget what was applied",
                                bad);
                        goto out;
                }
        }
        s->from_v1 = version == 1;
        a = get_array(root, "kernel_args");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                struct vhc_karg_record k = {
                        /* Version 1 knew only /etc/default/grub. */
                        .store = version == 1 ? (char *)"grub-defaults" : (char *)get_str(o, "store"),
                        .file = (char *)get_str(o, "file"),
                        .var = (char *)get_str(o, "var"),
                        .arg = (char *)get_str(o, "arg"),
                        .replaced = (char *)get_str(o, "replaced"),
                        .edit = { get_bool(o, "space"), get_bool(o, "line_added"), get_bool(o, "newline_added") },
                        .removed = get_bool(o, "removed"),
                        .cut_at = (size_t)get_int(o, "cut_at"),
                        .cut = (char *)get_str(o, "cut"),
                };
                if (!k.store || !k.file || !k.var || !k.arg || !vhc_managed_path_clean(k.file))
                        r = vhc_err_set(e, -EINVAL, name, 0, "kernel_args entry %zu lacks store, file, var or arg",
                                        i);
                else if (k.removed && (k.replaced || !k.cut || !vhc_cmdline_cut_valid(k.arg, k.cut)))
                        r = vhc_err_set(e, -EINVAL, name, 0,
                                        "kernel_args entry %zu: a removed argument needs its cut (the argument "
                                        "and one blank beside it), and no replaced: restore the record or remove "
                                        "it to forget what was applied",
                                        i);
                else
                        r = vhc_state_add_karg(s, &k);
        }
        a = get_array(root, "files");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                const char *p = get_str(o, "path"), *h = get_str(o, "sha256");

                if (!p || !h || !vhc_managed_path_clean(p) || !is_sha256_hex(h))
                        r = vhc_err_set(
                                e, -EINVAL, name, 0,
                                "files entry %zu lacks a clean absolute path or a sha256: restore the "
                                "record or remove it to forget what was applied",
                                i);
                else
                        r = vhc_state_add_file(s, p, h);
        }
        a = get_array(root, "created");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                const char *p = get_str(o, "path"), *b = get_str(o, "base");

                if (!p || !b || !vhc_managed_path_clean(p))
                        r = vhc_err_set(e, -EINVAL, name, 0, "created entry %zu lacks path or base", i);
                else
                        r = vhc_state_add_created(s, p, b);
        }
        a = get_array(root, "boot_entries");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);

                if (!is_abs_string(o))
                        r = vhc_err_set(e, -EINVAL, name, 0, "boot_entries entry %zu is not an absolute path", i);
                else
                        r = vhc_state_add_entry(s, json_object_get_string(o));
        }
        a = get_array(root, "pending");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                const char *n = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";
                unsigned f = 0;

                for (unsigned bit = 1; bit & _VHC_REGEN_ALL; bit <<= 1)
                        if (streq(n, vhc_regen_name(bit)))
                                f = bit;
                if (!f)
                        r = vhc_err_set(e, -EINVAL, name, 0, "pending entry %zu is not a known regeneration", i);
                s->pending |= f;
        }
        a = get_array(root, "dirs");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);

                if (!is_abs_string(o))
                        r = vhc_err_set(e, -EINVAL, name, 0, "dirs entry %zu is not an absolute path", i);
                else
                        r = vhc_state_add_dir(s, json_object_get_string(o));
        }
        a = get_array(root, "initramfs_etc");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);

                if (!is_abs_string(o))
                        r = vhc_err_set(e, -EINVAL, name, 0,
                                        "initramfs_etc entry %zu is not an absolute path", i);
                else
                        r = vhc_state_add_initramfs_etc(s, json_object_get_string(o));
        }
out:
        json_object_put(root);
        if (r < 0)
                vhc_state_done(s);
        return r;
}

int vhc_state_load(struct vhc_state *s, const char *path, struct vhc_err *e) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = vhc_read_file(path, 1 << 22, &text, NULL);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot read: %s", strerror(-r));
        return vhc_state_parse(s, text, path, e);
}

static json_object *string_array(char *const *l) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && l && l[i]; i++)
                json_object_array_add(a, json_object_new_string(l[i]));
        return a;
}

int vhc_state_format(const struct vhc_state *s, char **ret) {
        json_object *root = json_object_new_object(), *a;
        const char *text;
        char *out;

        if (!root)
                return -ENOMEM;
        json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
        a = json_object_new_array();
        for (size_t i = 0; i < s->n_kargs; i++) {
                const struct vhc_karg_record *k = &s->kargs[i];
                json_object *o = json_object_new_object();

                json_object_object_add(o, "store", json_object_new_string(k->store));
                json_object_object_add(o, "file", json_object_new_string(k->file));
                json_object_object_add(o, "var", json_object_new_string(k->var));
                json_object_object_add(o, "arg", json_object_new_string(k->arg));
                if (k->removed) {
                        json_object_object_add(o, "removed", json_object_new_boolean(true));
                        json_object_object_add(o, "cut_at", json_object_new_int64((int64_t)k->cut_at));
                        json_object_object_add(o, "cut", json_object_new_string(strempty(k->cut)));
                } else if (k->replaced)
                        json_object_object_add(o, "replaced", json_object_new_string(k->replaced));
                else {
                        json_object_object_add(o, "space", json_object_new_boolean(k->edit.space));
                        json_object_object_add(o, "line_added", json_object_new_boolean(k->edit.line_added));
                        json_object_object_add(o, "newline_added",
                                               json_object_new_boolean(k->edit.newline_added));
                }
                json_object_array_add(a, o);
        }
        json_object_object_add(root, "kernel_args", a);
        a = json_object_new_array();
        for (size_t i = 0; i < s->n_files; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "path", json_object_new_string(s->files[i].path));
                json_object_object_add(o, "sha256", json_object_new_string(s->files[i].sha256));
                json_object_array_add(a, o);
        }
        json_object_object_add(root, "files", a);
        a = json_object_new_array();
        for (size_t i = 0; i < s->n_created; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "path", json_object_new_string(s->created[i].path));
                json_object_object_add(o, "base", json_object_new_string(s->created[i].base));
                json_object_array_add(a, o);
        }
        json_object_object_add(root, "created", a);
        json_object_object_add(root, "boot_entries", string_array(s->boot_entries));
        a = json_object_new_array();
        for (unsigned bit = 1; bit & _VHC_REGEN_ALL; bit <<= 1)
                if (s->pending & bit)
                        json_object_array_add(a, json_object_new_string(vhc_regen_name(bit)));
        json_object_object_add(root, "pending", a);
        json_object_object_add(root, "dirs", string_array(s->dirs));
        if (strv_length(s->initramfs_etc) > 0)
                json_object_object_add(root, "initramfs_etc", string_array(s->initramfs_etc));

        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        out = text ? malloc(strlen(text) + 2) : NULL;
        if (out)
                sprintf(out, "%s\n", text);
        json_object_put(root);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}
