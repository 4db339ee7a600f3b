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
  --mean             one line per group of runs whose names differ only in a
                     trailing number (runs/hopper-wd-0 ... -4: hopper-wd), the
                     mean over its runs, the band their std
  --title TEXT       the title (default: the column)
  --size W,H         pixels (default 900,560); for a .txt --out, characters
                     (default 100,30)
--out FILE.txt draws the plot as text (gnuplot's dumb terminal), for a
terminal or a batch job's log.
A run or file without rows for the column is left out, with a warning.

Particles of one frame (a stream tapped in the ring with tee, or a file):
  --particles FILE   frames with a 'particles' map (u0: policy samples, uK:
                     Langevin particles, pre-tanh; plotted as a = tanh(u))
  --frame N          which frame (default -1: the last)
  --dims I[,J]       one action dimension (histograms) or two (scatter, a
                     line from each sample to its particle);
                     default 0,1 when the action has two or more, else 0
  -h, --help         this text;  --version  the version
Exit status: 0 ok, 1 no data or gnuplot failed (no PNG is left), 2 usage error.
USAGE
}

die() { echo "$prog: $2" >&2; exit "$1"; }
usage_error() { printf "%s: %s\nTry '%s --help'.\n" "$prog" "$1" "$prog" >&2; exit 2; }
warn() { echo "$prog: warning: $1" >&2; }

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

out= column=return_mean progress=0 mean=0 title= size= particles= frame=-1 dims=
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --version) echo "$prog $version"; exit 0 ;;
        --out|--column|--title|--size|--particles|--frame|--dims)
            [ $# -ge 2 ] || usage_error "option $1 needs a value"
            case $1 in
                --out) out=$2 ;; --column) column=$2 ;; --title) title=$2 ;; --size) size=$2 ;;
                --particles) particles=$2 ;; --frame) frame=$2 ;; --dims) dims=$2 ;;
            esac
            shift 2 ;;
        --out=*|--column=*|--title=*|--size=*|--particles=*|--frame=*|--dims=*)
            opt=${1%%=*}; val=${1#*=}; shift; set -- "$opt" "$val" "$@" ;;
        --progress) progress=1; shift ;;
        --mean) mean=1; shift ;;
        --) shift; break ;;
        -*) usage_error "unknown option $1" ;;
        *) break ;;
    esac
done
command -v gnuplot >/dev/null || die 1 "gnuplot is not installed"
text=0
case ${out:-} in *.txt) text=1 ;; esac
[ -n "$size" ] || { if [ "$text" -eq 1 ]; then size=100,30; else size=900,560; fi; }
case $size in *[!0-9,]*|,*|*,|*,*,*) usage_error "--size takes W,H in pixels, got '$size'" ;; *,*) ;; *) usage_error "--size takes W,H, got '$size'" ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parpi-plot.XXXXXX") || die 1 "cannot make a temporary directory"
png=
trap 'rm -rf "$tmp"; [ -z "$png" ] || rm -f "$png"' EXIT

# gnuplot string literal: single quotes doubled
gq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

# Run gnuplot (its -e variables, then the script) into a temporary file next
# to $out, renamed to $out only when the plot worked: a failed plot leaves no
# PNG, and an old one stays as it was.
render() {
    vars=$1 script=$2
    case $out in */*) dir=${out%/*} ;; *) dir=. ;; esac
    [ -d "$dir" ] || die 1 "cannot write $out: no directory $dir"
    png="$dir/.${out##*/}.$$.tmp"
    gnuplot -e "out=$(gq "$png"); text=$text; $vars" "$script" 2>"$tmp/gp" ||
        die 1 "gnuplot failed: $(cat "$tmp/gp")"
    [ -s "$png" ] || die 1 "gnuplot wrote nothing: $(cat "$tmp/gp")"
    mv -f "$png" "$out" || die 1 "cannot write $out"
    png=
    echo "$out"
}

# parpi-cat's message without its own program name, naming the file once.
cat_error() {
    msg=$(sed -e 's/^parpi-cat: //' "$tmp/err" | head -n 3)
    case $msg in "$1"*) ;; *) msg="$1: $msg" ;; esac
    printf '%s' "$msg"
}

