#!/usr/bin/env bats
# parpi-eval: standalone evaluation of a checkpoint, ring (filter) mode, errors.

load helpers

setup() {
    need_progs parpi-policy
    # an untrained policy for Pendulum (obs 3, act 1), as parpi-policy --prime makes it
    parpi-policy --prime --obs-dim 3 --act-dim 1 --seed 2 --checkpoint "$T/p.ckpt" </dev/null >"$T/prime.mp"
}

field() { awk -v k="$1" '$1 == k {print $2}'; }

@test "eval: --help, --version, bad flags (exit 2)" {
    run parpi-eval --help
    assert_success
    assert_output --partial "--episodes K"
    run parpi-eval --version
    assert_success
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --bogus
    assert_failure 2
    assert_output --partial "--bogus"
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 0
    assert_failure 2
    run parpi-eval --env Nope-v0 --policy "$T/p.ckpt"
    assert_failure 2
    assert_output --partial "Pendulum-v1"
}

@test "eval: K deterministic episodes of a checkpoint: mean/std/min/max of return and length" {
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 3
    assert_success
    assert_line "episodes 3"
    assert_line "length_mean 200"
    assert_line --regexp '^return_mean -[0-9.e+]+$'
    assert_line --regexp '^return_std [0-9.e+-]+$'
    # min <= mean <= max
    mean=$(echo "$output" | field return_mean)
    min=$(echo "$output" | field return_min)
    max=$(echo "$output" | field return_max)
    awk -v a="$min" -v b="$mean" -v c="$max" 'BEGIN {exit !(a <= b && b <= c)}'
    # no D4RL reference for Pendulum
    refute_line --regexp '^score '
    # deterministic: the same figures twice; --stochastic differs
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 3
    [ "$(echo "$output" | field return_mean)" = "$mean" ]
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 3 --stochastic
    assert_success
    [ "$(echo "$output" | field return_mean)" != "$mean" ]
}

@test "eval: --log appends a CSV row" {
    parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 2 --log "$T/e.csv" >/dev/null
    parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 2 --log "$T/e.csv" >/dev/null
    run cat "$T/e.csv"
    assert_line --index 0 --partial "step,episodes,return_mean,return_std,return_min,return_max"
    [ "$(wc -l <"$T/e.csv")" -eq 3 ]
}

@test "eval: a missing, corrupt or mismatched policy is a clear error (exit 1)" {
    run parpi-eval --env Pendulum-v1 --policy "$T/missing.ckpt"
    assert_failure 1
    assert_output --partial "missing.ckpt"
    head -c 5000 /dev/urandom >"$T/junk.ckpt"
    run parpi-eval --env Pendulum-v1 --policy "$T/junk.ckpt"
    assert_failure 1
    assert_output --partial "junk.ckpt"
    head -c 100 "$T/p.ckpt" >"$T/torn.ckpt"
    run parpi-eval --env Pendulum-v1 --policy "$T/torn.ckpt"
    assert_failure 1
    assert_output --partial "torn.ckpt"
    run parpi-eval --env MultiGoal --policy "$T/p.ckpt"
    assert_failure 1
    assert_output --partial "obs 3 / act 1"
}

@test "eval: the frame of a ring works as a policy file" {
    run parpi-eval --env Pendulum-v1 --policy "$T/prime.mp" --episodes 1
    assert_success
    assert_line "length_mean 200"
}

@test "eval: ring mode passes frames through and adds metrics.eval every --every steps" {
    # prime -> collect (one env step per frame, steps 1..) -> eval every 2 steps;
    # --sync: the evaluation runs as the frame of its step passes, which
    # carries its metrics
    parpi-collect --env Pendulum-v1 --steps 4 --chunk 1 --out "$T/steps.mp" 2>/dev/null
    {
        cat "$T/prime.mp"
    } | parpi-collect --env Pendulum-v1 --learning-starts 100 |
        parpi-eval --env Pendulum-v1 --every 1 --episodes 2 --log "$T/ring.csv" \
            --progress-log "$T/progress.csv" --log-every 1 --status "$T/status" --sync >"$T/out.mp"
    run parpi-cat "$T/out.mp"
    assert_success
    assert_line --regexp '^step +int +1$'
    assert_output --regexp 'metrics\.eval\.return_mean +float'
    assert_output --regexp 'policy\.params +tensor f32'
    [ "$(wc -l <"$T/ring.csv")" -eq 2 ]
    run cat "$T/status"
    assert_output --regexp '^step 1 episodes 0 eval -'
    run head -1 "$T/progress.csv"
    assert_output --partial "step,wall_s,episodes,return_recent"
}

