#!/usr/bin/python3
"""Write the seed corpus of tests/fuzz/corpus (already committed; rerun to
regenerate). Names say what each file is: ok-* decodes as one frame, stream-*
reads as a stream of several frames, bad-* must be refused with a message.
Needs python3 with msgpack and numpy (Debian: python3-msgpack python3-numpy)."""
import os, struct
import msgpack
import numpy as np

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(here, exist_ok=True)

def tensor(a):
    # msgpack-numpy's layout, bin keys
    return {b"nd": True, b"type": a.dtype.str, b"kind": b"", b"shape": list(a.shape), b"data": a.tobytes()}

def put(name, data):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)

pk = lambda o: msgpack.packb(o, use_bin_type=True)

put("ok-empty-map.mp", b"\x80")
put("ok-scalars.mp", pk({"step": 12, "alpha": 0.2, "name": "hopper", "done": False, "big": 2**64 - 1, "neg": -(2**40)}))
dt = [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]
put("ok-tensors-all-dtypes.mp", pk({"t%d" % i: tensor((np.arange(6) % 3).astype(t).reshape(2, 3)) for i, t in enumerate(dt)}))
put("ok-nested-metrics.mp", pk({"metrics": {"critic": {"q_loss": 0.5, "q_mean": 3.0}, "policy": {"entropy": -1.0}},
                                 "particles": {"uK": tensor(np.ones((4, 2), np.float32))}}))
put("ok-numpy-scalar.mp", pk({"alpha": {b"nd": False, b"type": "<f8", b"data": struct.pack("<d", 0.25)}}))
put("ok-ext-bin-array.mp", pk({"blob": b"\x00\x01", "list": [1, "two", [3.0, None], {"k": True}],
                                "ext": msgpack.ExtType(5, b"abc"), "empty": tensor(np.zeros((0, 3), np.float32)),
                                "scalar0d": tensor(np.array(1.5))}))
put("stream-3-frames.mp", b"".join(pk({"step": i, "x": tensor(np.full(3, i, np.float32))}) for i in range(3)))
good = pk({"step": 7, "batch": {"obs": tensor(np.arange(3, dtype=np.float32))}})
put("bad-truncated.mp", good[:-5])
put("bad-trailing.mp", good + b"\x01\x02")
put("bad-not-a-map.mp", pk([1, 2, 3]))
put("bad-lying-str.mp", b"\x81\xa4name\xdb\x3b\x9a\xca\x00abc")
put("bad-lying-array.mp", b"\x81\xa4list\xdd\xff\xff\xff\xff\x01\x02")
put("bad-lying-map.mp", b"\xdf\xff\xff\xff\xff\xa1k")
put("bad-deep-nesting.mp", b"\x81\xa1a" * 40 + b"\xc0")
put("bad-int-key.mp", pk({1: 2}))
put("bad-bin-key.mp", pk({b"step": 1}))
put("bad-kind-O.mp", pk({"x": {b"nd": True, b"type": "|O", b"kind": b"O", b"shape": [1], b"data": b"\x80\x04N."}}))
put("bad-shape-overflow.mp", pk({"x": {b"nd": True, b"type": "<f4", b"kind": b"", b"shape": [2**40, 2**40], b"data": b"\0" * 4}}))
put("bad-9-dims.mp", pk({"x": {b"nd": True, b"type": "<f4", b"kind": b"", b"shape": [1] * 9, b"data": b"\0" * 4}}))
put("bad-negative-dim.mp", pk({"x": {b"nd": True, b"type": "<f4", b"kind": b"", b"shape": [-1, 3], b"data": b""}}))
put("bad-data-length.mp", pk({"x": tensor(np.zeros(3, np.float32)) | {b"shape": [4]}}))
put("bad-c1.mp", b"\x81\xa1x\xc1")
# found by `make fuzz`: the target's own setter path ran into an int
put("ok-fuzz-key-is-int.mp", pk({"fuzz": 2}))
