#!/usr/bin/env bash
# check's troubleshooting (issue 7), each seen on a machine made to show it
# and absent on a clean one: Haswell HDMI/DP audio with intel_iommu=on, NVIDIA
# HDMI audio in the guest (INFO), a device still on a host driver after the
# reboot (what driver_override tells), an IOMMU group that vfio refuses, and
# the memlock of group kvm against the largest libvirt guest.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/golden/golden.sh"

# results FILE ID [DEVICE]: the statuses check --json gave that check ("absent": none).
results() {
    python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [c for c in doc["checks"] if c["id"] == sys.argv[2] and (len(sys.argv) < 4 or c["device"] == sys.argv[3])]
print(" ".join(c["status"] for c in hits) or "absent")
PY
}

# field FILE ID FIELD [DEVICE]: message or hint of the first such result.
field() {
    python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [c for c in doc["checks"] if c["id"] == sys.argv[2] and (len(sys.argv) < 5 or c["device"] == sys.argv[4])]
print(hits[0][sys.argv[3]] if hits else "")
PY
}

# expect LABEL ROOT ID STATUS [DEVICE]: runs check --json on ROOT into $WORK/c.json.
expect() {
    local label=$1 r=$2 id=$3 want=$4 dev=${5:-} got
    "$VHC" --root "$r" check --json > "$WORK/c.json" 2> "$WORK/c.err"; rc=$?
    got=$(results "$WORK/c.json" "$id" $dev)
    if [ "$got" = "$want" ]; then ok "$label: $id $want"
    else fail "$label: $id is '$got', wanted '$want'"; grep -A5 "\"$id\"" "$WORK/c.json" >&2; fi
    [ ! -s "$WORK/c.err" ] || { fail "$label: check wrote to stderr"; cat "$WORK/c.err" >&2; }
}

# says LABEL ID FIELD TEXT [DEVICE]: the last expect's result holds TEXT in FIELD.
says() {
    local label=$1 id=$2 f=$3 text=$4 dev=${5:-} got
    got=$(field "$WORK/c.json" "$id" "$f" $dev)
    case $got in *"$text"*) ok "$label" ;; *) fail "$label: $f of $id is '$got', wanted '$text' in it" ;; esac
}

# exit_is LABEL CODE: the exit status of the last expect.
exit_is() { [ "$rc" = "$2" ] && ok "$1: exit $2" || fail "$1: exit $rc, wanted $2"; }

# cpu ROOT MODEL NAME: the CPU of ROOT becomes another Intel family 6 model.
cpu() {
    sed -i "s/^model\t\t: .*/model\t\t: $2/; s/^model name\t: .*/model name\t: $3/" "$1/proc/cpuinfo"
}

config() { mkdir -p "$1/etc/virt-host-config"; printf '%s\n' "$2" > "$1/etc/virt-host-config/virt-host-config.conf"; }
apply() { "$VHC" --root "$1" apply > /dev/null 2>&1 || fail "apply on $1"; }

# after_reboot ROOT ARGS...: apply, then the state of the next boot: the
# kernel arguments live, OVMF installed, interrupt remapping on. Drivers are
# left as they were: each test binds what it needs.
after_reboot() {
    local r=$1; shift
    apply "$r"
    booted_with "$r" "$@"
    add_ovmf "$r"
    interrupts_remapped > "$r/proc/interrupts"
}

# ---- Haswell with intel_iommu=on: the integrated GPU's HDMI/DP audio (kernel bug 60769)

