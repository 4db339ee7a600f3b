#!/usr/bin/env bats
# parpi-dataset generate: D4RL's recipe from a manifest of behaviour
# policies (lib/offline/): every kind on Pendulum in seconds, byte-for-byte
# repeats, medium-replay's training run resumed and checked against a run
# never stopped, the shipped hopper policies, and bad manifests.

load helpers

setup() {
    need_progs parpi-dataset parpi-train parpi-cat
    cd "$T"
    cp "$FIX/compat-0.1.0/run/ckpt/policy.ckpt" policy.ckpt
    printf -- '%s\n' --env Pendulum-v1 --algo sac --learning-starts 200 --eval-every 300 --eval-episodes 1 \
        --save-every 300 --set critic.hidden=16 --set policy.hidden=16 --in-process --no-progress > train.args
    cat > manifest <<'EOF'
# a test manifest: Pendulum, the 0.1 fixture's policy as medium and expert
pendulum random        env=Pendulum-v1 seed=5 rows=1000
pendulum medium        env=Pendulum-v1 policy=policy.ckpt seed=6 rows=1000 step=1000 return=-300
pendulum expert        env=Pendulum-v1 policy=policy.ckpt seed=7 rows=1000 step=2000 return=-150
pendulum medium-replay env=Pendulum-v1 train=train.args steps=600
pendulum medium-expert first=medium second=expert rows=1500
EOF
}

@test "generate: every kind, with D4RL's columns and the manifest's metadata" {
    for k in random medium expert medium-replay medium-expert; do
        run parpi-dataset generate pendulum-$k --manifest manifest --out $k.ds
        assert_success
        assert_output --partial "wrote $k.ds"
    done
    run parpi-dataset info random.ds
    assert_line "rows 1000"
    assert_line "timeouts 5"
    assert_line "terminals 0"
    assert_line --partial "column infos/action_log_probs f32 [1000]"
    # medium: sampled from the policy, its step and return in the metadata
    run parpi-cat --fields medium.ds
    assert_line metadata.iteration
    assert_line metadata.policy.eval_return
    assert_line metadata.policy.definition
    # medium-replay: the 600 transitions of the training run, in order
    run parpi-dataset info medium-replay.ds
    assert_line "rows 600"
    [ -d medium-replay.ds.run ]
    # medium-expert: medium cut at its last timeout (row 600 of 750), then 750 of expert
    run parpi-dataset info medium-expert.ds
    assert_line "rows 1350"
}

@test "generate: the same manifest and seed give the same file; --seed changes it" {
    parpi-dataset generate pendulum-medium --manifest manifest --out a.ds 2>/dev/null
    parpi-dataset generate pendulum-medium-v2 --manifest manifest --out b.ds 2>/dev/null
    cmp a.ds b.ds
    parpi-dataset generate pendulum-medium --manifest manifest --seed 99 --out c.ds 2>/dev/null
    ! cmp -s a.ds c.ds
    parpi-dataset generate pendulum-medium --manifest manifest --rows 123 --out d.ds 2>/dev/null
    run parpi-dataset info d.ds
    assert_line "rows 123"
}

@test "generate: medium-replay resumes its training run and gives the uninterrupted run's rows" {
    parpi-dataset generate pendulum-medium-replay --manifest manifest --out full.ds 2>/dev/null
    # a run stopped at step 300 (as a killed generate leaves it), then generate goes on with it
    parpi-train $(grep -v '^#' train.args) --steps 300 --out part.ds.run 2>/dev/null
    run parpi-dataset generate pendulum-medium-replay --manifest manifest --out part.ds
    assert_success
    cmp <(parpi-cat --csv observations,actions,rewards --no-header full.ds) \
        <(parpi-cat --csv observations,actions,rewards --no-header part.ds)
}

@test "generate: the shipped hopper policies make hopper data sets" {
    run parpi-dataset generate hopper-random --rows 3000 --out r.ds
    assert_success
    run parpi-dataset info r.ds
    assert_line "rows 3000"
    assert_line --partial "column infos/qpos f32 [3000,6]"
    assert_line --partial "column infos/qvel f32 [3000,6]"
    if grep -q '^hopper medium ' "$ROOT/share/parpi/d4rl/manifest"; then
        run parpi-dataset generate hopper-medium --rows 3000 --out m.ds
        assert_success
        # a medium policy hops: its episodes last longer than random's
        local rand_eps med_eps
        rand_eps=$(parpi-dataset info r.ds | awk '$1=="episodes"{print $2}')
        med_eps=$(parpi-dataset info m.ds | awk '$1=="episodes"{print $2}')
        [ "$med_eps" -lt "$rand_eps" ]
    fi
}

@test "generate: unknown names and bad manifests are refused, naming the line" {
    run parpi-dataset generate pendulum-great --manifest manifest --out x.ds
    assert_failure
    assert_output --partial "unknown kind 'great'"
    run parpi-dataset generate cartpole-medium --manifest manifest --out x.ds
    assert_failure
    assert_output --partial "it has: pendulum-random"
    echo "pendulum medium env=Pendulum-v1 colour=red" > bad
    run parpi-dataset generate pendulum-medium --manifest bad --out x.ds
    assert_failure
    assert_output --partial "bad:1: unknown key 'colour'"
    echo "pendulum medium env=Pendulum-v1 policy=missing.ckpt" > bad
    run parpi-dataset generate pendulum-medium --manifest bad --out x.ds
    assert_failure
    assert_output --partial "missing.ckpt"
    [ ! -e x.ds ]
    run parpi-dataset generate pendulum-medium --manifest manifest
    assert_failure
    assert_output --partial "needs --out"
}
