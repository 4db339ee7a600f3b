#!/usr/bin/env bats
# parpi-langevin from the command line: usage errors, missing fields, a real
# pass over frames with random nets (frames made by stage_frames.py, which needs Python).

load helpers

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
    assert_output --partial "--eps takes a positive number"
    run parpi-langevin --steps many </dev/null
    assert_equal "$status" 2
    assert_output --partial "--steps takes an integer"
    run parpi-langevin --steps </dev/null
    assert_equal "$status" 2
}

@test "langevin: a missing --prior file exits 2 and names it" {
    run parpi-langevin --prior "$T/nope.ckpt" </dev/null
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
    printf '\x81\xa5batch\xc0' >"$T/f.mp"
    run parpi-langevin --in "$T/f.mp" --out "$T/out.mp"
    assert_equal "$status" 1
    assert_output --partial "policy"
}

@test "langevin: a warm-up frame (no batch) passes through" {
    # {"step": 5}
    printf '\x81\xa4step\x05' >"$T/f.mp"
    run parpi-langevin --in "$T/f.mp" --out "$T/out.mp"
    assert_success
    [ -s "$T/out.mp" ]
    run grep -c particles "$T/out.mp"
    assert_output "0"
}

@test "langevin: particles and metrics from random nets; same seed, same bytes" {
    need_python_msgpack
    stage_frames ring 3 >"$T/ring.mp"
    run parpi-langevin --seed 3 --in "$T/ring.mp" --out "$T/p1.mp"
    assert_success
    run stage_frames show "$T/p1.mp"
    assert_success
    assert_line --index 0 --partial "particles{obs:[16, 3],q0:[16],qK:[16],u0:[16, 2],uK:[16, 2]}"
    assert_output --partial "langevin{eps=0.0003"
    assert_output --partial "q0_mean="
    assert_output --partial "steps=5"
    parpi-langevin --seed 3 --in "$T/ring.mp" --out "$T/p2.mp"
    parpi-langevin --seed 4 --in "$T/ring.mp" --out "$T/p3.mp"
    # step_ms differs from run to run: compare the particles only
    stage_frames show "$T/p2.mp" | sed 's/step_ms=[^,}]*//' >"$T/s2"
    stage_frames show "$T/p1.mp" | sed 's/step_ms=[^,}]*//' >"$T/s1"
    stage_frames show "$T/p3.mp" | sed 's/step_ms=[^,}]*//' >"$T/s3"
    cmp "$T/s1" "$T/s2"
    ! cmp -s "$T/s1" "$T/s3"
}

@test "langevin: a checkpoint resumes the random stream" {
    need_python_msgpack
    stage_frames ring 4 >"$T/ring.mp"
    parpi-langevin --in "$T/ring.mp" --out "$T/all.mp"
    head -c "$(/usr/bin/python3 -c "
import msgpack, sys
u = msgpack.Unpacker(open('$T/ring.mp', 'rb'), raw=False)
u.skip(); u.skip(); print(u.tell())")" "$T/ring.mp" >"$T/first2.mp"
    tail -c +"$(( $(stat -c %s "$T/first2.mp") + 1 ))" "$T/ring.mp" >"$T/last2.mp"
    parpi-langevin --in "$T/first2.mp" --out /dev/null --checkpoint "$T/l.ckpt"
    parpi-langevin --resume "$T/l.ckpt" --in "$T/last2.mp" --out "$T/resumed.mp"
    stage_frames show "$T/all.mp" | tail -2 | sed 's/step_ms=[^,}]*//' >"$T/a"
    stage_frames show "$T/resumed.mp" | sed 's/step_ms=[^,}]*//' >"$T/b"
    cmp "$T/a" "$T/b"
}
