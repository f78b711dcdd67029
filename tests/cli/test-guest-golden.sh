#!/usr/bin/env bash
# virt-guest-xml on fake machines against golden files (REGENERATE=1 to
# refresh them): every output validates with virt-xml-validate, defines on
# libvirt's test driver, and is byte-identical from run to run.
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

fails=0
# --audio auto looks in the runtime directory of the user who runs it: uid
# 1000's, for the roots that have a sound server there.
export XDG_RUNTIME_DIR=/run/user/1000
unset SUDO_UID

# run_case NAME ROOT ARGS...: virt-guest-xml --root ROOT ARGS, twice.
run_case() {
    local name=$1 root=$2
    shift 2
    local before=$fails rc=0
    "$VGX" --root "$root" "$@" > "$T/$name.xml" 2> "$T/$name.err" || rc=$?
    if [ $rc != 0 ]; then
        echo "FAIL $name: exit $rc"; cat "$T/$name.err"; fails=$((fails + 1)); return 0
    fi
    "$VGX" --root "$root" "$@" > "$T/$name.again" 2>/dev/null
    cmp -s "$T/$name.xml" "$T/$name.again" || { echo "FAIL $name: not byte-identical run to run"; fails=$((fails + 1)); }
    check_xml "$T/$name.xml" || { echo "FAIL $name"; fails=$((fails + 1)); }
    golden "$name" "$T/$name.xml" || { echo "FAIL $name: differs from the golden file"; fails=$((fails + 1)); }
    [ $fails = $before ] && echo "ok $name"
    return 0
}

FW=tests/golden/guest/roots/fedora-edk2
PARTS=tests/golden/guest/roots
ISO=/var/lib/libvirt/images/Win10_22H2_English_x64.iso
ISO11=/var/lib/libvirt/images/Win11_24H2_English_x64.iso

r=$(mkroot basic $FW); touchin "$r" $ISO
run_case win10-basic "$r" --name win10 --memory 8G --vcpus 4 --disk size=100 --cdrom $ISO

# Windows 11: firmware by its features, which libvirt picks from the
# descriptors (Fedora's 4 MiB qcow2 build first)...
r=$(mkroot win11 $FW); touchin "$r" $ISO11
run_case win11 "$r" --name win11 --os win11 --memory 16G --vcpus 8 --disk size=128 --cdrom $ISO11
# ... and named from the first raw descriptor where libvirt (6.0) is too old to pick.
r=$(mkroot win11-old $FW $PARTS/libvirt-6.0); touchin "$r" $ISO11
run_case win11-descriptor "$r" --name win11 --os win11 --memory 16G --vcpus 8 --disk size=128 --cdrom $ISO11

# The seed's recipe, as --help and the README give it.
r=$(mkroot seed tests/machines/intel-nvidia $FW $PARTS/swtpm); touchin "$r" /var/lib/libvirt/images/win10.iso
run_case seed-recipe "$r" --name my-guest --memory 8G --vcpus 4 --os win10 --disk size=100 \
    --cdrom /var/lib/libvirt/images/win10.iso --hostdev auto --spice-listen 0.0.0.0

r=$(mkroot nvidia tests/machines/intel-nvidia $FW); touchin "$r" $ISO
run_case nvidia-passthrough "$r" --name gaming --memory 16384 --vcpus 8 --disk size=200 --cdrom $ISO \
    --hostdev auto --input evdev:/dev/input/by-id/usb-Logitech_G502-event-mouse \
    --input evdev:/dev/input/by-id/usb-Corsair_K70-event-kbd

r=$(mkroot nvidia-off tests/machines/intel-nvidia $FW)
run_case nvidia-no-quirks "$r" --name gaming --memory 16G --vcpus 8 --hostdev 01:00.0 --no-nvidia

r=$(mkroot amd tests/machines/two-amd-identical $FW); touchin "$r" $ISO
run_case amd-passthrough "$r" --name radeon --memory 16G --vcpus 8 --disk size=200 --cdrom $ISO --hostdev auto

r=$(mkroot rtx tests/machines/rtx2070-4fn $FW)
run_case rtx2070-4fn "$r" --name rtx --memory 16G --vcpus 4 --hostdev 0000:01:00.0

r=$(mkroot zen3 tests/cpu/ryzen9-5950x $FW); touchin "$r" $ISO
run_case pin-5950x "$r" --name pinned --memory 32G --vcpus 16 --disk size=200 --cdrom $ISO --pin auto --hugepages

r=$(mkroot adl tests/cpu/i9-12900k $FW); touchin "$r" $ISO
run_case pin-12900k "$r" --name hybrid --memory 16G --vcpus 8 --disk size=200 --cdrom $ISO --pin auto

