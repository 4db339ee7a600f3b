#!/usr/bin/env bats
# The tree keeps the layout HACKING documents: include arrows point down the
# layers (base < frame, env < nn, data < rl < stage < train < cmd) and no two
# folders include each other, directly or round a loop.

load helpers

@test "layout: dev/import-graph --check finds no upward arrow and no loop between folders" {
    run "$ROOT/dev/import-graph" --check
    assert_success
    assert_line "arrows against the layer order: 0"
    assert_line "loops between folders: 0"
}

@test "layout: the checker sees an upward arrow (a header of stage/ included from nn/)" {
    cp -a "$ROOT/lib" "$ROOT/cmd" "$ROOT/dev" "$T/"
    echo '#include "stage/stage.h"' >>"$T/lib/nn/adam.c"
    run "$T/dev/import-graph" --check
    assert_failure
    assert_line --partial "lib/nn/adam.c -> lib/stage/stage.h (nn -> stage)"
}
