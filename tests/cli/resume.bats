#!/usr/bin/env bats
# parpi-train --resume: a run is one snapshot, checked before it goes on; a
# run directory copied or moved resumes where it is and writes only there;
# the logs are cut back to the snapshot; options that fix the run's course
# cannot change; a run of parpi 0.1 still resumes. (Killing runs at random
# moments: tests/learn/kill-resume.bats.)

load helpers

SMALL=(--learning-starts 100 --batch-size 32 --eval-every 100 --eval-episodes 1 --log-every 50
       --set critic.hidden=16 --set critic.layers=2 --set policy.hidden=16 --set discrim.hidden=16
       --no-progress)

setup() {
    need_progs parpi-critic parpi-langevin parpi-discrim parpi-policy parpi-eval
    driver=""
}

# A run a test left going (it failed before stopping it) is stopped.
teardown() {
    if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null
        wait "$driver" 2>/dev/null || true
    fi
}

# The step in DIR/status (0 before there is one).
status_step() { awk '{print $2}' "$1/status" 2>/dev/null || echo 0; }

# A finished run of 300 steps (a snapshot every 100) in $1.
run300() {
    parpi-train --env Pendulum-v1 --steps 300 --save-every 100 "${SMALL[@]}" --out "$1" "${@:2}"
}

collect_step() { parpi-cat --csv step --no-header "$1/ckpt/collect.ckpt"; }

# Every file of a directory with its checksum (links as their targets).
# (not the lock: a driver refused after taking it has written its host and pid there)
fingerprint() { (cd "$1" && find . \( -type f -o -type l \) ! -name lock -printf '%p %l\n' | sort && find . -type f ! -name lock -exec md5sum {} + | sort); }

@test "resume: the run directory holds one snapshot; every checkpoint carries its run and step" {
    run300 "$T/run"
    run cat "$T/run/ckpt/snapshot"
    assert_line --regexp '^run [0-9a-f]{16}$'
    assert_line 'step 300'
    assert_line 'stages collect,critic,langevin,discrim,policy,eval'
    [ "$(readlink "$T/run/ckpt/latest")" = 300 ]
    [ "$(find "$T/run/ckpt" -mindepth 1 -maxdepth 1 -type d ! -name best)" = "$T/run/ckpt/300" ]
    id=$(awk '$1 == "run" {print $2}' "$T/run/ckpt/snapshot")
    for k in collect critic langevin discrim policy eval; do
        [ "$(parpi-cat --csv snapshot.run,snapshot.step --no-header "$T/run/ckpt/$k.ckpt")" = "\"$id\",300" ]
    done
    # the paths the stages use are relative to the run directory in its config
    ! grep -q -- "$T" "$T/run/config"
    grep -q -- '--log=episodes.csv' "$T/run/config"
    # ring and in-process write the same bytes (the run id included)
    run300 "$T/inproc" --in-process
    for f in "$T"/run/ckpt/300/*; do cmp "$f" "$T/inproc/ckpt/300/${f##*/}"; done
}

@test "resume: a copied run resumes in the copy and writes only there; a moved one resumes; any working directory" {
    mkdir "$T/w" "$T/elsewhere"
    cd "$T/w"
    run300 runs/src
    before=$(fingerprint runs/src)
    cp -a runs/src runs/copy
    run parpi-train --resume runs/copy --steps 400 --no-progress
    assert_success
    [ "$(fingerprint runs/src)" = "$before" ]
    [ "$(collect_step runs/copy)" = 400 ]
    [ "$(tail -n 1 runs/copy/eval.csv | cut -d, -f1)" = 400 ]
    # moved, and resumed from another working directory, by a relative path
    mv runs/copy "$T/elsewhere/moved"
    cd "$T/elsewhere"
    run parpi-train --resume moved --steps 500 --no-progress
    assert_success
    [ "$(collect_step moved)" = 500 ]
    # and by an absolute one from /
    cd /
    run parpi-train --resume "$T/elsewhere/moved" --steps 600 --in-process --no-progress
    assert_success
    [ "$(collect_step "$T/elsewhere/moved")" = 600 ]
    [ "$(fingerprint "$T/w/runs/src")" = "$before" ]
    # the copy, resumed to 600 in three legs, is the run that went to 600 at once
    cd "$T/w"
    parpi-train --env Pendulum-v1 --steps 600 --save-every 100 "${SMALL[@]}" --out runs/straight
    for f in runs/straight/ckpt/600/*; do cmp "$f" "$T/elsewhere/moved/ckpt/600/${f##*/}"; done
    cmp runs/straight/eval.csv "$T/elsewhere/moved/eval.csv"
}

