#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""guest-semantics.py VIRT_INSTALL.xml OURS.xml

Checks that everything that matters to the guest in virt-install's domain is in
virt-guest-xml's: name, memory, vCPUs, I/O threads, OS id, firmware (named
files, or libvirt's choice by features), machine type, boot devices, features
(each Hyper-V enlightenment), clock and timers, power management, and every
device with its bus, its driver's attributes (disk cache and AIO, the disk
controller's queues and I/O thread), and as many PCIe root ports. Prints one
line per difference and exits 1 if there is any.

Differences that are ours by design, and not reported:
  - <cpu>: virt-install's host-model; we pass the host CPU through
    (host-passthrough), which gives the guest every feature host-model does.
  - uuid, MAC address, emulator path: libvirt fills them in at define.
  - which PCI controller has which index: libvirt numbers them; only the
    count of pcie-root-ports is compared (ours must have at least as many).
  - a USB controller model of virt-install's test driver (ich9-ehci1/uhci) when
    ours is qemu-xhci: only that a USB controller exists is compared then.
  - what virt-install gives only the plain test driver (type "test"): <pae/>
    and arch i686, no machine type (so i440fx's ich6 sound where q35 has
    ich9), and user networking for "default" (virt-install never uses a
    virtual network there); the network's model is still compared.
  - memballoon "none" when devices are passed through (a balloon cannot
    reclaim pinned memory).
