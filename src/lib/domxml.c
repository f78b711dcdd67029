/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>
#include <libxml/xmlsave.h>

#include "domxml.h"

#define LIBOSINFO_NS "http://libosinfo.org/xmlns/libvirt/domain/1.0"

static const struct {
        const char *name;
        const char *osinfo;
        bool windows;
} oses[_VHC_GUEST_OS_MAX] = {
        [VHC_GUEST_WIN10] = {"win10", "http://microsoft.com/win/10", true},
        [VHC_GUEST_WIN11] = {"win11", "http://microsoft.com/win/11", true},
        [VHC_GUEST_LINUX] = {"linux", "http://libosinfo.org/linux/2022", false},
};

int vhc_guest_os_from_string(const char *s, enum vhc_guest_os *ret) {
        for (size_t i = 0; i < _VHC_GUEST_OS_MAX; i++)
                if (streq(s, oses[i].name)) {
                        *ret = (enum vhc_guest_os)i;
                        return 0;
                }
        return -EINVAL;
}

const char *vhc_guest_os_to_string(enum vhc_guest_os os) {
        return os < _VHC_GUEST_OS_MAX ? oses[os].name : NULL;
}

/* ---- building blocks ---------------------------------------------------- */

/* libxml2 reports allocation failure by returning NULL; the builder notes it
 * once and every later call on a NULL node does nothing. */
struct builder {
        bool oom;
};

/* The order libvirt writes a parent's children in. A new child goes before
 * the first existing child that comes later in this order, so the result
 * reads like libvirt's own output and does not depend on the input's order. */
static const char *const order_domain[] = {
        "name",
        "uuid",
        "genid",
        "title",
        "description",
        "metadata",
        "maxMemory",
        "memory",
        "currentMemory",
        "blkiotune",
        "memtune",
        "memoryBacking",
        "vcpu",
        "vcpus",
        "iothreads",
        "iothreadids",
        "defaultiothread",
        "cputune",
        "numatune",
        "resource",
        "sysinfo",
        "bootloader",
        "bootloader_args",
        "os",
        "idmap",
        "throttlegroups",
        "features",
        "cpu",
        "clock",
        "on_poweroff",
        "on_reboot",
        "on_crash",
        "on_lockfailure",
        "pm",
        "perf",
        "devices",
        NULL,
};
static const char *const order_features[] = {
        "acpi", "apic",       "pae", "hap",    "viridian", "privnet", "hyperv", "kvm",
        "xen",  "pvspinlock", "pmu", "vmport", "gic",      "smm",     "ioapic", NULL,
};
static const char *const order_hyperv[] = {
        "relaxed",   "vapic",       "spinlocks",       "vpindex",  "runtime", "synic", "stimer", "reset",
        "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi",     "avic",  "evmcs",  NULL,
};
static const char *const order_cpu[] = {
        "model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa", NULL,
};
static const char *const order_cputune[] = {
        "shares",
        "period",
        "quota",
        "global_period",
        "global_quota",
        "emulator_period",
        "emulator_quota",
        "iothread_period",
        "iothread_quota",
        "vcpupin",
        "emulatorpin",
        "iothreadpin",
        NULL,
};
static const char *const order_kvm[] = {
        "hidden",
        NULL,
};
static const char *const order_memorybacking[] = {
        "hugepages",
        NULL,
};

static size_t rank(const char *const *order, const xmlChar *name) {
        size_t i;

        for (i = 0; order && order[i]; i++)
                if (xmlStrEqual(name, BAD_CAST order[i]))
                        return i;
        return SIZE_MAX; /* unknown elements stay where they are, after ours */
}

static bool is_el(const xmlNode *n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (is_el(c, name) && !c->ns)
                        return c;
        return NULL;
}

/* A new element placed by order (NULL: appended). */
static xmlNodePtr insert(struct builder *b, xmlNodePtr parent, const char *name, const char *const *order) {
        size_t r = rank(order, BAD_CAST name);
        xmlNodePtr n;

        if (!parent)
                return NULL;
        n = xmlNewNode(NULL, BAD_CAST name);
        if (!n) {
                b->oom = true;
                return NULL;
        }
        if (order && r != SIZE_MAX)
                for (xmlNodePtr c = parent->children; c; c = c->next)
                        if (c->type == XML_ELEMENT_NODE && rank(order, c->name) != SIZE_MAX &&
                            rank(order, c->name) > r) {
                                /* Keep a comment that stands right before c with c. */
                                xmlNodePtr at = c;

                                while (at->prev && at->prev->type == XML_COMMENT_NODE)
                                        at = at->prev;
                                if (!xmlAddPrevSibling(at, n)) {
                                        xmlFreeNode(n);
                                        b->oom = true;
                                        return NULL;
                                }
                                return n;
                        }
        if (!xmlAddChild(parent, n)) {
                xmlFreeNode(n);
                b->oom = true;
                return NULL;
        }
        return n;
}

