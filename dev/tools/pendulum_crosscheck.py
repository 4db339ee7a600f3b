#!/usr/bin/env python3
"""Compare parpi's Pendulum-v1 with Gymnasium's, step by step.

usage: pendulum_crosscheck.py TEST_ENV_BASIC_BINARY SEED...

For each seed, the parpi unit-test binary prints a trajectory
(--trace-pendulum SEED): the reset observation, then per step the action,
observation, reward and flags. Gymnasium's env is put in the same start
state (th = atan2(sin, cos), thdot) and given the same actions; the
observations (Gymnasium's are float32), rewards, terminated and truncated
(from the registered TimeLimit) must agree. Exit 0 on agreement, 1 on a
mismatch, 77 if gymnasium cannot be imported.
"""
import math
import subprocess
import sys
import warnings

try:
    import numpy as np
    import gymnasium as gym
except ImportError as e:  # the caller skips on 77
    print(f"gymnasium not importable: {e}")
    sys.exit(77)

OBS_TOL = 2e-6      # Gymnasium's observations are float32
STATE_TOL = 1e-9    # its internal state is float64
REWARD_TOL = 1e-9


def check(binary, seed):
    out = subprocess.run([binary, "--trace-pendulum", str(seed)], check=True,
                         capture_output=True, text=True).stdout.split("\n")
    head = out[0].split()
    assert head[0] == "reset", head
    c, s, thdot = map(float, head[1:4])
    warnings.simplefilter("ignore")
    env = gym.make("Pendulum-v1")
    env.reset(seed=seed)
    env.unwrapped.state = np.array([math.atan2(s, c), thdot])
    worst = {"obs": 0.0, "state": 0.0, "reward": 0.0}
    flags_ok = True
    nsteps = 0
    for line in out[1:]:
        if not line:
            continue
        f = line.split()
        a = float(f[1])
        obs = np.array([float(x) for x in f[2:5]])
        rew, term, trunc = float(f[5]), int(f[6]), int(f[7])
        gobs, grew, gterm, gtrunc, _ = env.step(np.array([a]))
        st = env.unwrapped.state
        worst["obs"] = max(worst["obs"], float(np.max(np.abs(gobs - obs))))
        gstate = np.array([math.cos(st[0]), math.sin(st[0]), st[1]])
        worst["state"] = max(worst["state"], float(np.max(np.abs(gstate - obs))))
        worst["reward"] = max(worst["reward"], abs(float(grew) - rew))
        flags_ok &= bool(gterm) == bool(term) and bool(gtrunc) == bool(trunc)
        nsteps += 1
    ok = (worst["obs"] <= OBS_TOL and worst["state"] <= STATE_TOL
          and worst["reward"] <= REWARD_TOL and flags_ok and nsteps == 200)
    print(f"seed {seed}: {nsteps} steps, max |obs - gym obs| {worst['obs']:.3g}, "
          f"|obs - gym state| {worst['state']:.3g}, |reward diff| {worst['reward']:.3g}, "
          f"flags {'agree' if flags_ok else 'DIFFER'} -> {'ok' if ok else 'MISMATCH'}")
    return ok


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    print(f"gymnasium {gym.__version__}")
    results = [check(sys.argv[1], int(seed)) for seed in sys.argv[2:]]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