@test "resume: a missing, unreadable or foreign checkpoint is an error naming the file, and nothing restarts" {
    run300 "$T/run"
    before=$(fingerprint "$T/run")
    mv "$T/run/ckpt/300/critic.ckpt" "$T/critic.ckpt"
    run parpi-train --resume "$T/run" --steps 400
    assert_failure 1
    assert_output --partial "$T/run/ckpt/300/critic.ckpt"
    mv "$T/critic.ckpt" "$T/run/ckpt/300/critic.ckpt"
    [ "$(fingerprint "$T/run")" = "$before" ] # nothing was written
    # a torn checkpoint
    cp "$T/run/ckpt/300/policy.ckpt" "$T/policy.ckpt"
    head -c 100 "$T/policy.ckpt" >"$T/run/ckpt/300/policy.ckpt"
    run parpi-train --resume "$T/run" --steps 400
    assert_failure 1
    assert_output --partial "$T/run/ckpt/300/policy.ckpt"
    cp "$T/policy.ckpt" "$T/run/ckpt/300/policy.ckpt"
    # a checkpoint of another step: the set is not one snapshot
    parpi-train --env Pendulum-v1 --steps 200 --save-every 100 "${SMALL[@]}" --out "$T/other"
    cp "$T/run/ckpt/300/discrim.ckpt" "$T/discrim.ckpt"
    cp "$T/other/ckpt/200/discrim.ckpt" "$T/run/ckpt/300/discrim.ckpt"
    run parpi-train --resume "$T/run" --steps 400
    assert_failure 1
    assert_output --partial "discrim.ckpt is the checkpoint of step 200"
    assert_output --partial "not one snapshot"
    cp "$T/discrim.ckpt" "$T/run/ckpt/300/discrim.ckpt"
    # the replay buffer the collector's checkpoint names
    mv "$T/run/ckpt/300/replay.mp" "$T/replay.mp"
    run parpi-train --resume "$T/run" --steps 400
    assert_failure 1
    assert_output --partial "$T/run/ckpt/300/replay.mp"
    mv "$T/replay.mp" "$T/run/ckpt/300/replay.mp"
    # a snapshot of another run (another seed) in this one
    parpi-train --env Pendulum-v1 --steps 300 --save-every 100 --seed 5 "${SMALL[@]}" --out "$T/seed5"
    cp "$T/run/ckpt/snapshot" "$T/snapshot"
    cp "$T/seed5/ckpt/snapshot" "$T/run/ckpt/snapshot"
    run parpi-train --resume "$T/run" --steps 400
    assert_failure 1
    assert_output --partial "is a snapshot of run"
    cp "$T/snapshot" "$T/run/ckpt/snapshot"
    [ "$(fingerprint "$T/run")" = "$before" ]
    # all restored: it goes on
    run parpi-train --resume "$T/run" --steps 400 --no-progress
    assert_success
    [ "$(collect_step "$T/run")" = 400 ]
}

@test "resume: a run stopped before its first snapshot starts again from step 0, its logs too" {
    run300 "$T/ref"
    # what a kill before the first snapshot leaves: a config, logs, a half-written folder
    mkdir -p "$T/run/ckpt/50" "$T/run/logs"
    cp "$T/ref/config" "$T/run/config"
    cp "$T/ref/ckpt/300/collect.ckpt" "$T/run/ckpt/50/collect.ckpt"
    printf 'step,episode,return,length\n200,1,-900,200\n' >"$T/run/episodes.csv"
    echo "step 250 episodes 1" >"$T/run/status"
    run parpi-train --resume "$T/run" --no-progress
    assert_success
    grep -q "no snapshot yet: from step 0" "$T/run/logs/train.log"
    for f in "$T"/ref/ckpt/300/*; do cmp "$f" "$T/run/ckpt/300/${f##*/}"; done
    cmp "$T/ref/episodes.csv" "$T/run/episodes.csv"
    [ ! -d "$T/run/ckpt/50" ]
}

