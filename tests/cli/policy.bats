#!/usr/bin/env bats
# parpi-policy as a program: --prime, updates, errors.
# Fixtures: tests/cli/data/stage-*.mp (committed; made by stage_frames.py fixtures).

load helpers

SMALL=(--hidden 8 --layers 2 --max-batch 4)

@test "policy: --help lists the stage's options, exit 0" {
    run parpi-policy --help
    assert_success
    assert_output --partial "--update parpi|sac|svgd|bc|brac"
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
    assert_output --partial "expected one of parpi, sac, svgd, bc, brac"
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

# data/policy-v0.1.ckpt was written by parpi 0.1 (3c02b29, before the option
# table) with: parpi-policy --hidden 8 --layers 2 --max-batch 4 --update sac
#   --seed 5 --checkpoint policy-v0.1.ckpt <stage-frames.mp
@test "policy: a checkpoint of parpi 0.1 loads, saves back field for field, and resumes" {
    T="$BATS_TEST_TMPDIR"
    old="$DATA/policy-v0.1.ckpt"
    # loaded and saved again with no frame between: every field the same
    run parpi-policy --resume "$old" --checkpoint "$T/again.ckpt" </dev/null
    assert_success
    same_fields_as_v01 "$old" "$T/again.ckpt"
    # and the run goes on the same from either
    parpi-policy --resume "$old" --checkpoint "$T/a.ckpt" --out "$T/a.mp" <"$DATA/stage-frames.mp"
    parpi-policy --resume "$T/again.ckpt" --checkpoint "$T/b.ckpt" --out "$T/b.mp" <"$DATA/stage-frames.mp"
    cmp "$T/a.ckpt" "$T/b.ckpt"
    parpi-cat --csv policy.params --no-header "$T/a.mp" >"$T/a.csv"
    parpi-cat --csv policy.params --no-header "$T/b.mp" >"$T/b.csv"
    [ -s "$T/a.csv" ]
    cmp "$T/a.csv" "$T/b.csv"
    parpi-cat --csv alpha --no-header "$T/a.mp" >"$T/a.csv"
    parpi-cat --csv alpha --no-header "$T/b.mp" >"$T/b.csv"
    [ -s "$T/a.csv" ]
    cmp "$T/a.csv" "$T/b.csv"
    run parpi-cat --csv config.update,config.seed,steps --no-header "$T/a.ckpt"
    assert_output '"sac",5,4'
}

@test "policy: on resume a given hyper-parameter wins, a different shape or temperature is refused" {
    T="$BATS_TEST_TMPDIR"
    parpi-policy --resume "$DATA/policy-v0.1.ckpt" --lr 0.01 --checkpoint "$T/a.ckpt" <"$DATA/stage-frames.mp" >/dev/null
    run parpi-cat --csv config.lr,config.alpha_lr --no-header "$T/a.ckpt"
    assert_output "0.01,0.0003"
    run parpi-policy --resume "$DATA/policy-v0.1.ckpt" --update parpi </dev/null
    assert_failure 1
    assert_output --partial "the checkpoint has --update sac, but this stage has --update parpi"
    run parpi-policy --resume "$DATA/policy-v0.1.ckpt" --alpha 0.1 </dev/null
    assert_failure 1
    assert_output --partial "the checkpoint's temperature is learned, but this stage's is fixed (--alpha)"
}

# stage-frames.mp 20 times over: 40 frames with a batch (the same two batches)
many_frames() {
    local i
    for i in $(seq 20); do cat "$DATA/stage-frames.mp"; done >"$T/many.mp"
}

@test "policy: --update bc clones the batch's actions: bc_logp rises, alpha stays" {
    many_frames
    run bash -c "parpi-policy --update bc --lr 0.01 ${SMALL[*]} <'$T/many.mp' >'$T/out.mp'"
    assert_success
    run --separate-stderr parpi-cat --csv metrics.policy.bc_logp --no-header "$T/out.mp"
    assert_success
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 40 ]
    # the same batch (every other frame) is more likely at the end than at the start
    first=$(printf '%s\n' "$output" | sed -n 1p)
    last=$(printf '%s\n' "$output" | sed -n 39p)
    awk -v a="$first" -v b="$last" 'BEGIN { exit !(b > a + 1) }'
    run parpi-cat --csv alpha --no-header "$T/out.mp"
    [ "$(printf '%s\n' "$output" | sort -u)" = 1 ]
    run parpi-cat --fields --frame 0 "$T/out.mp"
    assert_output --partial "metrics.policy.loss"
    refute_output --partial "metrics.policy.alpha_loss"
}

@test "policy: --update brac without a dual field names it and parpi-dual (exit 1)" {
    run parpi-policy --update brac "${SMALL[@]}" <"$DATA/stage-frames.mp"
    assert_failure 1
    assert_output --partial "missing field dual"
    assert_output --partial "parpi-dual"
}

