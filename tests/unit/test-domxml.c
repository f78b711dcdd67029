/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domxml.h"

static const struct vhc_firmware fw_plain = {
        .code = (char *)"/usr/share/edk2/ovmf/OVMF_CODE.fd",
        .vars = (char *)"/usr/share/edk2/ovmf/OVMF_VARS.fd",
};
static const struct vhc_firmware fw_sb = {
        .code = (char *)"/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
        .vars = (char *)"/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd",
        .secure_boot = true,
};

static struct vhc_guest base(void) {
        return (struct vhc_guest){
                .name = "my-guest",
                .memory_kib = 8 * 1024 * 1024,
                .vcpus = 4,
                .os = VHC_GUEST_WIN10,
                .fw = &fw_plain,
        };
}

static char *render(const struct vhc_guest *g) {
        struct vhc_err e = {};
        char *xml = NULL, *again = NULL;
        size_t len = 0, len2 = 0;

        assert_int_equal(vhc_domxml_render(g, &xml, &len, &e), 0);
        assert_string_equal(e.msg, "");
        assert_int_equal(strlen(xml), len);
        /* The same description gives the same bytes. */
        assert_int_equal(vhc_domxml_render(g, &again, &len2, &e), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(xml, again, len);
        free(again);
        return xml;
}

static void render_fails(const struct vhc_guest *g, const char *want) {
        struct vhc_err e = {};
        char *xml = NULL;
        size_t len = 0;

        assert_int_equal(vhc_domxml_render(g, &xml, &len, &e), -EINVAL);
        assert_null(xml);
        assert_non_null(strstr(e.msg, want));
}

/* needle occurs in hay, and before needle2 when that is given. */
static void has(const char *hay, const char *needle) {
        if (!strstr(hay, needle))
                fail_msg("missing: %s\nin:\n%s", needle, hay);
}
static void hasnt(const char *hay, const char *needle) {
        if (strstr(hay, needle))
                fail_msg("unexpected: %s\nin:\n%s", needle, hay);
}
static void before(const char *hay, const char *a, const char *b) {
        const char *pa = strstr(hay, a), *pb = strstr(hay, b);

        if (!pa || !pb || pa > pb)
                fail_msg("want %s before %s in:\n%s", a, b, hay);
}

static void test_os_names(void **state) {
        enum vhc_guest_os os;

        assert_int_equal(vhc_guest_os_from_string("win10", &os), 0);
        assert_int_equal(os, VHC_GUEST_WIN10);
        assert_int_equal(vhc_guest_os_from_string("win11", &os), 0);
        assert_int_equal(os, VHC_GUEST_WIN11);
        assert_int_equal(vhc_guest_os_from_string("linux", &os), 0);
        assert_int_equal(os, VHC_GUEST_LINUX);
        assert_int_equal(vhc_guest_os_from_string("win7", &os), -EINVAL);
        assert_string_equal(vhc_guest_os_to_string(VHC_GUEST_WIN11), "win11");
}

static void test_win10(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = render(&g);

        assert_true(startswith(xml, "<domain type=\"kvm\">\n  <name>my-guest</name>\n"));
        has(xml, "<libosinfo:os id=\"http://microsoft.com/win/10\"/>");
        has(xml, "<memory unit=\"KiB\">8388608</memory>");
        has(xml, "<vcpu placement=\"static\">4</vcpu>");
        has(xml, "<type arch=\"x86_64\" machine=\"q35\">hvm</type>");
        has(xml, "<loader readonly=\"yes\" secure=\"no\" "
                 "type=\"pflash\">/usr/share/edk2/ovmf/OVMF_CODE.fd</loader>");
        has(xml, "<nvram template=\"/usr/share/edk2/ovmf/OVMF_VARS.fd\"/>");
        hasnt(xml, "<boot dev=\"cdrom\"/>");
        has(xml, "<spinlocks state=\"on\" retries=\"8191\"/>");
        before(xml, "<relaxed state=\"on\"/>", "<ipi state=\"on\"/>");
        has(xml, "<clock offset=\"localtime\">");
        has(xml, "<timer name=\"hypervclock\" present=\"yes\"/>");
        has(xml, "<timer name=\"hpet\" present=\"no\"/>");
        has(xml, "<topology sockets=\"1\" dies=\"1\" cores=\"4\" threads=\"1\"/>");
        has(xml, "<tpm model=\"tpm-crb\">");
        has(xml, "<model type=\"qxl\" heads=\"1\" primary=\"yes\"/>");
        has(xml, "<listen type=\"address\" address=\"127.0.0.1\"/>");
        has(xml, "<memballoon model=\"virtio\"/>");
        hasnt(xml, "<kvm>");
        hasnt(xml, "<smm");
        hasnt(xml, "<hostdev");
        hasnt(xml, "<rng");
        hasnt(xml, "<?xml");
        assert_true(xml[strlen(xml) - 1] == '\n');
}

static void test_win11(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.os = VHC_GUEST_WIN11;
        g.fw = &fw_sb;
        xml = render(&g);
        has(xml, "http://microsoft.com/win/11");
        has(xml, "secure=\"yes\"");
        has(xml, "<smm state=\"on\"/>");
        has(xml, "<backend type=\"emulator\" version=\"2.0\"/>");
}

static void test_linux(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.os = VHC_GUEST_LINUX;
        xml = render(&g);
        hasnt(xml, "<hyperv");
        hasnt(xml, "hypervclock");
        hasnt(xml, "<tpm");
        has(xml, "<clock offset=\"utc\">");
        has(xml, "<model type=\"virtio\" heads=\"1\" primary=\"yes\"/>");
        has(xml, "<backend model=\"random\">/dev/urandom</backend>");
}

static void test_no_firmware(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL, *xml11 = NULL;

        g.fw = NULL;
        xml = render(&g);
        has(xml, "<os firmware=\"efi\">");
        has(xml, "<feature enabled=\"no\" name=\"secure-boot\"/>");
        hasnt(xml, "<loader");
        g.os = VHC_GUEST_WIN11;
        xml11 = render(&g);
        has(xml11, "<feature enabled=\"yes\" name=\"secure-boot\"/>");
        has(xml11, "<feature enabled=\"yes\" name=\"enrolled-keys\"/>");
}

static void test_qcow2_firmware(void **state) {
        struct vhc_firmware fw = fw_plain;
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        fw.qcow2 = true;
        g.fw = &fw;
        xml = render(&g);
        has(xml, "type=\"pflash\" format=\"qcow2\">");
        has(xml, "<nvram template=\"/usr/share/edk2/ovmf/OVMF_VARS.fd\" format=\"qcow2\"/>");
}

static void test_disks(void **state) {
        static char *isos[30];
        struct vhc_guest_disk disks[] = {
                {.path = "/var/lib/libvirt/images/my-guest.qcow2", .size_gib = 100},
                {.path = "/srv/data.img"},
        };
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        for (size_t i = 0; i < 27; i++)
                assert_true(asprintf(&isos[i], "/iso/%zu.iso", i) > 0);
        g.disks = disks;
        g.n_disks = ELEMENTSOF(disks);
        g.cdroms = isos;
        g.virtio_win = "/usr/share/virtio-win/virtio-win.iso";
        xml = render(&g);
        has(xml, "<!-- create the disk before the first start: qemu-img create -f qcow2 "
                 "/var/lib/libvirt/images/my-guest.qcow2 100G -->");
        has(xml, "<driver name=\"qemu\" type=\"qcow2\" discard=\"unmap\"/>");
        has(xml, "<driver name=\"qemu\" type=\"raw\" discard=\"unmap\"/>");
        has(xml, "<target dev=\"sda\" bus=\"scsi\"/>");
        has(xml, "<target dev=\"sdb\" bus=\"scsi\"/>");
        has(xml, "<source file=\"/iso/0.iso\"/>\n      <target dev=\"sdc\" bus=\"sata\"/>");
        has(xml, "<source file=\"/iso/23.iso\"/>\n      <target dev=\"sdz\" bus=\"sata\"/>");
        has(xml, "<source file=\"/iso/24.iso\"/>\n      <target dev=\"sdaa\" bus=\"sata\"/>");
        /* The driver ISO comes after the installation media. */
        has(xml, "<source file=\"/usr/share/virtio-win/virtio-win.iso\"/>\n      <target dev=\"sdad\" "
                 "bus=\"sata\"/>");
        before(xml, "<boot dev=\"cdrom\"/>", "<boot dev=\"hd\"/>");
        for (size_t i = 0; i < 27; i++)
                free(isos[i]);
}

static void test_escaping(void **state) {
        struct vhc_guest_disk disk = {.path = "/srv/a&b<c>\"d\".img"};
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.name = "R&D <lab>";
        g.disks = &disk;
        g.n_disks = 1;
        xml = render(&g);
        has(xml, "<name>R&amp;D &lt;lab&gt;</name>");
        has(xml, "<source file=\"/srv/a&amp;b&lt;c&gt;&quot;d&quot;.img\"/>");
}

static void test_hostdevs(void **state) {
        /* A GPU with audio, USB-C and UCSI functions, and a second card. */
        struct vhc_guest_hostdev h[] = {
                {0, 1, 0, 0}, {0, 1, 0, 1}, {0, 1, 0, 2}, {0, 1, 0, 3}, {0, 0x0a, 0, 0},
        };
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.hostdevs = h;
        g.n_hostdevs = ELEMENTSOF(h);
        xml = render(&g);
        has(xml, "<controller type=\"pci\" index=\"0\" model=\"pcie-root\"/>\n"
                 "    <controller type=\"pci\" index=\"1\" model=\"pcie-root-port\"/>\n"
                 "    <controller type=\"pci\" index=\"2\" model=\"pcie-root-port\"/>\n    <hostdev");
        hasnt(xml, "index=\"3\"");
        has(xml,
            "<address domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\"/>\n      </source>\n"
            "      <address type=\"pci\" domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\" "
            "multifunction=\"on\"/>");
        has(xml,
            "<address domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x3\"/>\n      </source>\n"
            "      <address type=\"pci\" domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x3\"/>");
        /* A single function needs no multifunction. */
        has(xml,
            "<address domain=\"0x0000\" bus=\"0x0a\" slot=\"0x00\" function=\"0x0\"/>\n      </source>\n"
            "      <address type=\"pci\" domain=\"0x0000\" bus=\"0x02\" slot=\"0x00\" function=\"0x0\"/>");
        has(xml, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\">");
        has(xml, "<memballoon model=\"none\"/>");
}

static void test_nvidia(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL, *lin = NULL;

        g.nvidia = true;
        xml = render(&g);
        /* In libvirt's order: vendor_id between stimer and frequencies, kvm after hyperv. */
        before(xml, "<stimer state=\"on\"/>",
               "<vendor_id state=\"on\" value=\"" VHC_HYPERV_VENDOR_ID "\"/>");
        before(xml, "<vendor_id state=\"on\"", "<frequencies state=\"on\"/>");
        before(xml, "</hyperv>", "<kvm>\n      <hidden state=\"on\"/>\n    </kvm>");
        before(xml, "</kvm>", "<vmport state=\"off\"/>");
        assert_true(strlen(VHC_HYPERV_VENDOR_ID) <= 12);

        g.os = VHC_GUEST_LINUX;
        lin = render(&g);
        has(lin, "<hidden state=\"on\"/>");
        hasnt(lin, "vendor_id");
}

static void test_pin(void **state) {
        unsigned map[] = {8, 24, 9, 25};
        struct vhc_pinning p = {
                .n_vcpus = 4,
                .vcpu_cpu = map,
                .cores = 2,
                .threads = 2,
                .emulator_cpuset = (char *)"0-7,10-23,26-31",
        };
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.pin = &p;
        g.topoext = true;
        g.hugepages = true;
        xml = render(&g);
        has(xml,
            "<memoryBacking>\n    <hugepages/>\n  </memoryBacking>\n  <vcpu placement=\"static\">4</vcpu>\n"
            "  <cputune>\n    <vcpupin vcpu=\"0\" cpuset=\"8\"/>\n    <vcpupin vcpu=\"1\" cpuset=\"24\"/>\n"
            "    <vcpupin vcpu=\"2\" cpuset=\"9\"/>\n    <vcpupin vcpu=\"3\" cpuset=\"25\"/>\n"
            "    <emulatorpin cpuset=\"0-7,10-23,26-31\"/>\n  </cputune>\n  <os>");
        has(xml, "<cpu mode=\"host-passthrough\">\n    <topology sockets=\"1\" dies=\"1\" cores=\"2\" "
                 "threads=\"2\"/>\n"
                 "    <cache mode=\"passthrough\"/>\n    <feature policy=\"require\" name=\"topoext\"/>\n  "
                 "</cpu>");
}

static void test_evdev(void **state) {
        char *ev[] = {(char *)"/dev/input/by-id/usb-Logitech_USB_Receiver-if02-event-mouse",
                      (char *)"/dev/input/by-id/usb-Cherry_Keyboard-event-kbd", NULL};
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.evdevs = ev;
        xml = render(&g);
        has(xml, "<input type=\"evdev\">\n      <source "
                 "dev=\"/dev/input/by-id/usb-Logitech_USB_Receiver-if02-event-mouse\"/>");
        has(xml, "<source dev=\"/dev/input/by-id/usb-Cherry_Keyboard-event-kbd\" grab=\"all\" "
                 "grabToggle=\"ctrl-ctrl\" repeat=\"on\"/>");
}

static void test_bad_guests(void **state) {
        struct vhc_guest_hostdev unordered[] = {{0, 1, 0, 1}, {0, 1, 0, 0}};
        unsigned map[] = {1, 2};
        struct vhc_pinning p = {
                .n_vcpus = 2, .vcpu_cpu = map, .cores = 2, .threads = 1, .emulator_cpuset = (char *)"0"};
        struct vhc_guest g;

        g = base(), g.name = "";
        render_fails(&g, "needs a name");
        g = base(), g.name = "a/b";
        render_fails(&g, "has a '/'");
        g = base(), g.name = "a\nb";
        render_fails(&g, "control character");
        g = base(), g.memory_kib = 0;
        render_fails(&g, "at least 1 MiB");
        g = base(), g.vcpus = 0;
        render_fails(&g, "at least one vCPU");
        g = base(), g.pin = &p;
        render_fails(&g, "pinning is for 2 vCPUs, the guest has 4");
        g = base(), g.hostdevs = unordered, g.n_hostdevs = 2;
        render_fails(&g, "in order");
}

/* ---- patch ---- */

/* virt-install --print-xml's shape for the seed's recipe (trimmed), with a
 * comment and an element in another namespace that must survive. */
static const char vi_xml[] =
        "<domain type=\"kvm\" xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\">\n"
        "  <name>my-guest</name>\n"
        "  <uuid>00000000-1111-2222-3333-444444444444</uuid>\n"
        "  <memory>8388608</memory>\n"
        "  <currentMemory>8388608</currentMemory>\n"
        "  <vcpu>4</vcpu>\n"
        "  <os firmware=\"efi\">\n"
        "    <type arch=\"x86_64\" machine=\"q35\">hvm</type>\n"
        "    <boot dev=\"hd\"/>\n"
        "  </os>\n"
        "  <features>\n"
        "    <acpi/>\n"
        "    <apic/>\n"
        "    <hyperv>\n"
        "      <relaxed state=\"on\"/>\n"
        "      <vapic state=\"on\"/>\n"
        "      <spinlocks state=\"on\" retries=\"8191\"/>\n"
        "    </hyperv>\n"
        "    <vmport state=\"off\"/>\n"
        "  </features>\n"
        "  <cpu mode=\"host-model\"/>\n"
        "  <clock offset=\"localtime\"/>\n"
        "  <!-- kept -->\n"
        "  <devices>\n"
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
        "  </devices>\n"
        "  <qemu:commandline>\n"
        "    <qemu:arg value=\"-no-hpet\"/>\n"
        "  </qemu:commandline>\n"
        "</domain>\n";

static struct vhc_topology *topo_5950x(void) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_topology *t = NULL;
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new(SRCDIR "/tests/cpu/ryzen9-5950x", &r), 0);
        assert_int_equal(vhc_topology_read(r, &t, &e), 0);
        return t;
}

