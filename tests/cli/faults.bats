#!/usr/bin/env bats
# Integrity and resource faults (issue 9; findings R14, R15 of the
# reliability review): checksums of checkpoints and replay files, stale
# temporary files, a destination tested at start, ulimit -f, a full disk,
# out of memory, an unreadable preset. A test that needs root (a tmpfs, a
# read-only mount, another user) skips and says so where the test is not root.

load helpers

SMALL=(--hidden 8 --layers 2 --max-batch 4)

setup() {
    need_progs parpi-critic parpi-collect parpi-train
}

teardown() {
    # the mounts a test made (only under its own folder)
    local m
    for m in "$T/ro" "$T/disk"; do
        mountpoint -q "$m" 2>/dev/null && umount "$m"
    done
    return 0
}

# flip FILE OFFSET: XOR the byte at OFFSET with 0xff, in place.
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# offsets FILE: 40 offsets of FILE: the first 12 bytes, 16 spread over the
# rest, and the last 12 (the checksum's entry).
offsets() {
    local n i
    n=$(stat -c %s "$1")
    for i in $(seq 0 11); do echo "$i"; done
    for i in $(seq 1 16); do echo $((12 + (n - 24) * i / 17)); done
    for i in $(seq 12 -1 1); do echo $((n - i)); done
}

need_root() { # need_root WHAT
    [ "$(id -u)" = 0 ] || skip "$1 needs root (this test runs as $(id -un))"
}

# mount_tmpfs DIR OPTIONS: a small tmpfs of this test, or skip saying why.
mount_tmpfs() {
    need_root "a tmpfs ($2)"
    mkdir -p "$1"
    mount -t tmpfs -o "$2" tmpfs "$1" 2>"$T/mount.err" ||
        skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
}

@test "faults: every flipped byte of a checkpoint is refused, naming the file" {
    parpi-critic "${SMALL[@]}" --checkpoint "$T/q.ckpt" <"$DATA/stage-frames.mp" >/dev/null
    for i in $(offsets "$T/q.ckpt"); do
        cp "$T/q.ckpt" "$T/bad.ckpt"
        flip "$T/bad.ckpt" "$i"
        run parpi-critic "${SMALL[@]}" --resume "$T/bad.ckpt" </dev/null
        [ "$status" -eq 1 ] || { echo "byte $i flipped: exit $status: $output" >&2; return 1; }
        [[ $output == *"$T/bad.ckpt: "* ]] || { echo "byte $i flipped: file not named: $output" >&2; return 1; }
    done
    # the message a flip in the data gives
    cp "$T/q.ckpt" "$T/bad.ckpt"
    flip "$T/bad.ckpt" $(($(stat -c %s "$T/q.ckpt") / 2))
    run parpi-critic "${SMALL[@]}" --resume "$T/bad.ckpt" </dev/null
    assert_failure 1
    assert_output --regexp "^parpi-critic: $T/bad.ckpt: checksum mismatch \(the file says [0-9a-f]{8}, its contents give [0-9a-f]{8}\): the file was damaged"
    # and the good one resumes
    run parpi-critic "${SMALL[@]}" --resume "$T/q.ckpt" </dev/null
    assert_success
}

@test "faults: every flipped byte of a replay file is refused, naming it, and the file is kept" {
    parpi-collect --env Pendulum-v1 --steps 30 --replay "$T/r.mp" --seed 3 2>/dev/null
    for i in $(offsets "$T/r.mp"); do
        cp "$T/r.mp" "$T/bad.mp"
        flip "$T/bad.mp" "$i"
        cp "$T/bad.mp" "$T/bad.copy"
        run parpi-collect --env Pendulum-v1 --steps 5 --replay "$T/bad.mp"
        [ "$status" -eq 1 ] || { echo "byte $i flipped: exit $status: $output" >&2; return 1; }
        [[ $output == *"--replay $T/bad.mp: $T/bad.mp: "* ]] ||
            { echo "byte $i flipped: file not named: $output" >&2; return 1; }
        # refused, not replaced by a fresh buffer
        cmp -s "$T/bad.mp" "$T/bad.copy" || { echo "byte $i flipped: the file was overwritten" >&2; return 1; }
    done
}

@test "faults: a replay file cut between two chunk frames is refused, naming it and the row, and kept" {
    PARPI_CHUNK_ROWS=10 parpi-collect --env Pendulum-v1 --steps 30 --replay "$T/r.mp" --seed 3 2>/dev/null
    # frames: the header, rows 0-9, 10-19, 20-29, the end; cut where rows 20-29 begin
    at=$(parpi-cat "$T/r.mp" | sed -n 's/^# frame 3: .*, byte \([0-9]*\), .*/\1/p')
    [ -n "$at" ]
    head -c "$at" "$T/r.mp" >"$T/cut.mp"
    cp "$T/cut.mp" "$T/cut.copy"
    run parpi-collect --env Pendulum-v1 --steps 5 --replay "$T/cut.mp"
    assert_failure 1
    assert_output --partial "--replay $T/cut.mp: $T/cut.mp: ends after row 20 of 30 (byte $at) without its end frame: the file was cut short"
    cmp "$T/cut.mp" "$T/cut.copy"
}

