#!/usr/bin/env bash
# The generated udev rule, run through udev itself (tests/udev-rule-check:
# udevadm test on a copy of the machine's /sys): with virt-host-config-host's
# file in /usr it reserves exactly the isolated devices (driver_override,
# probe, unbind of the driver that took them); without it (the package gone
# and no %preun run: rpm-ostree uninstall, rpm -e --noscripts) it matches no
# device at all. Also: every rule line tests the file, and both initramfs
# drop-ins carry it into the initramfs.
. "$(dirname "$0")/lib.sh"

MARKER=/usr/lib/virt-host-config/host-installed
CHECK=$TOP/tests/udev-rule-check
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
command -v udevadm > /dev/null || { echo "SKIP: no udevadm (apt-get install udev)"; exit 77; }

installed() { mkdir -p "$1${MARKER%/*}"; : > "$1$MARKER"; }

for m in intel-nvidia two-amd-identical rtx2070-4fn; do
    r=$(make_root "$m")
    "$VHC" --root "$r" apply > /dev/null 2> "$WORK/err" || { fail "$m: apply"; cat "$WORK/err" >&2; continue; }
    rule=$r/etc/udev/rules.d/61-virt-host-config-vfio.rules
    isolated=$("$VHC" --root "$r" list --json |
        python3 -c 'import json,sys; print(" ".join(d["address"] for d in json.load(sys.stdin)["devices"] if d["action"] == "isolate"))')

    # Every rule (a line that is not a comment) tests the file.
    if grep -v '^#' "$rule" | grep -v '^$' | grep -v -F "TEST==\"$MARKER\"" > "$WORK/untested"; then
        fail "$m: rule lines without TEST==\"$MARKER\""; cat "$WORK/untested" >&2
    else ok "$m: every rule line tests $MARKER"; fi

    # The package gone: nothing at all.
    "$CHECK" "$r" > "$WORK/gone"
    if [ -s "$WORK/gone" ]; then fail "$m: without $MARKER udev still acts"; cat "$WORK/gone" >&2
    else ok "$m: without $MARKER the rule matches no device"; fi

    # Installed: driver_override and a probe for each isolated device, nothing for the rest.
    installed "$r"
    "$CHECK" "$r" > "$WORK/on"
    grep RULES "$WORK/on" >&2 && fail "$m: udev complains about the rule"
    want=$(for a in $isolated; do echo "$a"; done | sort)
    got=$(grep -F '/driver_override=vfio-pci' "$WORK/on" | cut -d' ' -f1 | sort)
    touched=$(cut -d' ' -f1 "$WORK/on" | sort -u)
    if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$touched" = "$want" ]; then
        ok "$m: with $MARKER udev sets driver_override on exactly: $(echo $want)"
    else
        fail "$m: with $MARKER: want override on '$(echo $want)', got '$(echo $got)', touched '$(echo $touched)'"
        cat "$WORK/on" >&2
    fi
    # A device that a host driver holds is unbound and probed again.
    for a in $isolated; do
        [ -L "$r/sys/bus/pci/devices/$a/driver" ] || continue
        [ "$(basename "$(readlink "$r/sys/bus/pci/devices/$a/driver")")" = vfio-pci ] && continue
        if grep -q -F "$a ATTR /sys/devices/" "$WORK/on" && grep -q -F "$a/driver/unbind=$a" "$WORK/on"; then
            ok "$m: $a is unbound from its host driver"
        else fail "$m: $a is not unbound from its host driver"; fi
    done
done

# vendor_reset = yes: its rules test the file too.
r=$(make_root rx580-polaris)
mkdir -p "$r/etc/virt-host-config"
printf 'vendor_reset = yes\n' > "$r/etc/virt-host-config/virt-host-config.conf"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "rx580-polaris: apply with vendor_reset"
if grep -q vendor_reset "$r/etc/udev/rules.d/61-virt-host-config-vfio.rules" &&
    ! grep -v '^#' "$r/etc/udev/rules.d/61-virt-host-config-vfio.rules" | grep -v '^$' | grep -q -v -F "TEST==\"$MARKER\""; then
    ok "rx580-polaris: the vendor-reset rules test $MARKER"
else fail "rx580-polaris: a vendor-reset rule does not test $MARKER"; fi
"$CHECK" "$r" > "$WORK/gone"
[ -s "$WORK/gone" ] && { fail "rx580-polaris: without $MARKER udev still acts"; cat "$WORK/gone" >&2; }

# The initramfs: dracut takes the file if it is there (optional: a build
# after the package went must not fail), initramfs-tools copies it if there.
r=$(make_root intel-nvidia)
"$VHC" --root "$r" apply > /dev/null 2>&1
if grep -q -x "install_optional_items+=\" $MARKER \"" "$r/etc/dracut.conf.d/virt-host-config.conf"; then
    ok "dracut: $MARKER in install_optional_items"
else fail "dracut: $MARKER not in install_optional_items"; cat "$r/etc/dracut.conf.d/virt-host-config.conf" >&2; fi

finish
