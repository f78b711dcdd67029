#!/usr/bin/env bash
# The tuning keys: hugepages, cpu_governor and isolate_cpus, each through
# apply -> second apply (no change) -> revert (byte-identical) on machine
# roots; bad values; and the libvirt hook that apply writes, run against fake
# cpufreq trees and a fake systemctl.
. "$(dirname "$0")/lib.sh" || exit 1
# Every path below is under $WORK: without it they would name the real machine.
[ -d "${WORK:-}" ] || { echo "lib.sh did not make \$WORK" >&2; exit 1; }
HOOK=etc/libvirt/hooks/qemu.d/virt-host-config

# lib.sh's snapshot runs sha256sum once per file (seconds per machine root);
# this one records the same facts with a few processes.
snapshot() {
    case $1 in "$WORK"/?*) ;; *) echo "snapshot: '$1' is not under $WORK" >&2; exit 1 ;; esac
    (cd "$1" && find . -printf '%p %y %m %u:%g %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}
CPUFREQ=$TOP/tests/fixtures/tuning/cpufreq

# A machine root with the CPU topology of tests/cpu/CPU grafted in.
with_cpus() {
    local r
    r=$(make_root "$1")
    cp -a "$TOP/tests/cpu/$2/sys/." "$r/sys/"
    echo "$r"
}

conf() { printf '%s\n' "$@" > "$WORK/conf"; }

# cycle LABEL ROOT [CHECK]: apply with $WORK/conf, then CHECK ROOT; a second
# apply changes nothing; revert gives back a byte-identical tree.
cycle() {
    local label=$1 r=$2 check=${3:-}
    snapshot "$r" > "$WORK/s0"
    if ! "$VHC" --root "$r" --config "$WORK/conf" apply > "$WORK/out" 2> "$WORK/err"; then
        fail "$label: apply failed"; cat "$WORK/out" "$WORK/err" >&2; return
    fi
    [ -z "$check" ] || "$check" "$label" "$r"
    snapshot "$r" > "$WORK/s1"
    "$VHC" --root "$r" --config "$WORK/conf" apply > "$WORK/out2" 2>&1 || fail "$label: second apply exit $?"
    grep -q '^nothing to do' "$WORK/out2" || { fail "$label: second apply did something"; cat "$WORK/out2" >&2; }
    snapshot "$r" > "$WORK/s2"
    expect_same "$label: a second apply changes no byte" "$WORK/s1" "$WORK/s2"
    "$VHC" --root "$r" revert > "$WORK/out3" 2>&1 || { fail "$label: revert exit $?"; cat "$WORK/out3" >&2; }
    snapshot "$r" > "$WORK/s3"
    expect_same "$label: apply then revert gives a byte-identical tree" "$WORK/s0" "$WORK/s3"
}

cmdline() { grub_value "$1/etc/default/grub" GRUB_CMDLINE_LINUX; }
has_args() {
    case " $(cmdline "$2") " in
    *" $3 "*) ok "$1: '$3' in GRUB_CMDLINE_LINUX" ;;
    *) fail "$1: no '$3' in '$(cmdline "$2")'" ;;
    esac
}
hook_var() { sed -n "s/^$2=//p" "$1/$HOOK"; }

# --- hugepages ---------------------------------------------------------------

