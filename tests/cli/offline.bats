#!/usr/bin/env bats
# Offline batches: parpi-collect --dataset in a ring takes no env step, emits
# a fresh batch per frame from the data set, counts gradient steps, and a run
# on it resumes exactly; bad combinations are refused before any work.

load helpers

SMALL=(--algo sac --eval-every 100 --eval-episodes 1 --log-every 100 --no-progress
       --set critic.hidden=16 --set critic.layers=2 --set policy.hidden=16)

setup() {
    need_progs parpi-collect parpi-train parpi-cat
    cd "$T"
    parpi-collect --env Pendulum-v1 --steps 600 --seed 2 --replay data.mp --out /dev/stdout >/dev/null 2>&1
}

@test "offline: a ring on a data set steps no env and counts gradient steps" {
    run parpi-train --env Pendulum-v1 --steps 300 "${SMALL[@]}" --set collect.dataset="$T/data.mp" \
        --out run --in-process
    assert_success
    # the collector's --learning-starts does not apply to a data set: no warning that nothing learns
    refute_output --partial "before learning starts"
    # three evaluations, at gradient steps 100, 200, 300
    run cut -d, -f1 run/eval.csv
    assert_output $'step\n100\n200\n300'
    # no episodes were played by the collector, no replay was written
    [ ! -s run/episodes.csv ] || [ "$(wc -l < run/episodes.csv)" -le 1 ]
    [ ! -e run/replay.mp ] || [ "$(parpi-cat --csv rows --no-header --frame 0 run/replay.mp)" = 0 ]
    # the snapshot holds no copy of the data set
    [ ! -e run/ckpt/300/replay.mp ]
    run parpi-cat --csv offline --no-header run/ckpt/collect.ckpt
    assert_output 1
}

@test "offline: resuming a run on a data set gives the uninterrupted run's policy, byte for byte" {
    parpi-train --env Pendulum-v1 --steps 200 "${SMALL[@]}" --set collect.dataset="$T/data.mp" --out a --in-process
    parpi-train --resume a --steps 400 --no-progress
    parpi-train --env Pendulum-v1 --steps 400 "${SMALL[@]}" --set collect.dataset="$T/data.mp" --out b --in-process
    cmp a/ckpt/policy.ckpt b/ckpt/policy.ckpt
    cmp a/ckpt/critic.ckpt b/ckpt/critic.ckpt
    cmp a/eval.csv b/eval.csv
}

@test "offline: the ring and the in-process chain agree on a data set" {
    parpi-train --env Pendulum-v1 --steps 200 "${SMALL[@]}" --set collect.dataset="$T/data.mp" --out ring
    parpi-train --env Pendulum-v1 --steps 200 "${SMALL[@]}" --set collect.dataset="$T/data.mp" --out chain --in-process
    cmp ring/ckpt/policy.ckpt chain/ckpt/policy.ckpt
}

@test "offline: bad combinations and data sets are refused, naming the option" {
    run parpi-collect --env Pendulum-v1 --dataset data.mp --replay r.mp </dev/null
    assert_failure
    assert_output --partial "give --dataset or --replay, not both"
    run parpi-collect --env Pendulum-v1 --dataset data.mp --steps 10
    assert_failure
    assert_output --partial "--dataset is for the ring"
    run parpi-collect --env Hopper-v3 --dataset data.mp </dev/null
    assert_failure
    assert_output --partial "holds obs 3 / act 1 transitions, but Hopper-v3 has obs 11 / act 3"
    run parpi-collect --env Pendulum-v1 --dataset data.mp --batch-size 1000 </dev/null
    assert_failure
    assert_output --partial "has 600 rows, fewer than --batch-size 1000"
    run parpi-collect --env Pendulum-v1 --dataset missing.mp </dev/null
    assert_failure
    assert_output --partial "missing.mp"
    head -c 1000 data.mp > torn.mp
    run parpi-collect --env Pendulum-v1 --dataset torn.mp </dev/null
    assert_failure
    assert_output --partial "torn.mp"
}

@test "offline: an online checkpoint does not resume as an offline run, nor the other way" {
    parpi-train --env Pendulum-v1 --steps 200 "${SMALL[@]}" --set collect.dataset="$T/data.mp" --out off --in-process
    run parpi-collect --env Pendulum-v1 --resume off/ckpt/collect.ckpt </dev/null
    assert_failure
    assert_output --partial "offline run: resume it with its --dataset FILE"
    parpi-train --env Pendulum-v1 --steps 200 --learning-starts 100 "${SMALL[@]}" --out on --in-process
    run parpi-collect --env Pendulum-v1 --dataset data.mp --resume on/ckpt/collect.ckpt </dev/null
    assert_failure
    assert_output --partial "online run, not of --dataset"
}
