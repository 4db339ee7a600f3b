#!/usr/bin/python3
"""stage_frames.py - the one generator of stage frames for the CLI tests.

  stage_frames.py fixtures    rewrite the committed tests/cli/data/stage-*.mp
                              (critic.bats and policy.bats read them, so they
                              need no Python):
      stage-frames.mp   3 frames: B=4, obs 3, act 2; batch, policy (gaussian-tanh,
                        hidden 8, layers 2), alpha, q (twin-mlp, hidden 8, layers 2),
                        disc (jsd, hidden 8, layers 2); the middle frame has no batch
      stage-norew.mp    1 frame as above without batch.rew
      stage-wideobs.mp  2 frames: the second has obs 4 wide (a shape mismatch)
  stage_frames.py ring N [D]  N frames {step, batch, policy, q, alpha} (random nets, B=16);
                              with D also penalty = f32[16] of D (BRAC's D(s'), as
                              parpi-dual writes it; the other fields the same as without)
  stage_frames.py particles N N frames {step, batch, particles {obs, u0, uK, q0, qK}}
  stage_frames.py offline N   N frames {step, batch, q, dual} (dual: BRAC's KL dual critic,
                              a plain MLP map with divergence "kl"; random nets, B=16)
  stage_frames.py show FILE   one line per frame: the shapes of particles/disc and metrics
  stage_frames.py case NAME   one frame as in stage-frames.mp (B=4, obs 3, act 2), with a
                              disc map for spectral normalisation (lipschitz sn, sn of unit
                              vectors), edited as NAME says (CASES below; "good": unedited);
                              stage_checks.bats feeds them to the stages

ring, particles and show run during langevin.bats and discrim.bats, which skip
without Python. Needs Debian's /usr/bin/python3 with msgpack and msgpack_numpy.
Every net is sized by mlp_size, the layout of lib/nn/mlp.h.
"""
import os
import sys

import msgpack
import msgpack_numpy
import numpy as np

O, A, H, L = 3, 2, 8, 2


def mlp_size(inp, hidden, layers, out, members=1):
    """Floats in a pp_mlp blob: per layer W [in, out] and b [out], per member."""
    widths = [inp] + [hidden] * layers + [out]
    return sum(members * (widths[i] * widths[i + 1] + widths[i + 1]) for i in range(len(widths) - 1))


def f32(rng, *shape, scale=0.3):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def netmap(rng, arch, n, **extra):
    """A net's map as the stages write it, with n random parameters."""
    m = {"obs_dim": O, "act_dim": A, "hidden": H, "layers": L, "params": f32(rng, n)}
    if arch:
        m["arch"] = arch
    m.update(extra)
    return m


def policy(rng):
    return netmap(rng, "gaussian-tanh", mlp_size(O, H, L, 2 * A))


def twin_q(rng):
    return netmap(rng, "twin-mlp", mlp_size(O + A, H, L, 1, members=2))


def batch(rng, B, obs_dim=O, rew=True, done=None):
    b = {"obs": f32(rng, B, obs_dim, scale=1), "act": np.tanh(f32(rng, B, A, scale=1)),
         "rew": f32(rng, B, scale=1), "next_obs": f32(rng, B, obs_dim, scale=1),
         "done": np.zeros(B, np.float32) if done is None else np.array(done, dtype=np.float32)}
    if not rew:
        del b["rew"]
    return b


def pack(fr):
    return msgpack.packb(fr, default=msgpack_numpy.encode, use_bin_type=True)


def fixtures():
    rng = np.random.default_rng(0)

    def frame(step, obs_dim=O, with_batch=True, rew=True):
        f = {"step": step, "alpha": 0.2, "policy": policy(rng), "q": twin_q(rng),
             "disc": netmap(rng, None, mlp_size(O + A, H, L, 1), divergence="jsd", spectral=False)}
        if with_batch:
            f["batch"] = batch(rng, 4, obs_dim, rew, done=[0, 0, 1, 0])
        return f

    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    for name, frames in (("stage-frames.mp", [frame(1), frame(2, with_batch=False), frame(3)]),
                         ("stage-norew.mp", [frame(1, rew=False)]),
                         ("stage-wideobs.mp", [frame(1), frame(2, obs_dim=4)])):
        with open(os.path.join(data, name), "wb") as out:
            for fr in frames:
                out.write(pack(fr))


def stream(kind, n, penalty=None):
    rng = np.random.default_rng(1)
    B = 16
    for i in range(n):
        fr = {"step": 5000 + i, "batch": batch(rng, B)}
        if kind == "ring":
            fr["policy"] = policy(rng)
            fr["q"] = twin_q(rng)
            fr["alpha"] = 0.2
            if penalty is not None:
                fr["penalty"] = np.full(B, penalty, np.float32)
        elif kind == "offline":
            fr["q"] = twin_q(rng)
            fr["dual"] = netmap(rng, None, mlp_size(O + A, H, L, 1), divergence="kl")
        else:
            u0 = f32(rng, B, A, scale=1)
            fr["particles"] = {"obs": fr["batch"]["obs"], "u0": u0, "uK": (u0 + 0.5).astype("<f4"),
                               "q0": np.zeros(B, "<f4"), "qK": np.ones(B, "<f4")}
        sys.stdout.buffer.write(pack(fr))