@test "faults: a non-finite parameter in a checkpoint without a checksum is named" {
    # parpi 0.1's checkpoint (version 1, no checksum) with adam.v[0] made NaN:
    # found at load, naming the file and the field, not as a NaN loss later
    need_python_msgpack
    /usr/bin/python3 - "$DATA/critic-v0.1.ckpt" "$T/nan.ckpt" <<'EOF'
import sys, msgpack, msgpack_numpy, numpy as np
d = msgpack.unpackb(open(sys.argv[1], "rb").read(), object_hook=msgpack_numpy.decode, raw=False)
v = d["adam"]["v"].copy()
v[0] = np.nan
d["adam"]["v"] = v
open(sys.argv[2], "wb").write(msgpack.packb(d, default=msgpack_numpy.encode, use_bin_type=True))
EOF
    run parpi-critic --resume "$T/nan.ckpt" </dev/null
    assert_failure 1
    assert_output --partial "$T/nan.ckpt: adam.v[0] is nan"
}

@test "faults: stale temporaries of a killed save are removed when a stage, the collector or a run starts" {
    parpi-critic "${SMALL[@]}" --checkpoint "$T/q.ckpt" <"$DATA/stage-frames.mp" >/dev/null
    touch "$T/q.ckpt.tmp.Ab12Cd" "$T/q.ckpt.tmp.zzzzzz" "$T/q.ckpt.tmp.keep-me" "$T/other.ckpt.tmp.Ab12Cd"
    parpi-critic "${SMALL[@]}" --resume "$T/q.ckpt" --checkpoint "$T/q.ckpt" </dev/null
    [ ! -e "$T/q.ckpt.tmp.Ab12Cd" ] && [ ! -e "$T/q.ckpt.tmp.zzzzzz" ]
    [ -e "$T/q.ckpt.tmp.keep-me" ] && [ -e "$T/other.ckpt.tmp.Ab12Cd" ]
    touch "$T/r.mp.tmp.Xy98Zw"
    parpi-collect --env Pendulum-v1 --steps 5 --replay "$T/r.mp" 2>/dev/null
    [ ! -e "$T/r.mp.tmp.Xy98Zw" ] && [ -s "$T/r.mp" ]
    # a run resumed in one process: every checkpoint's and the replay's
    parpi-train --env Pendulum-v1 --out "$T/run" --steps 120 --learning-starts 100 --batch-size 16 \
        --eval-every 100 --eval-episodes 1 --set critic.hidden=8 --set policy.hidden=8 \
        --set discrim.hidden=8 --no-progress 2>/dev/null
    for k in collect critic policy; do touch "$T/run/ckpt/$k.ckpt.tmp.QQ11qq"; done
    touch "$T/run/replay.mp.tmp.QQ11qq"
    parpi-train --resume "$T/run" --steps 130 --in-process --no-progress 2>/dev/null
    run ls "$T/run" "$T/run/ckpt"
    refute_output --partial ".tmp."
}

@test "faults: a read-only destination is found at start, naming the path" {
    if [ "$(id -u)" = 0 ]; then
        mount_tmpfs "$T/ro" size=1m,ro
    else
        mkdir "$T/ro" && chmod 555 "$T/ro"
    fi
    # the stage fails before it reads a frame: its input, a FIFO this test
    # holds open, never ends
    mkfifo "$T/in"
    exec 4<>"$T/in"
    run timeout 20 parpi-critic "${SMALL[@]}" --checkpoint "$T/ro/q.ckpt" <"$T/in"
    exec 4>&-
    assert_failure 1 # not 124 (timeout)
    assert_output --regexp "^parpi-critic: --checkpoint: cannot save to $T/ro/q.ckpt: a test file next to it: (Read-only file system|Permission denied)$"
    # the collector before it collects
    run parpi-collect --env Pendulum-v1 --steps 100000000 --replay "$T/ro/r.mp"
    assert_failure 1
    assert_output --partial "--replay: cannot save to $T/ro/r.mp: a test file next to it: "
    # a missing directory
    run parpi-critic "${SMALL[@]}" --checkpoint "$T/no/such/q.ckpt" </dev/null
    assert_failure 1
    assert_output "parpi-critic: --checkpoint: cannot save to $T/no/such/q.ckpt: a test file next to it: No such file or directory"
}