check_1g() { has_args "$1" "$2" "default_hugepagesz=1G hugepagesz=1G hugepages=8"; }
for m in "$TOP"/tests/machines/*/; do
    m=$(basename "$m")
    [ -f "$TOP/tests/machines/$m/etc/default/grub" ] || continue
    conf 'hugepages = 8G'
    cycle "hugepages 8G on $m" "$(make_root "$m")" check_1g
done

check_2m() { has_args "$1" "$2" "default_hugepagesz=2M hugepagesz=2M hugepages=4096"; }
r=$(make_root single-gpu)
sed -i 's/ pdpe1gb//' "$r/proc/cpuinfo"
conf 'hugepages = 8G'
cycle "hugepages without pdpe1gb: 2 MiB pages" "$r" check_2m

# The user's own hugepages= is replaced and comes back on revert.
check_replaced() {
    has_args "$1" "$2" "hugepagesz=1G hugepages=4"
    case " $(cmdline "$2") " in *"hugepages=64 "* | *"hugepagesz=2M"*) fail "$1: the user's values still there" ;; esac
}
r=$(make_root intel-nvidia)
sed -i 's/^GRUB_CMDLINE_LINUX="\(.*\)"$/GRUB_CMDLINE_LINUX="\1 hugepagesz=2M hugepages=64"/' "$r/etc/default/grub"
conf 'iommu = no' 'isolate = none' 'hugepages = 4G'
cycle "a contradicting hugepages= of the user's" "$r" check_replaced

# Changing the size, then turning it off, leaves exactly the user's file.
r=$(make_root intel-nvidia)
cp "$r/etc/default/grub" "$WORK/grub.orig"
conf 'hugepages = 8G'
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "resize: apply 8G"
conf 'hugepages = 4G'
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "resize: apply 4G"
has_args "resize" "$r" "default_hugepagesz=1G hugepagesz=1G hugepages=4"
case " $(cmdline "$r") " in *" hugepages=8 "*) fail "resize: hugepages=8 left behind" ;; esac
conf 'hugepages = none' 'iommu = no'
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "resize: apply none"
cmp -s "$r/etc/default/grub" "$WORK/grub.orig" && ok "hugepages = none takes out exactly ours" ||
    { fail "hugepages = none"; diff -u "$WORK/grub.orig" "$r/etc/default/grub" >&2; }

# --- cpu_governor and isolate_cpus: the libvirt hook -------------------------

check_gov() {
    local label=$1 r=$2
    [ -x "$r/$HOOK" ] && [ "$(stat -c %a "$r/$HOOK")" = 755 ] && ok "$label: hook installed, mode 755" ||
        fail "$label: no executable hook"
    [ "$(hook_var "$r" governor)" = performance ] && [ -z "$(hook_var "$r" host_cpus)" ] &&
        ok "$label: governor performance, no isolation" || fail "$label: hook settings"
    grep -q "libvirt finds new hooks only when it starts" "$WORK/err" && ok "$label: says to restart libvirt" ||
        fail "$label: no word about restarting libvirt"
}
conf 'cpu_governor = performance'
cycle "cpu_governor, no /etc/libvirt yet" "$(make_root intel-nvidia)" check_gov

# libvirt installed: its directories stay, only ours go; another hook is left alone.
r=$(make_root two-amd-identical)
mkdir -p "$r/etc/libvirt/hooks/qemu.d"
printf '#!/bin/sh\nexit 0\n' > "$r/etc/libvirt/hooks/qemu.d/10-mine"
chmod 755 "$r/etc/libvirt/hooks/qemu.d/10-mine"
cycle "cpu_governor next to another hook" "$r" check_gov

# isolate_cpus = auto: the cores virt-guest-xml --pin auto gives its largest guest.
declare -A AUTO_HOST=([i7-7700]=0,4 [ryzen9-5950x]=0,16 [i9-12900k]=0-1,16-23 [kvm-epyc-2cpu]=0)
for cpu in "${!AUTO_HOST[@]}"; do
    want=${AUTO_HOST[$cpu]}
    check_auto() {
        [ "$(hook_var "$2" host_cpus)" = "$want" ] && ok "$1: the host keeps $want" ||
            fail "$1: host_cpus=$(hook_var "$2" host_cpus), wanted $want"
        [ -z "$(hook_var "$2" governor)" ] || fail "$1: governor set"
    }
    conf 'isolate_cpus = auto'
    cycle "isolate_cpus = auto on $cpu" "$(with_cpus intel-nvidia "$cpu")" check_auto
done

check_list() {
    [ "$(hook_var "$2" host_cpus)" = 0-1,4-5 ] && ok "$1: the host keeps 0-1,4-5" || fail "$1: $(hook_var "$2" host_cpus)"
    grep -q "leaving 2-3,6-7 to the guests" "$2/$HOOK" || fail "$1: comment"
}
conf 'isolate_cpus = 6-7,2-3' 'cpu_governor = performance'
cycle "isolate_cpus = LIST with cpu_governor" "$(with_cpus intel-nvidia i7-7700)" check_list

# Changing the settings rewrites the hook; turning both off removes it.
r=$(with_cpus intel-nvidia i7-7700)
snapshot "$r" > "$WORK/t0"
conf 'cpu_governor = performance'
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "switch: apply governor"
conf 'isolate_cpus = auto'
"$VHC" --root "$r" --config "$WORK/conf" apply > "$WORK/out" 2> "$WORK/err" || fail "switch: apply isolate"
grep -q "^updated .*/$HOOK" "$WORK/out" && ok "switching keys updates the hook" || fail "switch: $(cat "$WORK/out")"
grep -q "libvirt finds new hooks" "$WORK/err" && fail "switch: restart note for an updated hook" || true
# Only the hook changed: no reboot is needed, and apply says when it applies.
[ "$(tail -n 1 "$WORK/out")" = "the libvirt hook takes effect with the next guest that libvirt starts" ] &&
    ! grep -q reboot "$WORK/out" && ok "a hook-only change asks for no reboot" || fail "switch: $(cat "$WORK/out")"