r=$(make_root intel-nvidia)
expect "Coffee Lake" "$r" haswell-hdmi-audio absent
cpu "$r" 60 "Intel(R) Core(TM) i7-4790K CPU @ 4.00GHz"
expect "Haswell, before apply" "$r" haswell-hdmi-audio warn
says "it names the model" haswell-hdmi-audio message "i7-4790K CPU @ 4.00GHz (family 6, model 60)"
says "it names the bug" haswell-hdmi-audio message "kernel bug 60769"
says "before apply: the argument apply sets" haswell-hdmi-audio message "intel_iommu=on that 'apply' sets"
says "the fix in one line" haswell-hdmi-audio hint "send the host's sound to another device"
apply "$r"
expect "Haswell, applied" "$r" haswell-hdmi-audio warn
says "applied: set for the next boot" haswell-hdmi-audio message "intel_iommu=on set for the next boot"
booted_with "$r" iommu=pt intel_iommu=on
expect "Haswell, rebooted" "$r" haswell-hdmi-audio warn
says "rebooted: live" haswell-hdmi-audio message "on the running kernel's command line"
# iommu = no takes the argument out of the next boot; the running kernel still has it.
config "$r" 'iommu = no'
apply "$r"
expect "iommu = no, intel_iommu=on still live" "$r" haswell-hdmi-audio warn
sed -i 's/ iommu=pt intel_iommu=on//' "$r/proc/cmdline"
expect "iommu = no, rebooted" "$r" haswell-hdmi-audio absent
# ULT (69) and Crystal Well (70) have the integrated GPU; Haswell-E (63) has none.
for m in 69 70; do
    r=$(make_root intel-nvidia); cpu "$r" $m "Intel(R) Core(TM) i7-4770HQ CPU @ 2.20GHz"
    expect "Haswell model $m" "$r" haswell-hdmi-audio warn
done
r=$(make_root intel-nvidia); cpu "$r" 63 "Intel(R) Core(TM) i7-5960X CPU @ 3.00GHz"
expect "Haswell-E (63): no integrated GPU" "$r" haswell-hdmi-audio absent
# A Haswell whose integrated GPU is off (no Intel display controller): nothing to lose.
r=$(make_root single-gpu); cpu "$r" 60 "Intel(R) Core(TM) i5-4690K CPU @ 3.50GHz"
expect "Haswell, integrated GPU off" "$r" haswell-hdmi-audio absent
r=$(make_root two-amd-identical)
expect "AMD" "$r" haswell-hdmi-audio absent

# ---- NVIDIA HDMI audio passed through: INFO, the MSI hint for the guest

r=$(make_root intel-nvidia)
expect "GTX 1080 HDMI audio isolated" "$r" nvidia-audio-msi info 0000:01:00.1
says "it names the device" nvidia-audio-msi message "NVIDIA HDMI audio (10de:10f0)"
says "the registry value" nvidia-audio-msi hint "MSISupported=1"
says "under the device's key" nvidia-audio-msi hint \
    'Enum\PCI\VEN_10DE&DEV_10F0*\*\Device Parameters\Interrupt Management\MessageSignaledInterruptProperties'
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); i=[c["id"] for c in d["checks"] if c["status"] == "info"]; assert d["info"] == len(i) and i.count("nvidia-audio-msi") == 1, (d["info"], i)' "$WORK/c.json" \
    && ok "--json counts it under info" || fail "--json info count"
expect "the GPU itself" "$r" nvidia-audio-msi absent 0000:01:00.0
# After the reboot everything passes: the INFOs (this one, and the GTX 1080's
# BARs) are no failure and no warning.
after_reboot "$r" iommu=pt intel_iommu=on
bind "$r" 0000:01:00.0 vfio-pci; bind "$r" 0000:01:00.1 vfio-pci
"$VHC" --root "$r" check > "$WORK/out" 2>&1; rc=$?
if [ $rc = 0 ] && ! grep -qE '^(WARN|FAIL)' "$WORK/out" && grep -q '^INFO  0000:01:00.1 HDMI audio' "$WORK/out" \
    && grep -q '^      .*hint: in the Windows guest' "$WORK/out" && tail -n 1 "$WORK/out" | grep -q ', 2 for information$'
then ok "INFO in the text, exit 0"; else fail "INFO in the text: exit $rc"; cat "$WORK/out" >&2; fi
r=$(make_root intel-nvidia); config "$r" 'isolate = none'
expect "isolate = none" "$r" nvidia-audio-msi absent
r=$(make_root two-amd-identical)
expect "AMD HDMI audio" "$r" nvidia-audio-msi absent
r=$(make_root shared-group)
expect "RTX 3070 kept (shared group)" "$r" nvidia-audio-msi absent
"$VHC" --root "$r" check > "$WORK/out" 2>&1
grep -q 'for information' "$WORK/out" && fail "no INFO: the summary names it anyway" || ok "no INFO: the summary leaves it out"

# ---- after the reboot, a device of an isolated slot still on a host driver