@test "resume: --steps is kept in the config, and a plain --resume after a kill goes on to it" {
    run300 "$T/run"
    parpi-train --resume "$T/run" --steps 1500 --save-every 10 --no-progress 2>"$T/err" &
    driver=$!
    grep -q '^train .* --steps 1500 ' "$T/run/config" || sleep 0.2
    grep -q '^train .* --steps 1500 ' "$T/run/config"
    grep -q -- '--until=1500' "$T/run/config"
    # killed halfway, as a queue's time limit would
    while kill -0 "$driver" 2>/dev/null && [ "$(awk '$1 == "step" {print $2}' "$T/run/ckpt/snapshot")" -lt 500 ]; do
        sleep 0.01
    done
    kill -KILL $(pgrep -P "$driver") "$driver" 2>/dev/null || true
    { wait "$driver"; } 2>/dev/null || true
    [ "$(collect_step "$T/run")" -lt 1500 ]
    # a plain resume ends at 1500, not at the 300 the run was started with
    run parpi-train --resume "$T/run" --no-progress
    assert_success
    [ "$(collect_step "$T/run")" = 1500 ]
    # an end before the run's step is refused
    run parpi-train --resume "$T/run" --steps 200
    assert_failure 2
    assert_output --partial "--steps 200: the run in $T/run is at step 1500 already"
}

@test "resume: options that fix the run's course must be the run's; the difference is named" {
    run300 "$T/run"
    before=$(fingerprint "$T/run")
    run parpi-train --resume "$T/run" --env Hopper-v4
    assert_failure 2
    assert_output --partial "--env Hopper-v4: the run in $T/run was started with --env Pendulum-v1"
    run parpi-train --resume "$T/run" --algo sac
    assert_failure 2
    assert_output --partial "--algo sac: the run in $T/run was started with --algo parpi"
    run parpi-train --resume "$T/run" --seed 3
    assert_failure 2
    assert_output --partial "--seed 3"
    run parpi-train --resume "$T/run" --set critic.lr=1e-4
    assert_failure 2
    assert_output --partial "--set critic.lr=1e-4: the run in $T/run was started without it"
    run parpi-train --resume "$T/run" --batch-size 64
    assert_failure 2
    assert_output --partial "collect.batch-size=64"
    run parpi-train --resume "$T/run" --out "$T/other"
    assert_failure 2
    assert_output --partial "give --out DIR (a new run) or --resume DIR (an old one), not both"
    [ "$(fingerprint "$T/run")" = "$before" ]
    # the run's own values, and what a resume may change, are accepted
    run parpi-train --resume "$T/run" --env Pendulum-v1 --algo parpi --seed 0 --batch-size 32 \
        --preset Pendulum-v1 --steps 400 --save-every 50 --threads 1 --no-progress
    assert_success
    [ "$(collect_step "$T/run")" = 400 ]
    grep -q -- '--snapshot-every=50' "$T/run/config"
}

@test "resume: the logs and status are cut back to the snapshot; leftovers of a torn save are removed" {
    run300 "$T/run"
    cp "$T/run/eval.csv" "$T/eval.csv"
    cp "$T/run/progress.csv" "$T/progress.csv"
    cp "$T/run/episodes.csv" "$T/episodes.csv"
    # what a crash after the snapshot leaves: later rows, a torn one, a stale status
    echo "400,1,-1,0,-1,-1,200,0,200,200,," >>"$T/run/eval.csv"
    printf '500,1,-12' >>"$T/run/eval.csv"
    echo "350,9,9,9,9" >>"$T/run/progress.csv"
    echo "400,2,-800,200" >>"$T/run/episodes.csv"
    echo "step 420 episodes 2" >"$T/run/status"
    # and temporary files of torn saves, a snapshot never completed
    touch "$T/run/ckpt/300/critic.ckpt.tmp.Ab12Cd" "$T/run/ckpt/snapshot.tmp.x1y2z3" "$T/run/.config.tmp" \
        "$T/run/ckpt/best/policy.ckpt.tmp.Ef34Gh"
    mkdir "$T/run/ckpt/400" && cp "$T/run/ckpt/300/collect.ckpt" "$T/run/ckpt/400/"
    run parpi-train --resume "$T/run" --no-progress
    assert_success
    cmp "$T/eval.csv" "$T/run/eval.csv"
    cmp "$T/episodes.csv" "$T/run/episodes.csv"
    diff <(cut -d, -f1 "$T/progress.csv") <(cut -d, -f1 "$T/run/progress.csv")
    grep -q '^step 300 ' "$T/run/status"
    [ -z "$(find "$T/run" -name '*.tmp*')" ]
    [ ! -e "$T/run/ckpt/400" ]
    [ "$(collect_step "$T/run")" = 300 ]
}

