#!/usr/bin/env bats
# parpi-langevin from the command line: usage errors, missing fields, a real
# pass over frames with random nets (frames made by stage_frames.py).

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
    TMP="$(mktemp -d)"
    HERE="$(cd "$(dirname "$BATS_TEST_FILENAME")" && pwd)"
}

teardown() { rm -rf "$TMP"; }

need_python_msgpack() {
    /usr/bin/python3 -c 'import msgpack, msgpack_numpy' 2>/dev/null ||
        skip "needs /usr/bin/python3 with msgpack and msgpack_numpy to make frames"
}

@test "langevin: --help lists the stage's options" {
    run parpi-langevin --help
    assert_success
    assert_output --partial "--steps K"
    assert_output --partial "--eps EPS"
    assert_output --partial "--prior FILE"
}

@test "langevin: --version" {
    run parpi-langevin --version
    assert_success
    assert_output --regexp "^parpi-langevin [0-9]"
}

@test "langevin: an unknown option exits 2 and names it" {
    run parpi-langevin --bogus </dev/null
    assert_equal "$status" 2
    assert_output --partial "--bogus"
}

@test "langevin: bad values exit 2" {
    run parpi-langevin --eps -1 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--eps: '-1', expected a number in [1.17549e-38, 3.40282e+38]"
    run parpi-langevin --steps many </dev/null
    assert_equal "$status" 2
    assert_output --partial "--steps: 'many', expected an integer 0..1000000"
    run parpi-langevin --steps </dev/null
    assert_equal "$status" 2
}

@test "langevin: a missing --prior file exits 2 and names it" {
    run parpi-langevin --prior "$TMP/nope.ckpt" </dev/null
    assert_equal "$status" 2
    assert_output --partial "nope.ckpt"
}

@test "langevin: empty input is an empty output" {
    run parpi-langevin </dev/null
    assert_success
    assert_output ""
}

@test "langevin: a frame with a batch but no policy exits 1 naming the field" {
    # {"batch": nil}
    printf '\x81\xa5batch\xc0' >"$TMP/f.mp"
    run parpi-langevin --in "$TMP/f.mp" --out "$TMP/out.mp"
    assert_equal "$status" 1
    assert_output --partial "policy"
}

@test "langevin: a warm-up frame (no batch) passes through" {
    # {"step": 5}
    printf '\x81\xa4step\x05' >"$TMP/f.mp"
    run parpi-langevin --in "$TMP/f.mp" --out "$TMP/out.mp"
    assert_success
    [ -s "$TMP/out.mp" ]
    run grep -c particles "$TMP/out.mp"
    assert_output "0"
}

@test "langevin: particles and metrics from random nets; same seed, same bytes" {
    need_python_msgpack
    /usr/bin/python3 "$HERE/stage_frames.py" ring 3 >"$TMP/ring.mp"
    run parpi-langevin --seed 3 --in "$TMP/ring.mp" --out "$TMP/p1.mp"
    assert_success
    run /usr/bin/python3 "$HERE/stage_frames.py" show "$TMP/p1.mp"
    assert_success
    assert_line --index 0 --partial "particles{obs:[16, 3],q0:[16],qK:[16],u0:[16, 2],uK:[16, 2]}"
    assert_output --partial "langevin{eps=0.0003"
    assert_output --partial "q0_mean="
    assert_output --partial "steps=5"
    parpi-langevin --seed 3 --in "$TMP/ring.mp" --out "$TMP/p2.mp"
    parpi-langevin --seed 4 --in "$TMP/ring.mp" --out "$TMP/p3.mp"
    # step_ms differs from run to run: compare the particles only
    /usr/bin/python3 "$HERE/stage_frames.py" show "$TMP/p2.mp" | sed 's/step_ms=[^,}]*//' >"$TMP/s2"
    /usr/bin/python3 "$HERE/stage_frames.py" show "$TMP/p1.mp" | sed 's/step_ms=[^,}]*//' >"$TMP/s1"
    /usr/bin/python3 "$HERE/stage_frames.py" show "$TMP/p3.mp" | sed 's/step_ms=[^,}]*//' >"$TMP/s3"
    cmp "$TMP/s1" "$TMP/s2"
    ! cmp -s "$TMP/s1" "$TMP/s3"
}

@test "langevin: a checkpoint resumes the random stream" {
    need_python_msgpack
    /usr/bin/python3 "$HERE/stage_frames.py" ring 4 >"$TMP/ring.mp"
    parpi-langevin --in "$TMP/ring.mp" --out "$TMP/all.mp"
    head -c "$(/usr/bin/python3 -c "
import msgpack, sys
u = msgpack.Unpacker(open('$TMP/ring.mp', 'rb'), raw=False)
u.skip(); u.skip(); print(u.tell())")" "$TMP/ring.mp" >"$TMP/first2.mp"
    tail -c +"$(( $(stat -c %s "$TMP/first2.mp") + 1 ))" "$TMP/ring.mp" >"$TMP/last2.mp"
    parpi-langevin --in "$TMP/first2.mp" --out /dev/null --checkpoint "$TMP/l.ckpt"
    parpi-langevin --resume "$TMP/l.ckpt" --in "$TMP/last2.mp" --out "$TMP/resumed.mp"
    /usr/bin/python3 "$HERE/stage_frames.py" show "$TMP/all.mp" | tail -2 | sed 's/step_ms=[^,}]*//' >"$TMP/a"
    /usr/bin/python3 "$HERE/stage_frames.py" show "$TMP/resumed.mp" | sed 's/step_ms=[^,}]*//' >"$TMP/b"
    cmp "$TMP/a" "$TMP/b"
}
