#!/bin/bash
# Builds the check-vm guest disk: a Debian system (debootstrap) with GRUB for
# BIOS in the MBR gap, written without loop devices or mounts:
#   debootstrap.tar  debootstrap --variant=minbase with systemd, udev, rpm...
#   rootfs.tar       + apt-get install of the kernel, dracut, grub-pc, ovmf
#   part.img         the tree configured for the test, mkfs.ext4 -d
#   disk.raw         sfdisk partition table + part.img at 1 MiB + boot.img/core.img
#   base.raw         disk.raw after the "prep" boot, which runs update-grub inside
#                    the guest (grub-probe needs the real disk) as an install would
# Usage: mkimage.sh VMDIR [dracut|initramfs-tools]
# Everything is written under VMDIR. The initramfs-tools variant (Debian's and
# Ubuntu's own initramfs generator instead of dracut) is base-initramfs-tools.raw,
# its other files have the same suffix.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

vm=${1:?usage: mkimage.sh VMDIR [dracut|initramfs-tools]}
variant=${2:-dracut}
case $variant in
dracut) sfx= ;;
initramfs-tools) sfx=-initramfs-tools ;;
*) die "unknown variant '$variant'" ;;
esac
mkdir -p "$vm"
vm=$(cd "$vm" && pwd)

