#!/usr/bin/python3
"""stage_frames.py - write test frames for the langevin and discrim bats tests.

  stage_frames.py ring N      N frames {step, batch, policy, q, alpha} (random nets)
  stage_frames.py particles N N frames {step, batch, particles {obs, u0, uK, q0, qK}}
  stage_frames.py show FILE   one line per frame: the shapes of particles/disc and metrics
Needs msgpack and msgpack_numpy (the bats tests skip without them).
"""
import sys

import msgpack
import msgpack_numpy
import numpy as np

O, A, B, H, L = 3, 2, 16, 8, 2


def mlp_count(widths, members=1):
    n = 0
    for i in range(len(widths) - 1):
        n += members * (widths[i] * widths[i + 1] + widths[i + 1])
    return n


def net(arch, widths, members, rng, scale=0.3):
    return {"arch": arch, "obs_dim": O, "act_dim": A, "hidden": H, "layers": L,
            "params": (scale * rng.standard_normal(mlp_count(widths, members))).astype("<f4")}


def batch(rng):
    return {"obs": rng.standard_normal((B, O)).astype("<f4"),
            "act": np.tanh(rng.standard_normal((B, A))).astype("<f4"),
            "rew": rng.standard_normal(B).astype("<f4"),
            "next_obs": rng.standard_normal((B, O)).astype("<f4"),
            "done": np.zeros(B, "<f4")}


def main():
    rng = np.random.default_rng(1)
    out = sys.stdout.buffer
    if sys.argv[1] == "show":
        with open(sys.argv[2], "rb") as f:
            for fr in msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False):
                parts = []
                for k in ("particles", "disc"):
                    if k in fr:
                        parts.append(k + "{" + ",".join(
                            "%s:%s" % (n, list(v.shape) if hasattr(v, "shape") else v)
                            for n, v in sorted(fr[k].items())) + "}")
                for k, v in sorted(fr.get("metrics", {}).items()):
                    parts.append(k + "{" + ",".join(
                        "%s=%.6g" % (n, x) for n, x in sorted(v.items())) + "}")
                print(" ".join(parts))
        return
    n = int(sys.argv[2])
    for i in range(n):
        fr = {"step": 5000 + i}
        if sys.argv[1] == "ring":
            fr["batch"] = batch(rng)
            fr["policy"] = net("gaussian-tanh", [O] + [H] * L + [2 * A], 1, rng)
            fr["q"] = net("twin-mlp", [O + A] + [H] * L + [1], 2, rng)
            fr["alpha"] = 0.2
        else:
            bt = batch(rng)
            fr["batch"] = bt
            u0 = rng.standard_normal((B, A)).astype("<f4")
            fr["particles"] = {"obs": bt["obs"], "u0": u0, "uK": (u0 + 0.5).astype("<f4"),
                               "q0": np.zeros(B, "<f4"), "qK": np.ones(B, "<f4")}
        out.write(msgpack.packb(fr, default=msgpack_numpy.encode, use_bin_type=True))


main()
