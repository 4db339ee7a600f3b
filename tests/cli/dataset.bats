#!/usr/bin/env bats
# parpi-dataset end to end: D4RL files written by h5py (tests/cli/d4rl_h5py.py,
# as D4RL's collect_data.py writes them) imported, exported and read back by
# h5py (names, bool dtype, gzip, shapes, sums), imported again; the
# next_observations policy; bad files refused with the key and row named and
# no output left; usage errors. Tests that need h5py skip, saying so, where
# /usr/bin/python3 lacks it; tests of HDF5 files skip in a build without
# HDF5 (make HDF5=0), whose own behaviour is the last tests'.

load helpers

setup() {
    need_progs parpi-dataset parpi-collect
}

h5py() { /usr/bin/python3 "$ROOT/tests/cli/d4rl_h5py.py" "$@"; }

need_h5py() {
    /usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null ||
        skip "needs /usr/bin/python3 with h5py and numpy (Debian's python3-h5py)"
}

hdf5_built() { ! parpi-dataset --help | grep -q 'HDF5 support was not built'; }

need_hdf5() {
    hdf5_built || skip "this parpi was built without HDF5 (make HDF5=0)"
}

# No output file and no temporary next to it.
no_output() { # no_output PATH
    [ ! -e "$1" ] || { echo "$1 was left" >&2; return 1; }
    ! compgen -G "$1.tmp.*" >/dev/null || { echo "a temporary of $1 was left" >&2; return 1; }
}

# ---- usage ----

@test "dataset: --help names the commands, COMMAND --help its options, --version" {
    run parpi-dataset --help
    assert_success
    assert_line "COMMAND is one of import, export, info, generate. 'parpi-dataset COMMAND --help' lists its options."
    run parpi-dataset import --help
    assert_success
    assert_line --regexp '^  --out FILE +the data set to write'
    assert_line --regexp '^  --env NAME '
    run parpi-dataset info -h
    assert_success
    assert_output --partial "Usage: parpi-dataset info DATASET|FILE.hdf5"
    run parpi-dataset --version
    assert_success
    assert_output --regexp '^parpi-dataset [0-9]'
}

@test "dataset: usage errors exit 2 with the reason" {
    run parpi-dataset
    assert_failure 2
    assert_output --partial "no command: expected one of import, export, info"
    run parpi-dataset imprt x.hdf5
    assert_failure 2
    assert_output --partial "unknown command 'imprt' (did you mean import?)"
    run parpi-dataset import "$T/x.hdf5"
    assert_failure 2
    assert_output --partial "import needs --out FILE"
    run parpi-dataset export --out "$T/x.hdf5"
    assert_failure 2
    assert_output --partial "export needs a file"
    run parpi-dataset info a b
    assert_failure 2
    assert_output --partial "info takes one file, got 'a' and 'b'"
    run parpi-dataset info x --out y
    assert_failure 2
    assert_output --partial "unknown option --out"
}

# ---- h5py -> import -> export -> h5py -> import ----

@test "dataset: an h5py D4RL file imports; the export reads in h5py with D4RL's names, dtypes, gzip, shapes and sums" {
    need_hdf5
    need_h5py
    h5py write "$T/d4rl.hdf5"
    run parpi-dataset import "$T/d4rl.hdf5" --env Hopper-v3 --out "$T/d.ds"
    assert_success
    assert_output "parpi-dataset: wrote $T/d.ds: 50 rows, 9 columns, env Hopper-v3"
    parpi-dataset info "$T/d.ds" >"$T/info1"
    grep -qx 'rows 50' "$T/info1"
    grep -qx 'episodes 3' "$T/info1"
    grep -qx 'truncated_tail 20' "$T/info1"
    grep -qx 'env Hopper-v3' "$T/info1"
    grep -qx 'column infos/qpos f32 \[50,6\]' "$T/info1"
    run parpi-dataset export "$T/d.ds" --out "$T/back.hdf5"
    assert_success
    h5py describe "$T/d4rl.hdf5" >"$T/orig"
    h5py describe "$T/back.hdf5" >"$T/back"
    # every dataset as h5py wrote it: name, dtype (bool for the flags), shape,
    # gzip level 4, sum; the task as the root attribute env
    run diff "$T/orig" <(grep -v '^attrs/env ' "$T/back")
    assert_success
    grep -qx "terminals bool \[50\] gzip:4 1" "$T/back"
    grep -qx "metadata/algorithm |S3 b'SAC'" "$T/back"
    grep -qx "metadata/iteration int32 123" "$T/back"
    grep -qx "attrs/env b'Hopper-v3'" "$T/back"
    # and in again: the same data set
    run parpi-dataset import "$T/back.hdf5" --env Hopper-v3 --out "$T/again.ds"
    assert_success
    parpi-dataset info "$T/again.ds" >"$T/info2"
    run diff "$T/info1" "$T/info2"
    assert_success
    # info reads the HDF5 file as it is: the same figures
    run diff "$T/info1" <(parpi-dataset info "$T/back.hdf5")
    assert_success
}

