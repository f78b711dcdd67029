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

        assert_int_equal(vhc_domxml_render(g, &xml, &len, NULL, &e), 0);
        assert_string_equal(e.msg, "");
        assert_int_equal(strlen(xml), len);
        /* The same description gives the same bytes. */
        assert_int_equal(vhc_domxml_render(g, &again, &len2, NULL, &e), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(xml, again, len);
        free(again);
        return xml;
}

static void render_fails(const struct vhc_guest *g, const char *want) {
        struct vhc_err e = {};
        char *xml = NULL;
        size_t len = 0;

        assert_int_equal(vhc_domxml_render(g, &xml, &len, NULL, &e), -EINVAL);
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

static struct vhc_topology *topo_5950x(void) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_topology *t = NULL;
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new(SRCDIR "/tests/cpu/ryzen9-5950x", &r), 0);
        assert_int_equal(vhc_topology_read(r, &t, &e), 0);
        return t;
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
        /* Off the host's page cache, native AIO: I/O on the I/O thread (issue 14). */
        has(xml, "<driver name=\"qemu\" type=\"qcow2\" cache=\"none\" io=\"native\" discard=\"unmap\"/>");
        has(xml, "<driver name=\"qemu\" type=\"raw\" cache=\"none\" io=\"native\" discard=\"unmap\"/>");
        /* A CD-ROM is read once: no I/O tuning. */
        has(xml, "<driver name=\"qemu\" type=\"raw\"/>\n      <source file=\"/iso/0.iso\"/>");
        has(xml, "<controller type=\"scsi\" index=\"0\" model=\"virtio-scsi\">\n"
                 "      <driver queues=\"4\" iothread=\"1\"/>\n    </controller>");
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

        g.ed.hostdevs = h;
        g.ed.n_hostdevs = ELEMENTSOF(h);
        xml = render(&g);
        /* virt-install's 14 root ports, the cards on the first two. */
        has(xml, "<controller type=\"pci\" index=\"0\" model=\"pcie-root\"/>\n"
                 "    <controller type=\"pci\" index=\"1\" model=\"pcie-root-port\"/>\n"
                 "    <controller type=\"pci\" index=\"2\" model=\"pcie-root-port\"/>\n");
        has(xml, "<controller type=\"pci\" index=\"14\" model=\"pcie-root-port\"/>\n    <interface");
        hasnt(xml, "index=\"15\"");
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

        g.ed.nvidia = 1;
        xml = render(&g);
        /* In libvirt's order: vendor_id between stimer and frequencies, kvm after hyperv. */
        before(xml, "</stimer>", "<vendor_id state=\"on\" value=\"" VHC_HYPERV_VENDOR_ID "\"/>");
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
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_guest g = base();
        struct vhc_domxml_result res = {};
        struct vhc_err e = {};
        _cleanup_free_ char *xml = NULL;
        size_t len;

        g.ed.pin = t;
        g.ed.vendor = VHC_CPU_AMD;
        g.ed.hugepages = true;
        assert_int_equal(vhc_domxml_render(&g, &xml, &len, &res, &e), 0);
        has(xml,
            "<memoryBacking>\n    <hugepages/>\n  </memoryBacking>\n  <vcpu placement=\"static\">4</vcpu>\n"
            "  <iothreads>1</iothreads>\n"
            "  <cputune>\n    <vcpupin vcpu=\"0\" cpuset=\"8\"/>\n    <vcpupin vcpu=\"1\" cpuset=\"24\"/>\n"
            "    <vcpupin vcpu=\"2\" cpuset=\"9\"/>\n    <vcpupin vcpu=\"3\" cpuset=\"25\"/>\n"
            "    <emulatorpin cpuset=\"0-7,10-23,26-31\"/>\n"
            "    <iothreadpin iothread=\"1\" cpuset=\"0-7,10-23,26-31\"/>\n  </cputune>\n  <os>");
        has(xml,
            "<cpu mode=\"host-passthrough\" migratable=\"off\">\n    <topology sockets=\"1\" dies=\"1\" "
            "cores=\"2\" threads=\"2\"/>\n"
            "    <cache mode=\"passthrough\"/>\n    <feature policy=\"require\" name=\"topoext\"/>\n  "
            "</cpu>");
        /* What was picked comes back for the notes. */
        assert_int_equal(res.pin.n_vcpus, 4);
        assert_int_equal(res.pin.n_l3, 1);
        vhc_domxml_result_done(&res);
}

static void test_evdev(void **state) {
        char *ev[] = {(char *)"/dev/input/by-id/usb-Logitech_USB_Receiver-if02-event-mouse",
                      (char *)"/dev/input/by-id/usb-Cherry_Keyboard-event-kbd", NULL};
        struct vhc_guest g = base();
        _cleanup_free_ char *xml = NULL;

        g.ed.evdevs = ev;
        xml = render(&g);
        has(xml, "<input type=\"evdev\">\n      <source "
                 "dev=\"/dev/input/by-id/usb-Logitech_USB_Receiver-if02-event-mouse\"/>");
        has(xml, "<source dev=\"/dev/input/by-id/usb-Cherry_Keyboard-event-kbd\" grab=\"all\" "
                 "grabToggle=\"ctrl-ctrl\" repeat=\"on\"/>");
}

