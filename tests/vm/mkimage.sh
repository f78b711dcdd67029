#!/bin/bash
# Builds the check-vm guest disk: a Debian system (debootstrap) with GRUB for
# BIOS in the MBR gap, written without loop devices or mounts:
#   debootstrap.tar  debootstrap --variant=minbase with systemd, udev, rpm...
#   rootfs.tar       + apt-get install of the kernel, dracut, grub-pc, ovmf
#   part.img         the tree configured for the test, mkfs.ext4 -d
#   disk.raw         sfdisk partition table + part.img at 1 MiB + boot.img/core.img
#   base.raw         disk.raw after the "prep" boot, which runs update-grub inside
#                    the guest (grub-probe needs the real disk) as an install would
# Usage: mkimage.sh VMDIR [dracut|initramfs-tools|sdboot]
# Everything is written under VMDIR. The initramfs-tools variant (Debian's and
# Ubuntu's own initramfs generator instead of dracut) is base-initramfs-tools.raw,
# its other files have the same suffix.
# The sdboot variant (base-sdboot.raw) boots under UEFI (OVMF) with
# systemd-boot and dracut, no GRUB: a GPT disk with an EFI system partition
# (mkfs.vfat and mcopy, mounted at /boot/efi) that holds the BLS type-1 entry
# kernel-install wrote, and the root partition. It needs no prep boot. The
# package of a second kernel waits in /var/cache/vhc-kernel/ for the test's
# kernel update.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

