#!/usr/bin/env bash
# The commands README.md and virt-guest-xml(1) give a normal user work
# (issue 15, item 11): virsh talks to qemu:///system (qemu:///session cannot
# rebind PCI devices) with sudo; qemu-img writes /var/lib/libvirt/images with
# sudo; ISOs and disks are not in a home directory, which the system QEMU
# (user qemu) cannot read.
. "$(dirname "$0")/lib.sh"

# Command lines of the examples: README's indented blocks, the pages' ``` blocks.
{ awk '/^    / { sub(/^    (\$ )?/, ""); print "README.md: " $0 }' "$TOP/README.md"
  for p in "$TOP"/docs/*.scd; do
      awk -v f="${p#"$TOP"/}" '/^```/ { on = !on; next } on { print f ": " $0 }' "$p"
  done; } > "$WORK/cmds"
grep -q 'virsh' "$WORK/cmds" || fail "no virsh command found in the examples"
n=0
while IFS= read -r line; do
    cmd=${line#*: }
    case $cmd in
    *virsh\ *)
        n=$((n + 1))
        case $cmd in *"sudo virsh -c qemu:///system "*) ;;
        *) fail "$line: virsh without 'sudo virsh -c qemu:///system'" ;; esac ;;
    esac
    case $cmd in
    *"qemu-img create"*/var/lib/libvirt/*)
        case $cmd in *"sudo qemu-img create"*) ;; *) fail "$line: qemu-img into /var/lib/libvirt without sudo" ;; esac ;;
    esac
    case $cmd in
    *--cdrom\ ~*|*--cdrom\ \$HOME*|*--cdrom\ /home/*|*--disk\ ~*|*--disk\ /home/*)
        fail "$line: an image in a home directory, unreadable to user qemu" ;;
    esac
done < "$WORK/cmds"
[ "$n_fail" = 0 ] && ok "the $n virsh commands of the examples use qemu:///system with sudo; images outside homes"
grep -q 'qemu:///session' "$TOP/README.md" && grep -q '0700' "$TOP/README.md" \
    && ok "README says why" || fail "README does not say why (qemu:///session, homes of mode 0700)"
finish
