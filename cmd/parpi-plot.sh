#!/bin/sh
# parpi-plot - learning curves of parpi-train runs, and the particles of a
# frame, as PNG (gnuplot). See parpi-plot(1).
set -u
prog=parpi-plot
version=0.1.0

usage() {
    cat <<'USAGE'
Usage: parpi-plot [OPTIONS] RUN_DIR|CSV...            learning curves
       parpi-plot --particles FRAMES [OPTIONS]         policy samples vs Langevin particles
Plot to PNG with gnuplot.

Learning curves (one line per run, mean +- std band of the evaluations):
  --out FILE         the PNG (default curves.png, particles.png)
  --column NAME      the eval.csv column to plot (default return_mean); with
                     --progress, a progress.csv column (e.g. policy.alpha)
  --progress         plot DIR/progress.csv instead of DIR/eval.csv
  --title TEXT       the title (default: the column)
  --size W,H         pixels (default 900,560)

Particles of one frame (a stream tapped in the ring with tee, or a file):
  --particles FILE   frames with a 'particles' map (u0: policy samples, uK:
                     Langevin particles, pre-tanh; plotted as a = tanh(u))
  --frame N          which frame (default -1: the last)
  --dims I[,J]       one action dimension (histograms) or two (scatter);
                     default 0,1 when the action has two or more, else 0
  -h, --help         this text;  --version  the version
Exit status: 0 ok, 1 no data or gnuplot failed, 2 usage error.
USAGE
}

die() { echo "$prog: $2" >&2; exit "$1"; }

here=$(dirname "$0")
# parpi-cat from the same installation (or checkout) first, then PATH
if [ -x "$here/parpi-cat" ]; then PATH="$here:$PATH"; fi
share=${PARPI_SHARE:-}
if [ -z "$share" ]; then
    # an install (PREFIX/bin -> PREFIX/share/parpi) or a checkout (build/bin -> share/parpi)
    for d in "$here/../share/parpi" "$here/../../share/parpi" /usr/local/share/parpi /usr/share/parpi; do
        if [ -f "$d/plot/curves.gp" ]; then share=$d; break; fi
    done
fi
[ -n "$share" ] && [ -f "$share/plot/curves.gp" ] ||
    die 1 "cannot find share/parpi/plot/curves.gp: set PARPI_SHARE"

out= column=return_mean progress=0 title= size=900,560 particles= frame=-1 dims=
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --version) echo "$prog $version"; exit 0 ;;
        --out|--column|--title|--size|--particles|--frame|--dims)
            [ $# -ge 2 ] || die 2 "option $1 needs a value (see --help)"
            case $1 in
                --out) out=$2 ;; --column) column=$2 ;; --title) title=$2 ;; --size) size=$2 ;;
                --particles) particles=$2 ;; --frame) frame=$2 ;; --dims) dims=$2 ;;
            esac
            shift 2 ;;
        --out=*|--column=*|--title=*|--size=*|--particles=*|--frame=*|--dims=*)
            opt=${1%%=*}; val=${1#*=}; shift; set -- "$opt" "$val" "$@" ;;
        --progress) progress=1; shift ;;
        --) shift; break ;;
        -*) die 2 "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
command -v gnuplot >/dev/null || die 1 "gnuplot is not installed"
case $size in *[!0-9,]*|,*|*,|*,*,*) die 2 "--size takes W,H in pixels, got '$size'" ;; *,*) ;; *) die 2 "--size takes W,H, got '$size'" ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parpi-plot.XXXXXX") || die 1 "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT

# gnuplot string literal: single quotes doubled
gq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