r=$(make_root rtx2070-4fn)
after_reboot "$r" iommu=pt intel_iommu=on
for f in 0 1 2 3; do bind "$r" 0000:01:00.$f vfio-pci; done
expect "all four on vfio-pci" "$r" vfio-binding "pass pass pass pass"
exit_is "all four on vfio-pci" 0
# Fedora builds xhci_pci in: xhci_hcd has the USB function before any rule runs.
bind "$r" 0000:01:00.2 xhci_hcd
expect "xhci_hcd kept it, no override" "$r" vfio-binding warn 0000:01:00.2
exit_is "a warning only" 0
says "the driver, built in" vfio-binding message "bound to xhci_hcd (built into the kernel)" 0000:01:00.2
says "the rule did not run" vfio-binding message "driver_override is unset" 0000:01:00.2
says "driverctl moves it now" vfio-binding hint "'driverctl set-override 0000:01:00.2 vfio-pci' moves it now" 0000:01:00.2
says "or the initramfs" vfio-binding hint "dracut -f" 0000:01:00.2
expect "the others are fine" "$r" vfio-binding pass 0000:01:00.0
expect "no second report for the same device" "$r" iommu-groups pass
echo vfio-pci > "$r/sys/bus/pci/devices/0000:01:00.2/driver_override"
expect "xhci_hcd kept it, override set" "$r" vfio-binding warn 0000:01:00.2
says "the override was set" vfio-binding message "driver_override says vfio-pci: the driver took it before any rule ran" 0000:01:00.2
says "driverctl" vfio-binding hint "'driverctl set-override 0000:01:00.2 vfio-pci' moves it now and at every boot" 0000:01:00.2
# A driver whose module has another name.
bind "$r" 0000:01:00.3 nvidia-gpu
expect "nvidia-gpu" "$r" vfio-binding warn 0000:01:00.3
says "the module named" vfio-binding message "bound to nvidia-gpu (module i2c_nvidia_gpu)" 0000:01:00.3
# No driver though the override names vfio-pci, which has the other functions: it refused this one.
bind "$r" 0000:01:00.3 -; echo vfio-pci > "$r/sys/bus/pci/devices/0000:01:00.3/driver_override"
expect "no driver, vfio-pci loaded" "$r" vfio-binding warn 0000:01:00.3
says "vfio-pci refused it" vfio-binding message "vfio-pci is loaded: it refused the device" 0000:01:00.3
# Another tool gave the audio function back to the host.
echo snd_hda_intel > "$r/sys/bus/pci/devices/0000:01:00.1/driver_override"; bind "$r" 0000:01:00.1 snd_hda_intel
expect "override by another tool" "$r" vfio-binding warn 0000:01:00.1
says "whose override" vfio-binding message "driver_override says snd_hda_intel, set by another tool" 0000:01:00.1
says "how to hand it back" vfio-binding hint "'driverctl unset-override 0000:01:00.1'" 0000:01:00.1
# Nothing on vfio-pci, the override set, no driver: the module never loaded.
r=$(make_root rtx2070-4fn)
after_reboot "$r" iommu=pt intel_iommu=on
for f in 0 1 2 3; do bind "$r" 0000:01:00.$f -; echo vfio-pci > "$r/sys/bus/pci/devices/0000:01:00.$f/driver_override"; done
expect "vfio-pci not loaded" "$r" vfio-binding "warn warn warn warn"
says "the module did not load" vfio-binding message "the vfio-pci module did not load" 0000:01:00.0
says "modprobe" vfio-binding hint "'modprobe vfio-pci' binds it now" 0000:01:00.0

# ---- an IOMMU group vfio refuses: a device of another slot on a host driver

