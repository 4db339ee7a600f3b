#!/usr/bin/python3
"""Write the small frame streams tests/cli/critic.bats and policy.bats read.

Run with Debian's python3 (msgpack + msgpack_numpy): /usr/bin/python3 make-stage-fixtures.py
The outputs are committed, so the tests themselves need no Python.
  stage-frames.mp     3 frames: B=4, obs 3, act 2; batch, policy (gaussian-tanh,
                      hidden 8, layers 2), alpha, q (twin-mlp, hidden 8, layers 2),
                      disc (jsd, hidden 8, layers 2); the middle frame has no batch
  stage-norew.mp      1 frame as above without batch.rew
  stage-wideobs.mp    2 frames: the second has obs 4 wide (a shape mismatch)
"""
import os
import msgpack
import msgpack_numpy
import numpy as np

B, O, A, H, L = 4, 3, 2, 8, 2
rng = np.random.default_rng(0)


def mlp_size(inp, hidden, layers, out, members=1):
    widths = [inp] + [hidden] * layers + [out]
    return sum(members * (widths[i] * widths[i + 1] + widths[i + 1]) for i in range(len(widths) - 1))


def f32(*shape, scale=0.3):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def netmap(arch, n, **extra):
    m = {"obs_dim": O, "act_dim": A, "hidden": H, "layers": L, "params": f32(n)}
    if arch:
        m["arch"] = arch
    m.update(extra)
    return m


def frame(step, obs_dim=O, batch=True, rew=True):
    f = {"step": step, "alpha": 0.2,
         "policy": netmap("gaussian-tanh", mlp_size(O, H, L, 2 * A)),
         "q": netmap("twin-mlp", mlp_size(O + A, H, L, 1, members=2)),
         "disc": netmap(None, mlp_size(O + A, H, L, 1), divergence="jsd", spectral=False)}
    if batch:
        b = {"obs": f32(B, obs_dim, scale=1), "act": np.tanh(f32(B, A, scale=1)),
             "rew": f32(B, scale=1), "next_obs": f32(B, obs_dim, scale=1),
             "done": np.array([0, 0, 1, 0], dtype=np.float32)}
        if not rew:
            del b["rew"]
        f["batch"] = b
    return f


def write(name, frames):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, name), "wb") as out:
        for fr in frames:
            out.write(msgpack.packb(fr, default=msgpack_numpy.encode, use_bin_type=True))


write("stage-frames.mp", [frame(1), frame(2, batch=False), frame(3)])
write("stage-norew.mp", [frame(1, rew=False)])
write("stage-wideobs.mp", [frame(1), frame(2, obs_dim=4)])
