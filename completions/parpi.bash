# bash completion for the parpi programs (parpi-cat, parpi-collect, parpi-critic,
# parpi-langevin, parpi-discrim, parpi-policy, parpi-eval, parpi-train, parpi-plot).
#
# Options come from each program's own --help, so completion never falls out
# of step with the code; values of the options that take a fixed set are
# listed here, and --env names come from `parpi-collect --list-envs`.

_parpi_option_values()
{
    # $1 program, $2 option; prints candidate values, or nothing for files
    case "$2" in
        --env) parpi-collect --list-envs 2>/dev/null | awk 'NR>0 && $1 !~ /^#/ {print $1}' ;;
        --divergence) echo "jsd wd hinge rkl" ;;
        --lipschitz) echo "none sn gp" ;;
        --target) echo "sac sql" ;;
        --update) echo "parpi sac svgd" ;;
        --algo) echo "parpi sac sql" ;;
        --base) echo "sac sql" ;;
        --threads) echo "1 2 4" ;;
        --set) echo "collect. critic. langevin. discrim. policy. eval. all." ;;
        --column) echo "return_mean return_max length_mean score return_recent policy.alpha policy.entropy critic.q_loss langevin.qK_mean discrim.gap" ;;
        --preset) ls "${PARPI_SHARE:-/usr/local/share/parpi}/presets" 2>/dev/null | sed 's/\.conf$//'; compgen -f ;;
        *) return 1 ;;
    esac
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

_parpi()
{
    local cur prev prog words
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    prog="${COMP_WORDS[0]##*/}"
    COMPREPLY=()

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
        if values=$(_parpi_option_values "$prog" "$prev"); then
            COMPREPLY=($(compgen -W "$values" -- "$cur"))
            return 0
        fi
        # Options that take a value and are not in the table above take a file or a number.
        if "$prog" --help 2>/dev/null | grep -qE -- "^ *${prev}[ =][A-Z]"; then
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
        fi
    fi
    if [[ "$cur" == -* ]]; then
        words=$("$prog" --help 2>/dev/null | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}

complete -F _parpi parpi-cat parpi-collect parpi-critic parpi-langevin parpi-discrim \
    parpi-policy parpi-eval parpi-train parpi-plot