def sn_state(rng, inp, hidden, layers, out):
    """pp_mlp_sn_get's layout: per layer u [out], then v [in], unit vectors."""
    widths = [inp] + [hidden] * layers + [out]
    parts = []
    for i in range(len(widths) - 1):
        for n in (widths[i + 1], widths[i]):
            x = rng.standard_normal(n)
            parts.append(x / np.linalg.norm(x))
    return np.concatenate(parts).astype(np.float32)


def with_value(arr, index, value):
    a = np.array(arr, dtype=np.float32, copy=True)
    a[index] = value
    return a


# name -> (what it edits in the frame)
CASES = {
    "good": lambda fr, rng: None,
    "done-half": lambda fr, rng: fr["batch"].update(done=with_value(fr["batch"]["done"], 1, 0.5)),
    "done-seven": lambda fr, rng: fr["batch"].update(done=with_value(fr["batch"]["done"], 2, 7)),
    "obs-nan": lambda fr, rng: fr["batch"].update(obs=with_value(fr["batch"]["obs"], (1, 2), np.nan)),
    "act-nan": lambda fr, rng: fr["batch"].update(act=with_value(fr["batch"]["act"], (0, 1), np.nan)),
    "rew-inf": lambda fr, rng: fr["batch"].update(rew=with_value(fr["batch"]["rew"], 3, np.inf)),
    "next-obs-inf": lambda fr, rng: fr["batch"].update(
        next_obs=with_value(fr["batch"]["next_obs"], (2, 0), -np.inf)),
    "policy-nan": lambda fr, rng: fr["policy"].update(params=with_value(fr["policy"]["params"], 5, np.nan)),
    "policy-obs4": lambda fr, rng: fr.update(
        policy=dict(fr["policy"], obs_dim=4, params=f32(rng, mlp_size(4, H, L, 2 * A)))),
    "q-inf": lambda fr, rng: fr["q"].update(params=with_value(fr["q"]["params"], 0, np.inf)),
    "q-act3": lambda fr, rng: fr.update(
        q=dict(fr["q"], act_dim=3, params=f32(rng, mlp_size(O + 3, H, L, 1, members=2)))),
    "disc-nan": lambda fr, rng: fr["disc"].update(params=with_value(fr["disc"]["params"], 3, np.nan)),
    "disc-sn-nan": lambda fr, rng: fr["disc"].update(sn=np.full_like(fr["disc"]["sn"], np.nan)),
    "disc-sn-inf": lambda fr, rng: fr["disc"].update(sn=with_value(fr["disc"]["sn"], 0, np.inf)),
    "disc-sn-zero": lambda fr, rng: fr["disc"].update(sn=np.zeros_like(fr["disc"]["sn"])),
    "disc-sn-small": lambda fr, rng: fr["disc"].update(sn=(fr["disc"]["sn"] * 1e-20).astype(np.float32)),
    "disc-arch": lambda fr, rng: fr["disc"].update(arch="resnet-9000"),
    "disc-lipschitz": lambda fr, rng: fr["disc"].update(lipschitz="magic"),
    "disc-spectral-flipped": lambda fr, rng: fr["disc"].update(spectral=False),
    "penalty-nan": lambda fr, rng: fr.update(penalty=with_value(np.ones(4, np.float32), 1, np.nan)),
    "penalty-short": lambda fr, rng: fr.update(penalty=np.ones(3, np.float32)),
    "disc-act3": lambda fr, rng: fr.update(
        disc=dict(fr["disc"], act_dim=3, params=f32(rng, mlp_size(O + 3, H, L, 1)))),
}


def case(name):
    if name not in CASES:
        sys.exit("unknown case %s: %s" % (name, " ".join(sorted(CASES))))
    rng = np.random.default_rng(2)
    fr = {"step": 1, "alpha": 0.2, "policy": policy(rng), "q": twin_q(rng),
          "disc": netmap(rng, None, mlp_size(O + A, H, L, 1), divergence="wd", lipschitz="sn",
                         spectral=True, sn=sn_state(rng, O + A, H, L, 1)),
          "batch": batch(rng, 4, done=[0, 0, 1, 0])}
    CASES[name](fr, rng)
    sys.stdout.buffer.write(pack(fr))


def show(path):
    with open(path, "rb") as f:
        for fr in msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False):
            parts = []
            for k in ("particles", "disc", "dual"):
                if k in fr:
                    parts.append(k + "{" + ",".join(
                        "%s:%s" % (n, list(v.shape) if hasattr(v, "shape") else v)
                        for n, v in sorted(fr[k].items())) + "}")
            if "penalty" in fr:
                parts.append("penalty:%s:%s" % (fr["penalty"].dtype, list(fr["penalty"].shape)))
            for k, v in sorted(fr.get("metrics", {}).items()):
                parts.append(k + "{" + ",".join(
                    "%s=%.6g" % (n, x) for n, x in sorted(v.items())) + "}")
            print(" ".join(parts))


def main():
    if sys.argv[1:2] == ["fixtures"]:
        fixtures()
    elif sys.argv[1:2] == ["show"]:
        show(sys.argv[2])
    elif sys.argv[1:2] == ["case"] and len(sys.argv) == 3:
        case(sys.argv[2])
    elif sys.argv[1:2] == ["ring"] and len(sys.argv) == 4:
        stream("ring", int(sys.argv[2]), float(sys.argv[3]))
    elif sys.argv[1:2] in (["ring"], ["particles"], ["offline"]):
        stream(sys.argv[1], int(sys.argv[2]))
    else:
        sys.exit(__doc__)


main()
