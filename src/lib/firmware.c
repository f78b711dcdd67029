/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "fileio.h"
#include "firmware.h"
#include "strv.h"

#define DESCRIPTOR_MAX (256 * 1024)

/* A q35 machine name that every x86_64 descriptor's pattern must match. */
#define Q35_MACHINE "pc-q35-9.0"

void vhc_firmware_done(struct vhc_firmware *f) {
        free(f->code);
        free(f->vars);
        free(f->source);
        *f = (struct vhc_firmware){};
}

static bool exists_on(const struct vhc_root *r, const char *abs) {
        _cleanup_free_ char *p = vhc_root_join(r, abs);
        struct stat st;

        return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static json_object *get_obj(json_object *o, const char *key, json_type type) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static bool array_has(json_object *a, const char *s) {
        size_t n = a ? json_object_array_length(a) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(a, i);

                if (json_object_is_type(v, json_type_string) && streq(json_object_get_string(v), s))
                        return true;
        }
        return false;
}

static bool targets_q35(json_object *targets) {
        size_t n = targets ? json_object_array_length(targets) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(targets, i);
                json_object *machines = get_obj(t, "machines", json_type_array);
                const char *arch = get_str(t, "architecture");
                size_t m = machines ? json_object_array_length(machines) : 0;

                if (!arch || !streq(arch, "x86_64"))
                        continue;
                for (size_t j = 0; j < m; j++) {
                        json_object *g = json_object_array_get_idx(machines, j);

                        if (json_object_is_type(g, json_type_string) &&
                            fnmatch(json_object_get_string(g), Q35_MACHINE, 0) == 0)
                                return true;
                }
        }
        return false;
}

