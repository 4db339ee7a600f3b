#!/usr/bin/env bats
# The piped ring and the in-process chain give the same parameters for the
# same seed: every learning stage's checkpoint (params, optimiser state, RNG
# state) is byte-identical after 200 steps (100 of them updates). And the
# evaluations running beside the training (the default) give the files of
# --eval-sync, which runs them in the ring's order of work.

load ../cli/helpers

OPTS=(--env Pendulum-v1 --steps 200 --seed 11 --learning-starts 100 --batch-size 32
      --eval-every 100 --eval-episodes 1 --no-progress
      --set critic.hidden=32 --set critic.layers=2 --set policy.hidden=32 --set discrim.hidden=32)

setup() {
    need_progs parpi-critic parpi-policy parpi-langevin parpi-discrim
}

same_params() {
    local kinds="$1"
    for k in $kinds; do
        if cmp "$T/ring/ckpt/$k.ckpt" "$T/inproc/ckpt/$k.ckpt"; then
            echo "# $k: checkpoints identical"
        else
            # say which tensors differ
            diff <(parpi-cat "$T/ring/ckpt/$k.ckpt") <(parpi-cat "$T/inproc/ckpt/$k.ckpt") || true
            return 1
        fi
    done
    # and the data they learnt from
    cmp "$T/ring/replay.mp" "$T/inproc/replay.mp"
    cmp "$T/ring/eval.csv" "$T/inproc/eval.csv"
}

@test "equivalence: ParPI-wd ring == in-process after 200 steps" {
    parpi-train --algo parpi --divergence wd "${OPTS[@]}" --out "$T/ring"
    parpi-train --algo parpi --divergence wd "${OPTS[@]}" --out "$T/inproc" --in-process
    same_params "critic langevin discrim policy"
    # the policy did learn: one Adam step per frame from step 100 to 200
    run parpi-cat "$T/ring/ckpt/policy.ckpt"
    assert_line --regexp '^adam\.t +int +101$'
}

@test "equivalence: SAC ring == in-process after 200 steps" {
    parpi-train --algo sac "${OPTS[@]}" --out "$T/ring"
    parpi-train --algo sac "${OPTS[@]}" --out "$T/inproc" --in-process
    same_params "critic policy"
}

@test "equivalence: SQL ring == in-process after 200 steps" {
    parpi-train --algo sql "${OPTS[@]}" --out "$T/ring"
    parpi-train --algo sql "${OPTS[@]}" --out "$T/inproc" --in-process
    same_params "critic policy"
}

# every file of two runs that must be the same bytes, the wall clock and step
# times of progress.csv apart
same_files() {
    local a=$1 b=$2 k keep
    for k in collect critic policy eval; do cmp "$a/ckpt/latest/$k.ckpt" "$b/ckpt/latest/$k.ckpt"; done
    cmp "$a/ckpt/best/policy.ckpt" "$b/ckpt/best/policy.ckpt"
    cmp "$a/eval.csv" "$b/eval.csv"
    cmp "$a/episodes.csv" "$b/episodes.csv"
    keep=$(head -n 1 "$a/progress.csv" | tr , '\n' | grep -vn -e '^wall_s$' -e 'step_ms$' | cut -d: -f1 | paste -sd,)
    diff <(cut -d, -f"$keep" "$a/progress.csv") <(cut -d, -f"$keep" "$b/progress.csv")
}

@test "equivalence: evaluation beside the training == --eval-sync, ring and in-process, an evaluation every step" {
    # every step: evaluations pile up behind the training (two in flight, the
    # progress rows waiting for them), snapshots wait for them
    local o=(--algo sac --env Pendulum-v1 --steps 600 --seed 3 --learning-starts 100 --batch-size 32
             --eval-every 1 --eval-episodes 2 --log-every 1 --save-every 150 --no-progress
             --set critic.hidden=32 --set critic.layers=2 --set policy.hidden=32)
    parpi-train "${o[@]}" --eval-sync --in-process --out "$T/sync"
    parpi-train "${o[@]}" --in-process --out "$T/inproc"
    parpi-train "${o[@]}" --out "$T/ring"
    [ "$(wc -l <"$T/sync/eval.csv")" -eq 601 ]
    # the rows in step order
    tail -n +2 "$T/inproc/eval.csv" | cut -d, -f1 | sort -n -c
    same_files "$T/sync" "$T/inproc"
    same_files "$T/sync" "$T/ring"
    # --eval-sync is how a session runs, not part of the run: a resume may give it or not
    run parpi-train --resume "$T/ring" --steps 700 --eval-sync --no-progress
    assert_success
    grep -q '^step 700$' "$T/ring/ckpt/snapshot"
}
# Offline (parpi-train --dataset): a small random data set, BRAC and ParPI on
# BRAC with their BC phase; the behaviour policy, every learning stage's
# checkpoint and the evaluations are the same bytes in both modes.
OFF=(--steps 200 --seed 11 --batch-size 32 --eval-every 100 --eval-episodes 1 --no-progress --bc-steps 60
     --set critic.hidden=32 --set critic.layers=2 --set policy.hidden=32 --set dual.hidden=32
     --set discrim.hidden=32 --set policy.warm-start=50)

offline_data() {
    echo "pendulum random env=Pendulum-v1 seed=5 rows=600" >"$T/manifest"
    parpi-dataset generate pendulum-random --manifest "$T/manifest" --out "$T/d.ds" 2>/dev/null
}

# every value of a checkpoint (JSON, floats in full) but the path of the
# run's behaviour policy (config.prior: each run reads its own
# DIR/behaviour.ckpt) and so the checksum
ckpt_fields() { parpi-cat --json "$1" | sed -e 's/"prior":"[^"]*"//' -e 's/"checksum":[0-9]*//'; }

same_offline() {
    local k
    cmp "$T/ring/behaviour.ckpt" "$T/inproc/behaviour.ckpt"
    for k in $1; do
        diff <(ckpt_fields "$T/ring/ckpt/$k.ckpt") <(ckpt_fields "$T/inproc/ckpt/$k.ckpt")
        echo "# $k: the same fields"
    done
    cmp "$T/ring/eval.csv" "$T/inproc/eval.csv"
}

@test "equivalence: BRAC ring == in-process after 200 offline steps" {
    need_progs parpi-dual parpi-dataset
    offline_data
    parpi-train --dataset "$T/d.ds" --algo brac "${OFF[@]}" --out "$T/ring"
    parpi-train --dataset "$T/d.ds" --algo brac "${OFF[@]}" --out "$T/inproc" --in-process
    same_offline "dual critic policy"
    run parpi-cat "$T/ring/ckpt/policy.ckpt"
    assert_line --regexp '^adam\.t +int +200$'
}

@test "equivalence: ParPI-WD on BRAC ring == in-process after 200 offline steps" {
    need_progs parpi-dual parpi-dataset
    offline_data
    parpi-train --dataset "$T/d.ds" --algo parpi --base brac "${OFF[@]}" --out "$T/ring"
    parpi-train --dataset "$T/d.ds" --algo parpi --base brac "${OFF[@]}" --out "$T/inproc" --in-process
    same_offline "dual critic langevin discrim policy"
}
