/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>
#include <time.h>

#include "change.h"
#include "fileio.h"
#include "lastrun.h"
#include "managed.h"
#include "recover.h"
#include "state.h"
#include "strv.h"

void vhc_lastrun_done(struct vhc_lastrun *l) {
        free(l->command);
        free(l->time);
        free(l->error);
        free(l->next_step);
        strv_free(l->dirs);
        *l = (struct vhc_lastrun){};
}

static const char *const commands[] = {"apply", "apply --defer", "apply --first-boot", "revert"};

static bool known_command(const char *c) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(c, commands[i]))
                        return true;
        return false;
}

/* "YYYY-MM-DDTHH:MM:SSZ", each field in its range. */
static bool iso_time(const char *t) {
        static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
        struct tm tm = {};
        const char *end;

        if (strlen(t) != sizeof(pattern) - 1)
                return false;
        for (size_t i = 0; pattern[i]; i++)
                if (pattern[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != pattern[i])
                        return false;
        end = strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return end && !*end;
}

/* One line of text: what status and check print must stay one line. */
static bool one_line(const char *s) {
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        return s[0] != '\0';
}

/* The value of key: NULL if absent; *bad if not a string (or null when nullable). */
static const char *get_string(json_object *o, const char *key, bool nullable, bool *bad) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return NULL;
        if (!v && nullable)
                return NULL;
        if (!json_object_is_type(v, json_type_string)) {
                *bad = true;
                return NULL;
        }
        return json_object_get_string(v);
}

static int refuse(struct vhc_err *e, const char *name, const char *why) {
        return vhc_err_set(e, -EINVAL, name, 0,
                           "not a last-run record of virt-host-config (%s): remove it; the next apply or "
                           "revert writes a new one",
                           why);
}

static int parse_object(struct vhc_lastrun *l, json_object *root, const char *name, struct vhc_err *e) {
        static const char *const keys[] = {"version", "command",   "time", "result",
                                           "error",   "next_step", "dirs"};
        const char *command, *time, *result, *error, *next_step;
        json_object *v, *dirs = NULL;
        char why[160];
        bool bad = false;

        json_object_object_foreach(root, key, val) {
                bool known = false;

                (void)val;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        known |= streq(key, keys[i]);
                if (!known) {
                        snprintf(why, sizeof(why), "unknown key \"%.60s\"", key);
                        for (char *c = why; *c; c++)
                                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                                        *c = '?';
                        return refuse(e, name, why);
                }
        }
        if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int))
                return refuse(e, name, "no \"version\" number");
        if (json_object_get_int64(v) != VHC_LASTRUN_VERSION)
                return vhc_err_set(e, -EINVAL, name, 0,
                                   "unknown last-run record version %" PRId64
                                   " (this virt-host-config reads %d): "
                                   "written by a newer version? remove it",
                                   json_object_get_int64(v), VHC_LASTRUN_VERSION);
        command = get_string(root, "command", false, &bad);
        time = get_string(root, "time", false, &bad);
        result = get_string(root, "result", false, &bad);
        error = get_string(root, "error", true, &bad);
        next_step = get_string(root, "next_step", true, &bad);
        if (bad)
                return refuse(e, name, "a value that is not a string");
        if (!command || !known_command(command))
                return refuse(e, name,
                              "\"command\" is not apply, apply --defer, apply --first-boot or revert");
        if (!time || !iso_time(time))
                return refuse(e, name, "\"time\" is not YYYY-MM-DDTHH:MM:SSZ");
        if (!result || (!streq(result, "ok") && !streq(result, "failed")))
                return refuse(e, name, "\"result\" is not \"ok\" or \"failed\"");
        l->failed = streq(result, "failed");
        if (l->failed != !!error || l->failed != !!next_step)
                return refuse(e, name,
                              "\"error\" and \"next_step\" must be strings when failed, null when ok");
        if ((error && !one_line(error)) || (next_step && !one_line(next_step)))
                return refuse(e, name, "\"error\" or \"next_step\" is empty or not one line");
        if (json_object_object_get_ex(root, "dirs", &dirs) && !json_object_is_type(dirs, json_type_array))
                return refuse(e, name, "\"dirs\" is not an array");
        for (size_t i = 0; dirs && i < json_object_array_length(dirs); i++) {
                json_object *d = json_object_array_get_idx(dirs, i);
                const char *s = json_object_is_type(d, json_type_string) ? json_object_get_string(d) : NULL;
                int r;

                /* Revert removes these: only the state directory and its parents. */
                if (!s || !vhc_managed_dir(s) || !startswith(vhc_path_abs(VHC_PATH_LAST_RUN), s)) {
                        snprintf(why, sizeof(why),
                                 "dirs entry %zu is not the state directory or a parent of it", i);
                        return refuse(e, name, why);
                }
                if (strv_contains(l->dirs, s))
                        continue;
                r = strv_push_dup(&l->dirs, s);
                if (r < 0)
                        return r;
        }
        if (!(l->command = strdup(command)) || !(l->time = strdup(time)) ||
            (error && !(l->error = strdup(error))) || (next_step && !(l->next_step = strdup(next_step))))
                return -ENOMEM;
        return 0;
}

