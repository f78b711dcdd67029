#!/usr/bin/env bash
# virt-guest-xml's failures: one line on stderr saying what to do, exit 1
# (2 for usage), and nothing on stdout.
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

fails=0
FW=tests/golden/guest/roots/fedora-edk2

# expect NAME CODE STDERR [--stdin FILE] -- ARGS...: $ROOT in STDERR is the
# root of the case.
expect() {
    local name=$1 code=$2 want=$3 in=/dev/null rc=0
    shift 3
    if [ "$1" = --stdin ]; then in=$2; shift 2; fi
    shift # --
    "$VGX" "$@" < "$in" > "$T/out" 2> "$T/err" || rc=$?
    want=${want//\$ROOT/$ROOT}
    if [ $rc != "$code" ]; then
        echo "FAIL $name: exit $rc, want $code"; cat "$T/err"; fails=$((fails + 1)); return 0
    fi
    if [ -s "$T/out" ]; then
        echo "FAIL $name: wrote to stdout"; head -3 "$T/out"; fails=$((fails + 1)); return 0
    fi
    # A STDERR ending in '*' is a prefix: the rest is another module's wording.
    if [ "${want%\*}" != "$want" ] && [ "$(wc -l < "$T/err")" = 1 ] && [[ "$(cat "$T/err")" == "${want%\*}"* ]]; then
        echo "ok $name"; return 0
    fi
    if [ "$(cat "$T/err")" != "$want" ]; then
        echo "FAIL $name: stderr"; diff -u <(printf '%s\n' "$want") "$T/err" || true; fails=$((fails + 1)); return 0
    fi
    echo "ok $name"
}

ROOT=$(mkroot zen3 tests/cpu/ryzen9-5950x $FW)
A=(--root "$ROOT" --name g --memory 8G)

expect unknown-option 2 "virt-guest-xml: unknown option '--frobnicate' (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --frobnicate
expect missing-argument 2 "virt-guest-xml: option '--vcpus' needs an argument (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus
expect no-name 2 "virt-guest-xml: --name is missing (see 'virt-guest-xml --help')" \
    -- --root "$ROOT" --memory 8G --vcpus 4
expect memory-zero 2 "virt-guest-xml: --memory 0: give a size of 1M or more, like 8G or 8192M (see 'virt-guest-xml --help')" \
    -- --root "$ROOT" --name g --memory 0 --vcpus 4
expect memory-junk 2 "virt-guest-xml: --memory 8X: give a size of 1M or more, like 8G or 8192M (see 'virt-guest-xml --help')" \
    -- --root "$ROOT" --name g --memory 8X --vcpus 4
expect vcpus-zero 2 "virt-guest-xml: --vcpus 0: give a number from 1 to 4096 (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 0
expect bad-os 2 "virt-guest-xml: --os win7: give win10, win11 or linux (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --os win7
expect bad-pin 2 "virt-guest-xml: --pin takes auto or none, not 'yes' (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --pin yes
expect bad-disk 2 "virt-guest-xml: --disk /x.img,bus=ide: unknown part 'bus=ide' (PATH[,size=GIB]) (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --disk /x.img,bus=ide
expect bad-input 2 "virt-guest-xml: --input /dev/input/event3: give evdev:/dev/input/by-id/... (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --input /dev/input/event3
expect bad-hostdev 2 "virt-guest-xml: --hostdev gpu: give auto or a PCI address like 0000:01:00.0 (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --hostdev gpu
expect extra-argument 2 "virt-guest-xml: unexpected argument 'now' (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 now
expect patch-with-name 2 "virt-guest-xml: --name does not go with patch (see 'virt-guest-xml --help')" \
    -- patch "${A[@]}"
expect bad-audio 2 "virt-guest-xml: --audio takes auto, pipewire, pulseaudio or spice, not 'alsa' (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --audio alsa
expect audio-keep-create 2 "virt-guest-xml: --audio keep goes with patch only (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --audio keep
expect bad-looking-glass 2 "virt-guest-xml: --looking-glass=1440p: give the guest's largest resolution, like --looking-glass=2560x1440 (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --looking-glass=1440p
expect diff-without-patch 2 "virt-guest-xml: --diff goes with patch only (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --diff
expect patch-with-disk 2 "virt-guest-xml: --disk does not go with patch (see 'virt-guest-xml --help')" \
    -- patch --root "$ROOT" --disk size=10
expect relative-with-root 2 "virt-guest-xml: --cdrom win10.iso: give an absolute path when --root is used (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --vcpus 4 --cdrom win10.iso

expect too-many-vcpus 1 "virt-guest-xml: 32 vCPUs need 16 whole cores, but this host has 15 to spare (the core of CPU 0 stays with the host): at most 30 vCPUs" \
    -- "${A[@]}" --vcpus 32 --pin auto
expect odd-vcpus 1 "virt-guest-xml: 5 vCPUs do not fill whole cores of 2 threads: pin 4 or 6 vCPUs" \
    -- "${A[@]}" --vcpus 5 --pin auto
ROOT=$T/zen3/usr
expect no-topology 1 "virt-guest-xml: $ROOT/sys/devices/system/cpu: no CPU topology here: No such file or directory" \
    -- --root "$ROOT" --name g --memory 8G --vcpus 4 --pin auto
expect missing-cdrom 1 "virt-guest-xml: --cdrom /iso/none.iso: no such file" \
    -- "${A[@]}" --vcpus 4 --cdrom /iso/none.iso
expect missing-image 1 "virt-guest-xml: --disk /srv/none.qcow2: no such image; add ,size=N to declare a new one of N GiB" \
    -- "${A[@]}" --vcpus 4 --disk /srv/none.qcow2

ROOT=$(mkroot nvidia tests/machines/intel-nvidia $FW)
A=(--root "$ROOT" --name g --memory 8G --vcpus 4)
expect no-such-device 1 "virt-guest-xml: --hostdev 0000:09:00.0: no PCI device 0000:09:00.0 here" \
    -- "${A[@]}" --hostdev 0000:09:00.0
expect not-isolated 1 "virt-guest-xml: --hostdev 00:02.0: 0000:00:02.0 is not isolated for passthrough (boot VGA device); list it in isolate in virt-host-config.conf and run virt-host-config apply" \
    -- "${A[@]}" --hostdev 00:02.0
expect not-isolated-nic 1 "virt-guest-xml: --hostdev 00:1f.6: 0000:00:1f.6 is not isolated for passthrough (not a display controller); list it in isolate in virt-host-config.conf and run virt-host-config apply" \
    -- "${A[@]}" --hostdev 00:1f.6

# PipeWire audio needs libvirt 9.10; Debian 12 has 9.0.
ROOT=$(mkroot oldlv tests/machines/intel-nvidia $FW tests/golden/guest/roots/debian-libvirt-9.0)
expect pipewire-old-libvirt 1 "virt-guest-xml: --audio pipewire: libvirt 9.0.0 has no PipeWire audio (9.10 and later have it); give --audio pulseaudio, which pipewire-pulse serves" \
    -- --root "$ROOT" --name g --memory 8G --vcpus 4 --audio pipewire

ROOT=$(mkroot single tests/machines/single-gpu $FW)
expect auto-nothing 1 "virt-guest-xml: --hostdev auto: virt-host-config isolates no device on this machine*" \
    -- --root "$ROOT" --name g --memory 8G --vcpus 4 --hostdev auto

# --rom: only a ROM with an EFI x86-64 image, at its first byte, for a
# device the guest gets (issue 13).
ROOT=$(mkroot rx580 tests/machines/rx580-polaris $FW)
A=(--root "$ROOT" --name g --memory 8G --vcpus 4)
mkdir -p "$ROOT/roms"
cp "$ROOT/sys/bus/pci/devices/0000:01:00.0/rom" "$ROOT/roms/x86-only.rom"
printf 'NVGI header of a dump tool\n' > "$ROOT/roms/dump.rom"
cat "$ROOT/sys/bus/pci/devices/0000:01:00.0/rom" >> "$ROOT/roms/dump.rom"
printf 'not a rom\n' > "$ROOT/roms/text.rom"
expect rom-no-efi 1 "virt-guest-xml: --rom /roms/x86-only.rom: /roms/x86-only.rom holds no EFI x86-64 image (its images: x86), so OVMF shows nothing with it either: give a ROM with a UEFI (GOP) image" \
    -- "${A[@]}" --hostdev auto --rom /roms/x86-only.rom
expect rom-header 1 "virt-guest-xml: --rom 01:00.0=/roms/dump.rom: in /roms/dump.rom the option ROM starts at byte 27, after a header QEMU does not skip: cut it off first (dd if=/roms/dump.rom of=NEW.rom bs=27 skip=1), then give NEW.rom" \
    -- "${A[@]}" --hostdev auto --rom 01:00.0=/roms/dump.rom
expect rom-not-rom 1 "virt-guest-xml: --rom /roms/text.rom: /roms/text.rom is not a PCI option ROM*" \
    -- "${A[@]}" --hostdev auto --rom /roms/text.rom
expect rom-missing 1 "virt-guest-xml: --rom /roms/none.rom: /roms/none.rom: No such file or directory" \
    -- "${A[@]}" --hostdev auto --rom /roms/none.rom
expect rom-not-passed 1 "virt-guest-xml: --rom 00:02.0=/roms/x86-only.rom: 0000:00:02.0 is not a device this guest gets: give it with --hostdev too" \
    -- "${A[@]}" --hostdev auto --rom 00:02.0=/roms/x86-only.rom
expect rom-without-hostdev 2 "virt-guest-xml: --rom goes with --hostdev: the ROM is for a device the guest gets (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --rom /roms/x86-only.rom
expect rom-bad-address 2 "virt-guest-xml: --rom gpu=/roms/x86-only.rom: give FILE or ADDR=FILE, ADDR a PCI address like 0000:01:00.0 (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --hostdev auto --rom gpu=/roms/x86-only.rom

printf '<domain>\n  <name>x</name>\n  <devices>\n</domain>\n' > "$T/broken.xml"
expect patch-malformed 1 "virt-guest-xml: <stdin>:4: not well-formed XML: Opening and ending tag mismatch: devices line 3 and domain" \
    --stdin "$T/broken.xml" -- patch --nvidia
printf '<network><name>default</name></network>\n' > "$T/net.xml"
expect patch-not-domain 1 "virt-guest-xml: <stdin>:1: not a libvirt domain: the root element is <network>, not <domain>" \
    --stdin "$T/net.xml" -- patch --nvidia
expect patch-empty 1 "virt-guest-xml: <stdin>: no input: give a domain's XML on stdin (virsh dumpxml NAME | virt-guest-xml patch ...)" \
    -- patch --nvidia

# Issue 16, item 12: a namespaced root says its namespace.
printf '<domain xmlns="http://example.com/not-libvirt" type="kvm">\n  <name>x</name>\n</domain>\n' > "$T/ns.xml"
expect patch-namespaced 1 "virt-guest-xml: <stdin>:1: not a libvirt domain: the root element <domain> is in the namespace 'http://example.com/not-libvirt'; libvirt's <domain> is in none" \
    --stdin "$T/ns.xml" -- patch --no-nvidia

# Issue 16, item 13: a DOCTYPE is refused, its entities neither read nor
# passed on; with or without an internal subset, after the declaration too.
printf '<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<domain type="kvm">\n  <name>&x;</name>\n  <vcpu>2</vcpu>\n  <devices/>\n</domain>\n' > "$T/xxe.xml"
expect patch-doctype-entity 1 "virt-guest-xml: <stdin>:2: the input has a DOCTYPE, which libvirt's domain XML never has: remove it (virsh dumpxml writes none)" \
    --stdin "$T/xxe.xml" -- patch --no-nvidia
printf '<!DOCTYPE domain>\n<domain type="kvm"><name>x</name><vcpu>2</vcpu><devices/></domain>\n' > "$T/doctype.xml"
expect patch-doctype 1 "virt-guest-xml: <stdin>:1: the input has a DOCTYPE, which libvirt's domain XML never has: remove it (virsh dumpxml writes none)" \
    --stdin "$T/doctype.xml" -- patch --no-nvidia

# Issue 16, item 13: what libvirt would refuse is refused, in one line, with
# nothing written: text that is not UTF-8, a control character in a path,
# a SPICE address that is no address.
ROOT=$(mkroot args tests/cpu/ryzen9-5950x $FW)
mkdir -p "$ROOT/iso"
: > "$ROOT/iso/win.iso"
: > "$ROOT/iso/nl
.iso"
A=(--root "$ROOT" --memory 8G --vcpus 4 --os linux)
expect name-not-utf8 2 "virt-guest-xml: --name caf\\xe9: is not valid UTF-8, which libvirt's XML must be (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name $'caf\xe9'
expect cdrom-not-utf8 2 "virt-guest-xml: --cdrom /iso/\\xff.iso: is not valid UTF-8, which libvirt's XML must be (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name g --cdrom $'/iso/\xff.iso'
expect cdrom-newline 2 "virt-guest-xml: --cdrom /iso/nl\\x0a.iso: has a control character (a newline, a tab...), which libvirt does not take (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name g --cdrom $'/iso/nl\n.iso'
expect disk-control 2 "virt-guest-xml: --disk /srv/a\\x01b,size=10: has a control character (a newline, a tab...), which libvirt does not take (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name g --disk $'/srv/a\x01b,size=10'
expect name-overlong-utf8 2 "virt-guest-xml: --name \\xc0\\xaf: is not valid UTF-8, which libvirt's XML must be (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name $'\xc0\xaf'
expect spice-listen-junk 2 "virt-guest-xml: --spice-listen 0.0.0.0:5900: give an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::1) or a host name (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name g --spice-listen 0.0.0.0:5900
expect spice-listen-space 2 "virt-guest-xml: --spice-listen my host: give an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::1) or a host name (see 'virt-guest-xml --help')" \
    -- "${A[@]}" --name g --spice-listen 'my host'
# What libvirt takes still goes: UTF-8 names and paths, IPv6, host names.
: > "$ROOT/iso/café.iso"
for listen in ::1 fe80::1 spice.example.org 192.168.1.10; do
    rc=0
    "$VGX" "${A[@]}" --name 'gäst' --cdrom '/iso/café.iso' --spice-listen "$listen" > "$T/out" 2>/dev/null || rc=$?
    if [ $rc = 0 ] && check_xml "$T/out"; then echo "ok listen-$listen"; else echo "FAIL listen-$listen: exit $rc"; fails=$((fails + 1)); fi
done
# A runtime directory libvirt would refuse is not taken for the sound.
rc=0
XDG_RUNTIME_DIR=$'/run/user/1000\n' "$VGX" "${A[@]}" --name g --audio pulseaudio > "$T/out" 2>/dev/null || rc=$?
if [ $rc = 0 ] && check_xml "$T/out" && grep -q "serverName=\"/run/user/$(id -u)/pulse/native\"" "$T/out"; then
    echo "ok runtime-dir-newline"; else echo "FAIL runtime-dir-newline: exit $rc"; fails=$((fails + 1)); fi

# A full stdout is an error too, and nothing half-written counts as success.
rc=0
"$VGX" --root "$ROOT" --name g --memory 8G --vcpus 4 > /dev/full 2> "$T/err" || rc=$?
if [ $rc = 1 ] && grep -q "cannot write to stdout" "$T/err"; then echo "ok stdout-full"; else echo "FAIL stdout-full: exit $rc"; cat "$T/err"; fails=$((fails + 1)); fi

# Notes and warnings come after a successful run, on stderr only.
ROOT=$(mkroot notes tests/machines/intel-nvidia)
"$VGX" --root "$ROOT" --name g --memory 8G --vcpus 4 --disk size=50 --hugepages > "$T/out" 2> "$T/err"
cat > "$T/want" <<EOT
virt-guest-xml: note: create the disk before the first start: qemu-img create -f qcow2 /var/lib/libvirt/images/g.qcow2 50G
virt-guest-xml: note: /usr/share/virtio-win/virtio-win.iso not found: install virtio-win, or give the driver ISO with --cdrom; Windows needs it for the virtio disk and network
virt-guest-xml: note: no OVMF firmware found under $ROOT: libvirt picks one when the guest is defined (install edk2-ovmf)
virt-guest-xml: warning: --hugepages: the host has 0 free huge pages of 2048 KiB, the guest needs 4096; reserve them (sysctl vm.nr_hugepages) or the guest will not start
virt-guest-xml: warning: the guest's TPM 2.0 needs swtpm and swtpm_setup, and libvirt does not start it without them: install swtpm and swtpm-tools
EOT
if diff -u "$T/want" "$T/err" && grep -q '<os firmware="efi">' "$T/out"; then echo "ok notes"; else echo "FAIL notes"; fails=$((fails + 1)); fi

# --help shows the seed's recipe as one command and exits 0; --version too.
"$VGX" --help > "$T/help"
grep -q -- "--name my-guest --memory 8G --vcpus 4 --os win10 --disk size=100" "$T/help" &&
    grep -q "virt-guest-xml(1)" "$T/help" && echo "ok help" || { echo "FAIL help"; fails=$((fails + 1)); }
"$VGX" --version | grep -Eq '^virt-guest-xml [0-9]' && echo "ok version" || { echo "FAIL version"; fails=$((fails + 1)); }

[ $fails = 0 ]