vm=${1:?usage: mkimage.sh VMDIR [dracut|initramfs-tools|sdboot]}
variant=${2:-dracut}
case $variant in
dracut) sfx= ;;
initramfs-tools) sfx=-initramfs-tools ;;
sdboot) sfx=-sdboot ;;
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
# systemd-boot 252 and kernel-install (systemd), dracut 059; no GRUB at all.
[ "$variant" = sdboot ] && second_pkgs="linux-image-amd64 dracut systemd-boot ovmf"

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
esp_mib=256
esp_id=5EC1B007                               # the ESP's volume id: UUID=5EC1-B007 in fstab
# The guest's kernel command line (no_timer_check: under TCG the timer
# check misfires now and then and the boot stalls).
cmdline_tail="console=ttyS0,115200n8 mitigations=off panic=-1 rd.shell=0 rd.emergency=reboot no_timer_check"

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
        # The variants are built side by side: one debootstraps, the others wait.
        exec 9>"$vm/debootstrap.lock"
        flock 9
        if [ -f "$vm/debootstrap.tar" ] && [ "$(cat "$vm/debootstrap.stamp" 2>/dev/null)" = "$stamp_debootstrap" ]; then
                untar "$vm/debootstrap.tar" "$t"
                exec 9>&-
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
        mktar "$vm/debootstrap.tar.new" "$t"
        mv "$vm/debootstrap.tar.new" "$vm/debootstrap.tar"
        echo "$stamp_debootstrap" >"$vm/debootstrap.stamp"
        exec 9>&-
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
        if [ "$variant" = sdboot ]; then
                # The kernel update of the test: another linux-image-*-amd64
                # of this release, one ABI below the installed one (so that
                # systemd-boot's default entry stays the installed kernel's).
                local cur other
                cur=linux-image-$(cd "$t/lib/modules" && ls | sort -V | tail -n 1)
                other=$({ chroot "$t" apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-amd64$' |
                        awk '{ print $1 }'; echo "$cur"; } | sort -uV | grep -B1 -x "$cur" | grep -vx "$cur")
                [ -n "$other" ] || die "no second kernel package below $cur in the mirror"
                mkdir -p "$t/var/cache/vhc-kernel"
                chroot "$t" sh -c "cd /var/cache/vhc-kernel && apt-get download $other" >>"$vm/apt$sfx.log" 2>&1 ||
                        die "apt-get download $other failed (log: $vm/apt$sfx.log)"
        fi
        cp -n "$t"/var/cache/apt/archives/*.deb "$vm/cache/" 2>/dev/null || true
        chroot "$t" apt-get clean
        mktar "$vm/rootfs$sfx.tar.new" "$t"
        mv "$vm/rootfs$sfx.tar.new" "$vm/rootfs$sfx.tar"
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

        if [ "$variant" = sdboot ]; then
                printf 'UUID=%s\t/boot/efi\tvfat\tumask=0077\t0\t2\n' "${esp_id:0:4}-${esp_id:4}" >>"$t/etc/fstab"
                install -D -m 0644 "$here/guest/dracut-vm.conf" "$t/etc/dracut.conf.d/50-vhc-vm.conf"
        else
                # /etc/default/grub stays Debian's own: the product edits it.
                install -D -m 0644 "$here/guest/grub-vm.cfg" "$t/etc/default/grub.d/50-vhc-vm.cfg"
        fi
        if [ "$variant" = dracut ]; then
                install -D -m 0644 "$here/guest/dracut-vm.conf" "$t/etc/dracut.conf.d/50-vhc-vm.conf"
        elif [ "$variant" = initramfs-tools ]; then
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

        cp "$t/boot/vmlinuz-$kver" "$vm/vmlinuz"   # for the KVM probe
        if [ "$variant" = sdboot ]; then
                configure_sdboot "$t" "$kver"
        else
                configure_grub "$t" "$kver"
        fi
}

# esp_chroot TREE COMMAND...: COMMAND chrooted into TREE, with /boot/efi a
# file system of its own as the ESP is on the guest (bootctl wants the root
# of a mount; kernel-install names the entry's files relative to the mount
# point, which stat finds by the device number: a tmpfs, filled from and
# written back to the tree's directory) and with /proc (bootctl links its
# temporary files into place through /proc/self/fd). The mounts live in a
# mount namespace of their own and are gone with it.
esp_chroot() {
        local t=$1
        shift
        mkdir -p "$tmp/esp-real"
        unshare -m --propagation private sh -c 't=$1 real=$2; shift 2
                mount --bind "$t/boot/efi" "$real" && mount -t tmpfs -o mode=0755 tmpfs "$t/boot/efi" &&
                        cp -a "$real/." "$t/boot/efi/" && mount -t proc proc "$t/proc" || exit 1
                chroot "$t" "$@"
                rc=$?
                find "$real" -mindepth 1 -delete && cp -a "$t/boot/efi/." "$real/" || exit 1
                exit $rc' sh "$t" "$tmp/esp-real" "$@"
}

# systemd-boot on the ESP at /boot/efi, the entry made by kernel-install as
# Debian's zz-systemd-boot kernel hook makes it.
configure_sdboot() {
        local t=$1 kver=$2 mid entry
        mid=$(cat "$t/etc/machine-id")
        # What kernel-install makes every entry's options from (without it, it
        # takes /proc/cmdline: in this chroot, this machine's).
        echo "root=UUID=$uuid ro $cmdline_tail" >"$t/etc/kernel/cmdline"
        mkdir -p "$t/boot/efi"
        # A directory, not a FAT partition: bootctl's file system checks
        # relaxed, no EFI variables.
        esp_chroot "$t" env SYSTEMD_RELAX_ESP_CHECKS=1 bootctl install --esp-path=/boot/efi --no-variables \
                --make-machine-id-directory=yes >>"$vm/initramfs$sfx.log" 2>&1 ||
                die "bootctl install in the guest tree failed (log: $vm/initramfs$sfx.log)"
        # The small initramfs (see configure_grub), where Debian's dracut
        # kernel hook writes it and kernel-install's 85-initrd.install takes it.
        chroot "$t" dracut --force --no-hostonly --drivers "virtio_pci virtio_blk ext4 vfat cirrus bochs" \
                "/boot/initrd.img-$kver" "$kver" >>"$vm/initramfs$sfx.log" 2>&1 ||
                die "dracut in the guest tree failed (log: $vm/initramfs$sfx.log)"
        esp_chroot "$t" env SYSTEMD_RELAX_ESP_CHECKS=1 kernel-install -v add "$kver" "/boot/vmlinuz-$kver" \
                >>"$vm/initramfs$sfx.log" 2>&1 ||
                die "kernel-install add in the guest tree failed (log: $vm/initramfs$sfx.log)"
        entry=$t/boot/efi/loader/entries/$mid-$kver.conf
        [ -f "$entry" ] || die "kernel-install wrote no $entry (log: $vm/initramfs$sfx.log)"
        # A user's own argument in this entry only: it must outlive install and remove.
        sed -i '/^options/s/$/ nvidia-drm.modeset=1/' "$entry"
        # A random seed the boot loader rewrites at each boot is no file of the test.
        rm -f "$t/boot/efi/loader/random-seed"
}

# GRUB for BIOS (the other two variants).
configure_grub() {
        local t=$1 kver=$2
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
linux /boot/vmlinuz-$kver root=UUID=$uuid ro $cmdline_tail
initrd /boot/initrd.img-$kver
boot
EOF
        chroot "$t" grub-mkimage -O i386-pc -o /tmp/vhc-core.img -p '(hd0,msdos1)/boot/grub' \
                biosdisk part_msdos ext2
        mv "$t/tmp/vhc-core.img" "$vm/core$sfx.img"
        cp "$t/usr/lib/grub/i386-pc/boot.img" "$vm/boot$sfx.img"
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
        if [ "$variant" = sdboot ]; then
                write_disk_gpt "$t"
                return
        fi
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

# GPT: the ESP (FAT32 from the tree's /boot/efi, by mtools) at 1 MiB, the
# root file system after it; OVMF boots the ESP's EFI/BOOT/BOOTX64.EFI.
write_disk_gpt() {
        local t=$1 esp_start=1 root_start # MiB
        root_start=$((esp_start + esp_mib))
        note "disk: mkfs.vfat + mcopy (ESP), mkfs.ext4 -d, sfdisk (GPT)"
        rm -f "$vm/esp$sfx.img" "$vm/part$sfx.img" "$disk"
        mkfs.vfat -F 32 -n ESP -i "$esp_id" -C "$vm/esp$sfx.img" $((esp_mib * 1024)) >/dev/null
        mcopy -Q -s -p -i "$vm/esp$sfx.img" "$t"/boot/efi/* ::/
        find "$t/boot/efi" -mindepth 1 -delete
        mkfs.ext4 -q -F -L vhcroot -U "$uuid" -d "$t" "$vm/part$sfx.img" "${part_mib}M"
        truncate -s $(((1 + esp_mib + part_mib + 1) * 1024 * 1024)) "$disk"
        printf 'label: gpt\nstart=%d, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP\nstart=%d, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' \
                $((esp_start * 2048)) $((esp_mib * 2048)) $((root_start * 2048)) $((part_mib * 2048)) |
                sfdisk -q "$disk"
        dd if="$vm/esp$sfx.img" of="$disk" bs=1M seek=$esp_start conv=notrunc,sparse status=none
        dd if="$vm/part$sfx.img" of="$disk" bs=1M seek="$root_start" conv=notrunc,sparse status=none
        rm -f "$vm/esp$sfx.img" "$vm/part$sfx.img"
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

if [ "$variant" = sdboot ]; then
        # kernel-install wrote the entry in the tree: nothing to do on a boot.
        mv "$disk" "$base"
        echo "$stamp_image" >"$base.stamp"
        note "image: ready ($base)"
        exit 0
fi
note "image: prep boot (update-grub in the guest) for $variant"
run_stage "$vm" prep "$disk" raw "$vm/prep$sfx" || die "prep boot failed: see $vm/prep$sfx/serial.log"
mv "$disk" "$base"
echo "$stamp_image" >"$base.stamp"
note "image: ready ($base)"