static xmlNodePtr ensure(struct builder *b, xmlNodePtr parent, const char *name, const char *const *order) {
        return child(parent, name) ?: insert(b, parent, name, order);
}

static xmlNodePtr el(struct builder *b, xmlNodePtr parent, const char *name) {
        return insert(b, parent, name, NULL);
}

static xmlNodePtr el_text(struct builder *b, xmlNodePtr parent, const char *name, const char *text) {
        xmlNodePtr n;

        if (!parent)
                return NULL;
        n = xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
        if (!n)
                b->oom = true;
        return n;
}

static void set(struct builder *b, xmlNodePtr n, const char *name, const char *value) {
        if (n && !xmlSetProp(n, BAD_CAST name, BAD_CAST value))
                b->oom = true;
}

_printf_(4, 5) static void setf(struct builder *b, xmlNodePtr n, const char *name, const char *fmt, ...) {
        char buf[128];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        set(b, n, name, buf);
}

static void comment(struct builder *b, xmlNodePtr parent, const char *text) {
        xmlNodePtr c;

        if (!parent)
                return;
        c = xmlNewComment(BAD_CAST text);
        if (!c || !xmlAddChild(parent, c)) {
                xmlFreeNode(c);
                b->oom = true;
        }
}

/* An element with state="on" (Hyper-V enlightenments, features). */
static xmlNodePtr state_on(struct builder *b, xmlNodePtr parent, const char *name,
                           const char *const *order) {
        xmlNodePtr n = ensure(b, parent, name, order);

        set(b, n, "state", "on");
        return n;
}

static void remove_children(xmlNodePtr parent, const char *name) {
        xmlNodePtr c = parent ? parent->children : NULL;

        while (c) {
                xmlNodePtr next = c->next;

                if (is_el(c, name)) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                }
                c = next;
        }
}

static int serialize(xmlDocPtr doc, char **ret, size_t *ret_len) {
        xmlBufferPtr buf = xmlBufferCreate();
        xmlSaveCtxtPtr ctx;
        char *out;
        size_t len;

        if (!buf)
                return -ENOMEM;
        ctx = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
        if (!ctx) {
                xmlBufferFree(buf);
                return -ENOMEM;
        }
        if (xmlSaveDoc(ctx, doc) < 0) {
                xmlSaveClose(ctx);
                xmlBufferFree(buf);
                return -ENOMEM;
        }
        xmlSaveClose(ctx);
        len = (size_t)xmlBufferLength(buf);
        out = malloc(len + 1);
        if (!out) {
                xmlBufferFree(buf);
                return -ENOMEM;
        }
        memcpy(out, xmlBufferContent(buf), len);
        out[len] = '\0';
        xmlBufferFree(buf);
        *ret = out;
        *ret_len = len;
        return 0;
}

/* ---- the edits that render and patch share -------------------------------- */

/* NVIDIA's driver before R465 stops with "Error 43" when it sees a hypervisor:
 * hide KVM's signature and give Hyper-V a vendor id of our own. */
static void apply_nvidia(struct builder *b, xmlNodePtr dom) {
        xmlNodePtr features = ensure(b, dom, "features", order_domain);
        xmlNodePtr hyperv = child(features, "hyperv"), kvm;

        if (hyperv)
                set(b, state_on(b, hyperv, "vendor_id", order_hyperv), "value", VHC_HYPERV_VENDOR_ID);
        kvm = ensure(b, features, "kvm", order_features);
        state_on(b, kvm, "hidden", order_kvm);
}

static void apply_hugepages(struct builder *b, xmlNodePtr dom) {
        ensure(b, ensure(b, dom, "memoryBacking", order_domain), "hugepages", order_memorybacking);
}