static char *patch(const char *in, const struct vhc_domxml_edits *ed) {
        struct vhc_err e = {};
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(vhc_domxml_patch(in, strlen(in), "<stdin>", ed, &out, &len, &e), 0);
        assert_string_equal(e.msg, "");
        assert_int_equal(strlen(out), len);
        return out;
}

static void patch_fails(const char *in, const struct vhc_domxml_edits *ed, int want_r, const char *want) {
        struct vhc_err e = {};
        char *out = NULL, line[2048];
        size_t len = 0;

        assert_int_equal(vhc_domxml_patch(in, strlen(in), "<stdin>", ed, &out, &len, &e), want_r);
        assert_null(out);
        vhc_err_format(&e, line, sizeof(line));
        if (!strstr(line, want))
                fail_msg("want '%s' in '%s'", want, line);
}

static void test_patch_all(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_domxml_edits ed = {.nvidia = true, .hugepages = true, .pin = t, .topoext = true};
        _cleanup_free_ char *once = patch(vi_xml, &ed), *twice = patch(once, &ed);

        /* Idempotent: a second run changes no byte. */
        assert_string_equal(once, twice);
        has(once, "<uuid>00000000-1111-2222-3333-444444444444</uuid>");
        has(once, "<!-- kept -->");
        has(once, "<qemu:arg value=\"-no-hpet\"/>");
        has(once, "<emulator>/usr/bin/qemu-system-x86_64</emulator>");
        before(once, "<currentMemory>8388608</currentMemory>", "<memoryBacking>");
        before(once, "<hugepages/>", "<vcpu placement=\"static\">4</vcpu>");
        before(once, "<vcpu placement=\"static\">4</vcpu>", "<cputune>");
        has(once, "<vcpupin vcpu=\"3\" cpuset=\"25\"/>\n    <emulatorpin cpuset=\"0-7,10-23,26-31\"/>\n  "
                  "</cputune>\n  <os");
        before(once, "<spinlocks state=\"on\" retries=\"8191\"/>", "<vendor_id state=\"on\"");
        before(once, "</hyperv>", "<kvm>");
        before(once, "</kvm>", "<vmport state=\"off\"/>");
        has(once, "<cpu mode=\"host-passthrough\">\n    <topology sockets=\"1\" dies=\"1\" cores=\"2\" "
                  "threads=\"2\"/>");
        has(once, "<feature policy=\"require\" name=\"topoext\"/>");
        hasnt(once, "host-model");
}

