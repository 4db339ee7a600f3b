# bash completion for the parpi programs.                -*- shell-script -*-
#
# One file for every parpi-* program (installed as .../completions/parpi with
# a symlink per program name). To add a program: put its name in
# _parpi_programs and, if some of its options take values worth completing,
# a case in _parpi below. Options themselves are read from `PROG --help`,
# so a program without a case still completes its options and files.

_parpi_programs="parpi-cat parpi-collect parpi-critic parpi-langevin parpi-discrim
parpi-policy parpi-eval parpi-train"

# Long options from the program's --help (cached per program).
_parpi_help_opts()
{
    local prog=$1 var="_parpi_opts_${1//-/_}"
    if [[ -z ${!var-} ]]; then
        printf -v "$var" '%s' "$("$prog" --help 2>/dev/null |
            grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u | tr '\n' ' ')"
    fi
    printf '%s' "${!var}"
}

_parpi_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir "$@"
    else
        local IFS=$'\n'
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

# Field paths of the first parpi file named on the line (for --csv and the
# like); a comma-separated list completes its last element.
_parpi_fields()
{
    local f file="" prefix="" last=$cur
    for f in "${COMP_WORDS[@]:1}"; do
        [[ $f != -* && -f $f ]] && { file=$f; break; }
    done
    [[ -z $file ]] && return
    if [[ $cur == *,* ]]; then prefix=${cur%,*},; last=${cur##*,}; fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -P "$prefix" -W "$(parpi-cat --fields "$file" 2>/dev/null)" -- "$last"))
    compopt -o nospace 2>/dev/null
}

_parpi()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local prog=${COMP_WORDS[0]##*/}
    COMPREPLY=()
    case $prog in
    parpi-cat)
        case $prev in
        -c | --csv) _parpi_fields; return ;;
        -n | --frame | --max-frame) return ;;
        esac
        ;;
    # parpi-critic)
    #     case $prev in --target) COMPREPLY=($(compgen -W "sac sql" -- "$cur")); return ;; esac
    #     ;;
    *)
        case $prev in
        --checkpoint | --resume | --in | --out) _parpi_files; return ;;
        --threads | --save-every | --max-frame | --seed) return ;;
        esac
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_parpi_help_opts "$prog")" -- "$cur"))
    else
        _parpi_files
    fi
}

complete -F _parpi $_parpi_programs
