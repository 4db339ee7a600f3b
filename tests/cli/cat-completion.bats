#!/usr/bin/env bats
# Bash completion (completions/parpi.bash) for parpi-cat: options from
# --help, field paths of the file on the line for --csv.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load.bash'
load '/usr/lib/bats/bats-assert/load.bash'

complete_line() {
  # complete_line WORD... : completions for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _parpi; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$BATS_TEST_DIRNAME/../../completions/parpi.bash" "$@"
}

@test "bash completion: parpi-cat options come from its --help" {
  run complete_line parpi-cat --cs
  assert_output "--csv"
  run complete_line parpi-cat --f
  assert_output "$(printf -- '--fields\n--frame')"
}

@test "bash completion: --csv completes field paths, also after a comma" {
  f="$BATS_TEST_DIRNAME/../fuzz/corpus/ok-nested-metrics.mp"
  run complete_line parpi-cat "$f" --csv metrics.critic.q_l
  assert_output "metrics.critic.q_loss"
  run complete_line parpi-cat "$f" --csv step,par
  assert_output "step,particles.uK"
}
