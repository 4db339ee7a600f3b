#!/usr/bin/env bats
# parpi-train: options, the run directory, failures named by stage, resume.

load helpers

# Small networks and a short warm-up so a run takes seconds.
QUIET_SMALL=(--learning-starts 100 --batch-size 32 --eval-every 100 --eval-episodes 1 --log-every 50
             --set critic.hidden=16 --set critic.layers=2 --set policy.hidden=16 --set discrim.hidden=16)
SMALL=("${QUIET_SMALL[@]}" --no-progress)

setup() {
    need_progs parpi-critic parpi-policy
}

# A test that made a folder outside its own (where another user can reach
# it) takes it away, failed or not.
teardown() {
    [ -z "${ro:-}" ] || rm -rf "$ro"
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

@test "train: --dry-run prints the ring of each configuration as a pipeline" {
    run --separate-stderr parpi-train --env Pendulum-v1 --algo sac --out "$T/r" --dry-run --preset none
    assert_success
    # the folders and the FIFO, then one stage a line, joined by '|'
    [ "${#lines[@]}" -eq 5 ]
    assert_line --index 0 "mkdir -p $T/r/ckpt/best && rm -f $T/r/ring && mkfifo $T/r/ring"
    assert_line --index 1 --regexp "^parpi-collect .* -- --env Pendulum-v1 .* <$T/r/ring \|\$"
    assert_line --index 2 --regexp '^parpi-critic .* \|$'
    assert_line --index 3 --regexp '^parpi-policy .*--update=sac .*--prime.* \|$'
    assert_line --index 4 --regexp "^parpi-eval .*--best=$T/r/ckpt/best/policy.ckpt >$T/r/ring\$"
    # each --drop comes from the stages' reads and owns: in SAC the critic is the
    # last reader of the frame's policy, the policy stage of the batch and q
    assert_line --index 2 --regexp -- '--drop=([a-z_]+,)*policy( |,)'
    assert_line --index 3 --regexp -- '--drop=([a-z_]+,)*batch(,[a-z_]+)*,q( |,)'
    [ ! -e "$T/r" ] # a dry run makes nothing
    run parpi-train --env Pendulum-v1 --algo sql --out "$T/r" --dry-run --preset none
    assert_line --index 2 --partial -- "--target=sql"
    assert_line --index 3 --partial -- "--update=svgd"
    run parpi-train --env Pendulum-v1 --algo parpi --base sql --divergence jsd --out "$T/r" --dry-run --preset none
    [ "${#lines[@]}" -eq 7 ]
    assert_line --index 2 --partial -- "--target=sql"
    assert_line --index 3 --regexp '^parpi-langevin '
    assert_line --index 4 --partial -- "--divergence=jsd"
    assert_line --index 5 --partial -- "--update=parpi"
    # ParPI: the Langevin stage is the last reader of the policy, the
    # discriminator of the particles, the policy stage of disc
    assert_line --index 3 --regexp -- '--drop=([a-z_]+,)*policy( |,)'
    assert_line --index 4 --regexp -- '--drop=([a-z_]+,)*particles( |,)'
    assert_line --index 5 --regexp -- '--drop=([a-z_]+,)*disc( |,)'
    refute_line --index 1 --partial -- "--drop"
    # --set reaches the stage, after the defaults (the last one wins)
    run parpi-train --env Pendulum-v1 --out "$T/r" --dry-run --set critic.gamma=0.9 --set langevin.eps=1e-3
    assert_line --index 2 --partial -- "--gamma 0.9"
    assert_line --index 3 --partial -- "--eps 1e-3"
    # all.OPTION reaches the stages that take it, and only those
    run parpi-train --env Pendulum-v1 --out "$T/r" --dry-run --set all.max-batch=512
    assert_success
    assert_line --index 2 --partial -- "--max-batch 512"
    refute_line --index 1 --partial -- "--max-batch"
    refute_line --index 6 --partial -- "--max-batch"
}

@test "train: the --dry-run pipeline runs as pasted" {
    parpi-train --env Pendulum-v1 --algo sac --steps 150 --out "$T/r" --dry-run "${SMALL[@]}" >"$T/plan.sh"
    (cd "$T" && timeout 60 bash -e -o pipefail "$T/plan.sh")
    run parpi-cat --csv step --no-header "$T/r/ckpt/latest/collect.ckpt"
    assert_output 150
    [ "$(tail -n 1 "$T/r/eval.csv" | cut -d, -f1)" = 100 ]
    # the pasted ring made no config: that is a directory, not a run
    [ ! -e "$T/r/config" ]
    # an --out that holds a run is refused by --dry-run too
    parpi-train --env Pendulum-v1 --algo sac --steps 100 --out "$T/run" "${SMALL[@]}" 2>/dev/null
    run parpi-train --env Pendulum-v1 --algo sac --steps 100 --out "$T/run" --dry-run
    assert_failure 1
    assert_output --partial "already holds a run"
}

@test "train: a refused start leaves no directory and does not suggest --resume" {
    for bad in "--set critic.gama=0.9" "--set critic.lr=abc" "--set critic.lr=-1" "--set critic.hidden=0" \
               "--set all.lr=nan" "--set all.bogus=1" "--batch-size 300" "--batch-size 0" \
               "--set collect.capacity=100 --batch-size 200"; do
        # shellcheck disable=SC2086
        run parpi-train --env Pendulum-v1 --algo sac --steps 300 --out "$T/sub/run" $bad
        [ "$status" -eq 2 ] || { echo "$bad: status $status"; echo "$output"; false; }
        [ ! -e "$T/sub" ] || { echo "$bad left $(find "$T/sub")"; false; }
        refute_output --partial "--resume"
        assert_output --partial "Try 'parpi-train --help'"
    done
    run parpi-train --env Pendulum-v1 --steps 300 --out "$T/run" --set critic.gama=0.9
    assert_line --index 0 "parpi-train: stage critic: unknown option --gama"
    run parpi-train --env Pendulum-v1 --steps 300 --out "$T/run" --batch-size 300
    assert_output --partial "--batch-size 300 is above parpi-critic's --max-batch 256"
    assert_output --partial "--set critic.max-batch=300"
    run parpi-train --env Pendulum-v1 --steps 300 --out "$T/run" --set all.lr=nan
    assert_output --partial "stage critic: --lr: 'nan', expected a number in [0, 1]"
    # a directory name the config file cannot hold
    run parpi-train --env Pendulum-v1 --steps 300 --out "$T/a
b"
    assert_failure 2
    assert_output --partial "cannot hold a line break"
    [ ! -e "$T/a" ]
}

@test "train: flags are checked against each other" {
    run parpi-train --env Pendulum-v1 --algo sac --divergence jsd --out "$T/r" --dry-run
    assert_failure 2
    assert_output --partial "--divergence is for --algo parpi"
    run parpi-train --env Pendulum-v1 --algo sql --base sql --out "$T/r" --dry-run
    assert_failure 2
    assert_output --partial "--base is for --algo parpi"
    run parpi-train --resume "$T/r" --out "$T/s"
    assert_failure 2
    assert_output --partial "not both"
    # the alias Pendulum is Pendulum-v1: the same preset, the same stages
    run parpi-train --env Pendulum --out "$T/r" --dry-run
    assert_success
    alias_plan=$output
    run parpi-train --env Pendulum-v1 --out "$T/r" --dry-run
    assert_equal "$alias_plan" "$output"
    assert_output --partial -- "--alpha 0.05" # from presets/Pendulum-v1.conf
    # a run that ends before learning starts is warned about (and runs)
    run parpi-train --env Pendulum-v1 --steps 50 --out "$T/r" --dry-run --learning-starts 100 --batch-size 32
    assert_success
    assert_output --partial "warning: --steps 50 ends the run before learning starts (step 100"
    run parpi-train --env Pendulum-v1 --steps 500 --out "$T/r" --dry-run --learning-starts 100 --batch-size 32
    refute_output --partial "warning"
    # every stage acts in the run's task
    run parpi-train --env Pendulum-v1 --set collect.env=Hopper-v4 --out "$T/r" --dry-run
    assert_failure 2
    assert_output --partial "stage collect is given --env Hopper-v4, but the run's is Pendulum-v1"
    # options are whole words, and a near miss is named
    run parpi-train --env Pendulum-v1 --step 500 --out "$T/r" --dry-run
    assert_failure 2
    assert_line --index 0 "parpi-train: unknown option --step (did you mean --steps?)"
    run parpi-train --env Pendulum-v1 --stpes=500 --out "$T/r" --dry-run
    assert_line --index 0 "parpi-train: unknown option --stpes (did you mean --steps?)"
    assert_line --index 1 "Try 'parpi-train --help'."
    [ "${#lines[@]}" -eq 2 ]
    # -h is --help
    run parpi-train -h
    assert_success
    assert_output --partial "Usage: parpi-train"
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

@test "train: a stage option refused at start is named with its stage, before the run exists" {
    run parpi-train --env Pendulum-v1 --algo sac --steps 100 --out "$T/run" "${SMALL[@]}" \
        --set critic.gamma=7
    assert_failure 2
    assert_output --partial "stage critic: --gamma: '7'"
    [ ! -e "$T/run" ]
    run parpi-train --env Pendulum-v1 --algo sac --steps 100 --in-process --out "$T/run" "${SMALL[@]}" \
        --set policy.hidden=0
    assert_failure 2
    assert_output --partial "stage policy: --hidden: '0'"
    [ ! -e "$T/run" ]
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
    # the signal is named, not a stage
    grep -q "^parpi-train: stopped by SIGINT; checkpoints saved" "$T/err"
    ! grep -q "^parpi-train: stage " "$T/err"
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

@test "train: one driver per run directory: a second, fresh or --resume, is refused at once, naming it" {
    parpi-train --env Pendulum-v1 --algo sac --steps 1000000 --out "$T/run" "${SMALL[@]}" 2>"$T/err" &
    driver=$!
    wait_for "$T/run/status" 60
    for args in "--env Pendulum-v1 --algo sac --steps 100 --out $T/run" "--resume $T/run" \
                "--resume $T/run --in-process --steps 2000000"; do
        SECONDS=0
        # shellcheck disable=SC2086
        run timeout 30 parpi-train $args --no-progress
        [ "$status" -eq 1 ] || { echo "$args: status $status: $output"; false; }
        assert_output "parpi-train: $T/run is in use: parpi-train on host $(uname -n), pid $driver holds $T/run/lock"
        [ "$SECONDS" -le 5 ]
    done
    grep -qx "$(uname -n) $driver" "$T/run/lock"
    # SIGTERM to the ring: 143, the signal named, no stage blamed
    kill -TERM "$driver"
    rc=0
    wait "$driver" || rc=$?
    cat "$T/err"
    [ "$rc" -eq 143 ]
    grep -q "^parpi-train: SIGTERM: stopping the stages" "$T/err"
    grep -q "^parpi-train: stopped by SIGTERM; checkpoints saved. Resume with: parpi-train --resume $T/run" "$T/err"
    ! grep -q "^parpi-train: stage " "$T/err"
    no_orphans "$T/run"
    # the lock went with the driver (and its stages): the run goes on
    stopped=$(parpi-cat --csv step --no-header "$T/run/ckpt/collect.ckpt")
    run parpi-train --resume "$T/run" --steps $((stopped + 20)) --no-progress
    assert_success
}

@test "train: without a terminal, a plain line at each evaluation and a summary at the end" {
    run --separate-stderr parpi-train --env Pendulum-v1 --algo sac --steps 300 --out "$T/run" "${QUIET_SMALL[@]}" \
        --print-every 0
    assert_success
    [ -z "$output" ] # stdout
    # shellcheck disable=SC2154
    echo "$stderr"
    [[ "$stderr" != *$'\r'* ]]
    mapfile -t err <<<"$stderr"
    [ "${#err[@]}" -eq 5 ]
    [[ "${err[0]}" == "parpi-train: start $T/run: Pendulum-v1 sac, 300 steps, seed 0, ring" ]]
    for i in 1 2 3; do
        [[ "${err[$i]}" =~ ^parpi-train:\ step\ ${i}00/300\ \([0-9.]+%\)\ \ ([0-9.]+|\?)\ steps/s\ \ elapsed\ [0-9.]+s\ \ ETA\ [0-9.?hms]+(\ \ return\ -?[0-9.]+)?\ \ eval\ -?[0-9.]+$ ]] ||
            { echo "line $i: ${err[$i]}"; false; }
    done
    # the summary: the last and the best evaluation, as eval.csv has them
    read -r best best_step < <(awk -F, 'NR > 1 && (n++ == 0 || $3 > m) {m = $3; s = $1} END {printf "%.6g %d\n", m, s}' "$T/run/eval.csv")
    last=$(awk -F, 'END {printf "%.6g", $3}' "$T/run/eval.csv")
    [[ "${err[4]}" =~ ^parpi-train:\ finished:\ step\ 300\ of\ 300\ in\ [0-9.hms]+\ \([0-9.]+\ steps/s\)\;\ eval\ (-?[0-9.e+]+)\ at\ step\ 300,\ best\ (-?[0-9.e+]+)\ at\ step\ ([0-9]+)\ \(its\ policy:\ $T/run/ckpt/best/policy.ckpt\)$ ]]
    [ "${BASH_REMATCH[1]}" = "$last" ]
    [ "${BASH_REMATCH[2]}" = "$best" ]
    [ "${BASH_REMATCH[3]}" = "$best_step" ]
    grep -q "^finished: step 300 of 300" "$T/run/logs/train.log"
    # --print-every N: also a line every N seconds; --no-progress: the summary only
    run --separate-stderr parpi-train --resume "$T/run" --steps 400 --in-process --no-progress
    assert_success
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
    [[ "$stderr" == "parpi-train: finished: step 400 of 400 in "* ]]
}

@test "train: the best evaluation's policy is kept in ckpt/best and evaluates as logged" {
    parpi-train --env Pendulum-v1 --algo sac --steps 400 --out "$T/run" "${SMALL[@]}" 2>/dev/null
    best="$T/run/ckpt/best/policy.ckpt"
    best_of_csv() { awk -F, 'NR > 1 && (n++ == 0 || $3 > m) {m = $3; s = $1} END {printf "%.6g,%d\n", m, s}' "$T/run/eval.csv"; }
    best_of_file() { parpi-cat --csv eval.return_mean,step --no-header "$best" | awk -F, '{printf "%.6g,%d\n", $1, $2}'; }
    assert_equal "$(best_of_file)" "$(best_of_csv)"
    run parpi-cat --csv kind,env --no-header "$best"
    assert_output '"best-policy","Pendulum-v1"'
    # parpi-eval and parpi-collect take it as --policy; the same seed gives the same return
    run parpi-eval --env Pendulum-v1 --policy "$best" --episodes 1
    assert_success
    assert_line "return_mean $(best_of_csv | cut -d, -f1)"
    run parpi-collect --env Pendulum-v1 --policy "$best" --steps 5 --replay "$T/r.mp"
    assert_success
    # a resumed run compares with the file it finds
    parpi-train --resume "$T/run" --steps 800 --no-progress 2>/dev/null
    assert_equal "$(best_of_file)" "$(best_of_csv)"
}

@test "train: what stops the ring from starting is said (R12)" {
    parpi-train --env Pendulum-v1 --algo sac --steps 100 --out "$T/run" "${SMALL[@]}" 2>/dev/null
    mkdir "$T/run/ring"
    run parpi-train --resume "$T/run" --steps 150 --no-progress
    assert_failure 1
    assert_output --partial "parpi-train: cannot make the FIFO $T/run/ring: a directory of that name is in the way"
}

@test "train: a run directory it cannot write is refused at start, with a message" {
    command -v setpriv >/dev/null || skip "needs setpriv to run as another user"
    [ "$(id -u)" -eq 0 ] || skip "needs root to run as nobody (a read-only directory does not stop root)"
    ro=$(mktemp -d /tmp/parpi-ro.XXXXXX)
    chmod 755 "$ro"
    parpi-train --env Pendulum-v1 --algo sac --steps 100 --out "$ro/run" "${SMALL[@]}" 2>/dev/null
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$PATH" PARPI_SHARE="$PARPI_SHARE" "$@"; }
    run as_nobody parpi-train --resume "$ro/run" --steps 150 --no-progress
    assert_failure 1
    assert_output --partial "cannot lock $ro/run/lock: Permission denied"
    run as_nobody parpi-train --env Pendulum-v1 --steps 100 --out "$ro/new/run" --no-progress
    assert_failure 1
    assert_output --partial "cannot make $ro/new: Permission denied"
    [ ! -e "$ro/new" ]
}
