#!/usr/bin/env bats
# parpi-cat reads what Python's msgpack + msgpack_numpy write: the JSON it
# prints equals Python's own json.dumps of the same arrays. Skipped (saying
# so) where /usr/bin/python3 lacks msgpack_numpy. The other direction (parpi
# writes, numpy reads) is tests/unit/test_interop.c.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load.bash'
load '/usr/lib/bats/bats-assert/load.bash'

PY=/usr/bin/python3

setup() {
  if ! [ -x "$PY" ] || ! "$PY" -c 'import msgpack, msgpack_numpy, numpy' 2>/dev/null; then
    skip "python interop: $PY with msgpack, msgpack_numpy and numpy is not available"
  fi
}

write_py() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, json, msgpack, msgpack_numpy, numpy as np
out, expect = sys.argv[1], sys.argv[2]
lines = []
with open(out, "wb") as f:
    for k in range(2):
        fr = {"step": k, "batch": {
            "obs": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.25 - 1 + k),
            "rew": np.arange(3, dtype=np.float64) * 0.5,
            "act": np.arange(4, dtype=np.int32) - 2,
            "idx": np.arange(2, dtype=np.int64) * 10**12,
            "pix": np.arange(4, dtype=np.uint8).reshape(2, 2),
            "done": np.array([k == 0, True])},
            "name": "py"}
        f.write(msgpack.packb(fr, default=msgpack_numpy.encode, use_bin_type=True))
        plain = {"step": k, "batch": {n: a.tolist() for n, a in fr["batch"].items()}, "name": "py"}
        lines.append(json.dumps(plain, separators=(",", ":")))
with open(expect, "w") as f:
    f.write("\n".join(lines) + "\n")
PYEOF
}

@test "parpi-cat --json of a Python-written stream equals Python's json.dumps" {
  write_py "$BATS_TEST_TMPDIR/py.mp" "$BATS_TEST_TMPDIR/expect.json"
  run parpi-cat --json "$BATS_TEST_TMPDIR/py.mp"
  assert_success
  assert_output "$(cat "$BATS_TEST_TMPDIR/expect.json")"
}

@test "parpi-cat summary and CSV of a Python-written stream" {
  write_py "$BATS_TEST_TMPDIR/py.mp" "$BATS_TEST_TMPDIR/expect.json"
  run parpi-cat "$BATS_TEST_TMPDIR/py.mp"
  assert_success
  assert_output --regexp 'batch\.obs +tensor f32\[3,4\]  min -1  mean 0\.375  max 1\.75'
  assert_output --regexp 'batch\.done +tensor bool\[2\]  true 2/2'
  run parpi-cat --csv batch.pix --frame 1 "$BATS_TEST_TMPDIR/py.mp"
  assert_output "$(printf 'pix0,pix1\n0,1\n2,3')"
}

@test "a pickled object array from Python is refused, not unpickled" {
  "$PY" -c '
import sys, msgpack, msgpack_numpy, numpy as np
a = np.array([{"x": 1}, None], dtype=object)
open(sys.argv[1], "wb").write(msgpack.packb({"evil": a}, default=msgpack_numpy.encode, use_bin_type=True))
' "$BATS_TEST_TMPDIR/obj.mp"
  run parpi-cat "$BATS_TEST_TMPDIR/obj.mp"
  assert_failure 1
  assert_output --regexp "byte [0-9]+ \(evil\.(type|kind)\)"
}
