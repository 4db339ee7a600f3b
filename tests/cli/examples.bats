#!/usr/bin/env bats
# examples.bats - every example of the man pages runs (the project's rule:
# "Every example in the README and man pages runs in make check").
#
# tests/cli/man-examples extracts the example blocks: the .nf/.fi blocks of
# the EXAMPLES sections (and of a section marked `.\" example-test: examples`,
# like parpi-frame(5)'s PYTHON), roff escapes translated. Each block runs as
# one bash script (bash -e -o pipefail, then `wait` for what it left in the
# background), in a directory of its own. A block fails its page's test when
# it exits non-zero, runs past its time limit, or a `check` fails. A new
# block needs nothing here: it is found and run. A command-like line outside
# a block, or an unknown directive, makes man-examples fail, and so the test:
# no example can stay untested.
#
# The directory of a block holds a copy of these files, made once per run of
# this file (setup_file), which the examples use by name:
#   runs/hopper-wd-0   parpi-train --env Hopper-v3 --steps 2000 (learning from
#                      step 1980): config, ckpt/, replay.mp, eval.csv, progress.csv
#   runs/hopper-sac-0  the same with --algo sac
#   runs/multigoal-0   parpi-train --env MultiGoal --steps 1200 (preset)
#   frames.mp          a MultiGoal ring tapped after parpi-critic (140 frames,
#                      all with the policy, the last 40 also with batch and q)
#   particles.mp       the same ring tapped after parpi-langevin (particles)
# (the run directories hold relative paths: a resumed copy writes to itself),
# except a run directory that the block makes itself (`--out DIR`, a $var in
# DIR matching anything: `--out runs/hopper-wd-$s` leaves out runs/hopper-wd-0).
# Standard input is a pipe that never ends (as a terminal would): an example
# that reads it by mistake runs into its time limit.
#
# Directives (roff comments next to the block, `.\" example-test: ...`):
#   sed SCRIPT       the block is run through sed -e SCRIPT first: this is how
#                    a 1M-step run is tested as a short one. It must change
#                    the block (a stale one is an error).
#   check COMMAND    after the block, bash -c COMMAND must succeed in its
#                    directory (e.g. that the PNG was written)
#   python           the block is Python 3 (/usr/bin/python3; skipped, and
#                    said so, without msgpack and msgpack_numpy)
#   continues        the block runs in the directory of the block before it
#                    (of the same file, once that one has run), with what it
#                    left there, instead of a fresh one: for a tour in steps
#   timeout SECONDS  the block's limit (default 60)
#
# See the blocks as extracted: tests/cli/man-examples man/man1/parpi-cat.1
# Run one page's test (in the environment of make check, TEST_ENV in the Makefile):
#   bats -f 'parpi-cat' tests/cli/examples.bats
# A failing page's output names FILE:LINE of each failing block, the script as
# it ran and the end of its output; each block's time is in the output too.
#
# The README: man-examples reads README-style text too (blocks indented by 4
# spaces under the headings that --section selects, directives as lines
# `<!-- example-test: ... -->`); its test is the last one here.

load helpers

setup_file() {
    # The files the examples name, made once (about 10 s).
    local w="$BATS_FILE_TMPDIR/world"
    mkdir -p "$w" || return 1
    (
        set -o pipefail && cd "$w" &&
        parpi-train --env Hopper-v3 --steps 2000 --learning-starts 1980 --out runs/hopper-wd-0 &&
        parpi-train --env Hopper-v3 --algo sac --steps 2000 --learning-starts 1980 --out runs/hopper-sac-0 &&
        parpi-train --env MultiGoal --steps 1200 --out runs/multigoal-0 &&
        parpi-train --env Pendulum-v1 --steps 1100 --eval-every 500 --out runs/first &&
        mkfifo ring &&
        parpi-collect --env MultiGoal --batch-size 64 --learning-starts 100 --until 140 <ring |
            parpi-critic --hidden 64 --layers 2 | tee frames.mp |
            parpi-langevin --eps 1e-2 | tee particles.mp | parpi-discrim --hidden 64 |
            parpi-policy --prime --env MultiGoal --hidden 64 >ring &&
        rm ring
    ) >"$BATS_FILE_TMPDIR/world.log" 2>&1 || {
        echo "could not make the examples' files:" >&2
        tail -20 "$BATS_FILE_TMPDIR/world.log" >&2
        return 1
    }
}

