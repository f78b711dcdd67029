/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lastrun.h"
#include "strv.h"

static const char failed_text[] = "{\n"
                                  "  \"version\": 1,\n"
                                  "  \"command\": \"apply --defer\",\n"
                                  "  \"time\": \"2026-12-04T18:00:00Z\",\n"
                                  "  \"result\": \"failed\",\n"
                                  "  \"error\": \"/etc/default/grub:9: unbalanced double quote\",\n"
                                  "  \"next_step\": \"sudo virt-host-config apply\",\n"
                                  "  \"dirs\": [\n"
                                  "    \"/var/lib/virt-host-config\"\n"
                                  "  ]\n"
                                  "}\n";

static void test_roundtrip(void **state) {
        struct vhc_lastrun l;
        struct vhc_err e = {};
        char *out = NULL;

        assert_int_equal(vhc_lastrun_parse(&l, failed_text, "last-run.json", &e), 0);
        assert_string_equal(l.command, "apply --defer");
        assert_string_equal(l.time, "2026-12-04T18:00:00Z");
        assert_true(l.failed);
        assert_string_equal(l.error, "/etc/default/grub:9: unbalanced double quote");
        assert_string_equal(l.next_step, "sudo virt-host-config apply");
        assert_int_equal(strv_length(l.dirs), 1);
        assert_int_equal(vhc_lastrun_format(&l, &out), 0);
        assert_string_equal(out, failed_text);
        free(out);
        vhc_lastrun_done(&l);
}

static void test_ok(void **state) {
        struct vhc_lastrun l = {.command = (char *)"revert", .time = (char *)"2026-01-31T23:59:59Z"}, m;
        struct vhc_err e = {};
        char *out = NULL;

        assert_int_equal(vhc_lastrun_format(&l, &out), 0);
        assert_non_null(strstr(out, "\"result\": \"ok\""));
        assert_non_null(strstr(out, "\"error\": null"));
        assert_non_null(strstr(out, "\"next_step\": null"));
        assert_int_equal(vhc_lastrun_parse(&m, out, "x", &e), 0);
        assert_false(m.failed);
        assert_null(m.error);
        assert_null(m.next_step);
        assert_string_equal(m.command, "revert");
        vhc_lastrun_done(&m);
        free(out);
}

#define OK_HEAD "{\"version\": 1, \"command\": \"apply\", \"time\": \"2026-12-04T18:00:00Z\", "

static void test_refused(void **state) {
        static const char *const bad[] = {
                "",
                "[]",
                "{\"version\": 1, \"command\": \"apply\", \"time\": \"2026-12-04T18:00:00Z\", \"result\": "
                "\"ok\",}",
                "{\"version\": 2, \"command\": \"apply\", \"time\": \"2026-12-04T18:00:00Z\", \"result\": "
                "\"ok\"}",
                "{\"command\": \"apply\", \"time\": \"2026-12-04T18:00:00Z\", \"result\": \"ok\"}",
                "{\"version\": \"1\", \"command\": \"apply\", \"time\": \"2026-12-04T18:00:00Z\", "
                "\"result\": \"ok\"}",
                OK_HEAD "\"result\": \"ok\", \"extra\": 1}",
                OK_HEAD "\"result\": \"maybe\"}",
                OK_HEAD "\"result\": \"failed\"}",
                OK_HEAD "\"result\": \"failed\", \"error\": \"x\"}",
                OK_HEAD "\"result\": \"failed\", \"error\": \"x\\ny\", \"next_step\": \"z\"}",
                OK_HEAD "\"result\": \"failed\", \"error\": \"\", \"next_step\": \"z\"}",
                OK_HEAD "\"result\": \"ok\", \"error\": \"x\", \"next_step\": \"z\"}",
                OK_HEAD "\"result\": \"ok\", \"error\": 1}",
                OK_HEAD "\"result\": \"ok\", \"dirs\": [\"/etc\"]}",
                OK_HEAD "\"result\": \"ok\", \"dirs\": [\"/var/lib/../etc\"]}",
                OK_HEAD "\"result\": \"ok\", \"dirs\": [1]}",
                OK_HEAD "\"result\": \"ok\", \"dirs\": \"/var\"}",
                "{\"version\": 1, \"command\": \"rm -rf\", \"time\": \"2026-12-04T18:00:00Z\", \"result\": "
                "\"ok\"}",
                "{\"version\": 1, \"command\": \"apply\", \"time\": \"yesterday\", \"result\": \"ok\"}",
                "{\"version\": 1, \"command\": \"apply\", \"time\": \"2026-13-04T18:00:00Z\", \"result\": "
                "\"ok\"}",
                "{\"version\": 1, \"command\": \"apply\", \"time\": \"2026-12-04 18:00:00\", \"result\": "
                "\"ok\"}",
                OK_HEAD "\"result\": \"ok\"} trailing",
                NULL,
        };

        for (size_t i = 0; bad[i]; i++) {
                struct vhc_lastrun l;
                struct vhc_err e = {};

                if (vhc_lastrun_parse(&l, bad[i], "/var/lib/virt-host-config/last-run.json", &e) >= 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_null(l.command);
                assert_null(l.dirs);
                assert_string_equal(e.file, "/var/lib/virt-host-config/last-run.json");
                assert_non_null(e.msg[0] ? e.msg : NULL);
                assert_null(strchr(e.msg, '\n'));
        }
}

static void test_minimal(void **state) {
        struct vhc_lastrun l;
        struct vhc_err e = {};

        /* dirs may be absent; error and next_step null or absent when ok. */
        assert_int_equal(vhc_lastrun_parse(&l, OK_HEAD "\"result\": \"ok\"}", "x", &e), 0);
        assert_null(l.dirs);
        vhc_lastrun_done(&l);
        assert_int_equal(vhc_lastrun_parse(&l,
                                           OK_HEAD
                                           "\"result\": \"ok\", \"error\": null, \"next_step\": null, "
                                           "\"dirs\": [\"/var/lib\", \"/var/lib/virt-host-config\"]}",
                                           "x", &e),
                         0);
        assert_int_equal(strv_length(l.dirs), 2);
        vhc_lastrun_done(&l);
}

static void test_now(void **state) {
        char *t, *h;

        assert_int_equal(setenv("VHC_NOW", "1796407200", 1), 0);
        t = vhc_lastrun_now();
        assert_string_equal(t, "2026-12-04T18:00:00Z");
        h = vhc_lastrun_time_human(t);
        assert_string_equal(h, "2026-12-04 18:00:00 UTC");
        free(t);
        free(h);
        /* Not a number: the clock. */
        assert_int_equal(setenv("VHC_NOW", "soon", 1), 0);
        t = vhc_lastrun_now();
        assert_int_equal(strlen(t), 20);
        free(t);
        assert_int_equal(unsetenv("VHC_NOW"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_ok),  cmocka_unit_test(test_refused),
                cmocka_unit_test(test_minimal),   cmocka_unit_test(test_now),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
