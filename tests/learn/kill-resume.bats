#!/usr/bin/env bats
# A run killed with SIGKILL at random moments (the driver and every stage at
# once, as a batch queue or the OOM killer does) and resumed each time ends
# in the very bytes of the run that was never stopped: every checkpoint, the
# replay buffer, eval.csv, episodes.csv and the numbers of progress.csv.
# Ring and in-process, on Pendulum-v1 and Hopper-v4 (whose episodes end
# early and often, so kills land mid-episode and at episode ends).
#
# make check: 3 kill points per run. PARPI_LONG_TESTS=1 adds runs with 10
# and more (about a minute on 2 cores). The kill points are drawn from
# $PARPI_KILL_SEED (default: the shell's pid) and printed, so a failure can
# be replayed with the same seed.

load ../cli/helpers

SMALL=(--learning-starts 100 --batch-size 32 --eval-every 100 --eval-episodes 1 --log-every 50
       --set critic.hidden=16 --set critic.layers=2 --set policy.hidden=16 --set discrim.hidden=16
       --set discrim.layers=2 --no-progress)

setup() {
    need_progs parpi-critic parpi-langevin parpi-discrim parpi-policy parpi-eval
}

# The uninterrupted runs, once per file.
setup_file() {
    local R="$BATS_FILE_TMPDIR"
    parpi-train --env Pendulum-v1 --steps 1000 --save-every 25 "${SMALL[@]}" --out "$R/ref-Pendulum-v1-1000" >/dev/null 2>&1
    parpi-train --env Hopper-v4 --steps 600 --save-every 20 "${SMALL[@]}" --out "$R/ref-Hopper-v4-600" >/dev/null 2>&1
    if [ "${PARPI_LONG_TESTS:-0}" = 1 ]; then
        parpi-train --env Pendulum-v1 --steps 2000 --save-every 40 "${SMALL[@]}" --out "$R/ref-Pendulum-v1-2000" >/dev/null 2>&1
        parpi-train --env Hopper-v4 --steps 1500 --save-every 30 "${SMALL[@]}" --out "$R/ref-Hopper-v4-1500" >/dev/null 2>&1
        parpi-train --env Pendulum-v1 --steps 500 --save-every 1 "${SMALL[@]}" --out "$R/ref-Pendulum-v1-500" >/dev/null 2>&1
    fi
    true
}

# The step of the run's last complete snapshot (0 if none).
snapshot_step() {
    awk '$1 == "step" {print $2}' "$1/ckpt/snapshot" 2>/dev/null || echo 0
}

# SIGKILL the driver and its stages at once (kill_run DRIVER RUN_DIR): stop
# them all first, so that none can notice the others' death, save or pass
# anything on.
kill_run() {
    local driver=$1 kids
    kill -STOP "$driver" 2>/dev/null || return 0
    kids=$(pgrep -P "$driver" | tr '\n' ' ')
    # shellcheck disable=SC2086
    [ -z "$kids" ] || kill -STOP $kids 2>/dev/null || true
    # shellcheck disable=SC2086
    [ -z "$kids" ] || kill -KILL $kids 2>/dev/null || true
    kill -KILL "$driver" 2>/dev/null || true
    wait "$driver" 2>/dev/null || true
    # the stages hold the run's lock (they inherit it) until the kernel has
    # finished them, which may be a moment after the kill: the requeued job
    # of a batch queue starts once the old one is gone
    local i
    for i in $(seq 100); do
        [ ! -e "$2/lock" ] || flock -n "$2/lock" true && break
        sleep 0.05
    done
}

