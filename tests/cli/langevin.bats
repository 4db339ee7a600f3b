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
    assert_output --partial "--eps: '-1', expected a number in [1e-12, 1]"
    # a step size is bounded above too (R13): noise of variance 2 eps, at
    # most 2, already spans tanh's working range
    run parpi-langevin --eps 1e12 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--eps: '1e12', expected a number in [1e-12, 1]"
    run parpi-langevin --eps 0 </dev/null
    assert_equal "$status" 2
    run parpi-langevin --steps many </dev/null
    assert_equal "$status" 2
    assert_output --partial "--steps: 'many', expected an integer 0..1000000"
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

# data/langevin-v0.1.ckpt was written by parpi 0.1.0 (before the option table):
#   parpi-langevin --steps 3 --eps 1e-3 --seed 7 --max-batch 64 \
#     --in data/stage-frames.mp --checkpoint data/langevin-v0.1.ckpt
# and data/langevin-v0.1-resumed.csv is what 0.1.0 resumed from it (options
# given again) on the same frames: particles.uK,qK of frames 0 and 2.
# (Compared within 1e-5: another compiler or -O level may round differently.)
particles_csv() {
    parpi-cat --csv particles.uK,particles.qK -n 0 "$1" && parpi-cat --csv particles.uK,particles.qK -n 2 "$1"
}


@test "langevin: a parpi 0.1.0 checkpoint resumes with 0.1.0's particles" {
    parpi-langevin --resume "$DATA/langevin-v0.1.ckpt" --steps 3 --eps 1e-3 --seed 7 --max-batch 64 \
        --in "$DATA/stage-frames.mp" --out "$T/given.mp"
    particles_csv "$T/given.mp" >"$T/given.csv"
    run close_csv "$DATA/langevin-v0.1-resumed.csv" "$T/given.csv"
    assert_success
    # without the options, the checkpoint's steps and eps are the ones used
    parpi-langevin --resume "$DATA/langevin-v0.1.ckpt" --in "$DATA/stage-frames.mp" --out "$T/ckpt.mp"
    particles_csv "$T/ckpt.mp" >"$T/ckpt.csv"
    cmp "$T/given.csv" "$T/ckpt.csv"
    # a tunable given on the command line wins
    parpi-langevin --resume "$DATA/langevin-v0.1.ckpt" --steps 0 --in "$DATA/stage-frames.mp" --out "$T/k0.mp"
    run parpi-cat --csv metrics.langevin.steps,metrics.langevin.eps -n 0 "$T/k0.mp"
    assert_output "$(printf 'steps,eps\n0,0.0010000000474974513')"
}
