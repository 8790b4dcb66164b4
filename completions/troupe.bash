# bash completion for troupe.
# Load it with:   source <(troupe completion bash)
# or install it:  troupe completion bash > ~/.local/share/bash-completion/completions/troupe

# Task ids for show/output/wait/cancel, from a running daemon only (never starts one).
_troupe_task_ids() {
  TROUPE_NO_AUTOSTART=1 NO_COLOR=1 troupe ps --all 2>/dev/null | awk 'NR > 1 && $1 ~ /^bg_/ { print $1 }'
}

_troupe_agent_names() {
  TROUPE_NO_AUTOSTART=1 NO_COLOR=1 troupe agents 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_troupe() {
  local cur prev
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local commands="run ps show output wait cancel diff apply continue pools agents events dashboard stop mcp completion serve demo config mock-llm"
  local connection="--data-dir --socket --url --token"

  local cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi

  case "$prev" in
    --data-dir|--workspace)
      COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --socket|--log|--port-file|--config|--file)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --isolation)
      COMPREPLY=($(compgen -W "none worktree" -- "$cur")); return ;;
    --agent)
      COMPREPLY=($(compgen -W "$(_troupe_agent_names)" -- "$cur")); return ;;
    --task)
      COMPREPLY=($(compgen -W "$(_troupe_task_ids)" -- "$cur")); return ;;
    --log-level)
      COMPREPLY=($(compgen -W "trace debug info warn error" -- "$cur")); return ;;
    --model|--description|--timeout|--parent|--reason|--after|--count|--duration|--url|--token|--listen|--port|--models|--speed|--tool-threads)
      return ;;
  esac

  local opts=""
  case "$cmd" in
    run) opts="--agent --model --description --workspace --isolation --base --wait --timeout --json $connection" ;;
    continue) opts="--description --wait --timeout --json $connection" ;;
    ps) opts="--all --watch --parent --json $connection" ;;
    show) opts="--json $connection" ;;
    output) opts="--wait --timeout --full --json $connection" ;;
    wait) opts="--any --timeout --quiet --json $connection" ;;
    cancel) opts="--all --reason --json $connection" ;;
    diff|apply) opts="--json $connection" ;;
    pools|agents) opts="--json $connection" ;;
    dashboard) opts="--open --json $connection" ;;
    stop) opts="--timeout $connection" ;;
    mcp) opts="$connection" ;;
    events) opts="--after --task --no-progress --count --duration --json $connection" ;;
    serve) opts="--data-dir --socket --listen --workspace --config --detach --log-level --tool-threads" ;;
    demo) opts="--workspace --data-dir --model --speed --timeout" ;;
    config) opts="check --workspace --file --json" ;;
    mock-llm) opts="--port --models --log --no-auth --port-file" ;;
  esac

  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
    return
  fi
  case "$cmd" in
    show|output|wait|cancel|diff|apply)
      COMPREPLY=($(compgen -W "$(_troupe_task_ids)" -- "$cur")) ;;
    completion)
      COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    config)
      COMPREPLY=($(compgen -W "check" -- "$cur")) ;;
  esac
}

complete -F _troupe troupe