/* 1 and fills ret when the descriptor fits, 0 when it does not. */
static int match_descriptor(const struct vhc_root *r, json_object *d, bool secure_boot,
                            struct vhc_firmware *ret) {
        json_object *mapping = get_obj(d, "mapping", json_type_object);
        json_object *features = get_obj(d, "features", json_type_array);
        json_object *exe = get_obj(mapping, "executable", json_type_object);
        json_object *tmpl = get_obj(mapping, "nvram-template", json_type_object);
        const char *device = get_str(mapping, "device"), *mode = get_str(mapping, "mode");
        const char *code = get_str(exe, "filename"), *vars = get_str(tmpl, "filename");
        const char *cfmt = get_str(exe, "format") ?: "raw", *vfmt = get_str(tmpl, "format") ?: "raw";
        bool sb;

        if (!array_has(get_obj(d, "interface-types", json_type_array), "uefi"))
                return 0;
        if (!device || !streq(device, "flash") || (mode && !streq(mode, "split")))
                return 0;
        if (!code || !vars || code[0] != '/' || vars[0] != '/')
                return 0;
        if (!streq(cfmt, vfmt) || !(streq(cfmt, "raw") || streq(cfmt, "qcow2")))
                return 0;
        if (!targets_q35(get_obj(d, "targets", json_type_array)))
                return 0;
        /* Confidential-computing builds boot only with their own launch flow. */
        if (array_has(features, "intel-tdx") || array_has(features, "amd-sev-snp"))
                return 0;
        sb = array_has(features, "secure-boot");
        if (secure_boot != sb)
                return 0;
        if (secure_boot && (!array_has(features, "enrolled-keys") || !array_has(features, "requires-smm")))
                return 0;
        if (!exists_on(r, code) || !exists_on(r, vars))
                return 0;

        ret->code = strdup(code);
        ret->vars = strdup(vars);
        if (!ret->code || !ret->vars)
                return -ENOMEM;
        ret->qcow2 = streq(cfmt, "qcow2");
        ret->secure_boot = secure_boot;
        return 1;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The descriptors' file names across the directories, sorted, each once. */
static int list_descriptors(const struct vhc_root *r, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;

        for (const enum vhc_path *p = vhc_path_list(VHC_PATHS_QEMU_FIRMWARE); *p != _VHC_PATH_MAX; p++) {
                _cleanup_free_ char *dir = vhc_root_path(r, *p);
                DIR *d;

                if (!dir)
                        return -ENOMEM;
                d = opendir(dir);
                if (!d)
                        continue;
                for (struct dirent *de; (de = readdir(d));) {
                        size_t n = strlen(de->d_name);
                        int k;

                        if (n < 6 || !streq(de->d_name + n - 5, ".json") || strv_contains(names, de->d_name))
                                continue;
                        k = strv_push_dup(&names, de->d_name);
                        if (k < 0) {
                                closedir(d);
                                return k;
                        }
                }
                closedir(d);
        }
        if (names)
                qsort(names, strv_length(names), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(names);
        return 0;
}

/* The descriptor that wins for name: the first directory that has it. NULL
 * and 0 when masked by an empty file. */
static int load_descriptor(const struct vhc_root *r, const char *name, json_object **ret, char **ret_path,
                           struct vhc_err *e) {
        for (const enum vhc_path *p = vhc_path_list(VHC_PATHS_QEMU_FIRMWARE); *p != _VHC_PATH_MAX; p++) {
                _cleanup_free_ char *abs = NULL, *path = NULL, *text = NULL;
                enum json_tokener_error jerr;
                json_object *o;
                size_t len;
                int k;

                if (asprintf(&abs, "%s/%s", vhc_path_abs(*p), name) < 0)
                        return -ENOMEM;
                path = vhc_root_join(r, abs);
                if (!path)
                        return -ENOMEM;
                k = vhc_read_file(path, DESCRIPTOR_MAX, &text, &len);
                if (k == -ENOENT)
                        continue;
                if (k < 0)
                        return vhc_err_set(e, k, path, 0, "cannot read: %s", strerror(-k));
                if (len == 0) {
                        *ret = NULL;
                        return 0;
                }
                o = json_tokener_parse_verbose(text, &jerr);
                if (!o)
                        return vhc_err_set(e, -EINVAL, path, 0, "not a firmware descriptor: %s",
                                           json_tokener_error_desc(jerr));
                *ret = o;
                *ret_path = TAKE_PTR(abs);
                return 0;
        }
        *ret = NULL;
        return 0;
}

static int find_in_descriptors(const struct vhc_root *r, bool secure_boot, struct vhc_firmware *ret,
                               struct vhc_err *e) {
        _cleanup_strv_free_ char **names = NULL;
        struct vhc_firmware qcow2 = {};
        int k;

        k = list_descriptors(r, &names);
        if (k < 0)
                return k;
        for (char **n = names; n && *n; n++) {
                _cleanup_free_ char *src = NULL;
                struct vhc_firmware f = {};
                json_object *d = NULL;

                k = load_descriptor(r, *n, &d, &src, e);
                if (k < 0)
                        goto fail;
                if (!d)
                        continue;
                k = match_descriptor(r, d, secure_boot, &f);
                json_object_put(d);
                if (k < 0) {
                        vhc_firmware_done(&f);
                        goto fail;
                }
                if (k == 0)
                        continue;
                f.source = TAKE_PTR(src);
                if (!f.qcow2) {
                        vhc_firmware_done(&qcow2);
                        *ret = f;
                        return 0;
                }
                if (!qcow2.code)
                        qcow2 = f;
                else
                        vhc_firmware_done(&f);
        }
        if (qcow2.code) {
                *ret = qcow2;
                return 0;
        }
        return -ENOENT;
fail:
        vhc_firmware_done(&qcow2);
        return k;
}

int vhc_firmware_find(const struct vhc_root *r, bool secure_boot, struct vhc_firmware *ret,
                      struct vhc_err *e) {
        int k;

        k = find_in_descriptors(r, secure_boot, ret, e);
        if (k != -ENOENT)
                return k;
        for (const struct vhc_ovmf_path *p = vhc_path_ovmf(); p->code; p++) {
                struct vhc_firmware f = {.secure_boot = secure_boot};

                if (p->secure_boot != secure_boot || !exists_on(r, p->code) || !exists_on(r, p->vars))
                        continue;
                f.code = strdup(p->code);
                f.vars = strdup(p->vars);
                if (!f.code || !f.vars) {
                        vhc_firmware_done(&f);
                        return -ENOMEM;
                }
                *ret = f;
                return 0;
        }
        return -ENOENT;
}
