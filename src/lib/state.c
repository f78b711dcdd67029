/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "fileio.h"
#include "state.h"
#include "strv.h"

#define STATE_VERSION 1

void vhc_state_init(struct vhc_state *s) {
        *s = (struct vhc_state){};
}

void vhc_state_done(struct vhc_state *s) {
        for (size_t i = 0; i < s->n_kargs; i++) {
                free(s->kargs[i].file);
                free(s->kargs[i].var);
                free(s->kargs[i].arg);
                free(s->kargs[i].replaced);
        }
        free(s->kargs);
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].path);
                free(s->files[i].sha256);
        }
        free(s->files);
        strv_free(s->dirs);
        vhc_state_init(s);
}

bool vhc_state_empty(const struct vhc_state *s) {
        return s->n_kargs == 0 && s->n_files == 0 && strv_length(s->dirs) == 0;
}

static bool karg_same(const struct vhc_karg_record *a, const struct vhc_karg_record *b) {
        return streq(a->file, b->file) && streq(a->var, b->var) && streq(a->arg, b->arg) &&
               streq(strempty(a->replaced), strempty(b->replaced)) && !!a->replaced == !!b->replaced;
}

int vhc_state_add_karg(struct vhc_state *s, const struct vhc_karg_record *rec) {
        struct vhc_karg_record *t, *k;

        for (size_t i = 0; i < s->n_kargs; i++)
                if (karg_same(&s->kargs[i], rec))
                        return 0;
        t = realloc(s->kargs, (s->n_kargs + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->kargs = t;
        k = &t[s->n_kargs];
        *k = (struct vhc_karg_record){
                .file = strdup(rec->file),
                .var = strdup(rec->var),
                .arg = strdup(rec->arg),
                .replaced = rec->replaced ? strdup(rec->replaced) : NULL,
                .edit = rec->edit,
        };
        s->n_kargs++;
        if (!k->file || !k->var || !k->arg || (rec->replaced && !k->replaced))
                return -ENOMEM;
        return 0;
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

int vhc_state_add_dir(struct vhc_state *s, const char *dir) {
        if (strv_contains(s->dirs, dir))
                return 0;
        return strv_push_dup(&s->dirs, dir);
}

int vhc_state_union(const struct vhc_state *a, const struct vhc_state *b, struct vhc_state *ret) {
        struct vhc_state u;
        int r = 0;

        vhc_state_init(&u);
        for (int pass = 0; pass < 2 && r >= 0; pass++) {
                const struct vhc_state *s = pass ? b : a;

                for (size_t i = 0; i < s->n_kargs && r >= 0; i++)
                        r = vhc_state_add_karg(&u, &s->kargs[i]);
                for (size_t i = 0; i < s->n_files && r >= 0; i++)
                        if (!vhc_state_find_file(&u, s->files[i].path) || pass == 1)
                                r = vhc_state_add_file(&u, s->files[i].path, s->files[i].sha256);
                for (size_t i = 0; s->dirs && s->dirs[i] && r >= 0; i++)
                        r = vhc_state_add_dir(&u, s->dirs[i]);
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

int vhc_state_parse(struct vhc_state *s, const char *text, const char *name, struct vhc_err *e) {
        json_object *root, *a, *v;
        int r = 0;

        root = json_tokener_parse(text);
        if (!root || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return vhc_err_set(e, -EINVAL, name, 0,
                                   "not a state record of virt-host-config (broken JSON): restore it or remove "
                                   "it to forget what was applied");
        }
        if (!json_object_object_get_ex(root, "version", &v) || json_object_get_int(v) != STATE_VERSION) {
                r = vhc_err_set(e, -EINVAL, name, 0, "unknown state record version (expected %d)", STATE_VERSION);
                goto out;
        }
        a = get_array(root, "kernel_args");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                struct vhc_karg_record k = {
                        .file = (char *)get_str(o, "file"),
                        .var = (char *)get_str(o, "var"),
                        .arg = (char *)get_str(o, "arg"),
                        .replaced = (char *)get_str(o, "replaced"),
                        .edit = { get_bool(o, "space"), get_bool(o, "line_added"), get_bool(o, "newline_added") },
                };
                if (!k.file || !k.var || !k.arg)
                        r = vhc_err_set(e, -EINVAL, name, 0, "kernel_args entry %zu lacks file, var or arg", i);
                else
                        r = vhc_state_add_karg(s, &k);
        }
        a = get_array(root, "files");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);
                const char *p = get_str(o, "path"), *h = get_str(o, "sha256");

                if (!p || !h || p[0] != '/')
                        r = vhc_err_set(e, -EINVAL, name, 0, "files entry %zu lacks path or sha256", i);
                else
                        r = vhc_state_add_file(s, p, h);
        }
        a = get_array(root, "dirs");
        for (size_t i = 0; a && i < json_object_array_length(a) && r >= 0; i++) {
                json_object *o = json_object_array_get_idx(a, i);

                if (!json_object_is_type(o, json_type_string) || json_object_get_string(o)[0] != '/')
                        r = vhc_err_set(e, -EINVAL, name, 0, "dirs entry %zu is not an absolute path", i);
                else
                        r = vhc_state_add_dir(s, json_object_get_string(o));
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

        r = vhc_read_file(path, 1 << 20, &text, NULL);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot read: %s", strerror(-r));
        return vhc_state_parse(s, text, path, e);
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

                json_object_object_add(o, "file", json_object_new_string(k->file));
                json_object_object_add(o, "var", json_object_new_string(k->var));
                json_object_object_add(o, "arg", json_object_new_string(k->arg));
                if (k->replaced)
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
        for (size_t i = 0; s->dirs && s->dirs[i]; i++)
                json_object_array_add(a, json_object_new_string(s->dirs[i]));
        json_object_object_add(root, "dirs", a);

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
