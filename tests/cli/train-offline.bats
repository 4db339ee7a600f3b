#!/usr/bin/env bats
# parpi-train --dataset: offline runs. The options and their refusals, the
# task and the evaluation cadence taken from the data set, the offline
# rings and presets, and BRAC's BC phase (DIR/behaviour, DIR/behaviour.ckpt):
# made once, resumed when begun, skipped when done, printed by --dry-run.
# Small networks and short runs; the learning is tests/learn/offline.bats.

load helpers

SMALL=(--set all.hidden=16 --batch-size 32 --eval-episodes 1 --no-progress --in-process)

setup() {
    need_progs parpi-train parpi-dataset parpi-dual parpi-cat
    echo "pendulum random env=Pendulum-v1 seed=3 rows=400" >"$T/manifest"
    parpi-dataset generate pendulum-random --manifest "$T/manifest" --out "$T/d.ds" 2>/dev/null
}

@test "offline: bc, brac and --base brac need --dataset" {
    for a in "--algo bc" "--algo brac" "--algo parpi --base brac"; do
        # shellcheck disable=SC2086
        run parpi-train --env Pendulum-v1 $a --out "$T/r"
        assert_failure 2
        assert_output --partial "learns from a data set: give --dataset FILE"
    done
    [ ! -e "$T/r" ]
}

@test "offline: --behaviour and --bc-steps only where pi_beta is read, and not together" {
    run parpi-train --dataset "$T/d.ds" --algo sac --behaviour "$T/d.ds" --out "$T/r"
    assert_failure 2
    assert_output --partial "--behaviour is for the runs that read a behaviour policy"
    run parpi-train --dataset "$T/d.ds" --algo brac --bc-steps 5 --behaviour "$T/d.ds" --out "$T/r"
    assert_failure 2
    assert_output --partial "give one"
    run parpi-train --dataset "$T/nothere.ds" --algo bc --out "$T/r"
    assert_failure 2
    assert_output --partial "--dataset $T/nothere.ds: No such file"
}

@test "offline: the task from the data set, evaluations every 5000 steps, the absolute path kept" {
    cd "$T"
    parpi-train --dataset d.ds --algo bc --steps 30 "${SMALL[@]}" --out r
    run grep '^train ' r/config
    assert_output --partial "--env Pendulum-v1 --dataset $T/d.ds --algo bc"
    assert_output --partial "--eval-every 5000"
    grep -q "^stage parpi-collect .* --dataset $T/d.ds" r/config
    # the offline preset, not the online one
    assert_output --partial "presets/offline/Pendulum-v1.conf"
    [ "$(parpi-cat --csv step --no-header r/ckpt/collect.ckpt)" = 30 ]
}

@test "offline: a --behaviour policy of other sizes is refused before the run exists" {
    parpi-train --env MultiGoal --algo sac --steps 20 --learning-starts 10 "${SMALL[@]}" --out "$T/mg"
    run parpi-train --dataset "$T/d.ds" --algo brac --behaviour "$T/mg/ckpt/policy.ckpt" --out "$T/r"
    assert_failure 2
    assert_output --partial "stage dual"
    [ ! -e "$T/r" ]
}

@test "offline: BRAC trains pi_beta first, once; a resume skips it" {
    parpi-train --dataset "$T/d.ds" --algo brac --bc-steps 40 --steps 30 "${SMALL[@]}" --out "$T/r"
    [ -s "$T/r/behaviour.ckpt" ]
    [ "$(parpi-cat --csv step --no-header "$T/r/behaviour/ckpt/collect.ckpt")" = 40 ]
    grep -q "^train .*--algo bc" "$T/r/behaviour/config"
    grep -q "^stage parpi-dual .*--prior=behaviour.ckpt" "$T/r/config"
    grep -q "^stage parpi-critic .*--penalty=1" "$T/r/config"
    grep -q "behaviour policy: training it by BC" "$T/r/logs/train.log"
    # the copy is the BC run's final policy, checked and saved whole
    cmp <(parpi-cat --json "$T/r/behaviour.ckpt") <(parpi-cat --json "$T/r/behaviour/ckpt/policy.ckpt")
    local before
    before=$(stat -c %Y.%s "$T/r/behaviour.ckpt")
    parpi-train --resume "$T/r" --steps 50 --no-progress
    [ "$(stat -c %Y.%s "$T/r/behaviour.ckpt")" = "$before" ]
    [ "$(parpi-cat --csv step --no-header "$T/r/ckpt/collect.ckpt")" = 50 ]
    [ "$(grep -c 'behaviour policy: training' "$T/r/logs/train.log")" = 1 ]
}

@test "offline: a BC phase begun before goes on from its snapshot" {
    parpi-train --dataset "$T/d.ds" --algo bc --steps 20 "${SMALL[@]}" --out "$T/r/behaviour"
    parpi-train --dataset "$T/d.ds" --algo parpi --base brac --bc-steps 60 --steps 20 "${SMALL[@]}" --out "$T/r"
    grep -q "behaviour policy: going on with BC" "$T/r/logs/train.log"
    [ "$(parpi-cat --csv step --no-header "$T/r/behaviour/ckpt/collect.ckpt")" = 60 ]
    grep -q "^stage parpi-langevin .*--prior=behaviour.ckpt" "$T/r/config"
}

@test "offline: --dry-run prints the BC run and the copy before the ring" {
    run parpi-train --dataset "$T/d.ds" --algo brac --bc-steps 40 --out "$T/r" --dry-run
    assert_success
    assert_line --index 0 --regexp "^parpi-train --out $T/r/behaviour --dataset $T/d.ds --env Pendulum-v1 --algo bc .*--steps=40"
    assert_line --index 1 "cp $T/r/behaviour/ckpt/policy.ckpt $T/r/behaviour.ckpt"
    assert_output --partial "parpi-dual"
    [ ! -e "$T/r" ]
}

@test "offline: the summary gives the D4RL score where the task has one" {
    echo "hopper random env=Hopper-v3 seed=3 rows=300" >"$T/manifest"
    parpi-dataset generate hopper-random --manifest "$T/manifest" --out "$T/h.ds" 2>/dev/null
    run parpi-train --dataset "$T/h.ds" --algo bc --steps 20 --eval-every 10 "${SMALL[@]}" --out "$T/h"
    assert_success
    assert_output --regexp "eval [-0-9.e+]+ \(D4RL score [-0-9.]+\) at step 20, best .* \([-0-9.]+\) at step"
}

@test "offline: ParPI on BRAC stopped and resumed gives the run never stopped (the policy's prior kept)" {
    parpi-train --dataset "$T/d.ds" --algo parpi --base brac --bc-steps 30 --steps 40 --save-every 20 \
        "${SMALL[@]}" --out "$T/full"
    parpi-train --dataset "$T/d.ds" --algo parpi --base brac --bc-steps 30 --steps 20 --save-every 20 \
        "${SMALL[@]}" --out "$T/part"
    parpi-train --resume "$T/part" --steps 40 --no-progress --in-process
    grep -q "^stage parpi-policy .*--prior=behaviour.ckpt" "$T/full/config"
    local k
    for k in dual critic langevin discrim policy; do
        diff <(parpi-cat --json "$T/full/ckpt/$k.ckpt" | sed -e 's/"prior":"[^"]*"//' -e 's/"checksum":[0-9]*//') \
             <(parpi-cat --json "$T/part/ckpt/$k.ckpt" | sed -e 's/"prior":"[^"]*"//' -e 's/"checksum":[0-9]*//')
    done
    grep -q "policy.prior_logp" "$T/full/progress.csv"
}
