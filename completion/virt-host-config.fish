# fish completion for virt-host-config(8)
# SPDX-License-Identifier: MIT

set -l commands list check apply revert status
complete -c virt-host-config -f

complete -c virt-host-config -n "not __fish_seen_subcommand_from $commands" -a list \
    -d 'PCI devices with IOMMU group, driver and the planned action'
complete -c virt-host-config -n "not __fish_seen_subcommand_from $commands" -a check \
    -d 'Prerequisites, each PASS, WARN or FAIL with a hint'
complete -c virt-host-config -n "not __fish_seen_subcommand_from $commands" -a apply \
    -d 'Make the system match the config'
complete -c virt-host-config -n "not __fish_seen_subcommand_from $commands" -a revert \
    -d 'Undo exactly what apply did'
complete -c virt-host-config -n "not __fish_seen_subcommand_from $commands" -a status \
    -d 'Applied, reboot pending, isolated devices and their drivers'

complete -c virt-host-config -l root -x -a '(__fish_complete_directories (commandline -ct))' \
    -d 'Work on the machine tree under DIR'
complete -c virt-host-config -l config -r -F -d 'Read FILE instead of the default config'
# As main.c takes them: --json with list, check and status; --dry-run with
# apply and revert; --defer and --first-boot with apply only.
complete -c virt-host-config -l json \
    -n "__fish_seen_subcommand_from list check status; or not __fish_seen_subcommand_from $commands" \
    -d 'Machine-readable output'
complete -c virt-host-config -l dry-run \
    -n "__fish_seen_subcommand_from apply revert; or not __fish_seen_subcommand_from $commands" \
    -d 'Print a unified diff of what would change; write nothing'
complete -c virt-host-config -l defer \
    -n "__fish_seen_subcommand_from apply; or not __fish_seen_subcommand_from $commands" \
    -d 'Record the boot-file rebuild as pending for the next apply'
complete -c virt-host-config -l first-boot \
    -n "__fish_seen_subcommand_from apply; or not __fish_seen_subcommand_from $commands" \
    -d 'Apply, then bind the isolated devices to vfio-pci now'
complete -c virt-host-config -s h -l help -d 'Show the help'
complete -c virt-host-config -l version -d 'Show the version'
