#!/usr/bin/env bash
# What virt-guest-xml takes from the host besides its devices, and the notes
# that say what the user must do about it (issue 14): firmware by libvirt's
# version, the sound server, Looking Glass's device, swtpm for the TPM.
set -euo pipefail
. "$(dirname "$0")/guest-lib.sh"

fails=0
FW=tests/golden/guest/roots/fedora-edk2
PARTS=tests/golden/guest/roots
export XDG_RUNTIME_DIR=/run/user/1000
unset SUDO_UID

# notes NAME ROOT -- ARGS...: run, exit 0, compare stderr with the heredoc on stdin.
notes() {
    local name=$1 root=$2 rc=0
    shift 3
    cat > "$T/want"
    "$VGX" --root "$root" "$@" > "$T/out" 2> "$T/err" || rc=$?
    sed -i "s|$root|ROOT|g" "$T/err"
    if [ $rc != 0 ]; then
        echo "FAIL $name: exit $rc"; cat "$T/err"; fails=$((fails + 1))
    elif ! diff -u "$T/want" "$T/err"; then
        echo "FAIL $name: stderr"; fails=$((fails + 1))
    elif ! check_xml "$T/out"; then
        echo "FAIL $name: XML"; fails=$((fails + 1))
    else
        echo "ok $name"
    fi
}

# A Windows guest with swtpm installed: no warning; without it, one (item 7).
r=$(mkroot tpm tests/machines/intel-nvidia $FW $PARTS/swtpm)
notes swtpm-present "$r" -- --name g --memory 8G --vcpus 4 </dev/null
r=$(mkroot notpm tests/machines/intel-nvidia $FW)
notes swtpm-missing "$r" -- --name g --memory 8G --vcpus 4 <<'EOT'
virt-guest-xml: warning: the guest's TPM 2.0 needs swtpm and swtpm_setup, and libvirt does not start it without them: install swtpm and swtpm-tools
EOT
notes swtpm-linux "$r" -- --name g --os linux --memory 8G --vcpus 4 </dev/null
grep -q '<os firmware="efi">' "$T/out" || { echo "FAIL: descriptors and no libvirt: not autoselected"; fails=$((fails + 1)); }

# Firmware named only where libvirt cannot pick (item 1).
r=$(mkroot old $FW $PARTS/libvirt-6.0 $PARTS/swtpm)
notes firmware-old-libvirt "$r" -- --name g --os win11 --memory 8G --vcpus 4 <<'EOT'
virt-guest-xml: note: libvirt 6.0.0 is older than 7.2 and cannot pick firmware by its features: the guest names /usr/share/edk2/ovmf/OVMF_CODE.secboot.fd
EOT
grep -q '<loader readonly="yes" secure="yes" type="pflash">/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd</loader>' "$T/out" ||
    { echo "FAIL firmware-old-libvirt: no loader"; fails=$((fails + 1)); }
r=$(mkroot new $FW $PARTS/libvirt-10.6 $PARTS/swtpm)
notes firmware-new-libvirt "$r" -- --name g --os win11 --memory 8G --vcpus 4 </dev/null
grep -q '<feature enabled="yes" name="enrolled-keys"/>' "$T/out" && ! grep -q '<loader' "$T/out" ||
    { echo "FAIL firmware-new-libvirt: not autoselected"; fails=$((fails + 1)); }
# No descriptors at all (an edk2-ovmf without them): the files by name.
r=$(mkroot nodesc $PARTS/libvirt-10.6 $PARTS/swtpm)
mkdir -p "$r/usr/share/edk2/ovmf"; : > "$r/usr/share/edk2/ovmf/OVMF_CODE.fd"; : > "$r/usr/share/edk2/ovmf/OVMF_VARS.fd"
notes firmware-no-descriptor "$r" -- --name g --os linux --memory 8G --vcpus 4 <<'EOT'
virt-guest-xml: note: no firmware descriptor in /usr/share/qemu/firmware names /usr/share/edk2/ovmf/OVMF_CODE.fd: the guest names it, as libvirt has none to pick from
EOT