# Hybrid CPUs past their P-cores' threads: whole E-cores, one vCPU each (item 9).
r=$(mkroot rpl tests/cpu/i9-13900k $FW); touchin "$r" $ISO
run_case pin-13900k-ecores "$r" --name hybrid --memory 32G --vcpus 16 --disk size=200 --cdrom $ISO --pin auto
r=$(mkroot adl-h tests/cpu/i7-12700h $FW)
run_case pin-12700h-ecores "$r" --name laptop --memory 16G --vcpus 12 --pin auto

# Sound where the host plays it (item 6): PipeWire with libvirt 10.6,
# pipewire-pulse's socket with Debian 12's libvirt 9.0 (no PipeWire audio yet).
r=$(mkroot pw tests/machines/intel-nvidia $FW $PARTS/libvirt-10.6 $PARTS/pipewire)
run_case audio-pipewire "$r" --name g --memory 16G --vcpus 8 --hostdev auto
r=$(mkroot pwpulse tests/machines/intel-nvidia $FW $PARTS/debian-libvirt-9.0 $PARTS/pipewire)
run_case audio-pipewire-pulse "$r" --name g --memory 16G --vcpus 8 --hostdev auto

# Looking Glass (item 10): /dev/shm without kvmfr, kvmfr's /dev/kvmfr0 with
# it, and kvmfr in QEMU's key=value syntax for libvirt 6.0.
r=$(mkroot lg tests/machines/intel-nvidia $FW)
run_case looking-glass-shm "$r" --name lg --memory 16G --vcpus 8 --hostdev auto --looking-glass=1920x1080
r=$(mkroot lgk tests/machines/intel-nvidia $FW $PARTS/kvmfr)
run_case looking-glass-kvmfr "$r" --name lg --memory 16G --vcpus 8 --hostdev auto --looking-glass
r=$(mkroot lgo tests/machines/intel-nvidia $FW $PARTS/kvmfr $PARTS/libvirt-6.0)
run_case looking-glass-kvmfr-legacy "$r" --name lg --memory 16G --vcpus 8 --hostdev auto --looking-glass

r=$(mkroot linux tests/golden/guest/roots/debian-ovmf); touchin "$r" /srv/images/fedora.raw
printf 'QFI\373' > "$r/srv/images/fedora.qcow2"
run_case linux "$r" --name fedora --os linux --memory 4096 --vcpus 2 --disk /srv/images/fedora.qcow2 \
    --disk /srv/images/fedora.raw --spice-listen 0.0.0.0

# Resizable BAR (issue 13): the RTX 4090's 32 GiB BAR 1 needs a 64 GiB 64-bit
# MMIO window, set through fw_cfg; an RX 580 without a UEFI image in its ROM
# gets one from a file (an x86 + EFI x86-64 ROM built as mkmachine builds them).
r=$(mkroot rebar tests/machines/rtx4090-rebar $FW)
run_case rtx4090-rebar "$r" --name rebar --memory 16G --vcpus 8 --hostdev auto
r=$(mkroot rx580 tests/machines/rx580-polaris $FW)
mkdir -p "$r/usr/share/vgabios"
python3 - "$TOP/scripts/mkmachine" "$r/usr/share/vgabios/rx580-uefi.rom" <<'EOPY'
import importlib.machinery, sys, types
mk = importlib.machinery.SourceFileLoader("mkmachine", sys.argv[1]).load_module()
card = types.SimpleNamespace(vendor=0x1002, device=0x67DF, cls=0x030000, rom=["x86", "efi"])
open(sys.argv[2], "wb").write(mk.rom_bytes(card))
EOPY
run_case rx580-rom "$r" --name polaris --memory 16G --vcpus 8 --hostdev auto \
    --rom /usr/share/vgabios/rx580-uefi.rom

# patch_case NAME ROOT INPUT ARGS...: patch INPUT, then its output once more,
# which must not change a byte; validated, defined and compared.
patch_case() {
    local name=$1 root=$2 in=$3 before=$fails rc=0
    shift 3
    "$VGX" patch --root "$root" "$@" < "$in" > "$T/$name.xml" 2> "$T/$name.err" || rc=$?
    if [ $rc != 0 ]; then
        echo "FAIL $name: exit $rc"; cat "$T/$name.err"; fails=$((fails + 1)); return 0
    fi
    "$VGX" patch --root "$root" "$@" < "$T/$name.xml" > "$T/$name.again" 2>/dev/null
    cmp -s "$T/$name.xml" "$T/$name.again" || { echo "FAIL $name: a second run changed the output"; diff -u "$T/$name.xml" "$T/$name.again"; fails=$((fails + 1)); }
    check_xml "$T/$name.xml" || { echo "FAIL $name"; fails=$((fails + 1)); }
    golden "$name" "$T/$name.xml" || { echo "FAIL $name: differs from the golden file"; fails=$((fails + 1)); }
    [ $fails = $before ] && echo "ok $name"
    return 0
}