@test "dataset: without next_observations, rows pair within episodes, terminals stay, timeout and tail rows go" {
    need_hdf5
    need_h5py
    h5py write "$T/nonext.hdf5" --no-next
    run parpi-dataset import "$T/nonext.hdf5" --env Hopper-v3 --out "$T/n.ds"
    assert_success
    assert_line --partial "has no next_observations: paired observations[i+1] within episodes; kept the terminal rows with their own observation as a placeholder next (never bootstrapped) 1; dropped the rows without one (timeout 1, at the end of the data 1); rows now ending their episode as a timeout: 1"
    parpi-dataset info "$T/n.ds" >"$T/info"
    grep -qx 'rows 48' "$T/info"
    grep -qx 'terminals 1' "$T/info"
    grep -qx 'timeouts 1' "$T/info"
    grep -qx 'episodes 3' "$T/info"
    grep -qx 'truncated_tail 19' "$T/info"
    # next_observations[j] is observations[j+1] of the file inside an episode;
    # the terminal row 9 stays with its own observation
    parpi-dataset export "$T/n.ds" --out "$T/n.hdf5"
    /usr/bin/python3 - "$T/nonext.hdf5" "$T/n.hdf5" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
obs = a["observations"][()]
keep = [i for i in range(len(obs)) if i not in (29, 49)]
assert (b["observations"][()] == obs[keep]).all()
assert (b["next_observations"][()] == obs[[i if i == 9 else i + 1 for i in keep]]).all()
assert list(np.nonzero(b["timeouts"][()])[0]) == [28], np.nonzero(b["timeouts"][()])
assert list(np.nonzero(b["terminals"][()])[0]) == [9], np.nonzero(b["terminals"][()])
assert (b["infos/qpos"][()] == a["infos/qpos"][()][keep]).all()
EOF
    # info of the file itself: its 50 rows, no pairing
    run parpi-dataset info "$T/nonext.hdf5"
    assert_success
    assert_line 'rows 50'
    assert_line 'terminals 1'
}

@test "dataset: a file without timeouts reads them as all false, and says so" {
    need_hdf5
    need_h5py
    h5py write "$T/nt.hdf5" --no-timeouts
    run parpi-dataset import "$T/nt.hdf5" --out "$T/nt.ds"
    assert_success
    assert_line "parpi-dataset: $T/nt.hdf5 has no timeouts: read as all false"
    run parpi-dataset info "$T/nt.ds"
    assert_line 'timeouts 0'
}

# ---- bad files ----