setup() {
    need_progs parpi-train parpi-collect parpi-critic parpi-langevin parpi-discrim parpi-dual parpi-dataset \
        parpi-policy parpi-eval parpi-cat parpi-plot
    WORLD="$BATS_FILE_TMPDIR/world"
}

# The fixtures a block gets: each path under $WORLD that is not a run
# directory the block makes with --out.
fixtures_for() { # fixtures_for TEXT
    local outs p g skip
    outs=$(printf '%s\n' "$1" | grep -oE -- '--out[ =][^ ;|&<>)]+' |
        sed -E 's/^--out[ =]//; s/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/*/g')
    for p in runs/hopper-wd-0 runs/hopper-sac-0 runs/multigoal-0 runs/first frames.mp particles.mp; do
        skip=
        while IFS= read -r g; do
            # shellcheck disable=SC2053  # $g is a glob on purpose
            [ -n "$g" ] && [[ $p == $g ]] && skip=1
        done <<<"$outs"
        [ -n "$skip" ] || printf '%s\n' "$p"
    done
}

# run_block X N PREV: run block N of the extraction in X (PREV: the number of
# the block before it in the same file, or nothing); prints what went wrong.
# Returns 0 (ran), 1 (failed) or 2 (skipped).
run_block() {
    local x=$1 n=$2 prev=$3 where text d script dir log limit=60 lang=bash new rc p cont=
    local -a checks=()
    where=$(cat "$x/$n.src")
    text=$(cat "$x/$n.sh")
    while IFS= read -r d; do
        case $d in
            "sed "*)
                new=$(printf '%s\n' "$text" | sed -e "${d#sed }") ||
                    { echo "# $where: bad directive '$d'"; return 1; }
                [ "$new" != "$text" ] ||
                    { echo "# $where: the directive '$d' changes nothing (has the example changed?)"; return 1; }
                text=$new ;;
            "check "*) checks+=("${d#check }") ;;
            python) lang=python ;;
            continues) cont=1 ;;
            "timeout "*) limit=${d#timeout } ;;
            *) echo "# $where: unknown directive '$d'"; return 1 ;;
        esac
    done <"$x/$n.tests"
    if [ "$lang" = python ] && ! /usr/bin/python3 -c 'import msgpack, msgpack_numpy' 2>/dev/null; then
        echo "# $where: skipped: needs /usr/bin/python3 with msgpack and msgpack_numpy"
        return 2
    fi
    if [ -n "$cont" ]; then
        [ -n "$prev" ] && [ -d "$T/ex-$prev" ] ||
            { echo "# FAILED $where: 'continues', but no block before it in the same file"; return 1; }
        dir="$T/ex-$prev"
        mv "$dir" "$T/ex-$n" && dir="$T/ex-$n"
    else
        dir="$T/ex-$n"
        mkdir -p "$dir"
        while IFS= read -r p; do
            mkdir -p "$dir/$(dirname "$p")" && cp -a "$WORLD/$p" "$dir/$p"
        done < <(fixtures_for "$text")
    fi
    log="$T/ex-$n.log"
    [ -p "$T/no-input" ] || mkfifo "$T/no-input"
    local t0=$EPOCHREALTIME
    rc=0
    if [ "$lang" = python ]; then
        script="$T/ex-$n.py"
        printf '%s\n' "$text" >"$script"
        (cd "$dir" && timeout -k 5 "$limit" /usr/bin/python3 "$script") <>"$T/no-input" >"$log" 2>&1 3>&- || rc=$?
    else
        script="$T/ex-$n.sh"
        printf '%s\nwait\n' "$text" >"$script"
        (cd "$dir" && timeout -k 5 "$limit" bash -e -o pipefail "$script") <>"$T/no-input" >"$log" 2>&1 3>&- || rc=$?
    fi
    echo "# $where: exit status $rc after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s"
    if [ "$rc" -eq 0 ]; then
        for d in "${checks[@]}"; do
            if ! (cd "$dir" && timeout -k 5 "$limit" bash -c "$d") <>"$T/no-input" >>"$log" 2>&1 3>&-; then
                rc=check; echo "# check failed: $d" >>"$log"; break
            fi
        done
    fi
    [ "$rc" = 0 ] && return 0
    case $rc in
        124|137) echo "# FAILED $where: still running after ${limit}s (does it read standard input, or run too long?)" ;;
        check) echo "# FAILED $where: it ran, but a check failed" ;;
        *) echo "# FAILED $where: exit status $rc" ;;
    esac
    echo "# ran in $dir:"
    sed 's/^/#   /' "$script"
    echo "# its output (the end):"
    tail -n 25 "$log" | sed 's/^/#   /'
    return 1
}

