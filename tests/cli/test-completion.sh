#!/usr/bin/env bash
# Shell completion of both programs. bash: the completion function is called
# the way bash calls it (COMP_WORDS split at whitespace and at the "=" and ":"
# of COMP_WORDBREAKS, COMP_CWORD, COMP_LINE, COMP_POINT) in a subshell under
# "set -u", and COMPREPLY is compared; PCI addresses come from a shipped
# machine through --root. Then the same files in a real bash and zsh on a
# terminal (TAB pressed, the edited line read back), and fish's "complete -C".
# The commands and options offered are checked against --help.
. "$(dirname "$0")/lib.sh"
: "${VGX:=$BUILDDIR/virt-guest-xml}"
COMP=$TOP/completion
M=$TOP/tests/machines/intel-nvidia

# The programs just built, first on PATH: --hostdev runs "virt-host-config list --json".
BIN=$WORK/bin
mkdir -p "$BIN"
ln -s "$VHC" "$BIN/virt-host-config"
ln -s "$VGX" "$BIN/virt-guest-xml"
export PATH="$BIN:$PATH"

# Splits a line as bash does for COMP_WORDS: at blanks, and a run of "=" or
# ":" (word-break characters) is a word of its own. The cursor is at the end.
split_line() {
    local line=$1 w='' ch i
    COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
        ch=${line:i:1}
        case $ch in
        ' ')
            [[ -n $w ]] && COMP_WORDS+=("$w")
            w=
            ;;
        = | :)
            [[ -n $w && $w != *[=:] ]] && { COMP_WORDS+=("$w"); w=; }
            w+=$ch
            ;;
        *)
            [[ $w == [=:]* ]] && { COMP_WORDS+=("$w"); w=; }
            w+=$ch
            ;;
        esac
    done
    COMP_WORDS+=("$w")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
}