int vhc_lastrun_parse(struct vhc_lastrun *l, const char *text, const char *name, struct vhc_err *e) {
        json_object *root = vhc_json_parse_strict(text);
        int r;

        *l = (struct vhc_lastrun){};
        if (!root || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return refuse(e, name, "broken JSON");
        }
        r = parse_object(l, root, name, e);
        json_object_put(root);
        if (r < 0)
                vhc_lastrun_done(l);
        return r;
}

int vhc_lastrun_format(const struct vhc_lastrun *l, char **ret) {
        json_object *root = json_object_new_object(), *dirs = json_object_new_array();
        const char *text;
        char *out = NULL;

        if (!root || !dirs) {
                json_object_put(root);
                json_object_put(dirs);
                return -ENOMEM;
        }
        json_object_object_add(root, "version", json_object_new_int(VHC_LASTRUN_VERSION));
        json_object_object_add(root, "command", json_object_new_string(l->command));
        json_object_object_add(root, "time", json_object_new_string(l->time));
        json_object_object_add(root, "result", json_object_new_string(l->failed ? "failed" : "ok"));
        json_object_object_add(root, "error", l->error ? json_object_new_string(l->error) : NULL);
        json_object_object_add(root, "next_step",
                               l->next_step ? json_object_new_string(l->next_step) : NULL);
        for (size_t i = 0; l->dirs && l->dirs[i]; i++)
                json_object_array_add(dirs, json_object_new_string(l->dirs[i]));
        json_object_object_add(root, "dirs", dirs);
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        if (text)
                out = strprintf("%s\n", text);
        json_object_put(root);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

int vhc_lastrun_load(const struct vhc_root *r, struct vhc_lastrun *l, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_LAST_RUN), *text = NULL;
        size_t len;
        int k;

        *l = (struct vhc_lastrun){};
        if (!path)
                return -ENOMEM;
        k = vhc_read_own_file(path, &text, &len, e);
        if (k < 0)
                return k;
        if (!text)
                return -ENOENT;
        if (strlen(text) != len)
                return vhc_err_set(e, -EINVAL, path, 0,
                                   "not a last-run record of virt-host-config (a NUL byte): "
                                   "remove it; the next apply or revert writes a new one");
        return vhc_lastrun_parse(l, text, path, e);
}

int vhc_lastrun_save(const struct vhc_root *r, struct vhc_lastrun *l, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_LAST_RUN), *text = NULL;
        _cleanup_strv_free_ char **made = NULL;
        int k;

        if (!path)
                return -ENOMEM;
        k = vhc_missing_dirs(r, vhc_path_abs(VHC_PATH_STATE_DIR), &made);
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot create its directory: %s", strerror(-k));
        for (size_t i = 0; made && made[i]; i++) {
                _cleanup_free_ char *p = vhc_root_join_nofollow(r, made[i]);

                if (!p)
                        return -ENOMEM;
                k = vhc_mkdir_label(p, 0755, made[i]);
                if (k < 0)
                        return vhc_err_set(e, k, p, 0, "cannot create: %s", strerror(-k));
                if (k > 0 && !strv_contains(l->dirs, made[i]) && strv_push_dup(&l->dirs, made[i]) < 0)
                        return -ENOMEM;
        }
        (void)vhc_recover_temps(path);
        k = vhc_lastrun_format(l, &text);
        if (k < 0)
                return k;
        k = vhc_write_file_atomic(path, text, strlen(text), 0644, vhc_path_abs(VHC_PATH_LAST_RUN));
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot write: %s", strerror(-k));
        return 0;
}

int vhc_lastrun_remove(const struct vhc_root *r, const struct vhc_lastrun *l, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_path(r, VHC_PATH_LAST_RUN);
        int k;

        if (!path)
                return -ENOMEM;
        (void)vhc_recover_temps(path);
        k = vhc_remove_file(path);
        if (k < 0 && k != -ENOENT && k != -ENOTDIR)
                return vhc_err_set(e, k, path, 0, "cannot remove: %s", strerror(-k));
        for (size_t i = strv_length(l->dirs); i-- > 0;) {
                _cleanup_free_ char *p = vhc_root_join_nofollow(r, l->dirs[i]);

                if (!p)
                        return -ENOMEM;
                k = vhc_rmdir(p);
                /* Not empty (another's file, a new state record), or not ours any more. */
                if (k == -ENOTEMPTY || k == -EEXIST || k == -ENOTDIR)
                        continue;
                if (k < 0)
                        return vhc_err_set(e, k, p, 0, "cannot remove directory: %s", strerror(-k));
        }
        return 0;
}

char *vhc_lastrun_now(void) {
        const char *fixed = getenv("VHC_NOW");
        time_t t = time(NULL);
        char buf[32];
        struct tm tm;

        if (fixed && fixed[0]) {
                char *end;
                long long v;

                errno = 0;
                v = strtoll(fixed, &end, 10);
                if (errno == 0 && !*end && v >= 0 && v < 253402300800LL) /* before year 10000 */
                        t = (time_t)v;
        }
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return strdup("1970-01-01T00:00:00Z");
        return strdup(buf);
}

char *vhc_lastrun_time_human(const char *iso) {
        if (!iso_time(iso))
                return strdup(iso);
        return strprintf("%.10s %.8s UTC", iso, iso + 11);
}
