# fish completion for virt-guest-xml(1)
# SPDX-License-Identifier: MIT

# The addresses --hostdev takes: what "virt-host-config list --json" isolates
# under the same --root and --config; without virt-host-config, the display
# controllers in sysfs that are not the boot VGA device.
function __virt_guest_xml_hostdevs
    set -l tokens (commandline -opc)
    set -l args
    set -l root
    set -l n (count $tokens)
    for i in (seq 2 $n)
        switch $tokens[$i]
            case --root --config
                if test $i -lt $n
                    set -a args $tokens[$i] $tokens[(math $i + 1)]
                    test $tokens[$i] = --root; and set root $tokens[(math $i + 1)]
                end
            case '--root=*'
                set -a args $tokens[$i]
                set root (string replace -- --root= '' $tokens[$i])
            case '--config=*'
                set -a args $tokens[$i]
        end
    end
    echo auto\t'What virt-host-config isolates'
    set -l vhc (command -s virt-host-config; or echo /usr/sbin/virt-host-config)
    set -l out
    test -x "$vhc[1]"; and set out ($vhc[1] $args list --json 2>/dev/null | string join '')
    if string match -q '*"devices"*' -- "$out"
        string split '}' -- $out | string match -r '^.*"action"\s*:\s*"isolate".*$' |
            string replace -rf '.*"address"\s*:\s*"([^"]*)".*' '$1\tisolated'
        return
    end
    for d in $root/sys/bus/pci/devices/*
        test -r $d/class; or continue
        string match -q '0x03*' -- (cat $d/class); or continue
        test -r $d/boot_vga; and test (cat $d/boot_vga) = 1; and continue
        echo (basename $d)\t'display controller'
    end
end

set -l create_only name memory vcpus os disk cdrom spice-listen
complete -c virt-guest-xml -f
complete -c virt-guest-xml -n "not __fish_seen_subcommand_from patch; and not __fish_seen_argument -l "(string join ' -l ' $create_only) \
    -a patch -d 'Edit a domain XML read on stdin'

complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l name -x -d "The guest's name"
complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l memory -x -d 'Memory: 8G, 8192M (a bare number is MiB)'
complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l vcpus -x -d 'Virtual CPUs'
complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l os -x -a 'win10 win11 linux' -d 'Guest OS (default win10)'
complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l disk -r -F -d 'An existing image, or PATH,size=GIB to create'
complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l cdrom -r -F -d 'Installation medium, booted first'
complete -c virt-guest-xml -l hostdev -x -a '(__virt_guest_xml_hostdevs)' -d 'Pass a PCI device through'
complete -c virt-guest-xml -l rom -r -F -d 'Option ROM with a UEFI image: [ADDR=]FILE'
complete -c virt-guest-xml -l pin -x -a 'auto none' -d 'Pin vCPUs to whole host cores'
complete -c virt-guest-xml -l hugepages -d "Back the guest's memory with huge pages"
complete -c virt-guest-xml -l input -x -a '(for f in /dev/input/by-id/*; echo evdev:$f; end)' \
    -d 'Pass a keyboard or mouse through'
complete -c virt-guest-xml -l nvidia -d 'NVIDIA "Error 43" settings'
complete -c virt-guest-xml -l no-nvidia -d 'No NVIDIA "Error 43" settings'
complete -c virt-guest-xml -n 'not __fish_seen_subcommand_from patch' -l spice-listen -x -a '127.0.0.1 0.0.0.0' -d 'SPICE display address'
complete -c virt-guest-xml -l audio -x -a 'auto pipewire pulseaudio spice' -d "Where the guest's sound goes"
complete -c virt-guest-xml -n '__fish_seen_subcommand_from patch' -l audio -x -a keep -d "Keep the domain's sound"
complete -c virt-guest-xml -l looking-glass -a '1920x1080 2560x1440 3840x2160' -d 'Looking Glass, for =WIDTHxHEIGHT'
complete -c virt-guest-xml -n '__fish_seen_subcommand_from patch' -l diff -d 'Print the changes as a unified diff'
complete -c virt-guest-xml -l root -x -a '(__fish_complete_directories (commandline -ct))' \
    -d 'Read the machine under DIR'
complete -c virt-guest-xml -l config -r -F -d "virt-host-config's config for --hostdev auto"
complete -c virt-guest-xml -s h -l help -d 'Show the help'
complete -c virt-guest-xml -l version -d 'Show the version'
