/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cmdline.h"
#include "fileio.h"
#include "kline.h"
#include "store.h"
#include "stores.h"
#include "strv.h"
#include "uki.h"

/* One file the plan looks at. */
struct item {
        const struct vhc_store *store;
        char *abs;
        bool revert_only; /* named by a record, no longer a store of this machine */
};

static void items_free(struct item *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i].abs);
        free(v);
}

static int items_add(struct item **v, size_t *n, const struct vhc_store *s, const char *abs, bool revert_only) {
        struct item *t;

        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i].abs, abs))
                        return 0;
        t = realloc(*v, (*n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        *v = t;
        t[*n] = (struct item){ .store = s, .abs = strdup(abs), .revert_only = revert_only };
        return t[(*n)++].abs ? 0 : -ENOMEM;
}

/* The entries (*.conf) of a directory, as machine paths, sorted. */
static int list_entries(const struct vhc_boot *b, const char *dir, char ***ret) {
        _cleanup_strv_free_ char **names = NULL, **l = calloc(1, sizeof(char *));
        int k;

        if (!l)
                return -ENOMEM;
        k = vhc_boot_list_dir(b->root, dir, ".conf", &names);
        /* Exactly ".conf", as GRUB's blscfg matches it. */
        for (size_t i = 0; k >= 0 && names[i]; i++)
                if (streq(names[i] + strlen(names[i]) - 5, ".conf"))
                        k = strv_consume(&l, strprintf("%s/%s", dir, names[i]));
        if (k < 0)
                return k;
        *ret = TAKE_PTR(l);
        return 0;
}

/* /etc/default/grub through its links (Fedora: /etc/sysconfig/grub ->
 * ../default/grub), as the machine path of the real file. */
static int grub_defaults_abs(const struct vhc_boot *b, char **ret, struct vhc_err *e) {
        _cleanup_free_ char *full = vhc_root_path_nofollow(b->root, VHC_PATH_GRUB_DEFAULT);
        int r;

        if (!full)
                return -ENOMEM;
        r = vhc_root_resolve(b->root, vhc_path_abs(VHC_PATH_GRUB_DEFAULT), ret);
        if (r == -ENOENT)
                return vhc_err_set(e, r, full, 0, "is a dangling symlink: point it at the real file or remove it");
        if (r < 0)
                return vhc_err_set(e, r, full, 0, "cannot resolve: %s", strerror(-r));
        return 0;
}

/* The files to look at: the stores of the machine, then what the records
 * name besides. */
static int collect(const struct vhc_boot *b, const struct vhc_state *before, bool reverting, struct item **ret,
                   size_t *ret_n, struct vhc_err *e) {
        struct item *v = NULL;
        size_t n = 0;
        int r = 0;

        if (b->grub_defaults) {
                _cleanup_free_ char *abs = NULL;

                r = grub_defaults_abs(b, &abs, e);
                if (r >= 0)
                        r = items_add(&v, &n, &vhc_store_grub_defaults, abs, reverting);
        }
        for (size_t i = 0; r >= 0 && i < b->n_entry_dirs; i++) {
                _cleanup_strv_free_ char **l = NULL;

                r = list_entries(b, b->entry_dirs[i].path, &l);
                for (size_t j = 0; r >= 0 && l[j]; j++)
                        r = items_add(&v, &n, &vhc_store_bls_entry, l[j], reverting);
        }
        if (r >= 0 && b->kernel_cmdline)
                r = items_add(&v, &n, &vhc_store_kernel_cmdline, vhc_path_abs(VHC_PATH_KERNEL_CMDLINE), reverting);
        if (r >= 0 && b->system.kind == VHC_SYSTEM_OSTREE)
                r = items_add(&v, &n, &vhc_store_rpm_ostree, VHC_STORE_OSTREE_FILE, reverting);
        for (size_t i = 0; r >= 0 && i < before->n_kargs; i++) {
                const struct vhc_store *s = vhc_store_by_name(before->kargs[i].store);

                if (!s)
                        r = vhc_err_set(e, -EINVAL, NULL, 0,
                                        "the state record names an unknown kind of place, '%s' (%s): written by a "
                                        "newer version? install it again to revert",
                                        before->kargs[i].store, before->kargs[i].file);
                else
                        r = items_add(&v, &n, s, before->kargs[i].file, true);
        }
        for (size_t i = 0; r >= 0 && i < before->n_created; i++)
                r = items_add(&v, &n, &vhc_store_kernel_cmdline, before->created[i].path, true);
        if (r < 0) {
                items_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool is_rescue(const char *abs) {
        const char *base = strrchr(abs, '/');

        return strstr(base ? base + 1 : abs, "rescue") != NULL;
}

static bool base_token(const char *t) {
        return !strchr(t, '$') && !startswith(t, "BOOT_IMAGE=") && !startswith(t, "initrd=") &&
               !startswith(t, "systemd.machine_id=");
}

/* The text of a store file (its tool's output for a store that is not a
 * file); *ret NULL if the file is absent. */
static int read_item(const struct vhc_boot *b, const struct vhc_store *s, const char *path, char **ret,
                     size_t *ret_len, struct vhc_err *e) {
        *ret = NULL;
        return s->read ? s->read(b, ret, ret_len, e) : vhc_read_machine_file(path, ret, ret_len, e);
}

/* The tokens a store file holds, readonly ones included; *ret NULL if the
 * file is absent. ret_label (may be NULL): the store's label of the file. */
static int file_tokens(const struct vhc_boot *b, const struct vhc_store *s, const char *abs, char ***ret,
                       char **ret_label, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_join(b->root, abs), *text = NULL;
        _cleanup_(vhc_store_file_done) struct vhc_store_file f = {};
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t len;
        int r;

        *ret = NULL;
        if (!path || !l)
                return -ENOMEM;
        r = read_item(b, s, path, &text, &len, e);
        if (r < 0 || !text)
                return r;
        r = s->open(b, abs, text, len, &f, e);
        if (r < 0)
                return r;
        for (size_t v = 0; v < f.target.n_vars; v++) {
                _cleanup_strv_free_ char **t = NULL;

                r = f.target.tokens(f.target.obj, f.target.vars[v], &t, e);
                if (r < 0)
                        return r;
                for (size_t i = 0; t[i]; i++)
                        if (strv_push_dup(&l, t[i]) < 0)
                                return -ENOMEM;
        }
        for (size_t i = 0; f.readonly && f.readonly[i]; i++)
                if (strv_push_dup(&l, f.readonly[i]) < 0)
                        return -ENOMEM;
        if (ret_label)
                *ret_label = TAKE_PTR(f.label);
        *ret = TAKE_PTR(l);
        return 0;
}

/* What a created /etc/kernel/cmdline holds before ours: one line. */
static int cmdline_base(const struct vhc_boot *b, const struct item *items, size_t n, char **ret,
                        struct vhc_err *e) {
        _cleanup_free_ char *usr = vhc_root_path(b->root, VHC_PATH_KERNEL_CMDLINE_USR), *text = NULL;
        _cleanup_strv_free_ char **shared = NULL, **out = calloc(1, sizeof(char *));
        size_t len;
        bool any = false;
        int r;

        if (!usr || !out)
                return -ENOMEM;
        r = vhc_read_machine_file(usr, &text, &len, e);
        if (r < 0)
                return r;
        if (!text) {
                for (size_t i = 0; i < n; i++) {
                        _cleanup_strv_free_ char **t = NULL;

                        if (items[i].store != &vhc_store_bls_entry || items[i].revert_only || is_rescue(items[i].abs))
                                continue;
                        r = file_tokens(b, items[i].store, items[i].abs, &t, NULL, e);
                        if (r < 0)
                                return r;
                        if (!t)
                                continue;
                        if (!any) {
                                shared = TAKE_PTR(t);
                                any = true;
                                continue;
                        }
                        /* Keep the first entry's order, and what every other has too. */
                        {
                                _cleanup_strv_free_ char **keep = calloc(1, sizeof(char *));

                                if (!keep)
                                        return -ENOMEM;
                                for (size_t j = 0; shared[j]; j++)
                                        if (strv_contains(t, shared[j]) && strv_push_dup(&keep, shared[j]) < 0)
                                                return -ENOMEM;
                                strv_free(shared);
                                shared = TAKE_PTR(keep);
                        }
                }
                if (!any) {
                        _cleanup_free_ char *proc = vhc_root_path(b->root, VHC_PATH_PROC_CMDLINE);

                        if (!proc)
                                return -ENOMEM;
                        r = vhc_read_machine_file(proc, &text, &len, e);
                        if (r < 0)
                                return r;
                }
        }
        if (!any) {
                r = vhc_cmdline_split(strempty(text), &shared);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        shared = calloc(1, sizeof(char *));
                if (!shared)
                        return -ENOMEM;
        }
        for (size_t i = 0; shared[i]; i++)
                if (base_token(shared[i]) && strv_push_dup(&out, shared[i]) < 0)
                        return -ENOMEM;
        {
                _cleanup_free_ char *line = strdup("");

                for (size_t i = 0; line && out[i]; i++) {
                        char *t = strprintf("%s%s%s", line, i ? " " : "", out[i]);

                        free(line);
                        line = t;
                }
                *ret = line ? strprintf("%s\n", line) : NULL;
        }
        return *ret ? 0 : -ENOMEM;
}

static bool in_list(char *const *l, const char *s) {
        return strv_contains(l, s);
}

/* The records that stand for the file: its own; for an entry made since
 * apply (or a version 1 record's /etc/kernel/cmdline), those of the file it
 * was made from. */
static int records_for(const struct vhc_state *before, const struct item *it, struct vhc_state *ret) {
        const char *from;
        int r = 0;

        vhc_state_init(ret);
        if (vhc_state_has_file_kargs(before, it->abs))
                return 1; /* use before itself */
        if (it->store == &vhc_store_bls_entry && (before->from_v1 || !in_list(before->boot_entries, it->abs)))
                from = before->from_v1 ? "grub-defaults" : "kernel-cmdline";
        else if (it->store == &vhc_store_kernel_cmdline && before->from_v1)
                from = "grub-defaults";
        else
                return 0;
        for (size_t i = 0; i < before->n_kargs && r >= 0; i++) {
                const struct vhc_karg_record *k = &before->kargs[i];

                if (!streq(k->store, from))
                        continue;
                /* Their tokens were written anew, with a blank before each. */
                r = vhc_state_add_karg(ret, &(struct vhc_karg_record){
                                                    .store = (char *)it->store->name,
                                                    .file = it->abs,
                                                    .var = it->store == &vhc_store_bls_entry ? (char *)"options"
                                                                                             : (char *)"cmdline",
                                                    .arg = k->arg,
                                                    .replaced = k->replaced,
                                                    .edit = { .space = true },
                                                    /* Where it was cut is another file's
                                                     * offset: put_back finds no place there
                                                     * and appends. */
                                                    .removed = k->removed,
                                                    .cut_at = k->cut_at,
                                                    .cut = k->cut,
                                            });
        }
        return r;
}

static int warn(char ***warnings, char *s) {
        return s ? strv_consume(warnings, s) : -ENOMEM;
}

/* Plans one file. */
static int plan_item(const struct vhc_boot *b, const struct item *it, char *const *wanted, char *const *off,
                     const struct vhc_state *before, struct vhc_state *after, const char *base,
                     struct vhc_changes *ch, struct vhc_boot_edits *edits, char ***warnings, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_join(b->root, it->abs), *text = NULL;
        _cleanup_(vhc_store_file_done) struct vhc_store_file f = {};
        _cleanup_(vhc_state_done) struct vhc_state inherited = {};
        const struct vhc_created_record *created = vhc_state_find_created(before, it->abs);
        const struct vhc_state *old = before;
        bool apply = wanted && !it->revert_only, create = false;
        const char *new;
        size_t len, new_len;
        int r;

        vhc_state_init(&inherited);
        if (!path)
                return -ENOMEM;
        r = read_item(b, it->store, path, &text, &len, e);
        if (r < 0)
                return r;
        if (!text) {
                if (apply && it->store == &vhc_store_kernel_cmdline && wanted[0]) {
                        text = strdup(base);
                        if (!text)
                                return -ENOMEM;
                        len = strlen(text);
                        create = true;
                } else {
                        /* A kernel removed since takes its entry along: nothing to say. */
                        if (!wanted && it->store != &vhc_store_bls_entry && vhc_state_has_file_kargs(before, it->abs))
                                return warn(warnings, strprintf("%s is gone: nothing to revert in it", path));
                        return 0;
                }
        }
        r = it->store->open(b, it->abs, text, len, &f, e);
        if (r < 0)
                return r;
        r = records_for(before, it, &inherited);
        if (r < 0)
                return r;
        if (r == 0)
                old = &inherited;
        r = apply ? vhc_kargs_apply(&f.target, wanted, off, old, after, e) : vhc_kargs_revert(&f.target, old, e);
        if (r < 0) {
                if (e && e->msg[0] && !e->file[0])
                        snprintf(e->file, sizeof(e->file), "%s", path);
                return r;
        }
        new = f.text(f.obj, &new_len);
        if (it->store->command) {
                _cleanup_strv_free_ char **argv = NULL;

                r = it->store->command(b, f.obj, &argv);
                if (r < 0 || !argv)
                        return r;
                edits->ostree_kargs = true;
                return vhc_changes_add_command(ch, f.label, text, new, argv, it->store->what,
                                               VHC_EFFECT_REBOOT);
        }
        if (create) {
                if (!vhc_state_has_file_kargs(after, it->abs))
                        return 0; /* it would hold only its base */
                r = vhc_state_add_created(after, it->abs, base);
                if (r < 0)
                        return r;
                r = vhc_changes_add(ch, it->abs, path, NULL, 0, new, new_len, 0644, it->store->what,
                                    VHC_EFFECT_REBOOT);
                edits->kernel_cmdline = true;
                return r;
        }
        if (created) {
                /* Made by us: gone again once nothing but its base is left. */
                if (!vhc_state_has_file_kargs(after, it->abs) && new_len == strlen(created->base) &&
                    memcmp(new, created->base, new_len) == 0)
                        new = NULL, new_len = 0;
                else if (apply && (r = vhc_state_add_created(after, it->abs, created->base)) < 0)
                        return r;
        }
        if (new && new_len == len && memcmp(new, text, len) == 0)
                return 0;
        if (it->store == &vhc_store_grub_defaults)
                edits->grub_defaults = true;
        else if (it->store == &vhc_store_bls_entry)
                edits->entries = true;
        else
                edits->kernel_cmdline = true;
        return vhc_changes_add(ch, it->abs, path, text, len, new, new_len, 0644, it->store->what, VHC_EFFECT_REBOOT);
}

static int mtime_of(const struct vhc_root *r, const char *abs, struct timespec *ret) {
        _cleanup_free_ char *p = vhc_root_join(r, abs);
        struct stat st;

        if (!p)
                return -ENOMEM;
        if (stat(p, &st) < 0)
                return -errno;
        *ret = st.st_mtim;
        return 0;
}

static bool older(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int vhc_boot_plan(const struct vhc_boot *b, char *const *wanted, char *const *off, const struct vhc_state *before,
                  struct vhc_state *after, struct vhc_changes *ch, struct vhc_boot_edits *ret, char ***warnings,
                  struct vhc_err *e) {
        struct vhc_boot_edits edits = {};
        _cleanup_free_ char *base = NULL, *grub = NULL;
        struct item *items = NULL;
        size_t n = 0;
        int r;

        r = collect(b, before, !wanted, &items, &n, e);
        if (r < 0)
                return r;
        if (wanted && b->kernel_cmdline && !b->kernel_cmdline_exists)
                r = cmdline_base(b, items, n, &base, e);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = plan_item(b, &items[i], wanted, off, before, after, base, ch, &edits, warnings, e);
                if (r >= 0 && wanted && !items[i].revert_only && items[i].store == &vhc_store_bls_entry)
                        r = vhc_state_add_entry(after, items[i].abs);
                if (r >= 0 && items[i].store == &vhc_store_grub_defaults && !grub)
                        r = (grub = strdup(items[i].abs)) ? 0 : -ENOMEM;
        }
        items_free(items, n);
        if (r < 0)
                return r;

        /* Written after /etc/default/grub, /etc/kernel/cmdline is newer; if
         * only the former changes, touch the latter when it was newer. */
        if (edits.grub_defaults && !edits.kernel_cmdline && grub && b->kernel_cmdline_exists) {
                struct timespec g, c;
                const char *cl = vhc_path_abs(VHC_PATH_KERNEL_CMDLINE);

                if (mtime_of(b->root, grub, &g) == 0 && mtime_of(b->root, cl, &c) == 0 && !older(&c, &g)) {
                        _cleanup_free_ char *p = vhc_root_join(b->root, cl);

                        r = p ? vhc_changes_add_touch(ch, cl, p) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        }
        *ret = edits;
        return 0;
}

void vhc_boot_report_done(struct vhc_boot_report *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->v[i].kind);
                free(r->v[i].label);
                free(r->v[i].path);
                strv_free(r->v[i].present);
                strv_free(r->v[i].missing);
                free(r->v[i].error);
        }
        free(r->v);
        *r = (struct vhc_boot_report){};
}

static int report_add(struct vhc_boot_report *r, const char *kind, char *label, const char *abs, char *const *tokens,
                      char *const *args, const char *error) {
        struct vhc_boot_place *p, *t = realloc(r->v, (r->n + 1) * sizeof(*t));

        if (!t) {
                free(label);
                return -ENOMEM;
        }
        r->v = t;
        p = &t[r->n++];
        *p = (struct vhc_boot_place){ .kind = strdup(kind), .label = label, .path = strdup(abs),
                                      .present = calloc(1, sizeof(char *)), .missing = calloc(1, sizeof(char *)) };
        if (!p->kind || !p->label || !p->path || !p->present || !p->missing)
                return -ENOMEM;
        if (error)
                return (p->error = strdup(error)) ? 0 : -ENOMEM;
        for (size_t i = 0; args && args[i]; i++)
                if (strv_push_dup(in_list(tokens, args[i]) ? &p->present : &p->missing, args[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* The command line inside a unified kernel image. */
static int uki_tokens(const struct vhc_boot *b, const char *abs, char ***ret, char **ret_error) {
        _cleanup_free_ char *path = vhc_boot_path(b->root, abs), *text = NULL;
        _cleanup_free_ uint8_t *head = NULL, *data = NULL;
        struct vhc_uki_section sec;
        ssize_t n;
        int fd, r;

        *ret = NULL;
        *ret_error = NULL;
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return (*ret_error = strprintf("cannot read: %s", strerror(errno))) ? 0 : -ENOMEM;
        head = malloc(65536);
        n = head ? pread(fd, head, 65536, 0) : 0;
        r = n < 0 ? -errno : vhc_uki_find_section(head, (size_t)n, ".cmdline", &sec);
        if (r == 0 && sec.size <= 65536 && (data = malloc(sec.size + 1)))
                r = pread(fd, data, sec.size, sec.offset) == (ssize_t)sec.size ? 0 : -EIO;
        close(fd);
        if (!head)
                return -ENOMEM;
        if (r == -ENOENT)
                return (*ret = calloc(1, sizeof(char *))) ? 0 : -ENOMEM; /* the stub takes the loader's */
        if (r < 0 || !data)
                return (*ret_error = strprintf("cannot read its command line: %s",
                                               r == -EBADMSG ? "not a PE image" : strerror(r < 0 ? -r : EFBIG)))
                               ? 0
                               : -ENOMEM;
        text = vhc_uki_section_text(data, sec.size);
        if (!text)
                return -ENOMEM;
        r = vhc_cmdline_split(text, ret);
        if (r == -EINVAL)
                return (*ret_error = strdup("its command line has an unbalanced double quote")) ? 0 : -ENOMEM;
        return r;
}

int vhc_boot_report(const struct vhc_boot *b, char *const *args, struct vhc_boot_report *ret) {
        static const struct vhc_state none = {};
        struct vhc_boot_report rep = {};
        struct item *items = NULL;
        size_t n = 0;
        struct vhc_err e = {};
        int r;

        r = collect(b, &none, false, &items, &n, &e);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_strv_free_ char **tokens = NULL;
                struct vhc_err fe = {};
                char *label = NULL;

                r = file_tokens(b, items[i].store, items[i].abs, &tokens, &label, &fe);
                if (r == -ENOMEM)
                        break;
                if (r >= 0 && !tokens)
                        continue; /* absent: /etc/kernel/cmdline not created */
                /* Unreadable: named by its path. */
                if (!label)
                        label = strdup(items[i].abs);
                r = report_add(&rep, items[i].store->name, label, items[i].abs, tokens, args, r < 0 ? fe.msg : NULL);
        }
        items_free(items, n);
        for (size_t i = 0; r >= 0 && b->ukis && b->ukis[i]; i++) {
                _cleanup_strv_free_ char **tokens = NULL;
                _cleanup_free_ char *error = NULL;
                const char *base = strrchr(b->ukis[i], '/') + 1;

                r = uki_tokens(b, b->ukis[i], &tokens, &error);
                if (r >= 0)
                        r = report_add(&rep, "uki", strprintf("image %s", base), b->ukis[i], tokens, args, error);
        }
        if (r < 0) {
                vhc_boot_report_done(&rep);
                return r;
        }
        *ret = rep;
        return 0;
}
