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
        *) return 1 ;;
    esac
}

_parpi()
{
    local cur prev prog words
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    prog="${COMP_WORDS[0]##*/}"
    COMPREPLY=()

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
