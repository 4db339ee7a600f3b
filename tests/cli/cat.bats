#!/usr/bin/env bats
# parpi-cat: summary, JSON, CSV, fields, frame selection, stdin, errors.
# Inputs are the committed seed corpus of the fuzzer (tests/fuzz/corpus).

load helpers

C="$ROOT/tests/fuzz/corpus"

@test "--help describes the options and exits 0" {
    run parpi-cat --help
    assert_success
    assert_output --partial "--csv FIELD"
    assert_output --partial "--json"
}

@test "--version prints the version" {
    run parpi-cat --version
    assert_success
    assert_output --regexp '^parpi-cat [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "summary: one line per field with type, shape and stats" {
    run parpi-cat "$C/ok-nested-metrics.mp"
    assert_success
    assert_line --index 0 --partial "# frame 0:"
    assert_output --regexp "metrics\.critic\.q_loss +float +0\.5"
    assert_output --regexp "particles\.uK +tensor f32\[4,2\]  min 1  mean 1  max 1"
}

@test "summary of every dtype" {
    run parpi-cat "$C/ok-tensors-all-dtypes.mp"
    assert_success
    for d in 'f32\[2,3\]' 'f64\[2,3\]' 'i32\[2,3\]' 'i64\[2,3\]' 'u8\[2,3\]'; do
        assert_output --regexp "$d  min 0  mean 1  max 2"
    done
    assert_output --regexp 'bool\[2,3\]  true 4/6'
}

@test "--json: one object per frame, one per line" {
    run parpi-cat --json "$C/stream-3-frames.mp"
    assert_success
    assert_equal "${#lines[@]}" 3
    assert_line --index 0 '{"step":0,"x":[0.0,0.0,0.0]}'
    assert_line --index 2 '{"step":2,"x":[2.0,2.0,2.0]}'
}

@test "--json --tensor-object gives dtype, shape and flat data" {
    run parpi-cat --json --tensor-object "$C/ok-nested-metrics.mp"
    assert_success
    assert_output --partial '"uK":{"dtype":"f32","shape":[4,2],"data":[1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0]}'
}

@test "--json of numpy scalars, bin, ext, nil and empty tensors" {
    run parpi-cat --json "$C/ok-ext-bin-array.mp"
    assert_success
    assert_output '{"blob":"AAE=","list":[1,"two",[3.0,null],{"k":true}],"ext":{"ext":5,"data":"YWJj"},"empty":[],"scalar0d":1.5}'
    run parpi-cat --json "$C/ok-numpy-scalar.mp"
    assert_output '{"alpha":0.25}'
}

@test "--csv of a 2-D tensor: a header of columns, then rows" {
    run parpi-cat --csv particles.uK "$C/ok-nested-metrics.mp"
    assert_success
    assert_line --index 0 "uK0,uK1"
    assert_line --index 1 "1,1"
    assert_equal "${#lines[@]}" 5
}

@test "--csv --no-header; a scalar gives one row per frame" {
    run parpi-cat --csv step --no-header "$C/stream-3-frames.mp"
    assert_success
    assert_output "$(printf '0\n1\n2')"
    run parpi-cat --csv step,x "$C/stream-3-frames.mp"
    assert_failure 1
    assert_output --partial "different numbers of rows"
}

@test "--csv of several scalar fields" {
    run parpi-cat --csv metrics.critic.q_loss,metrics.policy.entropy "$C/ok-nested-metrics.mp"
    assert_success
    assert_output "$(printf 'q_loss,entropy\n0.5,-1')"
}

@test "--csv over a stream skips frames that lack a field (a ring's warm-up frames)" {
  # frame 0 is {} (no step): skipped, not an error, so that a tap
  # tee >(parpi-cat --csv metrics.critic.q_loss) keeps reading and the ring lives
  cat "$C/ok-empty-map.mp" "$C/stream-3-frames.mp" "$C/ok-empty-map.mp" >"$BATS_TEST_TMPDIR/warm.mp"
  # the count of frames skipped goes to stderr, after the rows
  run --separate-stderr parpi-cat --csv step "$BATS_TEST_TMPDIR/warm.mp"
  assert_success
  assert_output "$(printf 'step\n0\n1\n2')"
  # shellcheck disable=SC2154
  assert_equal "$stderr" "parpi-cat: --csv: skipped 2 of 5 frames, which lack step"
  run --separate-stderr bash -c "parpi-cat --csv step <'$BATS_TEST_TMPDIR/warm.mp'"
  assert_success
  assert_output "$(printf 'step\n0\n1\n2')"
  run --separate-stderr parpi-cat --csv metrics.critic.q_loss,metrics.policy.entropy "$BATS_TEST_TMPDIR/warm.mp" "$C/ok-nested-metrics.mp"
  assert_success
  assert_output "$(printf 'q_loss,entropy\n0.5,-1')"
  assert_equal "$stderr" "parpi-cat: --csv: skipped 5 of 6 frames, which lack one of the fields (first: metrics.critic.q_loss)"
  # none skipped, nothing said
  run --separate-stderr parpi-cat --csv step "$C/stream-3-frames.mp"
  assert_equal "$stderr" ""
}

