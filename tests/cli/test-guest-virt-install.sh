#!/usr/bin/env bash
# The seed's virt-install recipe and the same guest from virt-guest-xml:
# everything that matters to the guest in virt-install's XML must be in ours
# (tests/cli/guest-semantics.py says what is compared and what differs by
# design). virt-install runs twice: on libvirt's test driver (test:///...),
# and with virt-install's test URI that makes it write for a KVM host
# (q35, UEFI and TPM from domain capabilities).
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

if ! command -v virt-install >/dev/null; then
    echo "SKIP: virt-install is not installed (Debian: virtinst, Fedora: virt-install)"
    exit 0
fi

VI=$GOLDEN/virt-install
ROOT=$(mkroot seed tests/machines/intel-nvidia tests/golden/guest/roots/fedora-edk2)
# The ISOs exist both where virt-install looks (this machine) and in the root.
ISO=$T/iso/Win10_22H2_English_x64.iso
VIRTIO=$T/iso/virtio-win.iso
mkdir -p "$T/iso"; : > "$ISO"; : > "$VIRTIO"
touchin "$ROOT" "$ISO" "$VIRTIO"

ours=(--name my-guest --memory 8192 --vcpus 4 --os win10 --disk size=100
    --cdrom "$ISO" --cdrom "$VIRTIO" --hostdev auto --spice-listen 0.0.0.0)
# Firmware by features, as virt-install --boot uefi writes it for a KVM host...
"$VGX" --root "$ROOT" "${ours[@]}" > "$T/ours.xml" 2>/dev/null
check_xml "$T/ours.xml"
# ... and with the files named, where libvirt is too old to pick (6.0).
ROOT6=$(mkroot seed6 tests/machines/intel-nvidia tests/golden/guest/roots/fedora-edk2 tests/golden/guest/roots/libvirt-6.0)
touchin "$ROOT6" "$ISO" "$VIRTIO"
"$VGX" --root "$ROOT6" "${ours[@]}" > "$T/ours-named.xml" 2>/dev/null
check_xml "$T/ours-named.xml"
loader=$(sed -n 's:.*<loader[^>]*>\(.*\)</loader>.*:\1:p' "$T/ours-named.xml")
nvram=$(sed -n 's:.*<nvram template="\([^"]*\)".*:\1:p' "$T/ours-named.xml")

# The seed's recipe, with what issue 14 asks of a guest in 2025 spelled out
# for virt-install (its defaults have no I/O thread): ours must have it too.
seed_args=(--name my-guest --ram 8192 --cpu host --vcpus 4 --os-variant win10 --iothreads 1
    --disk size=100,bus=scsi,discard=unmap,format=qcow2,cache=none,io=native
    --disk "$ISO",device=cdrom,bus=sata --disk "$VIRTIO",device=cdrom,bus=sata
    --controller type=scsi,model=virtio-scsi,driver.iothread=1,driver.queues=4 --network default,model=virtio
    --graphics spice,listen=0.0.0.0 --input tablet
    --host-device pci_0000_01_00_0 --host-device pci_0000_01_00_1 --print-xml)

fails=0
# The plain test driver has no domain capabilities: --boot uefi would fail,
# so it gets the loader that ours found.
virt-install --connect "test://$VI/testdriver.xml" \
    --boot loader="$loader",loader.readonly=yes,loader.type=pflash,nvram.template="$nvram" \
    "${seed_args[@]}" > "$T/vi-test.xml"
if python3 "$TOP/tests/cli/guest-semantics.py" "$T/vi-test.xml" "$T/ours-named.xml"; then
    echo "ok test driver"
else
    echo "FAIL: virt-install on the test driver has what ours lacks"; fails=$((fails + 1))
fi

magic="__virtinst_test__test://$VI/testdriver.xml,fakeuri=qemu:///system,caps=$VI/kvm-caps.xml,domcaps=$VI/kvm-domcaps.xml,predictable"
if virt-install --connect "$magic" --boot uefi "${seed_args[@]}" > "$T/vi-kvm.xml" 2> "$T/vi-kvm.err"; then
    if python3 "$TOP/tests/cli/guest-semantics.py" "$T/vi-kvm.xml" "$T/ours.xml"; then
        echo "ok KVM host"
    else
        echo "FAIL: virt-install for a KVM host has what ours lacks"; fails=$((fails + 1))
    fi
else
    # The test URI is virt-install's own test hook, not a promise: report, do not fail.
    echo "SKIP KVM host: this virt-install does not take the test URI"; cat "$T/vi-kvm.err"
fi
[ $fails = 0 ]
