#!/usr/bin/env bats
# parpi-eval: standalone evaluation of a checkpoint, ring (filter) mode, errors.

load helpers

setup() {
    need_progs parpi-policy
    # an untrained policy for Pendulum (obs 3, act 1), as parpi-policy --prime makes it
    parpi-policy --prime --obs-dim 3 --act-dim 1 --seed 2 --checkpoint "$T/p.ckpt" </dev/null >"$T/prime.mp"
}

field() { awk -v k="$1" '$1 == k {print $2}'; }

@test "eval: --help, --version, bad flags (exit 2)" {
    run parpi-eval --help
    assert_success
    assert_output --partial "--episodes K"
    run parpi-eval --version
    assert_success
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --bogus
    assert_failure 2
    assert_output --partial "--bogus"
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 0
    assert_failure 2
    run parpi-eval --env Nope-v0 --policy "$T/p.ckpt"
    assert_failure 2
    assert_output --partial "Pendulum-v1"
}

@test "eval: K deterministic episodes of a checkpoint: mean/std/min/max of return and length" {
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 3
    assert_success
    assert_line "episodes 3"
    assert_line "length_mean 200"
    assert_line --regexp '^return_mean -[0-9.e+]+$'
    assert_line --regexp '^return_std [0-9.e+-]+$'
    # min <= mean <= max
    mean=$(echo "$output" | field return_mean)
    min=$(echo "$output" | field return_min)
    max=$(echo "$output" | field return_max)
    awk -v a="$min" -v b="$mean" -v c="$max" 'BEGIN {exit !(a <= b && b <= c)}'
    # no D4RL reference for Pendulum
    refute_line --regexp '^score '
    # deterministic: the same figures twice; --stochastic differs
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 3
    [ "$(echo "$output" | field return_mean)" = "$mean" ]
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 3 --stochastic
    assert_success
    [ "$(echo "$output" | field return_mean)" != "$mean" ]
}

@test "eval: --log appends a CSV row" {
    parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 2 --log "$T/e.csv" >/dev/null
    parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 2 --log "$T/e.csv" >/dev/null
    run cat "$T/e.csv"
    assert_line --index 0 --partial "step,episodes,return_mean,return_std,return_min,return_max"
    [ "$(wc -l <"$T/e.csv")" -eq 3 ]
}

@test "eval: a missing, corrupt or mismatched policy is a clear error (exit 1)" {
    run parpi-eval --env Pendulum-v1 --policy "$T/missing.ckpt"
    assert_failure 1
    assert_output --partial "missing.ckpt"
    head -c 5000 /dev/urandom >"$T/junk.ckpt"
    run parpi-eval --env Pendulum-v1 --policy "$T/junk.ckpt"
    assert_failure 1
    assert_output --partial "junk.ckpt"
    head -c 100 "$T/p.ckpt" >"$T/torn.ckpt"
    run parpi-eval --env Pendulum-v1 --policy "$T/torn.ckpt"
    assert_failure 1
    assert_output --partial "torn.ckpt"
    run parpi-eval --env MultiGoal --policy "$T/p.ckpt"
    assert_failure 1
    assert_output --partial "obs 3 / act 1"
}

@test "eval: the frame of a ring works as a policy file" {
    run parpi-eval --env Pendulum-v1 --policy "$T/prime.mp" --episodes 1
    assert_success
    assert_line "length_mean 200"
}

@test "eval: ring mode passes frames through and adds metrics.eval every --every steps" {
    # prime -> collect (one env step per frame, steps 1..) -> eval every 2 steps
    parpi-collect --env Pendulum-v1 --steps 4 --chunk 1 --out "$T/steps.mp" 2>/dev/null
    {
        cat "$T/prime.mp"
    } | parpi-collect --env Pendulum-v1 --learning-starts 100 |
        parpi-eval --env Pendulum-v1 --every 1 --episodes 2 --log "$T/ring.csv" \
            --progress-log "$T/progress.csv" --log-every 1 --status "$T/status" >"$T/out.mp"
    run parpi-cat "$T/out.mp"
    assert_success
    assert_line --regexp '^step +int +1$'
    assert_output --regexp 'metrics\.eval\.return_mean +float'
    assert_output --regexp 'policy\.params +tensor f32'
    [ "$(wc -l <"$T/ring.csv")" -eq 2 ]
    run cat "$T/status"
    assert_output --regexp '^step 1 episodes 0 eval -'
    run head -1 "$T/progress.csv"
    assert_output --partial "step,wall_s,episodes,return_recent"
}

@test "eval: ring mode without --every leaves frames untouched apart from timing" {
    parpi-eval --env Pendulum-v1 --every 0 --in "$T/prime.mp" --out "$T/same.mp"
    parpi-cat --json "$T/prime.mp" >"$T/a.json"
    parpi-cat --json "$T/same.mp" | sed 's/,"metrics":{"eval":{"step_ms":[^}]*}}//' >"$T/b.json"
    diff "$T/a.json" "$T/b.json"
}

@test "eval: D4RL-normalised score where the task has reference returns" {
    parpi-collect --list-envs | grep -q '^Hopper-v3 .* 11 '
    parpi-policy --prime --obs-dim 11 --act-dim 3 --checkpoint "$T/h.ckpt" </dev/null >/dev/null
    run parpi-eval --env Hopper-v3 --policy "$T/h.ckpt" --episodes 2
    assert_success
    assert_line --regexp '^score -?[0-9.e+-]+$'
    # score = 100 (R - R_random) / (R_expert - R_random), Hopper: -20.272305 / 3234.3
    mean=$(echo "$output" | field return_mean)
    score=$(echo "$output" | field score)
    awk -v m="$mean" -v s="$score" 'BEGIN {e = 100 * (m + 20.272305) / (3234.3 + 20.272305); d = e - s; exit !(d < 1e-3 && d > -1e-3)}'
}
