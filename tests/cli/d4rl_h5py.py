#!/usr/bin/python3
"""d4rl_h5py.py - D4RL-layout HDF5 files written and read by h5py, for
tests/cli/dataset.bats (parpi-dataset import and export against h5py).

  d4rl_h5py.py write FILE [--rows N] [--no-next] [--no-timeouts] [--nan ROW]
      a file as D4RL's collect_data.py writes one (h5py, compression='gzip'):
      observations [N,11], next_observations (the next row's observation
      within an episode), actions [N,3], rewards [N], terminals and timeouts
      (numpy bool), infos/qpos [N,6], infos/qvel [N,6],
      infos/action_log_probs [N], and metadata/ (algorithm np.string_('SAC'),
      iteration int32, policy/nonlinearity, policy/output_distribution,
      policy/fc0/weight and bias). Row 9 is terminal, row 29 a timeout, and
      the rows after it are a tail with neither flag. --nan ROW puts a NaN
      at observations[ROW, 2].
  d4rl_h5py.py describe FILE
      one line per dataset, sorted: NAME DTYPE SHAPE COMPRESSION SUM (the sum
      in float64; a bool's count of true), or NAME DTYPE VALUE for a scalar.

Needs Debian's /usr/bin/python3 with h5py (python3-h5py) and numpy.
"""
import sys

import h5py
import numpy as np

O, A, NQ = 11, 3, 6


def write(path, rows=50, next_obs=True, timeouts=True, nan_row=None):
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((rows, O)).astype(np.float32)
    term = np.zeros(rows, dtype=np.bool_)
    tout = np.zeros(rows, dtype=np.bool_)
    term[9] = True
    tout[29] = True
    nxt = np.empty_like(obs)
    nxt[:-1] = obs[1:]
    ends = term | tout
    # an episode's last row has its own next state (not the next row's)
    nxt[ends] = rng.standard_normal((int(ends.sum()), O)).astype(np.float32)
    nxt[-1] = rng.standard_normal(O).astype(np.float32)
    if nan_row is not None:
        obs[nan_row, 2] = np.nan
    data = {
        "observations": obs,
        "actions": rng.uniform(-1, 1, (rows, A)).astype(np.float32),
        "rewards": rng.standard_normal(rows).astype(np.float32),
        "terminals": term,
        "infos/qpos": rng.standard_normal((rows, NQ)).astype(np.float32),
        "infos/qvel": rng.standard_normal((rows, NQ)).astype(np.float32),
        "infos/action_log_probs": rng.standard_normal(rows).astype(np.float32),
    }
    if next_obs:
        data["next_observations"] = nxt
    if timeouts:
        data["timeouts"] = tout
    with h5py.File(path, "w") as f:
        for k, v in data.items():
            f.create_dataset(k, data=v, compression="gzip")
        f["metadata/algorithm"] = np.string_("SAC")
        f["metadata/iteration"] = np.int32(123)
        f["metadata/policy/nonlinearity"] = np.string_("relu")
        f["metadata/policy/output_distribution"] = np.string_("tanh_gaussian")
        f["metadata/policy/fc0/weight"] = rng.standard_normal((4, O)).astype(np.float32)
        f["metadata/policy/fc0/bias"] = np.zeros(4, dtype=np.float32)


def describe(path):
    lines = []

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.shape == ():
            lines.append(f"{name} {obj.dtype} {obj[()]!r}")
            return
        v = obj[()]
        s = int(v.sum()) if v.dtype == np.bool_ else float(v.astype(np.float64).sum())
        comp = f"{obj.compression}:{obj.compression_opts}" if obj.compression else "none"
        lines.append(f"{name} {obj.dtype} {list(obj.shape)} {comp} {s!r}")

    with h5py.File(path, "r") as f:
        f.visititems(visit)
        if "env" in f.attrs:
            lines.append(f"attrs/env {f.attrs['env']!r}")
    print("\n".join(sorted(lines)))


def main(argv):
    if len(argv) >= 3 and argv[1] == "write":
        args = argv[3:]
        kw = {}
        while args:
            a = args.pop(0)
            if a == "--rows":
                kw["rows"] = int(args.pop(0))
            elif a == "--no-next":
                kw["next_obs"] = False
            elif a == "--no-timeouts":
                kw["timeouts"] = False
            elif a == "--nan":
                kw["nan_row"] = int(args.pop(0))
            else:
                sys.exit(f"d4rl_h5py.py: unknown option {a}")
        write(argv[2], **kw)
    elif len(argv) == 3 and argv[1] == "describe":
        describe(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