r=$(make_root shared-group)
after_reboot "$r" iommu=pt intel_iommu=on
expect "shared group, the card on nouveau" "$r" iommu-groups warn 0000:01:00.0
exit_is "shared group, not isolated: a warning" 0
says "not isolated, the NIC named" iommu-groups message "0000:02:00.0" 0000:01:00.0
# The card on vfio-pci anyway (an apply made before the groups were known, or
# driverctl): vfio refuses the group while igb has the NIC.
bind "$r" 0000:01:00.0 vfio-pci; bind "$r" 0000:01:00.1 vfio-pci
expect "the card on vfio-pci, the NIC on igb" "$r" iommu-groups fail 0000:01:00.0
exit_is "group not viable" 1
says "not viable" iommu-groups message "IOMMU group 1 is not viable" 0000:01:00.0
says "the NIC and its driver" iommu-groups message "0000:02:00.0 (igb)" 0000:01:00.0
says "the fix" iommu-groups hint "'driverctl set-override 0000:02:00.0 vfio-pci'" 0000:01:00.0
expect "one result for the group" "$r" iommu-groups fail
bind "$r" 0000:02:00.0 -
expect "the NIC on no driver: viable" "$r" iommu-groups warn
bind "$r" 0000:02:00.0 pci-stub
expect "the NIC on pci-stub: viable" "$r" iommu-groups warn
# The PEG root port shares group 1 on intel-nvidia: a bridge, on pcieport, is no obstacle.
r=$(make_root intel-nvidia)
after_reboot "$r" iommu=pt intel_iommu=on
bind "$r" 0000:01:00.0 vfio-pci; bind "$r" 0000:01:00.1 vfio-pci
expect "a bridge in the group" "$r" iommu-groups pass

# ---- memlock of group kvm against the largest defined guest

# guest ROOT NAME MEMORY-ELEMENT: a domain as libvirt keeps it in /etc/libvirt/qemu,
# made of virt-guest-xml's win10 golden output.
guest() {
    local q=$1/etc/libvirt/qemu
    mkdir -p "$q/autostart" "$q/networks"
    {
        printf '<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n'
        printf 'OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n'
        printf '  virsh edit %s\nor other application using the libvirt API.\n-->\n\n' "$2"
        sed -e "s|<name>win10</name>|<name>$2</name>|" -e "s|<memory unit=\"KiB\">8388608</memory>|$3|" \
            "$TOP/tests/golden/guest/win10-basic.xml"
    } > "$q/$2.xml"
}

r=$(make_root intel-nvidia)
expect "no libvirt guests" "$r" memlock-guests absent
guest "$r" win10 "<memory unit='KiB'>16777216</memory>"
printf '<network>\n  <name>default</name>\n</network>\n' > "$r/etc/libvirt/qemu/networks/default.xml"
expect "a 16 GiB guest, no memlock line" "$r" memlock-guests warn
says "it names the guest" memlock-guests message "guest 'win10' has 16 GiB of RAM"
says "and the limit" memlock-guests message "the 8 MiB @kvm may lock"
says "apply fixes it" memlock-guests hint "run 'virt-host-config apply'"
apply "$r"
expect "after apply (31 GiB, the RAM)" "$r" memlock-guests pass
says "the largest guest named" memlock-guests message "the largest guest, 'win10', has 16 GiB"
guest "$r" big "<memory unit='GiB'>48</memory>"
expect "a 48 GiB guest on a 31 GiB host" "$r" memlock-guests warn
says "the larger guest named" memlock-guests message "guest 'big' has 48 GiB of RAM"
says "a size to set" memlock-guests hint "set memlock = 49G (or unlimited) in the config"
config "$r" 'memlock = 49G'
apply "$r"
expect "memlock = 49G" "$r" memlock-guests pass
# What libvirt would not load is no guest to plan for.
printf '<domain type="kvm"><name>torn</name><memory>999999999999' > "$r/etc/libvirt/qemu/torn.xml"
expect "a torn file is left out" "$r" memlock-guests pass

# ---- the manual lists every check, by the id --json gives it

ids_c=$(sed -n '/^} checks\[\] = {$/,/^};$/s/^ *{"\([a-z-]*\)", check_[a-z_]*},$/\1/p' "$TOP/src/lib/check.c")
ids_man=$(sed -n '/^# CHECKS$/,/^# /s/^\*\([a-z-]*\)\*$/\1/p' "$TOP/docs/virt-host-config.8.scd")
[ -n "$ids_c" ] && [ "$ids_c" = "$ids_man" ] && ok "CHECKS in virt-host-config(8) lists every check, in order" \
    || fail "CHECKS in virt-host-config(8): $(diff <(echo "$ids_c") <(echo "$ids_man") | tr '\n' ' ')"
finish
