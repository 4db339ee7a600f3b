#!/usr/bin/env bats
# parpi-train: options, the run directory, failures named by stage, resume.

load helpers

# Small networks and a short warm-up so a run takes seconds.
SMALL=(--learning-starts 100 --batch-size 32 --eval-every 100 --eval-episodes 1 --log-every 50
       --set critic.hidden=16 --set critic.layers=2 --set policy.hidden=16 --set discrim.hidden=16
       --no-progress)

setup() {
    need_progs parpi-critic parpi-policy
}

# Wait until a file exists (at most $2 seconds).
wait_for() {
    for _ in $(seq 1 $((${2:-30} * 10))); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# No process of this run directory is left (each stage has --snapshots=DIR/ckpt).
no_orphans() {
    ! pgrep -f -- "--snapshots=$1/ckpt" >/dev/null
}

@test "train: --help, --version, usage errors exit 2" {
    run parpi-train --help
    assert_success
    assert_output --partial "--algo parpi|sac|sql"
    assert_output --partial "--in-process"
    run parpi-train --version
    assert_success
    run parpi-train --env Pendulum-v1
    assert_failure 2
    assert_output --partial "--out DIR"
    run parpi-train --env Pendulum-v1 --out "$T/r" --algo ppo
    assert_failure 2
    assert_output --partial "parpi, sac, sql"
    run parpi-train --env Pendulum-v1 --out "$T/r" --divergence kl
    assert_failure 2
    run parpi-train --env Pendulum-v1 --out "$T/r" --steps -5
    assert_failure 2
    run parpi-train --env Pendulum-v1 --out "$T/r" --set gamma=0.9
    assert_failure 2
    run parpi-train --env Pendulum-v1 --out "$T/r" --bogus
    assert_failure 2
    run parpi-train --env Pendulm --out "$T/r" --dry-run
    assert_failure 2
    assert_output --partial "Pendulum-v1"
}

@test "train: --dry-run prints the ring of each configuration" {
    run parpi-train --env Pendulum-v1 --algo sac --out "$T/r" --dry-run --preset none
    assert_success
    [ "${#lines[@]}" -eq 4 ]
    assert_line --index 0 --regexp '^parpi-collect .* -- --env Pendulum-v1 '
    assert_line --index 1 --regexp '^parpi-critic '
    assert_line --index 2 --regexp '^parpi-policy .*--update=sac .*--prime'
    assert_line --index 3 --regexp '^parpi-eval '
    # each --drop comes from the stages' reads and owns: in SAC the critic is the
    # last reader of the frame's policy, the policy stage of the batch and q
    assert_line --index 1 --regexp -- '--drop=([a-z_]+,)*policy( |,)'
    assert_line --index 2 --regexp -- '--drop=([a-z_]+,)*batch(,[a-z_]+)*,q( |,)'
    run parpi-train --env Pendulum-v1 --algo sql --out "$T/r" --dry-run --preset none
    assert_line --index 1 --partial -- "--target=sql"
    assert_line --index 2 --partial -- "--update=svgd"
    run parpi-train --env Pendulum-v1 --algo parpi --base sql --divergence jsd --out "$T/r" --dry-run --preset none
    [ "${#lines[@]}" -eq 6 ]
    assert_line --index 1 --partial -- "--target=sql"
    assert_line --index 2 --regexp '^parpi-langevin '
    assert_line --index 3 --partial -- "--divergence=jsd"
    assert_line --index 4 --partial -- "--update=parpi"
    # ParPI: the Langevin stage is the last reader of the policy, the
    # discriminator of the particles, the policy stage of disc
    assert_line --index 2 --regexp -- '--drop=([a-z_]+,)*policy( |,)'
    assert_line --index 3 --regexp -- '--drop=([a-z_]+,)*particles( |,)'
    assert_line --index 4 --regexp -- '--drop=([a-z_]+,)*disc( |,)'
    refute_line --index 0 --partial -- "--drop"
    # --set reaches the stage, after the defaults (the last one wins)
    run parpi-train --env Pendulum-v1 --out "$T/r" --dry-run --set critic.gamma=0.9 --set langevin.eps=1e-3
    assert_line --index 1 --partial -- "--gamma 0.9"
    assert_line --index 2 --partial -- "--eps 1e-3"
}

@test "train: a tiny SAC run on Pendulum finishes and fills the run directory" {
    run parpi-train --env Pendulum-v1 --algo sac --steps 300 --out "$T/run" "${SMALL[@]}"
    assert_success
    for f in config progress.csv eval.csv episodes.csv replay.mp logs/train.log \
             logs/collect.log logs/critic.log logs/policy.log logs/eval.log \
             ckpt/collect.ckpt ckpt/critic.ckpt ckpt/policy.ckpt ckpt/eval.ckpt; do
        [ -e "$T/run/$f" ] || { echo "missing $f"; false; }
    done
    [ ! -e "$T/run/ring" ] # the FIFO is removed at the end
    # the config holds every stage's full command line
    [ "$(grep -c '^stage parpi-' "$T/run/config")" -eq 4 ]
    grep -q '^train --env Pendulum-v1 --algo sac --steps 300' "$T/run/config"
    # evaluations at 100, 200, 300; progress rows every 50 steps
    run cut -d, -f1 "$T/run/eval.csv"
    assert_output "$(printf 'step\n100\n200\n300')"
    [ "$(tail -n 1 "$T/run/progress.csv" | cut -d, -f1)" = 300 ]
    # episodes of 200 steps: one finished
    [ "$(wc -l <"$T/run/episodes.csv")" -eq 2 ]
    run parpi-cat "$T/run/ckpt/collect.ckpt"
    assert_line --regexp '^step +int +300$'
    run parpi-cat "$T/run/replay.mp"
    assert_output --regexp 'observations +tensor f32\[300,3\]'
    # the trained policy evaluates
    run parpi-eval --env Pendulum-v1 --policy "$T/run/ckpt/policy.ckpt" --episodes 1
    assert_success
    # a second run into the same directory is refused
    run parpi-train --env Pendulum-v1 --algo sac --steps 300 --out "$T/run" "${SMALL[@]}"
    assert_failure 1
    assert_output --partial "--resume"
}

@test "train: the ParPI ring runs all six stages" {
    need_progs parpi-langevin parpi-discrim
    run parpi-train --env Pendulum-v1 --algo parpi --divergence jsd --steps 200 --out "$T/run" "${SMALL[@]}"
    assert_success
    for k in collect critic langevin discrim policy eval; do
        [ -s "$T/run/ckpt/$k.ckpt" ]
    done
    # the metrics of every stage reach progress.csv
    row=$(tail -n 1 "$T/run/progress.csv")
    header=$(head -n 1 "$T/run/progress.csv")
    col=$(echo "$header" | tr , '\n' | grep -n '^langevin.qK_mean$' | cut -d: -f1)
    [ -n "$(echo "$row" | cut -d, -f"$col")" ]
}

@test "train: --in-process runs the same stages in one process" {
    run parpi-train --env Pendulum-v1 --algo sac --steps 300 --in-process --out "$T/run" "${SMALL[@]}"
    assert_success
    [ -s "$T/run/ckpt/policy.ckpt" ]
    [ ! -e "$T/run/ring" ]
    [ "$(tail -n 1 "$T/run/eval.csv" | cut -d, -f1)" = 300 ]
}

@test "train: a killed stage is reported by name, the others stop, no orphans" {
    parpi-train --env Pendulum-v1 --algo sac --steps 1000000 --out "$T/run" "${SMALL[@]}" \
        >"$T/out" 2>"$T/err" &
    driver=$!
    wait_for "$T/run/status" 60
    pid=$(pgrep -f -- "parpi-critic .*--snapshots=$T/run/ckpt")
    [ -n "$pid" ]
    kill -KILL "$pid"
    rc=0
    wait "$driver" || rc=$?
    cat "$T/err"
    [ "$rc" -eq 1 ]
    grep -q "stage critic (parpi-critic, pid $pid) was killed by signal 9" "$T/err"
    grep -q "resume with: parpi-train --resume" "$T/err"
    grep -q "stage critic" "$T/run/logs/train.log"
    no_orphans "$T/run"
}

@test "train: a stage that fails at start is named with its message" {
    run parpi-train --env Pendulum-v1 --algo sac --steps 100 --out "$T/run" "${SMALL[@]}" \
        --set critic.gamma=7
    assert_failure 1
    assert_output --partial "stage critic"
    assert_output --partial "gamma"
    no_orphans "$T/run"
}

@test "train: Ctrl-C stops the ring with checkpoints; --resume continues it" {
    parpi-train --env Pendulum-v1 --algo sac --steps 1000000 --out "$T/run" "${SMALL[@]}" \
        2>"$T/err" &
    driver=$!
    wait_for "$T/run/status" 60
    # let it pass the warm-up so there is learning state to keep
    for _ in $(seq 1 300); do
        s=$(awk '{print $2}' "$T/run/status")
        [ "$s" -ge 150 ] && break
        sleep 0.1
    done
    kill -INT "$driver"
    rc=0
    wait "$driver" || rc=$?
    [ "$rc" -eq 130 ]
    grep -q "Resume with: parpi-train --resume" "$T/err"
    no_orphans "$T/run"
    stopped=$(parpi-cat "$T/run/ckpt/collect.ckpt" | awk '$1 == "step" {print $3}')
    [ "$stopped" -ge 150 ]
    # resume to a fixed end
    end=$((stopped + 120))
    run parpi-train --resume "$T/run" --steps "$end" --no-progress
    assert_success
    run parpi-cat "$T/run/ckpt/collect.ckpt"
    assert_line --regexp "^step +int +$end\$"
    grep -q "^resume $T/run" "$T/run/logs/train.log"
    # the replay kept the transitions of before the stop
    run parpi-cat "$T/run/replay.mp"
    assert_output --regexp "observations +tensor f32\\[$end,3\\]"
}

@test "train: SIGTERM stops the chain with checkpoints: exit 143" {
    parpi-train --env Pendulum-v1 --algo sac --steps 1000000 --in-process --out "$T/run" "${SMALL[@]}" \
        2>"$T/err" &
    driver=$!
    wait_for "$T/run/status" 60
    kill -TERM "$driver"
    rc=0
    wait "$driver" || rc=$?
    cat "$T/err"
    [ "$rc" -eq 143 ]
    grep -q "Resume with: parpi-train --resume" "$T/err"
    [ -s "$T/run/ckpt/policy.ckpt" ]
}

@test "train: --resume of a finished run extends it with --steps" {
    parpi-train --env Pendulum-v1 --algo sac --steps 200 --out "$T/run" "${SMALL[@]}"
    run parpi-train --resume "$T/run" --steps 300 --in-process --no-progress
    assert_success
    [ "$(tail -n 1 "$T/run/eval.csv" | cut -d, -f1)" = 300 ]
    run parpi-train --resume "$T/nothing"
    assert_failure 1
    assert_output --partial "nothing/config"
}
