/* SPDX-License-Identifier: MIT */
/* The PE section table of a unified kernel image (boot/uki.h) on arbitrary
 * bytes: a section found lies where its header says, within the file's
 * size as given, and its text is at most its size. abort() on a violation;
 * ASan catches reads outside the buffer. */
#include <stdint.h>

#include "boot/uki.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = {".cmdline", ".uname", ".linux", ".osrel", "toolongname"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                struct vhc_uki_section s;
                int r = vhc_uki_find_section(data, size, names[i], &s);

                if (r < 0) {
                        if (r != -ENOENT && r != -EBADMSG && r != -EINVAL)
                                abort();
                        continue;
                }
                if (s.offset <= size && s.size <= size - s.offset) {
                        char *t = vhc_uki_section_text(data + s.offset, s.size);

                        if (!t || strlen(t) > s.size)
                                abort();
                        free(t);
                }
        }
        return 0;
}