@test "dataset: a NaN, the wrong task, a cut file, a text file: exit 1, the key and row named, no output" {
    need_hdf5
    need_h5py
    h5py write "$T/nan.hdf5" --nan 17
    run parpi-dataset import "$T/nan.hdf5" --out "$T/o.ds"
    assert_failure 1
    assert_output "parpi-dataset: $T/nan.hdf5: observations row 17 column 2 is nan"
    no_output "$T/o.ds"
    h5py write "$T/good.hdf5"
    run parpi-dataset import "$T/good.hdf5" --env Walker2d-v3 --out "$T/o.ds"
    assert_failure 1
    assert_output --partial "observations is [50,11], but Walker2d-v3 has observations of 17 dimensions"
    no_output "$T/o.ds"
    head -c 3000 "$T/good.hdf5" >"$T/cut.hdf5"
    run parpi-dataset import "$T/cut.hdf5" --out "$T/o.ds"
    assert_failure 1
    assert_output --partial "$T/cut.hdf5: not a readable HDF5 file, truncated or damaged (HDF5: truncated file"
    no_output "$T/o.ds"
    printf 'observations,actions\n' >"$T/text.hdf5"
    run parpi-dataset import "$T/text.hdf5" --out "$T/o.ds"
    assert_failure 1
    assert_output --partial "is not an HDF5 file"
    no_output "$T/o.ds"
    run parpi-dataset info "$T/cut.hdf5"
    assert_failure 1
    # a missing key, in a file h5py made
    /usr/bin/python3 -c 'import h5py, sys; del h5py.File(sys.argv[1], "a")["terminals"]' "$T/good.hdf5"
    run parpi-dataset import "$T/good.hdf5" --out "$T/o.ds"
    assert_failure 1
    assert_output --partial "no key terminals"
    no_output "$T/o.ds"
}

@test "dataset: an unknown --env is a usage error; --out is tried before any work; an export's failure leaves the old file" {
    need_hdf5
    run parpi-dataset import "$T/x.hdf5" --out "$T/x.ds" --env NoSuchTask
    assert_failure 2
    assert_output --partial "--env NoSuchTask: unknown environment"
    run parpi-dataset import "$T/missing.hdf5" --out "$T/no/such/dir/o.ds"
    assert_failure 1
    assert_output --partial "cannot save to $T/no/such/dir/o.ds"
    need_h5py
    h5py write "$T/good.hdf5"
    parpi-dataset import "$T/good.hdf5" --out "$T/d.ds" 2>/dev/null
    echo old >"$T/out.hdf5"
    run parpi-dataset export "$T/good.hdf5" --out "$T/out.hdf5"
    assert_failure 1
    assert_output --partial "is an HDF5 file: export writes one from a data set"
    [ "$(cat "$T/out.hdf5")" = old ]
    mkdir "$T/dir.hdf5"
    run parpi-dataset export "$T/d.ds" --out "$T/dir.hdf5"
    assert_failure 1
    assert_output --partial "exists and is not a regular file"
    # a temporary left by an export cut short goes at the next start
    touch "$T/new.hdf5.tmp.AbC123"
    parpi-dataset export "$T/d.ds" --out "$T/new.hdf5" 2>/dev/null
    [ ! -e "$T/new.hdf5.tmp.AbC123" ]
    [ -s "$T/new.hdf5" ]
}

# ---- a collector's replay file is a data set ----

@test "dataset: a collector's replay file exports to HDF5 and imports back, with next_observations kept" {
    need_hdf5
    parpi-collect --env Pendulum-v1 --steps 450 --replay "$T/r.mp" --seed 3 --out "$T/stream.mp" 2>/dev/null
    parpi-dataset info "$T/r.mp" >"$T/a"
    grep -qx 'rows 450' "$T/a"
    parpi-dataset export "$T/r.mp" --out "$T/r.hdf5" 2>/dev/null
    parpi-dataset import "$T/r.hdf5" --env Pendulum-v1 --out "$T/r.ds" 2>/dev/null
    run diff <(parpi-dataset info "$T/r.mp" --env Pendulum-v1) <(parpi-dataset info "$T/r.ds")
    assert_success
    grep -qx 'column next_observations f32 \[450,3\]' "$T/a"
}

# ---- a build without HDF5 ----

@test "dataset: built without HDF5, --help says so, and import and export fail with that message" {
    hdf5_built && skip "this parpi has HDF5; 'make OUT=build/nohdf5 HDF5=0 check-cli' runs this test"
    run parpi-dataset --help
    assert_success
    assert_output --partial "HDF5 support was not built into this parpi"
    run parpi-dataset import "$T/x.hdf5" --out "$T/x.ds"
    assert_failure 1
    assert_output --partial "HDF5 support was not built"
    run parpi-dataset export "$T/x.ds" --out "$T/x.hdf5"
    assert_failure 1
    assert_output --partial "HDF5 support was not built"
    printf '\211HDF\r\n\032\n' >"$T/sig.hdf5"
    run parpi-dataset info "$T/sig.hdf5"
    assert_failure 1
    assert_output --partial "HDF5 support was not built"
}