"""

import sys
import xml.etree.ElementTree as ET

LIBOSINFO = "{http://libosinfo.org/xmlns/libvirt/domain/1.0}"
problems = []


def problem(msg):
    problems.append(msg)


def kib(el):
    if el is None:
        return None
    unit = el.get("unit", "KiB")
    mult = {"KiB": 1, "k": 1, "K": 1, "MiB": 1024, "M": 1024, "GiB": 1 << 20, "G": 1 << 20, "b": 1 / 1024,
            "bytes": 1 / 1024}[unit]
    return int(int(el.text) * mult)


def attrs(el):
    return dict(sorted(el.attrib.items())) if el is not None else None


def compare_top(vi, us):
    if vi.findtext("name") != us.findtext("name"):
        problem(f"name: {vi.findtext('name')!r} vs {us.findtext('name')!r}")
    for tag in ("memory", "currentMemory"):
        if kib(vi.find(tag)) != kib(us.find(tag)):
            problem(f"{tag}: {kib(vi.find(tag))} KiB vs {kib(us.find(tag))} KiB")
    if vi.findtext("vcpu").strip() != us.findtext("vcpu").strip():
        problem(f"vcpu: {vi.findtext('vcpu')} vs {us.findtext('vcpu')}")
    if vi.find("iothreads") is not None and (us.find("iothreads") is None or
                                             int(us.findtext("iothreads")) < int(vi.findtext("iothreads"))):
        problem(f"iothreads: {vi.findtext('iothreads')} vs {us.findtext('iothreads')}")
    vos = vi.find(f"metadata/{LIBOSINFO}libosinfo/{LIBOSINFO}os")
    uos = us.find(f"metadata/{LIBOSINFO}libosinfo/{LIBOSINFO}os")
    if vos is not None and (uos is None or vos.get("id") != uos.get("id")):
        problem(f"libosinfo os: {vos.get('id')} vs {uos.get('id') if uos is not None else None}")


def compare_os(vi, us, test_driver):
    vo, uo = vi.find("os"), us.find("os")
    vt, ut = vo.find("type"), uo.find("type")
    if vt.text != ut.text:
        problem(f"os type: {vt.text} vs {ut.text}")
    if not test_driver:
        for a in ("arch", "machine"):
            if vt.get(a) and vt.get(a) != ut.get(a):
                problem(f"os {a}: {vt.get(a)} vs {ut.get(a)}")
    # libvirt's choice by features: ours must ask the same of it.
    if vo.get("firmware") and vo.get("firmware") != uo.get("firmware"):
        problem(f"os firmware: {vo.get('firmware')} vs {uo.get('firmware')}")
    ufeat = {f.get("name"): f.get("enabled") for f in uo.findall("firmware/feature")}
    for f in vo.findall("firmware/feature"):
        if ufeat.get(f.get("name")) != f.get("enabled"):
            problem(f"firmware feature {f.get('name')}: {f.get('enabled')} vs {ufeat.get(f.get('name'))}")
    vefi = vo.get("firmware") == "efi" or (vo.find("loader") is not None and vo.find("loader").get("type") == "pflash")
    uefi = uo.get("firmware") == "efi" or (uo.find("loader") is not None and uo.find("loader").get("type") == "pflash")
    if vefi and not uefi:
        problem("firmware: virt-install boots UEFI, ours does not")
    vl, ul = vo.find("loader"), uo.find("loader")
    if vl is not None and vl.text:
        if ul is None or ul.text != vl.text:
            problem(f"loader: {vl.text} vs {ul.text if ul is not None else None}")
        for a, v in vl.attrib.items():
            if ul is not None and ul.get(a, "no" if a == "secure" else None) != v:
                problem(f"loader @{a}: {v} vs {ul.get(a)}")
    vn, un = vo.find("nvram"), uo.find("nvram")
    if vn is not None and vn.get("template") and (un is None or un.get("template") != vn.get("template")):
        problem(f"nvram template: {vn.get('template')} vs {un.get('template') if un is not None else None}")
    ub = [b.get("dev") for b in uo.findall("boot")]
    for b in vo.findall("boot"):
        if b.get("dev") not in ub:
            problem(f"boot dev {b.get('dev')} missing")


def compare_features(vi, us, test_driver):
    vf, uf = vi.find("features"), us.find("features")
    for f in (vf if vf is not None else []):
        if test_driver and f.tag == "pae":
            continue
        u = uf.find(f.tag) if uf is not None else None
        if u is None:
            problem(f"feature <{f.tag}> missing")
            continue
        if f.tag in ("hyperv", "kvm"):
            for e in f:
                ue = u.find(e.tag)
                if ue is None or attrs(ue) != attrs(e):
                    problem(f"feature {f.tag}/{e.tag} {attrs(e)} vs {attrs(ue)}")
        elif attrs(u) != attrs(f):
            problem(f"feature <{f.tag}> {attrs(f)} vs {attrs(u)}")


def compare_clock_pm(vi, us):
    vc, uc = vi.find("clock"), us.find("clock")
    if vc.get("offset") != uc.get("offset"):
        problem(f"clock offset: {vc.get('offset')} vs {uc.get('offset')}")
    ut = {t.get("name"): attrs(t) for t in uc.findall("timer")}
    for t in vc.findall("timer"):
        if ut.get(t.get("name")) != attrs(t):
            problem(f"timer {t.get('name')}: {attrs(t)} vs {ut.get(t.get('name'))}")
    vp, up = vi.find("pm"), us.find("pm")
    for e in (vp if vp is not None else []):
        u = up.find(e.tag) if up is not None else None
        if u is None or attrs(u) != attrs(e):
            problem(f"pm {e.tag}: {attrs(e)} vs {attrs(u)}")


def disk_key(d):
    src = d.find("source")
    return (d.get("device"), src.get("file") if src is not None else None)


def pci_source(h):
    a = h.find("source/address")
    return tuple(int(a.get(k), 0) for k in ("domain", "bus", "slot", "function"))


def compare_devices(vi, us, test_driver):
    vd, ud = vi.find("devices"), us.find("devices")
    udisks = {disk_key(d): d for d in ud.findall("disk")}
    for d in vd.findall("disk"):
        u = udisks.get(disk_key(d))
        if u is None:
            problem(f"disk {disk_key(d)} missing")
            continue
        vt, ut = d.find("target"), u.find("target")
        if vt.get("bus") != ut.get("bus"):
            problem(f"disk {disk_key(d)} bus: {vt.get('bus')} vs {ut.get('bus')}")
        vdrv, udrv = d.find("driver"), u.find("driver")
        for a, v in (vdrv.attrib.items() if vdrv is not None else []):
            if udrv is None or udrv.get(a) != v:
                problem(f"disk {disk_key(d)} driver @{a}: {v} vs {udrv.get(a) if udrv is not None else None}")
        if (d.find("readonly") is None) != (u.find("readonly") is None):
            problem(f"disk {disk_key(d)} readonly differs")

    uctl = [(c.get("type"), c.get("model")) for c in ud.findall("controller")]
    uctl_el = {(c.get("type"), c.get("model")): c for c in ud.findall("controller")}
    vports = sum(1 for c in vd.findall("controller") if c.get("model") == "pcie-root-port")
    uports = sum(1 for c in ud.findall("controller") if c.get("model") == "pcie-root-port")
    if uports < vports:
        problem(f"pcie-root-ports: {vports} vs {uports}")
    for c in vd.findall("controller"):
        t, m = c.get("type"), c.get("model")
        if t == "pci":
            if (t, m) not in uctl:
                problem(f"controller {t} {m} missing")
            continue
        drv = c.find("driver")
        if drv is not None and (t, m) in uctl_el:
            udrv = uctl_el[(t, m)].find("driver")
            for a, v in drv.attrib.items():
                if udrv is None or udrv.get(a) != v:
                    problem(f"controller {t} {m} driver @{a}: {v} vs {udrv.get(a) if udrv is not None else None}")
        if t == "usb" and test_driver:
            if not any(x[0] == "usb" for x in uctl):
                problem("no USB controller")
            continue
        if (t, m) not in uctl:
            problem(f"controller {t} {m} missing")

    def iface(i):
        src = i.find("source")
        if test_driver:
            return i.find("model").get("type")
        return (i.get("type"), src.get("network") if src is not None else None, i.find("model").get("type"))

    uifs = [iface(u) for u in ud.findall("interface")]
    for i in vd.findall("interface"):
        if iface(i) not in uifs:
            problem(f"interface {iface(i)} missing; ours: {uifs}")

    def simple(tag, key):
        have = [key(u) for u in ud.findall(tag)]
        for v in vd.findall(tag):
            if key(v) not in have:
                problem(f"<{tag}> {key(v)} missing; ours: {have}")

    simple("console", lambda e: e.get("type"))
    simple("channel", lambda e: (e.get("type"), e.find("target").get("name")))
    simple("input", lambda e: (e.get("type"), e.get("bus")))
    simple("tpm", lambda e: (e.get("model"), e.find("backend").get("type")))
    simple("sound", lambda e: "any" if test_driver else e.get("model"))
    simple("video", lambda e: e.find("model").get("type"))
    simple("redirdev", lambda e: (e.get("bus"), e.get("type")))
    simple("rng", lambda e: e.get("model"))
    if len(vd.findall("redirdev")) > len(ud.findall("redirdev")):
        problem("fewer USB redirection channels")

    def listen(g):
        lst = g.find("listen")
        return g.get("listen") or (lst.get("address") if lst is not None else None)

    simple("graphics", lambda e: (e.get("type"), listen(e)))

    uh = {pci_source(h): h for h in ud.findall("hostdev")}
    for h in vd.findall("hostdev"):
        u = uh.get(pci_source(h))
        if u is None:
            problem(f"hostdev {pci_source(h)} missing")
        elif (u.get("mode"), u.get("type"), u.get("managed")) != (h.get("mode"), h.get("type"), h.get("managed")):
            problem(f"hostdev {pci_source(h)}: {attrs(h)} vs {attrs(u)}")

    vb, ub = vd.find("memballoon"), ud.find("memballoon")
    if vb is not None and (ub is None or ub.get("model") != vb.get("model")):
        if not (ub is not None and ub.get("model") == "none" and ud.find("hostdev") is not None):
            problem(f"memballoon: {attrs(vb)} vs {attrs(ub)}")


def main():
    vi = ET.parse(sys.argv[1]).getroot()
    us = ET.parse(sys.argv[2]).getroot()
    test_driver = vi.get("type") == "test"
    compare_top(vi, us)
    compare_os(vi, us, test_driver)
    compare_features(vi, us, test_driver)
    compare_clock_pm(vi, us)
    compare_devices(vi, us, test_driver)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
