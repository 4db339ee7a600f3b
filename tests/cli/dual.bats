#!/usr/bin/env bats
# parpi-dual from the command line: the required --prior, usage errors,
# missing fields, a real pass over ring frames (stage_frames.py ring: B=16,
# obs 3, act 2, a gaussian-tanh policy), and a checkpoint resumed bit for bit.

load helpers

setup() {
    need_progs parpi-dual
}

# prior.mp: a frame holding only the first ring frame's policy map (obs 3,
# act 2); prior-wide.mp: a gaussian-tanh policy for obs 4, act 2.
make_priors() {
    /usr/bin/python3 - "$T" <<'PY'
import sys, msgpack, msgpack_numpy, numpy as np
d = sys.argv[1]
fr = next(msgpack.Unpacker(open(d + "/ring.mp", "rb"), object_hook=msgpack_numpy.decode, raw=False))
pack = lambda x: msgpack.packb(x, default=msgpack_numpy.encode, use_bin_type=True)
open(d + "/prior.mp", "wb").write(pack({"policy": fr["policy"]}))
O, A, H, L = 4, 2, 8, 2
w = [O] + [H] * L + [2 * A]
n = sum(w[i] * w[i + 1] + w[i + 1] for i in range(len(w) - 1))
wide = {"arch": "gaussian-tanh", "obs_dim": O, "act_dim": A, "hidden": H, "layers": L,
        "params": (0.3 * np.random.default_rng(0).standard_normal(n)).astype(np.float32)}
open(d + "/prior-wide.mp", "wb").write(pack({"policy": wide}))
PY
}

@test "dual: --help lists the stage's options" {
    run parpi-dual --help
    assert_success
    assert_output --partial "--prior FILE"
    assert_output --partial "--iters N"
    assert_output --partial "--gp-weight W"
    assert_output --partial "(default 1e-3)"
}

@test "dual: no --prior exits 2 and says why it is needed" {
    run parpi-dual </dev/null
    assert_equal "$status" 2
    assert_output --partial "--prior FILE is required"
    assert_output --partial "pi_beta"
}

@test "dual: a missing --prior file exits 2 and names it" {
    run parpi-dual --prior "$T/nope.ckpt" </dev/null
    assert_equal "$status" 2
    assert_output --partial "--prior: "
    assert_output --partial "nope.ckpt"
}

@test "dual: a prior of other sizes is refused, at start-up and at the first batch" {
    need_python_msgpack
    stage_frames ring 2 >"$T/ring.mp"
    make_priors
    run parpi-dual --prior "$T/prior-wide.mp" --obs-dim 3 --act-dim 2 </dev/null
    assert_equal "$status" 2
    assert_output --partial "is a policy for obs 4, act 2; --obs-dim/--act-dim say is obs 3, act 2"
    run parpi-dual --prior "$T/prior-wide.mp" --in "$T/ring.mp" --out "$T/out.mp"
    assert_equal "$status" 1
    assert_output --partial "is a policy for obs 4, act 2; the batch is obs 3, act 2"
}

@test "dual: a warm-up frame (no batch) passes through" {
    need_python_msgpack
    stage_frames ring 1 >"$T/ring.mp"
    make_priors
    printf '\x81\xa4step\x05' >"$T/f.mp"
    run parpi-dual --prior "$T/prior.mp" --in "$T/f.mp" --out "$T/out.mp"
    assert_success
    [ -s "$T/out.mp" ]
    run grep -c -e penalty -e divergence "$T/out.mp"
    assert_output "0"
}

@test "dual: a batch without next_obs, or a frame without policy, exits 1 naming the field" {
    need_python_msgpack
    stage_frames ring 1 >"$T/ring.mp"
    make_priors
    /usr/bin/python3 - "$T" <<'PY'
import sys, msgpack, msgpack_numpy
d = sys.argv[1]
fr = next(msgpack.Unpacker(open(d + "/ring.mp", "rb"), object_hook=msgpack_numpy.decode, raw=False))
pack = lambda x: msgpack.packb(x, default=msgpack_numpy.encode, use_bin_type=True)
nopol = dict(fr); del nopol["policy"]
open(d + "/nopolicy.mp", "wb").write(pack(nopol))
del fr["batch"]["next_obs"]
open(d + "/nonext.mp", "wb").write(pack(fr))
PY
    run parpi-dual --prior "$T/prior.mp" --in "$T/nonext.mp" --out "$T/out.mp"
    assert_equal "$status" 1
    assert_output --partial "missing field batch.next_obs"
    run parpi-dual --prior "$T/prior.mp" --in "$T/nopolicy.mp" --out "$T/out.mp"
    assert_equal "$status" 1
    assert_output --partial "missing field policy"
}