static void test_patch_nothing(void **state) {
        struct vhc_domxml_edits ed = {};
        _cleanup_free_ char *out = patch(vi_xml, &ed);

        /* The same document, formatted as libxml2 writes it. */
        has(out, "<cpu mode=\"host-model\"/>");
        hasnt(out, "<cputune>");
        hasnt(out, "<kvm>");
}

static void test_patch_replaces(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_domxml_edits ed = {.pin = t, .nvidia = true};
        static const char in[] =
                "<domain type='kvm'><name>x</name><vcpu cpuset='0-3' current='2'>2</vcpu>"
                "<cputune><shares>2048</shares><vcpupin vcpu='0' cpuset='5'/><emulatorpin cpuset='1'/>"
                "<iothreadpin iothread='1' cpuset='2'/></cputune>"
                "<features><kvm><hidden state='off'/></kvm></features>"
                "<cpu mode='custom' match='exact'><model fallback='allow'>Skylake</model>"
                "<topology sockets='2' cores='1' threads='1'/><feature policy='disable' "
                "name='hypervisor'/></cpu>"
                "<devices/></domain>";
        _cleanup_free_ char *out = patch(in, &ed);

        has(out, "<vcpu current=\"2\" placement=\"static\">2</vcpu>");
        has(out, "<cputune>\n    <shares>2048</shares>\n    <vcpupin vcpu=\"0\" cpuset=\"8\"/>\n"
                 "    <vcpupin vcpu=\"1\" cpuset=\"24\"/>\n    <emulatorpin cpuset=\"0-7,9-23,25-31\"/>\n"
                 "    <iothreadpin iothread=\"1\" cpuset=\"2\"/>\n  </cputune>");
        has(out, "<hidden state=\"on\"/>");
        /* No Hyper-V in the input: none is made up for the vendor id. */
        hasnt(out, "vendor_id");
        has(out, "<cpu mode=\"host-passthrough\">\n    <topology sockets=\"1\" cores=\"1\" threads=\"2\" "
                 "dies=\"1\"/>\n"
                 "    <cache mode=\"passthrough\"/>\n    <feature policy=\"disable\" "
                 "name=\"hypervisor\"/>\n  </cpu>");
        hasnt(out, "Skylake");
        hasnt(out, "match=");
}

