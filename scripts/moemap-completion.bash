# moemap-completion.bash — bash completion for the moemap CLI, installed as
# share/bash-completion/completions/moemap. Commands and flags are read from moemap's
# own --help output at completion time (each command starts in milliseconds), so the
# completion never falls out of step with the binary; file names complete otherwise.
_moemap() {
    local cur prev cmd words
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        words=$("${COMP_WORDS[0]}" --help 2>/dev/null | awk '/^commands:/ {on = 1; next} on && NF {print $1}')
        COMPREPLY=($(compgen -W "$words help --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    if [[ "$cur" == -* ]]; then
        words=$("${COMP_WORDS[0]}" "$cmd" --help 2>&1 | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    case "$prev" in
        -s|--strategy)
            COMPREPLY=($(compgen -W "moemap eplb eplb_global gem vibe exact linear round_robin" -- "$cur"))
            return ;;
        --format)
            COMPREPLY=($(compgen -W "esft sglang loads csv moemap vllm" -- "$cur"))
            return ;;
        --model)
            words=$("${COMP_WORDS[0]}" models 2>/dev/null | awk 'NR > 1 {print $1}')
            COMPREPLY=($(compgen -W "$words" -- "$cur"))
            return ;;
    esac
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _moemap moemap