@test "faults: ulimit -f: a message naming the file, exit 1, the last good file intact" {
    parpi-collect --env Pendulum-v1 --steps 100 --replay "$T/r.mp" 2>/dev/null
    cp "$T/r.mp" "$T/good.mp"
    # 20 KiB: the test write passes, the save of 2000 more rows does not
    run bash -c "ulimit -f 20; parpi-collect --env Pendulum-v1 --steps 2000 --replay '$T/r.mp'"
    assert_failure 1 # not 153 (killed by SIGXFSZ)
    assert_output --regexp "saving --replay $T/r.mp: .*cannot write $T/r.mp.tmp.[A-Za-z0-9]{6}: File too large"
    cmp "$T/r.mp" "$T/good.mp"
    run ls "$T"
    refute_output --partial ".tmp."
    # a stage's checkpoint: the old one stays
    parpi-critic --hidden 64 --layers 2 --max-batch 4 --checkpoint "$T/q.ckpt" <"$DATA/stage-frames.mp" >/dev/null
    cp "$T/q.ckpt" "$T/good.ckpt"
    run bash -c "ulimit -f 8; parpi-critic --resume '$T/q.ckpt' --checkpoint '$T/q.ckpt' <'$DATA/stage-frames.mp' >/dev/null"
    assert_failure 1
    assert_output --regexp "^parpi-critic: saving checkpoint $T/q.ckpt: cannot write $T/q.ckpt.tmp.[A-Za-z0-9]{6}: File too large$"
    cmp "$T/q.ckpt" "$T/good.ckpt"
    # a limit below the test write: found at start
    run bash -c "ulimit -f 0; parpi-critic --checkpoint '$T/q.ckpt' </dev/null"
    assert_failure 1
    assert_output "parpi-critic: --checkpoint: cannot save to $T/q.ckpt: a test write next to it: File too large"
}

@test "faults: a full disk (a 2 MiB tmpfs): found at start, or the save fails naming the path, the last file intact" {
    mount_tmpfs "$T/disk" size=2m
    parpi-collect --env Pendulum-v1 --steps 300 --replay "$T/disk/r.mp" 2>/dev/null
    cp "$T/disk/r.mp" "$T/good.mp"
    # fill it, then free 64 KiB: the test write passes, a save of 3000 rows (about 120 KiB) not
    dd if=/dev/zero of="$T/disk/small" bs=64k count=1 status=none
    dd if=/dev/zero of="$T/disk/fill" bs=64k status=none 2>/dev/null || true
    run parpi-collect --env Pendulum-v1 --steps 100 --replay "$T/disk/r.mp"
    assert_failure 1
    assert_output --partial "--replay: cannot save to $T/disk/r.mp: a test write next to it: No space left on device"
    rm "$T/disk/small"
    run parpi-collect --env Pendulum-v1 --steps 3000 --replay "$T/disk/r.mp"
    assert_failure 1
    assert_output --regexp "saving --replay $T/disk/r.mp: .*cannot write $T/disk/r.mp.tmp.[A-Za-z0-9]{6}: No space left on device"
    cmp "$T/disk/r.mp" "$T/good.mp"
    run ls "$T/disk"
    refute_output --partial ".tmp."
    # space again: it goes on from the last good file
    rm "$T/disk/fill"
    run parpi-collect --env Pendulum-v1 --steps 100 --replay "$T/disk/r.mp"
    assert_success
    assert_output --partial "holds 400"
}

@test "faults: out of memory is a message and exit 1, not abort()" {
    case "${PARPI_TEST_BUILD:-}" in
        */asan*) skip "ulimit -v: AddressSanitizer reserves terabytes of address space (this is the sanitizer tree)" ;;
    esac
    # a 900 MB checkpoint (sparse) under a 600 MB address-space limit
    truncate -s 900M "$T/big.ckpt"
    run bash -c "ulimit -v 600000; parpi-critic --resume '$T/big.ckpt' </dev/null"
    assert_failure 1 # not 134 (SIGABRT)
    assert_output "parpi-critic: out of memory allocating 943718401 bytes"
    # a replay capacity beyond ulimit -v: refused before it is tried, naming the option
    run bash -c "ulimit -v 600000; parpi-collect --env Pendulum-v1 --steps 10 --capacity 100000000"
    assert_failure 1
    assert_output --regexp "^parpi-collect: --capacity 100000000: replay buffer of 100000000 rows .* needs 3.7 GiB, more than (the address-space limit \(ulimit -v\) of 0.6 GiB|this machine's)"
}

@test "faults: a net too large for the machine is refused before it is allocated, naming the options" {
    run parpi-critic --hidden 65536 <"$DATA/stage-frames.mp"
    assert_failure 1
    assert_output --regexp "critic network: a net of 3 hidden layers of width 65536 .* needs [0-9.]+ GiB, more than .*: lower --hidden or --layers$"
}

@test "faults: an unreadable preset says so, not 'no such file'" {
    printf 'critic --hidden 8\n' >"$T/p.conf"
    chmod 600 "$T/p.conf"
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || skip "needs setpriv to run as another user"
        chmod 755 "$T"
        run setpriv --reuid=nobody --regid=nogroup --clear-groups \
            env PATH="$PATH" PARPI_SHARE="$PARPI_SHARE" \
            parpi-train --env Pendulum-v1 --out "$T/run" --preset "$T/p.conf" --dry-run
    else
        chmod 000 "$T/p.conf"
        run parpi-train --env Pendulum-v1 --out "$T/run" --preset "$T/p.conf" --dry-run
    fi
    assert_failure 2
    assert_output "$(printf '%s\n' "parpi-train: --preset $T/p.conf: cannot read it: Permission denied" \
        "Try 'parpi-train --help'.")"
}