@test "eval: evaluations beside the frames: rows, progress rows and status in step order, as with --sync" {
    # 40 frames, an evaluation at each: two in flight at most, the progress
    # rows waiting for theirs; the end of the stream takes the last ones
    for i in $(seq 40); do cat "$T/prime.mp"; done |
        parpi-collect --env Pendulum-v1 --learning-starts 100 --out "$T/steps.mp"
    for mode in sync async; do
        parpi-eval --env Pendulum-v1 --every 1 --episodes 3 --log "$T/$mode.csv" --progress-log "$T/$mode-p.csv" \
            --log-every 1 --status "$T/$mode.status" --best "$T/$mode-best.ckpt" \
            $([ $mode = sync ] && echo --sync) --in "$T/steps.mp" --out "$T/$mode.mp"
    done
    [ "$(wc -l <"$T/async.csv")" -eq 41 ]
    diff <(cut -d, -f1 "$T/async.csv" | tail -n +2) <(seq 40)
    cmp "$T/sync.csv" "$T/async.csv"
    diff <(cut -d, -f1,3- "$T/sync-p.csv") <(cut -d, -f1,3- "$T/async-p.csv")
    cmp "$T/sync.status" "$T/async.status"
    cmp "$T/sync-best.ckpt" "$T/async-best.ckpt"
    # the same frames, but for where metrics.eval comes (with --sync, on the
    # frame of its step; else on a frame passing when it is taken) and timing
    [ "$(parpi-cat "$T/sync.mp" | grep -c 'metrics.eval.return_mean')" -eq 40 ]
    strip() { parpi-cat --json "$1" | sed -E 's/,"eval":\{[^}]*\}//; s/"step_ms":[0-9.e+-]+/"step_ms":0/g'; }
    diff <(strip "$T/sync.mp") <(strip "$T/async.mp")
}

@test "eval: ring mode without --every leaves frames untouched apart from timing" {
    parpi-eval --env Pendulum-v1 --every 0 --in "$T/prime.mp" --out "$T/same.mp"
    parpi-cat --json "$T/prime.mp" >"$T/a.json"
    parpi-cat --json "$T/same.mp" | sed 's/,"metrics":{"eval":{"step_ms":[^}]*}}//' >"$T/b.json"
    diff "$T/a.json" "$T/b.json"
}

@test "eval: D4RL-normalised score where the task has reference returns" {
    parpi-collect --list-envs | grep -q '^Hopper-v3 .* 11 '
    parpi-policy --prime --obs-dim 11 --act-dim 3 --checkpoint "$T/h.ckpt" </dev/null >/dev/null
    run parpi-eval --env Hopper-v3 --policy "$T/h.ckpt" --episodes 2
    assert_success
    assert_line --regexp '^score -?[0-9.e+-]+$'
    # score = 100 (R - R_random) / (R_expert - R_random), Hopper: -20.272305 / 3234.3
    mean=$(echo "$output" | field return_mean)
    score=$(echo "$output" | field score)
    awk -v m="$mean" -v s="$score" 'BEGIN {e = 100 * (m + 20.272305) / (3234.3 + 20.272305); d = e - s; exit !(d < 1e-3 && d > -1e-3)}'
}

# tests/cli/data/eval-v0.1.ckpt was written by parpi 0.1.0 (before the option
# table), the last stage of a MultiGoal ring of 60 frames:
#   ... | parpi-eval --checkpoint eval-v0.1.ckpt -- --env MultiGoal --seed 5 --every 25 \
#       --episodes 3 --progress-log /dev/null --log-every 20
# It holds last_eval 50, last_log 60, episodes 2, last_eval_return -2286.5431963789606.
@test "eval: a checkpoint of 0.1.0 resumes (episodes, last evaluation, progress cadence); another task is refused" {
    parpi-collect --env MultiGoal --steps 80 --chunk 1 --out "$T/in.mp" 2>/dev/null
    parpi-collect --env MultiGoal --seed 3 --learning-starts 1000 --in "$T/in.mp" --out "$T/ring.mp"
    parpi-eval --resume "$BATS_TEST_DIRNAME/data/eval-v0.1.ckpt" --checkpoint "$T/e.ckpt" \
        --in "$T/ring.mp" --out /dev/null -- --env MultiGoal --every 0 \
        --progress-log "$T/p.csv" --log-every 10 --status "$T/status"
    # rows only past the checkpoint's last_log (60); 2 episodes before, 2 in these 80 steps
    run cut -d, -f1,3,6 "$T/p.csv"
    assert_output "$(printf 'step,episodes,eval_return\n70,4,-2286.54\n80,4,-2286.54')"
    run cat "$T/status"
    assert_output --regexp '^step [0-9]+ episodes [24] .*eval -2286\.54$'
    run parpi-cat "$T/e.ckpt"
    assert_line --regexp '^config\.env +str +"MultiGoal"$'
    assert_line --regexp '^episodes +int +4$'
    assert_line --regexp '^last_eval_return +float +-2286\.54319637896'
    run parpi-eval --resume "$BATS_TEST_DIRNAME/data/eval-v0.1.ckpt" --in "$T/ring.mp" \
        --out /dev/null -- --env Pendulum-v1
    assert_failure 1
    assert_output --partial "the checkpoint has --env MultiGoal, but this stage has --env Pendulum-v1"
}

