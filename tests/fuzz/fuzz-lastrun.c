/* SPDX-License-Identifier: MIT */
/* The last-run record parser (lastrun.h) on arbitrary bytes. What parses
 * must hold one-line texts and only directories on the state path (revert
 * removes them), and format to text that parses again to the same text. A
 * refusal must leave the record empty and say why in one line. abort() on a
 * violation. */
#include <stdint.h>
#include <stdlib.h>

#include "lastrun.h"
#include "managed.h"

static void check_line(const char *s) {
        if (s && (!s[0] || strchr(s, '\n')))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), *out = NULL, *again = NULL;
        struct vhc_lastrun l, m;
        struct vhc_err e = {};

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (vhc_lastrun_parse(&l, text, "last-run.json", &e) < 0) {
                if (l.command || l.time || l.error || l.next_step || l.dirs || !e.msg[0] ||
                    strchr(e.msg, '\n'))
                        abort();
                free(text);
                return 0;
        }
        check_line(l.command);
        check_line(l.error);
        check_line(l.next_step);
        if (!l.command || !l.time || l.failed != !!l.error || l.failed != !!l.next_step)
                abort();
        for (size_t i = 0; l.dirs && l.dirs[i]; i++)
                if (!vhc_managed_dir(l.dirs[i]) || !startswith(vhc_path_abs(VHC_PATH_LAST_RUN), l.dirs[i]))
                        abort();
        if (vhc_lastrun_format(&l, &out) < 0)
                abort();
        if (vhc_lastrun_parse(&m, out, "again", &e) < 0 || vhc_lastrun_format(&m, &again) < 0 ||
            strcmp(out, again))
                abort();
        vhc_lastrun_done(&m);
        vhc_lastrun_done(&l);
        free(out);
        free(again);
        free(text);
        return 0;
}
