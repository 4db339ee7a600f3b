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

# The fixture run of parpi 0.1 (tests/fixtures/compat-0.1.0), resumed to 300
# steps from $T, by a path relative to a working directory it was not made in.
resume_old_run() {
    mkdir "$T/old"
    cp -a "$FIX/compat-0.1.0/run" "$T/old/run"
    cd "$T"
    run parpi-train --resume old/run --steps 300 --no-progress
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

@test "resume: a run of parpi 0.1 learns on as 0.1's binaries did (every value they wrote)" {
    case "${PARPI_TEST_BUILD:-}" in
        *asan*) skip "the values were recorded by an -O2 build; the sanitizer build rounds otherwise" ;;
    esac
    resume_old_run
    # every field 0.1 wrote, the same values (but collect's --replay: the
    # replay buffer lies in the snapshot now; and the format's version, 2
    # since checkpoints end in a checksum, 3 since replay files are streams)
    for k in collect critic langevin discrim policy; do
        for field in $(parpi-cat -f "$FIX/compat-0.1.0/expected/ckpt/$k.ckpt" | grep -vxE 'config.replay|version'); do
            [ "$(parpi-cat --csv "$field" "$T/old/run/ckpt/$k.ckpt")" = \
              "$(parpi-cat --csv "$field" "$FIX/compat-0.1.0/expected/ckpt/$k.ckpt")" ] ||
                { echo "$k.ckpt: $field differs"; return 1; }
        done
    done
    # the replay file is a stream since version 3 (parpi-replay(5)): the
    # header's rows is 0.1's size, and --csv reads the columns of every chunk
    for field in $(parpi-cat -f "$FIX/compat-0.1.0/expected/replay.mp" | grep -vx version); do
        now=(--csv "$field")
        [ "$field" = size ] && now=(--csv rows --frame 0)
        [ "$(parpi-cat "${now[@]}" --no-header "$T/old/run/replay.mp" 2>/dev/null)" = \
          "$(parpi-cat --csv "$field" --no-header "$FIX/compat-0.1.0/expected/replay.mp")" ] ||
            { echo "replay.mp: $field differs"; return 1; }
    done
    # eval.csv: the row 0.1 wrote (step 100) as it was, the two it wrote after
    # within close_csv's 1e-5: today's evaluator acts with its own one-row
    # forward (sums in double, no BLAS: nn/mlp.h), which rounds otherwise than
    # 0.1's sgemv
    diff <(head -n 2 "$FIX/compat-0.1.0/expected/eval.csv") <(head -n 2 "$T/old/run/eval.csv")
    close_csv "$FIX/compat-0.1.0/expected/eval.csv" "$T/old/run/eval.csv"
}

@test "resume: a stage program takes --snapshots or --checkpoint, not both" {
    run parpi-critic --snapshots "$T/s" --checkpoint "$T/c.ckpt" </dev/null
    assert_failure 2
    assert_output --partial "--snapshots"
    run parpi-critic --run-id abc </dev/null
    assert_failure 2
    assert_output --partial "--run-id needs --snapshots"
}
