#!/usr/bin/env bats
# Cross-check of parpi's Pendulum-v1 against Gymnasium's, step by step.
# Optional: skipped (and said so) when no Python with gymnasium is found.
# Set PARPI_PYTHON to choose the interpreter (e.g. a venv with gymnasium).

load helpers

setup() {
    BIN="${PARPI_TEST_BUILD:-$ROOT/build}/tests/test_env_basic"
    TOOL="$ROOT/dev/tools/pendulum_crosscheck.py"
    PY=""
    for p in "${PARPI_PYTHON:-}" /usr/bin/python3 python3; do
        [ -n "$p" ] || continue
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import gymnasium' >/dev/null 2>&1; then
            PY="$p"
            break
        fi
    done
}

@test "Pendulum-v1 matches Gymnasium's Pendulum-v1 over 5 seeds x 200 steps" {
    [ -n "$PY" ] || skip "gymnasium is not importable (set PARPI_PYTHON to a Python that has it)"
    [ -x "$BIN" ] || skip "unit test binary $BIN not built"
    run "$PY" "$TOOL" "$BIN" 1 2 3 4 5
    echo "$output"
    assert_success
    refute_output --partial MISMATCH
}