# The files of two runs that must be the same bytes.
same_run() {
    local a=$1 b=$2 f
    for f in collect critic langevin discrim policy eval; do
        cmp "$a/ckpt/latest/$f.ckpt" "$b/ckpt/latest/$f.ckpt" ||
            { diff <(parpi-cat "$a/ckpt/latest/$f.ckpt") <(parpi-cat "$b/ckpt/latest/$f.ckpt") || true; return 1; }
    done
    cmp "$a/ckpt/latest/replay.mp" "$b/ckpt/latest/replay.mp"
    cmp "$a/ckpt/snapshot" "$b/ckpt/snapshot"
    cmp "$a/eval.csv" "$b/eval.csv"
    cmp "$a/episodes.csv" "$b/episodes.csv"
    # progress.csv: the same numbers, but for the wall clock and step times
    local keep
    keep=$(head -n 1 "$a/progress.csv" | tr , '\n' | grep -vn -e '^wall_s$' -e 'step_ms$' | cut -d: -f1 | paste -sd,)
    diff <(cut -d, -f"$keep" "$a/progress.csv") <(cut -d, -f"$keep" "$b/progress.csv")
    # the best evaluation's policy (when there was an evaluation)
    if [ -e "$a/ckpt/best/policy.ckpt" ]; then cmp "$a/ckpt/best/policy.ckpt" "$b/ckpt/best/policy.ckpt"; fi
    # one snapshot folder is left (beside best/), and no temporary file
    [ "$(find "$b/ckpt" -mindepth 1 -maxdepth 1 -type d ! -name best | wc -l)" -eq 1 ]
    local left; left=$(find "$b" -name '*.tmp*'); [ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

# kill_and_resume ENV STEPS SAVE_EVERY KILLS [--in-process]: start the run,
# SIGKILL it KILLS times at random moments, resume it after each kill, then
# let it finish; it must equal the uninterrupted run. A kill comes either
# within 60 ms of a start (while the stages start up or resume: a quarter
# of them), or once the run has gone a random number of snapshots past its
# last, plus up to 10 ms (anywhere in a round, a save, a commit).
kill_and_resume() {
    local env=$1 steps=$2 every=$3 kills=$4 mode=${5:-} seed=${PARPI_KILL_SEED:-$$}
    RANDOM=$seed
    local run="$T/run" ref="$BATS_FILE_TMPDIR/ref-$env-$steps" points="" killed=0 i driver from target
    [ -d "$ref" ] || { echo "no reference run $ref"; return 1; }
    # at most this many snapshots between kills, so that all fit before the end
    local stride=$(((steps / every - 4) / kills))
    echo "# $env $mode: seed $seed"
    # what a requeued job runs: a fresh start until the run has its config
    # (every earlier start may have been killed before it wrote one), then
    # --resume
    start_or_resume() {
        if [ ! -e "$run/config" ]; then
            parpi-train --env "$env" --steps "$steps" --save-every "$every" "${SMALL[@]}" $mode --out "$run"
        else
            parpi-train --resume "$run" $mode --no-progress
        fi
    }
    for i in $(seq 1 "$kills"); do
        from=$(snapshot_step "$run")
        start_or_resume >>"$T/log" 2>&1 &
        driver=$!
        if [ $((RANDOM % 4)) = 0 ]; then
            sleep "0.0$((RANDOM % 6))$((RANDOM % 10))"
        else
            target=$((from + (1 + RANDOM % stride) * every))
            [ "$target" -le $((steps - 3 * every)) ] || target=$((steps - 3 * every))
            while kill -0 "$driver" 2>/dev/null && [ "$(snapshot_step "$run")" -lt "$target" ]; do sleep 0.01; done
            sleep "0.00$((RANDOM % 10))"
        fi
        if kill -0 "$driver" 2>/dev/null; then
            { kill_run "$driver" "$run"; } 2>/dev/null
            killed=$((killed + 1))
            points="$points $(snapshot_step "$run")"
        else
            wait "$driver" || { cat "$T/log"; return 1; }
        fi
    done
    echo "# killed $killed times; the last complete snapshot after each kill:$points"
    [ "$killed" -eq "$kills" ] || { echo "the run ended before all its kill points"; return 1; }
    run start_or_resume
    [ "$status" -eq 0 ] || { echo "$output"; cat "$T/log"; return 1; }
    [ "$(snapshot_step "$run")" -eq "$steps" ]
    same_run "$ref" "$run"
}

@test "kill -9 and resume: Pendulum-v1 ring, 3 kills, the bytes of the run never stopped" {
    kill_and_resume Pendulum-v1 1000 25 3
}

@test "kill -9 and resume: Pendulum-v1 in-process, 3 kills, the bytes of the ring never stopped" {
    kill_and_resume Pendulum-v1 1000 25 3 --in-process
}

@test "kill -9 and resume: Hopper-v4 ring, 3 kills, the bytes of the run never stopped" {
    kill_and_resume Hopper-v4 600 20 3
}

@test "kill -9 and resume: Hopper-v4 in-process, 3 kills, the bytes of the ring never stopped" {
    kill_and_resume Hopper-v4 600 20 3 --in-process
}

long() { [ "${PARPI_LONG_TESTS:-0}" = 1 ] || skip "a long test: PARPI_LONG_TESTS=1 runs it"; }

@test "kill -9 and resume (long): Pendulum-v1 ring, 12 kills" {
    long
    kill_and_resume Pendulum-v1 2000 40 12
}

@test "kill -9 and resume (long): Pendulum-v1 in-process, 12 kills" {
    long
    kill_and_resume Pendulum-v1 2000 40 12 --in-process
}

@test "kill -9 and resume (long): Hopper-v4 ring, 12 kills" {
    long
    kill_and_resume Hopper-v4 1500 30 12
}

@test "kill -9 and resume (long): Hopper-v4 in-process, 12 kills" {
    long
    kill_and_resume Hopper-v4 1500 30 12 --in-process
}

@test "kill -9 and resume (long): Pendulum-v1 ring, a snapshot every step (kills inside saves), 12 kills" {
    long
    kill_and_resume Pendulum-v1 500 1 12
}
