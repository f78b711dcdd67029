#!/usr/bin/env bash
# Will the card work in a guest (issue 13): the reset, UEFI GOP and BAR lines
# of check and the reset/rom/bars of list --json, each triggered by a fixture
# and absent on a clean one; vendor_reset = yes in apply and revert.
. "$(dirname "$0")/lib.sh"

. "$TOP/tests/golden/golden.sh"

RULE=etc/udev/rules.d/61-virt-host-config-vfio.rules
DEV=sys/bus/pci/devices

# field FILE ID DEVICE KEY: that key of the check --json gave that check.
field() {
    python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [c for c in doc["checks"] if c["id"] == sys.argv[2] and c["device"] == sys.argv[3]]
print(" ".join(str(c[sys.argv[4]]) for c in hits) or "absent")
PY
}

# expect LABEL ROOT ID DEVICE STATUS [TEXT]: check --json on ROOT gives the
# device that status, and TEXT in its message or hint.
expect() {
    local label=$1 r=$2 id=$3 dev=$4 want=$5 text=${6:-} got
    "$VHC" --root "$r" check --json > "$WORK/c.json" 2> "$WORK/c.err"
    got=$(field "$WORK/c.json" "$id" "$dev" status)
    if [ "$got" != "$want" ]; then
        fail "$label: $id $dev is '$got', wanted '$want'"; cat "$WORK/c.err" >&2
        grep -A5 "\"$id\"" "$WORK/c.json" >&2; return
    fi
    { field "$WORK/c.json" "$id" "$dev" message; field "$WORK/c.json" "$id" "$dev" hint; } > "$WORK/c.text"
    if [ -n "$text" ] && ! grep -qF -- "$text" "$WORK/c.text"; then
        fail "$label: $id $dev: no '$text'"; grep -A5 "\"$id\"" "$WORK/c.json" >&2; return
    fi
    ok "$label: $id $dev $want"
}
conf() { mkdir -p "$1/etc/virt-host-config"; printf '%s\n' "$2" > "$1/etc/virt-host-config/virt-host-config.conf"; }

# ---- vendor_reset = yes: the rules come with apply and go with revert
r=$(make_root rx580-polaris)
snapshot "$r" > "$WORK/before"
conf "$r" "vendor_reset = yes"
cp -a "$r/etc/virt-host-config/virt-host-config.conf" "$WORK/conf"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "apply with vendor_reset = yes"; cat "$WORK/out" >&2; }
if grep -q '^ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:01:00.0", ATTR{vendor}=="0x1002", ATTR{device}=="0x67df", TEST=="/usr/lib/virt-host-config/host-installed", RUN{builtin}+="kmod load vendor-reset"$' "$r/$RULE" &&
   grep -q '^ACTION=="add", SUBSYSTEM=="module", KERNEL=="vendor_reset", TEST=="/usr/lib/virt-host-config/host-installed", ATTR{\[pci/0000:01:00.0\]reset_method}="device_specific"$' "$r/$RULE" &&
   ! grep -q 'pci/0000:01:00.1' "$r/$RULE"; then
    ok "vendor_reset = yes: the RX 580 (not its audio) gets vendor-reset and device_specific"
else fail "vendor_reset = yes: rules"; cat "$r/$RULE" >&2; fi
"$VHC" --root "$r" apply > "$WORK/out2" 2>&1
grep -qx 'nothing to do: the system matches the config' "$WORK/out2" && ok "a second apply changes nothing" \
    || { fail "a second apply changed something"; cat "$WORK/out2" >&2; }
conf "$r" "vendor_reset = no"
"$VHC" --root "$r" apply > /dev/null 2>&1
grep -q 'vendor-reset' "$r/$RULE" && fail "vendor_reset = no: the rules stayed" || ok "vendor_reset = no: the rules go"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "revert"
rm -f "$r/etc/virt-host-config/virt-host-config.conf"; rmdir "$r/etc/virt-host-config" 2>/dev/null
snapshot "$r" > "$WORK/after"
expect_same "apply, vendor_reset on and off, revert: every file as before" "$WORK/before" "$WORK/after"

# A card vendor-reset does not know gets nothing from the key.
r=$(make_root rtx4090-rebar)
conf "$r" "vendor_reset = yes"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "apply on rtx4090-rebar"
grep -q 'vendor-reset' "$r/$RULE" && fail "vendor_reset = yes: rules for an RTX 4090" || ok "vendor_reset = yes: nothing for an RTX 4090"

