#!/usr/bin/env bats
# parpi-discrim from the command line: usage errors, missing particles, a
# real pass over particle frames, checkpoints.

load helpers

@test "discrim: --help lists the stage's options" {
    run parpi-discrim --help
    assert_success
    assert_output --partial "--divergence NAME"
    assert_output --partial "--lipschitz KIND"
    assert_output --partial "--gp-weight W"
}

@test "discrim: an unknown option exits 2 and names it" {
    run parpi-discrim --bogus </dev/null
    assert_equal "$status" 2
    assert_output --partial "--bogus"
}

@test "discrim: a bad --divergence exits 2 and lists the valid ones" {
    run parpi-discrim --divergence kl </dev/null
    assert_equal "$status" 2
    assert_output --partial "unknown divergence 'kl'"
    assert_output --partial "jsd, wd, hinge, rkl"
}

@test "discrim: a bad --lipschitz exits 2 and lists the valid ones" {
    run parpi-discrim --lipschitz clip </dev/null
    assert_equal "$status" 2
    assert_output --partial "none, sn, gp"
}

@test "discrim: wd without a Lipschitz control is refused" {
    run parpi-discrim --divergence wd --lipschitz none </dev/null
    assert_equal "$status" 2
    assert_output --partial "Lipschitz"
}

@test "discrim: bad numbers exit 2" {
    run parpi-discrim --lr 0 </dev/null
    assert_equal "$status" 2
    run parpi-discrim --layers 99 </dev/null
    assert_equal "$status" 2
    run parpi-discrim --obs-dim 3 </dev/null
    assert_equal "$status" 2
    assert_output --partial "go together"
}

@test "discrim: a frame with a batch but no particles exits 1" {
    # {"batch": nil}
    printf '\x81\xa5batch\xc0' >"$T/f.mp"
    run parpi-discrim --in "$T/f.mp" --out "$T/out.mp"
    assert_equal "$status" 1
    assert_output --partial "missing field particles"
}

@test "discrim: a warm-up frame (no batch, no particles) passes through" {
    printf '\x81\xa4step\x05' >"$T/f.mp"
    run parpi-discrim --in "$T/f.mp" --out "$T/out.mp"
    assert_success
    [ -s "$T/out.mp" ]
}

@test "discrim: every divergence writes the disc map and metrics" {
    need_python_msgpack
    stage_frames particles 2 >"$T/p.mp"
    for d in jsd wd hinge rkl; do
        parpi-discrim --divergence "$d" --hidden 16 --in "$T/p.mp" --out "$T/d.mp"
        run stage_frames show "$T/d.mp"
        assert_success
        assert_output --partial "divergence:$d"
        assert_output --partial "discrim{f_p_mean="
        assert_output --partial "gap="
    done
    parpi-discrim --divergence wd --hidden 16 --in "$T/p.mp" --out "$T/d.mp"
    run stage_frames show "$T/d.mp"
    # raw weights of 5->16->16->1 (385) and the (u, v) vectors (16+5 + 16+16 + 1+16 = 70)
    assert_line --index 0 --partial "params:[385]"
    assert_line --index 0 --partial "sn:[70]"
    assert_line --index 0 --partial "spectral:True"
    parpi-discrim --divergence wd --lipschitz gp --hidden 16 --in "$T/p.mp" --out "$T/d.mp"
    run stage_frames show "$T/d.mp"
    assert_output --partial "spectral:False"
    assert_output --partial ",gp="
}

@test "discrim: a checkpoint resumes bit for bit" {
    need_python_msgpack
    stage_frames particles 4 >"$T/p.mp"
    /usr/bin/python3 - "$T/p.mp" "$T/first2.mp" "$T/last2.mp" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
import msgpack
u = msgpack.Unpacker(raw=False)
u.feed(data)
u.skip(); u.skip()
cut = u.tell()
open(sys.argv[2], "wb").write(data[:cut])
open(sys.argv[3], "wb").write(data[cut:])
PY
    for lip in sn gp; do
        parpi-discrim --lipschitz $lip --hidden 16 --in "$T/p.mp" --out "$T/all.mp"
        parpi-discrim --lipschitz $lip --hidden 16 --in "$T/first2.mp" --out /dev/null --checkpoint "$T/d.ckpt"
        parpi-discrim --resume "$T/d.ckpt" --in "$T/last2.mp" --out "$T/resumed.mp"
        /usr/bin/python3 - "$T/all.mp" "$T/resumed.mp" <<'PY'
import sys, msgpack, msgpack_numpy
def frames(p):
    return list(msgpack.Unpacker(open(p, "rb"), object_hook=msgpack_numpy.decode, raw=False))
a, b = frames(sys.argv[1])[2:], frames(sys.argv[2])
assert len(a) == len(b) == 2
for x, y in zip(a, b):
    assert x["disc"]["params"].tobytes() == y["disc"]["params"].tobytes(), "params differ"
    if "sn" in x["disc"]:
        assert x["disc"]["sn"].tobytes() == y["disc"]["sn"].tobytes(), "sn differ"
PY
    done
    # the architecture comes from the checkpoint; a contradicting option is an error
    run parpi-discrim --resume "$T/d.ckpt" --hidden 32 --in "$T/last2.mp" --out /dev/null
    assert_equal "$status" 1
    assert_output --partial "config.hidden is 16"
}
