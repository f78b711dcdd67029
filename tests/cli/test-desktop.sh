#!/usr/bin/env bash
# The desktop on a card to isolate (issue 15, item 3): check, list and apply
# warn when an isolated device has a connected DRM connector or its
# /dev/dri/cardN is held open (the display server), and say the host display
# on that output goes dark at the reboot.
. "$(dirname "$0")/lib.sh"

r=$(make_root intel-nvidia)
card=$r/sys/bus/pci/devices/0000:01:00.0/drm/card1
# As the kernel shows connectors: cardN-TYPE-M/status.
for c in DP-1 HDMI-A-1 DVI-D-1; do mkdir -p "$card/card1-$c"; echo disconnected > "$card/card1-$c/status"; done
mkdir -p "$r/sys/bus/pci/devices/0000:00:02.0/drm/card0/card0-HDMI-A-2"
echo connected > "$r/sys/bus/pci/devices/0000:00:02.0/drm/card0/card0-HDMI-A-2/status"

quiet() {
    "$VHC" --root "$r" list > "$WORK/out" 2>&1
    grep -q "drives the desktop" "$WORK/out" && fail "$1: list warns" || ok "$1: list does not warn"
    "$VHC" --root "$r" check > "$WORK/out" 2>&1
    grep -q "desktop" "$WORK/out" && fail "$1: check warns" || ok "$1: check does not warn"
}
quiet "monitor on the boot display only"

# A monitor on the GTX 1080's HDMI port.
echo connected > "$card/card1-HDMI-A-1/status"
want="0000:01:00.0 drives the desktop now (HDMI-A-1 connected): the host display on that output goes dark at the reboot"
"$VHC" --root "$r" list > "$WORK/out" 2>&1
grep -qF "warning: $want" "$WORK/out" && ok "connected: list warns" || { fail "connected: list"; cat "$WORK/out" >&2; }
"$VHC" --root "$r" check > "$WORK/out" 2>&1
grep -q "^WARN  0000:01:00.0 desktop" "$WORK/out" && grep -qF "$want" "$WORK/out" \
    && ok "connected: check warns" || { fail "connected: check"; cat "$WORK/out" >&2; }
"$VHC" --root "$r" apply --dry-run > /dev/null 2> "$WORK/err"
grep -qF "warning: $want" "$WORK/err" && ok "connected: apply warns" || { fail "connected: apply"; cat "$WORK/err" >&2; }

# The display server holds /dev/dri/card1, nothing connected.
echo disconnected > "$card/card1-HDMI-A-1/status"
mkdir -p "$r/proc/2101/fd"; echo gnome-shell > "$r/proc/2101/comm"
ln -s /dev/null "$r/proc/2101/fd/0"; ln -s /dev/dri/card1 "$r/proc/2101/fd/17"; ln -s /dev/dri/card0 "$r/proc/2101/fd/18"
"$VHC" --root "$r" list > "$WORK/out" 2>&1
grep -qF "warning: 0000:01:00.0 drives the desktop now (/dev/dri/card1 open in gnome-shell (pid 2101))" "$WORK/out" \
    && ok "held open: list names the process" || { fail "held open: list"; cat "$WORK/out" >&2; }
"$VHC" --root "$r" list --json | python3 -c 'import json,sys; w=json.load(sys.stdin)["warnings"]; assert len(w) == 1 and "gnome-shell" in w[0], w' \
    && ok "held open: list --json" || fail "held open: list --json"
rm -rf "$r/proc/2101"

finish