@test "a reader that stops early (| head) ends parpi-cat quietly with 0" {
  for _ in $(seq 2000); do cat "$C/stream-3-frames.mp"; done >"$BATS_TEST_TMPDIR/long.mp"
  for mode in "" "--json" "--csv step"; do
    # shellcheck disable=SC2086
    run --separate-stderr bash -c "parpi-cat $mode '$BATS_TEST_TMPDIR/long.mp' | head -n 1; echo \"rc \${PIPESTATUS[0]}\""
    assert_success
    assert_line --index 1 "rc 0"
    assert_equal "$stderr" ""
  done
  # another write error is still one
  if [ -w /dev/full ]; then
    run bash -c "parpi-cat '$BATS_TEST_TMPDIR/long.mp' >/dev/full"
    assert_failure 1
    assert_output "parpi-cat: write error on stdout: No space left on device"
  fi
}

@test "--csv: a field that no frame has is an error after the whole input; --frame N must have it" {
  run parpi-cat --csv step,metrics.critic.q_loss "$C/stream-3-frames.mp"
  assert_failure 1
  assert_output "parpi-cat: none of the 3 frames has the field metrics.critic.q_loss (parpi-cat --fields lists a frame's fields)"
  run parpi-cat --csv step --frame 0 "$C/ok-empty-map.mp" "$C/stream-3-frames.mp"
  assert_failure 1
  assert_output --partial "frame 0: missing field step"
}

@test "--csv of a 3-D tensor is an error naming the field" {
    printf '\x81\xa1t\x85\xc4\x02nd\xc3\xc4\x04type\xa3<f4\xc4\x04kind\xc4\x00\xc4\x05shape\x93\x01\x01\x01\xc4\x04data\xc4\x04\x00\x00\x00\x00' > "$T/t3.mp"
    run parpi-cat --csv t "$T/t3.mp"
    assert_failure 1
    assert_output --partial "field t is f32[1,1,1]: CSV takes 0-, 1- or 2-D tensors"
}

@test "--frame N selects a frame; -1 the last; beyond the end is an error" {
    run parpi-cat --json --frame 1 "$C/stream-3-frames.mp"
    assert_success
    assert_output '{"step":1,"x":[1.0,1.0,1.0]}'
    run parpi-cat --json -n -1 "$C/stream-3-frames.mp"
    assert_output '{"step":2,"x":[2.0,2.0,2.0]}'
    run parpi-cat --json --frame 5 "$C/stream-3-frames.mp"
    assert_failure 1
    assert_output --partial "no frame 5: the input has 3 frames"
}

@test "--frame -1 on a file still being written shows its last complete frame" {
  # a tee tap of a running ring usually ends in half a frame
  cat "$C/stream-3-frames.mp" >"$BATS_TEST_TMPDIR/live.mp"
  head -c 40 "$C/stream-3-frames.mp" >>"$BATS_TEST_TMPDIR/live.mp"
  run --separate-stderr parpi-cat --json --frame -1 "$BATS_TEST_TMPDIR/live.mp"
  assert_success
  assert_output '{"step":2,"x":[2.0,2.0,2.0]}'
  [[ "$stderr" == *"live.mp: frame 3 (byte 186) is incomplete, perhaps still being written: showing frame 2"* ]]
  # anything else keeps the truncation an error: every frame, or the same bytes on a pipe
  run parpi-cat --json "$BATS_TEST_TMPDIR/live.mp"
  assert_failure 1
  assert_output --partial "truncated frame at byte 226"
  run bash -c "parpi-cat --json --frame -1 <'$BATS_TEST_TMPDIR/live.mp'"
  assert_failure 1
  assert_output --partial "stdin: truncated frame"
}

@test "frames are counted over several inputs" {
    run parpi-cat --csv step --no-header "$C/stream-3-frames.mp" "$C/stream-3-frames.mp"
    assert_output "$(printf '0\n1\n2\n0\n1\n2')"
    run parpi-cat --json --frame 4 "$C/stream-3-frames.mp" "$C/stream-3-frames.mp"
    assert_output '{"step":1,"x":[1.0,1.0,1.0]}'
}