# examples_of [man-examples options] FILE...: run every example of the files.
examples_of() {
    local x="$T/blocks" s n ran=0 failed=0 skipped=0 rc file prev='' prev_file=''
    rm -rf "$x"
    "$ROOT/tests/cli/man-examples" --out "$x" "$@" || { echo "# man-examples failed on $*"; return 1; }
    for s in "$x"/*.src; do
        [ -e "$s" ] || break
        n=$(basename "$s" .src)
        file=$(sed 's/:[0-9]*$//' "$s")
        [ "$file" = "$prev_file" ] || prev=
        rc=0
        run_block "$x" "$n" "$prev" || rc=$?
        prev=$n prev_file=$file
        case $rc in 0) ran=$((ran + 1)) ;; 2) skipped=$((skipped + 1)) ;; *) failed=$((failed + 1)) ;; esac
    done
    echo "# $*: $ran example blocks ran, $failed failed, $skipped skipped"
    [ $((ran + failed + skipped)) -gt 0 ] || { echo "# no example block found in $*"; return 1; }
    [ "$failed" -eq 0 ]
}

@test "examples: every man page has its test in this file" {
    local page missing=
    for page in "$ROOT"/man/man*/*.[1-9]; do
        page=${page#"$ROOT"/}
        grep -q "examples_of \"\$ROOT/$page\"" "$BATS_TEST_FILENAME" || missing="$missing $page"
    done
    [ -z "$missing" ] || { echo "add a test 'examples_of \"\$ROOT/PAGE\"' for:$missing"; false; }
}

@test "parpi-cat(1): every example runs" { examples_of "$ROOT/man/man1/parpi-cat.1"; }
@test "parpi-collect(1): every example runs" { examples_of "$ROOT/man/man1/parpi-collect.1"; }
@test "parpi-critic(1): every example runs" { examples_of "$ROOT/man/man1/parpi-critic.1"; }
@test "parpi-dataset(1): every example runs" {
    ! parpi-dataset --help | grep -q 'HDF5 support was not built' || skip "this parpi was built without HDF5"
    examples_of "$ROOT/man/man1/parpi-dataset.1"
}
@test "parpi-discrim(1): every example runs" { examples_of "$ROOT/man/man1/parpi-discrim.1"; }
@test "parpi-dual(1): every example runs" { examples_of "$ROOT/man/man1/parpi-dual.1"; }
@test "parpi-eval(1): every example runs" { examples_of "$ROOT/man/man1/parpi-eval.1"; }
@test "parpi-langevin(1): every example runs" { examples_of "$ROOT/man/man1/parpi-langevin.1"; }
@test "parpi-model(1): every example runs" { examples_of "$ROOT/man/man1/parpi-model.1"; }
@test "parpi-plot(1): every example runs" { examples_of "$ROOT/man/man1/parpi-plot.1"; }
@test "parpi-policy(1): every example runs" { examples_of "$ROOT/man/man1/parpi-policy.1"; }
@test "parpi-train(1): every example runs" { examples_of "$ROOT/man/man1/parpi-train.1"; }
@test "parpi-frame(5): every example runs" { examples_of "$ROOT/man/man5/parpi-frame.5"; }
@test "parpi-replay(5): every example runs" { examples_of "$ROOT/man/man5/parpi-replay.5"; }
@test "parpi-envs(7): every example runs" { examples_of "$ROOT/man/man7/parpi-envs.7"; }
@test "parpi(7): every example runs" { examples_of "$ROOT/man/man7/parpi.7"; }

# ---- the harness itself ----

@test "examples: a failing example fails its page, naming the file and line" {
    printf '%s\n' '.TH X 1' '.SH EXAMPLES' 'Fine:' '.nf' 'true' '.fi' 'Broken:' '.nf' \
        'parpi-cat \-\-no\-such\-option' '.fi' >"$T/x.1"
    run examples_of "$T/x.1"
    assert_failure
    assert_output --partial "# FAILED $T/x.1:9: exit status 2"
    assert_output --partial "unknown option '--no-such-option'"
    assert_output --partial "1 example blocks ran, 1 failed"
}

@test "examples: a command outside a block, or a stray directive, is an error" {
    printf '%s\n' '.TH X 1' '.SH EXAMPLES' 'Run it:' '.PP' '.RS' 'parpi-cat \-\-json x.mp' '.RE' >"$T/x.1"
    run "$ROOT/tests/cli/man-examples" "$T/x.1"
    assert_failure 1
    assert_output --partial "x.1:6: this looks like a command outside an example block"
    printf '%s\n' '.TH X 1' '.SH EXAMPLES' '.nf' 'true' '.fi' '.\" example-test: sed s/a/b/' \
        '.SH SEE ALSO' >"$T/y.1"
    run "$ROOT/tests/cli/man-examples" "$T/y.1"
    assert_failure 1
    assert_output --partial "y.1:6: example-test directives with no example block after them"
    printf '%s\n' '.TH X 1' '.SH EXAMPLES' '.\" example-test: skip' '.nf' 'true' '.fi' >"$T/z.1"
    run "$ROOT/tests/cli/man-examples" "$T/z.1"
    assert_failure 1
    assert_output --partial 'unknown directive "example-test: skip"'
}

@test "examples: roff escapes are translated; sed, check and timeout directives apply" {
    printf '%s\n' '.TH X 1' '.SH DESCRIPTION' '.nf' 'not an example' '.fi' '.SH EXAMPLES' \
        '.\" example-test: sed s/100000/3/' '.\" example-test: check test "$(cat n)" = 3' \
        '.nf' '.RS' 'printf %s\\n \(aqa\e b\(aq \-\-x \&| grep \-c . \\' '  >/dev/null' \
        'seq 100000 | wc \-l >n' '.RE' '.fi' \
        '.\" example-test: timeout 1' '.nf' 'cat' '.fi' >"$T/x.1"
    run "$ROOT/tests/cli/man-examples" "$T/x.1"
    assert_success
    assert_output "$(printf '%s\n' "== $T/x.1:11" 'example-test: sed s/100000/3/' \
        'example-test: check test "$(cat n)" = 3' \
        "printf %s\\n 'a\\ b' --x | grep -c . \\" '  >/dev/null' 'seq 100000 | wc -l >n' '' \
        "== $T/x.1:18" 'example-test: timeout 1' 'cat')"
    run examples_of "$T/x.1"
    assert_failure
    assert_output --partial "# FAILED $T/x.1:18: still running after 1s (does it read standard input"
    assert_output --partial "1 example blocks ran, 1 failed"
    printf '%s\n' '.TH X 1' '.SH EXAMPLES' '.\" example-test: sed s/100000/3/' '.nf' 'seq 10' '.fi' >"$T/y.1"
    run examples_of "$T/y.1"
    assert_failure
    assert_output --partial "the directive 'sed s/100000/3/' changes nothing"
}

@test "examples: README-style text gives the 4-space blocks of the selected headings" {
    cat >"$T/README" <<'EOF'
# tool

    not selected: under "# tool"

## Examples

Run it:

    echo one |
      cat

    echo two

<!-- example-test: sed s/three/3/ -->
    echo three >n
Prose again.

<!-- example-test: continues -->
    grep -x 3 n

```
fenced
```

## Other

    echo not selected
EOF
    run "$ROOT/tests/cli/man-examples" --text "$T/README"
    assert_failure 1
    assert_output --partial "README:21: a fenced code block is not run by make check"
    sed -i '/^```/,/^```/d' "$T/README"
    run "$ROOT/tests/cli/man-examples" "$T/README"
    assert_success
    assert_output "$(printf '%s\n' "== $T/README:9" 'echo one |' '  cat' '' 'echo two' '' \
        "== $T/README:15" 'example-test: sed s/three/3/' 'echo three >n' '' \
        "== $T/README:19" 'example-test: continues' 'grep -x 3 n')"
    run "$ROOT/tests/cli/man-examples" --section '^(EXAMPLES|OTHER)$' "$T/README"
    assert_output --partial "echo not selected"
    run examples_of "$T/README"
    assert_success
    assert_output --partial "3 example blocks ran, 0 failed"
}

# The README's examples: the blocks of "A tour" (the set-up commands of "Two
# commands" install packages and run this very suite, so they are not run
# here; CI runs them as they are written).
@test "README: every example of the tour runs" {
    examples_of --text --section '^A TOUR$' "$ROOT/README"
}
