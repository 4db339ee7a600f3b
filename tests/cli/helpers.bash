# helpers.bash - the prelude every bats file of tests/cli and tests/learn loads
# (`load ../cli/helpers` or `load helpers`): the assertion libraries, the
# tree's paths, and the checks that a test's programs and Python are there.
#
#   ROOT   the source tree          T      this test's own temporary folder
#   DATA   tests/cli/data           need_progs P...   fail (not skip) if a
#   FIX    tests/fixtures                    parpi program is not on PATH
#   need_python_msgpack   skip, saying so, without /usr/bin/python3 msgpack_numpy

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="$ROOT/tests/cli/data"
FIX="$ROOT/tests/fixtures"

# Every test gets its own folder, removed by bats afterwards.
helpers_setup() { T="$BATS_TEST_TMPDIR"; }

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
