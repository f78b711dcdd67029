/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>

#include "domxml.h"
#include "fileio.h"
#include "root.h"

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
/* virDomainDefFormat's order of devices. */
static const char *const order_devices[] = {
        "emulator", "disk",       "controller", "lease",   "filesystem", "interface",   "smartcard",
        "serial",   "parallel",   "console",    "channel", "input",      "tpm",         "graphics",
        "sound",    "audio",      "video",      "hostdev", "redirdev",   "redirfilter", "hub",
        "watchdog", "memballoon", "rng",        "panic",   "shmem",      "memory",      "iommu",
        "vsock",    "crypto",     "pstore",     NULL,
};
/* virDomainHostdevDefFormat, then virDomainDeviceInfoFormat. */
static const char *const order_hostdev[] = {
        "driver", "source", "origstates", "boot", "alias", "rom", "acpi", "address", NULL,
};
static const char *const order_disk[] = {
        "driver", "source", "backingStore", "target", NULL,
};
/* Attribute orders, as libvirt writes them. */
static const char *const attrs_disk_driver[] = {
        "name",     "type",          "cache",     "error_policy", "rerror_policy",
        "io",       "ioeventfd",     "event_idx", "copy_on_read", "discard",
        "iothread", "detect_zeroes", "queues",    "queue_size",   NULL,
};
static const char *const attrs_controller_driver[] = {
        "queues", "cmd_per_lun", "max_sectors", "ioeventfd", "iothread", NULL,
};
static const char *const attrs_cpu[] = {
        "mode", "match", "check", "migratable", NULL,
};
static const char *const attrs_topology[] = {
        "sockets", "dies", "clusters", "cores", "threads", NULL,
};
static const char *const attrs_vcpu[] = {
        "placement",
        "cpuset",
        "current",
        NULL,
};
static const char *const attrs_address[] = {
        "type", "domain", "bus", "slot", "function", "multifunction", NULL,
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

/* The attribute's value compared, without allocating. */
static bool attr_is(xmlNodePtr n, const char *name, const char *value) {
        xmlAttrPtr a = n ? xmlHasProp(n, BAD_CAST name) : NULL;

        return a && a->children && a->children->type == XML_TEXT_NODE && !a->children->next &&
               xmlStrEqual(a->children->content, BAD_CAST value);
}

static bool has_attr(xmlNodePtr n, const char *name) {
        return n && xmlHasProp(n, BAD_CAST name);
}

/* The first child element name whose attribute is value (value NULL: any). */
static xmlNodePtr child_with(xmlNodePtr parent, const char *name, const char *attr, const char *value) {
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (is_el(c, name) && !c->ns && (value ? attr_is(c, attr, value) : has_attr(c, attr)))
                        return c;
        return NULL;
}

/* An unsigned attribute in C syntax (0x01, 1); -1 when absent or not a number. */
static long attr_num(xmlNodePtr n, const char *name) {
        xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
        unsigned long x;
        char *end;
        long r = -1;

        if (!v)
                return -1;
        errno = 0;
        x = strtoul((const char *)v, &end, 0);
        if (!errno && end != (char *)v && !*end && x <= 0xffffffUL && v[0] != '-')
                r = (long)x;
        xmlFree(v);
        return r;
}

static void link_before(struct builder *b, xmlNodePtr parent, xmlNodePtr n, const char *const *order) {
        size_t r = rank(order, n->name);

        if (order && r != SIZE_MAX)
                for (xmlNodePtr c = parent->children; c; c = c->next)
                        if (c->type == XML_ELEMENT_NODE && !c->ns && rank(order, c->name) != SIZE_MAX &&
                            rank(order, c->name) > r) {
                                /* Keep a comment that stands right before c with c. */
                                xmlNodePtr at = c;

                                while (at->prev && at->prev->type == XML_COMMENT_NODE)
                                        at = at->prev;
                                if (!xmlAddPrevSibling(at, n)) {
                                        xmlFreeNode(n);
                                        b->oom = true;
                                }
                                return;
                        }
        if (!xmlAddChild(parent, n)) {
                xmlFreeNode(n);
                b->oom = true;
        }
}

/* A new element placed by order (NULL: appended). */
static xmlNodePtr insert(struct builder *b, xmlNodePtr parent, const char *name, const char *const *order) {
        xmlNodePtr n;

        if (!parent)
                return NULL;
        n = xmlNewNode(NULL, BAD_CAST name);
        if (!n) {
                b->oom = true;
                return NULL;
        }
        link_before(b, parent, n, order);
        return b->oom ? NULL : n;
}

static xmlNodePtr ensure(struct builder *b, xmlNodePtr parent, const char *name, const char *const *order) {
        return child(parent, name) ?: insert(b, parent, name, order);
}

static xmlNodePtr el(struct builder *b, xmlNodePtr parent, const char *name) {
        return insert(b, parent, name, NULL);
}

static void set_text(struct builder *b, xmlNodePtr n, const char *text) {
        xmlChar *esc;

        if (!n)
                return;
        esc = xmlEncodeSpecialChars(n->doc, BAD_CAST text);
        if (!esc) {
                b->oom = true;
                return;
        }
        xmlNodeSetContent(n, esc);
        xmlFree(esc);
}

static xmlNodePtr el_text(struct builder *b, xmlNodePtr parent, const char *name, const char *text) {
        xmlNodePtr n = el(b, parent, name);

        set_text(b, n, text);
        return n;
}

static void set(struct builder *b, xmlNodePtr n, const char *name, const char *value) {
        if (n && !xmlSetProp(n, BAD_CAST name, BAD_CAST value))
                b->oom = true;
}

/* set(), a new attribute going where libvirt writes it among the others. */
static void set_ordered(struct builder *b, xmlNodePtr n, const char *name, const char *value,
                        const char *const *order) {
        size_t r = rank(order, BAD_CAST name);
        xmlAttrPtr a;

        if (!n)
                return;
        if (xmlHasProp(n, BAD_CAST name) || r == SIZE_MAX) {
                set(b, n, name, value);
                return;
        }
        a = xmlNewProp(n, BAD_CAST name, BAD_CAST value); /* appended */
        if (!a) {
                b->oom = true;
                return;
        }
        for (xmlAttrPtr p = n->properties; p && p != a; p = p->next)
                if (rank(order, p->name) != SIZE_MAX && rank(order, p->name) > r) {
                        /* Unlink a from the end, link it before p. */
                        a->prev->next = NULL;
                        a->next = p;
                        a->prev = p->prev;
                        if (p->prev)
                                p->prev->next = a;
                        else
                                n->properties = a;
                        p->prev = a;
                        return;
                }
}

static void set_default(struct builder *b, xmlNodePtr n, const char *name, const char *value,
                        const char *const *order) {
        if (n && !has_attr(n, name))
                set_ordered(b, n, name, value, order);
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

static void drop(xmlNodePtr n) {
        if (n) {
                xmlUnlinkNode(n);
                xmlFreeNode(n);
        }
}

static void remove_children(xmlNodePtr parent, const char *name) {
        xmlNodePtr c = parent ? parent->children : NULL;

        while (c) {
                xmlNodePtr next = c->next;

                if (!name || is_el(c, name))
                        drop(c);
                c = next;
        }
}

/* An element with state="on" unless the domain says otherwise already. */
static xmlNodePtr state_on(struct builder *b, xmlNodePtr parent, const char *name,
                           const char *const *order) {
        xmlNodePtr n = ensure(b, parent, name, order);

        set_default(b, n, "state", "on", NULL);
        return n;
}

/* ---- writing the tree ------------------------------------------------------ */

/* How the input was written, so that what the edits leave alone comes out in
 * the same bytes: libxml2's way (virt-install: double quotes, 2 spaces) or
 * libvirt's (virsh dumpxml, /etc/libvirt/qemu: single quotes). */
struct style {
        char quote;
        char indent[16];
};

static const struct style style_default = {.quote = '"', .indent = "  "};

static void detect_style(const char *root, size_t len, struct style *st) {
        const char *sq = memmem(root, len, "='", 2), *dq = memmem(root, len, "=\"", 2);

        *st = style_default;
        if (sq && (!dq || sq < dq))
                st->quote = '\'';
        /* The first indented element after the root's start tag gives one level. */
        for (size_t i = 0; i + 1 < len; i++)
                if (root[i] == '\n') {
                        size_t j = i + 1, k;

                        while (j < len && (root[j] == ' ' || root[j] == '\t'))
                                j++;
                        k = j - i - 1;
                        if (j < len && root[j] == '<' && k > 0) {
                                if (k < sizeof(st->indent)) {
                                        memcpy(st->indent, root + i + 1, k);
                                        st->indent[k] = '\0';
                                }
                                break;
                        }
                }
}

static const char *skip_past(const char *p, const char *end, const char *what) {
        const char *q = memmem(p, (size_t)(end - p), what, strlen(what));

        return q ? q + strlen(what) : NULL;
}

/* The next element after n in document order, not below root's end. */
static xmlNodePtr next_element(xmlNodePtr n, xmlNodePtr root) {
        for (xmlNodePtr c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        return c;
        for (; n && n != root; n = n->parent)
                for (xmlNodePtr c = n->next; c; c = c->next)
                        if (c->type == XML_ELEMENT_NODE)
                                return c;
        return NULL;
}

/* Each element keeps the quote its start tag was written with (in _private):
 * libvirt keeps <metadata> as libxml2 wrote it, in double quotes, inside its
 * own single-quoted XML. The start tags in the text come in the order of the
 * tree's elements; an element the edits make takes its parent's. */
static void mark_quotes(xmlNodePtr root, const char *s, size_t len) {
        const char *p = s, *end = s + len;
        xmlNodePtr n = root;

        while (n && p < end) {
                p = memchr(p, '<', (size_t)(end - p));
                if (!p || p + 1 >= end)
                        return;
                if (end - p >= 4 && strneq(p, "<!--", 4))
                        p = skip_past(p + 4, end, "-->");
                else if (end - p >= 9 && strneq(p, "<![CDATA[", 9))
                        p = skip_past(p + 9, end, "]]>");
                else if (p[1] == '?' || p[1] == '!' || p[1] == '/')
                        p = skip_past(p + 1, end, ">");
                else {
                        char quote = 0, q = 0;

                        for (p++; p < end && (quote || *p != '>'); p++)
                                if (quote) {
                                        if (*p == quote)
                                                quote = 0;
                                } else if (*p == '"' || *p == '\'') {
                                        quote = *p;
                                        q = q ?: *p;
                                }
                        n->_private = (void *)(uintptr_t)(unsigned char)q;
                        n = next_element(n, root);
                }
                if (!p)
                        return;
        }
}

/* libvirt escapes both quotes everywhere (virBufferEscapeString); libxml2
 * only what each context needs. */
static void put_escaped(FILE *f, const xmlChar *s, bool attr, char q) {
        bool libvirt = q == '\'';

        for (; s && *s; s++)
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs(attr || libvirt ? "&quot;" : "\"", f);
                        break;
                case '\'':
                        fputs(libvirt ? "&apos;" : "'", f);
                        break;
                case '\n':
                        fputs(attr && !libvirt ? "&#10;" : "\n", f);
                        break;
                case '\r':
                        fputs("&#13;", f);
                        break;
                case '\t':
                        fputs(attr && !libvirt ? "&#9;" : "\t", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

static void put_name(FILE *f, const xmlNs *ns, const xmlChar *name) {
        if (ns && ns->prefix)
                fprintf(f, "%s:", (const char *)ns->prefix);
        fputs((const char *)name, f);
}

static void put_nsdefs(FILE *f, const xmlNode *n, char q) {
        for (const xmlNs *ns = n->nsDef; ns; ns = ns->next) {
                fputs(ns->prefix ? " xmlns:" : " xmlns", f);
                if (ns->prefix)
                        fputs((const char *)ns->prefix, f);
                fprintf(f, "=%c", q);
                put_escaped(f, ns->href, true, q);
                fputc(q, f);
        }
}

static void put_attrs(FILE *f, const xmlNode *n, char q) {
        for (const xmlAttr *a = n->properties; a; a = a->next) {
                fputc(' ', f);
                put_name(f, a->ns, a->name);
                fprintf(f, "=%c", q);
                for (const xmlNode *t = a->children; t; t = t->next)
                        if (t->type == XML_TEXT_NODE)
                                put_escaped(f, t->content, true, q);
                        else if (t->type == XML_ENTITY_REF_NODE)
                                fprintf(f, "&%s;", (const char *)t->name);
                fputc(q, f);
        }
}

static bool has_text_child(const xmlNode *n) {
        for (const xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE ||
                    c->type == XML_ENTITY_REF_NODE)
                        return true;
        return false;
}

static void put_indent(FILE *f, unsigned depth, const struct style *st) {
        for (unsigned i = 0; i < depth; i++)
                fputs(st->indent, f);
}

/* One node as libxml2's formatting writer does (XML_SAVE_FORMAT): elements
 * with element children only get a line each, indented; an element with text
 * keeps its content on one line, as it came. */
static void put_node(FILE *f, const xmlNode *n, unsigned depth, bool format, const struct style *st,
                     char q) {
        switch (n->type) {
        case XML_ELEMENT_NODE: {
                bool inner = format && !has_text_child(n);

                if (n->_private)
                        q = (char)(uintptr_t)n->_private;
                fputc('<', f);
                put_name(f, n->ns, n->name);
                /* libvirt writes namespace declarations after the attributes, libxml2 before. */
                if (q == '\'')
                        put_attrs(f, n, q), put_nsdefs(f, n, q);
                else
                        put_nsdefs(f, n, q), put_attrs(f, n, q);
                if (!n->children) {
                        fputs("/>", f);
                        return;
                }
                fputc('>', f);
                for (const xmlNode *c = n->children; c; c = c->next) {
                        if (inner) {
                                fputc('\n', f);
                                put_indent(f, depth + 1, st);
                        }
                        put_node(f, c, depth + 1, inner, st, q);
                }
                if (inner) {
                        fputc('\n', f);
                        put_indent(f, depth, st);
                }
                fputs("</", f);
                put_name(f, n->ns, n->name);
                fputc('>', f);
                return;
        }
        case XML_TEXT_NODE:
                put_escaped(f, n->content, false, q);
                return;
        case XML_CDATA_SECTION_NODE:
                fprintf(f, "<![CDATA[%s]]>", n->content ? (const char *)n->content : "");
                return;
        case XML_COMMENT_NODE:
                fprintf(f, "<!--%s-->", n->content ? (const char *)n->content : "");
                return;
        case XML_PI_NODE:
                fprintf(f, "<?%s%s%s?>", (const char *)n->name, n->content ? " " : "",
                        n->content ? (const char *)n->content : "");
                return;
        case XML_ENTITY_REF_NODE:
                fprintf(f, "&%s;", (const char *)n->name);
                return;
        default:
                return;
        }
}

/* Whitespace between elements is layout, which the writer makes anew: drop it
 * where an element has element children, keep it in text. */
static void strip_layout(xmlNodePtr n) {
        bool elements = false;

        for (xmlNodePtr c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE || c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
                        elements = true;
        for (xmlNodePtr c = n->children, next; c; c = next) {
                next = c->next;
                if (elements && c->type == XML_TEXT_NODE && xmlIsBlankNode(c))
                        drop(c);
                else if (c->type == XML_ELEMENT_NODE)
                        strip_layout(c);
        }
}

/* before + the root element + after, NUL-terminated. */
static int serialize(xmlNodePtr root, const struct style *st, const char *before, size_t before_len,
                     const char *after, size_t after_len, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        char *out;
        int r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fwrite(before, 1, before_len, f);
        put_node(f, root, 0, true, st, st->quote);
        if (after)
                fwrite(after, 1, after_len, f);
        else
                fputc('\n', f);
        r = vhc_memstream_finish(f, &buf, &out);
        if (r < 0)
                return r;
        *ret_len = strlen(out);
        *ret = out;
        return 0;
}

/* ---- finding the documents ------------------------------------------------- */

/* Where each top-level element of s starts and ends: virt-install --print-xml
 * writes two domains one after the other for a CD-ROM installation, which is
 * no XML document. Comments, CDATA, processing instructions and quoted
 * attribute values are skipped; a text that does not scan (not XML at all)
 * gives what was found before, and libxml2 then says what is wrong. */
struct span {
        size_t start, end; /* the element's first byte, one past its last */
};

#define MAX_DOCS 8

static size_t find_roots(const char *s, size_t len, struct span *spans, size_t max) {
        const char *p = s, *end = s + len;
        size_t n = 0;
        unsigned depth = 0;
        size_t start = 0;

        while (p < end && n < max) {
                p = memchr(p, '<', (size_t)(end - p));
                if (!p || p + 1 >= end)
                        break;
                if (end - p >= 4 && strneq(p, "<!--", 4))
                        p = skip_past(p + 4, end, "-->");
                else if (end - p >= 9 && strneq(p, "<![CDATA[", 9))
                        p = skip_past(p + 9, end, "]]>");
                else if (p[1] == '?')
                        p = skip_past(p + 2, end, "?>");
                else if (p[1] == '!') {
                        /* <!DOCTYPE name [internal subset]> */
                        const char *q = p + 2;

                        while (q < end && *q != '>' && *q != '[')
                                q++;
                        if (q < end && *q == '[')
                                q = skip_past(q, end, "]");
                        p = q ? skip_past(q, end, ">") : NULL;
                } else if (p[1] == '/') {
                        p = skip_past(p + 2, end, ">");
                        if (!p || depth == 0)
                                break;
                        if (--depth == 0)
                                spans[n++] = (struct span){start, (size_t)(p - s)};
                } else {
                        const char *q = p + 1;
                        char quote = 0;

                        for (; q < end; q++)
                                if (quote) {
                                        if (*q == quote)
                                                quote = 0;
                                } else if (*q == '"' || *q == '\'')
                                        quote = *q;
                                else if (*q == '>')
                                        break;
                        if (q >= end)
                                break;
                        if (depth == 0)
                                start = (size_t)(p - s);
                        if (q[-1] == '/') {
                                if (depth == 0)
                                        spans[n++] = (struct span){start, (size_t)(q + 1 - s)};
                        } else
                                depth++;
                        p = q + 1;
                }
                if (!p)
                        break;
        }
        return n;
}

/* ---- the edits that create and patch share --------------------------------- */

static int check_edits(const struct vhc_domxml_edits *ed, struct vhc_err *e);

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define ROOT_PORTS 14 /* virt-install's num_pcie_root_ports */
#define MAX_BUS 256

struct edit {
        struct builder *b;
        const struct vhc_domxml_edits *ed;
        struct vhc_domxml_result *res;
        xmlNodePtr dom, devs;
        bool windows, q35;
        unsigned vcpus;
        const struct vhc_pinning *pin; /* NULL: not pinned */
};

static bool libvirt_has(const struct vhc_domxml_edits *ed, unsigned version) {
        return ed->libvirt == 0 || ed->libvirt >= version;
}

static bool domain_is_windows(xmlNodePtr dom) {
        for (xmlNodePtr info = child(dom, "metadata") ? child(dom, "metadata")->children : NULL; info;
             info = info->next) {
                if (!is_el(info, "libosinfo") || !info->ns ||
                    !xmlStrEqual(info->ns->href, BAD_CAST LIBOSINFO_NS))
                        continue;
                for (xmlNodePtr os = info->children; os; os = os->next)
                        if (is_el(os, "os")) {
                                xmlChar *id = xmlGetProp(os, BAD_CAST "id");
                                bool win = id && startswith((const char *)id, "http://microsoft.com/win/");

                                xmlFree(id);
                                if (win)
                                        return true;
                        }
        }
        return child(child(dom, "features"), "hyperv") != NULL;
}

static bool domain_is_q35(xmlNodePtr dom, xmlNodePtr devs) {
        xmlNodePtr type = child(child(dom, "os"), "type");
        xmlChar *machine = type ? xmlGetProp(type, BAD_CAST "machine") : NULL;
        bool q35 = machine && strstr((const char *)machine, "q35");

        xmlFree(machine);
        for (xmlNodePtr c = devs->children; c && !q35; c = c->next)
                q35 = is_el(c, "controller") && attr_is(c, "type", "pci") &&
                      attr_is(c, "model", "pcie-root");
        return q35;
}

/* The <vcpu> count; 0 when the domain has none (libvirt's default is 1). */
static int domain_vcpus(xmlNodePtr dom, const char *name, unsigned *ret, struct vhc_err *e) {
        xmlNodePtr vcpu = child(dom, "vcpu");
        xmlChar *text;
        unsigned long v;
        char *end;

        *ret = 0;
        if (!vcpu)
                return 0;
        text = xmlNodeGetContent(vcpu);
        if (!text)
                return -ENOMEM;
        errno = 0;
        v = strtoul((const char *)text, &end, 10);
        while (*end == ' ' || *end == '\n' || *end == '\t')
                end++;
        if (errno || end == (char *)text || *end || v == 0 || v > 4096 || text[0] == '-') {
                int r = vhc_err_set(e, -EINVAL, name, (unsigned)xmlGetLineNo(vcpu),
                                    "<vcpu>%s</vcpu> is not a vCPU count", (const char *)text);

                xmlFree(text);
                return r;
        }
        xmlFree(text);
        *ret = (unsigned)v;
        return 0;
}

static void apply_hugepages(struct edit *x) {
        struct builder *b = x->b;

        ensure(b, ensure(b, x->dom, "memoryBacking", order_domain), "hugepages", order_memorybacking);
}

/* One I/O thread for the disk controller, so that disk I/O leaves the vCPUs
 * and the main loop alone. */
static void apply_iothreads(struct edit *x) {
        if (!child(x->dom, "iothreads"))
                set_text(x->b, insert(x->b, x->dom, "iothreads", order_domain), "1");
}

static void apply_pin(struct edit *x) {
        struct builder *b = x->b;
        const struct vhc_pinning *p = x->pin;
        xmlNodePtr vcpu = ensure(b, x->dom, "vcpu", order_domain);
        xmlNodePtr tune = ensure(b, x->dom, "cputune", order_domain), pin, next;

        set_ordered(b, vcpu, "placement", "static", attrs_vcpu);
        if (vcpu)
                xmlUnsetProp(vcpu, BAD_CAST "cpuset");
        remove_children(tune, "vcpupin");
        remove_children(tune, "emulatorpin");
        for (xmlNodePtr c = tune ? tune->children : NULL; c; c = next) {
                next = c->next;
                if (is_el(c, "iothreadpin") && attr_is(c, "iothread", "1"))
                        drop(c);
        }
        for (unsigned i = 0; i < p->n_vcpus; i++) {
                pin = insert(b, tune, "vcpupin", order_cputune);
                setf(b, pin, "vcpu", "%u", i);
                setf(b, pin, "cpuset", "%u", p->vcpu_cpu[i]);
        }
        /* The emulator and the I/O thread share the host's CPUs, off the vCPUs'. */
        set(b, insert(b, tune, "emulatorpin", order_cputune), "cpuset", p->emulator_cpuset);
        pin = insert(b, tune, "iothreadpin", order_cputune);
        set(b, pin, "iothread", "1");
        set(b, pin, "cpuset", p->emulator_cpuset);
}

static unsigned topology_product(xmlNodePtr topo) {
        unsigned long prod = 1;

        for (const char *const *a = attrs_topology; *a; a++) {
                long v = attr_num(topo, *a);

                if (v == 0 || (v < 0 && has_attr(topo, *a)))
                        return 0;
                if (v > 0)
                        prod *= (unsigned long)v;
                if (prod > 1UL << 20)
                        return 0;
        }
        return (unsigned)prod;
}

/* The host CPU passed through, and not migratable: only then does QEMU give
 * the guest invtsc, and Windows its TSC as a clock. The guest sees cores ×
 * threads that match the host CPUs it is pinned to. */
static void apply_cpu(struct edit *x) {
        struct builder *b = x->b;
        xmlNodePtr cpu = ensure(b, x->dom, "cpu", order_domain), topo, feat = NULL;
        unsigned cores = x->pin ? x->pin->cores : (x->vcpus ?: 1), threads = x->pin ? x->pin->threads : 1;

        if (!cpu)
                return;
        set_ordered(b, cpu, "mode", "host-passthrough", attrs_cpu);
        /* A model or vendor means nothing to host-passthrough. */
        xmlUnsetProp(cpu, BAD_CAST "match");
        remove_children(cpu, "model");
        remove_children(cpu, "vendor");
        set_ordered(b, cpu, "migratable", "off", attrs_cpu);
        topo = child(cpu, "topology");
        /* Unpinned, a topology of the domain's own that fits its vCPUs stays. */
        if (x->pin || !topo || topology_product(topo) != (x->vcpus ?: 1)) {
                topo = ensure(b, cpu, "topology", order_cpu);
                set_ordered(b, topo, "sockets", "1", attrs_topology);
                set_ordered(b, topo, "dies", "1", attrs_topology);
                if (topo)
                        xmlUnsetProp(topo, BAD_CAST "clusters");
                setf(b, topo, "cores", "%u", cores);
                setf(b, topo, "threads", "%u", threads);
        }
        if (x->pin)
                set(b, ensure(b, cpu, "cache", order_cpu), "mode", "passthrough");
        /* AMD's SMT shows in the guest only with topoext. */
        if (!x->pin || x->ed->vendor != VHC_CPU_AMD || x->pin->threads < 2)
                return;
        feat = child_with(cpu, "feature", "name", "topoext");
        if (!feat) {
                feat = insert(b, cpu, "feature", order_cpu);
                set(b, feat, "policy", "require");
                set(b, feat, "name", "topoext");
        } else
                set(b, feat, "policy", "require");
}

/* The Hyper-V enlightenments of virt-install 5.0 (virtinst/domain/features.py,
 * _set_hyperv_defaults) on a host whose QEMU has them all: evmcs on Intel
 * only, avic with the APIC; stimer with direct mode. A state the domain sets
 * already is its own. */
static void apply_hyperv(struct edit *x) {
        static const struct {
                const char *name;
                unsigned since; /* libvirt */
                enum vhc_cpu_vendor vendor;
        } list[] = {
                {"relaxed", 0, 0},
                {"vapic", 0, 0},
                {"spinlocks", 0, 0},
                {"vpindex", 0, 0},
                {"runtime", 0, 0},
                {"synic", 0, 0},
                {"stimer", 0, 0},
                {"frequencies", 0, 0},
                {"tlbflush", 0, 0},
                {"ipi", 0, 0},
                {"evmcs", 0, VHC_CPU_INTEL},
                {"avic", VHC_LIBVIRT_HYPERV_AVIC, 0},
        };
        struct builder *b = x->b;
        xmlNodePtr features = ensure(b, x->dom, "features", order_domain);
        xmlNodePtr hv = ensure(b, features, "hyperv", order_features);

        for (size_t i = 0; i < ELEMENTSOF(list); i++) {
                xmlNodePtr n;

                if (list[i].vendor && list[i].vendor != x->ed->vendor)
                        continue;
                if (list[i].since && !libvirt_has(x->ed, list[i].since))
                        continue;
                /* QEMU refuses hv-evmcs where KVM has no nested VMX. */
                if (streq(list[i].name, "evmcs") && x->ed->no_nested)
                        continue;
                if (streq(list[i].name, "avic") && !child(features, "apic"))
                        continue;
                n = state_on(b, hv, list[i].name, order_hyperv);
                if (streq(list[i].name, "spinlocks"))
                        set_default(b, n, "retries", "8191", NULL);
                if (streq(list[i].name, "stimer") && attr_is(n, "state", "on") && !child(n, "direct"))
                        set(b, el(b, n, "direct"), "state", "on");
                if (streq(list[i].name, "evmcs") && x->res)
                        x->res->evmcs = attr_is(n, "state", "on");
        }
}

static xmlNodePtr timer(struct builder *b, xmlNodePtr clock, const char *name) {
        xmlNodePtr t = child_with(clock, "timer", "name", name);

        if (!t) {
                t = el(b, clock, "timer");
                set(b, t, "name", name);
        }
        return t;
}

/* The timers Windows wants; hypervclock (hv-time) is what stimer needs. */
static void apply_clock(struct edit *x) {
        struct builder *b = x->b;
        xmlNodePtr clock = ensure(b, x->dom, "clock", order_domain);

        set_default(b, timer(b, clock, "rtc"), "tickpolicy", "catchup", NULL);
        set_default(b, timer(b, clock, "pit"), "tickpolicy", "delay", NULL);
        set_default(b, timer(b, clock, "hpet"), "present", "no", NULL);
        set(b, timer(b, clock, "hypervclock"), "present", "yes");
}

/* Disk images without the host's page cache, with native AIO: the I/O
 * thread then does the work; virtio-scsi on that thread, one queue a vCPU. */
static void apply_disk_io(struct edit *x) {
        static const char *const order_controller[] = {"model", "driver", "address", NULL};
        struct builder *b = x->b;
        char queues[16];

        snprintf(queues, sizeof(queues), "%u", x->vcpus ?: 1);
        for (xmlNodePtr d = x->devs->children; d; d = d->next) {
                xmlNodePtr drv;

                if (is_el(d, "controller") && attr_is(d, "type", "scsi") &&
                    attr_is(d, "model", "virtio-scsi")) {
                        drv = child(d, "driver") ?: insert(b, d, "driver", order_controller);
                        set_default(b, drv, "queues", queues, attrs_controller_driver);
                        set_default(b, drv, "iothread", "1", attrs_controller_driver);
                        continue;
                }
                if (!is_el(d, "disk") || (has_attr(d, "device") && !attr_is(d, "device", "disk")))
                        continue;
                if (has_attr(d, "type") && !attr_is(d, "type", "file") && !attr_is(d, "type", "block") &&
                    !attr_is(d, "type", "volume"))
                        continue;
                drv = child(d, "driver");
                if (!drv) {
                        drv = insert(b, d, "driver", order_disk);
                        set(b, drv, "name", "qemu");
                }
                set_default(b, drv, "cache", "none", attrs_disk_driver);
                /* QEMU's native AIO needs O_DIRECT. */
                if (attr_is(drv, "cache", "none") || attr_is(drv, "cache", "directsync"))
                        set_default(b, drv, "io", "native", attrs_disk_driver);
                if (attr_is(child(d, "target"), "bus", "virtio"))
                        set_default(b, drv, "iothread", "1", attrs_disk_driver);
        }
}

/* The index libvirt gives each PCI controller: its own, else the lowest one
 * unused, in document order (virDomainControllerFindUnusedIndex). */
struct pci_buses {
        bool ctl[MAX_BUS];  /* a controller has this index */
        bool port[MAX_BUS]; /* ... and is a pcie-root-port */
        bool used[MAX_BUS]; /* a device's guest address is on this bus */
        unsigned n_ports;
        bool root;
};

static void pci_buses(xmlNodePtr devs, struct pci_buses *pb) {
        memset(pb, 0, sizeof(*pb));
        for (int pass = 0; pass < 2; pass++)
                for (xmlNodePtr c = devs->children; c; c = c->next) {
                        long idx;

                        if (!is_el(c, "controller") || !attr_is(c, "type", "pci"))
                                continue;
                        idx = attr_num(c, "index");
                        if (pass == 0 && idx < 0 && has_attr(c, "index"))
                                continue;
                        if ((pass == 0) != (idx >= 0))
                                continue;
                        if (pass == 1) {
                                for (idx = 0; idx < MAX_BUS && pb->ctl[idx]; idx++)
                                        ;
                                if (idx == MAX_BUS)
                                        continue;
                        }
                        if (idx >= MAX_BUS)
                                continue;
                        pb->ctl[idx] = true;
                        if (attr_is(c, "model", "pcie-root-port")) {
                                pb->port[idx] = true;
                                pb->n_ports++;
                        }
                        pb->root = pb->root || attr_is(c, "model", "pcie-root");
                }
        for (xmlNodePtr d = devs->children; d; d = d->next) {
                if (d->type != XML_ELEMENT_NODE)
                        continue;
                for (xmlNodePtr a = d->children; a; a = a->next) {
                        long bus;

                        if (!is_el(a, "address") || !attr_is(a, "type", "pci"))
                                continue;
                        bus = attr_num(a, "bus");
                        if (bus >= 0 && bus < MAX_BUS)
                                pb->used[bus] = true;
                }
        }
}

static long add_pci_controller(struct edit *x, struct pci_buses *pb, const char *model, long idx) {
        xmlNodePtr c;

        if (idx < 0)
                for (idx = 1; idx < MAX_BUS && pb->ctl[idx]; idx++)
                        ;
        if (idx >= MAX_BUS)
                return -1;
        c = insert(x->b, x->devs, "controller", order_devices);
        set(x->b, c, "type", "pci");
        setf(x->b, c, "index", "%ld", idx);
        set(x->b, c, "model", model);
        pb->ctl[idx] = true;
        if (streq(model, "pcie-root-port")) {
                pb->port[idx] = true;
                pb->n_ports++;
                if (x->res)
                        x->res->root_ports_added++;
        }
        return idx;
}

/* virt-install's 14 PCIe root ports on q35, so that a device added later
 * (virsh attach-device) finds a free one. */
static void apply_root_ports(struct edit *x) {
        struct pci_buses pb;

        if (!x->q35)
                return;
        pci_buses(x->devs, &pb);
        if (!pb.root && !pb.ctl[0])
                add_pci_controller(x, &pb, "pcie-root", 0);
        while (pb.n_ports < ROOT_PORTS)
                if (add_pci_controller(x, &pb, "pcie-root-port", -1) < 0)
                        break;
}

static bool hostdev_source(xmlNodePtr h, struct vhc_guest_hostdev *ret) {
        xmlNodePtr a = child(child(h, "source"), "address");
        long v[4];

        if (!is_el(h, "hostdev") || !attr_is(h, "type", "pci") || !a)
                return false;
        v[0] = has_attr(a, "domain") ? attr_num(a, "domain") : 0;
        v[1] = attr_num(a, "bus");
        v[2] = attr_num(a, "slot");
        v[3] = attr_num(a, "function");
        for (int i = 0; i < 4; i++)
                if (v[i] < 0)
                        return false;
        *ret = (struct vhc_guest_hostdev){(unsigned)v[0], (unsigned)v[1], (unsigned)v[2], (unsigned)v[3]};
        return true;
}

static bool same_slot(const struct vhc_guest_hostdev *a, const struct vhc_guest_hostdev *h) {
        return a->domain == h->domain && a->bus == h->bus && a->slot == h->slot;
}

static bool same_function(const struct vhc_guest_hostdev *a, const struct vhc_guest_hostdev *h) {
        return same_slot(a, h) && a->function == h->function;
}

static void hostdev_address(struct builder *b, xmlNodePtr a, unsigned domain, unsigned bus, unsigned slot,
                            unsigned function) {
        setf(b, a, "domain", "0x%04x", domain);
        setf(b, a, "bus", "0x%02x", bus);
        setf(b, a, "slot", "0x%02x", slot);
        setf(b, a, "function", "0x%x", function);
}

static xmlNodePtr add_hostdev(struct edit *x, const struct vhc_guest_hostdev *h) {
        struct builder *b = x->b;
        xmlNodePtr hd = insert(b, x->devs, "hostdev", order_devices);

        set(b, hd, "mode", "subsystem");
        set(b, hd, "type", "pci");
        set(b, hd, "managed", "yes");
        hostdev_address(b, el(b, el(b, hd, "source"), "address"), h->domain, h->bus, h->slot, h->function);
        return hd;
}

/* Each host slot on one guest slot of a root port of its own, its functions
 * together as one multifunction device, as they are on the card:
 * virt-install gives each function a slot of its own, where the guest's
 * driver may not find the card's audio or USB-C function. */
static void apply_hostdevs(struct edit *x) {
        struct builder *b = x->b;
        xmlNodePtr *nodes = NULL;
        struct vhc_guest_hostdev *src = NULL;
        bool *placed = NULL, *ours = NULL;
        size_t n = 0, cap = 0;
        struct pci_buses pb;

        /* What the domain passes already, then what is to be added. */
        for (xmlNodePtr d = x->devs->children; d; d = d->next)
                cap += is_el(d, "hostdev");
        cap += x->ed->n_hostdevs;
        if (cap == 0)
                return;
        nodes = calloc(cap, sizeof(*nodes));
        src = calloc(cap, sizeof(*src));
        placed = calloc(cap, sizeof(*placed));
        ours = calloc(cap, sizeof(*ours));
        if (!nodes || !src || !placed || !ours) {
                b->oom = true;
                goto out;
        }
        for (xmlNodePtr d = x->devs->children; d; d = d->next)
                if (hostdev_source(d, &src[n]))
                        nodes[n++] = d;
        for (size_t i = 0; i < x->ed->n_hostdevs; i++) {
                bool have = false;

                for (size_t j = 0; j < n && !have; j++)
                        have = same_function(&src[j], &x->ed->hostdevs[i]);
                if (have)
                        continue;
                src[n] = x->ed->hostdevs[i];
                ours[n] = true;
                nodes[n++] = add_hostdev(x, &x->ed->hostdevs[i]);
        }

        pci_buses(x->devs, &pb);
        for (size_t i = 0; i < n; i++) {
                size_t members = 0, first = i;
                bool place = false;
                long bus = -1, slot = 0;

                if (placed[i] || !nodes[i])
                        continue;
                for (size_t j = i; j < n; j++)
                        if (!placed[j] && nodes[j] && same_slot(&src[i], &src[j])) {
                                members++;
                                place = place || ours[j];
                                if (src[j].function < src[first].function)
                                        first = j;
                        }
                for (size_t j = i; j < n; j++)
                        if (nodes[j] && same_slot(&src[i], &src[j]))
                                placed[j] = true;
                /* A single function the domain had placed or left to libvirt stays. */
                if (members < 2 && !place)
                        continue;
                {
                        xmlNodePtr a = child_with(nodes[first], "address", "type", "pci");

                        if (a && attr_num(a, "bus") >= 0) {
                                bus = attr_num(a, "bus");
                                slot = attr_num(a, "slot") > 0 ? attr_num(a, "slot") : 0;
                        }
                }
                if (bus < 0) {
                        for (long p = 0; p < MAX_BUS && bus < 0; p++)
                                if (pb.port[p] && !pb.used[p])
                                        bus = p;
                        if (bus < 0)
                                bus = add_pci_controller(x, &pb, "pcie-root-port", -1);
                        if (bus < 0)
                                continue;
                        slot = 0;
                }
                pb.used[bus] = true;
                for (size_t j = i; j < n; j++) {
                        xmlNodePtr a;

                        if (!nodes[j] || !same_slot(&src[i], &src[j]))
                                continue;
                        a = child_with(nodes[j], "address", "type", "pci");
                        if (!a) {
                                a = el(b, nodes[j], "address");
                                set(b, a, "type", "pci");
                        }
                        hostdev_address(b, a, 0, (unsigned)bus, (unsigned)slot, src[j].function);
                        if (members > 1 && j == first)
                                set_ordered(b, a, "multifunction", "on", attrs_address);
                        else if (a)
                                xmlUnsetProp(a, BAD_CAST "multifunction");
                }
        }
out:
        free(nodes);
        free(src);
        free(placed);
        free(ours);
}

/* The ROM file for each function that has one: the card's own ROM replaced
 * (one with a UEFI image where the card has none). */
static void apply_roms(struct edit *x) {
        struct builder *b = x->b;

        for (xmlNodePtr d = x->devs->children; d; d = d->next) {
                struct vhc_guest_hostdev h;

                if (!hostdev_source(d, &h))
                        continue;
                for (size_t i = 0; i < x->ed->n_roms; i++)
                        if (same_function(&h, &x->ed->roms[i].dev))
                                set(b, ensure(b, d, "rom", order_hostdev), "file", x->ed->roms[i].file);
        }
}

/* OVMF's 64-bit MMIO window for BARs larger than its default: an fw_cfg
 * entry, which QEMU gets from <sysinfo type="fwcfg"> whatever <smbios> says
 * (<smbios mode="sysinfo"/> would make libvirt want an SMBIOS sysinfo too,
 * and refuse to start the guest without one). */
#define OVMF_MMIO64_ENTRY "opt/ovmf/X-PciMmio64Mb"

static void apply_mmio64(struct edit *x) {
        struct builder *b = x->b;
        xmlNodePtr si = child_with(x->dom, "sysinfo", "type", "fwcfg"), entry;
        char value[32];

        if (!si) {
                si = insert(b, x->dom, "sysinfo", order_domain);
                set(b, si, "type", "fwcfg");
        }
        entry = child_with(si, "entry", "name", OVMF_MMIO64_ENTRY);
        if (entry) {
                xmlChar *have = xmlNodeGetContent(entry);
                unsigned long long v = 0;
                char *end = NULL;

                if (have) {
                        errno = 0;
                        v = strtoull((const char *)have, &end, 10);
                        if (errno || end == (char *)have || *end)
                                v = 0;
                }
                xmlFree(have);
                /* A window the user made larger is theirs. */
                if (v >= x->ed->mmio64_mib || has_attr(entry, "file"))
                        return;
        } else {
                entry = el(b, si, "entry");
                set(b, entry, "name", OVMF_MMIO64_ENTRY);
        }
        snprintf(value, sizeof(value), "%" PRIu64, x->ed->mmio64_mib);
        set_text(b, entry, value);
}

static bool has_pci_hostdev(xmlNodePtr devs) {
        struct vhc_guest_hostdev h;

        for (xmlNodePtr d = devs->children; d; d = d->next)
                if (hostdev_source(d, &h))
                        return true;
        return false;
}

static bool is_keyboard(const char *path) {
        size_t n = strlen(path);

        return n >= 10 && streq(path + n - 10, "-event-kbd");
}

static void apply_evdevs(struct edit *x) {
        struct builder *b = x->b;

        for (char *const *p = x->ed->evdevs; p && *p; p++) {
                xmlNodePtr n, src;
                bool have = false;

                for (xmlNodePtr d = x->devs->children; d && !have; d = d->next)
                        have = is_el(d, "input") && attr_is(d, "type", "evdev") &&
                               attr_is(child(d, "source"), "dev", *p);
                if (have)
                        continue;
                n = insert(b, x->devs, "input", order_devices);
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

/* Windows 11 does not install without TPM 2.0; libvirt runs swtpm for it. */
static void apply_tpm(struct edit *x) {
        struct builder *b = x->b;
        xmlNodePtr n, m;

        if (child(x->devs, "tpm"))
                return;
        n = insert(b, x->devs, "tpm", order_devices);
        set(b, n, "model", "tpm-crb");
        m = el(b, n, "backend");
        set(b, m, "type", "emulator");
        set(b, m, "version", "2.0");
}

static void apply_audio(struct edit *x) {
        static const char *const order_sound[] = {"codec", "audio", "address", NULL};
        struct builder *b = x->b;
        const char *type = x->ed->audio == VHC_AUDIO_PIPEWIRE     ? "pipewire"
                           : x->ed->audio == VHC_AUDIO_PULSEAUDIO ? "pulseaudio"
                                                                  : "spice";
        _cleanup_free_ char *server = NULL;
        xmlNodePtr sound, backend;
        long id = -1;
        char ids[24];

        if (x->ed->audio == VHC_AUDIO_KEEP || !libvirt_has(x->ed, VHC_LIBVIRT_AUDIO))
                return;
        if (x->ed->audio != VHC_AUDIO_SPICE && !x->ed->audio_dir)
                return;
        if (x->ed->audio == VHC_AUDIO_PULSEAUDIO &&
            asprintf(&server, "%s/pulse/native", x->ed->audio_dir) < 0) {
                b->oom = true;
                return;
        }
        sound = child(x->devs, "sound");
        if (!sound) {
                sound = insert(b, x->devs, "sound", order_devices);
                set(b, sound, "model", "ich9");
        }
        id = attr_num(child(sound, "audio"), "id");
        if (id <= 0)
                id = attr_num(child(x->devs, "audio"), "id");
        if (id <= 0)
                id = 1;
        snprintf(ids, sizeof(ids), "%ld", id);
        backend = child_with(x->devs, "audio", "id", ids);
        if (backend && attr_is(backend, "type", type) &&
            (!server || attr_is(backend, "serverName", server)) &&
            (x->ed->audio != VHC_AUDIO_PIPEWIRE || attr_is(backend, "runtimeDir", x->ed->audio_dir)))
                ;
        else {
                if (backend) {
                        remove_children(backend, NULL);
                        while (backend->properties)
                                xmlRemoveProp(backend->properties);
                } else
                        backend = insert(b, x->devs, "audio", order_devices);
                set(b, backend, "id", ids);
                set(b, backend, "type", type);
                if (server)
                        set(b, backend, "serverName", server);
                if (x->ed->audio == VHC_AUDIO_PIPEWIRE)
                        set(b, backend, "runtimeDir", x->ed->audio_dir);
        }
        for (xmlNodePtr s = x->devs->children; s; s = s->next)
                if (is_el(s, "sound") && !child(s, "audio"))
                        set(b, insert(b, s, "audio", order_sound), "id", ids);
}

static xmlNsPtr qemu_ns(struct edit *x) {
        xmlNsPtr ns = xmlSearchNsByHref(x->dom->doc, x->dom, BAD_CAST QEMU_NS);

        if (!ns) {
                ns = xmlNewNs(x->dom, BAD_CAST QEMU_NS, BAD_CAST "qemu");
                if (!ns)
                        x->b->oom = true;
        }
        return ns;
}

static xmlNodePtr qemu_commandline(xmlNodePtr dom) {
        for (xmlNodePtr c = dom->children; c; c = c->next)
                if (is_el(c, "commandline") && c->ns && xmlStrEqual(c->ns->href, BAD_CAST QEMU_NS))
                        return c;
        return NULL;
}

/* The -device/-object pair of a Looking Glass written by us or by hand
 * from its documentation (memdev and id "looking-glass"). */
static void remove_kvmfr_args(xmlNodePtr cmd) {
        xmlNodePtr next;

        for (xmlNodePtr a = cmd ? cmd->children : NULL; a; a = next) {
                xmlChar *v = NULL;

                next = a->next;
                if (a->type == XML_ELEMENT_NODE && xmlStrEqual(a->name, BAD_CAST "arg"))
                        v = xmlGetProp(a, BAD_CAST "value");
                if (v && strstr((const char *)v, "looking-glass")) {
                        xmlNodePtr prev = a->prev;

                        while (prev && prev->type != XML_ELEMENT_NODE)
                                prev = prev->prev;
                        if (prev && (attr_is(prev, "value", "-device") || attr_is(prev, "value", "-object")))
                                drop(prev);
                        drop(a);
                }
                xmlFree(v);
        }
}

static void qemu_arg(struct builder *b, xmlNodePtr cmd, xmlNsPtr ns, const char *value) {
        xmlNodePtr a = cmd ? xmlNewChild(cmd, ns, BAD_CAST "arg", NULL) : NULL;

        if (!a)
                b->oom = true;
        set(b, a, "value", value);
}

static void apply_kvmfr(struct edit *x) {
        const struct vhc_looking_glass *lg = &x->ed->lg;
        struct builder *b = x->b;
        _cleanup_free_ char *dev = NULL, *obj = NULL;
        xmlNsPtr ns = qemu_ns(x);
        xmlNodePtr cmd = qemu_commandline(x->dom);
        const char *path = vhc_path_abs(VHC_PATH_KVMFR_DEV);
        int k;

        if (!ns)
                return;
        if (!cmd) {
                cmd = xmlNewChild(x->dom, ns, BAD_CAST "commandline", NULL);
                if (!cmd) {
                        b->oom = true;
                        return;
                }
        }
        remove_kvmfr_args(cmd);
        /* Looking Glass's documentation (doc/ivshmem_kvmfr.rst): JSON from
         * QEMU 6.2 and libvirt 7.9 on, where the legacy syntax can collide with
         * libvirt's PCI addresses. */
        if (lg->legacy_syntax)
                k = asprintf(&dev, "ivshmem-plain,id=shmem0,memdev=looking-glass") < 0 ||
                    asprintf(&obj, "memory-backend-file,id=looking-glass,mem-path=%s,size=%uM,share=yes",
                             path, lg->size_mib) < 0;
        else
                k = asprintf(&dev, "{\"driver\":\"ivshmem-plain\",\"id\":\"shmem0\",\"memdev\":\"looking-"
                                   "glass\"}") < 0 ||
                    asprintf(&obj,
                             "{\"qom-type\":\"memory-backend-file\",\"id\":\"looking-glass\",\"mem-path\":"
                             "\"%s\","
                             "\"size\":%" PRIu64 ",\"share\":true}",
                             path, (uint64_t)lg->size_mib << 20) < 0;
        if (k) {
                b->oom = true;
                return;
        }
        qemu_arg(b, cmd, ns, "-device");
        qemu_arg(b, cmd, ns, dev);
        qemu_arg(b, cmd, ns, "-object");
        qemu_arg(b, cmd, ns, obj);
}

/* Looking Glass (doc/install_libvirt.rst): the IVSHMEM device, SPICE for
 * keyboard, mouse and sound with no emulated display (the passed-through GPU
 * has it), virtio input instead of the tablet, and the SPICE agent's channel
 * for the clipboard. */
static void apply_looking_glass(struct edit *x) {
        const struct vhc_looking_glass *lg = &x->ed->lg;
        struct builder *b = x->b;
        xmlNodePtr shm, n, next;
        char size[16];

        shm = child_with(x->devs, "shmem", "name", "looking-glass");
        if (lg->kvmfr) {
                drop(shm);
                apply_kvmfr(x);
        } else {
                remove_kvmfr_args(qemu_commandline(x->dom));
                if (shm)
                        remove_children(shm, NULL);
                else {
                        shm = insert(b, x->devs, "shmem", order_devices);
                        set(b, shm, "name", "looking-glass");
                }
                set(b, el(b, shm, "model"), "type", "ivshmem-plain");
                snprintf(size, sizeof(size), "%u", lg->size_mib);
                set(b, el_text(b, shm, "size", size), "unit", "M");
        }

        for (n = x->devs->children; n; n = next) {
                next = n->next;
                if ((is_el(n, "video") && !attr_is(child(n, "model"), "type", "none")) ||
                    (is_el(n, "input") && attr_is(n, "type", "tablet")))
                        drop(n);
        }
        if (!child(x->devs, "video"))
                set(b, el(b, insert(b, x->devs, "video", order_devices), "model"), "type", "none");
        for (int i = 0; i < 2; i++) {
                const char *type = i ? "keyboard" : "mouse";
                bool have = false;

                for (n = x->devs->children; n && !have; n = n->next)
                        have = is_el(n, "input") && attr_is(n, "type", type) && attr_is(n, "bus", "virtio");
                if (!have) {
                        n = insert(b, x->devs, "input", order_devices);
                        set(b, n, "type", type);
                        set(b, n, "bus", "virtio");
                }
        }
        if (!child_with(x->devs, "graphics", "type", "spice")) {
                n = insert(b, x->devs, "graphics", order_devices);
                set(b, n, "type", "spice");
                set(b, n, "autoport", "yes");
                shm = el(b, n, "listen");
                set(b, shm, "type", "address");
                set(b, shm, "address", "127.0.0.1");
                set(b, el(b, n, "image"), "compression", "off");
        }
        if (!child_with(x->devs, "channel", "type", "spicevmc")) {
                n = insert(b, x->devs, "channel", order_devices);
                set(b, n, "type", "spicevmc");
                n = el(b, n, "target");
                set(b, n, "type", "virtio");
                set(b, n, "name", "com.redhat.spice.0");
        }
}

/* A passed-through device pins all guest memory: a balloon cannot give any
 * back (Looking Glass's documentation asks for none as well). */
static void apply_memballoon(struct edit *x) {
        xmlNodePtr mb;

        if (!has_pci_hostdev(x->devs) && !x->ed->lg.size_mib)
                return;
        mb = child(x->devs, "memballoon") ?: insert(x->b, x->devs, "memballoon", order_devices);
        if (mb && !attr_is(mb, "model", "none")) {
                set(x->b, mb, "model", "none");
                remove_children(mb, NULL);
        }
}

/* NVIDIA's driver before R465 stops with "Error 43" when it sees a hypervisor:
 * hide KVM's signature and give Hyper-V a vendor id of our own. */
static void apply_nvidia(struct edit *x) {
        struct builder *b = x->b;
        xmlNodePtr features = ensure(b, x->dom, "features", order_domain);
        xmlNodePtr hyperv = child(features, "hyperv"), kvm, n;

        if (hyperv) {
                n = ensure(b, hyperv, "vendor_id", order_hyperv);
                set(b, n, "state", "on");
                set(b, n, "value", VHC_HYPERV_VENDOR_ID);
        }
        kvm = ensure(b, features, "kvm", order_features);
        set(b, ensure(b, kvm, "hidden", order_kvm), "state", "on");
}

static bool wants_nvidia(struct edit *x) {
        struct vhc_guest_hostdev h;

        if (x->ed->nvidia >= 0)
                return x->ed->nvidia > 0;
        for (xmlNodePtr d = x->devs->children; d; d = d->next)
                if (hostdev_source(d, &h))
                        for (size_t i = 0; i < x->ed->n_nvidia_devs; i++)
                                if (same_function(&h, &x->ed->nvidia_devs[i]))
                                        return true;
        return false;
}

static int apply_edits(struct builder *b, xmlNodePtr dom, const struct vhc_domxml_edits *ed,
                       const char *name, struct vhc_domxml_result *res, struct vhc_err *e) {
        struct edit x = {.b = b, .ed = ed, .res = res, .dom = dom};
        int r;

        r = domain_vcpus(dom, name, &x.vcpus, e);
        if (r < 0)
                return r;
        if (ed->pin) {
                if (x.vcpus == 0)
                        return vhc_err_set(e, -EINVAL, name, (unsigned)xmlGetLineNo(dom),
                                           "the domain has no <vcpu> element to pin");
                r = vhc_topology_pick(ed->pin, x.vcpus, &res->pin, e);
                if (r < 0)
                        return r;
                x.pin = &res->pin;
        }
        x.devs = ensure(b, dom, "devices", order_domain);
        if (!x.devs)
                return -ENOMEM;
        x.windows = domain_is_windows(dom);
        x.q35 = domain_is_q35(dom, x.devs);

        if (ed->hugepages)
                apply_hugepages(&x);
        apply_iothreads(&x);
        if (x.pin)
                apply_pin(&x);
        apply_cpu(&x);
        if (x.windows) {
                apply_hyperv(&x);
                apply_clock(&x);
        }
        apply_disk_io(&x);
        apply_root_ports(&x);
        apply_hostdevs(&x);
        if (ed->n_roms)
                apply_roms(&x);
        if (ed->mmio64_mib)
                apply_mmio64(&x);
        apply_evdevs(&x);
        if (x.windows)
                apply_tpm(&x);
        apply_audio(&x);
        if (ed->lg.size_mib)
                apply_looking_glass(&x);
        apply_memballoon(&x);
        if (wants_nvidia(&x))
                apply_nvidia(&x);
        for (xmlNodePtr t = x.devs->children; t; t = t->next)
                if (is_el(t, "tpm") && attr_is(child(t, "backend"), "type", "emulator"))
                        res->tpm_emulator = true;
        return b->oom ? -ENOMEM : 0;
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
        if (!vhc_domxml_string_ok(g->name))
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest name is not UTF-8");
        for (size_t i = 0; i < g->n_disks; i++)
                if (!g->disks[i].path || g->disks[i].path[0] != '/' ||
                    !vhc_domxml_string_ok(g->disks[i].path))
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "a disk path is not absolute UTF-8 on one line");
        for (char *const *p = g->cdroms; p && *p; p++)
                if (**p != '/' || !vhc_domxml_string_ok(*p))
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "an ISO path is not absolute UTF-8 on one line");
        if (g->virtio_win && (g->virtio_win[0] != '/' || !vhc_domxml_string_ok(g->virtio_win)))
                return vhc_err_set(e, -EINVAL, NULL, 0,
                                   "the driver ISO path is not absolute UTF-8 on one line");
        if (g->spice_listen && !vhc_domxml_listen_ok(g->spice_listen))
                return vhc_err_set(e, -EINVAL, NULL, 0,
                                   "the SPICE listen address is not an IPv4, IPv6 address or DNS name");
        if (g->memory_kib < 1024)
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest needs at least 1 MiB of memory");
        if (g->vcpus == 0 || g->vcpus > 4096)
                return vhc_err_set(e, -EINVAL, NULL, 0, "the guest needs from 1 to 4096 vCPUs");
        if (g->os >= _VHC_GUEST_OS_MAX)
                return vhc_err_set(e, -EINVAL, NULL, 0, "unknown guest OS");
        for (size_t i = 1; i < g->ed.n_hostdevs; i++) {
                const struct vhc_guest_hostdev *a = &g->ed.hostdevs[i - 1], *h = &g->ed.hostdevs[i];

                if (same_slot(a, h) && a->function >= h->function)
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "PCI functions of one slot must be listed once, in order");
        }
        if (g->ed.lg.size_mib & (g->ed.lg.size_mib - 1))
                return vhc_err_set(e, -EINVAL, NULL, 0, "the Looking Glass memory must be a power of two");
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
                /* libvirt picks from QEMU's firmware descriptors in their
                 * order: on Fedora the 4 MiB qcow2 build first, whose variable
                 * store has room for Windows' Secure Boot (DBX) updates. */
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

static void render_features(struct builder *b, xmlNodePtr dom, bool smm) {
        xmlNodePtr f = el(b, dom, "features");

        el(b, f, "acpi");
        el(b, f, "apic");
        set(b, el(b, f, "vmport"), "state", "off");
        if (smm)
                set(b, el(b, f, "smm"), "state", "on");
}

static void render_clock(struct builder *b, xmlNodePtr dom, bool windows) {
        xmlNodePtr clock = el(b, dom, "clock"), t;

        /* Windows keeps the RTC in local time; its timers are an edit. */
        set(b, clock, "offset", windows ? "localtime" : "utc");
        if (windows)
                return;
        t = el(b, clock, "timer");
        set(b, t, "name", "rtc");
        set(b, t, "tickpolicy", "catchup");
        t = el(b, clock, "timer");
        set(b, t, "name", "pit");
        set(b, t, "tickpolicy", "delay");
        t = el(b, clock, "timer");
        set(b, t, "name", "hpet");
        set(b, t, "present", "no");
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

/* The devices every guest starts with; the edits add the rest. */
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
        n = el(b, devs, "controller");
        set(b, n, "type", "pci");
        set(b, n, "index", "0");
        set(b, n, "model", "pcie-root");

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

        n = el(b, devs, "input");
        set(b, n, "type", "tablet");
        set(b, n, "bus", "usb");

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

        for (int i = 0; i < 2; i++) {
                n = el(b, devs, "redirdev");
                set(b, n, "bus", "usb");
                set(b, n, "type", "spicevmc");
        }
        set(b, el(b, devs, "memballoon"), "model", "virtio");
        if (!windows) {
                n = el(b, devs, "rng");
                set(b, n, "model", "virtio");
                m = el_text(b, n, "backend", "/dev/urandom");
                set(b, m, "model", "random");
        }
}

void vhc_domxml_result_done(struct vhc_domxml_result *r) {
        if (r)
                vhc_pinning_done(&r->pin);
}

int vhc_domxml_render(const struct vhc_guest *g, char **ret, size_t *ret_len, struct vhc_domxml_result *res,
                      struct vhc_err *e) {
        struct vhc_domxml_result local = {};
        struct builder b = {};
        bool windows, secure_boot;
        xmlDocPtr doc;
        xmlNodePtr dom, pm;
        char num[32];
        int r;

        r = check_guest(g, e);
        if (r >= 0)
                r = check_edits(&g->ed, e);
        if (r < 0)
                return r;
        if (!res)
                res = &local;
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
        snprintf(num, sizeof(num), "%u", g->vcpus);
        set(&b, el_text(&b, dom, "vcpu", num), "placement", "static");
        render_os(&b, dom, g, secure_boot, g->cdroms && g->cdroms[0]);
        render_features(&b, dom, secure_boot);
        render_clock(&b, dom, windows);
        pm = el(&b, dom, "pm");
        set(&b, el(&b, pm, "suspend-to-mem"), "enabled", "no");
        set(&b, el(&b, pm, "suspend-to-disk"), "enabled", "no");
        render_devices(&b, dom, g, windows);

        r = b.oom ? -ENOMEM : apply_edits(&b, dom, &g->ed, NULL, res, e);
        if (r >= 0)
                r = serialize(dom, &style_default, "", 0, NULL, 0, ret, ret_len);
        xmlFreeDoc(doc);
        if (res == &local)
                vhc_domxml_result_done(&local);
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

/* libxml2 prints some errors (an input encoding it cannot convert) past
 * the parser's handler: the first error through the handler says it all. */
static void ignore_generic_error(void *ctx, const char *msg, ...) {
}

static unsigned count_lines(const char *s, size_t n) {
        unsigned lines = 0;

        for (size_t i = 0; i < n; i++)
                lines += s[i] == '\n';
        return lines;
}

static int parse(const char *xml, size_t len, const char *name, unsigned line0, xmlDocPtr *ret,
                 struct vhc_err *e) {
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
        xmlSetGenericErrorFunc(NULL, ignore_generic_error);
        doc = xmlCtxtReadMemory(ctx, xml, (int)len, name, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        /* Without XML_PARSE_RECOVER, only a well-formed document comes back;
         * but an undeclared namespace prefix is only an error on the way,
         * and such a document means something else once patch declares
         * the prefix (qemu:): refused as well. */
        if (doc && fe.set) {
                xmlFreeDoc(doc);
                doc = NULL;
        }
        /* patch copies the text around the domain as it is: its declaration
         * must say UTF-8, which is what libvirt writes and we write. */
        if (doc && doc->encoding && strcasecmp((const char *)doc->encoding, "UTF-8") != 0 &&
            strcasecmp((const char *)doc->encoding, "US-ASCII") != 0) {
                r = vhc_err_set(e, -EINVAL, name, line0 + 1,
                                "the input is in %s: give it in UTF-8, as libvirt writes it",
                                (const char *)doc->encoding);
                xmlFreeDoc(doc);
                xmlFreeParserCtxt(ctx);
                return r;
        }
        /* A document type is no part of libvirt's XML, and its entities
         * (an external one names any file or URL) are neither read nor
         * passed on: refused, not copied to the output as the text around
         * the domain is. */
        if (doc && (doc->intSubset || doc->extSubset)) {
                const char *at = memmem(xml, len, "<!DOCTYPE", 9);

                r = vhc_err_set(e, -EINVAL, name, at ? line0 + 1 + count_lines(xml, (size_t)(at - xml)) : 0,
                                "the input has a DOCTYPE, which libvirt's domain XML never has: remove it "
                                "(virsh dumpxml writes none)");
                xmlFreeDoc(doc);
                xmlFreeParserCtxt(ctx);
                return r;
        }
        if (doc) {
                xmlFreeParserCtxt(ctx);
                *ret = doc;
                return 0;
        }
        if (fe.set)
                r = vhc_err_set(e, -EINVAL, name, fe.line > 0 ? line0 + (unsigned)fe.line : 0,
                                "not well-formed XML: %s", fe.msg);
        else
                r = vhc_err_set(e, -EINVAL, name, 0, "not well-formed XML");
        xmlFreeParserCtxt(ctx);
        return r;
}

/* parse(), and the document must be a libvirt domain: its <domain> root. */
static int parse_domain(const char *xml, size_t len, const char *name, unsigned line0, xmlDocPtr *ret_doc,
                        xmlNodePtr *ret_dom, struct vhc_err *e) {
        xmlDocPtr doc;
        xmlNodePtr dom;
        int r;

        r = parse(xml, len, name, line0, &doc, e);
        if (r < 0)
                return r;
        dom = xmlDocGetRootElement(doc);
        if (dom && is_el(dom, "domain") && dom->ns) {
                r = vhc_err_set(e, -EINVAL, name, line0 + (unsigned)xmlGetLineNo(dom),
                                "not a libvirt domain: the root element <domain> is in the namespace '%s'; "
                                "libvirt's <domain> is in none",
                                dom->ns->href ? (const char *)dom->ns->href : "");
                xmlFreeDoc(doc);
                return r;
        }
        if (!dom || !is_el(dom, "domain")) {
                r = vhc_err_set(e, -EINVAL, name, dom ? line0 + (unsigned)xmlGetLineNo(dom) : 0,
                                "not a libvirt domain: the root element is <%s>, not <domain>",
                                dom ? (const char *)dom->name : "");
                xmlFreeDoc(doc);
                return r;
        }
        *ret_doc = doc;
        *ret_dom = dom;
        return 0;
}

/* The boot order of virt-install's installation domain (the CD-ROM first),
 * for the guest's own definition that it writes after it. */
static bool take_boot_order(struct builder *b, xmlNodePtr from, xmlNodePtr to) {
        xmlNodePtr fos = child(from, "os"), tos = child(to, "os"), at;
        bool cdrom = false;

        if (!fos || !tos || child_with(tos, "boot", "dev", "cdrom"))
                return false;
        for (xmlNodePtr c = fos->children; c; c = c->next)
                cdrom = cdrom || (is_el(c, "boot") && attr_is(c, "dev", "cdrom"));
        if (!cdrom)
                return false;
        at = child(tos, "boot");
        for (xmlNodePtr c = fos->children; c; c = c->next) {
                xmlNodePtr copy;

                if (!is_el(c, "boot"))
                        continue;
                copy = xmlDocCopyNode(c, tos->doc, 1);
                if (!copy || !(at ? xmlAddPrevSibling(at, copy) : xmlAddChild(tos, copy))) {
                        xmlFreeNode(copy);
                        b->oom = true;
                        return false;
                }
        }
        while (at) {
                xmlNodePtr next = at->next;

                if (is_el(at, "boot"))
                        drop(at);
                at = next;
        }
        return true;
}

/* One domain of the input: [from, to) holds it with what stands before it
 * (an XML declaration, comments); libxml2 sees it at its line in the input. */
static int parse_piece(const char *xml, size_t from, size_t to, const char *name, xmlDocPtr *ret_doc,
                       xmlNodePtr *ret_dom, struct vhc_err *e) {
        unsigned lines = count_lines(xml, from);
        _cleanup_free_ char *buf = NULL;
        size_t n = to - from;

        if (lines == 0 || (n >= 5 && strneq(xml + from, "<?xml", 5)))
                return parse_domain(xml + from, n, name, lines, ret_doc, ret_dom, e);
        buf = malloc(lines + n);
        if (!buf)
                return -ENOMEM;
        memset(buf, '\n', lines);
        memcpy(buf + lines, xml + from, n);
        return parse_domain(buf, lines + n, name, 0, ret_doc, ret_dom, e);
}

int vhc_domxml_patch(const char *xml, size_t len, const char *name, const struct vhc_domxml_edits *ed,
                     char **ret, size_t *ret_len, struct vhc_domxml_result *res, struct vhc_err *e) {
        struct vhc_domxml_result local = {};
        struct span spans[MAX_DOCS];
        struct builder b = {};
        xmlDocPtr doc = NULL, first = NULL;
        xmlNodePtr dom, first_dom;
        struct style st = {};
        size_t n, from, before;
        int r;

        r = check_edits(ed, e);
        if (r < 0)
                return r;
        if (!res)
                res = &local;
        n = find_roots(xml, len, spans, MAX_DOCS);
        if (n <= 1) {
                r = parse_domain(xml, len, name, 0, &doc, &dom, e);
                if (r < 0)
                        goto out;
                from = 0;
                /* Not found by the scan, but well-formed: all of it is the domain. */
                if (n == 0)
                        spans[0] = (struct span){0, len - (len > 0 && xml[len - 1] == '\n')};
                n = 1;
        } else {
                /* The last domain is the guest's; the ones before it only
                 * install it (virt-install), and must be domains too. */
                size_t prev_end = 0;

                for (size_t i = 0; i + 1 < n; i++) {
                        xmlDocPtr d = NULL;

                        r = parse_piece(xml, prev_end, spans[i].end, name, &d, &first_dom, e);
                        if (r < 0)
                                goto out;
                        if (i == 0)
                                first = d;
                        else
                                xmlFreeDoc(d);
                        prev_end = spans[i].end;
                }
                from = spans[n - 2].end;
                while (from < spans[n - 1].start && strchr(" \t\r\n", xml[from]))
                        from++;
                r = parse_piece(xml, from, len, name, &doc, &dom, e);
                if (r < 0)
                        goto out;
                res->boot_from_install = take_boot_order(&b, xmlDocGetRootElement(first), dom);
        }
        res->n_domains = (unsigned)n;

        mark_quotes(dom, xml + spans[n - 1].start, spans[n - 1].end - spans[n - 1].start);
        strip_layout(dom);
        r = apply_edits(&b, dom, ed, name, res, e);
        if (r < 0)
                goto out;
        /* An element that held only blanks may hold elements now. */
        strip_layout(dom);
        before = spans[n - 1].start - from;
        detect_style(xml + spans[n - 1].start, spans[n - 1].end - spans[n - 1].start, &st);
        r = serialize(dom, &st, xml + from, before, xml + spans[n - 1].end, len - spans[n - 1].end, ret,
                      ret_len);
out:
        if (res == &local)
                vhc_domxml_result_done(&local);
        xmlFreeDoc(first);
        xmlFreeDoc(doc);
        return r;
}

/* ---- what libvirt takes ------------------------------------------------------ */

bool vhc_domxml_string_ok(const char *s) {
        const unsigned char *p = (const unsigned char *)s;

        if (!s)
                return false;
        while (*p) {
                uint32_t cp;
                size_t n;

                if (*p < 0x80) {
                        if (*p < 0x20 || *p == 0x7f)
                                return false;
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0) {
                        n = 1;
                        cp = *p & 0x1f;
                } else if ((*p & 0xf0) == 0xe0) {
                        n = 2;
                        cp = *p & 0x0f;
                } else if ((*p & 0xf8) == 0xf0) {
                        n = 3;
                        cp = *p & 0x07;
                } else
                        return false;
                for (size_t i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f) ||
                    cp == 0xfffe || cp == 0xffff)
                        return false;
                p += n + 1;
        }
        return true;
}

bool vhc_domxml_listen_ok(const char *s) {
        unsigned char addr[16];

        if (!s || !s[0])
                return false;
        if (strchr(s, ':'))
                return inet_pton(AF_INET6, s, addr) == 1;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(s);
}

/* What reaches the XML from outside the tree: libvirt's schema must take it. */
static int check_edits(const struct vhc_domxml_edits *ed, struct vhc_err *e) {
        for (char *const *p = ed->evdevs; p && *p; p++)
                if (**p != '/' || !vhc_domxml_string_ok(*p))
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "an input device path is not absolute UTF-8 on one line");
        for (size_t i = 0; i < ed->n_roms; i++)
                if (!ed->roms[i].file || ed->roms[i].file[0] != '/' ||
                    !vhc_domxml_string_ok(ed->roms[i].file))
                        return vhc_err_set(e, -EINVAL, NULL, 0,
                                           "a ROM file path is not absolute UTF-8 on one line");
        if (ed->audio_dir && (ed->audio_dir[0] != '/' || !vhc_domxml_string_ok(ed->audio_dir)))
                return vhc_err_set(e, -EINVAL, NULL, 0,
                                   "the runtime directory for sound is not absolute UTF-8 on one line");
        return 0;
}

/* ---- libvirt ---------------------------------------------------------------- */

int vhc_libvirt_version_parse(const char *name, unsigned *ret) {
        unsigned long mm, micro;
        char *end;

        /* libvirt.so.0.<major * 1000 + minor>.<micro>, as libvirt's build names it. */
        if (!startswith(name, "libvirt.so.0.") || !isdigit((unsigned char)name[13]))
                return -EINVAL;
        errno = 0;
        mm = strtoul(name + 13, &end, 10);
        if (errno || *end != '.' || !isdigit((unsigned char)end[1]))
                return -EINVAL;
        micro = strtoul(end + 1, &end, 10);
        if (errno || *end || mm >= 1000000 || micro >= 1000)
                return -EINVAL;
        *ret = VHC_LIBVIRT_VERSION((unsigned)(mm / 1000), (unsigned)(mm % 1000), (unsigned)micro);
        return 0;
}

/* ---- Looking Glass ---------------------------------------------------------- */

int vhc_looking_glass_size_mib(unsigned width, unsigned height, unsigned *ret) {
        uint64_t frame, mib;
        unsigned size = 1;

        if (width == 0 || height == 0 || width > 16384 || height > 16384)
                return -ERANGE;
        /* width × height × 4 bytes × 2 frames, in MiB, + 10 MiB, rounded up to a
         * power of two (doc/install_libvirt.rst, "Determining memory"). */
        frame = (uint64_t)width * height * 4 * 2;
        mib = (frame + (UINT64_C(1) << 20) - 1) / (UINT64_C(1) << 20);
        mib += 10;
        while (size < mib)
                size <<= 1;
        *ret = size;
        return 0;
}

int vhc_looking_glass_parse_resolution(const char *s, unsigned *ret_width, unsigned *ret_height) {
        unsigned long w, h;
        char *end;

        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        w = strtoul(s, &end, 10);
        if (errno || (*end != 'x' && *end != 'X') || !isdigit((unsigned char)end[1]))
                return -EINVAL;
        h = strtoul(end + 1, &end, 10);
        if (errno || *end || w == 0 || h == 0 || w > 16384 || h > 16384)
                return -EINVAL;
        *ret_width = (unsigned)w;
        *ret_height = (unsigned)h;
        return 0;
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

        r = parse_domain(xml, len, name, 0, &doc, &dom, e);
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