# comp LINE: the completions, sorted, one per line, from a subshell that
# sourced the program's completion file (and bash-completion first when
# $WITH_BASH_COMPLETION is set). Anything on stderr is a failure.
comp() {
    (
        if [[ ${WITH_BASH_COMPLETION-} ]]; then
            set +u
            . "$WITH_BASH_COMPLETION"
            set -u
        fi
        split_line "$1"
        . "$COMP/${COMP_WORDS[0]}"
        fn=$(complete -p "${COMP_WORDS[0]}" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
        "$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort
    ) 2> "$WORK/comp.err"
    [ ! -s "$WORK/comp.err" ] || { echo "stderr of completing '$1':" >&2; cat "$WORK/comp.err" >&2; return 1; }
}

# expect LINE CANDIDATE...: exactly these completions (none when no candidate).
expect() {
    local line=$1 got want
    shift
    got=$(comp "$line") || { fail "'$line': the completion wrote to stderr"; return; }
    want=$( (($#)) && printf '%s\n' "$@" | sort)
    if [ "$got" = "$want" ]; then
        ok "'$line' -> $(echo $want)"
    else
        fail "'$line'"
        diff -u <(echo "$want") <(echo "$got") | sed 's/^/    /' >&2
    fi
}

# The commands and long options of a program's --help, one per line, sorted.
help_commands() { "$1" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort; }
help_options() { "$1" --help | sed -n '/^Options:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u; }

bash_cases() {
    # virt-host-config: commands, then the options that go with each.
    expect "virt-host-config " apply check list revert status
    expect "virt-host-config l" list
    expect "virt-host-config --root $M s" status
    expect "virt-host-config --root=$M s" status
    expect "virt-host-config --json st" status
    expect "virt-host-config list x"
    expect "virt-host-config apply --" --config --defer --dry-run --first-boot --help --root --version
    expect "virt-host-config revert --d" --dry-run
    expect "virt-host-config list --" --config --help --json --root --version
    expect "virt-host-config apply --dry-run --d" --defer
    expect "virt-host-config --root $M apply --r"
    expect "virt-host-config --ver" --version

    # --root takes directories, --config files; "--root=DIR" too, where
    # readline replaces what follows the "=".
    mkdir -p "$WORK/t/machine-a" "$WORK/t/machine-b"
    : > "$WORK/t/machine.conf"
    expect "virt-host-config --root $WORK/t/mach" "$WORK/t/machine-a" "$WORK/t/machine-b"
    expect "virt-host-config --root=$WORK/t/machine-" "$WORK/t/machine-a" "$WORK/t/machine-b"
    expect "virt-host-config --config $WORK/t/machine." "$WORK/t/machine.conf"
    expect "virt-host-config list --root $TOP/tests/machines/intel-nv" "$M"

    # virt-guest-xml: values of --os and --pin, "=" split off or not.
    expect "virt-guest-xml --os " linux win10 win11
    expect "virt-guest-xml --os=w" win10 win11
    expect "virt-guest-xml --name g --pin " auto none
    expect "virt-guest-xml --spice-listen 0" 0.0.0.0
    expect "virt-guest-xml --name "
    expect "virt-guest-xml --vcpus "

    # --hostdev: auto and what virt-host-config isolates on the machine under
    # --root; readline replaces what follows the last ":", so that is what
    # the candidates hold.
    expect "virt-guest-xml --root $M --hostdev " auto 0000:01:00.0 0000:01:00.1
    expect "virt-guest-xml --root=$M --hostdev=" auto 0000:01:00.0 0000:01:00.1
    expect "virt-guest-xml --hostdev 0000:01:00.1 --root $M --hostdev 0000:01:00." 00.0 00.1
    expect "virt-guest-xml --root $M --hostdev 0000:" 01:00.0 01:00.1
    expect "virt-guest-xml --root $M --hostdev 01" 01:00.0 01:00.1
    expect "virt-guest-xml --root $M --hostdev a" auto
    expect "virt-guest-xml --root $TOP/tests/machines/rtx2070-4fn --hostdev 0000:01:00." 00.0 00.1 00.2 00.3
    expect "virt-guest-xml --root $TOP/tests/machines/single-gpu --hostdev " auto
    # --config is passed on: nothing isolated, nothing offered but auto.
    echo 'isolate = none' > "$WORK/none.conf"
    expect "virt-guest-xml --root $M --config $WORK/none.conf --hostdev " auto
    # A config error still lists the devices, none isolated.
    echo 'isolate = 0000:00:02.0' > "$WORK/bad.conf"
    expect "virt-guest-xml --root $M --config $WORK/bad.conf --hostdev " auto

    # patch: a command word before any option that only creating takes; then
    # only patch's options.
    expect "virt-guest-xml p" patch
    expect "virt-guest-xml --root $M p" patch
    expect "virt-guest-xml --name g p"
    expect "virt-guest-xml patch --" --audio --config --diff --help --hostdev --hugepages --input \
        --looking-glass --no-nvidia --nvidia --pin --rom --root --version
    expect "virt-guest-xml patch --pin auto --nvidia --" --audio --config --diff --help --hostdev --hugepages \
        --input --looking-glass --rom --root --version
    expect "virt-guest-xml --audio " auto pipewire pulseaudio spice
    expect "virt-guest-xml patch --audio k" keep
    expect "virt-guest-xml --looking-glass=2" 2560x1440
    expect "virt-guest-xml --looking-glass --n" --name --no-nvidia --nvidia
    expect "virt-guest-xml --name g --d" --disk
    expect "virt-guest-xml --d" --diff --disk
    # Repeatable options stay on offer, the others once, --nvidia or --no-nvidia.
    expect "virt-guest-xml --hostdev auto --cdrom a.iso --c" --cdrom --config
    expect "virt-guest-xml --os win10 --o"
    expect "virt-guest-xml --nvidia --n" --name
    expect "virt-guest-xml --no-nvidia --n" --name

    # --cdrom: directories and ISO images; --disk: any file.
    mkdir -p "$WORK/img/isos"
    : > "$WORK/img/win.iso"
    : > "$WORK/img/WIN11.ISO"
    : > "$WORK/img/notes.txt"
    expect "virt-guest-xml --cdrom $WORK/img/" "$WORK/img/WIN11.ISO" "$WORK/img/isos" "$WORK/img/win.iso"
    expect "virt-guest-xml --disk $WORK/img/n" "$WORK/img/notes.txt"

    # --input: evdev: and the devices of /dev/input/by-id (here a stand-in).
    mkdir -p "$WORK/by-id"
    : > "$WORK/by-id/usb-Logitech_USB_Keyboard-event-kbd"
    : > "$WORK/by-id/usb-Logitech_USB_Mouse-event-mouse"
    export _virt_guest_xml_input_dir=$WORK/by-id
    expect "virt-guest-xml --input " "evdev:$WORK/by-id/usb-Logitech_USB_Keyboard-event-kbd" \
        "evdev:$WORK/by-id/usb-Logitech_USB_Mouse-event-mouse"
    expect "virt-guest-xml --input evdev:$WORK/by-id/usb-Logitech_USB_K" \
        "$WORK/by-id/usb-Logitech_USB_Keyboard-event-kbd"
    unset _virt_guest_xml_input_dir
}

bash_cases
if [ -r /usr/share/bash-completion/bash_completion ]; then
    echo "--- again with bash-completion loaded"
    WITH_BASH_COMPLETION=/usr/share/bash-completion/bash_completion bash_cases
else
    echo "skip: bash-completion is not installed"
fi

# Without virt-host-config (virt-guest-xml is installable alone): the
# display controllers in sysfs that are not the boot VGA device.
if [ -e /usr/sbin/virt-host-config ]; then
    echo "skip: /usr/sbin/virt-host-config is installed, the fallback is not reached"
else
    PATH=${PATH#"$BIN:"} expect "virt-guest-xml --root $M --hostdev " auto 0000:01:00.0
    PATH=${PATH#"$BIN:"} expect "virt-guest-xml --root $TOP/tests/machines/two-amd-identical --hostdev " \
        auto $(cd "$TOP/tests/machines/two-amd-identical/sys/bus/pci/devices" && for d in *; do
            [ "$(cat "$d/class")" = 0x030000 ] && [ "$(cat "$d/boot_vga" 2> /dev/null)" != 1 ] && echo "$d"
        done)
fi

# Every command and option of --help is offered, and nothing else.
[ "$(comp 'virt-host-config ')" = "$(help_commands "$VHC")" ] && ok "virt-host-config: the commands of --help" ||
    fail "virt-host-config: commands offered: $(comp 'virt-host-config ' | xargs), in --help: $(help_commands "$VHC" | xargs)"
[ "$(comp 'virt-host-config --')" = "$(help_options "$VHC")" ] && ok "virt-host-config: the options of --help" ||
    fail "virt-host-config: options offered: $(comp 'virt-host-config --' | xargs), in --help: $(help_options "$VHC" | xargs)"
[ "$(comp 'virt-guest-xml --')" = "$(help_options "$VGX")" ] && ok "virt-guest-xml: the options of --help" ||
    fail "virt-guest-xml: options offered: $(comp 'virt-guest-xml --' | xargs), in --help: $(help_options "$VGX" | xargs)"

# On a terminal: the real readline of bash and zle of zsh split the line,
# call the completion and edit the line; a key bound to print the line
# shows the result.
if command -v python3 > /dev/null; then
    cat > "$WORK/term.py" << 'PY'
import os, pty, select, sys, time

shell, setup = sys.argv[1], sys.argv[2]
cases = [l.rstrip("\n") for l in sys.stdin if l.strip()]

buf = b""

def expect(fd, marker, timeout=30):
    """What the terminal shows up to and including marker; the rest stays for the next call."""
    global buf
    end = time.time() + timeout
    while marker not in buf:
        if time.time() > end:
            sys.exit("timed out waiting for %r; got %r" % (marker, buf[-300:]))
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                sys.exit("shell exited: %r" % buf[-300:])
    i = buf.index(marker) + len(marker)
    out, buf = buf[:i], buf[i:]
    return out

pid, fd = pty.fork()
if pid == 0:
    # No inputrc: a TAB bound to menu-complete, say, would change what is tested.
    os.environ.update(TERM="dumb", COLUMNS="400", LINES="100", INPUTRC="/dev/null")
    argv = ["bash", "--norc", "--noprofile", "-i"] if shell == "bash" else ["zsh", "-f", "-i"]
    os.execvp(argv[0], argv)
# The terminal echoes what is typed: the marker printed differs from the typed one.
os.write(fd, setup.encode() + b"; echo RE''ADY\n")
# zsh drops what is typed before its line editor is up: wait for the prompt.
expect(fd, b"READY\r\n")
expect(fd, b"P> ")
for line in cases:
    # TAB, then ^T prints the edited line between markers, ^U clears it.
    os.write(fd, line.encode() + b"\t\x14\x15")
    out = expect(fd, b"]>>")
    print(out[out.rindex(b"<<[") + 3 : out.rindex(b"]>>")].decode())
os.kill(pid, 9)
os.waitpid(pid, 0)
PY
    # tty_check SHELL SETUP, then "typed line|line after TAB" pairs on stdin.
    tty_check() {
        local shell=$1 setup=$2 typed want n=0
        local -a in=() out=()
        while IFS='|' read -r typed want; do
            in+=("$typed") out+=("$want")
        done
        printf '%s\n' "${in[@]}" | (cd "$TOP" && python3 "$WORK/term.py" "$shell" "$setup") > "$WORK/tty.out" 2>&1 ||
            { fail "$shell on a terminal: $(cat "$WORK/tty.out")"; return; }
        while IFS= read -r got; do
            [ "$got" = "${out[n]}" ] && ok "$shell on a terminal: '${in[n]}' -> '$got'" ||
                fail "$shell on a terminal: '${in[n]}' -> '$got', expected '${out[n]}'"
            n=$((n + 1))
        done < "$WORK/tty.out"
        [ "$n" = "${#in[@]}" ] || fail "$shell on a terminal: $n results for ${#in[@]} lines"
    }
    m=tests/machines/intel-nvidia
    cases="virt-host-config --root $m sta|virt-host-config --root $m status 
virt-host-config --root=tests/machines/intel-nv|virt-host-config --root=tests/machines/intel-nvidia/
virt-host-config apply --de|virt-host-config apply --defer 
virt-guest-xml --os=win1|virt-guest-xml --os=win1
virt-guest-xml --root $m --hostdev 0000:01:00.1 --hostdev 0000:0|virt-guest-xml --root $m --hostdev 0000:01:00.1 --hostdev 0000:01:00.
virt-guest-xml --root=$m --hostdev=0000:01:00.1 --hostdev=0000:01:00.0 --hostdev=a|virt-guest-xml --root=$m --hostdev=0000:01:00.1 --hostdev=0000:01:00.0 --hostdev=auto 
virt-guest-xml --name g --pin a|virt-guest-xml --name g --pin auto 
virt-guest-xml --name g p|virt-guest-xml --name g p
virt-guest-xml --pin auto pa|virt-guest-xml --pin auto patch "
    tty_check bash "PS1='P> '; bind -x '\"\\C-t\": printf \"<<[%s]>>\" \"\$READLINE_LINE\"'; . completion/virt-host-config; . completion/virt-guest-xml" <<< "$cases"
    if command -v zsh > /dev/null; then
        tty_check zsh "PS1='P> '; fpath=(\$PWD/completion \$fpath); autoload -U compinit; compinit -u -D; show() { print -rn -- \"<<[\$BUFFER]>>\" }; zle -N show; bindkey '^T' show; bindkey '^U' kill-whole-line" <<< "$cases
virt-guest-xml patch --roo|virt-guest-xml patch --root="
    else
        echo "skip: no zsh"
    fi
else
    echo "skip: no python3 for a terminal"
fi

# fish answers "complete -C LINE" itself.
if command -v fish > /dev/null; then
    fishc() {
        (cd "$TOP" && fish --no-config -c "source completion/virt-host-config.fish; source completion/virt-guest-xml.fish
            complete -C '$1'" | cut -f1 | sort)
    }
    fish_expect() {
        local line=$1 got want
        shift
        got=$(fishc "$line") want=$(printf '%s\n' "$@" | sort)
        [ "$got" = "$want" ] && ok "fish: '$line' -> $(echo $want)" ||
            { fail "fish: '$line'"; diff -u <(echo "$want") <(echo "$got") | sed 's/^/    /' >&2; }
    }
    fish_expect "virt-host-config " apply check list revert status
    fish_expect "virt-host-config apply --" --config --defer --dry-run --first-boot --help --root --version
    fish_expect "virt-host-config list --" --config --help --json --root --version
    fish_expect "virt-host-config --root tests/machines/intel-nv" tests/machines/intel-nvidia/
    fish_expect "virt-guest-xml --os " linux win10 win11
    fish_expect "virt-guest-xml --root tests/machines/intel-nvidia --hostdev " auto 0000:01:00.0 0000:01:00.1
    fish_expect "virt-guest-xml --root=tests/machines/rtx2070-4fn --hostdev=0000:01:00." \
        --hostdev=0000:01:00.0 --hostdev=0000:01:00.1 --hostdev=0000:01:00.2 --hostdev=0000:01:00.3
    fish_expect "virt-guest-xml p" patch
    fish_expect "virt-guest-xml --name g p"
    fish_expect "virt-guest-xml --audio " auto pipewire pulseaudio spice
    fish_expect "virt-guest-xml patch --d" --diff
else
    echo "skip: no fish"
fi

# zsh reads the files at all (a syntax error would only show at the first TAB).
if command -v zsh > /dev/null; then
    for f in "$COMP"/_*; do
        zsh -n "$f" && ok "zsh -n $(basename "$f")" || fail "zsh -n $(basename "$f")"
    done
fi
finish
