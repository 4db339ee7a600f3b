#!/usr/bin/env bats
# Bash completion (completions/parpi.bash) of the stage and driver programs:
# options and the values of fixed-set options come from each program's
# --help (the option table prints "--option a|b|c"), --set completes a
# stage's own options after the dot, and --preset names the shipped presets.

load helpers

complete_line() {
    # complete_line WORD... : the completions of the last word
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _parpi; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$ROOT/completions/parpi.bash" "$@"
}

setup() {
    need_progs parpi-critic parpi-discrim parpi-train
}

@test "completion: the values of a fixed-set option come from --help" {
    run complete_line parpi-critic --target ""
    assert_output "$(printf 'sac\nsql')"
    run complete_line parpi-train --algo s
    assert_output "$(printf 'sac\nsql')"
}

@test "completion: options are the program's own, not ones quoted in a description" {
    run complete_line parpi-train --li
    assert_output ""
    run complete_line parpi-critic --hid
    assert_output "--hidden"
}

@test "completion: --set STAGE. completes that stage's options" {
    run complete_line parpi-train --set critic.ga
    assert_output "critic.gamma"
}

@test "completion: --preset names the presets of the tree on PATH" {
    run complete_line parpi-train --preset Hopper-v
    assert_line "Hopper-v3"
    assert_line "Hopper-v4"
}

@test "completion: parpi-dataset's commands, then that command's options" {
    need_progs parpi-dataset
    run complete_line parpi-dataset ""
    assert_output "$(printf 'import\nexport\ninfo\ngenerate')"
    run complete_line parpi-dataset i
    assert_output "$(printf 'import\ninfo')"
    run complete_line parpi-dataset import x.hdf5 --e
    assert_output "$(printf -- '--env\n--env-options')"
    run complete_line parpi-dataset export x.ds --
    assert_output "$(printf -- '--help\n--out')"
    run complete_line parpi-dataset info x.ds --env Hopper-v
    assert_line "Hopper-v3"
    run complete_line parpi-dataset --v
    assert_output "--version"
}

@test "completion: parpi-model's commands, then that command's options" {
    need_progs parpi-model
    run complete_line parpi-model ""
    assert_output "$(printf 'train\neval')"
    run complete_line parpi-model train --pat
    assert_output "--patience"
    run complete_line parpi-model eval --c
    assert_output "--csv"
    run complete_line parpi-model train --dataset
    [ "$status" -eq 0 ]
}

@test "completion: parpi-train --eval-sync and parpi-eval --sync (and eval.sync after --set)" {
    run complete_line parpi-train --eval-s
    assert_output "--eval-sync"
    run complete_line parpi-eval --sy
    assert_output "--sync"
    run complete_line parpi-train --set eval.sy
    assert_output "eval.sync"
}