@test "eval: bad option values share one wording" {
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 0
    assert_failure 2
    assert_output --partial "--episodes: '0', expected an integer 1..100000"
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --seed 2.5
    assert_failure 2
    assert_output --partial "--seed: '2.5', expected a whole number 0..9223372036854775807"
    run parpi-eval --env Pendulum-v1 --every 2.5 --in "$T/prime.mp" --out "$T/x.mp"
    assert_failure 2
    assert_output --partial "--every: '2.5', expected a whole number 0..1000000000000000"
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --stochastic --deterministic
    assert_failure 2
    assert_output --partial "give --stochastic or --deterministic, not both"
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 1 --deterministic
    assert_success
}

@test "eval: progress.csv has a column for every other stage's metrics, from the stage contract" {
    parpi-eval --env Pendulum-v1 --every 0 --progress-log "$T/p.csv" --in "$T/prime.mp" --out /dev/null
    header=$(head -n 1 "$T/p.csv")
    [[ $header == step,wall_s,episodes,return_recent,length_recent,eval_return,collect.step_ms,dual.* ]]
    cols=$(echo "$header" | tr , '\n')
    for c in dual.estimate dual.penalty_mean dual.step_ms \
             critic.q_loss critic.q1_mean critic.step_ms langevin.qK_mean langevin.step_ms \
             discrim.gap discrim.step_ms policy.alpha policy.entropy policy.step_ms; do
        echo "$cols" | grep -qx "$c" || { echo "no column $c in $header"; false; }
    done
    # collect's episode figures are the leading columns; eval's own are in eval.csv
    ! echo "$cols" | grep -q '^collect\.episode\|^eval\.'
}

@test "eval: an existing progress log keeps its columns; a file that is not one is refused" {
    printf 'step,wall_s,episodes,return_recent,length_recent,eval_return,collect.step_ms,x.y\n' >"$T/p.csv"
    parpi-collect --env Pendulum-v1 --steps 3 --chunk 1 --out "$T/in.mp" 2>/dev/null
    parpi-collect --env Pendulum-v1 --in "$T/in.mp" --out "$T/ring.mp"
    parpi-eval --env Pendulum-v1 --every 0 --progress-log "$T/p.csv" --log-every 1 --in "$T/ring.mp" --out /dev/null
    [ "$(wc -l <"$T/p.csv")" -eq 4 ]
    run awk -F, 'NF != 8 || (NR > 1 && ($7 == "" || $8 != ""))' "$T/p.csv"
    assert_output ""
    printf 'a,b\n1,2\n' >"$T/other.csv"
    run parpi-eval --env Pendulum-v1 --every 0 --progress-log "$T/other.csv" --in "$T/ring.mp" --out /dev/null
    assert_failure
    assert_output --partial "$T/other.csv is not a progress log"
}

@test "eval: a write error in a CSV fails the stage and names the file" {
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 1 --log /dev/full
    assert_failure 1
    assert_output --partial "writing /dev/full: No space left on device"
    run parpi-eval --env Pendulum-v1 --every 0 --progress-log /dev/full --in "$T/prime.mp" --out /dev/null
    assert_failure
    assert_output --partial "writing /dev/full: No space left on device"
    # a row that no longer fits (a file size limit: EFBIG, like a full disk)
    parpi-collect --env Pendulum-v1 --steps 40 --chunk 1 --out "$T/in.mp" 2>/dev/null
    run bash -c "trap '' XFSZ; ulimit -f 1; set -o pipefail
        parpi-eval --env Pendulum-v1 --every 0 --progress-log '$T/p.csv' --log-every 1 <'$T/in.mp' | wc -c"
    assert_failure 1
    assert_output --regexp "frame [0-9]+ \(byte [0-9]+\): writing $T/p.csv: File too large"
}

@test "eval: MultiGoal reports goals through the env's hook" {
    parpi-policy --prime --obs-dim 2 --act-dim 2 --seed 2 --checkpoint "$T/mg.ckpt" </dev/null >/dev/null
    run parpi-eval --env MultiGoal --policy "$T/mg.ckpt" --episodes 20 --stochastic --log "$T/mg.csv"
    assert_success
    assert_line --regexp '^goals_reached [0-4]$'
    assert_line --regexp '^goal_counts [0-9]+ [0-9]+ [0-9]+ [0-9]+$'
    run parpi-eval --env Pendulum-v1 --policy "$T/p.ckpt" --episodes 1
    refute_line --regexp '^goal'
}