/* The guest sees cores × threads that match the host CPUs it is pinned to. */
static void apply_cpu(struct builder *b, xmlNodePtr dom, unsigned cores, unsigned threads, bool pinned,
                      bool topoext) {
        xmlNodePtr cpu = ensure(b, dom, "cpu", order_domain), topo, feat = NULL;

        set(b, cpu, "mode", "host-passthrough");
        if (cpu) {
                /* A model or vendor means nothing to host-passthrough. */
                xmlUnsetProp(cpu, BAD_CAST "match");
                remove_children(cpu, "model");
                remove_children(cpu, "vendor");
        }
        topo = ensure(b, cpu, "topology", order_cpu);
        set(b, topo, "sockets", "1");
        set(b, topo, "dies", "1");
        setf(b, topo, "cores", "%u", cores);
        setf(b, topo, "threads", "%u", threads);
        if (pinned)
                set(b, ensure(b, cpu, "cache", order_cpu), "mode", "passthrough");
        if (!topoext || !cpu)
                return;
        for (xmlNodePtr c = cpu->children; c && !feat; c = c->next)
                if (is_el(c, "feature")) {
                        xmlChar *name = xmlGetProp(c, BAD_CAST "name");

                        if (name && xmlStrEqual(name, BAD_CAST "topoext"))
                                feat = c;
                        xmlFree(name);
                }
        if (!feat) {
                feat = insert(b, cpu, "feature", order_cpu);
                set(b, feat, "policy", "require");
                set(b, feat, "name", "topoext");
        } else
                set(b, feat, "policy", "require");
}

static void apply_pin(struct builder *b, xmlNodePtr dom, const struct vhc_pinning *p, bool topoext) {
        xmlNodePtr vcpu = ensure(b, dom, "vcpu", order_domain);
        xmlNodePtr tune = ensure(b, dom, "cputune", order_domain);
        xmlNodePtr pin;

        set(b, vcpu, "placement", "static");
        if (vcpu)
                xmlUnsetProp(vcpu, BAD_CAST "cpuset");
        remove_children(tune, "vcpupin");
        remove_children(tune, "emulatorpin");
        for (unsigned i = 0; i < p->n_vcpus; i++) {
                pin = insert(b, tune, "vcpupin", order_cputune);
                setf(b, pin, "vcpu", "%u", i);
                setf(b, pin, "cpuset", "%u", p->vcpu_cpu[i]);
        }
        pin = insert(b, tune, "emulatorpin", order_cputune);
        set(b, pin, "cpuset", p->emulator_cpuset);
        apply_cpu(b, dom, p->cores, p->threads, true, topoext && p->threads > 1);
}

/* ---- render --------------------------------------------------------------- */

/* sda, sdb, ..., sdz, sdaa: the kernel's naming, which libvirt follows. */
static void disk_target(unsigned i, char buf[static 16]) {
        char tail[8];
        int n = 0;

        i++;
        while (i > 0 && n < 7) {
                i--;
                tail[n++] = (char)('a' + i % 26);
                i /= 26;
        }
        strcpy(buf, "sd");
        for (int k = 0; k < n; k++)
                buf[2 + k] = tail[n - 1 - k];
        buf[2 + n] = '\0';
}

static int check_guest(const struct vhc_guest *g, struct vhc_err *e) {
        if (!g->name || !g->name[0])
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest needs a name");
        if (strlen(g->name) > 200)
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest name is longer than 200 characters");
        for (const char *c = g->name; *c; c++)
                if (*c == '/' || (unsigned char)*c < 0x20 || *c == 0x7f)
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "the guest name '%s' has a '/' or a control character", g->name);
        if (g->memory_kib < 1024)
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest needs at least 1 MiB of memory");
        if (g->vcpus == 0)
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest needs at least one vCPU");
        if (g->pin && g->pin->n_vcpus != g->vcpus)
                return vhc_err_set(e, -EINVAL, NULL, 0, "the pinning is for %u vCPUs, the guest has %u",
                                   g->pin->n_vcpus, g->vcpus);
        if (g->os >= _VHC_GUEST_OS_MAX)
                return vhc_err_set(e, -EINVAL, NULL, 0, "unknown guest OS");
        for (size_t i = 1; i < g->n_hostdevs; i++) {
                const struct vhc_guest_hostdev *a = &g->hostdevs[i - 1], *h = &g->hostdevs[i];

                if (a->domain == h->domain && a->bus == h->bus && a->slot == h->slot &&
                    a->function >= h->function)
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "PCI functions of one slot must be listed once, "
                                           "in order");
        }
        return 0;
}

static void render_metadata(struct builder *b, xmlNodePtr dom, enum vhc_guest_os os) {
        xmlNodePtr md = el(b, dom, "metadata"), info, osn;
        xmlNsPtr ns;

        info = el(b, md, "libosinfo");
        if (!info)
                return;
        ns = xmlNewNs(info, BAD_CAST LIBOSINFO_NS, BAD_CAST "libosinfo");
        if (!ns) {
                b->oom = true;
                return;
        }
        xmlSetNs(info, ns);
        osn = el(b, info, "os");
        if (osn)
                xmlSetNs(osn, ns);
        set(b, osn, "id", oses[os].osinfo);
}

