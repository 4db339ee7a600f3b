#!/usr/bin/env bats
# parpi-collect: standalone collection, the replay file, ring mode, errors.

load helpers

# Frames in a stream file, counted by parpi-cat's summary headers.
nframes() { parpi-cat "$1" | grep -c '^# frame'; }

@test "collect: --help and --version" {
    run parpi-collect --help
    assert_success
    assert_output --partial "--steps N"
    assert_output --partial "--learning-starts N"
    run parpi-collect --version
    assert_success
    assert_output --regexp '^parpi-collect [0-9]+\.[0-9]+'
}

@test "collect: --list-envs prints each task with dims and episode limit" {
    run parpi-collect --list-envs
    assert_success
    assert_line --regexp '^Pendulum-v1 +3 +1 +200 '
    assert_line --regexp '^MultiGoal +2 +2 +30 '
}

@test "collect: a bad flag is a usage error (exit 2)" {
    run parpi-collect --env Pendulum-v1 --steps 10 --bogus
    assert_failure 2
    assert_output --partial "unknown option --bogus"
    run parpi-collect --env Pendulum-v1 --steps ten
    assert_failure 2
    assert_output --partial "--steps"
    run parpi-collect --env Pendulum-v1 --steps 10 --episodes 2
    assert_failure 2
    run parpi-collect --env Pendulum-v1 --steps 10 --deterministic --out "$T/x"
    assert_failure 2
    assert_output --partial "--deterministic needs --policy"
}

@test "collect: an unknown env is a usage error that lists the names" {
    run parpi-collect --env Pendulm --steps 10 --out "$T/x"
    assert_failure 2
    assert_output --partial "Pendulm"
    assert_output --partial "Pendulum-v1"
    assert_output --partial "MultiGoal"
}

@test "collect: standalone --steps writes one frame per episode with D4RL names" {
    run parpi-collect --env Pendulum-v1 --steps 500 --seed 3 --out "$T/s.mp"
    assert_success
    assert_output --partial "500 steps, 2 episodes"
    # 200 + 200 + a partial 100
    [ "$(nframes "$T/s.mp")" -eq 3 ]
    run parpi-cat -n 0 "$T/s.mp"
    assert_output --partial "observations"
    assert_output --regexp 'actions +tensor f32\[200,1\]'
    assert_output --regexp 'next_observations +tensor f32\[200,3\]'
    assert_output --partial "timeouts"
    run parpi-cat -n 2 "$T/s.mp"
    assert_output --regexp 'rewards +tensor f32\[100\]'
    # random actions in env units: Pendulum's torque is within [-2, 2]
    parpi-cat --csv actions "$T/s.mp" --no-header | awk '$1 < -2 || $1 > 2 {bad=1} END {exit bad}'
}

@test "collect: a pipeline into parpi-cat" {
    parpi-collect --env MultiGoal --episodes 3 --seed 1 | parpi-cat >"$T/summary"
    [ "$(grep -c '^# frame' "$T/summary")" -eq 3 ]
    grep -q 'return' "$T/summary"
}

@test "collect: same seed, same bytes; another seed, other bytes" {
    parpi-collect --env Pendulum-v1 --steps 300 --seed 7 --out "$T/a.mp" 2>/dev/null
    parpi-collect --env Pendulum-v1 --steps 300 --seed 7 >"$T/b.mp" 2>/dev/null
    cmp "$T/a.mp" "$T/b.mp"
    parpi-collect --env Pendulum-v1 --steps 300 --seed 8 --out "$T/c.mp" 2>/dev/null
    run cmp -s "$T/a.mp" "$T/c.mp"
    assert_failure
    # the replay file too
    parpi-collect --env Pendulum-v1 --steps 300 --seed 7 --replay "$T/r1.mp" 2>/dev/null
    parpi-collect --env Pendulum-v1 --steps 300 --seed 7 --replay "$T/r2.mp" 2>/dev/null
    cmp "$T/r1.mp" "$T/r2.mp"
}

@test "collect: --replay appends and keeps --capacity" {
    parpi-collect --env Pendulum-v1 --steps 300 --seed 1 --replay "$T/r.mp" 2>/dev/null
    run parpi-cat "$T/r.mp"
    assert_output --regexp 'observations +tensor f32\[300,3\]'
    parpi-collect --env Pendulum-v1 --steps 300 --seed 2 --replay "$T/r.mp" 2>/dev/null
    run parpi-cat "$T/r.mp"
    assert_output --regexp 'observations +tensor f32\[600,3\]'
    parpi-collect --env Pendulum-v1 --steps 300 --seed 3 --replay "$T/r.mp" --capacity 500 2>/dev/null
    run parpi-cat "$T/r.mp"
    assert_output --regexp 'observations +tensor f32\[500,3\]'
}

