#!/usr/bin/env bats
# parpi-policy as a program: --prime, updates, errors.
# Fixtures: tests/cli/data/stage-*.mp (committed; made by stage_frames.py fixtures).

load helpers

SMALL=(--hidden 8 --layers 2 --max-batch 4)

@test "policy: --help lists the stage's options, exit 0" {
    run parpi-policy --help
    assert_success
    assert_output --partial "--update parpi|sac|svgd"
    assert_output --partial "--prime"
}

@test "policy: an unknown option is a usage error naming it (exit 2)" {
    run parpi-policy --frobnicate </dev/null
    assert_failure 2
    assert_output --partial "unknown option --frobnicate"
}

@test "policy: a bad --update lists the choices (exit 2)" {
    run parpi-policy --update ppo </dev/null
    assert_failure 2
    assert_output --partial "expected one of parpi, sac, svgd"
}

@test "policy: --prime without dims is a usage error (exit 2)" {
    run parpi-policy --prime </dev/null
    assert_failure 2
    assert_output --partial "--obs-dim"
}

@test "policy: --prime writes one valid frame {step: 0, policy, alpha} before any input" {
    run bash -c "parpi-policy --prime --obs-dim 3 --act-dim 2 ${SMALL[*]} </dev/null >'$T/p.mp'"
    assert_success
    [ -s "$T/p.mp" ]
    need_progs parpi-cat
    run parpi-cat --json "$T/p.mp"
    assert_success
    assert_output --partial '"step":0'
    assert_output --partial '"arch":"gaussian-tanh"'
    assert_output --partial '"alpha":1'
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
}

@test "policy: --update svgd --prime writes the implicit policy with alpha 1" {
    need_progs parpi-cat
    run bash -c "parpi-policy --update svgd --prime --obs-dim 3 --act-dim 2 ${SMALL[*]} </dev/null | parpi-cat --json"
    assert_success
    assert_output --partial '"arch":"implicit"'
    assert_output --partial '"alpha":1'
}

@test "policy: sac update on every frame, policy and alpha on every frame" {
    run bash -c "parpi-policy --update sac ${SMALL[*]} <'$DATA/stage-frames.mp' >'$T/out.mp'"
    assert_success
    need_progs parpi-cat
    run parpi-cat --csv alpha --no-header "$T/out.mp"
    assert_success
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 3 ]
    run parpi-cat --fields --frame 2 "$T/out.mp"
    assert_output --partial "metrics.policy.entropy"
    assert_output --partial "metrics.policy.q_mean"
}

@test "policy: parpi update through the frame's disc" {
    run bash -c "parpi-policy ${SMALL[*]} <'$DATA/stage-frames.mp' >'$T/out.mp'"
    assert_success
    need_progs parpi-cat
    run parpi-cat --fields --frame 0 "$T/out.mp"
    assert_output --partial "metrics.policy.disc_term"
}

@test "policy: a policy of other dims than the frame's q is refused (exit 1)" {
    run parpi-policy --update sac --obs-dim 5 --act-dim 2 "${SMALL[@]}" <"$DATA/stage-frames.mp"
    assert_failure 1
    assert_output --partial "batch.obs is f32[4,3], expected f32[4,5]"
}

@test "policy: svgd update runs on the frames" {
    run bash -c "parpi-policy --update svgd --svgd-particles 8 ${SMALL[*]} <'$DATA/stage-frames.mp' >/dev/null"
    assert_success
}

@test "policy: --prime output feeds parpi-critic (missing batch passes through)" {
    run bash -c "parpi-policy --prime --obs-dim 3 --act-dim 2 ${SMALL[*]} </dev/null | parpi-critic ${SMALL[*]} >'$T/p.mp'"
    assert_success
    [ -s "$T/p.mp" ]
    need_progs parpi-cat
    run parpi-cat --fields "$T/p.mp"
    assert_output --partial "policy.params"
    refute_output --partial "q.params"
}

@test "policy: --env takes the sizes from the environment registry" {
    need_progs parpi-cat
    run bash -c "parpi-policy --prime --env Pendulum-v1 ${SMALL[*]} </dev/null | parpi-cat --fields"
    assert_success
    run bash -c "parpi-policy --prime --env Pendulum-v1 ${SMALL[*]} </dev/null | parpi-cat --json"
    assert_output --partial '"obs_dim":3'
    assert_output --partial '"act_dim":1'
}

@test "policy: an unknown --env is a usage error listing the tasks (exit 2)" {
    run parpi-policy --prime --env NoSuchTask-v0 </dev/null
    assert_failure 2
    assert_output --partial "Pendulum-v1"
}
