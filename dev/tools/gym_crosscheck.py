#!/usr/bin/env python3
"""gym_crosscheck.py - developer aid: parpi's MuJoCo envs against Gymnasium's v4.

Optional, not part of `make check`. Needs gymnasium with its MuJoCo extra
(in a virtual environment, e.g. `pip install gymnasium==0.28.1 mujoco==2.3.2`);
prints SKIP and exits 0 when they are missing.

For each v4 task and seed: Gymnasium resets with that seed; we read its
qpos/qvel after the reset and start our env from exactly that state
(build/mjtraj, dev/tools/mjtraj.c, via pp_env_mujoco_set_state); both
then take the same seeded uniform random actions until Gymnasium's episode
terminates (or 1000 steps). We report, per task, the largest differences in
the observation, the reward and the terminated flag, over the first 1, 10,
100 steps and the whole episode, and the first step at which the observation
differs by more than 1e-9 and 1e-6.

Different MuJoCo builds (Debian's libmujoco 2.2.2 in parpi, the pip wheel in
Gymnasium) need not give identical trajectories: contact-rich dynamics
amplify last-bit differences. So "matched" is reported with the tolerance
it holds at, not as pass/fail.

    /usr/bin/python3 -m venv /tmp/gymvenv
    /tmp/gymvenv/bin/pip install gymnasium==0.28.1 mujoco==2.3.2
    make && /tmp/gymvenv/bin/python dev/tools/gym_crosscheck.py [--seeds 3] [--steps 1000]
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAJ = os.path.join(ROOT, "build", "mjtraj")

TASKS = [
    ("HalfCheetah-v4", {}),
    ("Hopper-v4", {}),
    ("Walker2d-v4", {}),
    ("Ant-v4", {}),
    ("Ant-v4", {"use_contact_forces": True}),
    ("Humanoid-v4", {}),
]


def build_traj():
    src = os.path.join(ROOT, "dev", "tools", "mjtraj.c")
    lib = os.path.join(ROOT, "build", "lib", "libparpi.a")
    if not os.path.exists(lib):
        subprocess.run(["make", "-C", ROOT, "-j2"], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(TRAJ) or os.path.getmtime(TRAJ) < max(os.path.getmtime(src),
                                                                 os.path.getmtime(lib)):
        os.makedirs(os.path.dirname(TRAJ), exist_ok=True)
        subprocess.run(["cc", "-O2", "-std=gnu11", "-I" + os.path.join(ROOT, "lib"), "-o", TRAJ,
                        src, lib, "-lmujoco", "-lopenblas", "-lpthread", "-lm"], check=True)


def ours(name, kwargs, qpos, qvel, actions):
    opts = ",".join("%s=%d" % (k, int(v)) if isinstance(v, bool) else "%s=%r" % (k, v)
                    for k, v in kwargs.items()) or "-"
    lines = [name, opts, str(len(qpos)), " ".join(repr(float(x)) for x in qpos),
             str(len(qvel)), " ".join(repr(float(x)) for x in qvel),
             "%d %d" % (len(actions), len(actions[0]) if actions else 0)]
    lines += [" ".join(repr(float(x)) for x in a) for a in actions]
    env = dict(os.environ, PARPI_SHARE=os.path.join(ROOT, "share", "parpi"))
    out = subprocess.run([TRAJ], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         env=env, check=True).stdout.splitlines()
    reset = [float(x) for x in out[0].split()[2:]]
    steps = []
    for line in out[1:]:
        f = line.split()
        steps.append((float(f[1]), int(f[2]), [float(x) for x in f[3:]]))
    return reset, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the uniform random actions (small: longer episodes)")
    args = ap.parse_args()
    try:
        import gymnasium as gym
        import mujoco
        import numpy as np
    except ImportError as e:
        print("SKIP: gymnasium with MuJoCo not importable (%s)" % e)
        return 0
    build_traj()
    print("# parpi (Debian libmujoco 2.2.2) vs Gymnasium %s v4 (mujoco wheel %s), "
          "%d seeds, up to %d steps, actions %g x U(low, high)" % (
              gym.__version__, mujoco.__version__, args.seeds, args.steps, args.scale))
    print("%-30s %6s %10s %10s %10s %10s %10s %8s %8s %6s" % (
        "task", "steps", "reset obs", "obs@1", "obs@10", "obs@100", "obs all", "rew@10",
        "rew all", "term"))
    summary = []
    for name, kwargs in TASKS:
        label = name + ("(" + ",".join("%s=%s" % kv for kv in kwargs.items()) + ")"
                        if kwargs else "")
        agg = {"steps": 0, "reset": 0.0, "obs": {}, "rew": {}, "term_mismatch": 0,
               "first9": [], "first6": []}
        for seed in range(args.seeds):
            env = gym.make(name, **kwargs)
            obs0, _ = env.reset(seed=seed)
            data = env.unwrapped.data
            qpos, qvel = data.qpos.copy(), data.qvel.copy()
            rng = np.random.default_rng(1000 + seed)
            low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(
                np.float64)
            acts, gobs, grew, gterm = [], [], [], []
            for t in range(args.steps):
                a = args.scale * rng.uniform(low, high)
                o, r, term, trunc, _ = env.step(a)
                acts.append(a)
                gobs.append(o)
                grew.append(r)
                gterm.append(bool(term))
                if term or trunc:
                    break
            env.close()
            reset, steps = ours(name, kwargs, qpos, qvel, acts)
            agg["steps"] += len(steps)
            agg["reset"] = max(agg["reset"], float(np.max(np.abs(np.array(reset) - obs0))))
            first9 = first6 = None
            for t, (r, term, o) in enumerate(steps):
                do = float(np.max(np.abs(np.array(o) - gobs[t])))
                dr = abs(r - grew[t])
                for k in (1, 10, 100, 10 ** 9):
                    if t < k:
                        agg["obs"][k] = max(agg["obs"].get(k, 0.0), do)
                        agg["rew"][k] = max(agg["rew"].get(k, 0.0), dr)
                if bool(term) != gterm[t]:
                    agg["term_mismatch"] += 1
                if first9 is None and do > 1e-9:
                    first9 = t + 1
                if first6 is None and do > 1e-6:
                    first6 = t + 1
            agg["first9"].append(first9)
            agg["first6"].append(first6)
        o, rw = agg["obs"], agg["rew"]
        print("%-30s %6d %10.2g %10.2g %10.2g %10.2g %10.2g %8.2g %8.2g %6d" % (
            label, agg["steps"], agg["reset"], o.get(1, 0), o.get(10, 0), o.get(100, 0),
            o.get(10 ** 9, 0), rw.get(10, 0), rw.get(10 ** 9, 0), agg["term_mismatch"]))
        print("%-30s first step with obs diff > 1e-9: %s; > 1e-6: %s (per seed; None = never)" % (
            "", agg["first9"], agg["first6"]))
        summary.append((label, agg))
    print("# columns: max |ours - gymnasium| of the obs after reset, over the first 1/10/100 "
          "steps and all; reward over 10 and all; term = steps whose terminated flag differs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