# The guest runs the binaries built on this machine, so it is this machine's
# Debian release.
suite=${VHC_VM_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
mirror=${VHC_VM_MIRROR:-$(apt_mirror "$suite")}
[ -n "$mirror" ] || die "no Debian mirror for '$suite' in this machine's apt sources; set VHC_VM_MIRROR"

# debootstrap resolves linux-image-amd64's initramfs dependency to
# initramfs-tools, which conflicts with dracut: the kernel, the initramfs
# generator and GRUB go in with apt in a second step.
base_pkgs=systemd-sysv,udev,kmod,rpm,pciutils,zstd,cpio,e2fsprogs,libinih1,libjson-c5,libselinux1,libpci3,libkmod2,libsystemd0,libxml2,librpm9,librpmio9,libpopt0
# ovmf: the product's package requires edk2-ovmf, and "check" looks for it.
second_pkgs="linux-image-amd64 $variant grub-pc ovmf"

# Input hashes: debootstrap again when the release, mirror, packages or
# build_rootfs change (bump rootfs_recipe); the image when anything changes.
rootfs_recipe=1
stamp_debootstrap=$(echo "$rootfs_recipe $suite $mirror $base_pkgs" | sha256sum | cut -c1-16)
stamp_rootfs=$(echo "$rootfs_recipe $suite $mirror $base_pkgs $second_pkgs" | sha256sum | cut -c1-16)
stamp_image=$( (echo "$stamp_rootfs"; cat "$here/mkimage.sh" "$here"/guest/*) | sha256sum | cut -c1-16)
base=$vm/base$sfx.raw
disk=$vm/disk$sfx.raw

uuid=6b9c7a52-7d1e-4c1e-9a43-1f0e5c0d6a01   # fixed: fstab and GRUB name it
part_mib=3072

# The trees live in a temporary directory, never under the build directory:
# the Makefile reads every *.d under it as a dependency file, and a Debian
# tree is full of *.d directories. The trees are kept as tar archives
# (debootstrap.tar, rootfs$sfx.tar) so that a change to the guest files does
# not run debootstrap or apt again.
tmp=$(mktemp -d /var/tmp/vhc-check-vm.XXXXXX)
cleanup() {
        # debootstrap mounts /proc and /sys in the tree; a failure may leave them.
        local m
        for m in proc sys; do mountpoint -q "$tmp/root/$m" 2>/dev/null && umount -l "$tmp/root/$m"; done
        rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

untar() { tar -xf "$1" -C "$2" --numeric-owner --xattrs --xattrs-include='*'; }
mktar() { tar -cf "$1" -C "$2" --numeric-owner --xattrs --xattrs-include='*' .; }

# debootstrap.tar: the minimal system both variants start from.
build_debootstrap() {
        local t=$1
        if [ -f "$vm/debootstrap.tar" ] && [ "$(cat "$vm/debootstrap.stamp" 2>/dev/null)" = "$stamp_debootstrap" ]; then
                untar "$vm/debootstrap.tar" "$t"
                return
        fi
        rm -f "$vm/debootstrap.tar" "$vm/debootstrap.stamp"
        mkdir -p "$vm/cache"
        note "rootfs: debootstrap $suite from $mirror"
        debootstrap --variant=minbase --cache-dir="$vm/cache" --include="$base_pkgs" \
                "$suite" "$t" "$mirror" >"$vm/debootstrap.log" 2>&1 ||
                { tail -n 30 "$vm/debootstrap.log" >&2; die "debootstrap failed (log: $vm/debootstrap.log)"; }
        # No install device: the boot sector is written by this script, not grub-install.
        printf '%s\n' 'grub-pc grub-pc/install_devices multiselect' \
                'grub-pc grub-pc/install_devices_empty boolean true' | chroot "$t" debconf-set-selections
        mktar "$vm/debootstrap.tar" "$t"
        echo "$stamp_debootstrap" >"$vm/debootstrap.stamp"
}

# rootfs$sfx.tar: that system with the kernel, the initramfs generator, GRUB.
build_rootfs() {
        local t=$tmp/root
        mkdir -p "$t"
        if [ -f "$vm/rootfs$sfx.tar" ] && [ "$(cat "$vm/rootfs$sfx.stamp" 2>/dev/null)" = "$stamp_rootfs" ]; then
                note "rootfs: up to date ($vm/rootfs$sfx.tar)"
                untar "$vm/rootfs$sfx.tar" "$t"
                return
        fi
        rm -f "$vm/rootfs$sfx.tar" "$vm/rootfs$sfx.stamp"
        build_debootstrap "$t"
        note "rootfs: apt-get install $second_pkgs"
        # Reuse debootstrap's download cache for the second step too.
        cp -n "$vm"/cache/*.deb "$t/var/cache/apt/archives/" 2>/dev/null || true
        if ! chroot "$t" env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 update \
                >>"$vm/apt$sfx.log" 2>&1 ||
            ! chroot "$t" env DEBIAN_FRONTEND=noninteractive apt-get -y --no-install-recommends install \
                $second_pkgs >>"$vm/apt$sfx.log" 2>&1; then
                tail -n 30 "$vm/apt$sfx.log" >&2
                die "apt-get in the guest tree failed (log: $vm/apt$sfx.log)"
        fi
        cp -n "$t"/var/cache/apt/archives/*.deb "$vm/cache/" 2>/dev/null || true
        chroot "$t" apt-get clean
        mktar "$vm/rootfs$sfx.tar" "$t"
        echo "$stamp_rootfs" >"$vm/rootfs$sfx.stamp"
}

configure_rootfs() {
        local t=$1 kver
        kver=$(cd "$t/lib/modules" && ls | sort -V | tail -n 1)
        [ -n "$kver" ] || die "no kernel in the guest tree"

        echo vhc-guest >"$t/etc/hostname"
        printf '127.0.0.1\tlocalhost\n127.0.1.1\tvhc-guest\n' >"$t/etc/hosts"
        printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$uuid" >"$t/etc/fstab"
        rm -f "$t/etc/machine-id"
        chroot "$t" systemd-machine-id-setup >/dev/null

        # /etc/default/grub stays Debian's own: the product edits it.
        install -D -m 0644 "$here/guest/grub-vm.cfg" "$t/etc/default/grub.d/50-vhc-vm.cfg"
        if [ "$variant" = dracut ]; then
                install -D -m 0644 "$here/guest/dracut-vm.conf" "$t/etc/dracut.conf.d/50-vhc-vm.conf"
        else
                install -D -m 0644 "$here/guest/initramfs-tools-vm.conf" \
                        "$t/etc/initramfs-tools/conf.d/50-vhc-vm.conf"
                install -D -m 0755 "$here/guest/initramfs-tools-vm-hook" \
                        "$t/etc/initramfs-tools/hooks/50-vhc-vm-display"
        fi
        install -D -m 0755 "$here/guest/vhc-stage" "$t/usr/local/libexec/vhc-stage"
        install -D -m 0644 "$here/guest/vhc-stage.service" "$t/etc/systemd/system/vhc-stage.service"
        chroot "$t" systemctl enable vhc-stage.service >/dev/null 2>&1
        chroot "$t" systemctl set-default multi-user.target >/dev/null 2>&1
        # Nothing but the stage may touch the disk behind our back.
        chroot "$t" systemctl disable apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
                fstrim.timer >/dev/null 2>&1 || true

        # GRUB for BIOS: modules where grub-install puts them, a first grub.cfg
        # only for the prep boot, which replaces it with grub-mkconfig's.
        mkdir -p "$t/boot/grub/i386-pc"
        cp "$t"/usr/lib/grub/i386-pc/*.mod "$t"/usr/lib/grub/i386-pc/*.lst "$t/boot/grub/i386-pc/"
        chroot "$t" grub-editenv /boot/grub/grubenv create
        cat >"$t/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
insmod part_msdos
insmod ext2
set root=(hd0,msdos1)
linux /boot/vmlinuz-$kver root=UUID=$uuid ro console=ttyS0,115200n8 mitigations=off panic=-1 rd.shell=0 rd.emergency=reboot
initrd /boot/initrd.img-$kver
boot
EOF
        chroot "$t" grub-mkimage -O i386-pc -o /tmp/vhc-core.img -p '(hd0,msdos1)/boot/grub' \
                biosdisk part_msdos ext2
        mv "$t/tmp/vhc-core.img" "$vm/core$sfx.img"
        cp "$t/usr/lib/grub/i386-pc/boot.img" "$vm/boot$sfx.img"
        cp "$t/boot/vmlinuz-$kver" "$vm/vmlinuz"   # for the KVM probe
        # The kernel's install hook made a generic initramfs; a small one boots
        # faster. The guest's own generator (host-only) replaces it on install.
        # Host-only cannot work in a chroot (it would look at this machine's
        # disks): the modules are named instead.
        if [ "$variant" = dracut ]; then
                chroot "$t" dracut --force --no-hostonly --kver "$kver" \
                        --drivers "virtio_pci virtio_blk ext4 cirrus bochs" >>"$vm/initramfs$sfx.log" 2>&1 ||
                        die "dracut in the guest tree failed (log: $vm/initramfs$sfx.log)"
        else
                cp -a "$t/etc/initramfs-tools" "$t/tmp/vhc-itconf"
                echo MODULES=list >"$t/tmp/vhc-itconf/conf.d/60-vhc-chroot.conf"
                printf '%s\n' virtio_pci virtio_blk ext4 >>"$t/tmp/vhc-itconf/modules"
                chroot "$t" mkinitramfs -d /tmp/vhc-itconf -o "/boot/initrd.img-$kver" "$kver" \
                        >>"$vm/initramfs$sfx.log" 2>&1 ||
                        die "mkinitramfs in the guest tree failed (log: $vm/initramfs$sfx.log)"
                rm -rf "$t/tmp/vhc-itconf"
        fi
}

write_disk() {
        local t=$1 size
        note "disk: mkfs.ext4 -d, sfdisk, GRUB boot sector"
        rm -f "$vm/part$sfx.img" "$disk"
        mkfs.ext4 -q -F -L vhcroot -U "$uuid" -d "$t" "$vm/part$sfx.img" "${part_mib}M"
        truncate -s $(((part_mib + 1) * 1024 * 1024)) "$disk"
        printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$disk"
        dd if="$vm/part$sfx.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
        rm -f "$vm/part$sfx.img"
        # core.img goes in the gap between the MBR and the partition; boot.img's
        # code (not its partition table) goes in the MBR. boot.img's default
        # kernel sector (1) and diskboot's default blocklist (from sector 2)
        # are right for a core.img written at sector 1.
        size=$(stat -c %s "$vm/core$sfx.img")
        [ "$size" -le $((2047 * 512)) ] || die "core.img ($size bytes) does not fit before the partition"
        dd if="$vm/core$sfx.img" of="$disk" bs=512 seek=1 conv=notrunc status=none
        dd if="$vm/boot$sfx.img" of="$disk" bs=440 count=1 conv=notrunc status=none
}

if [ -f "$base" ] && [ -f "$base.stamp" ] && [ "$(cat "$base.stamp")" = "$stamp_image" ]; then
        note "image: up to date ($base)"
        exit 0
fi
rm -f "$base" "$base.stamp"
build_rootfs
configure_rootfs "$tmp/root"
write_disk "$tmp/root"
cleanup
trap - EXIT

note "image: prep boot (update-grub in the guest) for $variant"
run_stage "$vm" prep "$disk" raw "$vm/prep$sfx" || die "prep boot failed: see $vm/prep$sfx/serial.log"
mv "$disk" "$base"
echo "$stamp_image" >"$base.stamp"
note "image: ready ($base)"
