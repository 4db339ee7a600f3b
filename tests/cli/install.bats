#!/usr/bin/env bats
# make install / uninstall honour PREFIX and DESTDIR; the installed programs
# find their share/parpi next to themselves (no PARPI_SHARE needed).

load helpers

setup() {
    case "${PARPI_TEST_BUILD:-}" in
        */asan*) skip "install is tested by the normal build (this is the sanitizer tree)" ;;
    esac
}

@test "install: programs, library, headers, man pages, completions and share/parpi under DESTDIR/PREFIX" {
    D="$T/dest"
    run make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/opt/parpi
    assert_success
    for f in bin/parpi-train bin/parpi-cat bin/parpi-collect lib/libparpi.a lib/libparpi.so \
             include/parpi/frame/frame.h include/parpi/stage/stage.h share/man/man1/parpi-train.1 share/man/man7/parpi.7 \
             share/man/man5/parpi-frame.5 share/parpi/envs/hopper.xml \
             share/bash-completion/completions/parpi share/zsh/site-functions/_parpi; do
        [ -e "$D/opt/parpi/$f" ] || fail "missing $f"
    done
    [ ! -e "$D/opt/parpi/include/parpi/frame/frame_impl.h" ] || fail "private header installed"
    # the installed collector finds the MuJoCo models next to itself
    run env -u PARPI_SHARE "$D/opt/parpi/bin/parpi-collect" --env Hopper-v3 --steps 5 --seed 1 --out "$T/t.mp"
    assert_success
    run make -s -C "$ROOT" uninstall DESTDIR="$D" PREFIX=/opt/parpi
    assert_success
    run find "$D" -type f
    assert_output ""
}