if [ -n "$particles" ]; then
    [ $# -eq 0 ] || usage_error "--particles takes no other inputs (got '$1')"
    case $frame in -1|[0-9]|[0-9]*[0-9]) ;; *) usage_error "--frame takes a number, got '$frame'" ;; esac
    [ -r "$particles" ] || die 1 "cannot read $particles"
    out=${out:-particles.png}
    for k in u0 uK; do
        if ! parpi-cat -n "$frame" --csv particles.$k --no-header "$particles" >"$tmp/$k" 2>"$tmp/err"; then
            if grep -q "missing field particles" "$tmp/err"; then
                die 1 "$particles: frame $frame has no particles (parpi-langevin adds them to frames with a batch: did learning start? see --learning-starts)"
            fi
            die 1 "$(cat_error "$particles")"
        fi
    done
    [ -s "$tmp/u0" ] || die 1 "$particles: frame $frame has no particles"
    ncol=$(head -n 1 "$tmp/u0" | awk -F, '{print NF}')
    if [ -z "$dims" ]; then
        if [ "$ncol" -ge 2 ]; then dims=0,1; else dims=0; fi
    fi
    case $dims in
        *[!0-9,]*|,*|*,|*,*,*) usage_error "--dims takes I or I,J, got '$dims'" ;;
    esac
    i=${dims%%,*}; j=${dims#*,}; [ "$j" = "$dims" ] && j=
    [ "$i" -lt "$ncol" ] && { [ -z "$j" ] || [ "$j" -lt "$ncol" ]; } ||
        usage_error "--dims $dims: the action has $ncol dimensions (from 0)"
    # a = tanh(u) for the chosen columns
    for k in u0 uK; do
        awk -F, -v i="$i" -v j="${j:-}" '
            function th(x) { if (x > 20) return 1; if (x < -20) return -1; e = exp(2 * x); return (e - 1) / (e + 1) }
            { if (j == "") print th($(i + 1)); else print th($(i + 1)), th($(j + 1)) }' "$tmp/$k" >"$tmp/$k.a"
    done
    # row r of u0 became row r of uK: the pairs, for the lines between them
    paste -d ' ' "$tmp/u0.a" "$tmp/uK.a" >"$tmp/pairs"
    step=$(parpi-cat -n "$frame" --csv step --no-header "$particles" 2>/dev/null)
    if [ "$frame" = -1 ]; then which="the last frame"; else which="frame $frame"; fi
    case $step in ''|*[!0-9]*) ;; *) which="step $step ($which)" ;; esac
    ttl=${title:-particles at $which: policy samples tanh(u0) vs Langevin particles tanh(uK)}
    render "u0=$(gq "$tmp/u0.a"); uK=$(gq "$tmp/uK.a"); pairs=$(gq "$tmp/pairs"); \
        ttl=$(gq "$ttl"); dimx=$i; dimy=${j:--1}; w=${size%,*}; h=${size#*,}" "$share/plot/particles.gp"
    exit 0
fi