# Sound (item 6): what runs in the user's runtime directory.
r=$(mkroot pw $FW $PARTS/libvirt-10.6 $PARTS/pipewire $PARTS/swtpm)
notes audio-pipewire "$r" -- --name g --memory 8G --vcpus 4 <<'EOT'
virt-guest-xml: note: the guest's sound goes to PipeWire in /run/user/1000: QEMU reaches it only as your user (user = "you" in /etc/libvirt/qemu.conf, or qemu:///session); see virt-guest-xml(1), AUDIO
EOT
grep -q '<audio id="1" type="pipewire" runtimeDir="/run/user/1000"/>' "$T/out" || { echo "FAIL audio-pipewire: XML"; fails=$((fails + 1)); }
r=$(mkroot pulse $FW $PARTS/pulseaudio $PARTS/swtpm)
notes audio-pulseaudio "$r" -- --name g --memory 8G --vcpus 4 <<'EOT'
virt-guest-xml: note: the guest's sound goes to PulseAudio in /run/user/1000: QEMU reaches it only as your user (user = "you" in /etc/libvirt/qemu.conf, or qemu:///session); see virt-guest-xml(1), AUDIO
EOT
grep -q '<audio id="1" type="pulseaudio" serverName="/run/user/1000/pulse/native"/>' "$T/out" || { echo "FAIL audio-pulseaudio: XML"; fails=$((fails + 1)); }
# PipeWire without pipewire-pulse on libvirt 9.0: SPICE, and why.
r=$(mkroot pwonly $FW $PARTS/debian-libvirt-9.0 $PARTS/pipewire $PARTS/swtpm); rm "$r/run/user/1000/pulse/native"
notes audio-pipewire-old "$r" -- --name g --memory 8G --vcpus 4 <<'EOT'
virt-guest-xml: note: PipeWire runs in /run/user/1000, but libvirt 9.0.0 has no PipeWire audio and no PulseAudio socket is there (pipewire-pulse): the guest's sound goes to SPICE
EOT
# No sound server (a headless host, or another user's): SPICE, silently.
XDG_RUNTIME_DIR=/run/user/1001 notes audio-none "$r" -- --name g --memory 8G --vcpus 4 </dev/null
grep -q '<audio id="1" type="spice"/>' "$T/out" || { echo "FAIL audio-none: XML"; fails=$((fails + 1)); }
# patch leaves the sound alone unless asked, and says nothing of it then.
r=$(mkroot pwpatch $FW $PARTS/libvirt-10.6 $PARTS/pipewire $PARTS/swtpm)
"$VGX" patch --root "$r" < "$GOLDEN/virt-install/seed-win10.xml" > "$T/out" 2> "$T/err"
if ! grep -q '<audio' "$T/out" && ! grep -q sound "$T/err"; then echo "ok audio-patch-keeps"; else
    echo "FAIL audio-patch-keeps"; cat "$T/err"; fails=$((fails + 1)); fi
"$VGX" patch --root "$r" --audio auto < "$GOLDEN/virt-install/seed-win10.xml" > "$T/out" 2>/dev/null
grep -q '<audio id="1" type="pipewire" runtimeDir="/run/user/1000"/>' "$T/out" && echo "ok audio-patch-auto" ||
    { echo "FAIL audio-patch-auto"; fails=$((fails + 1)); }

# Under sudo, the caller's runtime directory, not root's.
if [ "$(id -u)" = 0 ]; then
    r=$(mkroot sudo $FW $PARTS/pulseaudio $PARTS/swtpm)
    SUDO_UID=1000 XDG_RUNTIME_DIR=/run/user/0 "$VGX" --root "$r" --name g --memory 8G --vcpus 4 2>/dev/null |
        grep -q 'serverName="/run/user/1000/pulse/native"' && echo "ok audio-sudo" ||
        { echo "FAIL audio-sudo: not the caller's runtime directory"; fails=$((fails + 1)); }
fi

# Looking Glass (item 10): the device and what the host must provide.
r=$(mkroot lg tests/machines/intel-nvidia $FW $PARTS/swtpm)
notes looking-glass-shm "$r" -- --name g --memory 8G --vcpus 4 --hostdev auto --looking-glass=3840x2160 <<'EOT'
virt-guest-xml: note: Looking Glass: 3840x2160 needs 128 MiB on /dev/shm/looking-glass; without kvmfr QEMU makes that file as its own user: create it for yours first (looking_glass = yes in /etc/virt-host-config/virt-host-config.conf does, or f /dev/shm/looking-glass 0660 you kvm - in a tmpfiles.d file)
EOT
grep -q '<size unit="M">128</size>' "$T/out" || { echo "FAIL looking-glass-shm: size"; fails=$((fails + 1)); }
r=$(mkroot lgk tests/machines/intel-nvidia $FW $PARTS/swtpm $PARTS/kvmfr)
notes looking-glass-kvmfr-size "$r" -- --name g --memory 8G --vcpus 4 --hostdev auto --looking-glass=3840x2160 <<'EOT'
virt-guest-xml: warning: Looking Glass: kvmfr is loaded with static_size_mb=64, 3840x2160 needs 128: set 'options kvmfr static_size_mb=128' in a modprobe.d file and reload kvmfr
virt-guest-xml: note: Looking Glass: 3840x2160 needs 128 MiB on /dev/kvmfr0 (kvmfr): libvirt lets QEMU open it only when it is in cgroup_device_acl (/etc/libvirt/qemu.conf)
EOT
r=$(mkroot lgnogpu $FW $PARTS/swtpm)
notes looking-glass-no-gpu "$r" -- --name g --memory 8G --vcpus 4 --looking-glass <<'EOT'
virt-guest-xml: note: Looking Glass: 2560x1440 needs 64 MiB on /dev/shm/looking-glass; without kvmfr QEMU makes that file as its own user: create it for yours first (looking_glass = yes in /etc/virt-host-config/virt-host-config.conf does, or f /dev/shm/looking-glass 0660 you kvm - in a tmpfiles.d file)
virt-guest-xml: note: --looking-glass without --hostdev: the guest has no emulated display, and Looking Glass shows only what a graphics card (or its indirect display driver) draws
EOT

