#!/usr/bin/env bats
# parpi-discrim from the command line: usage errors, missing particles, a
# real pass over particle frames, checkpoints.

load helpers

@test "discrim: --help lists the stage's options" {
    run parpi-discrim --help
    assert_success
    assert_output --partial "--divergence jsd|wd|hinge|rkl"
    assert_output --partial "--lipschitz none|sn|gp"
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
    assert_output --partial "--divergence: 'kl', expected one of jsd, wd, hinge, rkl"
}

@test "discrim: a bad --lipschitz exits 2 and lists the valid ones" {
    run parpi-discrim --lipschitz clip </dev/null
    assert_equal "$status" 2
    assert_output --partial "--lipschitz: 'clip', expected one of none, sn, gp"
}

@test "discrim: wd without a Lipschitz control is refused" {
    run parpi-discrim --divergence wd --lipschitz none </dev/null
    assert_equal "$status" 2
    assert_output --partial "Lipschitz"
}

@test "discrim: bad numbers exit 2" {
    run parpi-discrim --lr 0 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--lr: '0', expected a number in [1e-12, 1]"
    # a learning rate is at most 1, as the critic's and the policy's (R13)
    run parpi-discrim --lr 1e12 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--lr: '1e12', expected a number in [1e-12, 1]"
    run parpi-discrim --gp-weight 1e30 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--gp-weight: '1e30', expected a number in [0, 1e+06]"
    run parpi-discrim --obs-dim 100000 --act-dim 1 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--obs-dim: '100000', expected an integer 0..65536"
    run parpi-discrim --layers 99 </dev/null
    assert_equal "$status" 2
    assert_output --partial "--layers: '99', expected an integer 1..7"
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
    assert_output --partial "the checkpoint has --hidden 16, but this stage has --hidden 32"
}

# data/discrim-v0.1.ckpt was written by parpi 0.1.0 (before the option table)
# on the particles of data/langevin-v0.1.ckpt's run (langevin.bats):
#   parpi-langevin --steps 3 --eps 1e-3 --seed 7 --max-batch 64 --in data/stage-frames.mp |
#     parpi-discrim --hidden 4 --divergence hinge --lr 1e-3 --updates 2 --seed 4 \
#       --checkpoint data/discrim-v0.1.ckpt
# and data/discrim-v0.1-resumed.csv is what 0.1.0 resumed both from their
# checkpoints (options given again) on the same frames: loss and gap of
# frames 0 and 2, then disc.params and disc.sn of frame 2 (compared within
# 1e-5: another compiler or -O level may round differently).

disc_csv() {
    parpi-cat --csv metrics.discrim.loss,metrics.discrim.gap -n 0 "$1" &&
        parpi-cat --csv metrics.discrim.loss,metrics.discrim.gap -n 2 "$1" &&
        parpi-cat --csv disc.params -n 2 "$1" && parpi-cat --csv disc.sn -n 2 "$1"
}

@test "discrim: a parpi 0.1.0 checkpoint resumes with 0.1.0's discriminator" {
    parpi-langevin --resume "$DATA/langevin-v0.1.ckpt" --in "$DATA/stage-frames.mp" --out "$T/p.mp"
    parpi-discrim --resume "$DATA/discrim-v0.1.ckpt" --hidden 4 --divergence hinge --lr 1e-3 \
        --updates 2 --seed 4 --in "$T/p.mp" --out "$T/given.mp"
    disc_csv "$T/given.mp" >"$T/given.csv"
    run close_csv "$DATA/discrim-v0.1-resumed.csv" "$T/given.csv"
    assert_success
    # without the options: the architecture, lr and updates are the checkpoint's
    parpi-discrim --resume "$DATA/discrim-v0.1.ckpt" --in "$T/p.mp" --out "$T/ckpt.mp"
    disc_csv "$T/ckpt.mp" >"$T/ckpt.csv"
    cmp "$T/given.csv" "$T/ckpt.csv"
    run parpi-discrim --resume "$DATA/discrim-v0.1.ckpt" --lipschitz gp --in "$T/p.mp" --out /dev/null
    assert_equal "$status" 1
    assert_output --partial "the checkpoint has --lipschitz sn, but this stage has --lipschitz gp"
}
