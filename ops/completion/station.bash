# bash completion for stationctl, station-line and station-server. Commands
# and subcommands come from stationctl's usage, flags from each command's own
# --help, so this file never falls behind the programs. Installed by the
# package under each program's name; by hand: source ops/completion/station.bash

# The --flags the usage of "$@" (a program and its words) names.
_station_flags() {
  "$@" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

_stationctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} program=${COMP_WORDS[0]}
  if [[ $COMP_CWORD -eq 1 ]]; then
    local commands
    commands=$("$program" --help 2>/dev/null | sed -n 's/.*stationctl \([a-z][a-z-]*\).*/\1/p' | sort -u)
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  local command=${COMP_WORDS[1]}
  if [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then
    # The word after "stationctl COMMAND" in its usage lines: "list|stage|activate".
    local subs
    subs=$("$program" "$command" --help 2>/dev/null |
           sed -n "s/.*stationctl $command \\([a-z|-]*\\).*/\\1/p" | tr '|' '\n' | sort -u)
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    local words=("$command")
    [[ ${COMP_WORDS[2]} != -* ]] && words+=("${COMP_WORDS[2]}")
    COMPREPLY=($(compgen -W "$(_station_flags "$program" "${words[@]}")" -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
}

_station_program() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_station_flags "${COMP_WORDS[0]}")" -- "$cur"))
  elif [[ ${COMP_WORDS[0]} == *station-line && $COMP_CWORD -ge 1 ]] &&
       ! printf '%s\n' "${COMP_WORDS[@]:1:COMP_CWORD-1}" | grep -qx 'sign\|simulate'; then
    COMPREPLY=($(compgen -W "sign simulate" -f -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}

complete -F _stationctl stationctl
complete -F _station_program station-line station-server
