#!/usr/bin/env bats
# parpi-critic as a program: options, frames in and out, errors, checkpoints.
# Fixtures: tests/cli/data/stage-*.mp (committed; made by stage_frames.py fixtures).

load helpers

SMALL=(--hidden 8 --layers 2 --max-batch 4)

@test "critic: --help lists the stage's options, exit 0" {
    run parpi-critic --help
    assert_success
    assert_output --partial "--target sac|sql"
    assert_output --partial "--value-particles"
}

@test "critic: --version" {
    run parpi-critic --version
    assert_success
    assert_output --regexp "^parpi-critic [0-9]"
}

@test "critic: an unknown option is a usage error naming it (exit 2)" {
    run parpi-critic --frobnicate </dev/null
    assert_failure 2
    assert_output --partial "unknown option --frobnicate"
}

@test "critic: a bad --target lists the choices (exit 2)" {
    run parpi-critic --target dqn </dev/null
    assert_failure 2
    assert_output --partial "expected one of sac, sql"
}

@test "critic: a bad number is a usage error (exit 2)" {
    run parpi-critic --gamma 1.5 </dev/null
    assert_failure 2
    assert_output --partial "--gamma: '1.5'"
}

@test "critic: updates on every frame with a batch, emits q and metrics" {
    run bash -c "parpi-critic ${SMALL[*]} <'$DATA/stage-frames.mp' >'$T/out.mp'"
    assert_success
    need_progs parpi-cat
    run parpi-cat --fields --frame 0 "$T/out.mp"
    assert_output --partial "q.params"
    assert_output --partial "metrics.critic.q_loss"
    assert_output --partial "metrics.critic.target_mean"
    # the middle frame has no batch: no update, no critic metrics
    run parpi-cat --fields --frame 1 "$T/out.mp"
    refute_output --partial "metrics.critic.q_loss"
    run parpi-cat --fields --frame 2 "$T/out.mp"
    assert_output --partial "metrics.critic.q_loss"
}

@test "critic: --target sql runs on the same frames" {
    run bash -c "parpi-critic --target sql --value-particles 4 ${SMALL[*]} <'$DATA/stage-frames.mp' | wc -c"
    assert_success
    [ "$output" -gt 8000 ]
}

@test "critic: a missing field is a clear error (exit 1)" {
    run parpi-critic "${SMALL[@]}" <"$DATA/stage-norew.mp"
    assert_failure 1
    assert_output --partial "missing field batch.rew"
}

@test "critic: a shape change names the field and the expected shape (exit 1)" {
    run parpi-critic "${SMALL[@]}" <"$DATA/stage-wideobs.mp"
    assert_failure 1
    assert_output --partial "batch.obs is f32[4,4], expected f32[4,3]"
}

@test "critic: more rows than --max-batch is refused (exit 1)" {
    run parpi-critic --hidden 8 --layers 2 --max-batch 2 <"$DATA/stage-frames.mp"
    assert_failure 1
    assert_output --partial "expected 1..2 (--max-batch)"
}

@test "critic: checkpoint then resume continues the same run" {
    ck="$T/q.ckpt"
    run bash -c "parpi-critic ${SMALL[*]} --checkpoint '$ck' <'$DATA/stage-frames.mp' >/dev/null"
    assert_success
    [ -s "$ck" ]
    run bash -c "parpi-critic ${SMALL[*]} --resume '$ck' <'$DATA/stage-frames.mp' >/dev/null"
    assert_success
    run parpi-critic --resume "$T/missing.ckpt" </dev/null
    assert_failure 1
}

@test "critic: a checkpoint of another network size is refused (exit 1)" {
    ck="$T/q.ckpt"
    parpi-critic "${SMALL[@]}" --checkpoint "$ck" <"$DATA/stage-frames.mp" >/dev/null
    run parpi-critic --obs-dim 3 --act-dim 2 --hidden 16 --layers 2 --max-batch 4 --resume "$ck" </dev/null
    assert_failure 1
    assert_output --partial "the checkpoint has --hidden 8, but this stage has --hidden 16"
}

# data/critic-v0.1.ckpt was written by parpi 0.1 (3c02b29, before the option
# table) with: parpi-critic --hidden 8 --layers 2 --max-batch 4 --seed 7
#   --checkpoint critic-v0.1.ckpt <stage-frames.mp
@test "critic: a checkpoint of parpi 0.1 loads, saves back field for field, and resumes" {
    T="$BATS_TEST_TMPDIR"
    old="$DATA/critic-v0.1.ckpt"
    # loaded and saved again with no frame between: every field the same
    run parpi-critic --resume "$old" --checkpoint "$T/again.ckpt" </dev/null
    assert_success
    same_fields_as_v01 "$old" "$T/again.ckpt"
    # and the run goes on the same from either
    parpi-critic --resume "$old" --checkpoint "$T/a.ckpt" --out "$T/a.mp" <"$DATA/stage-frames.mp"
    parpi-critic --resume "$T/again.ckpt" --checkpoint "$T/b.ckpt" --out "$T/b.mp" <"$DATA/stage-frames.mp"
    cmp "$T/a.ckpt" "$T/b.ckpt"
    parpi-cat --csv q.params --no-header "$T/a.mp" >"$T/a.csv"
    parpi-cat --csv q.params --no-header "$T/b.mp" >"$T/b.csv"
    [ -s "$T/a.csv" ]
    cmp "$T/a.csv" "$T/b.csv"
    run parpi-cat --csv config.seed,steps --no-header "$T/a.ckpt"
    assert_output "7,4"
}
