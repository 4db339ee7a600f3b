#!/usr/bin/env bats
# Stages check every frame against their own set-up (issue 9; reliability
# review R1, R2, R13): a policy, critic or discriminator of the wrong sizes or
# with a non-finite weight, a batch with NaN or a done that is not 0/1, a
# policy that goes missing, a checkpoint of another task. Each is exit 1 with
# a message naming the field; the frames with bad values come from
# stage_frames.py case NAME (Python), the others from the programs alone.

load helpers

setup() {
    need_progs parpi-collect parpi-critic parpi-langevin parpi-discrim parpi-policy parpi-eval parpi-cat
}

SMALL=(--hidden 8 --layers 2)

# ---- R1: a policy for another task is refused where it would be run ----

@test "checks: ring-mode eval refuses a HalfCheetah policy on Hopper, naming policy.obs_dim (R1)" {
    # the frame reaches eval with step 1 (collect, still warming up, sets it)
    run --separate-stderr bash -c 'parpi-policy --prime --env HalfCheetah-v4 "$@" </dev/null |
        parpi-collect --env Hopper-v4 --learning-starts 100 |
        parpi-eval --env Hopper-v4 --every 1 --episodes 1 --out "$0"' "$T/ev.mp" "${SMALL[@]}"
    assert_equal "$status" 1
    assert_equal "$stderr" "parpi-eval: frame 0 (byte 0): the frame's policy, to evaluate on --env Hopper-v4 (obs 11, act 3): policy.obs_dim is 17, expected 11"
    # nothing was evaluated
    run parpi-cat "$T/ev.mp"
    refute_output --partial "metrics.eval"
}

@test "checks: ring-mode eval refuses a policy whose act_dim is not the env's" {
    run bash -c 'parpi-policy --prime --obs-dim 3 --act-dim 2 "$@" </dev/null |
        parpi-collect --env Pendulum-v1 --learning-starts 100 |
        parpi-eval --env Pendulum-v1 --every 1 --episodes 1 >/dev/null' _ "${SMALL[@]}"
    assert_equal "$status" 1
    assert_output --partial "policy.act_dim is 2, expected 1"
}

@test "checks: ring-mode collect refuses a policy for another task before acting with it" {
    run bash -c 'parpi-policy --prime --obs-dim 3 --act-dim 2 "$@" </dev/null |
        parpi-collect --env Pendulum-v1 --learning-starts 0 --out "$0"' "$T/c.mp" "${SMALL[@]}"
    assert_equal "$status" 1
    assert_output --partial "the frame's policy, to act in --env Pendulum-v1 (obs 3, act 1): policy.act_dim is 2, expected 1"
    # the right policy is used
    parpi-policy --prime --env Pendulum-v1 "${SMALL[@]}" </dev/null |
        parpi-collect --env Pendulum-v1 --learning-starts 0 --out "$T/c.mp"
    run parpi-cat --csv step --no-header "$T/c.mp"
    assert_output "1"
}

# ---- R13: after --learning-starts a frame must carry the policy ----

@test "checks: collect past --learning-starts: a policy that went missing is an error, a stream that never had one a warning" {
    parpi-collect --env Pendulum-v1 --steps 4 --chunk 1 --out "$T/plain.mp" 2>/dev/null
    parpi-policy --prime --env Pendulum-v1 "${SMALL[@]}" </dev/null >"$T/prime.mp"
    # prime (a policy), then frames without: the third frame acts at step 3 > 2
    run bash -c 'cat "$0" "$1" | parpi-collect --env Pendulum-v1 --learning-starts 2 >/dev/null' \
        "$T/prime.mp" "$T/plain.mp"
    assert_equal "$status" 1
    assert_output "parpi-collect: frame 2 (byte 1007): missing field policy at step 3, past --learning-starts 2 (earlier frames carried one: a stage or --drop upstream removed it)"
    # no policy ever: uniform random actions, as 0.1.0 did, and one warning
    run --separate-stderr parpi-collect --env Pendulum-v1 --learning-starts 2 --in "$T/plain.mp" --out "$T/o.mp"
    assert_success
    assert_equal "$stderr" "parpi-collect: warning: step 3 is past --learning-starts 2, but the frames carry no policy: the actions stay uniform random (a ring starts with parpi-policy --prime)"
    [ "$(parpi-cat --csv step --no-header "$T/o.mp" | tail -1)" = 4 ]
}

