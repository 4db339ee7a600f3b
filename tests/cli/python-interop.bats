#!/usr/bin/env bats
# parpi-cat reads what Python's msgpack + msgpack_numpy write: the JSON it
# prints equals Python's own json.dumps of the same arrays. Skipped (saying
# so) where /usr/bin/python3 lacks msgpack_numpy. The other direction (parpi
# writes, numpy reads) is tests/unit/test_interop.c.

load helpers

PY=/usr/bin/python3

setup() {
    need_python_msgpack # msgpack_numpy brings numpy
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
    write_py "$T/py.mp" "$T/expect.json"
    run parpi-cat --json "$T/py.mp"
    assert_success
    assert_output "$(cat "$T/expect.json")"
}

@test "parpi-cat summary and CSV of a Python-written stream" {
    write_py "$T/py.mp" "$T/expect.json"
    run parpi-cat "$T/py.mp"
    assert_success
    assert_output --regexp 'batch\.obs +tensor f32\[3,4\]  min -1  mean 0\.375  max 1\.75'
    assert_output --regexp 'batch\.done +tensor bool\[2\]  true 2/2'
    run parpi-cat --csv batch.pix --frame 1 "$T/py.mp"
    assert_output "$(printf 'pix0,pix1\n0,1\n2,3')"
}

@test "a pickled object array from Python is refused, not unpickled" {
    "$PY" -c '
import sys, msgpack, msgpack_numpy, numpy as np
a = np.array([{"x": 1}, None], dtype=object)
open(sys.argv[1], "wb").write(msgpack.packb({"evil": a}, default=msgpack_numpy.encode, use_bin_type=True))
' "$T/obj.mp"
    run parpi-cat "$T/obj.mp"
    assert_failure 1
    assert_output --regexp "byte [0-9]+ \(evil\.(type|kind)\)"
}