@test "policy: --update brac through q and dual: q_mean and dual_term" {
    need_python_msgpack
    stage_frames offline 3 >"$T/off.mp"
    run bash -c "parpi-policy --update brac --penalty 0.5 --hidden 8 --layers 2 --max-batch 16 <'$T/off.mp' >'$T/out.mp'"
    assert_success
    run parpi-cat --csv metrics.policy.q_mean,metrics.policy.dual_term,metrics.policy.alpha_loss --no-header "$T/out.mp"
    assert_success
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 3 ]
}

@test "policy: --alpha 0 is a fixed temperature, kept across a resume" {
    run bash -c "parpi-policy --update sac --alpha 0 ${SMALL[*]} --checkpoint '$T/a.ckpt' <'$DATA/stage-frames.mp' >'$T/out.mp'"
    assert_success
    run parpi-cat --csv alpha --no-header "$T/out.mp"
    [ "$(printf '%s\n' "$output" | sort -u)" = 0 ]
    run parpi-cat --csv config.alpha,config.alpha_fixed --no-header "$T/a.ckpt"
    assert_output "0,1"
    run bash -c "parpi-policy --resume '$T/a.ckpt' <'$DATA/stage-frames.mp' | parpi-cat --csv alpha --no-header"
    assert_success
    [ "$(printf '%s\n' "$output" | sort -u)" = 0 ]
    run parpi-policy --init-alpha 0 </dev/null
    assert_failure 2
    assert_output --partial "--init-alpha"
    run parpi-policy --update svgd --alpha 0 </dev/null
    assert_failure
    assert_output --partial "--alpha 0"
}

@test "policy: --warm-start N clones first, is saved, and a resumed run is the one never stopped" {
    cat "$DATA/stage-frames.mp" "$DATA/stage-frames.mp" >"$T/two.mp"
    parpi-policy --update sac --warm-start 3 --seed 4 "${SMALL[@]}" --checkpoint "$T/all.ckpt" --out "$T/all.mp" <"$T/two.mp"
    # the first three updates are bc steps, the fourth sac's
    run --separate-stderr parpi-cat --csv metrics.policy.bc_logp --no-header "$T/all.mp"
    [ "$(printf '%s\n' "$output" | grep -c .)" -eq 3 ]
    run --separate-stderr parpi-cat --csv metrics.policy.q_mean --no-header "$T/all.mp"
    [ "$(printf '%s\n' "$output" | grep -c .)" -eq 1 ]
    # stopped after two updates, resumed without --warm-start: the checkpoint's 3
    parpi-policy --update sac --warm-start 3 --seed 4 "${SMALL[@]}" --checkpoint "$T/half.ckpt" --out "$T/half.mp" <"$DATA/stage-frames.mp"
    run parpi-cat --csv config.warm_start,steps --no-header "$T/half.ckpt"
    assert_output "3,2"
    parpi-policy --resume "$T/half.ckpt" --checkpoint "$T/rest.ckpt" --out "$T/rest.mp" <"$DATA/stage-frames.mp"
    run --separate-stderr parpi-cat --csv metrics.policy.bc_logp --no-header "$T/rest.mp"
    [ "$(printf '%s\n' "$output" | grep -c .)" -eq 1 ]
    parpi-cat --csv policy.params --no-header "$T/all.mp" | tail -1 >"$T/a.csv"
    parpi-cat --csv policy.params --no-header "$T/rest.mp" | tail -1 >"$T/b.csv"
    [ -s "$T/a.csv" ]
    cmp "$T/a.csv" "$T/b.csv"
    cmp "$T/all.ckpt" "$T/rest.ckpt"
    run parpi-policy --update svgd --warm-start 5 </dev/null
    assert_failure
    assert_output --partial "--warm-start"
}

@test "policy: --prior is for --update parpi, and a prior of other sizes is named" {
    parpi-policy --prime --env Pendulum-v1 --out "$T/beta.mp" </dev/null
    run parpi-policy --update sac --prior "$T/beta.mp" </dev/null
    assert_failure 2
    assert_output --partial "--prior: the behaviour policy's term is for --update parpi"
    parpi-policy --prime --env MultiGoal --out "$T/mg.mp" </dev/null
    run parpi-policy --update parpi --prior "$T/mg.mp" --env Pendulum-v1 --prime --out "$T/o.mp" </dev/null
    assert_failure 2
    assert_output --partial "is a policy for obs 2, act 2; this policy's are obs 3, act 1"
    run parpi-policy --update parpi --prior "$T/nothere.mp" </dev/null
    assert_failure 2
    assert_output --partial "nothere.mp"
}
