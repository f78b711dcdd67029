/* SPDX-License-Identifier: MIT */
/* The state record parser (state.h) on arbitrary bytes. What parses must
 * hold only clean absolute paths (managed.h: never a "..", never relative),
 * format to text that parses again to the same text, and the managed-path
 * check must not crash on it. A refusal must leave the state empty and say
 * why in one line. abort() on a violation. */
#include <stdint.h>
#include <stdlib.h>

#include "managed.h"
#include "state.h"

static void check_clean(const char *p) {
        if (!vhc_managed_path_clean(p))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct vhc_root *root;
        char *text = malloc(size + 1), *out = NULL, *again = NULL;
        struct vhc_state s, t;
        struct vhc_err e = {};

        if (!text)
                return 0;
        if (!root && vhc_root_new("/tmp", &root) < 0)
                abort();
        memcpy(text, data, size);
        text[size] = '\0';
        vhc_state_init(&s);
        if (vhc_state_parse(&s, text, "state.json", &e) < 0) {
                if (!vhc_state_empty(&s) || !e.msg[0] || strchr(e.msg, '\n'))
                        abort();
                free(text);
                return 0;
        }
        for (size_t i = 0; i < s.n_kargs; i++)
                check_clean(s.kargs[i].file);
        for (size_t i = 0; i < s.n_files; i++)
                check_clean(s.files[i].path);
        for (size_t i = 0; i < s.n_created; i++)
                check_clean(s.created[i].path);
        for (size_t i = 0; s.dirs && s.dirs[i]; i++)
                check_clean(s.dirs[i]);
        for (size_t i = 0; s.boot_entries && s.boot_entries[i]; i++)
                check_clean(s.boot_entries[i]);
        e = (struct vhc_err){};
        if (vhc_state_check_managed(&s, root, "state.json", &e) < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
                abort();
        if (vhc_state_format(&s, &out) < 0)
                abort();
        vhc_state_init(&t);
        if (vhc_state_parse(&t, out, "again", &e) < 0 || vhc_state_format(&t, &again) < 0 ||
            strcmp(out, again))
                abort();
        vhc_state_done(&t);
        vhc_state_done(&s);
        free(out);
        free(again);
        free(text);
        return 0;
}