conf 'isolate_cpus = none'
"$VHC" --root "$r" --config "$WORK/conf" apply > "$WORK/out" 2>&1 || fail "switch: apply none"
grep -q "^removed .*/$HOOK" "$WORK/out" && ok "turning both off removes the hook" || fail "switch: $(cat "$WORK/out")"
"$VHC" --root "$r" revert > "$WORK/out" 2>&1 || fail "switch: revert"
# Each removed file is named for what it was, as apply named it.
grep -q "^removed .*/etc/security/limits.d/90-virt-host-config.conf  (memlock for group kvm)$" "$WORK/out" &&
    grep -q "^removed .*/etc/udev/rules.d/61-virt-host-config-vfio.rules  (vfio-pci binding)$" "$WORK/out" &&
    ! grep -q "(generated file)" "$WORK/out" && ok "revert names what each removed file was" ||
    fail "revert labels: $(cat "$WORK/out")"
snapshot "$r" > "$WORK/t1"
expect_same "switching keys then revert gives a byte-identical tree" "$WORK/t0" "$WORK/t1"

# --dry-run shows the hook and writes nothing.
r=$(make_root intel-nvidia)
snapshot "$r" > "$WORK/t0"
conf 'cpu_governor = performance'
"$VHC" --root "$r" --config "$WORK/conf" apply --dry-run > "$WORK/dry" 2>/dev/null || fail "dry-run exit"
grep -q "^+++ b/$HOOK" "$WORK/dry" && grep -q '^+governor=performance$' "$WORK/dry" && ok "--dry-run shows the hook" ||
    fail "--dry-run shows no hook"
snapshot "$r" > "$WORK/t1"
expect_same "--dry-run writes nothing" "$WORK/t0" "$WORK/t1"

# A hook the user edited is kept on revert as a .rpmsave libvirt does not
# run (test-rpmsave.sh has the details), with a warning.
r=$(make_root intel-nvidia)
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "edited: apply"
echo '# mine' >> "$r/$HOOK"
"$VHC" --root "$r" revert > /dev/null 2> "$WORK/err" || fail "edited: revert"
[ ! -e "$r/$HOOK" ] && [ -f "$r/$HOOK.rpmsave" ] && [ ! -x "$r/$HOOK.rpmsave" ] && grep -q "was edited since" "$WORK/err" &&
    ok "an edited hook is kept as a .rpmsave that is not executable" || fail "edited hook: $(cat "$WORK/err")"

# --- bad values: one line naming the file and line, nothing changed ----------

