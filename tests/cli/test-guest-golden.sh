#!/usr/bin/env bash
# virt-guest-xml on fake machines against golden files (REGENERATE=1 to
# refresh them): every output validates with virt-xml-validate, defines on
# libvirt's test driver, and is byte-identical from run to run.
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

fails=0

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
ISO=/var/lib/libvirt/images/Win10_22H2_English_x64.iso
ISO11=/var/lib/libvirt/images/Win11_24H2_English_x64.iso

r=$(mkroot basic $FW); touchin "$r" $ISO
run_case win10-basic "$r" --name win10 --memory 8G --vcpus 4 --disk size=100 --cdrom $ISO

r=$(mkroot win11 $FW); touchin "$r" $ISO11
run_case win11 "$r" --name win11 --os win11 --memory 16G --vcpus 8 --disk size=128 --cdrom $ISO11

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

r=$(mkroot linux tests/golden/guest/roots/debian-ovmf); touchin "$r" /srv/images/fedora.raw
printf 'QFI\373' > "$r/srv/images/fedora.qcow2"
run_case linux "$r" --name fedora --os linux --memory 4096 --vcpus 2 --disk /srv/images/fedora.qcow2 \
    --disk /srv/images/fedora.raw --spice-listen 0.0.0.0

# patch: virt-install's own output for the seed's recipe, then once more on
# the result, which must not change a byte.
r=$(mkroot patch tests/cpu/ryzen9-5950x)
"$VGX" patch --root "$r" --nvidia --pin auto --hugepages < "$GOLDEN/virt-install/seed-win10.xml" > "$T/patch.xml"
"$VGX" patch --root "$r" --nvidia --pin auto --hugepages < "$T/patch.xml" > "$T/patch.again"
cmp -s "$T/patch.xml" "$T/patch.again" || { echo "FAIL patch: a second run changed the output"; diff -u "$T/patch.xml" "$T/patch.again"; fails=$((fails + 1)); }
check_xml "$T/patch.xml" || { echo "FAIL patch"; fails=$((fails + 1)); }
golden patch-virt-install "$T/patch.xml" || { echo "FAIL patch: differs from the golden file"; fails=$((fails + 1)); }
[ $fails = 0 ] && echo "ok patch-virt-install"

[ $fails = 0 ]