@test "resume: Ctrl-C ends the ring with a snapshot at the step it reached; resumed, it is the run never stopped" {
    parpi-train --env Pendulum-v1 --steps 1000000 --save-every 1000 "${SMALL[@]}" --out "$T/run" 2>"$T/err" &
    driver=$!
    for _ in $(seq 1 600); do
        [ "$(status_step "$T/run")" -ge 150 ] && break
        sleep 0.05
    done
    kill -INT "$driver"
    rc=0
    wait "$driver" || rc=$?
    cat "$T/err"
    [ "$rc" -eq 130 ]
    stopped=$(collect_step "$T/run")
    [ "$stopped" -ge 150 ]
    grep -q "^step $stopped\$" "$T/run/ckpt/snapshot"
    for k in critic langevin discrim policy eval; do
        [ "$(parpi-cat --csv snapshot.step --no-header "$T/run/ckpt/$k.ckpt")" = "$stopped" ]
    done
    end=$((stopped + 60))
    run parpi-train --resume "$T/run" --steps "$end" --no-progress
    assert_success
    parpi-train --env Pendulum-v1 --steps "$end" --save-every 1000 "${SMALL[@]}" --out "$T/straight"
    for f in "$T"/straight/ckpt/"$end"/*; do cmp "$f" "$T/run/ckpt/$end/${f##*/}"; done
    cmp "$T/straight/eval.csv" "$T/run/eval.csv"
    cmp "$T/straight/episodes.csv" "$T/run/episodes.csv"
}

@test "resume: SIGTERM ends the in-process chain between rounds with a snapshot; exit 143" {
    parpi-train --env Pendulum-v1 --steps 1000000 --in-process "${SMALL[@]}" --out "$T/run" 2>"$T/err" &
    driver=$!
    for _ in $(seq 1 600); do
        [ "$(status_step "$T/run")" -ge 120 ] && break
        sleep 0.05
    done
    kill -TERM "$driver"
    rc=0
    wait "$driver" || rc=$?
    [ "$rc" -eq 143 ]
    stopped=$(collect_step "$T/run")
    for k in critic langevin discrim policy eval; do
        [ "$(parpi-cat --csv snapshot.step --no-header "$T/run/ckpt/$k.ckpt")" = "$stopped" ]
    done
    end=$((stopped + 50))
    run parpi-train --resume "$T/run" --steps "$end" --no-progress
    assert_success
    parpi-train --env Pendulum-v1 --steps "$end" "${SMALL[@]}" --out "$T/straight"
    for f in "$T"/straight/ckpt/"$end"/*; do cmp "$f" "$T/run/ckpt/$end/${f##*/}"; done
}

# The fixture run of parpi 0.1 (tests/fixtures/compat-0.1.0), resumed to
# ${2:-300} steps from $T/${1:-old}, by a path relative to a working directory
# it was not made in.
resume_old_run() {
    local d=${1:-old}
    mkdir "$T/$d"
    cp -a "$FIX/compat-0.1.0/run" "$T/$d/run"
    cd "$T"
    run parpi-train --resume "$d/run" --steps "${2:-300}" --no-progress
    assert_success
}

@test "resume: a run directory of parpi 0.1 still resumes, from any working directory, and becomes today's" {
    resume_old_run
    [ "$(collect_step "$T/old/run")" = 300 ]
    # a snapshot, links, a config with relative paths
    grep -q '^step 300$' "$T/old/run/ckpt/snapshot"
    [ -L "$T/old/run/ckpt/critic.ckpt" ] && [ -L "$T/old/run/replay.mp" ]
    ! grep -q -- '--checkpoint=' "$T/old/run/config"
    grep -q -- '--log=episodes.csv' "$T/old/run/config"
    # and it resumes as one
    run parpi-train --resume old/run --steps 350 --no-progress
    assert_success
    [ "$(collect_step "$T/old/run")" = 350 ]
}