expect_bad() {
    local label=$1 pat=$2 r=$3 rc
    snapshot "$r" > "$WORK/b0"
    "$VHC" --root "$r" --config "$WORK/conf" apply > "$WORK/out" 2> "$WORK/err"
    rc=$?
    # What a refused apply writes: its failed outcome record.
    grep -q '"result": "failed"' "$r/$LAST_RUN" 2>/dev/null || fail "$label: no failed outcome recorded"
    snapshot "$r" | drop_record "$WORK/b0" /dev/stdin > "$WORK/b1"
    drop_record "$WORK/b0" "$WORK/b0" > "$WORK/b0.kept"; mv "$WORK/b0.kept" "$WORK/b0"
    [ "$rc" = 1 ] || fail "$label: exit $rc, wanted 1"
    [ "$(wc -l < "$WORK/err")" = 1 ] || { fail "$label: stderr is not one line:"; cat "$WORK/err" >&2; }
    grep -Eq -- "$pat" "$WORK/err" && ok "$label: $(cat "$WORK/err")" || { fail "$label: stderr does not match '$pat':"; cat "$WORK/err" >&2; }
    [ ! -s "$WORK/out" ] || { fail "$label: wrote to stdout"; cat "$WORK/out" >&2; }
    diff -u "$WORK/b0" "$WORK/b1" > "$WORK/diff" || { fail "$label: files changed"; cat "$WORK/diff" >&2; }
}
C="$WORK/conf"
r=$(with_cpus intel-nvidia i7-7700)
conf '# tuning' 'hugepages = 999T'
expect_bad "hugepages = 999T" "^virt-host-config: $C:2: hugepages: .* more than 75% of this host's RAM \(31.2 GiB\): give at most 23G, or none$" "$r"
conf 'hugepages = 16'
expect_bad "hugepages = 16 (bytes)" "^virt-host-config: $C:1: hugepages: '16' is not none or a size of 2M or more" "$r"
conf 'cpu_governor = turbo'
expect_bad "cpu_governor = turbo" "^virt-host-config: $C:1: cpu_governor: 'turbo' is not keep or performance$" "$r"
conf 'iommu = yes' 'isolate_cpus = 0-999'
expect_bad "isolate_cpus = 0-999" "^virt-host-config: $C:2: isolate_cpus: CPUs 8-999 are not online on this host \(online: 0-7\)$" "$r"
conf 'isolate_cpus = 0-7'
expect_bad "isolate_cpus = every CPU" "^virt-host-config: $C:1: isolate_cpus: '0-7' leaves no CPU to the host" "$r"
conf 'isolate_cpus = 3-1'
expect_bad "isolate_cpus = 3-1" "^virt-host-config: $C:1: isolate_cpus: '3-1' is not none, auto or a CPU list" "$r"
conf 'isolate_cpus = auto'
expect_bad "isolate_cpus = auto without a CPU topology" "^virt-host-config: $C:1: isolate_cpus: cannot read the CPU topology" "$(make_root intel-nvidia)"
r=$(with_cpus intel-nvidia i7-7700)
echo 0 > "$r/sys/devices/system/cpu/online"
expect_bad "isolate_cpus = auto on one CPU" "^virt-host-config: $C:1: isolate_cpus = auto: this host has no core to spare" "$r"

# --- the hook itself ---------------------------------------------------------

# A hook as apply writes it for an i7-7700 with both keys.
r=$(with_cpus intel-nvidia i7-7700)
conf 'cpu_governor = performance' 'isolate_cpus = auto'
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "hook: apply"
hook=$r/$HOOK

if command -v shellcheck > /dev/null; then
    shellcheck -s sh "$hook" && ok "the hook is shellcheck-clean" || fail "shellcheck"
fi

