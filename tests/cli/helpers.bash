# helpers.bash - the prelude every bats file of tests/cli and tests/learn loads
# (`load helpers` in tests/cli, `load ../cli/helpers` in tests/learn): the
# assertion libraries, the tree's paths, and the checks that a test's programs
# and Python are there.
#
#   ROOT   the source tree             T      this test's own temporary folder
#   DATA   tests/cli/data              FIX    tests/fixtures
#   need_progs P...        fail (not skip) if a parpi program is not on PATH
#   need_python_msgpack    skip, saying so, without /usr/bin/python3 msgpack_numpy
#   stage_frames ARGS...   tests/cli/stage_frames.py (ring, particles, show)
#   same_fields_as_v01 OLD NEW   a 0.1 checkpoint saved back: the same fields
#   close_csv A B [LINES BOUND]  the same CSV lines, numbers within 1e-5
#                          (those on LINES within BOUND)

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="$ROOT/tests/cli/data"
FIX="$ROOT/tests/fixtures"

# bats sources the test file (and so this one) once per test, after it has
# made that test's folder; it removes the folder afterwards.
T="${BATS_TEST_TMPDIR:-}"

need_progs() {
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null ||
            { echo "$p is not on PATH (run make; make check puts build/bin on PATH)" >&2; return 1; }
    done
}

need_python_msgpack() {
    /usr/bin/python3 -c 'import msgpack, msgpack_numpy' 2>/dev/null ||
        skip "needs /usr/bin/python3 with msgpack and msgpack_numpy"
}

# The one generator of stage frames (it also writes the committed data/stage-*.mp).
stage_frames() { /usr/bin/python3 "$ROOT/tests/cli/stage_frames.py" "$@"; }

# same_fields_as_v01 OLD NEW: every field of a parpi 0.1 checkpoint OLD has
# the same value in NEW, saved back by today's parpi; only the format's
# version differs (1 then; 2, with a checksum, now).
same_fields_as_v01() {
    local old=$1 new=$2 f fields
    fields=$(parpi-cat --fields "$old") || return 1
    for f in $fields; do
        if [ "$f" = version ]; then
            [ "$(parpi-cat --csv version --no-header "$old")" = 1 ] &&
                [ "$(parpi-cat --csv version --no-header "$new")" = 2 ] ||
                { echo "version is not 1 in the old file and 2 in the new" >&2; return 1; }
            continue
        fi
        [ "$(parpi-cat --csv "$f" --no-header "$old")" = "$(parpi-cat --csv "$f" --no-header "$new")" ] ||
            { echo "$f differs" >&2; return 1; }
    done
}

# close_csv A B [LINES BOUND]: the same lines, numbers equal within 1e-5
# (relative to 1 + |a|): values another compiler, -O level or CPU (its BLAS
# kernels) may round differently. The numbers on the lines listed in LINES
# (line numbers, space-separated) need only be within BOUND (absolute).
# Prints each line out of bounds, and to stderr the largest deviation
# |b - a| / (1 + |a|) of the other lines and the largest |b - a| on LINES.
close_csv() {
    awk -F, -v lines="${3:-}" -v bound="${4:-0}" '
        BEGIN { nl = split(lines, l, " "); for (i = 1; i <= nl; i++) loose[l[i]] = 1
                num = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$" }
        NR == FNR { a[FNR] = $0; n = FNR; next }
        { k = split(a[FNR], x, ","); m = FNR
          if (k != NF) bad = bad "line " FNR ": " a[FNR] " vs " $0 "\n"
          for (i = 1; i <= NF && k == NF; i++) {
              if ($i == x[i]) continue
              if ($i !~ num || x[i] !~ num) { bad = bad "line " FNR ": " a[FNR] " vs " $0 "\n"; continue }
              d = $i - x[i]; if (d < 0) d = -d; s = x[i] < 0 ? -x[i] : x[i]
              if (FNR in loose) { if (d > wl) wl = d; out = d > bound }
              else { if (d / (1 + s) > w) w = d / (1 + s); out = d > 1e-5 * (1 + s) }
              if (out) bad = bad "line " FNR ": " a[FNR] " vs " $0 "\n" } }
        END { if (m != n) bad = bad m " lines, expected " n "\n"; printf "%s", bad
              printf "close_csv: largest deviation %.3g of 1 + |a|%s\n", w,
                  lines == "" ? "" : sprintf("; on the %d loose lines %.3g (bound %g)", nl, wl, bound) > "/dev/stderr"
              exit bad != "" }' "$1" "$2"
}