# The fixture run stopped at step 150, after 51 updates (critic, policy; 153
# of the discriminator). What 0.1's binaries wrote when they resumed it:
#   expected/      to step 300, on the Intel Xeon (AVX-512) it was made on;
#   expected-160/  to step 160, on the AMD EPYC (AVX2), by 0.1.0's binaries
#                  (commit 3c02b29, make, gcc 12 -O2): cp -a run R && cd R/.. &&
#                  parpi-train --resume run --steps 160 (those binaries give
#                  this code's bytes to step 300 there).
# Across CPUs the values cannot be the same bytes: OpenBLAS runs other kernels
# on AVX2 and AVX-512, and the ring amplifies the rounding. On the EPYC the
# actions 0.1 took on the Xeon come back bit for bit to step 150, 1 ulp off at
# 151, 1e-4 at 180, 1e-3 at 200, 0.1 at 260; at 300 the discriminator's
# weights are 0.36 off and the evaluation -1452 where 0.1 had -1384. So:
#  - at step 160 (10 updates on, 30 of the discriminator) every value 0.1
#    wrote, within 1e-5 of 1 + |value| (close_csv), but for the
#    discriminator's weights whose gradient is rounding noise. Its loss is a
#    difference of means over two samples of one size, so a weight that
#    shifts both alike (the output bias; a last hidden bias whose unit is on
#    for every sample) has a gradient of 0 in exact arithmetic and of noise
#    in floats: the step-150 checkpoint's Adam has v < eps^2 = 1e-16 for
#    those (14 of 369: v <= 2.8e-17, the next 8.4e-13). Adam moves them by up
#    to lr (1 - b1) / sqrt(1 - b2) = 3.16 lr a step each way (Kingma & Ba
#    2015, section 2.1): held to 2 n 3.16 lr, n the updates (0.19). (The
#    critic's and policy's weights with v = 0 are dead ReLU units: their
#    gradient is exactly 0 on any CPU, and they are held to 1e-5 like all.)
#    Measured against expected-160: the Xeon's 0.1 actions at 151-160 within
#    3e-8; OpenBLAS's Sandybridge, Nehalem and Prescott kernels here (forced
#    with OPENBLAS_CORETYPE) within 1.3e-6 of 1 + |value|, 2.9e-3 on the 14
#    noise weights, and so is the -O1 sanitizer build (2.3e-7, 3e-3), which
#    this test therefore no longer skips; at step 200 the kernels are 0.05
#    off everywhere.
#  - at step 300, what does not depend on rounding is 0.1's on the Xeon, the
#    bytes: configs, step and update counts, Adam's t, every RNG stream, the
#    replay's first 150 rows (0.1's own), the evaluations' counts and lengths.
# A checkpoint misread (Adam's state dropped, a layer's weights in the wrong
# place) moves far more values than that (discrim.bats shows it for 0.1's
# discriminator).

# the lines (1-based) of a --csv --no-header dump of params whose Adam v is
# below eps^2 in checkpoint $1, and their bound for the updates from $1 to $2
# (the discriminator's, above)
noise_lines() { parpi-cat --csv adam.v --no-header "$1" | awk '$1 < 1e-16 {printf "%d ", NR}'; }
noise_bound() {
    local n lr
    n=$(( $(parpi-cat --csv adam.t --no-header "$2") - $(parpi-cat --csv adam.t --no-header "$1") ))
    lr=$(parpi-cat --csv config.lr --no-header "$1")
    awk -v n="$n" -v lr="$lr" 'BEGIN {printf "%.4g", 2 * n * lr * (1 - 0.9) / sqrt(1 - 0.999)}'
}