# A fake systemctl: AllowedCPUs of each unit kept in a file of $FAKE_SYSTEMD.
mkdir -p "$WORK/bin" "$WORK/badbin"
cat > "$WORK/bin/systemctl" << 'EOF'
#!/bin/sh
echo "$*" >> "$FAKE_SYSTEMD/log"
case $1 in
show) eval "u=\${$#}"; cat "$FAKE_SYSTEMD/$u" ;;
set-property) printf '%s\n' "${5#AllowedCPUs=}" > "$FAKE_SYSTEMD/$4" ;;
*) exit 1 ;;
esac
EOF
printf '#!/bin/sh\necho "systemctl: Failed to connect to bus" >&2\nexit 1\n' > "$WORK/badbin/systemctl"
chmod 755 "$WORK/bin/systemctl" "$WORK/badbin/systemctl"

# hook_root FIXTURE: a fresh fake machine for the hook, with the units' AllowedCPUs.
hook_root() {
    local h="$WORK/hook.$RANDOM$RANDOM"
    mkdir -p "$h/systemd"
    cp -a "$CPUFREQ/$1/sys" "$h/"
    printf '\n' > "$h/systemd/system.slice"
    printf '0-3 6-7\n' > "$h/systemd/user.slice"
    printf '\n' > "$h/systemd/init.scope"
    echo "$h"
}
# state H: the fake machine's cpufreq files and units, for comparing.
state() { snapshot "$1/sys"; head -v -n 5 "$1"/systemd/*.s*; }
governors() { cat "$1"/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }

# run_hook H SHELL GUEST OP SUBOP [EXTRA]: as libvirt runs it, XML on stdin.
run_hook() {
    local h=$1 sh=$2 rc; shift 2
    echo "<domain type='kvm'><name>$1</name></domain>" |
        VHC_HOOK_ROOT=$h FAKE_SYSTEMD=$h/systemd PATH="${HOOK_PATH:-$WORK/bin}:$PATH" \
            $sh "$hook" "$1" "$2" "$3" "${4:--}" > "$WORK/hook.out" 2> "$WORK/hook.err"
    rc=$?
    [ "$rc" = 0 ] || fail "hook $*: exit $rc"
    [ ! -s "$WORK/hook.out" ] || { fail "hook $*: wrote to stdout (libvirt would take it for the XML)"; cat "$WORK/hook.out" >&2; }
}
sets() { grep -c '^set-property' "$1/systemd/log" 2> /dev/null || true; }

[ -e /run/virt-host-config ] && real_run_before=1 || real_run_before=0
shells="sh"
for s in dash posh "busybox sh" "bash --posix"; do
    command -v "${s%% *}" > /dev/null && shells="$shells|$s"
done
IFS='|' read -r -a shell_list <<< "$shells"

for sh in "${shell_list[@]}"; do
    h=$(hook_root intel-pstate)
    state "$h" > "$WORK/h0"
    run_hook "$h" "$sh" win10 prepare begin
    [ "$(governors "$h")" = " 8 performance;" ] && ok "$sh: first guest: every governor performance" ||
        fail "$sh: governors after prepare: $(governors "$h")"
    [ "$(cat "$h/systemd/system.slice" "$h/systemd/user.slice" "$h/systemd/init.scope" | tr '\n' ' ')" = "0,4 0,4 0,4 " ] &&
        ok "$sh: first guest: system.slice, user.slice, init.scope on CPUs 0,4" || fail "$sh: AllowedCPUs: $(cat "$h"/systemd/*.s*)"
    grep -q '^set-property --runtime -- system.slice AllowedCPUs=0,4$' "$h/systemd/log" || fail "$sh: systemctl call"
    run_hook "$h" "$sh" win10 start begin
    run_hook "$h" "$sh" win10 started begin
    run_hook "$h" "$sh" linux prepare begin
    [ "$(sets "$h")" = 3 ] && ok "$sh: a second guest changes nothing" || fail "$sh: $(sets "$h") set-property calls"
    run_hook "$h" "$sh" win10 stopped end
    run_hook "$h" "$sh" win10 release end shutdown
    [ "$(governors "$h")" = " 8 performance;" ] && ok "$sh: one guest still runs: still performance" ||
        fail "$sh: restored too early: $(governors "$h")"
    run_hook "$h" "$sh" ghost release end -
    run_hook "$h" "$sh" linux release end destroyed
    state "$h" > "$WORK/h1"
    expect_same "$sh: the last guest's release restores governors and AllowedCPUs exactly" "$WORK/h0" "$WORK/h1"
    [ "$(sets "$h")" = 6 ] || fail "$sh: $(sets "$h") set-property calls, wanted 6"
    run_hook "$h" "$sh" win10 migrate begin
    run_hook "$h" "$sh" win10 restore begin
    [ "$(governors "$h")" = " 8 powersave;" ] || fail "$sh: migrate/restore changed governors"
done

# A guest the daemon finds running on restart counts like one that starts.
h=$(hook_root acpi-cpufreq-mixed)
state "$h" > "$WORK/h0"
run_hook "$h" sh win11 reconnect begin
[ "$(governors "$h")" = " 4 performance;" ] && ok "reconnect counts a running guest" || fail "reconnect: $(governors "$h")"
[ -e "$h/sys/devices/system/cpu/cpu4/cpufreq" ] && fail "offline CPU touched"
run_hook "$h" sh win11 release end shutdown
state "$h" > "$WORK/h1"
expect_same "a mixed schedutil/ondemand host gets each CPU's own governor back" "$WORK/h0" "$WORK/h1"

# Two guests starting at once: one of them is the first.
h=$(hook_root intel-pstate)
state "$h" > "$WORK/h0"
for g in a b c d e f; do run_hook "$h" sh "vm-$g" prepare begin & done
wait
[ "$(sets "$h")" = 3 ] && ok "six guests starting at once: settings changed once" || fail "parallel: $(sets "$h") set-property calls"
grep -q performance "$h/run/virt-host-config/governors" && fail "parallel: performance recorded as an original governor"
for g in a b c d e f; do run_hook "$h" sh "vm-$g" release end & done
wait
state "$h" > "$WORK/h1"
expect_same "six guests stopping at once: restored once, exactly" "$WORK/h0" "$WORK/h1"
[ "$(sets "$h")" = 6 ] || fail "parallel release: $(sets "$h") set-property calls"

# systemctl failing (no bus): the guest still starts; the hook says why.
h=$(hook_root intel-pstate)
HOOK_PATH=$WORK/badbin run_hook "$h" sh win10 prepare begin
grep -q "cannot record AllowedCPUs" "$WORK/hook.err" && ok "a failing systemctl is reported, exit 0" ||
    fail "failing systemctl: $(cat "$WORK/hook.err")"
[ "$(governors "$h")" = " 8 performance;" ] || fail "failing systemctl stopped the governor change"
HOOK_PATH=$WORK/badbin run_hook "$h" sh win10 release end
[ "$(governors "$h")" = " 8 powersave;" ] && ok "governors restored without systemd" || fail "restore without systemd"

# A guest name with a slash cannot escape the run directory.
h=$(hook_root intel-pstate)
run_hook "$h" sh "../../x" prepare begin
[ -e "$h/run/virt-host-config/guests/running-.._.._x" ] && ok "a name with slashes stays in the run directory" ||
    fail "slash name: $(ls "$h/run/virt-host-config/guests")"
run_hook "$h" sh "../../x" release end

# Governor only: systemctl is never called.
conf 'cpu_governor = performance'
r=$(make_root intel-nvidia)
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null 2>&1 || fail "governor-only apply"
hook=$r/$HOOK
h=$(hook_root intel-pstate)
run_hook "$h" "" win10 prepare begin # executed as libvirt does, through its #! line
[ "$(governors "$h")" = " 8 performance;" ] && ok "the hook runs through its #! line" || fail "direct run: $(governors "$h")"
run_hook "$h" "" win10 release end
[ ! -e "$h/systemd/log" ] && ok "cpu_governor alone never calls systemctl" || fail "systemctl called: $(cat "$h/systemd/log")"

if [ "$real_run_before" = 0 ] && [ -e /run/virt-host-config ]; then
    fail "the hook wrote to the real /run/virt-host-config"
fi
finish