static void render_os(struct builder *b, xmlNodePtr dom, const struct vhc_guest *g, bool secure_boot,
                      bool boot_cdrom) {
        xmlNodePtr os = el(b, dom, "os"), type, n;

        if (!g->fw)
                set(b, os, "firmware", "efi");
        type = el_text(b, os, "type", "hvm");
        set(b, type, "arch", "x86_64");
        set(b, type, "machine", "q35");
        if (g->fw) {
                n = el_text(b, os, "loader", g->fw->code);
                set(b, n, "readonly", "yes");
                set(b, n, "secure", secure_boot ? "yes" : "no");
                set(b, n, "type", "pflash");
                if (g->fw->qcow2)
                        set(b, n, "format", "qcow2");
                n = el(b, os, "nvram");
                set(b, n, "template", g->fw->vars);
                if (g->fw->qcow2)
                        set(b, n, "format", "qcow2");
        } else {
                xmlNodePtr fw = el(b, os, "firmware");

                n = el(b, fw, "feature");
                set(b, n, "enabled", secure_boot ? "yes" : "no");
                set(b, n, "name", "secure-boot");
                if (secure_boot) {
                        n = el(b, fw, "feature");
                        set(b, n, "enabled", "yes");
                        set(b, n, "name", "enrolled-keys");
                }
        }
        /* An installation CD first: the empty disk has nothing to boot yet,
         * and an installed system boots from disk when the CD's "press any
         * key" prompt passes. */
        if (boot_cdrom)
                set(b, el(b, os, "boot"), "dev", "cdrom");
        set(b, el(b, os, "boot"), "dev", "hd");
}

static void render_features(struct builder *b, xmlNodePtr dom, bool windows, bool smm) {
        /* The enlightenments virt-install gives Windows guests. */
        static const char *const hyperv_on[] = {
                "relaxed", "vapic",  "spinlocks",   "vpindex",  "runtime",
                "synic",   "stimer", "frequencies", "tlbflush", "ipi",
        };
        xmlNodePtr f = el(b, dom, "features");

        el(b, f, "acpi");
        el(b, f, "apic");
        if (windows) {
                xmlNodePtr hv = el(b, f, "hyperv");

                for (size_t i = 0; i < ELEMENTSOF(hyperv_on); i++) {
                        xmlNodePtr n = el(b, hv, hyperv_on[i]);

                        set(b, n, "state", "on");
                        if (streq(hyperv_on[i], "spinlocks"))
                                set(b, n, "retries", "8191");
                }
        }
        set(b, el(b, f, "vmport"), "state", "off");
        if (smm)
                set(b, el(b, f, "smm"), "state", "on");
}

static void render_clock(struct builder *b, xmlNodePtr dom, bool windows) {
        xmlNodePtr clock = el(b, dom, "clock"), t;

        /* Windows keeps the RTC in local time. */
        set(b, clock, "offset", windows ? "localtime" : "utc");
        t = el(b, clock, "timer");
        set(b, t, "name", "rtc");
        set(b, t, "tickpolicy", "catchup");
        t = el(b, clock, "timer");
        set(b, t, "name", "pit");
        set(b, t, "tickpolicy", "delay");
        t = el(b, clock, "timer");
        set(b, t, "name", "hpet");
        set(b, t, "present", "no");
        if (windows) {
                t = el(b, clock, "timer");
                set(b, t, "name", "hypervclock");
                set(b, t, "present", "yes");
        }
}

static void pci_address(struct builder *b, xmlNodePtr n, unsigned domain, unsigned bus, unsigned slot,
                        unsigned function) {
        setf(b, n, "domain", "0x%04x", domain);
        setf(b, n, "bus", "0x%02x", bus);
        setf(b, n, "slot", "0x%02x", slot);
        setf(b, n, "function", "0x%x", function);
}

static bool same_slot(const struct vhc_guest_hostdev *a, const struct vhc_guest_hostdev *h) {
        return a->domain == h->domain && a->bus == h->bus && a->slot == h->slot;
}

/* Each host slot goes to a root port of its own, its functions kept
 * together as one multifunction device, as they are on the card. */
