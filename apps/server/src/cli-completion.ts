import type { Command } from './cli-commands.ts';

/** Options every command takes. */
export const globalOptions = ['--json', '--url', '--token', '--config', '--help', '--version'];

const optionWords = (command: Command) =>
  (command.options ?? []).flatMap((o) => o.split(',').map((part) => part.trim().split(' ')[0]!));

/** `docker-watcher completion bash`: commands, then each command's options. */
export function bashCompletion(commands: readonly Command[]): string {
  const names = commands.map((c) => c.name.split(' ')[0]).filter((n, i, all) => all.indexOf(n) === i);
  const cases = commands
    .filter((c) => !c.name.includes(' '))
    .map((c) => `    ${c.name}) opts="${[...optionWords(c), ...globalOptions].join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for docker-watcher: eval "$(docker-watcher completion bash)"
_docker_watcher() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names.join(' ')}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
    help) COMPREPLY=($(compgen -W "${names.join(' ')}" -- "$cur")); return ;;
    auto-deploy) if [ "$COMP_CWORD" -eq 4 ]; then COMPREPLY=($(compgen -W "on off" -- "$cur")); return; fi; opts="${globalOptions.join(' ')}" ;;
${cases}
    *) opts="${globalOptions.join(' ')}" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _docker_watcher docker-watcher
`;
}

const zshQuote = (text: string) => text.replace(/'/g, "'\\''").replace(/:/g, '\\:');

/** `docker-watcher completion zsh`: commands with their summaries, then options. */
export function zshCompletion(commands: readonly Command[]): string {
  const entries = commands
    .filter((c) => !c.name.includes(' '))
    .map((c) => `    '${c.name}:${zshQuote(c.summary)}'`)
    .join('\n');
  const cases = commands
    .filter((c) => !c.name.includes(' '))
    .map(
      (c) =>
        `    ${c.name}) _values 'option' ${[...optionWords(c), ...globalOptions].map((o) => `'${o}'`).join(' ')} ;;`,
    )
    .join('\n');
  return `#compdef docker-watcher
# zsh completion for docker-watcher: docker-watcher completion zsh > "\${fpath[1]}/_docker-watcher"
_docker_watcher() {
  local -a commands
  commands=(
${entries}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
    completion) _values 'shell' bash zsh ;;
    help) _describe 'command' commands ;;
${cases}
    *) _files ;;
  esac
}
_docker_watcher "$@"
`;
}