# ---- device-reset
r=$(make_root rx580-polaris)
expect "Polaris, vendor-reset not loaded" "$r" device-reset 0000:01:00.0 warn "AMD Polaris 10 (RX 470, 480, 570, 580, 590)"
expect "Polaris: the hint" "$r" device-reset 0000:01:00.0 warn "set vendor_reset = yes in /etc/virt-host-config/virt-host-config.conf"
expect "Polaris's HDMI audio: the bus reset" "$r" device-reset 0000:01:00.1 pass "vfio-pci resets bus 01 through 0000:00:01.0"
conf "$r" "vendor_reset = yes"
expect "Polaris, the key set, not applied" "$r" device-reset 0000:01:00.0 warn "run 'virt-host-config apply', then reboot"
# After the reboot with the rule: vendor-reset loaded, reset_method rewritten.
mkdir -p "$r/sys/module/vendor_reset"; echo device_specific > "$r/$DEV/0000:01:00.0/reset_method"
expect "Polaris, vendor-reset's reset" "$r" device-reset 0000:01:00.0 pass "vendor-reset's device-specific reset (AMD Polaris 10)"
rmdir "$r/sys/module/vendor_reset"
expect "device_specific without the module" "$r" device-reset 0000:01:00.0 warn "vendor-reset is installed, not loaded"

# A Polaris card where vendor-reset is not installed (an RTX 4090 machine with the IDs changed).
r=$(make_root rtx4090-rebar)
printf '0x1002\n' > "$r/$DEV/0000:01:00.0/vendor"; printf '0x67df\n' > "$r/$DEV/0000:01:00.0/device"
# Its HDMI audio too: the slot rule takes only functions of the card's vendor.
printf '0x1002\n' > "$r/$DEV/0000:01:00.1/vendor"; printf '0xaaf0\n' > "$r/$DEV/0000:01:00.1/device"
expect "Polaris, vendor-reset not installed" "$r" device-reset 0000:01:00.0 warn "install vendor-reset (https://github.com/gnif/vendor-reset"

r=$(make_root rtx4090-rebar)
expect "RTX 4090: FLR" "$r" device-reset 0000:01:00.0 pass "FLR resets the function alone (reset_method: flr bus)"
expect "RTX 4090 audio: FLR" "$r" device-reset 0000:01:00.1 pass "FLR resets the function alone (reset_method: flr)"
printf '\n' > "$r/$DEV/0000:01:00.0/reset_method"
expect "resets turned off" "$r" device-reset 0000:01:00.0 warn "echo default > /sys/bus/pci/devices/0000:01:00.0/reset_method"
# Before Linux 5.15 there is no reset_method: the config space's FLR bit tells.
rm "$r/$DEV/0000:01:00.0/reset_method"
expect "no reset_method, DevCap FLR" "$r" device-reset 0000:01:00.0 pass "FLR (PCIe DevCap) resets the function alone"
# A device on the root bus has no bridge above it to reset it through.
conf "$r" "isolate = 0000:00:17.0"
expect "a root-bus device without a reset" "$r" device-reset 0000:00:17.0 warn "on a root bus there is no bridge"
expect "...no ROM line for a SATA controller" "$r" uefi-gop 0000:00:17.0 absent
expect "...nor a BAR line without 64-bit BARs" "$r" bar-size 0000:00:17.0 absent

r=$(make_root intel-nvidia)
expect "GTX 1080 (no FLR): its bus" "$r" device-reset 0000:01:00.0 pass "no reset of its own (reset_method: bus)"
expect "GTX 1080 audio: its bus" "$r" device-reset 0000:01:00.1 pass "vfio-pci resets bus 01 through 0000:00:01.0"

# ---- uefi-gop
expect "GTX 1080 on nouveau: not read" "$r" uefi-gop 0000:01:00.0 info "ROM not readable now: nouveau has the device"
expect "...and no line for its audio" "$r" uefi-gop 0000:01:00.1 absent
bind "$r" 0000:01:00.0 vfio-pci
expect "GTX 1080 on vfio-pci" "$r" uefi-gop 0000:01:00.0 pass "EFI x86-64 image in ROM (image 2 of 2, at 0x8000)"
# vfio-pci enables the device when QEMU opens it: while a guest runs, the ROM is left alone.
echo 1 > "$r/$DEV/0000:01:00.0/enable"
expect "GTX 1080 on vfio-pci, in a guest" "$r" uefi-gop 0000:01:00.0 info "vfio-pci has the device open (a guest is using it)"
bind "$r" 0000:01:00.0 -
expect "GTX 1080 on no driver" "$r" uefi-gop 0000:01:00.0 pass "EFI x86-64 image in ROM"
rm "$r/$DEV/0000:01:00.0/rom"
expect "no rom file" "$r" uefi-gop 0000:01:00.0 info "the kernel shows no rom file"
head -c 4096 /dev/zero | tr '\0' '\377' > "$r/$DEV/0000:01:00.0/rom"
expect "a ROM that reads ff" "$r" uefi-gop 0000:01:00.0 info "ROM not readable now: at 0x0: starts with ff ff"
rm "$r/$DEV/0000:01:00.0/rom"; mkfifo "$r/$DEV/0000:01:00.0/rom"
expect "a card that does not answer" "$r" uefi-gop 0000:01:00.0 info "the device sent no ROM within 2000 ms"