static void render_hostdevs(struct builder *b, xmlNodePtr devs, const struct vhc_guest *g) {
        unsigned port = 0;

        if (g->n_hostdevs == 0)
                return;
        {
                xmlNodePtr root = el(b, devs, "controller");

                set(b, root, "type", "pci");
                set(b, root, "index", "0");
                set(b, root, "model", "pcie-root");
        }
        for (size_t i = 0; i < g->n_hostdevs; i++)
                if (i == 0 || !same_slot(&g->hostdevs[i - 1], &g->hostdevs[i])) {
                        xmlNodePtr c = el(b, devs, "controller");

                        set(b, c, "type", "pci");
                        setf(b, c, "index", "%u", ++port);
                        set(b, c, "model", "pcie-root-port");
                }
        port = 0;
        for (size_t i = 0; i < g->n_hostdevs; i++) {
                const struct vhc_guest_hostdev *h = &g->hostdevs[i];
                bool first = i == 0 || !same_slot(&g->hostdevs[i - 1], h);
                bool multi = (i + 1 < g->n_hostdevs && same_slot(h, &g->hostdevs[i + 1])) || !first;
                xmlNodePtr hd = el(b, devs, "hostdev"), a;

                if (first)
                        port++;
                set(b, hd, "mode", "subsystem");
                set(b, hd, "type", "pci");
                set(b, hd, "managed", "yes");
                a = el(b, el(b, hd, "source"), "address");
                pci_address(b, a, h->domain, h->bus, h->slot, h->function);
                a = el(b, hd, "address");
                set(b, a, "type", "pci");
                pci_address(b, a, 0, port, 0, h->function);
                if (multi && first)
                        set(b, a, "multifunction", "on");
        }
}

static void render_cdrom(struct builder *b, xmlNodePtr devs, const char *iso, unsigned idx) {
        xmlNodePtr disk = el(b, devs, "disk"), n;
        char target[16];

        set(b, disk, "type", "file");
        set(b, disk, "device", "cdrom");
        n = el(b, disk, "driver");
        set(b, n, "name", "qemu");
        set(b, n, "type", "raw");
        set(b, el(b, disk, "source"), "file", iso);
        n = el(b, disk, "target");
        disk_target(idx, target);
        set(b, n, "dev", target);
        /* q35 has no IDE; SATA is what Windows finds without drivers. */
        set(b, n, "bus", "sata");
        el(b, disk, "readonly");
}

static void render_disks(struct builder *b, xmlNodePtr devs, const struct vhc_guest *g) {
        unsigned idx = 0;
        char target[16];

        for (size_t i = 0; i < g->n_disks; i++) {
                const struct vhc_guest_disk *d = &g->disks[i];
                xmlNodePtr disk, n;

                if (d->size_gib > 0) {
                        _cleanup_free_ char *c = NULL;

                        /* We write XML only; the image is the user's to make. */
                        if (asprintf(&c,
                                     " create the disk before the first start: qemu-img create -f qcow2 %s "
                                     "%" PRIu64 "G ",
                                     d->path, d->size_gib) < 0) {
                                b->oom = true;
                                return;
                        }
                        comment(b, devs, c);
                }
                disk = el(b, devs, "disk");
                set(b, disk, "type", "file");
                set(b, disk, "device", "disk");
                n = el(b, disk, "driver");
                set(b, n, "name", "qemu");
                set(b, n, "type", d->qcow2 || d->size_gib > 0 ? "qcow2" : "raw");
                set(b, n, "discard", "unmap");
                set(b, el(b, disk, "source"), "file", d->path);
                n = el(b, disk, "target");
                disk_target(idx++, target);
                set(b, n, "dev", target);
                set(b, n, "bus", "scsi");
        }
        for (char *const *c = g->cdroms; c && *c; c++)
                render_cdrom(b, devs, *c, idx++);
        if (g->virtio_win)
                render_cdrom(b, devs, g->virtio_win, idx++);
}

static bool is_keyboard(const char *path) {
        size_t n = strlen(path);

        return n >= 10 && streq(path + n - 10, "-event-kbd");
}

static void render_inputs(struct builder *b, xmlNodePtr devs, const struct vhc_guest *g) {
        xmlNodePtr n = el(b, devs, "input");

        set(b, n, "type", "tablet");
        set(b, n, "bus", "usb");
        for (char *const *p = g->evdevs; p && *p; p++) {
                xmlNodePtr src;

                n = el(b, devs, "input");
                set(b, n, "type", "evdev");
                src = el(b, n, "source");
                set(b, src, "dev", *p);
                /* Both Ctrl keys hand keyboard and mouse back to the host. */
                if (is_keyboard(*p)) {
                        set(b, src, "grab", "all");
                        set(b, src, "grabToggle", "ctrl-ctrl");
                        set(b, src, "repeat", "on");
                }
        }
}