# Resizable BAR (issue 13): the window is set, with a note; a libvirt
# older than 6.5 has no fwcfg sysinfo, and a warning says what to do instead.
r=$(mkroot rebar tests/machines/rtx4090-rebar $FW $PARTS/swtpm)
notes rebar-window "$r" -- --name g --memory 8G --vcpus 4 --hostdev auto <<'EOT'
virt-guest-xml: note: the passed devices' 64-bit BARs take more than the 32 GiB 64-bit MMIO window OVMF gives by default: the guest sets it to 64 GiB (opt/ovmf/X-PciMmio64Mb=65536)
EOT
grep -q '<entry name="opt/ovmf/X-PciMmio64Mb">65536</entry>' "$T/out" && ! grep -q '<smbios' "$T/out" ||
    { echo "FAIL rebar-window: no fwcfg entry, or an <smbios> that would stop the guest"; fails=$((fails + 1)); }
r=$(mkroot rebarold tests/machines/rtx4090-rebar $FW $PARTS/swtpm $PARTS/libvirt-6.0)
notes rebar-old-libvirt "$r" -- --name g --memory 8G --vcpus 4 --hostdev auto <<'EOT'
virt-guest-xml: warning: the passed devices' 64-bit BARs need a 64 GiB 64-bit MMIO window, more than the 32 GiB OVMF gives by default, and libvirt 6.0.0 cannot set it (<sysinfo type="fwcfg"> came with 6.5): turn Resizable BAR off in the host's firmware, or update libvirt
virt-guest-xml: note: libvirt 6.0.0 is older than 7.2 and cannot pick firmware by its features: the guest names /usr/share/edk2/ovmf/OVMF_CODE.fd
EOT
grep -q fwcfg "$T/out" && { echo "FAIL rebar-old-libvirt: fwcfg for libvirt 6.0"; fails=$((fails + 1)); }

# kvmfr installed for the running kernel (DKMS) but not loaded yet: still
# kvmfr. The machine: intel-nvidia's description with the module, by mkmachine.
printf 'include %s/tests/machines/intel-nvidia.machine\nmodule kvmfr extra/kvmfr.ko.xz\n' "$TOP" > "$T/kvmfr.machine"
python3 "$TOP/scripts/mkmachine" "$T/kvmfr.machine" "$T/lgm"
cp -a "$TOP/$FW/." "$T/lgm/"
"$VGX" --root "$T/lgm" --name g --memory 8G --vcpus 4 --hostdev auto --looking-glass > "$T/out" 2>/dev/null
if grep -q 'mem-path&quot;:&quot;/dev/kvmfr0' "$T/out"; then echo "ok looking-glass-module"; else
    echo "FAIL looking-glass-module: kvmfr in /lib/modules not seen"; fails=$((fails + 1)); fi

# patch: with no option it now edits (item 8), and --diff shows the change.
r=$(mkroot patch tests/machines/intel-nvidia)
"$VGX" patch --root "$r" < "$GOLDEN/virt-install/seed-win10.xml" > "$T/p.xml" 2>/dev/null
cmp -s "$T/p.xml" "$GOLDEN/virt-install/seed-win10.xml" && { echo "FAIL patch without options changed nothing"; fails=$((fails + 1)); } || echo "ok patch-no-options"
"$VGX" patch --root "$r" --diff < "$T/p.xml" > "$T/p.diff" 2>/dev/null
[ ! -s "$T/p.diff" ] && echo "ok patch-diff-nothing" || { echo "FAIL patch --diff on its own output is not empty"; cat "$T/p.diff"; fails=$((fails + 1)); }

[ $fails = 0 ]