@test "--fields lists the field paths" {
    run parpi-cat --fields "$C/ok-nested-metrics.mp"
    assert_success
    assert_output "$(printf 'metrics.critic.q_loss\nmetrics.critic.q_mean\nmetrics.policy.entropy\nparticles.uK')"
}

@test "reads stdin with no file or with -" {
    run bash -c "parpi-cat --json < '$C/stream-3-frames.mp'"
    assert_success
    assert_equal "${#lines[@]}" 3
    run bash -c "cat '$C/stream-3-frames.mp' | parpi-cat --csv step -"
    assert_output "$(printf 'step\n0\n1\n2')"
    run bash -c "printf '\x82\xa4step\x07\xa5alpha\xcb\x3f\xc9\x99\x99\x99\x99\x99\x9a' | parpi-cat --json"
    assert_output '{"step":7,"alpha":0.2}'
}

@test "a bad option exits 2 with a hint" {
    run parpi-cat --bogus "$C/ok-empty-map.mp"
    assert_failure 2
    assert_output --partial "unknown option '--bogus'"
    run parpi-cat --frame abc "$C/ok-empty-map.mp"
    assert_failure 2
    assert_output --partial "--frame takes a frame number"
    run parpi-cat --csv
    assert_failure 2
    assert_output "$(printf "parpi-cat: option --csv needs a value\nTry 'parpi-cat --help'.")"
    run parpi-cat --no-header "$C/ok-empty-map.mp"
    assert_failure 2
}

@test "a truncated file exits 1 naming the byte offset and field" {
    run parpi-cat "$C/bad-truncated.mp"
    assert_failure 1
    assert_output --partial "parpi-cat: "
    assert_output --partial "bad-truncated.mp: truncated frame at byte 66"
    assert_output --partial "byte 57 (batch.obs.data)"
}

@test "corrupt input exits 1 with the byte offset; output before it is kept" {
    run parpi-cat --csv step --no-header "$C/stream-3-frames.mp" "$C/bad-trailing.mp"
    assert_failure 1
    assert_line --index 0 "0"
    assert_output --partial "bad-trailing.mp: byte 71: a frame must be a map, got int"
    run parpi-cat "$C/bad-kind-O.mp"
    assert_failure 1
    assert_output --partial "byte 15 (x.type): unsupported dtype '|O'"
    run bash -c "head -c 20 '$C/ok-nested-metrics.mp' | parpi-cat"
    assert_failure 1
    assert_output --partial "stdin: truncated frame at byte 20"
}

@test "--max-frame refuses larger frames" {
    run parpi-cat --max-frame 100 "$C/ok-tensors-all-dtypes.mp"
    assert_failure 1
    assert_output --partial "larger than the 100-byte limit"
    run parpi-cat --max-frame 1000 "$C/ok-tensors-all-dtypes.mp"
    assert_success
}

@test "a missing file exits 1" {
    run parpi-cat /nonexistent/file.mp
    assert_failure 1
    assert_output "parpi-cat: cannot open /nonexistent/file.mp: No such file or directory"
}

@test "an empty input prints nothing and succeeds" {
    run bash -c "parpi-cat < /dev/null"
    assert_success
    assert_output ""
}

@test "a replay file in chunks: --csv gives every row once, one header and no note; the summary shows each frame" {
    PARPI_CHUNK_ROWS=7 parpi-collect --env Pendulum-v1 --steps 30 --seed 3 --replay "$T/r.mp" 2>/dev/null
    run --separate-stderr parpi-cat --csv rewards,observations "$T/r.mp"
    assert_success
    assert_equal "${#lines[@]}" 31
    assert_line --index 0 "rewards,observations0,observations1,observations2"
    # shellcheck disable=SC2154
    assert_equal "$stderr" ""
    # the same rows as one chunk gives
    parpi-collect --env Pendulum-v1 --steps 30 --seed 3 --replay "$T/one.mp" 2>/dev/null
    [ "$(parpi-cat --csv rewards,observations "$T/one.mp")" = "$output" ]
    # the header, five chunks (7, 7, 7, 7, 2 rows), the end
    run parpi-cat "$T/r.mp"
    assert_output --regexp "chunk_rows +int +7"
    assert_output --regexp "observations +tensor f32\[2,3\]"
    assert_output --partial "# frame 6:"
    assert_output --regexp "checksum +int"
    run parpi-cat --csv count --no-header "$T/r.mp"
    assert_output "$(printf '7\n7\n7\n7\n2')"
}
