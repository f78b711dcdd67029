#!/usr/bin/env bash
# Bad input: one line on stderr naming the file (and line), exit 1 (2 for
# usage errors), and not one file of the machine changed.
. "$(dirname "$0")/lib.sh"
m=intel-nvidia

# expect_error LABEL EXIT PATTERN ROOT CMD...: runs CMD, checks exit, that
# stderr is one line matching PATTERN, and that the root is unchanged but
# for the failed outcome record an apply or revert writes (exit 1 only).
expect_error() {
    local label=$1 want=$2 pat=$3 root=$4; shift 4
    snapshot "$root" > "$WORK/before"
    "$@" > "$WORK/out" 2> "$WORK/err"
    local rc=$?
    snapshot "$root" > "$WORK/after"
    [ "$rc" = "$want" ] || fail "$label: exit $rc, wanted $want"
    [ "$(wc -l < "$WORK/err")" = 1 ] || { fail "$label: stderr is not one line:"; cat "$WORK/err" >&2; }
    grep -Eq -- "$pat" "$WORK/err" || { fail "$label: stderr does not match '$pat':"; cat "$WORK/err" >&2; }
    [ ! -s "$WORK/out" ] || [ "$want" = 2 ] || { fail "$label: wrote to stdout:"; cat "$WORK/out" >&2; }
    # (A --root that does not exist has nowhere to record it.)
    if [ "$want" = 1 ] && records_outcome "$@" && [[ " $* " != *" --root /nonexistent "* ]]; then
        grep -q '"result": "failed"' "$root/$LAST_RUN" 2>/dev/null || fail "$label: no failed outcome recorded"
        drop_record "$WORK/before" "$WORK/after" > "$WORK/after.kept"; mv "$WORK/after.kept" "$WORK/after"
        drop_record "$WORK/before" "$WORK/before" > "$WORK/before.kept"; mv "$WORK/before.kept" "$WORK/before"
    fi
    if diff -u "$WORK/before" "$WORK/after" > "$WORK/diff"; then ok "$label"; else fail "$label: files changed"; cat "$WORK/diff" >&2; fi
}

as_nobody() {
    if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; else "$@"; fi
}

g=etc/default/grub
r=$(make_root $m); sed -i 's/^GRUB_CMDLINE_LINUX="/GRUB_CMDLINE_LINUX="rd.lvm.lv=x /; s/^\(GRUB_CMDLINE_LINUX=.*\)"$/\1/' "$r/$g"
expect_error "unbalanced double quote" 1 "$r/$g:[0-9]+: .*unbalanced double quote" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); printf "GRUB_CMDLINE_LINUX='quiet\n" >> "$r/$g"
expect_error "unbalanced single quote" 1 "$r/$g:[0-9]+: .*unbalanced single quote" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); { printf 'GRUB_CMDLINE_LINUX="'; head -c 65536 /dev/zero | tr '\0' a; printf '"\n'; } >> "$r/$g"
expect_error "a 64 KiB line" 1 "$r/$g:[0-9]+: line longer than" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); printf 'GRUB_TIMEOUT=5\0\n' >> "$r/$g"
expect_error "a NUL byte" 1 "$r/$g:[0-9]+: NUL byte" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); printf 'GRUB_CMDLINE_LINUX="$(cat /proc/cmdline)"\n' >> "$r/$g"
expect_error "command substitution" 1 "$r/$g:[0-9]+: cannot read GRUB_CMDLINE_LINUX safely: it uses command substitution" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); printf 'GRUB_CMDLINE_LINUX="$FOO quiet"\n' >> "$r/$g"
expect_error "another variable" 1 "$r/$g:[0-9]+: cannot read GRUB_CMDLINE_LINUX safely" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); rm "$r/$g"; ln -s ../nowhere/grub "$r/$g"
expect_error "a dangling symlink" 1 "$r/$g: is a dangling symlink" "$r" "$VHC" --root "$r" apply

r=$(make_root $m); chmod 755 "$r"; chmod -R a+rX "$r"; mkdir -p "$r/var/lib"; chmod -R 777 "$r/var"; chmod 000 "$r/$g"
expect_error "an unreadable file" 1 "$r/$g: cannot read: Permission denied" "$r" as_nobody "$VHC" --root "$r" apply

r=$(make_root $m); chmod 755 "$r"; chmod -R a+rX "$r"; mkdir -p "$r/var/lib"; chmod -R 777 "$r/var"; chmod -R a+w "$r/etc"; chmod 555 "$r/etc/default"
expect_error "a read-only directory" 1 "$r/$g: cannot write: Permission denied" "$r" as_nobody "$VHC" --root "$r" apply

