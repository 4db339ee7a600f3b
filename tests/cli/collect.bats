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

# tests/cli/data/collect-v0.1.ckpt and collect-v0.1-replay.mp were written by
# parpi 0.1.0 (before the option table):
#   parpi-collect --env MultiGoal --steps 40 --seed 1 --chunk 1 --out in40.mp
#   parpi-collect --checkpoint collect-v0.1.ckpt --in in40.mp --out /dev/null -- --env MultiGoal \
#       --env-options init_sigma=0.5 --seed 21 --learning-starts 1000 --batch-size 4 \
#       --replay collect-v0.1-replay.mp
# and collect-v0.1-resumed.mp is what 0.1.0 wrote when resuming it as below.
DROP=metrics.collect.step_ms,observations,actions,rewards,next_observations,terminals,timeouts,episode,env

@test "collect: a checkpoint of 0.1.0 resumes to the same frames; another task is refused" {
    cp "$BATS_TEST_DIRNAME/data/collect-v0.1-replay.mp" "$T/r.mp"
    parpi-collect --env MultiGoal --steps 10 --seed 2 --chunk 1 --out "$T/in.mp" 2>/dev/null
    parpi-collect --resume "$BATS_TEST_DIRNAME/data/collect-v0.1.ckpt" --checkpoint "$T/c.ckpt" \
        --in "$T/in.mp" --out "$T/out.mp" --drop "$DROP" -- --env MultiGoal \
        --env-options init_sigma=0.5 --learning-starts 45 --batch-size 4 --replay "$T/r.mp"
    cmp "$T/out.mp" "$BATS_TEST_DIRNAME/data/collect-v0.1-resumed.mp"
    run parpi-cat "$T/c.ckpt"
    assert_line --regexp '^step +int +50$'
    assert_line --regexp '^config\.env_options +str +"init_sigma=0\.5"$'
    # --seed not given again: the checkpoint's
    assert_line --regexp '^config\.seed +int +21$'
    cp "$BATS_TEST_DIRNAME/data/collect-v0.1-replay.mp" "$T/r.mp"
    run parpi-collect --resume "$BATS_TEST_DIRNAME/data/collect-v0.1.ckpt" --in "$T/in.mp" \
        --out "$T/x.mp" -- --env Pendulum-v1
    assert_failure 1
    assert_output --partial "the checkpoint has --env MultiGoal, but this stage has --env Pendulum-v1"
    run parpi-collect --resume "$BATS_TEST_DIRNAME/data/collect-v0.1.ckpt" --in "$T/in.mp" \
        --out "$T/x.mp" -- --env MultiGoal --replay "$T/r.mp"
    assert_failure 1
    assert_output --partial "the checkpoint has --env-options init_sigma=0.5, but this stage has --env-options  (its default)"
}

@test "collect: bad option values share one wording; a seed is a whole number" {
    run parpi-collect --env Pendulum-v1 --steps 0 --out "$T/x"
    assert_failure 2
    assert_output --partial "--steps: '0', expected a whole number 1..1000000000000000"
    run parpi-collect --env Pendulum-v1 --steps 10 --seed 1e3 --out "$T/x"
    assert_failure 2
    assert_output --partial "--seed: '1e3', expected a whole number 0..9223372036854775807"
    run parpi-collect --env Pendulum-v1 --steps 10 --chunk 0 --out "$T/x"
    assert_failure 2
    assert_output --partial "--chunk: '0', expected an integer 1..16777216"
    # counts may be written 1e3
    run parpi-collect --env Pendulum-v1 --steps 2e2 --out "$T/x"
    assert_success
    assert_output --partial "200 steps"
}

@test "collect: a write error in --log stops the collector and names the file" {
    run parpi-collect --env MultiGoal --steps 10 --log /dev/full --out "$T/x"
    assert_failure 1
    assert_output --partial "writing --log /dev/full: No space left on device"
    # rows that no longer fit (a file size limit: EFBIG, like a full disk); the
    # ring's frames go to a pipe, which the limit does not touch
    parpi-collect --env MultiGoal --steps 80 --chunk 1 --out "$T/in.mp" 2>/dev/null
    run bash -c "trap '' XFSZ; ulimit -f 1; set -o pipefail
        parpi-collect --env MultiGoal --env-steps-per-frame 30 --log '$T/ep.csv' <'$T/in.mp' | wc -c"
    assert_failure 1
    assert_output --partial "writing --log $T/ep.csv: File too large"
    # the next run ends the torn row before appending its own
    parpi-collect --env MultiGoal --steps 100 --log "$T/ep.csv" --out /dev/null 2>/dev/null
    run awk -F, 'NR > 1 && NF != 4' "$T/ep.csv"
    [ "${#lines[@]}" -eq 1 ] # the torn row, ended: the rows after it are whole
    [ "$(tail -n 1 "$T/ep.csv" | awk -F, '{print NF}')" -eq 4 ]
}
