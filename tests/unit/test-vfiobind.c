/* SPDX-License-Identifier: MIT */
/* vfiobind: binding to vfio-pci at run time on a copy of a fake machine's
 * sysfs. The order of the writes is recorded by inotify, apart from the code
 * under test: driver_override, then unbind, then drivers_probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "root.h"
#include "vfiobind.h"

#define MACHINES SRCDIR "/tests/machines"

struct fixture {
        char dir[64];
        char root[128];
        struct vhc_root *r;
        int ino;
        struct {
                int wd;
                const char *name;
        } w[8];
        size_t n_w;
};

static void sh(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        assert_true(n > 0);
        assert_int_equal(system(cmd), 0);
}

/* A copy of machine m, with the PCI core's drivers_probe attribute (the
 * machines' trees have no write-only attributes). */
static void setup(struct fixture *f, const char *m) {
        *f = (struct fixture){.ino = -1};
        snprintf(f->dir, sizeof(f->dir), "/tmp/vhc-vfiobind.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->root, sizeof(f->root), "%s/m", f->dir);
        sh("cp -a '%s/%s' '%s' && : > '%s/sys/bus/pci/drivers_probe'", MACHINES, m, f->root, f->root);
        assert_int_equal(vhc_root_new(f->root, &f->r), 0);
        f->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(f->ino >= 0);
}

static void teardown(struct fixture *f) {
        if (f->ino >= 0)
                close(f->ino);
        vhc_root_free(f->r);
        sh("rm -rf '%s'", f->dir);
}

static void watch(struct fixture *f, const char *rel, const char *name) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/%s", f->root, rel) > 0);
        f->w[f->n_w].wd = inotify_add_watch(f->ino, path, IN_MODIFY);
        assert_true(f->w[f->n_w].wd >= 0);
        f->w[f->n_w++].name = name;
}