r=$(make_root $m); mkdir -p "$r/etc/virt-host-config"; printf '# mine\niommu = yes\ncolour = blue\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "an unknown config key" 1 "$r/etc/virt-host-config/virt-host-config.conf:3: unknown key 'colour'" "$r" "$VHC" --root "$r" apply
printf 'iommu = maybe\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a bad yes/no" 1 "virt-host-config.conf:1: iommu: 'maybe' is not yes or no" "$r" "$VHC" --root "$r" apply
printf 'vendor_reset = auto\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a bad vendor_reset" 1 "virt-host-config.conf:1: vendor_reset: 'auto' is not yes or no" "$r" "$VHC" --root "$r" apply
printf '\n\nmemlock = lots\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a bad size" 1 "virt-host-config.conf:3: memlock: 'lots'" "$r" "$VHC" --root "$r" apply
printf 'isolate = 0000:zz:00.0\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a bad PCI address" 1 "virt-host-config.conf:1: isolate: '0000:zz:00.0' is not" "$r" "$VHC" --root "$r" apply
printf 'no equals sign here\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a line without =" 1 "virt-host-config.conf:1: expected 'key = value'" "$r" "$VHC" --root "$r" apply
printf '[main]\niommu = yes\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a section" 1 "virt-host-config.conf:2: sections" "$r" "$VHC" --root "$r" apply
# inih takes an indented line as a continuation of the value above: refused.
printf 'isolate = 0000:01:00.0\n  0000:02:00.0\n' > "$r/etc/virt-host-config/virt-host-config.conf"
expect_error "a continuation line" 1 "virt-host-config.conf:2: an indented line" "$r" "$VHC" --root "$r" apply
printf 'iommu = yes\n\t# an indented comment\n   \nmemlock = auto\n' > "$r/etc/virt-host-config/virt-host-config.conf"
"$VHC" --root "$r" apply --dry-run > /dev/null 2>&1 && ok "indented comments and blank lines are no continuation" ||
    fail "an indented comment refused"

r=$(make_root $m); boot=$(cd "$r/sys/bus/pci/devices" && for d in *; do [ "$(cat "$d/boot_vga" 2>/dev/null)" = 1 ] && echo "$d"; done | head -n 1)
printf 'isolate = %s\n' "$boot" > "$WORK/conf"
expect_error "the boot VGA listed" 1 "$boot.*boot VGA" "$r" "$VHC" --root "$r" --config "$WORK/conf" apply
printf 'isolate = 0000:7f:1f.7\n' > "$WORK/conf"
expect_error "a device that does not exist" 1 "0000:7f:1f.7: no such PCI device" "$r" "$VHC" --root "$r" --config "$WORK/conf" apply

r=$(make_root $m); "$VHC" --root "$r" apply > /dev/null; echo '{"version": 1, "kernel_args": [' > "$r/var/lib/virt-host-config/state.json"
expect_error "a broken state record" 1 "state.json: not a state record" "$r" "$VHC" --root "$r" revert

r=$(make_root $m)
expect_error "an unknown option" 2 "unknown option '--frobnicate'" "$r" "$VHC" --root "$r" apply --frobnicate
expect_error "an unknown command" 2 "unknown command 'frobnicate'" "$r" "$VHC" --root "$r" frobnicate
expect_error "no command" 2 "no command given" "$r" "$VHC" --root "$r"
expect_error "--dry-run with status" 2 "--dry-run does not go with 'status'" "$r" "$VHC" --root "$r" status --dry-run
expect_error "a missing option argument" 2 "needs an argument" "$r" "$VHC" apply --root
expect_error "a missing --root" 1 "--root /nonexistent" "$r" "$VHC" --root /nonexistent apply


# Issue 16, item 12: a driver link whose name is no module name (shell
# characters) names the device and what to check, not "Invalid argument".
r=$(make_root $m); d=$r/sys/bus/pci/devices/0000:01:00.0
mkdir -p "$r/sys/bus/pci/drivers/nv;touch x"
ln -sfn "../../../../bus/pci/drivers/nv;touch x" "$(realpath "$d")/driver"
expect_error "driver link with shell characters" 1 "^virt-host-config: 0000:01:00.0: its driver link \(/sys/bus/pci/devices/0000:01:00.0/driver\) names 'nv;touch x', which is no kernel module name .*: check that /sys/bus/pci/devices is the kernel's sysfs$" "$r" "$VHC" --root "$r" apply
finish