static void test_bad_guests(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_guest_hostdev unordered[] = {{0, 1, 0, 1}, {0, 1, 0, 0}};
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
        render_fails(&g, "from 1 to 4096 vCPUs");
        g = base(), g.vcpus = 4097;
        render_fails(&g, "from 1 to 4096 vCPUs");
        g = base(), g.vcpus = 32, g.ed.pin = t;
        render_fails(&g, "at most 30 vCPUs");
        g = base(), g.ed.lg.size_mib = 48;
        render_fails(&g, "power of two");
        g = base(), g.ed.hostdevs = unordered, g.ed.n_hostdevs = 2;
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

static char *patch(const char *in, const struct vhc_domxml_edits *ed) {
        struct vhc_err e = {};
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(vhc_domxml_patch(in, strlen(in), "<stdin>", ed, &out, &len, NULL, &e), 0);
        assert_string_equal(e.msg, "");
        assert_int_equal(strlen(out), len);
        return out;
}

static void patch_fails(const char *in, const struct vhc_domxml_edits *ed, int want_r, const char *want) {
        struct vhc_err e = {};
        char *out = NULL, line[2048];
        size_t len = 0;

        assert_int_equal(vhc_domxml_patch(in, strlen(in), "<stdin>", ed, &out, &len, NULL, &e), want_r);
        assert_null(out);
        vhc_err_format(&e, line, sizeof(line));
        if (!strstr(line, want))
                fail_msg("want '%s' in '%s'", want, line);
}

static void test_patch_all(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_domxml_edits ed = {.nvidia = 1, .hugepages = true, .pin = t, .vendor = VHC_CPU_AMD};
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
        has(once, "<vcpupin vcpu=\"3\" cpuset=\"25\"/>\n    <emulatorpin cpuset=\"0-7,10-23,26-31\"/>\n"
                  "    <iothreadpin iothread=\"1\" cpuset=\"0-7,10-23,26-31\"/>\n  </cputune>\n  <os");
        before(once, "<spinlocks state=\"on\" retries=\"8191\"/>", "<vendor_id state=\"on\"");
        before(once, "</hyperv>", "<kvm>");
        before(once, "</kvm>", "<vmport state=\"off\"/>");
        has(once, "<cpu mode=\"host-passthrough\" migratable=\"off\">\n    <topology sockets=\"1\" "
                  "dies=\"1\" cores=\"2\" "
                  "threads=\"2\"/>");
        has(once, "<feature policy=\"require\" name=\"topoext\"/>");
        hasnt(once, "host-model");
}

/* No option: the edits every new guest gets (issue 14, item 8), and
 * nothing else of the domain changes. */
static void test_patch_defaults(void **state) {
        struct vhc_domxml_edits ed = {.nvidia = -1, .audio = VHC_AUDIO_KEEP};
        _cleanup_free_ char *out = patch(vi_xml, &ed);

        has(out, "<cpu mode=\"host-passthrough\" migratable=\"off\">\n"
                 "    <topology sockets=\"1\" dies=\"1\" cores=\"4\" threads=\"1\"/>\n  </cpu>");
        has(out, "<vcpu>4</vcpu>\n  <iothreads>1</iothreads>\n  <os firmware=\"efi\">");
        has(out, "<stimer state=\"on\">\n        <direct state=\"on\"/>\n      </stimer>");
        has(out, "<timer name=\"hypervclock\" present=\"yes\"/>");
        has(out, "<tpm model=\"tpm-crb\">");
        /* Not pinned: no cputune; no NVIDIA device: no hidden KVM. */
        hasnt(out, "<cputune>");
        hasnt(out, "<kvm>");
        hasnt(out, "<audio");
        has(out,
            "<emulator>/usr/bin/qemu-system-x86_64</emulator>\n    <controller type=\"pci\" index=\"0\" "
            "model=\"pcie-root\"/>\n    <controller type=\"pci\" index=\"1\" model=\"pcie-root-port\"/>");
        has(out, "<controller type=\"pci\" index=\"14\" model=\"pcie-root-port\"/>\n    <tpm");
        /* The element in another namespace and the comment stay. */
        has(out,
            "  </devices>\n  <qemu:commandline>\n    <qemu:arg value=\"-no-hpet\"/>\n  </qemu:commandline>");
        has(out, "<!-- kept -->");
}

static void test_patch_replaces(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_domxml_edits ed = {.pin = t, .nvidia = 1};
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

        /* The input's quotes; attributes added where libvirt writes them. */
        has(out, "<vcpu placement='static' current='2'>2</vcpu>");
        has(out, "<cputune>\n    <shares>2048</shares>\n    <vcpupin vcpu='0' cpuset='8'/>\n"
                 "    <vcpupin vcpu='1' cpuset='24'/>\n    <emulatorpin cpuset='0-7,9-23,25-31'/>\n"
                 "    <iothreadpin iothread='1' cpuset='0-7,9-23,25-31'/>\n  </cputune>");
        has(out, "<hidden state='on'/>");
        /* No Hyper-V in the input: none is made up for the vendor id. */
        hasnt(out, "vendor_id");
        has(out,
            "<cpu mode='host-passthrough' migratable='off'>\n    <topology sockets='1' dies='1' cores='1' "
            "threads='2'/>\n"
            "    <cache mode='passthrough'/>\n    <feature policy='disable' "
            "name='hypervisor'/>\n  </cpu>");
        hasnt(out, "Skylake");
        hasnt(out, "match=");
}

/* Issue 13: OVMF's 64-bit MMIO window through fw_cfg, without <smbios>, and a
 * ROM file in the hostdev's <rom>; a larger window the domain has stays. */
static void test_patch_mmio64_rom(void **state) {
        static const struct vhc_guest_hostdev gpu[] = {{0, 1, 0, 0}, {0, 1, 0, 1}};
        static const struct vhc_guest_rom rom = {{0, 1, 0, 0}, "/usr/share/vgabios/gpu.rom"};
        struct vhc_domxml_edits ed = {.nvidia = 0,
                                      .audio = VHC_AUDIO_KEEP,
                                      .hostdevs = gpu,
                                      .n_hostdevs = 2,
                                      .mmio64_mib = 65536,
                                      .roms = &rom,
                                      .n_roms = 1};
        static const char in[] =
                "<domain type='kvm'><name>x</name><vcpu>2</vcpu>"
                "<sysinfo type='smbios'><bios><entry name='vendor'>v</entry></bios></sysinfo>"
                "<os><type>hvm</type></os><devices/></domain>";
        _cleanup_free_ char *out = patch(in, &ed), *again = patch(out, &ed), *big = NULL, *kept = NULL;
        char *at;

        assert_string_equal(out, again);
        before(out, "<sysinfo type='smbios'>",
               "<sysinfo type='fwcfg'>\n    <entry "
               "name='opt/ovmf/X-PciMmio64Mb'>65536</entry>\n  </sysinfo>\n  <os>");
        hasnt(out, "<smbios");
        has(out, "</source>\n      <rom file='/usr/share/vgabios/gpu.rom'/>\n      <address type='pci'");
        /* Only function 0 has the file. */
        at = strstr(out, "<rom ");
        assert_non_null(at);
        assert_null(strstr(at + 1, "<rom "));

        big = strdup(out);
        assert_non_null(big);
        at = strstr(big, ">65536<");
        assert_non_null(at);
        memcpy(at, ">99999<", 7);
        kept = patch(big, &ed);
        assert_string_equal(kept, big);
}

/* What libvirt takes as text and as a listen address (issue 16, item 13). */
static void test_strings(void **state) {
        assert_true(vhc_domxml_string_ok(""));
        assert_true(vhc_domxml_string_ok(
                "/var/lib/libvirt/images/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80.iso"));
        assert_false(vhc_domxml_string_ok("caf\xe9"));          /* Latin-1 */
        assert_false(vhc_domxml_string_ok("\xc0\xaf"));         /* overlong '/' */
        assert_false(vhc_domxml_string_ok("\xed\xa0\x80"));     /* a surrogate */
        assert_false(vhc_domxml_string_ok("\xf4\x90\x80\x80")); /* past U+10FFFF */
        assert_false(vhc_domxml_string_ok("\xe2\x82"));         /* cut short */
        assert_false(vhc_domxml_string_ok("\xef\xbf\xbe"));     /* U+FFFE */
        assert_false(vhc_domxml_string_ok("\xc2\x85"));         /* C1 NEL */
        assert_false(vhc_domxml_string_ok("a\nb"));
        assert_false(vhc_domxml_string_ok("a\tb"));
        assert_false(vhc_domxml_string_ok("a\x7f"));
        assert_false(vhc_domxml_string_ok(NULL));

        assert_true(vhc_domxml_listen_ok("127.0.0.1"));
        assert_true(vhc_domxml_listen_ok("0.0.0.0"));
        assert_true(vhc_domxml_listen_ok("::"));
        assert_true(vhc_domxml_listen_ok("fe80::1"));
        assert_true(vhc_domxml_listen_ok("::ffff:192.0.2.1"));
        assert_true(vhc_domxml_listen_ok("spice.example.org"));
        assert_false(vhc_domxml_listen_ok(""));
        assert_false(vhc_domxml_listen_ok("0.0.0.0:5900"));
        assert_false(vhc_domxml_listen_ok("fe80::1%eth0"));
        assert_false(vhc_domxml_listen_ok("my host"));
        assert_false(vhc_domxml_listen_ok("a_b"));
}

/* The library refuses what the CLI would, for callers that skip it. */
static void test_render_refuses(void **state) {
        static const struct vhc_guest_disk nl = {.path = "/srv/a\nb.qcow2", .qcow2 = true};
        struct vhc_guest g = {.name = "g", .memory_kib = 1 << 20, .vcpus = 1, .os = VHC_GUEST_LINUX};
        struct vhc_err e = {};
        char *out = NULL;
        size_t len = 0;

        g.name = "caf\xe9";
        assert_int_equal(vhc_domxml_render(&g, &out, &len, NULL, &e), -EINVAL);
        g.name = "g";
        g.spice_listen = "0.0.0.0:5900";
        assert_int_equal(vhc_domxml_render(&g, &out, &len, NULL, &e), -EINVAL);
        g.spice_listen = NULL;
        g.disks = &nl;
        g.n_disks = 1;
        assert_int_equal(vhc_domxml_render(&g, &out, &len, NULL, &e), -EINVAL);
        assert_null(out);
}

static void test_patch_errors(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = topo_5950x();
        struct vhc_domxml_edits pin = {.pin = t}, none = {};

        patch_fails("<domain><name>x</name>\n<vcpu>4</vcpu>\n<devices>\n</domain>\n", &none, -EINVAL,
                    "<stdin>:4: not well-formed XML: Opening and ending tag mismatch: devices line 3 and "
                    "domain");
        patch_fails("", &none, -EINVAL, "<stdin>");
        /* Found by fuzz-domxml-patch: once patch declares qemu:, such an
         * element would mean something else on the second run. */
        patch_fails("<domain><name>x</name>\n<qemu:commandline/></domain>", &none, -EINVAL,
                    "<stdin>:2: not well-formed XML: Namespace prefix qemu on commandline is not defined");
        patch_fails("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<domain><name>caf\xe9</name></domain>",
                    &none, -EINVAL,
                    "<stdin>:1: the input is in ISO-8859-1: give it in UTF-8, as libvirt writes it");
        patch_fails("<network><name>default</name></network>", &none, -EINVAL,
                    "root element is <network>, not <domain>");
        patch_fails("<domain><name>x</name></domain>", &pin, -EINVAL, "no <vcpu> element");
        patch_fails("<domain><name>x</name><vcpu>many</vcpu></domain>", &pin, -EINVAL,
                    "<vcpu>many</vcpu> is not a vCPU count");
        patch_fails("<domain><name>x</name><vcpu>32</vcpu></domain>", &pin, -EINVAL, "at most 30 vCPUs");
        /* A DOCTYPE is refused (issue 16, item 13): its external entity is
         * neither read nor passed on. */
        patch_fails("<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><domain>&x;</domain>", &none,
                    -EINVAL, "<stdin>:1: the input has a DOCTYPE");
        patch_fails("<?xml version='1.0'?>\n\n<!DOCTYPE domain>\n<domain><name>x</name></domain>", &none,
                    -EINVAL, "<stdin>:3: the input has a DOCTYPE");
        patch_fails("<domain xmlns='urn:x'><name>x</name></domain>", &none, -EINVAL,
                    "the root element <domain> is in the namespace 'urn:x'");
}

/* A domain as libvirt keeps it (/etc/libvirt/qemu/NAME.xml: its warning
 * comment, single quotes, libvirt's escapes): what the edits leave alone
 * keeps its bytes (issue 14, item 8). */
static const char libvirt_xml[] =
        "<!--\n"
        "WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
        "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
        "  virsh edit win10\n"
        "or other application using the libvirt API.\n"
        "-->\n"
        "\n"
        "<domain type='kvm'>\n"
        "  <name>win10</name>\n"
        "  <uuid>5a3a1c8e-6f3e-4c37-9d2a-8d1f0e0e7b11</uuid>\n"
        "  <description>Tom&apos;s &quot;rig&quot; &amp; more</description>\n"
        "  <metadata>\n"
        "    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>\n"
        "      <libosinfo:os id='http://microsoft.com/win/10'/>\n"
        "    </libosinfo:libosinfo>\n"
        "  </metadata>\n"
        "  <memory unit='KiB'>8388608</memory>\n"
        "  <currentMemory unit='KiB'>8388608</currentMemory>\n"
        "  <vcpu placement='static'>4</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n"
        "    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\n"
        "    <nvram "
        "template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/win10_VARS.fd</nvram>\n"
        "    <boot dev='hd'/>\n"
        "  </os>\n"
        "  <features>\n"
        "    <acpi/>\n"
        "    <apic/>\n"
        "    <hyperv mode='custom'>\n"
        "      <relaxed state='off'/>\n"
        "    </hyperv>\n"
        "  </features>\n"
        "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
        "  <devices>\n"
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
        "    <controller type='pci' index='0' model='pcie-root'/>\n"
        "    <controller type='pci' index='1' model='pcie-root-port'>\n"
        "      <model name='pcie-root-port'/>\n"
        "      <target chassis='1' port='0x10'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0' "
        "multifunction='on'/>\n"
        "    </controller>\n"
        "    <controller type='pci' index='2' model='pcie-root-port'>\n"
        "      <model name='pcie-root-port'/>\n"
        "      <target chassis='2' port='0x11'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x1'/>\n"
        "    </controller>\n"
        "    <controller type='pci' index='3' model='pcie-root-port'>\n"
        "      <model name='pcie-root-port'/>\n"
        "      <target chassis='3' port='0x12'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x2'/>\n"
        "    </controller>\n"
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "      <source>\n"
        "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
        "      </source>\n"
        "      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>\n"
        "    </hostdev>\n"
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "      <source>\n"
        "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>\n"
        "      </source>\n"
        "      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n"
        "    </hostdev>\n"
        "    <memballoon model='virtio'>\n"
        "      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n"
        "    </memballoon>\n"
        "  </devices>\n"
        "</domain>\n";

static void test_patch_bytes(void **state) {
        struct vhc_domxml_edits ed = {.nvidia = -1, .audio = VHC_AUDIO_KEEP, .vendor = VHC_CPU_INTEL};
        _cleanup_free_ char *out = patch(libvirt_xml, &ed), *again = patch(out, &ed);
        const char *dom = strstr(libvirt_xml, "<domain");

        assert_string_equal(out, again);
        /* The warning comment and the blank line before the domain, as they were. */
        assert_memory_equal(out, libvirt_xml, (size_t)(dom - libvirt_xml));
        has(out, "\n  <description>Tom&apos;s &quot;rig&quot; &amp; more</description>\n");
        has(out, "    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/"
                 "win10_VARS.fd</nvram>\n");
        has(out, "      <target chassis='2' port='0x11'/>\n");
        /* The domain's own Hyper-V choice stays; the rest of the list comes. */
        has(out, "<hyperv mode='custom'>\n      <relaxed state='off'/>\n      <vapic state='on'/>");
        has(out, "      <evmcs state='on'/>\n    </hyperv>");
        /* libvirt's migratable='on' would drop invtsc. */
        has(out, "<cpu mode='host-passthrough' check='none' migratable='off'>");
        /* virsh dumpxml's one slot per function: both on the first one's. */
        has(out, "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n      </source>\n"
                 "      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0' "
                 "multifunction='on'/>");
        has(out, "<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>\n      </source>\n"
                 "      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x1'/>");
        /* Up to virt-install's 14 root ports, after the domain's three. */
        has(out, "    </controller>\n    <controller type='pci' index='4' model='pcie-root-port'/>\n");
        has(out, "<controller type='pci' index='14' model='pcie-root-port'/>\n    <tpm model='tpm-crb'>");
        hasnt(out, "index='15'");
        has(out, "<memballoon model='none'/>\n  </devices>\n</domain>\n");
        /* The boot firmware of an installed guest is its own. */
        has(out, "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>");
        hasnt(out, "\"");
}

/* Each element keeps its own quotes, also where several stand on one line
 * (found by fuzz-domxml-patch: the second run turned the first's back). */
static void test_patch_mixed_quotes(void **state) {
        struct vhc_domxml_edits ed = {.nvidia = -1, .audio = VHC_AUDIO_KEEP};
        static const char in[] = "<domain type='kvm'><name>x</name><devices>text"
                                 "<controller type='pci' index='1' model='pcie-root-port'/>"
                                 "<controller type=\"pci\" index=\"2\" model=\"pcie-root-port\"/>"
                                 "</devices></domain>\n";
        _cleanup_free_ char *out = patch(in, &ed), *again = patch(out, &ed);

        assert_string_equal(out, again);
        has(out, "<controller type='pci' index='1' model='pcie-root-port'/>"
                 "<controller type=\"pci\" index=\"2\" model=\"pcie-root-port\"/>");
        /* fuzz-domxml-patch's third: an element of blanks only that the
         * edits give elements loses the blanks in the first run already. */
        {
                static const char blank[] = "<domain type='kvm'><name>x</name> text <features><hyperv>\n"
                                            "    </hyperv></features></domain>\n";
                struct vhc_domxml_edits lg = {.nvidia = -1, .audio = VHC_AUDIO_KEEP};
                _cleanup_free_ char *o1 = patch(blank, &lg), *o2 = patch(o1, &lg);

                assert_string_equal(o1, o2);
                has(o1, "<hyperv><relaxed state='on'/>");
        }
        /* New ones take their parent's, the domain's. */
        has(out, "<cpu mode='host-passthrough' migratable='off'>");
}

/* virt-install --print-xml for a CD-ROM installation (trimmed): the
 * installation's domain, then the guest's. */
static const char two_domains[] = "<domain type=\"kvm\">\n"
                                  "  <name>my-guest</name>\n"
                                  "  <vcpu>4</vcpu>\n"
                                  "  <os firmware=\"efi\">\n"
                                  "    <type arch=\"x86_64\" machine=\"q35\">hvm</type>\n"
                                  "    <boot dev=\"cdrom\"/>\n"
                                  "    <boot dev=\"hd\"/>\n"
                                  "  </os>\n"
                                  "  <on_reboot>destroy</on_reboot>\n"
                                  "  <devices/>\n"
                                  "</domain>\n"
                                  "<domain type=\"kvm\">\n"
                                  "  <name>my-guest</name>\n"
                                  "  <vcpu>%s</vcpu>\n"
                                  "  <os firmware=\"efi\">\n"
                                  "    <type arch=\"x86_64\" machine=\"q35\">hvm</type>\n"
                                  "    <boot dev=\"hd\"/>\n"
                                  "  </os>\n"
                                  "  <devices/>\n"
                                  "</domain>\n";

static void test_patch_two_domains(void **state) {
        struct vhc_domxml_edits ed = {.nvidia = -1, .audio = VHC_AUDIO_KEEP};
        struct vhc_domxml_result res = {};
        _cleanup_free_ char *in = NULL, *bad = NULL, *out = NULL;
        struct vhc_err e = {};
        char line[512];
        size_t len;

        assert_true(asprintf(&in, two_domains, "4") > 0);
        assert_int_equal(vhc_domxml_patch(in, strlen(in), "<stdin>", &ed, &out, &len, &res, &e), 0);
        assert_int_equal(res.n_domains, 2);
        assert_true(res.boot_from_install);
        /* One domain: the guest's, booting the installer first. */
        assert_true(startswith(out, "<domain type=\"kvm\">\n  <name>my-guest</name>\n  <vcpu>4</vcpu>\n"));
        assert_null(strstr(out + 1, "<domain"));
        has(out, "<boot dev=\"cdrom\"/>\n    <boot dev=\"hd\"/>\n  </os>");
        hasnt(out, "destroy");
        assert_true(out[len - 1] == '\n');
        vhc_domxml_result_done(&res);

        /* An error in the second names its line in the input. */
        assert_true(asprintf(&bad, two_domains, "many") > 0);
        patch_fails(bad, &ed, -EINVAL, "<stdin>:14: <vcpu>many</vcpu> is not a vCPU count");
        /* Something else than a domain before it is no virt-install output. */
        patch_fails("<network/>\n<domain><name>x</name></domain>\n", &ed, -EINVAL,
                    "<stdin>:1: not a libvirt domain: the root element is <network>");
        (void)line;
}

/* --hostdev on a domain from virt-install: its 14 root ports have no
 * index, which libvirt gives them in order (0 is pcie-root). */
static void test_patch_add_hostdevs(void **state) {
        struct vhc_guest_hostdev gpu[] = {{0, 1, 0, 0}, {0, 1, 0, 1}};
        struct vhc_domxml_edits ed = {.nvidia = -1,
                                      .audio = VHC_AUDIO_KEEP,
                                      .hostdevs = gpu,
                                      .n_hostdevs = 2,
                                      .nvidia_devs = gpu,
                                      .n_nvidia_devs = 2};
        _cleanup_free_ char *in = NULL, *out = NULL, *again = NULL;
        char ports[64 * 16] = "";

        for (int i = 0; i < 14; i++)
                strcat(ports, "<controller type=\"pci\" model=\"pcie-root-port\"/>");
        assert_true(asprintf(&in,
                             "<domain type=\"kvm\"><name>g</name><vcpu>2</vcpu>"
                             "<os><type machine=\"q35\">hvm</type></os><devices>"
                             "<controller type=\"pci\" model=\"pcie-root\"/>%s</devices></domain>",
                             ports) > 0);
        out = patch(in, &ed);
        again = patch(out, &ed);
        assert_string_equal(out, again);
        has(out,
            "<controller type=\"pci\" model=\"pcie-root-port\"/>\n    <hostdev mode=\"subsystem\" "
            "type=\"pci\" managed=\"yes\">\n      <source>\n        <address domain=\"0x0000\" bus=\"0x01\" "
            "slot=\"0x00\" function=\"0x0\"/>\n      </source>\n      <address type=\"pci\" "
            "domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\" multifunction=\"on\"/>");
        has(out, "function=\"0x1\"/>\n      </source>\n      <address type=\"pci\" domain=\"0x0000\" "
                 "bus=\"0x01\" slot=\"0x00\" function=\"0x1\"/>");
        hasnt(out, "index=");
        /* An NVIDIA device among them brings the Error 43 settings. */
        has(out, "<kvm>\n      <hidden state=\"on\"/>\n    </kvm>");
        has(out, "<memballoon model=\"none\"/>");
}

/* virt-install 5.0's Hyper-V list follows the host: evmcs on Intel with
 * nested VMX, avic from libvirt 8.10. */
static void test_hyperv_hosts(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *intel = NULL, *flat = NULL, *amd = NULL, *old = NULL;

        g.ed.vendor = VHC_CPU_INTEL;
        intel = render(&g);
        has(intel,
            "<ipi state=\"on\"/>\n      <avic state=\"on\"/>\n      <evmcs state=\"on\"/>\n    </hyperv>");
        g.ed.no_nested = true;
        flat = render(&g);
        hasnt(flat, "evmcs");
        g.ed.vendor = VHC_CPU_AMD;
        g.ed.no_nested = false;
        amd = render(&g);
        hasnt(amd, "evmcs");
        has(amd, "<avic state=\"on\"/>");
        g.ed.libvirt = VHC_LIBVIRT_VERSION(8, 9, 0);
        old = render(&g);
        hasnt(old, "avic");
        has(old, "<ipi state=\"on\"/>\n    </hyperv>");
}

static void test_audio(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *pw = NULL, *pulse = NULL, *old = NULL, *repl = NULL;
        struct vhc_domxml_edits ed = {
                .nvidia = -1, .audio = VHC_AUDIO_PIPEWIRE, .audio_dir = "/run/user/1000"};

        g.ed.audio = VHC_AUDIO_PIPEWIRE;
        g.ed.audio_dir = "/run/user/1000";
        pw = render(&g);
        has(pw, "<sound model=\"ich9\">\n      <audio id=\"1\"/>\n    </sound>\n"
                "    <audio id=\"1\" type=\"pipewire\" runtimeDir=\"/run/user/1000\"/>\n    <video>");
        g.ed.audio = VHC_AUDIO_PULSEAUDIO;
        pulse = render(&g);
        has(pulse, "<audio id=\"1\" type=\"pulseaudio\" serverName=\"/run/user/1000/pulse/native\"/>");
        /* libvirt before 7.2 has no <audio>: SPICE's sound is its default. */
        g.ed.libvirt = VHC_LIBVIRT_VERSION(7, 1, 0);
        old = render(&g);
        hasnt(old, "<audio");
        /* patch replaces the backend the sound card names, and only that one. */
        repl = patch("<domain><name>x</name><devices><sound model='ich9'><audio id='2'/></sound>"
                     "<audio id='2' type='spice'/><audio id='3' type='none'/></devices></domain>",
                     &ed);
        has(repl,
            "<audio id='2' type='pipewire' runtimeDir='/run/user/1000'/>\n    <audio id='3' type='none'/>");
}

static void test_looking_glass(void **state) {
        struct vhc_guest g = base();
        _cleanup_free_ char *shm = NULL, *kvmfr = NULL, *legacy = NULL, *back = NULL;
        struct vhc_domxml_edits to_shm = {.nvidia = -1, .audio = VHC_AUDIO_SPICE, .lg = {.size_mib = 64}};

        g.ed.lg.size_mib = 64;
        shm = render(&g);
        has(shm, "<shmem name=\"looking-glass\">\n      <model type=\"ivshmem-plain\"/>\n"
                 "      <size unit=\"M\">64</size>\n    </shmem>");
        has(shm, "<video>\n      <model type=\"none\"/>\n    </video>");
        hasnt(shm, "qxl");
        hasnt(shm, "tablet");
        has(shm, "<input type=\"mouse\" bus=\"virtio\"/>\n    <input type=\"keyboard\" bus=\"virtio\"/>");
        has(shm, "<channel type=\"spicevmc\">");
        has(shm, "<memballoon model=\"none\"/>");
        hasnt(shm, "qemu:");

        g.ed.lg.kvmfr = true;
        kvmfr = render(&g);
        assert_true(startswith(kvmfr, "<domain xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\" "
                                      "type=\"kvm\">\n"));
        has(kvmfr,
            "  </devices>\n  <qemu:commandline>\n    <qemu:arg value=\"-device\"/>\n"
            "    <qemu:arg value=\"{&quot;driver&quot;:&quot;ivshmem-plain&quot;,&quot;id&quot;:&quot;"
            "shmem0&quot;,&quot;memdev&quot;:&quot;looking-glass&quot;}\"/>\n"
            "    <qemu:arg value=\"-object\"/>\n"
            "    <qemu:arg value=\"{&quot;qom-type&quot;:&quot;memory-backend-file&quot;,&quot;id&quot;:"
            "&quot;looking-glass&quot;,&quot;mem-path&quot;:&quot;/dev/kvmfr0&quot;,&quot;size&quot;:"
            "67108864,&quot;share&quot;:true}\"/>\n  </qemu:commandline>\n</domain>\n");
        hasnt(kvmfr, "<shmem");
        g.ed.lg.legacy_syntax = true;
        legacy = render(&g);
        has(legacy, "<qemu:arg value=\"memory-backend-file,id=looking-glass,mem-path=/dev/kvmfr0,size=64M,"
                    "share=yes\"/>");
        /* From kvmfr back to /dev/shm: the arguments go, the shmem comes. */
        back = patch(legacy, &to_shm);
        hasnt(back, "kvmfr0");
        has(back, "<qemu:commandline/>");
        has(back, "<shmem name=\"looking-glass\">");
}

static void test_looking_glass_size(void **state) {
        unsigned mib = 0, w = 0, h = 0;

        /* Looking Glass's table (doc/install_libvirt.rst), SDR. */
        assert_int_equal(vhc_looking_glass_size_mib(1920, 1080, &mib), 0);
        assert_int_equal(mib, 32);
        assert_int_equal(vhc_looking_glass_size_mib(1920, 1200, &mib), 0);
        assert_int_equal(mib, 32);
        assert_int_equal(vhc_looking_glass_size_mib(2560, 1440, &mib), 0);
        assert_int_equal(mib, 64);
        assert_int_equal(vhc_looking_glass_size_mib(3840, 2160, &mib), 0);
        assert_int_equal(mib, 128);
        /* 2 × 1 MiB frames + 10 MiB = 12: 16. */
        assert_int_equal(vhc_looking_glass_size_mib(512, 256, &mib), 0);
        assert_int_equal(mib, 16);
        assert_int_equal(vhc_looking_glass_size_mib(0, 1080, &mib), -ERANGE);
        assert_int_equal(vhc_looking_glass_size_mib(16385, 1080, &mib), -ERANGE);

        assert_int_equal(vhc_looking_glass_parse_resolution("2560x1440", &w, &h), 0);
        assert_int_equal(w, 2560);
        assert_int_equal(h, 1440);
        assert_int_equal(vhc_looking_glass_parse_resolution("3840X2160", &w, &h), 0);
        assert_int_equal(h, 2160);
        assert_int_equal(vhc_looking_glass_parse_resolution("2560x", &w, &h), -EINVAL);
        assert_int_equal(vhc_looking_glass_parse_resolution("x1440", &w, &h), -EINVAL);
        assert_int_equal(vhc_looking_glass_parse_resolution("2560x1440p", &w, &h), -EINVAL);
        assert_int_equal(vhc_looking_glass_parse_resolution("-1x5", &w, &h), -EINVAL);
        assert_int_equal(vhc_looking_glass_parse_resolution("0x1440", &w, &h), -EINVAL);
        assert_int_equal(vhc_looking_glass_parse_resolution("99999x1", &w, &h), -EINVAL);
}

static void test_libvirt_version(void **state) {
        unsigned v = 0;

        /* Debian 12's and Fedora 41's libvirt libraries. */
        assert_int_equal(vhc_libvirt_version_parse("libvirt.so.0.9000.0", &v), 0);
        assert_int_equal(v, VHC_LIBVIRT_VERSION(9, 0, 0));
        assert_int_equal(vhc_libvirt_version_parse("libvirt.so.0.10006.0", &v), 0);
        assert_int_equal(v, VHC_LIBVIRT_VERSION(10, 6, 0));
        assert_int_equal(vhc_libvirt_version_parse("libvirt.so.0.6000.3", &v), 0);
        assert_int_equal(v, VHC_LIBVIRT_VERSION(6, 0, 3));
        assert_true(VHC_LIBVIRT_VERSION(9, 10, 0) > VHC_LIBVIRT_VERSION(9, 9, 999));
        assert_int_equal(vhc_libvirt_version_parse("libvirt.so.0", &v), -EINVAL);
        assert_int_equal(vhc_libvirt_version_parse("libvirt.so.0.9000", &v), -EINVAL);
        assert_int_equal(vhc_libvirt_version_parse("libvirt-qemu.so.0.9000.0", &v), -EINVAL);
        assert_int_equal(vhc_libvirt_version_parse("libvirt.so.0.9000.0.debug", &v), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_os_names),
                cmocka_unit_test(test_win10),
                cmocka_unit_test(test_win11),
                cmocka_unit_test(test_linux),
                cmocka_unit_test(test_no_firmware),
                cmocka_unit_test(test_qcow2_firmware),
                cmocka_unit_test(test_disks),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_hostdevs),
                cmocka_unit_test(test_nvidia),
                cmocka_unit_test(test_pin),
                cmocka_unit_test(test_evdev),
                cmocka_unit_test(test_bad_guests),
                cmocka_unit_test(test_patch_all),
                cmocka_unit_test(test_patch_defaults),
                cmocka_unit_test(test_patch_replaces),
                cmocka_unit_test(test_patch_mmio64_rom),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_render_refuses),
                cmocka_unit_test(test_patch_errors),
                cmocka_unit_test(test_patch_bytes),
                cmocka_unit_test(test_patch_mixed_quotes),
                cmocka_unit_test(test_patch_two_domains),
                cmocka_unit_test(test_patch_add_hostdevs),
                cmocka_unit_test(test_hyperv_hosts),
                cmocka_unit_test(test_audio),
                cmocka_unit_test(test_looking_glass),
                cmocka_unit_test(test_looking_glass_size),
                cmocka_unit_test(test_libvirt_version),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
