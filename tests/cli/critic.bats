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

# ---- BRAC's value penalty (--penalty; docs/algorithm.md section 16) ----

@test "critic: --penalty lowers the target and Q against the same run without it" {
    need_python_msgpack
    stage_frames ring 6 >"$T/plain.mp"
    stage_frames ring 6 100 >"$T/pen.mp"  # the same frames, with penalty = 100 on every row
    parpi-critic --hidden 8 --layers 2 --max-batch 16 --in "$T/plain.mp" --out "$T/a.mp"
    parpi-critic --hidden 8 --layers 2 --max-batch 16 --penalty 1 --in "$T/pen.mp" --out "$T/b.mp"
    # --penalty 0 (the default) ignores the field: the numbers of the plain run
    parpi-critic --hidden 8 --layers 2 --max-batch 16 --in "$T/pen.mp" --out "$T/c.mp"
    cols=step,metrics.critic.q1_mean,metrics.critic.q2_mean,metrics.critic.target_mean
    for r in a b c; do
        parpi-cat --csv "$cols" --no-header "$T/$r.mp" >"$T/$r.csv"
        parpi-cat --csv q.params --no-header "$T/$r.mp" >"$T/$r.q"
    done
    cmp "$T/a.csv" "$T/c.csv"
    cmp "$T/a.q" "$T/c.q"
    ! cmp -s "$T/a.q" "$T/b.q"
    run parpi-cat --csv metrics.critic.penalty_mean --no-header "$T/b.mp"
    assert_output "$(printf '100\n%.0s' 1 2 3 4 5 6)"
    run parpi-cat --csv metrics.critic.penalty_mean "$T/a.mp"
    assert_failure
    # frame 0: the same Q and a', no row terminal: y lower by gamma * 1 * 100 = 99
    paste -d, "$T/a.csv" "$T/b.csv" | awk -F, -v n="$(head -1 "$T/a.csv" | awk -F, '{print NF}')" '
        NR == 1 { d = $4 - $(n + 4); if (d < 99 - 1e-3 || d > 99 + 1e-3) { print "target moved by " d; bad = 1 }
                  if ($2 != $(n + 2)) { print "q1_mean differs before any step"; bad = 1 } }
        NR == 6 { if (!($(n + 2) < $2 && $(n + 3) < $3)) { print "q1/q2 not lower: " $2 " " $(n + 2); bad = 1 } }
        END { exit bad }'
}

@test "critic: --penalty without a penalty field names it and parpi-dual (exit 1)" {
    run parpi-critic "${SMALL[@]}" --penalty 1 <"$DATA/stage-frames.mp"
    assert_failure 1
    assert_output --partial "missing field penalty"
    assert_output --partial "parpi-dual writes it"
    # without --penalty the same frames run
    parpi-critic "${SMALL[@]}" --in "$DATA/stage-frames.mp" --out "$T/out.mp"
}

@test "critic: a penalty of the wrong shape or not finite is refused naming the element (exit 1)" {
    need_python_msgpack
    stage_frames case penalty-short >"$T/short.mp"
    stage_frames case penalty-nan >"$T/nan.mp"
    run parpi-critic "${SMALL[@]}" --penalty 1 <"$T/short.mp"
    assert_failure 1
    assert_output --partial "penalty is f32[3], expected f32[4]"
    run parpi-critic "${SMALL[@]}" --penalty 1 <"$T/nan.mp"
    assert_failure 1
    assert_output --partial "penalty[1] is not finite (nan)"
    # --penalty 0 does not read it
    parpi-critic "${SMALL[@]}" --in "$T/nan.mp" --out "$T/out.mp"
}

@test "critic: --penalty with --target sql is a usage error (exit 2)" {
    run parpi-critic --target sql --penalty 1 </dev/null
    assert_failure 2
    assert_output --partial "--penalty 1 goes with --target sac only"
    run parpi-critic --penalty 2e6 </dev/null
    assert_failure 2
    assert_output --partial "--penalty: '2e6', expected a number in [0, 1e+06]"
}

@test "critic: with --penalty a checkpoint resumes the run exactly, keeping the weight" {
    need_python_msgpack
    stage_frames ring 4 3.5 >"$T/ring.mp"
    opts=(--hidden 8 --layers 2 --max-batch 16 --penalty 0.5)
    parpi-critic "${opts[@]}" --in "$T/ring.mp" --out "$T/all.mp" --checkpoint "$T/all.ckpt"
    head -c "$(/usr/bin/python3 -c "
import msgpack, sys
u = msgpack.Unpacker(open('$T/ring.mp', 'rb'), raw=False)
u.skip(); u.skip(); print(u.tell())")" "$T/ring.mp" >"$T/first2.mp"
    tail -c +"$(( $(stat -c %s "$T/first2.mp") + 1 ))" "$T/ring.mp" >"$T/last2.mp"
    parpi-critic "${opts[@]}" --in "$T/first2.mp" --out "$T/first.mp" --checkpoint "$T/half.ckpt"
    run parpi-cat --csv config.penalty --no-header "$T/half.ckpt"
    assert_output "0.5"
    # resumed without --penalty: the checkpoint's weight
    parpi-critic --resume "$T/half.ckpt" --in "$T/last2.mp" --out "$T/resumed.mp" --checkpoint "$T/b.ckpt"
    cmp "$T/all.ckpt" "$T/b.ckpt"
    cols=metrics.critic.q_loss,metrics.critic.target_mean,metrics.critic.penalty_mean
    parpi-cat --csv "$cols" --no-header "$T/all.mp" | tail -n 2 >"$T/a.csv"
    parpi-cat --csv "$cols" --no-header "$T/resumed.mp" >"$T/b.csv"
    [ "$(wc -l <"$T/b.csv")" -eq 2 ]
    cmp "$T/a.csv" "$T/b.csv"
    parpi-cat --csv q.params --no-header "$T/resumed.mp" >"$T/b.q"
    parpi-cat --csv q.params --no-header "$T/all.mp" | tail -n "$(wc -l <"$T/b.q")" >"$T/a.q"
    cmp "$T/a.q" "$T/b.q"
    # an sql checkpoint refuses a --penalty given on resume
    parpi-critic --target sql --value-particles 4 --hidden 8 --layers 2 --max-batch 16 \
        --in "$T/first2.mp" --out "$T/sql.mp" --checkpoint "$T/sql.ckpt"
    run parpi-critic --resume "$T/sql.ckpt" --penalty 1 --in "$T/last2.mp" --out "$T/x.mp"
    assert_failure
    assert_output --partial "--target sac only, but the checkpoint has --target sql"
}