@test "checks: eval at an evaluation step: a policy that went missing is an error, a stream that never had one a warning" {
    parpi-collect --env Pendulum-v1 --steps 4 --chunk 1 --out "$T/plain.mp" 2>/dev/null
    parpi-policy --prime --env Pendulum-v1 "${SMALL[@]}" </dev/null >"$T/prime.mp"
    run bash -c 'cat "$0" "$1" | parpi-collect --env Pendulum-v1 --learning-starts 100 |
        parpi-eval --env Pendulum-v1 --every 2 --episodes 1 >/dev/null' "$T/prime.mp" "$T/plain.mp"
    assert_equal "$status" 1
    assert_output --partial "parpi-eval: frame 1 (byte 673): missing field policy at step 2, the frame of an evaluation (earlier frames carried one"
    run --separate-stderr bash -c 'parpi-collect --env Pendulum-v1 --learning-starts 100 <"$0" |
        parpi-eval --env Pendulum-v1 --every 2 --episodes 1 --log "$1" >/dev/null' "$T/plain.mp" "$T/e.csv"
    assert_success
    assert_equal "$stderr" "parpi-eval: warning: no evaluation at step 2: the frames carry no policy yet (a ring starts with parpi-policy --prime); evaluations are skipped until one comes"
    [ "$(wc -l <"$T/e.csv")" -eq 1 ] # the header only
    # a frame with alpha but no policy has lost it (parpi-policy writes both)
    run bash -c 'parpi-policy --prime --env Pendulum-v1 "$@" </dev/null |
        parpi-eval --env Pendulum-v1 --every 0 --drop policy |
        parpi-collect --env Pendulum-v1 --learning-starts 100 |
        parpi-eval --env Pendulum-v1 --every 1 --episodes 1 >/dev/null' _ "${SMALL[@]}"
    assert_equal "$status" 1
    assert_output --partial "missing field policy at step 1, the frame of an evaluation (the frame has alpha, which comes with it"
}

# A ring whose critic does not read the policy (--target sql) and a stage that
# drops it by mistake: the collector stops the ring at --learning-starts.
sql_ring() {
    local drop=$1
    rm -f "$T/ring"
    mkfifo "$T/ring"
    { local rc=0
      parpi-collect --env Pendulum-v1 --until 30 --learning-starts 20 --batch-size 4 <"$T/ring" \
          2>"$T/collect.err" || rc=$?
      echo $rc >"$T/collect.rc"; } |
        parpi-critic --target sql --hidden 8 --layers 1 --value-particles 4 |
        parpi-policy --update svgd --prime --env Pendulum-v1 --hidden 8 --layers 1 --svgd-particles 4 |
        parpi-eval --env Pendulum-v1 --every 0 $drop >"$T/ring"
}

@test "checks: a --target sql ring that loses the policy stops at --learning-starts (R13)" {
    sql_ring "--drop policy"
    assert_equal "$(cat "$T/collect.rc")" 1
    run cat "$T/collect.err"
    assert_output --partial "missing field policy at step 21, past --learning-starts 20"
    # the same ring, the policy kept: it runs to --until
    sql_ring ""
    assert_equal "$(cat "$T/collect.rc")" 0
}

# ---- R13: input batches (the critic and the policy name the field) ----

@test "checks: the critic refuses batch.done other than 0 or 1, with either target (R13)" {
    need_python_msgpack
    stage_frames case done-half >"$T/half.mp"
    stage_frames case done-seven >"$T/seven.mp"
    for target in sac sql; do
        run parpi-critic --target $target "${SMALL[@]}" --in "$T/half.mp" --out "$T/o.mp"
        assert_equal "$status" 1
        assert_output "parpi-critic: frame 0 (byte 0): batch.done[1] is 0.5, expected 0 or 1 (1: the episode terminated)"
        run parpi-critic --target $target "${SMALL[@]}" --in "$T/seven.mp" --out "$T/o.mp"
        assert_equal "$status" 1
        assert_output --partial "batch.done[2] is 7, expected 0 or 1"
    done
    # the unedited frame trains
    stage_frames case good >"$T/good.mp"
    run parpi-critic "${SMALL[@]}" --in "$T/good.mp" --out "$T/o.mp"
    assert_success
}

@test "checks: NaN or Inf in a batch is refused by the critic and the policy naming the field, before any loss (R13)" {
    need_python_msgpack
    for c in obs-nan act-nan rew-inf next-obs-inf; do stage_frames case $c >"$T/$c.mp"; done
    run parpi-critic "${SMALL[@]}" --in "$T/obs-nan.mp" --out "$T/o.mp"
    assert_output "parpi-critic: frame 0 (byte 0): batch.obs[1][2] is not finite (nan)"
    run parpi-critic "${SMALL[@]}" --in "$T/act-nan.mp" --out "$T/o.mp"
    assert_output --partial "batch.act[0][1] is not finite (nan)"
    run parpi-critic --target sql "${SMALL[@]}" --in "$T/rew-inf.mp" --out "$T/o.mp"
    assert_output --partial "batch.rew[3] is not finite (inf)"
    run parpi-critic "${SMALL[@]}" --in "$T/next-obs-inf.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output --partial "batch.next_obs[2][0] is not finite (-inf)"
    for update in parpi sac; do
        run parpi-policy --update $update "${SMALL[@]}" --in "$T/obs-nan.mp" --out "$T/o.mp"
        assert_equal "$status" 1
        assert_output "parpi-policy: frame 0 (byte 0): batch.obs[1][2] is not finite (nan)"
    done
}

# ---- R2 and the frozen networks: disc, q, policy ----

