# bash completion for the parpi programs (parpi-cat, parpi-collect, parpi-critic,
# parpi-langevin, parpi-discrim, parpi-policy, parpi-eval, parpi-train, parpi-plot,
# parpi-dataset, parpi-dual, parpi-model).
#
# Options come from each program's own --help, and so do the values of the
# options that take a fixed set (shown there as "--option a|b|c"), so
# completion never falls out of step with the code; --env names come from
# `parpi-collect --list-envs`, parpi-plot's --column from the run on the line.
# A program with commands (parpi-dataset, parpi-model) names them in its --help ("COMMAND
# is one of a, b, c."); after one, the options are that command's --help's.

_parpi_option_values()
{
    # $1 option, then the command (program [command]); prints candidate values,
    # or fails for a file or number. A fixed set of values is read from the
    # command's --help, where each such option shows them as "--option a|b|c"
    # (one option table prints both).
    local opt=$1; shift
    case "$opt" in
        --env) parpi-collect --list-envs 2>/dev/null | awk '$1 !~ /^#/ {print $1}'; return 0 ;;
        --set) _parpi_set_values; return 0 ;;
        --column) _parpi_progress_columns; return 0 ;;
        --preset) local d; d=$(_parpi_share) && ls "$d/presets" 2>/dev/null | sed 's/\.conf$//'
                  compgen -f -- "$cur"; return 0 ;;
    esac
    local values
    values=$("$@" --help 2>/dev/null |
             sed -nE "s/^ *$opt[ =]([a-z0-9_.-]+(\|[a-z0-9_.-]+)+)( .*)?$/\1/p" | head -n 1 | tr '|' ' ')
    [[ -n $values ]] && echo "$values"
}

# The options a command's --help lists (the words: program [command]): the
# words at the start of its option lines ("  --name ...", "  -h, --help ..."),
# not those quoted in a description.
_parpi_options()
{
    "$@" --help 2>/dev/null | grep -E '^ +-' | sed -E 's/\([^)]*\)//g' |
        grep -oE -- '(^| )--[a-z0-9][a-z0-9-]*' | tr -d ' ' | sort -u
}

# --set STAGE.OPTION[=VALUE]: the stage kinds parpi-train names, then, after
# the dot, that stage's own options.
_parpi_set_values()
{
    if [[ $cur == *.* ]]; then
        local kind=${cur%%.*} o
        for o in $(_parpi_options "parpi-$kind"); do echo "$kind.${o#--}"; done
        return 0
    fi
    local k
    for k in $(parpi-train --help 2>/dev/null | sed -nE 's/^ *STAGE is one of ([a-z, ]+).*/\1/p' | tr -d ','); do
        printf '%s. ' "$k"
    done
    echo "all."
}

# share/parpi of the installation (or checkout) whose parpi-train is on PATH.
_parpi_share()
{
    local bin d
    bin=$(dirname "$(command -v parpi-train 2>/dev/null || echo /usr/local/bin/x)")
    for d in "$PARPI_SHARE" "$bin/../share/parpi" "$bin/../../share/parpi" /usr/local/share/parpi; do
        [[ -n $d && -d $d/presets ]] && { echo "$d"; return 0; }
    done
    return 1
}

# Columns of eval.csv, or of progress.csv with --progress, of the first run
# directory on the line (parpi-plot --column).
_parpi_progress_columns()
{
    local w dir="" file=eval.csv
    for w in "${COMP_WORDS[@]:1}"; do
        [[ $w == --progress ]] && file=progress.csv
        [[ -z $dir && $w != -* && -d $w ]] && dir=$w
    done
    [[ -n $dir && -r $dir/$file ]] && head -n 1 "$dir/$file" | tr ',' ' '
}

# Field paths of the first parpi file named on the line (parpi-cat --csv);
# a comma-separated list completes its last element.
_parpi_fields()
{
    local f file="" prefix="" last=$cur
    for f in "${COMP_WORDS[@]:1}"; do
        [[ $f != -* && -f $f ]] && { file=$f; break; }
    done
    [[ -z $file ]] && return 0
    if [[ $cur == *,* ]]; then prefix=${cur%,*},; last=${cur##*,}; fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -P "$prefix" -W "$(parpi-cat --fields "$file" 2>/dev/null)" -- "$last"))
    compopt -o nospace 2>/dev/null
    return 0
}

# The commands a program's --help names ("COMMAND is one of a, b, c.").
_parpi_commands()
{
    "$1" --help 2>/dev/null | sed -nE 's/^COMMAND is one of ([a-z0-9, -]+)\..*/\1/p' | tr -d ','
}

_parpi()
{
    local cur prev prog words
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    prog="${COMP_WORDS[0]##*/}"
    COMPREPLY=()
    # the command whose --help tells the options: the program, and its command
    local -a cmd=("$prog")
    if [[ $prog == parpi-dataset || $prog == parpi-model ]]; then
        if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
            COMPREPLY=($(compgen -W "$(_parpi_commands "$prog")" -- "$cur"))
            return 0
        fi
        ((COMP_CWORD > 1)) && cmd+=("${COMP_WORDS[1]}")
    fi

    # Per-program cases, for values the --help text cannot give.
    case "$prog" in
        parpi-cat)
            case "$prev" in
                -c|--csv) _parpi_fields; return 0 ;;
                -n|--frame|--max-frame) return 0 ;;
            esac ;;
    esac

    if [[ "$prev" == --* ]]; then
        local values
        if values=$(_parpi_option_values "$prev" "${cmd[@]}"); then
            COMPREPLY=($(compgen -W "$values" -- "$cur"))
            [[ $prev == --set ]] && compopt -o nospace 2>/dev/null
            return 0
        fi
        # Options that take a value and are not in the table above take a file or a number.
        if "${cmd[@]}" --help 2>/dev/null | grep -qE -- "^ *${prev}[ =][A-Z]"; then
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
        fi
    fi
    if [[ "$cur" == -* ]]; then
        words=$(_parpi_options "${cmd[@]}")
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}

complete -F _parpi parpi-cat parpi-collect parpi-critic parpi-langevin parpi-discrim \
    parpi-policy parpi-eval parpi-train parpi-plot parpi-dataset parpi-dual parpi-model