[ $# -gt 0 ] || usage_error "give one or more run directories or CSV files"
out=${out:-curves.png}
runs="$tmp/runs"   # datafile<TAB>label, one per source with data
: >"$runs"
n=0 have_column=0 bands=0 first_header=
for src in "$@"; do
    if [ -d "$src" ]; then
        if [ "$progress" -eq 1 ]; then csv=$src/progress.csv; else csv=$src/eval.csv; fi
        label=$(basename "$src")
    else
        csv=$src
        label=$(basename "$src" .csv)
    fi
    if [ ! -r "$csv" ]; then
        [ $# -gt 1 ] || die 1 "cannot read $csv"
        warn "cannot read $csv: left out"
        continue
    fi
    header=$(head -n 1 "$csv")
    [ -n "$first_header" ] || first_header=$header
    col=$(printf '%s\n' "$header" | tr ',' '\n' | grep -n -x -F -- "$column" | head -n 1 | cut -d: -f1)
    if [ -z "$col" ]; then
        [ $# -gt 1 ] || usage_error "$csv has no column '$column' (it has: $header)"
        warn "$csv has no column '$column': left out"
        continue
    fi
    have_column=1
    # the std column of the same figure, when there is one (return_mean -> return_std)
    std=0
    case $column in
        *_mean) s=$(printf '%s\n' "$header" | tr ',' '\n' | grep -n -x -F -- "${column%_mean}_std" | cut -d: -f1)
                [ -n "$s" ] && std=$s ;;
    esac
    [ "$std" -eq 0 ] || bands=1
    n=$((n + 1))
    # step, value, std (0 when none); rows whose value is empty or not a
    # finite number are skipped
    awk -F, -v c="$col" -v s="$std" '
        function num(x) { return x ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ }
        NR > 1 && num($1) && num($c) { print $1, $c, (s && num($s) ? $s : 0) }' "$csv" >"$tmp/d$n"
    if [ ! -s "$tmp/d$n" ]; then
        [ $# -gt 1 ] || die 1 "$csv: no rows with a value in column '$column'"
        warn "$csv: no rows with a value in column '$column' yet: left out"
        continue
    fi
    printf '%s\t%s\n' "$tmp/d$n" "$label" >>"$runs"
done
[ "$have_column" -eq 1 ] || usage_error "no input has a column '$column' (${first_header:+the first has: $first_header})"
[ -s "$runs" ] || die 1 "no input has rows with a value in column '$column'"

list="$tmp/list"
ylab=$column
if [ "$mean" -eq 1 ]; then
    # group by the label without a trailing number (hopper-wd-3 -> hopper-wd)
    : >"$list"
    awk -F'\t' '{ k = $2; sub(/[-_.]?(seed|s)?[0-9]+$/, "", k); if (k == "") k = $2; print k "\t" $1 }' "$runs" >"$tmp/groups"
    g=0
    cut -f1 "$tmp/groups" | awk '!seen[$0]++' >"$tmp/keys"
    while IFS= read -r key; do
        g=$((g + 1))
        files=$(awk -F'\t' -v k="$key" '$1 == k {print $2}' "$tmp/groups")
        count=$(printf '%s\n' "$files" | wc -l)
        # per step: the mean over the runs that have it, and their std
        # shellcheck disable=SC2086
        awk '{ s[$1] += $2; q[$1] += $2 * $2; c[$1]++ }
             END { for (x in s) { m = s[x] / c[x]; v = q[x] / c[x] - m * m; print x, m, (v > 0 ? sqrt(v) : 0) } }' \
            $files | sort -g >"$tmp/g$g"
        if [ "$count" -gt 1 ]; then lab="$key (mean of $count runs)"; else lab=$key; fi
        printf '%s\t%s\n' "$tmp/g$g" "$lab" >>"$list"
    done <"$tmp/keys"
    ylab="$column (band: std over runs)"
else
    cp "$runs" "$list"
    [ "$bands" -eq 0 ] || ylab="$column (band: +-${column%_mean}_std)"
fi
count=$(wc -l <"$list")

# x tics: a step of 1, 2 or 5 x 10^k, each labelled in k (thousands) or M
# (millions) with as many decimals as the step needs there, so that no two
# labels read the same (5k 5.2k 5.4k; 0 200k ... 1M).
cut -f1 "$list" | while IFS= read -r f; do cat "$f"; done | awk '
    NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
    END {
        if (NR == 0) exit
        range = hi - lo; if (range <= 0) { range = (hi > 0 ? hi : 1); lo = 0 }
        raw = range / 6; p = 10 ^ int(log(raw) / log(10)); if (p > raw) p /= 10; m = raw / p
        step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p; if (step < 1) step = 1
        printf "set xtics ("
        first = 1
        for (v = step * int(lo / step); v <= hi + step / 2; v += step) {
            if (v < lo - step / 2) continue
            a = (v < 0 ? -v : v)
            if (a >= 1e6) { unit = 1e6; suf = "M" } else if (a >= 1e3) { unit = 1e3; suf = "k" } else { unit = 1; suf = "" }
            d = 0; while (d < 6 && (step / unit) * 10 ^ d - int((step / unit) * 10 ^ d + 1e-9) > 1e-6) d++
            lab = sprintf("%." d "f", v / unit)
            if (d > 0) { sub(/0+$/, "", lab); sub(/\.$/, "", lab) }
            printf "%s\"%s\" %.17g", (first ? "" : ", "), lab suf, v
            first = 0
        }
        print ")"
    }' >"$tmp/xtics.gp"

ttl=${title:-$column}
render "list=$(gq "$list"); n=$count; ttl=$(gq "$ttl"); ylab=$(gq "$ylab"); xtics=$(gq "$tmp/xtics.gp"); \
    w=${size%,*}; h=${size#*,}" "$share/plot/curves.gp"