@test "resume: a run of parpi 0.1 learns on as 0.1's binaries did (every value they wrote)" {
    local k field loose bound out now
    local start="$FIX/compat-0.1.0/run" e160="$FIX/compat-0.1.0/expected-160" e300="$FIX/compat-0.1.0/expected"
    # 10 steps on: every field 0.1 wrote within the bounds above (but
    # collect's --replay: the replay buffer lies in the snapshot now; and the
    # format's version, 2 since checkpoints end in a checksum, 3 since replay
    # files are streams)
    resume_old_run at160 160
    for k in collect critic langevin discrim policy; do
        loose="" bound=0
        if [ "$k" = discrim ]; then
            loose=$(noise_lines "$start/ckpt/$k.ckpt")
            bound=$(noise_bound "$start/ckpt/$k.ckpt" "$e160/ckpt/$k.ckpt")
        fi
        for field in $(parpi-cat -f "$e160/ckpt/$k.ckpt" | grep -vxE 'config.replay|version'); do
            parpi-cat --csv "$field" --no-header "$e160/ckpt/$k.ckpt" >"$T/a"
            parpi-cat --csv "$field" --no-header "$T/at160/run/ckpt/$k.ckpt" >"$T/b"
            case $field in
                params | target_params) out=$(close_csv "$T/a" "$T/b" "$loose" "$bound" 2>"$T/dev") ;;
                *) out=$(close_csv "$T/a" "$T/b" 2>"$T/dev") ;;
            esac || { echo "$k.ckpt at step 160: $field out of bounds:"; echo "$out"; return 1; }
            grep -q 'deviation 0 of' "$T/dev" || echo "# step 160: $k $field: $(sed 's/^close_csv: //' "$T/dev")" >&3
        done
    done
    # the replay file is a stream since version 3 (parpi-replay(5)): the
    # header's rows is 0.1's size, and --csv reads the columns of every chunk
    for field in $(parpi-cat -f "$e160/replay.mp" | grep -vx version); do
        now=(--csv "$field")
        [ "$field" = size ] && now=(--csv rows --frame 0)
        parpi-cat --csv "$field" --no-header "$e160/replay.mp" >"$T/a"
        parpi-cat "${now[@]}" --no-header "$T/at160/run/replay.mp" >"$T/b" 2>/dev/null
        out=$(close_csv "$T/a" "$T/b" 2>"$T/dev") || { echo "replay.mp at step 160: $field:"; echo "$out"; return 1; }
        grep -q 'deviation 0 of' "$T/dev" || echo "# step 160: replay $field: $(sed 's/^close_csv: //' "$T/dev")" >&3
    done
    for f in eval.csv episodes.csv; do cmp "$start/$f" "$T/at160/run/$f"; done

    # 150 steps on: what does not depend on rounding, the bytes
    resume_old_run at300 300
    for k in collect critic langevin discrim policy; do
        for field in $(parpi-cat -f "$e300/ckpt/$k.ckpt" |
                       grep -vxE 'config.replay|version|params|target_params|adam.m|adam.v|sn'); do
            [ "$(parpi-cat --csv "$field" "$T/at300/run/ckpt/$k.ckpt")" = \
              "$(parpi-cat --csv "$field" "$e300/ckpt/$k.ckpt")" ] ||
                { echo "$k.ckpt at step 300: $field differs"; return 1; }
        done
    done
    for field in $(parpi-cat -f "$e300/replay.mp" | grep -vx version); do
        now=(--csv "$field")
        [ "$field" = size ] && now=(--csv rows --frame 0)
        [ "$(parpi-cat "${now[@]}" --no-header "$T/at300/run/replay.mp" 2>/dev/null | head -n 150)" = \
          "$(parpi-cat --csv "$field" --no-header "$e300/replay.mp" | head -n 150)" ] ||
            { echo "replay.mp at step 300: $field differs in the first 150 rows"; return 1; }
    done
    # the evaluations: step, episodes, return_std (0: one episode), lengths
    [ "$(cut -d, -f1,2,4,7- "$T/at300/run/eval.csv")" = "$(cut -d, -f1,2,4,7- "$e300/eval.csv")" ]
    head -n 2 "$e300/eval.csv" | cmp - <(head -n 2 "$T/at300/run/eval.csv")
    cmp "$e300/episodes.csv" "$T/at300/run/episodes.csv"
    cmp "$e300/progress.csv" "$T/at300/run/progress.csv"
}

@test "resume: a stage program takes --snapshots or --checkpoint, not both" {
    run parpi-critic --snapshots "$T/s" --checkpoint "$T/c.ckpt" </dev/null
    assert_failure 2
    assert_output --partial "--snapshots"
    run parpi-critic --run-id abc </dev/null
    assert_failure 2
    assert_output --partial "--run-id needs --snapshots"
}