@test "collect: a missing or corrupt policy checkpoint is a clear error (exit 1)" {
    run parpi-collect --env Pendulum-v1 --steps 10 --policy "$T/nope.ckpt" --out "$T/x"
    assert_failure 1
    assert_output --partial "nope.ckpt"
    head -c 3000 /dev/urandom >"$T/junk.ckpt"
    run parpi-collect --env Pendulum-v1 --steps 10 --policy "$T/junk.ckpt" --out "$T/x"
    assert_failure 1
    assert_output --partial "junk.ckpt"
    # a valid frame file without a policy
    parpi-collect --env Pendulum-v1 --steps 5 --out "$T/nopolicy.mp" 2>/dev/null
    run parpi-collect --env Pendulum-v1 --steps 10 --policy "$T/nopolicy.mp" --out "$T/x"
    assert_failure 1
    assert_output --partial "no 'policy' field"
}

@test "collect: acts with a policy checkpoint, stochastic or --deterministic" {
    need_progs parpi-policy
    parpi-policy --prime --obs-dim 3 --act-dim 1 --seed 4 --checkpoint "$T/p.ckpt" </dev/null >/dev/null
    parpi-collect --env Pendulum-v1 --steps 200 --policy "$T/p.ckpt" --seed 1 --out "$T/s1.mp" 2>/dev/null
    parpi-collect --env Pendulum-v1 --steps 200 --policy "$T/p.ckpt" --seed 2 --out "$T/s2.mp" 2>/dev/null
    parpi-collect --env Pendulum-v1 --steps 200 --policy "$T/p.ckpt" --deterministic --seed 1 --out "$T/d1.mp" 2>/dev/null
    run cmp -s "$T/s1.mp" "$T/s2.mp"
    assert_failure
    run parpi-cat "$T/d1.mp"
    assert_success
    assert_output --regexp 'actions +tensor f32\[200,1\]'
    # a policy for another task is refused with both dims named
    run parpi-collect --env MultiGoal --steps 10 --policy "$T/p.ckpt" --out "$T/x"
    assert_failure 1
    assert_output --partial "obs 3 / act 1"
}

@test "collect: Ctrl-C during collection leaves a valid replay file" {
    parpi-collect --env Pendulum-v1 --steps 100000000 --replay "$T/int.mp" --capacity 100000 2>"$T/err" &
    pid=$!
    sleep 1.5
    kill -INT "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 130 ]
    grep -q interrupted "$T/err"
    run parpi-cat "$T/int.mp"
    assert_success
    assert_output --regexp 'observations +tensor f32\[[0-9]+,3\]'
    assert_output --partial "rewards"
    # and it appends on a second run
    parpi-collect --env Pendulum-v1 --steps 10 --replay "$T/int.mp" --capacity 100000 2>/dev/null
}

@test "collect: ring mode steps once per frame and emits batches after --learning-starts" {
    parpi-collect --env Pendulum-v1 --steps 20 --seed 1 --chunk 1 --out "$T/in.mp" 2>/dev/null
    [ "$(nframes "$T/in.mp")" -eq 20 ]
    parpi-collect --env Pendulum-v1 --learning-starts 5 --batch-size 4 <"$T/in.mp" >"$T/out.mp"
    [ "$(nframes "$T/out.mp")" -eq 20 ]
    run parpi-cat -n 3 "$T/out.mp"
    assert_line --regexp '^step +int +4$'
    refute_output --partial "batch.obs"
    run parpi-cat -n 19 "$T/out.mp"
    assert_line --regexp '^step +int +20$'
    assert_output --regexp 'batch\.obs +tensor f32\[4,3\]'
    assert_output --regexp 'batch\.done +tensor f32\[4\]'
    assert_output --regexp 'batch\.act +tensor f32\[4,1\]'
}

@test "collect: ring mode --until ends the stream cleanly" {
    parpi-collect --env Pendulum-v1 --steps 20 --chunk 1 --out "$T/in.mp" 2>/dev/null
    run parpi-collect --env Pendulum-v1 --until 8 --in "$T/in.mp" --out "$T/out.mp"
    assert_success
    [ "$(nframes "$T/out.mp")" -eq 8 ]
}

@test "collect: ring mode refuses standalone-only flags and a terminal" {
    parpi-collect --env Pendulum-v1 --steps 2 --chunk 1 --out "$T/in.mp" 2>/dev/null
    run parpi-collect --env Pendulum-v1 --policy x.ckpt --in "$T/in.mp"
    assert_failure 2
    assert_output --partial "standalone"
}
