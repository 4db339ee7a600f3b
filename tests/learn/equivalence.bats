#!/usr/bin/env bats
# The piped ring and the in-process chain give the same parameters for the
# same seed: every learning stage's checkpoint (params, optimiser state, RNG
# state) is byte-identical after 200 steps (100 of them updates).

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
