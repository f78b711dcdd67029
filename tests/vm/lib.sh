# Shared by mkimage.sh and check-vm: messages, the mirror, QEMU.
# shellcheck shell=bash

# OVMF as Debian's ovmf package installs it (the systemd-boot guest).
OVMF_CODE=${VHC_VM_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${VHC_VM_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

note() { printf 'check-vm: %s\n' "$*" >&2; }
die() {
        printf 'check-vm: error: %s\n' "$*" >&2
        exit 1
}

# The Debian mirror this machine's apt uses for SUITE (main component).
apt_mirror() {
        apt-get indextargets --format '$(SITE) $(CODENAME) $(COMPONENT)' 'Identifier: Packages' 2>/dev/null |
                awk -v s="$1" '$2 == s && $3 == "main" { print $1; exit }'
}

# The guest CPU: an Intel one, so that the product gives the guest
# intel_iommu=on. Under TCG, qemu64 (it has SVM, which "check" wants) boots
# three times faster than "max", whose emulated "rep stosb" page clearing
# stalls the guest. Under KVM, the host's CPU, said to be an Intel one.
vm_cpu() {
        if [ -n "${VHC_VM_CPU:-}" ]; then
                echo "$VHC_VM_CPU"
        elif [ "$1" = kvm ]; then
                echo host,vendor=GenuineIntel
        else
                echo qemu64,vendor=GenuineIntel
        fi
}

# KVM where it works, else TCG. "Works" is judged by booting the guest's
# kernel without a root file system: it must get as far as the panic that
# says so. VHC_VM_ACCEL=kvm|tcg overrides.
vm_accel() {
        local vm=$1 log
        if [ -n "${VHC_VM_ACCEL:-}" ]; then
                echo "$VHC_VM_ACCEL"
                return
        fi
        if [ -f "$vm/accel" ]; then
                cat "$vm/accel"
                return
        fi
        local a=tcg
        if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -f "$vm/vmlinuz" ]; then
                log=$vm/kvm-probe.log
                rm -f "$log"
                timeout 30 qemu-system-x86_64 -accel kvm -machine q35,kernel-irqchip=split \
                        -cpu "$(vm_cpu kvm)" -m 512 -nodefaults \
                        -display none -serial "file:$log" -no-reboot -kernel "$vm/vmlinuz" \
                        -append 'console=ttyS0 panic=-1' >/dev/null 2>&1 || true
                if grep -q 'Unable to mount root' "$log" 2>/dev/null; then
                        a=kvm
                fi
        fi
        echo "$a" >"$vm/accel"
        echo "$a"
}

# run_stage VMDIR STAGE DISK FORMAT OUTDIR [FILE...]
# One vCPU: under TCG a second one makes the guest slower, not faster.
# Boots DISK through SeaBIOS and GRUB with the test's PCI devices (with
# VM_FIRMWARE=uefi: through OVMF, a fresh copy of its variable store each
# boot, and the boot loader on the disk's ESP); the guest's
# vhc-stage service reads STAGE and FILEs from a control disk (a tar archive
# on a raw virtio disk, serial "vhcctl"), runs the stage, writes its results
# back as a tar archive on the same disk and powers off. Results land in
# OUTDIR/out; the serial console in OUTDIR/serial.log.
# Returns 0 if the guest ran the stage to the end (whatever its verdict).
run_stage() {
        local vm=$1 stage=$2 disk=$3 fmt=$4 out=$5 accel cpu t0 rc=0
        shift 5
        rm -rf "$out"
        mkdir -p "$out/in" "$out/out"
        echo "$stage" >"$out/in/stage"
        [ $# -gt 0 ] && cp -a "$@" "$out/in/"
        tar -cf "$out/ctl.img" -C "$out/in" .
        truncate -s 256M "$out/ctl.img"

        accel=$(vm_accel "$vm")
        cpu=$(vm_cpu "$accel")
        local fw=()
        if [ "${VM_FIRMWARE:-bios}" = uefi ]; then
                cp "$OVMF_VARS" "$out/ovmf-vars.fd"
                fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
                        -drive "if=pflash,format=raw,unit=1,file=$out/ovmf-vars.fd")
        fi
        t0=$(date +%s)
        # QEMU's CPU time is what the boot would take on an idle core: the
        # wall time on a busy machine says little.
        local TIMEFORMAT='%U %S'
        { time timeout --foreground "${VHC_VM_TIMEOUT:-1200}" qemu-system-x86_64 \
                -accel "$accel" -machine q35,kernel-irqchip=split -cpu "$cpu" "${fw[@]}" \
                -smp "${VHC_VM_SMP:-1}" -m "${VHC_VM_MEM:-2048}" \
                -nodefaults -display none -no-reboot \
                -serial "file:$out/serial.log" \
                -device intel-iommu,intremap=on,caching-mode=on \
                -device VGA,addr=01.0 \
                -device cirrus-vga,addr=02.0,multifunction=on \
                -device ich9-intel-hda,addr=02.1 \
                -device VGA,addr=03.0 \
                -drive "file=$disk,format=$fmt,if=none,id=root,cache=unsafe,discard=unmap" \
                -device virtio-blk-pci,drive=root,addr=04.0,bootindex=1 \
                -drive "file=$out/ctl.img,format=raw,if=none,id=ctl,cache=unsafe" \
                -device virtio-blk-pci,drive=ctl,addr=05.0,serial=vhcctl \
                ${VHC_VM_QEMU_ARGS:-} >"$out/qemu.log" 2>&1 || rc=$?; } 2>"$out/cpu-times"
        echo $(($(date +%s) - t0)) >"$out/seconds"
        awk '{ printf "%d\n", $1 + $2 + 0.5 }' "$out/cpu-times" >"$out/cpu-seconds"
        if [ $rc = 124 ]; then
                echo "timeout after ${VHC_VM_TIMEOUT:-1200}s" >>"$out/qemu.log"
        fi
        tar -xf "$out/ctl.img" -C "$out/out" 2>/dev/null || true
        [ -f "$out/out/rc" ] && [ -f "$out/out/done" ]
}