# patch: virt-install's own output for the seed's recipe.
r=$(mkroot patch tests/cpu/ryzen9-5950x)
patch_case patch-virt-install "$r" "$GOLDEN/virt-install/seed-win10.xml" --nvidia --pin auto --hugepages
# The seed's install with its CD-ROM: two domains in, the guest's out,
# booting the installer first; its split GPU functions on one slot; no
# option: the NVIDIA card (read from the host) brings the Error 43 settings.
r=$(mkroot patchcd tests/machines/intel-nvidia)
patch_case patch-virt-install-cdrom "$r" "$GOLDEN/virt-install/seed-win10-cdrom.xml"
grep -q 'the input holds 2 domains' "$T/patch-virt-install-cdrom.err" ||
    { echo "FAIL patch-virt-install-cdrom: no note on the two domains"; fails=$((fails + 1)); }
# patch sets the window as create does, and that is its only edit: create's
# output without it comes back byte for byte.
r=$(mkroot patchrebar tests/machines/rtx4090-rebar $FW)
sed '/<sysinfo type="fwcfg">/,/<\/sysinfo>/d' "$GOLDEN/rtx4090-rebar.xml" > "$T/rebar-in.xml"
if grep -q fwcfg "$T/rebar-in.xml" || cmp -s "$T/rebar-in.xml" "$GOLDEN/rtx4090-rebar.xml"; then
    echo "FAIL patch-rebar: the input still has its sysinfo"; fails=$((fails + 1))
elif "$VGX" patch --root "$r" --hostdev auto < "$T/rebar-in.xml" > "$T/rebar-out.xml" 2>/dev/null &&
    diff -u "$GOLDEN/rtx4090-rebar.xml" "$T/rebar-out.xml"; then
    echo "ok patch-rebar"
else
    echo "FAIL patch-rebar: patch did not give create's output"; fails=$((fails + 1))
fi
# A larger window the domain sets already stays; a smaller one is raised.
sed 's|>65536</entry>|>262144</entry>|' "$GOLDEN/rtx4090-rebar.xml" > "$T/rebar-big.xml"
sed 's|>65536</entry>|>1024</entry>|' "$GOLDEN/rtx4090-rebar.xml" > "$T/rebar-small.xml"
if "$VGX" patch --root "$r" --hostdev auto < "$T/rebar-big.xml" 2>/dev/null | cmp -s - "$T/rebar-big.xml" &&
    "$VGX" patch --root "$r" --hostdev auto < "$T/rebar-small.xml" 2>/dev/null | cmp -s - "$GOLDEN/rtx4090-rebar.xml"; then
    echo "ok patch-rebar-existing"
else
    echo "FAIL patch-rebar-existing"; fails=$((fails + 1))
fi
# No window for cards within OVMF's default (the GTX 1080's 288 MiB).
if grep -q 'fwcfg\|X-PciMmio64Mb' "$GOLDEN/seed-recipe.xml" "$GOLDEN/nvidia-passthrough.xml"; then
    echo "FAIL mmio64-not-needed: a window for a card that does not need one"; fails=$((fails + 1))
else
    echo "ok mmio64-not-needed"
fi
# patch --diff on libvirt's own format (virsh dumpxml): only the edits.
"$VGX" patch --root "$r" --diff < "$GOLDEN/virt-install/seed-win10-dumpxml.xml" > "$T/dumpxml.diff" 2>/dev/null
if [ "${REGENERATE:-0}" = 1 ]; then
    cp "$T/dumpxml.diff" "$GOLDEN/patch-dumpxml.diff"; echo "regenerated $GOLDEN/patch-dumpxml.diff"
elif diff -u "$GOLDEN/patch-dumpxml.diff" "$T/dumpxml.diff"; then
    echo "ok patch-dumpxml.diff"
else
    echo "FAIL patch-dumpxml.diff: differs from the golden file"; fails=$((fails + 1))
fi
# The diff is what patch writes: applied to its input, it gives the same bytes.
"$VGX" patch --root "$r" < "$GOLDEN/virt-install/seed-win10-dumpxml.xml" > "$T/dumpxml.xml" 2>/dev/null
cp "$GOLDEN/virt-install/seed-win10-dumpxml.xml" "$T/dumpxml.in"
if ! command -v patch >/dev/null; then
    echo "skip patch --diff applies: no patch(1) here"
elif (cd "$T" && patch -s dumpxml.in < dumpxml.diff) && cmp -s "$T/dumpxml.in" "$T/dumpxml.xml"; then
    echo "ok patch --diff applies"
else
    echo "FAIL patch --diff: does not give patch's output"; fails=$((fails + 1))
fi

[ $fails = 0 ]
