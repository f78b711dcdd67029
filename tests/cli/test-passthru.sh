#!/usr/bin/env bash
# Will the card work in a guest (issue 13): the reset, UEFI GOP and BAR lines
# of check and the reset/rom/bars of list --json, each triggered by a fixture
# and absent on a clean one; vendor_reset = yes in apply and revert.
. "$(dirname "$0")/lib.sh"

RULE=etc/udev/rules.d/61-virt-host-config-vfio.rules
conf() { mkdir -p "$1/etc/virt-host-config"; printf '%s\n' "$2" > "$1/etc/virt-host-config/virt-host-config.conf"; }

# ---- vendor_reset = yes: the rules come with apply and go with revert
r=$(make_root rx580-polaris)
snapshot "$r" > "$WORK/before"
conf "$r" "vendor_reset = yes"
cp -a "$r/etc/virt-host-config/virt-host-config.conf" "$WORK/conf"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "apply with vendor_reset = yes"; cat "$WORK/out" >&2; }
if grep -q '^ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:01:00.0", ATTR{vendor}=="0x1002", ATTR{device}=="0x67df", RUN{builtin}+="kmod load vendor-reset"$' "$r/$RULE" &&
   grep -q '^ACTION=="add", SUBSYSTEM=="module", KERNEL=="vendor_reset", ATTR{\[pci/0000:01:00.0\]reset_method}="device_specific"$' "$r/$RULE" &&
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

finish
