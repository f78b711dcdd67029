# Golden-file helpers for the CLI tests of list, check and status: sourced
# after tests/cli/lib.sh.
#
# tests/golden/<machine>/<name>.expected holds what a command prints for the
# shipped machine tests/machines/<machine>. REGENERATE=1 rewrites the expected
# files from what the commands print now: review the diff before committing.
GOLDEN="$TOP/tests/golden"

# The shipped machines: every directory under tests/machines with a sysfs.
machines() {
    local m
    for m in "$TOP"/tests/machines/*/; do
        m=$(basename "$m")
        [ -d "$TOP/tests/machines/$m/sys/bus/pci" ] && echo "$m"
    done
}

# JSON as Python writes it: the expected files do not depend on how a json-c
# version lays out its text (key order and values still count).
json_norm() {
    python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2, ensure_ascii=False))' "$1"
}

# golden LABEL EXPECTED ACTUAL: compares, or rewrites under REGENERATE=1.
# *.json.expected are compared as JSON documents.
golden() {
    local label=$1 expected=$2 actual=$3
    case $expected in *.json.expected)
        json_norm "$actual" > "$actual.norm" || { fail "$label: not JSON"; cat "$actual" >&2; return; }
        actual=$actual.norm ;;
    esac
    if [ "${REGENERATE:-0}" = 1 ]; then
        mkdir -p "$(dirname "$expected")"
        if cmp -s "$expected" "$actual"; then ok "$label (unchanged)"
        else cp "$actual" "$expected"; echo "regenerated: ${expected#"$TOP"/}"; fi
        return
    fi
    if [ ! -f "$expected" ]; then
        fail "$label: no ${expected#"$TOP"/} (run with REGENERATE=1 to create it)"
    elif diff -u "$expected" "$actual" > "$WORK/golden.diff"; then
        ok "$label"
    else
        fail "$label: differs from ${expected#"$TOP"/}"
        cat "$WORK/golden.diff" >&2
    fi
}

# has_escape FILE: whether FILE holds an ANSI escape sequence.
has_escape() { grep -q $'\033\[' "$1"; }

# on_tty COMMAND...: runs COMMAND with stdout on a pseudo-terminal (script(1)),
# printing what it wrote; the exit status is the command's.
on_tty() {
    local cmd
    printf -v cmd '%q ' "$@"
    script -qec "$cmd" /dev/null | tr -d '\r'
    return "${PIPESTATUS[0]}"
}

# bind ROOT ADDRESS DRIVER: makes the fake sysfs say DRIVER has the device
# (DRIVER "-": no driver), as after a reboot with the rule in place. A host
# driver enables the device; vfio-pci does only when QEMU opens it.
bind() {
    local r=$1 a=$2 drv=$3 dev
    dev=$(cd "$r/sys/bus/pci/devices/$a" && pwd -P) || return 1
    rm -f "$dev/driver"
    case $drv in -|vfio-pci) echo 0 > "$dev/enable" ;; *) echo 1 > "$dev/enable" ;; esac
    [ "$drv" = - ] && return 0
    mkdir -p "$r/sys/bus/pci/drivers/$drv"
    ln -s "$(realpath --relative-to="$dev" "$r/sys/bus/pci/drivers/$drv")" "$dev/driver"
}

# booted_with ROOT ARGS...: appends kernel arguments to the running kernel's
# command line (proc/cmdline), as after the reboot.
booted_with() {
    local r=$1; shift
    printf '%s %s\n' "$(cat "$r/proc/cmdline")" "$*" > "$r/proc/cmdline"
}

# add_ovmf ROOT: edk2-ovmf's code file and one firmware descriptor, as Fedora ships them.
add_ovmf() {
    local r=$1
    mkdir -p "$r/usr/share/edk2/ovmf" "$r/usr/share/qemu/firmware"
    : > "$r/usr/share/edk2/ovmf/OVMF_CODE_4M.qcow2"
    : > "$r/usr/share/edk2/ovmf/OVMF_CODE.fd"
    cat > "$r/usr/share/qemu/firmware/50-edk2-ovmf-4m-qcow2-x64-nosb.json" <<'JSON'
{
    "description": "UEFI firmware for x86_64, without Secure Boot",
    "interface-types": [ "uefi" ],
    "mapping": {
        "device": "flash",
        "mode": "split",
        "executable": { "filename": "/usr/share/edk2/ovmf/OVMF_CODE_4M.qcow2", "format": "qcow2" },
        "nvram-template": { "filename": "/usr/share/edk2/ovmf/OVMF_VARS_4M.qcow2", "format": "qcow2" }
    },
    "targets": [ { "architecture": "x86_64", "machines": [ "pc-q35-*" ] } ],
    "features": [ "acpi-s3", "amd-sev", "verbose-dynamic" ],
    "tags": [ ]
}
JSON
}

# A /proc/interrupts excerpt of a host with interrupt remapping on (IR- chips).
interrupts_remapped() {
    cat <<'TXT'
            CPU0       CPU1       
   0:         38          0  IR-IO-APIC    2-edge      timer
   8:          0          0  IR-IO-APIC    8-edge      rtc0
   9:          0          0  IR-IO-APIC    9-fasteoi   acpi
 122:          0          0  IR-PCI-MSI-0000:00:01.0    0-edge      PCIe PME
 124:     181524          0  IR-PCI-MSI-0000:00:14.0    0-edge      xhci_hcd
NMI:          2          2   Non-maskable interrupts
TXT
}
