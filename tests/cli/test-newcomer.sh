#!/usr/bin/env bash
# What a new user meets first (issue 15, items 4, 6, 7, 8): a mistyped
# --config is an error in both programs, apply without root says so before
# reading anything, revert's messages say revert, and colour follows
# NO_COLOR (non-empty) and TERM=dumb.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/golden/golden.sh"
: "${VGX:=$BUILDDIR/virt-guest-xml}"

# --- 4: --config FILE that does not exist ---------------------------------
r=$(make_root intel-nvidia)
snapshot "$r" > "$WORK/before"
# status never fails for what it cannot read: it says so in the devices line.
"$VHC" --root "$r" --config "$WORK/no-such.conf" status > "$WORK/out" 2>&1
grep -q "^devices: *unknown: $WORK/no-such.conf: no such file (named by --config)" "$WORK/out" \
    && ok "status: a missing --config file is named" || { fail "status --config missing"; cat "$WORK/out" >&2; }
for cmd in list check "apply --dry-run" apply; do
    # shellcheck disable=SC2086
    "$VHC" --root "$r" --config "$WORK/no-such.conf" $cmd > "$WORK/out" 2> "$WORK/err"; rc=$?
    [ $rc = 1 ] && grep -q "$WORK/no-such.conf: no such file (named by --config)" "$WORK/err" \
        && [ "$(wc -l < "$WORK/err")" = 1 ] \
        && ok "virt-host-config $cmd: a missing --config file is an error" \
        || { fail "virt-host-config $cmd --config missing: exit $rc"; cat "$WORK/err" >&2; }
done
snapshot "$r" | drop_record "$WORK/before" /dev/stdin > "$WORK/after"
expect_same "a missing --config file changes nothing but the failed outcome record" "$WORK/before" "$WORK/after"
"$VGX" --root "$r" --config "$WORK/no-such.conf" --name g --memory 4G --vcpus 2 --hostdev auto > "$WORK/out" 2> "$WORK/err"; rc=$?
[ $rc != 0 ] && grep -q "no-such.conf: no such file (named by --config)" "$WORK/err" \
    && ok "virt-guest-xml: a missing --config file is an error" || { fail "virt-guest-xml --config missing: exit $rc"; cat "$WORK/err" >&2; }
# The default path may be absent: the defaults apply.
rm -f "$r/etc/virt-host-config/virt-host-config.conf"
"$VHC" --root "$r" list > /dev/null 2>&1 && ok "no config at the default path: the defaults" || fail "default path absent: exit $?"

# --- 6: apply and revert without root --------------------------------------
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    for v in apply revert; do
        as_nobody "$VHC" $v > "$WORK/out" 2> "$WORK/err"; rc=$?
        [ $rc = 1 ] && [ "$(cat "$WORK/err")" = "virt-host-config: must be run as root (sudo virt-host-config $v)" ] \
            && [ ! -s "$WORK/out" ] && ok "$v without root: the first and only message says so" \
            || { fail "$v without root: exit $rc"; cat "$WORK/out" "$WORK/err" >&2; }
    done
    : > "$WORK/trace"; chmod 666 "$WORK/trace"
    as_nobody strace -f -e trace=openat,open,stat,newfstatat -o "$WORK/trace" "$VHC" apply > /dev/null 2>&1 || true
    if [ -s "$WORK/trace" ]; then
        grep -q 'etc/default/grub\|/sys/bus/pci\|virt-host-config.conf' "$WORK/trace" \
            && fail "apply without root read the system first" || ok "apply without root reads nothing first"
    fi
    # --dry-run reads only, and another root is whoever may write it.
    as_nobody "$VHC" --root / check > /dev/null 2> "$WORK/err"
    grep -q "must be run as root" "$WORK/err" && fail "check asks for root" || ok "check does not ask for root"
else
    echo "skip: not root, or no setpriv"
fi

# --- 7: revert's messages say revert --------------------------------------
if [ "$(id -u)" = 0 ]; then
    r=$(make_root intel-nvidia)
    sh "$TOP/tests/fixtures/boot/mkboot.sh" "$r" fedora-bls || fail "mkboot"
    "$VHC" --root "$r" apply > /dev/null 2>&1 || fail "apply before revert: exit $?"
    VHC_FAKE_EXIT=1 "$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err"; rc=$?
    [ $rc = 1 ] || fail "revert with a failing dracut: exit $rc"
    grep -q "virt-host-config apply" "$WORK/err" && { fail "revert tells to run apply"; cat "$WORK/err" >&2; } \
        || ok "revert never tells to run apply"
    grep -q "run 'virt-host-config revert' again" "$WORK/err" && ok "revert's failure says: revert again" \
        || { fail "revert's failure: no 'revert again'"; cat "$WORK/err" >&2; }
    grep -qi "so that it carries\|vfio modules and the udev rule" "$WORK/out" "$WORK/err" && fail "revert speaks of carrying the vfio modules"
    "$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" && grep -q "^regenerated" "$WORK/out" \
        && ok "revert again rebuilds what was owed" || { fail "revert again"; cat "$WORK/out" "$WORK/err" >&2; }
fi

# --- 8: colour --------------------------------------------------------------
r=$(make_root intel-nvidia)
if command -v script > /dev/null; then
    on_tty env NO_COLOR= TERM=xterm "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    has_escape "$WORK/tty" && ok "NO_COLOR set but empty: colour" || fail "NO_COLOR= turned colour off"
    on_tty env NO_COLOR=1 TERM=xterm "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    has_escape "$WORK/tty" && fail "NO_COLOR=1: colour" || ok "NO_COLOR=1: no colour"
    on_tty env -u NO_COLOR TERM=dumb "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    has_escape "$WORK/tty" && fail "TERM=dumb: colour" || ok "TERM=dumb: no colour"
    on_tty env -u NO_COLOR TERM=xterm "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    has_escape "$WORK/tty" && ok "a terminal: colour" || fail "a terminal: no colour"
else
    echo "skip: no script(1)"
fi
finish