@test "checks: parpi-policy refuses a non-finite or mismatched disc, naming the field (R2)" {
    need_python_msgpack
    local c
    declare -A want=(
        [disc-nan]="disc.params[3] is not finite (nan)"
        [disc-sn-nan]="disc.sn[0] is not finite (nan)"
        [disc-sn-inf]="disc.sn[0] is not finite (inf)"
        [disc-sn-zero]="disc.sn: layer 0's u (floats 0..7) has norm 0, expected a unit vector"
        [disc-sn-small]="disc.sn: layer 0's u (floats 0..7) has norm 1e-20, expected a unit vector"
        [disc-arch]='disc.arch is "resnet-9000", but a disc map has no arch'
        [disc-lipschitz]='disc.lipschitz is "magic", expected none, sn or gp'
        [disc-spectral-flipped]="disc.spectral is false, but disc.lipschitz is sn"
        [disc-act3]="disc is not for the policy's obs 3, act 2: disc.act_dim is 3, expected 2"
    )
    for c in "${!want[@]}"; do
        stage_frames case "$c" >"$T/$c.mp"
        run parpi-policy "${SMALL[@]}" --in "$T/$c.mp" --out "$T/o.mp"
        assert_equal "$status" 1
        assert_output --partial "${want[$c]}"
    done
    # the unedited frame (a spectral disc with unit vectors) updates the policy
    stage_frames case good >"$T/good.mp"
    parpi-policy "${SMALL[@]}" --in "$T/good.mp" --out "$T/o.mp"
    run parpi-cat --csv metrics.policy.disc_term --no-header "$T/o.mp"
    assert_output --regexp '^-?[0-9]'
}

@test "checks: the frozen q of parpi-policy --update sac and of parpi-langevin is checked" {
    need_python_msgpack
    stage_frames case q-inf >"$T/q-inf.mp"
    stage_frames case q-act3 >"$T/q-act3.mp"
    run parpi-policy --update sac "${SMALL[@]}" --in "$T/q-inf.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output "parpi-policy: frame 0 (byte 0): q.params[0] is not finite (inf)"
    run parpi-policy --update sac "${SMALL[@]}" --in "$T/q-act3.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output --partial "q is not for the policy's obs 3, act 2: q.act_dim is 3, expected 2"
    run parpi-langevin --in "$T/q-inf.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output "parpi-langevin: frame 0 (byte 0): q.params[0] is not finite (inf)"
    run parpi-langevin --in "$T/q-act3.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output --partial "q is for obs 3, act 3 but policy is for obs 3, act 2"
}

@test "checks: the frame's policy is checked by parpi-langevin and by the critic's SAC target" {
    need_python_msgpack
    stage_frames case policy-nan >"$T/nan.mp"
    stage_frames case policy-obs4 >"$T/obs4.mp"
    run parpi-langevin --in "$T/nan.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output "parpi-langevin: frame 0 (byte 0): policy.params[5] is not finite (nan)"
    run parpi-critic "${SMALL[@]}" --in "$T/nan.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output "parpi-critic: frame 0 (byte 0): the frame's policy, for --target sac on obs 3, act 2 (the critic's): policy.params[5] is not finite (nan)"
    run parpi-critic "${SMALL[@]}" --in "$T/obs4.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output --partial "policy.obs_dim is 4, expected 3"
    # --target sql does not read the policy
    run parpi-critic --target sql "${SMALL[@]}" --in "$T/nan.mp" --out "$T/o.mp"
    assert_success
}

# ---- R13: a langevin checkpoint of another task ----

@test "checks: parpi-langevin keeps its sizes in the checkpoint and refuses a resume on another task's frames" {
    parpi-langevin --in "$DATA/stage-frames.mp" --out "$T/p.mp" --checkpoint "$T/l.ckpt"
    run parpi-cat "$T/l.ckpt"
    assert_line --regexp '^config\.obs_dim +int +3$'
    assert_line --regexp '^config\.act_dim +int +2$'
    # resumed and saved before any frame: the sizes are kept
    parpi-langevin --resume "$T/l.ckpt" --checkpoint "$T/l2.ckpt" --out "$T/none.mp" </dev/null
    run parpi-cat "$T/l2.ckpt"
    assert_line --regexp '^config\.act_dim +int +2$'
    # a Pendulum frame (obs 3, act 1) with batch, policy, q and alpha
    parpi-policy --prime --env Pendulum-v1 "${SMALL[@]}" </dev/null |
        parpi-collect --env Pendulum-v1 --learning-starts 0 --batch-size 4 --env-steps-per-frame 4 |
        parpi-critic "${SMALL[@]}" >"$T/pendulum.mp"
    run parpi-langevin --resume "$T/l2.ckpt" --in "$T/pendulum.mp" --out "$T/o.mp"
    assert_equal "$status" 1
    assert_output --partial "the frame's policy is for obs 3, act 1, but the checkpoint resumed (config.obs_dim, config.act_dim) was written for obs 3, act 2: a checkpoint of another task"
    # fresh, or resumed on its own task, it runs
    parpi-langevin --in "$T/pendulum.mp" --out "$T/o.mp"
    parpi-langevin --resume "$T/l2.ckpt" --in "$DATA/stage-frames.mp" --out "$T/o.mp"
}