@test "dual: writes the dual map and penalty [B] and its metrics; same seed, same bytes" {
    need_python_msgpack
    stage_frames ring 3 >"$T/ring.mp"
    make_priors
    parpi-dual --prior "$T/prior.mp" --hidden 16 --seed 3 --in "$T/ring.mp" --out "$T/d1.mp"
    run stage_frames show "$T/d1.mp"
    assert_success
    # 5->16->16->1: 5*16+16 + 16*16+16 + 16+1 = 385
    assert_line --index 0 --partial "dual{act_dim:2,divergence:kl,hidden:16,layers:2,lipschitz:gp,obs_dim:3,params:[385],spectral:False}"
    assert_line --index 0 --partial "penalty:float32:[16]"
    assert_line --index 2 --partial "dual{estimate="
    assert_output --partial ",penalty_mean="
    assert_output --partial ",gp="
    parpi-dual --prior "$T/prior.mp" --hidden 16 --seed 3 --in "$T/ring.mp" --out "$T/d2.mp"
    parpi-dual --prior "$T/prior.mp" --hidden 16 --seed 4 --in "$T/ring.mp" --out "$T/d3.mp"
    # step_ms aside, the same seed gives the same bytes; another seed other weights
    /usr/bin/python3 - "$T/d1.mp" "$T/d2.mp" "$T/d3.mp" <<'PY'
import sys, msgpack, msgpack_numpy, numpy as np
def frames(p):
    return list(msgpack.Unpacker(open(p, "rb"), object_hook=msgpack_numpy.decode, raw=False))
a, b, c = (frames(p) for p in sys.argv[1:])
for x, y, z in zip(a, b, c):
    assert x["dual"]["params"].tobytes() == y["dual"]["params"].tobytes()
    assert x["penalty"].tobytes() == y["penalty"].tobytes()
    assert x["dual"]["params"].tobytes() != z["dual"]["params"].tobytes()
    assert np.all(np.isfinite(x["penalty"]))
PY
}

@test "dual: a checkpoint resumes bit for bit" {
    need_python_msgpack
    stage_frames ring 4 >"$T/ring.mp"
    make_priors
    /usr/bin/python3 - "$T/ring.mp" "$T/first2.mp" "$T/last2.mp" <<'PY'
import sys, msgpack
data = open(sys.argv[1], "rb").read()
u = msgpack.Unpacker(raw=False)
u.feed(data)
u.skip(); u.skip()
cut = u.tell()
open(sys.argv[2], "wb").write(data[:cut])
open(sys.argv[3], "wb").write(data[cut:])
PY
    parpi-dual --prior "$T/prior.mp" --hidden 16 --iters 2 --in "$T/ring.mp" --out "$T/all.mp"
    parpi-dual --prior "$T/prior.mp" --hidden 16 --iters 2 --in "$T/first2.mp" --out "$T/first.mp" \
        --checkpoint "$T/d.ckpt"
    parpi-dual --prior "$T/prior.mp" --resume "$T/d.ckpt" --in "$T/last2.mp" --out "$T/resumed.mp"
    /usr/bin/python3 - "$T/all.mp" "$T/resumed.mp" <<'PY'
import sys, msgpack, msgpack_numpy
def frames(p):
    return list(msgpack.Unpacker(open(p, "rb"), object_hook=msgpack_numpy.decode, raw=False))
a, b = frames(sys.argv[1])[2:], frames(sys.argv[2])
assert len(a) == len(b) == 2
for x, y in zip(a, b):
    assert x["dual"]["params"].tobytes() == y["dual"]["params"].tobytes(), "params differ"
    assert x["penalty"].tobytes() == y["penalty"].tobytes(), "penalty differs"
    assert x["metrics"]["dual"]["loss"] == y["metrics"]["dual"]["loss"], "loss differs"
PY
    # the sizes come from the checkpoint; a contradicting option is an error
    run parpi-dual --prior "$T/prior.mp" --resume "$T/d.ckpt" --hidden 32 --in "$T/last2.mp" \
        --out "$T/x.mp"
    assert_equal "$status" 1
    assert_output --partial "the checkpoint has --hidden 16, but this stage has --hidden 32"
    # the prior is given again on resume
    run parpi-dual --resume "$T/d.ckpt" --in "$T/last2.mp" --out "$T/x.mp"
    assert_equal "$status" 2
    assert_output --partial "--prior FILE is required"
}