static void render_devices(struct builder *b, xmlNodePtr dom, const struct vhc_guest *g, bool windows) {
        xmlNodePtr devs = el(b, dom, "devices"), n, m;

        render_disks(b, devs, g);

        n = el(b, devs, "controller");
        set(b, n, "type", "scsi");
        set(b, n, "index", "0");
        set(b, n, "model", "virtio-scsi");
        n = el(b, devs, "controller");
        set(b, n, "type", "usb");
        set(b, n, "index", "0");
        set(b, n, "model", "qemu-xhci");
        set(b, n, "ports", "15");

        n = el(b, devs, "interface");
        set(b, n, "type", "network");
        set(b, el(b, n, "source"), "network", "default");
        set(b, el(b, n, "model"), "type", "virtio");

        set(b, el(b, devs, "console"), "type", "pty");
        n = el(b, devs, "channel");
        set(b, n, "type", "spicevmc");
        m = el(b, n, "target");
        set(b, m, "type", "virtio");
        set(b, m, "name", "com.redhat.spice.0");
        n = el(b, devs, "channel");
        set(b, n, "type", "unix");
        m = el(b, n, "target");
        set(b, m, "type", "virtio");
        set(b, m, "name", "org.qemu.guest_agent.0");

        render_inputs(b, devs, g);

        if (windows) {
                n = el(b, devs, "tpm");
                set(b, n, "model", "tpm-crb");
                m = el(b, n, "backend");
                set(b, m, "type", "emulator");
                set(b, m, "version", "2.0");
        }

        n = el(b, devs, "graphics");
        set(b, n, "type", "spice");
        set(b, n, "autoport", "yes");
        m = el(b, n, "listen");
        set(b, m, "type", "address");
        set(b, m, "address", g->spice_listen ?: "127.0.0.1");
        set(b, el(b, n, "image"), "compression", "off");

        set(b, el(b, devs, "sound"), "model", "ich9");
        n = el(b, el(b, devs, "video"), "model");
        /* QXL has Windows drivers on the virtio-win ISO; Linux has virtio-gpu. */
        set(b, n, "type", windows ? "qxl" : "virtio");
        set(b, n, "heads", "1");
        set(b, n, "primary", "yes");

        render_hostdevs(b, devs, g);

        for (int i = 0; i < 2; i++) {
                n = el(b, devs, "redirdev");
                set(b, n, "bus", "usb");
                set(b, n, "type", "spicevmc");
        }
        /* A passed-through device pins all guest memory: a balloon cannot
         * give any back. */
        set(b, el(b, devs, "memballoon"), "model", g->n_hostdevs > 0 ? "none" : "virtio");
        if (!windows) {
                n = el(b, devs, "rng");
                set(b, n, "model", "virtio");
                m = el_text(b, n, "backend", "/dev/urandom");
                set(b, m, "model", "random");
        }
}

int vhc_domxml_render(const struct vhc_guest *g, char **ret, size_t *ret_len, struct vhc_err *e) {
        struct builder b = {};
        bool windows, secure_boot;
        xmlDocPtr doc;
        xmlNodePtr dom, pm;
        char num[32];
        int r;

        r = check_guest(g, e);
        if (r < 0)
                return r;
        windows = oses[g->os].windows;
        secure_boot = g->os == VHC_GUEST_WIN11;

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        dom = xmlNewNode(NULL, BAD_CAST "domain");
        if (!dom) {
                xmlFreeDoc(doc);
                return -ENOMEM;
        }
        xmlDocSetRootElement(doc, dom);
        set(&b, dom, "type", "kvm");

        el_text(&b, dom, "name", g->name);
        render_metadata(&b, dom, g->os);
        snprintf(num, sizeof(num), "%" PRIu64, g->memory_kib);
        set(&b, el_text(&b, dom, "memory", num), "unit", "KiB");
        set(&b, el_text(&b, dom, "currentMemory", num), "unit", "KiB");
        if (g->hugepages)
                apply_hugepages(&b, dom);
        snprintf(num, sizeof(num), "%u", g->vcpus);
        set(&b, el_text(&b, dom, "vcpu", num), "placement", "static");
        render_os(&b, dom, g, secure_boot, g->cdroms && g->cdroms[0]);
        render_features(&b, dom, windows, secure_boot);
        if (g->pin)
                apply_pin(&b, dom, g->pin, g->topoext);
        else
                apply_cpu(&b, dom, g->vcpus, 1, false, false);
        if (g->nvidia)
                apply_nvidia(&b, dom);
        render_clock(&b, dom, windows);
        pm = el(&b, dom, "pm");
        set(&b, el(&b, pm, "suspend-to-mem"), "enabled", "no");
        set(&b, el(&b, pm, "suspend-to-disk"), "enabled", "no");
        render_devices(&b, dom, g, windows);

        r = b.oom ? -ENOMEM : serialize(doc, ret, ret_len);
        xmlFreeDoc(doc);
        return r;
}