/* The names of the watched files written, in order, space-separated. */
static char *writes(struct fixture *f) {
        _Alignas(struct inotify_event) char buf[4096];
        char *out = calloc(1, 512);
        ssize_t n;

        assert_non_null(out);
        while ((n = read(f->ino, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + n;
                     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
                        for (size_t i = 0; i < f->n_w; i++)
                                if (f->w[i].wd == ((struct inotify_event *)p)->wd) {
                                        if (out[0])
                                                strcat(out, " ");
                                        strcat(out, f->w[i].name);
                                }
        return out;
}

static char *slurp(struct fixture *f, const char *rel) {
        _cleanup_free_ char *path = NULL;
        char *text = NULL;
        size_t len;

        assert_true(asprintf(&path, "%s/%s", f->root, rel) > 0);
        assert_int_equal(vhc_read_machine_file(path, &text, &len, &(struct vhc_err){}), 0);
        assert_non_null(text);
        return text;
}

#define GTX "sys/bus/pci/devices/0000:01:00.0"

/* The GTX 1080 on nouveau: override, unbind from nouveau, probe. */
static void test_bind_bound(void **state) {
        struct fixture f;
        struct vhc_vfio_bound b = {};
        struct vhc_err e = {};
        _cleanup_free_ char *order = NULL, *ovr = NULL, *unb = NULL, *probe = NULL;

        setup(&f, "intel-nvidia");
        sh("printf '' > '%s/sys/bus/pci/drivers/nouveau/unbind'", f.root);
        watch(&f, GTX "/driver_override", "override");
        watch(&f, "sys/bus/pci/drivers/nouveau/unbind", "unbind");
        watch(&f, "sys/bus/pci/drivers_probe", "probe");
        assert_int_equal(vhc_vfio_bind(f.r, "0000:01:00.0", 0x10de, 0x1b80, &b, &e), 0);
        order = writes(&f);
        assert_string_equal(order, "override unbind probe");
        assert_true(b.changed);
        assert_string_equal(b.was, "nouveau");
        ovr = slurp(&f, GTX "/driver_override");
        unb = slurp(&f, "sys/bus/pci/drivers/nouveau/unbind");
        probe = slurp(&f, "sys/bus/pci/drivers_probe");
        assert_true(strncmp(ovr, "vfio-pci", 8) == 0);
        assert_string_equal(unb, "0000:01:00.0");
        assert_string_equal(probe, "0000:01:00.0");
        free(b.was);
        free(b.now);
        teardown(&f);
}

/* No driver: override and probe, nothing to unbind. */
static void test_bind_unbound(void **state) {
        struct fixture f;
        struct vhc_vfio_bound b = {};
        struct vhc_err e = {};
        _cleanup_free_ char *order = NULL;

        setup(&f, "intel-nvidia");
        sh("rm '%s/" GTX "/driver' && printf '' > '%s/sys/bus/pci/drivers/nouveau/unbind'", f.root, f.root);
        watch(&f, GTX "/driver_override", "override");
        watch(&f, "sys/bus/pci/drivers/nouveau/unbind", "unbind");
        watch(&f, "sys/bus/pci/drivers_probe", "probe");
        assert_int_equal(vhc_vfio_bind(f.r, "0000:01:00.0", 0x10de, 0x1b80, &b, &e), 0);
        order = writes(&f);
        assert_string_equal(order, "override probe");
        assert_null(b.was);
        free(b.now);
        teardown(&f);
}

/* Already on vfio-pci (the RX 580 of rx580-polaris): nothing written. */
static void test_bind_already(void **state) {
        struct fixture f;
        struct vhc_vfio_bound b = {};
        struct vhc_err e = {};
        _cleanup_free_ char *order = NULL;

        setup(&f, "rx580-polaris");
        watch(&f, "sys/bus/pci/devices/0000:01:00.0/driver_override", "override");
        watch(&f, "sys/bus/pci/drivers_probe", "probe");
        assert_int_equal(vhc_vfio_bind(f.r, "0000:01:00.0", 0x1002, 0x67df, &b, &e), 0);
        order = writes(&f);
        assert_string_equal(order, "");
        assert_false(b.changed);
        assert_string_equal(b.now, "vfio-pci");
        free(b.was);
        free(b.now);
        teardown(&f);
}

/* Another card in the slot than the one planned: refused, nothing written. */
static void test_bind_other_card(void **state) {
        struct fixture f;
        struct vhc_vfio_bound b = {};
        struct vhc_err e = {};
        _cleanup_free_ char *order = NULL;

        setup(&f, "intel-nvidia");
        watch(&f, GTX "/driver_override", "override");
        watch(&f, "sys/bus/pci/drivers_probe", "probe");
        assert_int_equal(vhc_vfio_bind(f.r, "0000:01:00.0", 0x10de, 0x1b81, &b, &e), -ESTALE);
        assert_non_null(strstr(e.msg, "not the planned 10de:1b81"));
        order = writes(&f);
        assert_string_equal(order, "");
        assert_int_equal(vhc_vfio_bind(f.r, "../0000:01:00.0", 0x10de, 0x1b80, &b, &e), -EINVAL);
        teardown(&f);
}

/* A plan: each isolated device in turn, each in the order above, and no
 * other device touched. */
static void test_bind_plan(void **state) {
        struct fixture f;
        struct vhc_err e = {};
        struct vhc_pci_dev gtx = {.address = "0000:01:00.0", .vendor_id = 0x10de, .device_id = 0x1b80};
        struct vhc_pci_dev hda = {.address = "0000:01:00.1", .vendor_id = 0x10de, .device_id = 0x10f0};
        struct vhc_pci_dev igd = {.address = "0000:00:02.0", .vendor_id = 0x8086, .device_id = 0x3e92};
        struct vhc_plan_entry entries[] = {
                {.dev = &igd, .action = VHC_ACTION_KEEP},
                {.dev = &gtx, .action = VHC_ACTION_ISOLATE},
                {.dev = &hda, .action = VHC_ACTION_ISOLATE},
        };
        struct vhc_plan p = {.entries = entries, .n = ELEMENTSOF(entries)};
        struct vhc_vfio_binding b = {};
        _cleanup_free_ char *order = NULL;

        setup(&f, "intel-nvidia");
        sh("printf '' > '%1$s/sys/bus/pci/drivers/nouveau/unbind' && printf '' > "
           "'%1$s/sys/bus/pci/drivers/snd_hda_intel/unbind' && printf '' > "
           "'%1$s/sys/bus/pci/drivers/i915/unbind'",
           f.root);
        watch(&f, GTX "/driver_override", "gtx-override");
        watch(&f, "sys/bus/pci/drivers/nouveau/unbind", "gtx-unbind");
        watch(&f, "sys/bus/pci/devices/0000:01:00.1/driver_override", "hda-override");
        watch(&f, "sys/bus/pci/drivers/snd_hda_intel/unbind", "hda-unbind");
        watch(&f, "sys/bus/pci/drivers_probe", "probe");
        watch(&f, "sys/bus/pci/devices/0000:00:02.0/driver_override", "igd-override");
        watch(&f, "sys/bus/pci/drivers/i915/unbind", "igd-unbind");
        assert_int_equal(vhc_vfio_bind_plan(f.r, &p, &b, &e), 0);
        order = writes(&f);
        assert_string_equal(order, "gtx-override gtx-unbind probe hda-override hda-unbind probe");
        assert_int_equal(b.n, 2);
        assert_string_equal(b.v[1].address, "0000:01:00.1");
        assert_string_equal(b.v[1].was, "snd_hda_intel");
        vhc_vfio_binding_done(&b);
        teardown(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bind_bound),   cmocka_unit_test(test_bind_unbound),
                cmocka_unit_test(test_bind_already), cmocka_unit_test(test_bind_other_card),
                cmocka_unit_test(test_bind_plan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
