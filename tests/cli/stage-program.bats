#!/usr/bin/env bats
# The program every stage shares (cmd/common.c): the common options, their
# split from the stage's own, --drop, the runner's messages and signals.
# parpi-critic stands for all of them.

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash
bats_require_minimum_version 1.5.0

DATA="$BATS_TEST_DIRNAME/data"
SMALL=(--hidden 8 --layers 2 --max-batch 4)

setup() {
    T="$BATS_TEST_TMPDIR"
    command -v parpi-cat >/dev/null || { echo "parpi-cat is not on PATH (run make)" >&2; return 1; }
}

@test "stage program: --help lists the common options from their table, then the stage's" {
    run parpi-critic --help
    assert_success
    for o in "--checkpoint PATH" "--save-every N" "--resume PATH" "--in FILE" "--out FILE" \
             "--threads N" "--max-frame BYTES" "--drop F1,F2,.." "--progress" "--no-progress"; do
        assert_output --partial "  $o"
    done
    assert_output --partial "Options of the critic stage"
    assert_output --partial "--target sac|sql"
}

@test "stage program: a bad common value is a usage error in the one wording" {
    run parpi-critic --threads 0 </dev/null
    assert_failure 2
    assert_output --partial "--threads: '0', expected an integer 1..256"
    assert_output --partial "Try 'parpi-critic --help'"
    run parpi-critic --max-frame=10 </dev/null
    assert_failure 2
    assert_output --partial "--max-frame: '10', expected a whole number 1024.."
    run parpi-critic --drop= </dev/null
    assert_failure 2
    assert_output --partial "--drop: '', expected field paths"
    run parpi-critic --checkpoint
    assert_failure 2
    assert_output --partial "--checkpoint needs an argument"
}

@test "stage program: common options before --, the stage's after; --in, --out, --drop" {
    parpi-critic --in "$DATA/stage-frames.mp" --out "$T/all.mp" "${SMALL[@]}"
    parpi-critic --in="$DATA/stage-frames.mp" --drop q,metrics.critic.q_loss --out "$T/dropped.mp" -- "${SMALL[@]}"
    run parpi-cat --fields --frame 0 "$T/all.mp"
    assert_output --partial "q.params"
    assert_output --partial "metrics.critic.q_loss"
    assert_output --partial "metrics.critic.step_ms"
    run parpi-cat --fields --frame 0 "$T/dropped.mp"
    refute_output --partial "q.params"
    refute_output --partial "metrics.critic.q_loss"
    assert_output --partial "metrics.critic.step_ms"
    assert_output --partial "batch.obs"
    # after --, a common option's name is the stage's (and unknown to it)
    run parpi-critic --in "$DATA/stage-frames.mp" --out "$T/x.mp" -- --threads 2
    assert_failure 2
    assert_output --partial "unknown option --threads"
}

@test "stage program: a failed step names the frame and still saves the checkpoint" {
    run parpi-critic "${SMALL[@]}" --checkpoint "$T/c.ckpt" <"$DATA/stage-wideobs.mp"
    assert_failure 1
    assert_output --regexp "parpi-critic: frame [0-9]+ \\(byte [0-9]+\\): batch.obs"
    [ -s "$T/c.ckpt" ]
}

# Run parpi-critic on a FIFO, give it a frame, send the signal, close the input.
stop_with() {
    local sig=$1
    rm -f "$T/in" "$T/out.mp" "$T/c.ckpt"
    mkfifo "$T/in"
    parpi-critic "${SMALL[@]}" --checkpoint "$T/c.ckpt" <"$T/in" >"$T/out.mp" 2>"$T/err" &
    local pid=$!
    exec 8>"$T/in"
    head -c 100000 "$DATA/stage-frames.mp" >&8
    # the loop runs (its signal handlers are in place) once a frame is out
    for _ in $(seq 1 100); do
        [ -s "$T/out.mp" ] && break
        sleep 0.1
    done
    kill -"$sig" "$pid"
    exec 8>&-
    rc=0
    wait "$pid" || rc=$?
}

@test "stage program: SIGTERM stops it after the frame, with its checkpoint: exit 143" {
    stop_with TERM
    cat "$T/err"
    [ "$rc" -eq 143 ]
    [ -s "$T/c.ckpt" ]
}

@test "stage program: SIGINT stops it after the frame, with its checkpoint: exit 130" {
    stop_with INT
    cat "$T/err"
    [ "$rc" -eq 130 ]
    [ -s "$T/c.ckpt" ]
}

@test "stage program: a reader that stops (| head) ends a stage that reads a file quietly, saved" {
    for _ in $(seq 300); do cat "$DATA/stage-frames.mp"; done >"$T/many.mp"
    run --separate-stderr bash -c "parpi-critic --in '$T/many.mp' --checkpoint '$T/c.ckpt' ${SMALL[*]} | head -c 10 >/dev/null; echo \"rc \${PIPESTATUS[0]}\""
    assert_output "rc 0"
    assert_equal "$stderr" ""
    [ -s "$T/c.ckpt" ]
    run --separate-stderr bash -c "parpi-critic ${SMALL[*]} <'$T/many.mp' | head -c 10 >/dev/null; echo \"rc \${PIPESTATUS[0]}\""
    assert_output "rc 0"
    assert_equal "$stderr" ""
    # parpi-collect --steps N | head: the same
    run --separate-stderr bash -c "parpi-collect --env Pendulum-v1 --steps 1000000 | head -c 10 >/dev/null; echo \"rc \${PIPESTATUS[0]}\""
    assert_output "rc 0"
    assert_equal "$stderr" ""
}

@test "stage program: a stage that reads a pipe (it may be in a ring) still fails when its reader goes" {
    for _ in $(seq 300); do cat "$DATA/stage-frames.mp"; done >"$T/many.mp"
    run --separate-stderr bash -c "cat '$T/many.mp' | parpi-critic --checkpoint '$T/c.ckpt' ${SMALL[*]} | head -c 10 >/dev/null; echo \"rc \${PIPESTATUS[1]}\""
    assert_output "rc 1"
    assert_equal "$stderr" "parpi-critic: stdout: write error: the reader has gone (broken pipe)"
    [ -s "$T/c.ckpt" ]
}

@test "stage program: frames/s on a terminal only for a stage whose frames do not go down a pipe" {
    command -v script >/dev/null || skip "needs script(1) for a terminal"
    # frames, a pause of over a second (the line comes once a second), frames
    feed="{ cat '$DATA/stage-frames.mp'; sleep 1.3; cat '$DATA/stage-frames.mp'; }"
    crit="parpi-critic ${SMALL[*]}"
    run script -qec "$feed | $crit >'$T/o.mp'" /dev/null
    assert_output --partial "frames/s"
    # in a ring every stage writes a pipe: none shows it unless asked
    run script -qec "$feed | $crit | cat >/dev/null" /dev/null
    refute_output --partial "frames/s"
    run script -qec "$feed | $crit --progress | cat >/dev/null" /dev/null
    assert_output --partial "frames/s"
}