/* ---- patch ---------------------------------------------------------------- */

/* libxml2 goes on after an error and reports a consequence last; the first
 * error names the real fault. */
struct first_error {
        bool set;
        int line;
        char msg[512];
};

/* libxml2 2.12 made the error const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlError *xml_error_arg;
#endif

static void keep_first_error(void *user, xml_error_arg err) {
#if LIBXML_VERSION >= 21300
        struct first_error *fe = user;
#else
        xmlParserCtxtPtr ctx = user;
        struct first_error *fe = ctx ? ctx->_private : NULL;
#endif
        size_t n;

        if (!fe || fe->set || !err || err->level < XML_ERR_ERROR)
                return;
        fe->set = true;
        fe->line = err->line;
        snprintf(fe->msg, sizeof(fe->msg), "%s", err->message ? err->message : "unknown error");
        n = strlen(fe->msg);
        while (n > 0 && fe->msg[n - 1] == '\n')
                fe->msg[--n] = '\0';
}

static int parse(const char *xml, size_t len, const char *name, xmlDocPtr *ret, struct vhc_err *e) {
        struct first_error fe = {};
        xmlParserCtxtPtr ctx;
        xmlDocPtr doc;
        int r;

        if (len > INT_MAX)
                return vhc_err_set(e, -EFBIG, name, 0, "the input is too large");
        ctx = xmlNewParserCtxt();
        if (!ctx)
                return -ENOMEM;
#if LIBXML_VERSION >= 21300
        xmlCtxtSetErrorHandler(ctx, keep_first_error, &fe);
#else
        ctx->_private = &fe;
        ctx->sax->serror = keep_first_error;
#endif
        /* No network, no entity expansion, and errors to us, not stderr. */
        doc = xmlCtxtReadMemory(ctx, xml, (int)len, name, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                        XML_PARSE_NOWARNING);
        /* Without XML_PARSE_RECOVER, only a well-formed document comes back. */
        if (doc) {
                xmlFreeParserCtxt(ctx);
                *ret = doc;
                return 0;
        }
        if (fe.set)
                r = vhc_err_set(e, -EINVAL, name, fe.line > 0 ? (unsigned)fe.line : 0,
                                "not well-formed XML: %s", fe.msg);
        else
                r = vhc_err_set(e, -EINVAL, name, 0, "not well-formed XML");
        xmlFreeParserCtxt(ctx);
        return r;
}

/* parse(), and the document must be a libvirt domain: its <domain> root. */
static int parse_domain(const char *xml, size_t len, const char *name, xmlDocPtr *ret_doc, xmlNodePtr *ret_dom,
                        struct vhc_err *e) {
        xmlDocPtr doc;
        xmlNodePtr dom;
        int r;

        r = parse(xml, len, name, &doc, e);
        if (r < 0)
                return r;
        dom = xmlDocGetRootElement(doc);
        if (!dom || !is_el(dom, "domain") || dom->ns) {
                r = vhc_err_set(e, -EINVAL, name, dom ? (unsigned)xmlGetLineNo(dom) : 0,
                                "not a libvirt domain: the root element is <%s>, not <domain>",
                                dom ? (const char *)dom->name : "");
                xmlFreeDoc(doc);
                return r;
        }
        *ret_doc = doc;
        *ret_dom = dom;
        return 0;
}

static int domain_vcpus(xmlNodePtr dom, const char *name, unsigned *ret, struct vhc_err *e) {
        xmlNodePtr vcpu = child(dom, "vcpu");
        xmlChar *text;
        unsigned long v;
        char *end;

        if (!vcpu)
                return vhc_err_set(e, -EINVAL, name, (unsigned)xmlGetLineNo(dom),
                                   "the domain has no <vcpu> element to pin");
        text = xmlNodeGetContent(vcpu);
        if (!text)
                return -ENOMEM;
        errno = 0;
        v = strtoul((const char *)text, &end, 10);
        while (*end == ' ' || *end == '\n' || *end == '\t')
                end++;
        if (errno || end == (char *)text || *end || v == 0 || v > 4096) {
                int r = vhc_err_set(e, -EINVAL, name, (unsigned)xmlGetLineNo(vcpu),
                                    "<vcpu>%s</vcpu> is not a vCPU count", (const char *)text);

                xmlFree(text);
                return r;
        }
        xmlFree(text);
        *ret = (unsigned)v;
        return 0;
}

