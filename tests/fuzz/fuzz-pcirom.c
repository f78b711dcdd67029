/* SPDX-License-Identifier: MIT */
/* Properties of the option ROM parser on arbitrary bytes (a ROM read from a
 * device, or a file given to virt-guest-xml --rom); abort() on a violation. */
#include <stdint.h>

#include "pcirom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vhc_rom rom;
        struct vhc_rom_error e = {};
        size_t found;
        int r;

        r = vhc_pcirom_parse(data, size, &rom, &e);
        found = vhc_pcirom_find(data, size);
        /* find() says 0 exactly when the bytes parse from their start. */
        if ((r == 0) != (found == 0))
                abort();
        if (found != SIZE_MAX &&
            (found >= size || vhc_pcirom_parse(data + found, size - found, &rom, NULL) < 0))
                abort();
        if (r < 0) {
                if (r != -EINVAL || !e.what[0] || e.offset != 0)
                        abort();
                return 0;
        }
        if (rom.n == 0 || rom.n > VHC_ROM_MAX_IMAGES || rom.size > size)
                abort();
        for (size_t i = 0; i < rom.n; i++) {
                const struct vhc_rom_image *im = &rom.images[i];

                /* Each header is inside the bytes; images follow each other. */
                if (im->offset + 0x1a > size || data[im->offset] != 0x55 || data[im->offset + 1] != 0xaa)
                        abort();
                if (im->length == 0 || im->length % 512 != 0)
                        abort();
                if (i > 0 && im->offset != rom.images[i - 1].offset + rom.images[i - 1].length)
                        abort();
                if (im->last && i != rom.n - 1)
                        abort();
                if (im->code_type != VHC_ROM_CODE_EFI && (im->efi_valid || im->efi_machine))
                        abort();
                if (im->n_device_list > ELEMENTSOF(im->device_list))
                        abort();
                if (!vhc_pcirom_image_for(im, im->vendor_id, im->device_id))
                        abort();
        }
        if (!rom.truncated && !rom.images[rom.n - 1].last)
                abort();
        if (!rom.truncated && rom.size != rom.images[rom.n - 1].offset + rom.images[rom.n - 1].length)
                abort();
        return 0;
}