static void test_patch_errors(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_domxml_edits pin = {.pin = t}, none = {};

        patch_fails("<domain><name>x</name>\n<vcpu>4</vcpu>\n<devices>\n</domain>\n", &none, -EINVAL,
                    "<stdin>:4: not well-formed XML: Opening and ending tag mismatch: devices line 3 and "
                    "domain");
        patch_fails("", &none, -EINVAL, "<stdin>");
        patch_fails("<network><name>default</name></network>", &none, -EINVAL,
                    "root element is <network>, not <domain>");
        patch_fails("<domain><name>x</name></domain>", &pin, -EINVAL, "no <vcpu> element");
        patch_fails("<domain><name>x</name><vcpu>many</vcpu></domain>", &pin, -EINVAL,
                    "<vcpu>many</vcpu> is not a vCPU count");
        patch_fails("<domain><name>x</name><vcpu>32</vcpu></domain>", &pin, -EINVAL, "at most 30 vCPUs");
        /* No entity expansion and no network: an external entity stays unread. */
        patch_fails("<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><domain>&x;</domain>", &pin,
                    -EINVAL, "no <vcpu> element");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_os_names),      cmocka_unit_test(test_win10),
                cmocka_unit_test(test_win11),         cmocka_unit_test(test_linux),
                cmocka_unit_test(test_no_firmware),   cmocka_unit_test(test_qcow2_firmware),
                cmocka_unit_test(test_disks),         cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_hostdevs),      cmocka_unit_test(test_nvidia),
                cmocka_unit_test(test_pin),           cmocka_unit_test(test_evdev),
                cmocka_unit_test(test_bad_guests),    cmocka_unit_test(test_patch_all),
                cmocka_unit_test(test_patch_nothing), cmocka_unit_test(test_patch_replaces),
                cmocka_unit_test(test_patch_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