r=$(make_root rx580-polaris)
expect "RX 580, legacy BIOS only" "$r" uefi-gop 0000:01:00.0 warn "no UEFI image: OVMF shows nothing until the guest driver loads"
expect "...the remedy" "$r" uefi-gop 0000:01:00.0 warn "'virt-guest-xml --rom 0000:01:00.0=FILE'"
r=$(make_root rtx4090-rebar)
expect "RTX 4090: x86 and EFI" "$r" uefi-gop 0000:01:00.0 pass "EFI x86-64 image in ROM"

# ---- bar-size
expect "RTX 4090 with ReBAR: 32 GiB" "$r" bar-size 0000:01:00.0 warn "largest 64-bit BAR: BAR 1, 32 GiB (Resizable BAR: 64 MiB to 32 GiB)"
expect "...the window and where it comes from" "$r" bar-size 0000:01:00.0 warn "needs a 64 GiB 64-bit MMIO window, more than the 32 GiB OVMF gives by default (PcdPciMmio64Size"
expect "...what edk2-stable202211 gives here" "$r" bar-size 0000:01:00.0 warn "edk2-stable202211 and later give 64 GiB on this CPU"
expect "...the fix" "$r" bar-size 0000:01:00.0 warn "opt/ovmf/X-PciMmio64Mb=65536"
expect "...not for its audio (no 64-bit BAR)" "$r" bar-size 0000:01:00.1 absent
r=$(make_root rx580-polaris)
expect "RX 580 with ReBAR at 256 MiB" "$r" bar-size 0000:01:00.0 info "BAR 0, 256 MiB (Resizable BAR: 256 MiB to 8 GiB); its 64-bit BARs take 258 MiB"
r=$(make_root intel-nvidia)
expect "GTX 1080" "$r" bar-size 0000:01:00.0 info "largest 64-bit BAR: BAR 1, 256 MiB; its 64-bit BARs take 288 MiB"

# ---- list --json: reset, rom, bars
# jq-like: prints what the Python expression E gives for the device A of list --json.
listed() {
    "$VHC" --root "$1" list --json > "$WORK/l.json" || { echo "list failed"; return; }
    python3 - "$WORK/l.json" "$2" "$3" <<'PY'
import json, sys
d = {x["address"]: x for x in json.load(open(sys.argv[1]))["devices"]}[sys.argv[2]]
print(json.dumps(eval(sys.argv[3], {"d": d}), sort_keys=True))
PY
}
expect_listed() { # LABEL ROOT ADDRESS EXPR WANT
    local got
    got=$(listed "$2" "$3" "$4")
    [ "$got" = "$5" ] && ok "list --json: $1" || fail "list --json: $1: $4 is $got, wanted $5"
}
r=$(make_root rx580-polaris)
expect_listed "the RX 580's reset" "$r" 0000:01:00.0 'd["reset"]' '{"flr": false, "methods": ["bus"], "reset_bug": "AMD Polaris 10"}'
expect_listed "its audio: no reset_method" "$r" 0000:01:00.1 'd["reset"]["methods"]' 'null'
expect_listed "its ROM: x86 only" "$r" 0000:01:00.0 '[d["rom"]["efi_x86_64"], [i["type"] for i in d["rom"]["images"]]]' '[false, ["x86"]]'
expect_listed "its BAR 0: 256 MiB of 256 MiB-8 GiB" "$r" 0000:01:00.0 '[d["bars"][0]["size"], d["bars"][0]["resizable"]["sizes"][-1]]' '[268435456, 8589934592]'
expect_listed "a device kept: no ROM read" "$r" 0000:00:02.0 'd["rom"]' 'null'
r=$(make_root rtx4090-rebar)
expect_listed "the RTX 4090's EFI image" "$r" 0000:01:00.0 '[i.get("efi_machine") for i in d["rom"]["images"]]' '[null, "x86-64"]'
expect_listed "its BAR 1" "$r" 0000:01:00.0 '[b for b in d["bars"] if b["index"] == 1][0]["size"]' '34359738368'
r=$(make_root intel-nvidia)
expect_listed "the GTX 1080 on nouveau: not read" "$r" 0000:01:00.0 'd["rom"]' '{"read": false, "why": "nouveau has the device; it is read once vfio-pci has it"}'

finish
