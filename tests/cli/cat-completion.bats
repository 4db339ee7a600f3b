#!/usr/bin/env bats
# Bash completion (completions/parpi.bash) for parpi-cat: options from
# --help, field paths of the file on the line for --csv.

load helpers

complete_line() {
    # complete_line WORD... : completions for the last word
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _parpi; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$ROOT/completions/parpi.bash" "$@"
}

@test "bash completion: parpi-cat options come from its --help" {
    run complete_line parpi-cat --cs
    assert_output "--csv"
    run complete_line parpi-cat --f
    assert_output "$(printf -- '--fields\n--frame')"
}

@test "bash completion: --csv completes field paths, also after a comma" {
    f="$ROOT/tests/fuzz/corpus/ok-nested-metrics.mp"
    run complete_line parpi-cat "$f" --csv metrics.critic.q_l
    assert_output "metrics.critic.q_loss"
    run complete_line parpi-cat "$f" --csv step,par
    assert_output "step,particles.uK"
}