if [ -n "$particles" ]; then
    [ $# -eq 0 ] || die 2 "--particles takes no other inputs (got '$1')"
    case $frame in -1|[0-9]|[0-9]*[0-9]) ;; *) die 2 "--frame takes a number, got '$frame'" ;; esac
    [ -r "$particles" ] || die 1 "cannot read $particles"
    out=${out:-particles.png}
    parpi-cat -n "$frame" --csv particles.u0 --no-header "$particles" >"$tmp/u0" 2>"$tmp/err" ||
        die 1 "$particles: $(cat "$tmp/err")"
    parpi-cat -n "$frame" --csv particles.uK --no-header "$particles" >"$tmp/uK" 2>"$tmp/err" ||
        die 1 "$particles: $(cat "$tmp/err")"
    [ -s "$tmp/u0" ] || die 1 "$particles: frame $frame has no particles"
    ncol=$(head -n 1 "$tmp/u0" | awk -F, '{print NF}')
    if [ -z "$dims" ]; then
        if [ "$ncol" -ge 2 ]; then dims=0,1; else dims=0; fi
    fi
    case $dims in
        *[!0-9,]*|,*|*,|*,*,*) die 2 "--dims takes I or I,J, got '$dims'" ;;
    esac
    i=${dims%%,*}; j=${dims#*,}; [ "$j" = "$dims" ] && j=
    [ "$i" -lt "$ncol" ] && { [ -z "$j" ] || [ "$j" -lt "$ncol" ]; } ||
        die 2 "--dims $dims: the action has $ncol dimensions (from 0)"
    # a = tanh(u) for the chosen columns
    for k in u0 uK; do
        awk -F, -v i="$i" -v j="${j:-}" '
            function th(x) { if (x > 20) return 1; if (x < -20) return -1; e = exp(2 * x); return (e - 1) / (e + 1) }
            { if (j == "") print th($(i + 1)); else print th($(i + 1)), th($(j + 1)) }' "$tmp/$k" >"$tmp/$k.a"
    done
    if [ "$frame" = -1 ]; then which="the last frame"; else which="frame $frame"; fi
    ttl=${title:-particles of $which: policy samples tanh(u0) vs Langevin particles tanh(uK)}
    gnuplot -e "out=$(gq "$out"); u0=$(gq "$tmp/u0.a"); uK=$(gq "$tmp/uK.a"); \
        ttl=$(gq "$ttl"); dimx=$i; dimy=${j:--1}; w=${size%,*}; h=${size#*,}" \
        "$share/plot/particles.gp" 2>"$tmp/gp" || die 1 "gnuplot failed: $(cat "$tmp/gp")"
    echo "$out"
    exit 0
fi

[ $# -gt 0 ] || die 2 "give one or more run directories or CSV files (see --help)"
out=${out:-curves.png}
list="$tmp/list"
: >"$list"
n=0
for src in "$@"; do
    if [ -d "$src" ]; then
        if [ "$progress" -eq 1 ]; then csv=$src/progress.csv; else csv=$src/eval.csv; fi
        label=$(basename "$src")
    else
        csv=$src
        label=$(basename "$src" .csv)
    fi
    [ -r "$csv" ] || die 1 "cannot read $csv"
    col=$(head -n 1 "$csv" | tr ',' '\n' | grep -n -x -F -- "$column" | head -n 1 | cut -d: -f1)
    [ -n "$col" ] || die 2 "$csv has no column '$column' (it has: $(head -n 1 "$csv"))"
    # the std column of the same figure, when there is one (return_mean -> return_std)
    std=0
    case $column in
        *_mean) s=$(head -n 1 "$csv" | tr ',' '\n' | grep -n -x -F -- "${column%_mean}_std" | cut -d: -f1)
                [ -n "$s" ] && std=$s ;;
    esac
    n=$((n + 1))
    # step, value, std (0 when none); rows with an empty value are skipped
    awk -F, -v c="$col" -v s="$std" 'NR > 1 && $c != "" {print $1, $c, (s ? $s : 0)}' "$csv" >"$tmp/d$n"
    [ -s "$tmp/d$n" ] || die 1 "$csv: no rows with a value in column '$column'"
    printf '%s\t%s\n' "$tmp/d$n" "$label" >>"$list"
done
ttl=${title:-$column}
gnuplot -e "out=$(gq "$out"); list=$(gq "$list"); n=$n; ttl=$(gq "$ttl"); ylab=$(gq "$column"); \
    w=${size%,*}; h=${size#*,}" "$share/plot/curves.gp" 2>"$tmp/gp" ||
    die 1 "gnuplot failed: $(cat "$tmp/gp")"
echo "$out"