int vhc_domxml_patch(const char *xml, size_t len, const char *name, const struct vhc_domxml_edits *ed,
                     char **ret, size_t *ret_len, struct vhc_err *e) {
        struct vhc_pinning pin = {};
        struct builder b = {};
        xmlDocPtr doc = NULL;
        xmlNodePtr dom;
        int r;

        r = parse_domain(xml, len, name, &doc, &dom, e);
        if (r < 0)
                return r;
        if (ed->pin) {
                unsigned vcpus = 0;

                r = domain_vcpus(dom, name, &vcpus, e);
                if (r < 0)
                        goto out;
                r = vhc_topology_pick(ed->pin, vcpus, &pin, e);
                if (r < 0)
                        goto out;
                apply_pin(&b, dom, &pin, ed->topoext);
        }
        if (ed->hugepages)
                apply_hugepages(&b, dom);
        if (ed->nvidia)
                apply_nvidia(&b, dom);
        r = b.oom ? -ENOMEM : serialize(doc, ret, ret_len);
out:
        vhc_pinning_done(&pin);
        xmlFreeDoc(doc);
        return r;
}

/* ---- reading a defined domain ------------------------------------------- */

/* libvirt's scaling of a unit attribute (virScaleInteger): case-insensitive,
 * "b"/"byte"/"bytes", a letter or letter+"iB" in powers of 1024, letter+"B"
 * in powers of 1000. 0 for a unit libvirt refuses. */
static uint64_t unit_scale(const char *unit) {
        static const char letters[] = "kmgtpe";
        const char *p;
        uint64_t base, scale = 1;

        if (!unit || !unit[0])
                return 1024; /* <memory> without a unit is KiB */
        if (strcasecmp(unit, "b") == 0 || strcasecmp(unit, "byte") == 0 || strcasecmp(unit, "bytes") == 0)
                return 1;
        if (!unit[1] || strcasecmp(unit + 1, "iB") == 0)
                base = 1024;
        else if ((unit[1] == 'b' || unit[1] == 'B') && !unit[2])
                base = 1000;
        else
                return 0;
        p = strchr(letters, tolower((unsigned char)unit[0]));
        if (!p || !*p)
                return 0;
        for (ptrdiff_t i = 0; i <= p - letters; i++)
                scale *= base;
        return scale;
}

int vhc_domxml_memory(const char *xml, size_t len, const char *name, uint64_t *ret_bytes, char **ret_domain,
                      struct vhc_err *e) {
        xmlDocPtr doc = NULL;
        xmlNodePtr dom, mem;
        xmlChar *text = NULL, *unit = NULL, *dname = NULL;
        unsigned long long v;
        uint64_t scale;
        char *end;
        int r;

        r = parse_domain(xml, len, name, &doc, &dom, e);
        if (r < 0)
                return r;
        mem = child(dom, "memory");
        if (!mem) {
                r = vhc_err_set(e, -EINVAL, name, (unsigned)xmlGetLineNo(dom), "the domain has no <memory>");
                goto out;
        }
        text = xmlNodeGetContent(mem);
        unit = xmlGetProp(mem, BAD_CAST "unit");
        if (child(dom, "name"))
                dname = xmlNodeGetContent(child(dom, "name"));
        if (!text || (child(dom, "name") && !dname)) {
                r = -ENOMEM;
                goto out;
        }
        scale = unit_scale((const char *)unit);
        errno = 0;
        v = strtoull((const char *)text, &end, 10);
        while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r')
                end++;
        if (errno || end == (char *)text || *end || strchr((const char *)text, '-') || scale == 0 ||
            v > UINT64_MAX / scale) {
                r = vhc_err_set(e, -EINVAL, name, (unsigned)xmlGetLineNo(mem),
                                "<memory unit='%s'>%s</memory> is not a size",
                                unit ? (const char *)unit : "", (const char *)text);
                goto out;
        }
        if (ret_domain) {
                *ret_domain = strdup(dname ? (const char *)dname : "");
                if (!*ret_domain) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        *ret_bytes = (uint64_t)v * scale;
        r = 0;
out:
        xmlFree(text);
        xmlFree(unit);
        xmlFree(dname);
        xmlFreeDoc(doc);
        return r;
}
