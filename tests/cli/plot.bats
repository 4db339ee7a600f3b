#!/usr/bin/env bats
# parpi-plot: learning curves and particles (gnuplot), and how it fails.

load helpers

setup() {
    need_progs parpi-plot parpi-cat
    command -v gnuplot >/dev/null || skip "needs gnuplot"
    mkdir -p "$T/runs/a-0" "$T/runs/a-1" "$T/runs/empty"
    H=step,episodes,return_mean,return_std
    printf '%s\n5000,10,-100,10\n5200,10,-80,12\n5400,10,-60,8\n' "$H" >"$T/runs/a-0/eval.csv"
    printf '%s\n5000,10,-120,10\n5200,10,-70,12\n5400,10,-50,8\n' "$H" >"$T/runs/a-1/eval.csv"
    printf '%s\n' "$H" >"$T/runs/empty/eval.csv" # a run with no evaluation yet
}

is_png() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '211PNG' ]; }

@test "plot: curves of several runs; a run without evaluations is left out with a warning" {
    run --separate-stderr parpi-plot --out "$T/c.png" "$T"/runs/*
    assert_success
    assert_output "$T/c.png"
    # shellcheck disable=SC2154
    assert_equal "$stderr" "parpi-plot: warning: $T/runs/empty/eval.csv: no rows with a value in column 'return_mean' yet: left out"
    is_png "$T/c.png"
    # only runs without data: an error, and no PNG
    run parpi-plot --out "$T/e.png" "$T/runs/empty"
    assert_failure 1
    assert_output --partial "no rows with a value in column 'return_mean'"
    [ ! -e "$T/e.png" ]
}

@test "plot: --mean draws one line per group of seeds" {
    run parpi-plot --mean --out "$T/m.txt" "$T"/runs/a-*
    assert_success
    grep -q "a (mean of 2 runs)" "$T/m.txt"
    ! grep -q "a-0" "$T/m.txt"
}

@test "plot: x tick labels never repeat on a short range (5k 5.2k 5.4k, not 5k 5k 5k)" {
    run parpi-plot --out "$T/c.txt" "$T/runs/a-0"
    assert_success
    ticks=$(grep -E '^ +5k ' "$T/c.txt")
    echo "$ticks"
    # shellcheck disable=SC2086
    [ "$(printf '%s\n' $ticks | sort | uniq -d)" = "" ]
    [[ "$ticks" == *5.2k* ]]
    # a long range: k and M, still distinct
    printf 'step,v\n0,1\n250000,2\n500000,3\n1000000,3\n' >"$T/long.csv"
    run parpi-plot --column v --out "$T/l.txt" "$T/long.csv"
    assert_success
    grep -qE '^ +0 +200k +400k +600k +800k +1M' "$T/l.txt"
}

@test "plot: a failed plot leaves no PNG, and an old one as it was" {
    printf 'step,return_mean\n1,abc\n2,def\n' >"$T/bad.csv"
    run parpi-plot --out "$T/bad.png" "$T/bad.csv"
    assert_failure 1
    [ ! -e "$T/bad.png" ]
    printf 'old' >"$T/old.png"
    printf 'step,return_mean\n1,1\n' >"$T/one.csv"
    # gnuplot fails on an unwritable size
    run parpi-plot --out "$T/old.png" --size 0,0 "$T/one.csv"
    assert_failure 1
    assert_equal "$(cat "$T/old.png")" old
    [ -z "$(find "$T" -name '.*.tmp')" ]
    run parpi-plot --out "$T/nodir/x.png" "$T/one.csv"
    assert_failure 1
    assert_output "parpi-plot: cannot write $T/nodir/x.png: no directory $T/nodir"
}

@test "plot: messages have one prefix and usage errors one hint" {
    run parpi-plot --bogus
    assert_failure 2
    assert_output "$(printf "parpi-plot: unknown option --bogus\nTry 'parpi-plot --help'.")"
    run parpi-plot --out
    assert_failure 2
    assert_output "$(printf "parpi-plot: option --out needs a value\nTry 'parpi-plot --help'.")"
    run parpi-plot -h
    assert_success
    assert_output --partial "Usage: parpi-plot"
    # parpi-cat's message, once, with the file named once
    printf 'junk' >"$T/junk.mp"
    run parpi-plot --particles "$T/junk.mp" --out "$T/p.png"
    assert_failure 1
    assert_output --regexp "^parpi-plot: $T/junk.mp: [^:]"
    refute_output --partial "parpi-cat:"
    [ "$(grep -o "$T/junk.mp" <<<"$output" | wc -l)" -eq 1 ]
    [ ! -e "$T/p.png" ]
}

@test "plot: particles of a frame without them say why" {
    need_progs parpi-collect
    parpi-collect --env MultiGoal --steps 5 --out "$T/s.mp" 2>/dev/null
    run parpi-plot --particles "$T/s.mp" --out "$T/p.png"
    assert_failure 1
    assert_output --partial "has no particles (parpi-langevin adds them to frames with a batch: did learning start?"
    [ ! -e "$T/p.png" ]
}
