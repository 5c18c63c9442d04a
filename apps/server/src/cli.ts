#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, serverApi } from './cli-api.ts';
import { type Command, type CommandContext, remoteCommands } from './cli-commands.ts';
import { bashCompletion, zshCompletion } from './cli-completion.ts';
import { localCommands } from './cli-local.ts';
import { migrateLabelsCommand } from './label-mode/migrate-labels-command.ts';
import { notifyTestCommand } from './notify/notify-command.ts';

/** Every command, in the order `help` lists them. New commands (`notify test`…) add an entry here. */
export const commands: readonly Command[] = [
  ...localCommands,
  notifyTestCommand,
  migrateLabelsCommand,
  ...remoteCommands,
  {
    name: 'completion',
    args: 'bash|zsh',
    summary: 'print a shell completion script',
    examples: [
      'eval "$(docker-watcher completion bash)"',
      'docker-watcher completion zsh > ~/.zfunc/_docker-watcher  # a folder on $fpath',
    ],
    arity: [1, 1],
    remote: false,
    async run(context) {
      const shell = context.args[0];
      if (shell !== 'bash' && shell !== 'zsh')
        throw new CliError('USAGE', `completion takes bash or zsh, not ${shell}`, 2);
      process.stdout.write(shell === 'bash' ? bashCompletion(commands) : zshCompletion(commands));
      return { json: undefined };
    },
  },
];

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
};

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

const usageLine = (c: Command) => `docker-watcher ${c.name}${c.args ? ` ${c.args}` : ''}`;

function overview(): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.args}`.length));
  return [
    'Usage: docker-watcher <command> [arguments] [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    `  ${'help [command]'.padEnd(width)}  this text, or a command's own with examples`,
    '',
    'Options:',
    '  --config <file>   config file (default: docker-watcher.yml, or $DOCKER_WATCHER_CONFIG)',
    '  --url <url>       a running server, for the commands that ask it (default: http://127.0.0.1:8080, or $DOCKER_WATCHER_URL)',
    '  --token <token>   its API token (default: $DOCKER_WATCHER_TOKEN)',
    '  --json            machine-readable: one JSON value on stdout for every outcome, errors included',
    '  --version, -v     the version',
    '',
    'The server reads DOCKER_WATCHER_LISTEN, _STORE, _LOG_LEVEL and _POLL_INTERVAL, over the file.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `Usage: ${usageLine(command)}${command.options ? ` [${command.options.join('] [')}]` : ''}${command.remote ? ' [--url <url>] [--token <token>]' : ''} [--json]`,
    '',
    command.summary.charAt(0).toUpperCase() + command.summary.slice(1),
    ...(command.details ? ['', command.details] : []),
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/** The command named by the first positionals (two words for a group such as `notify test`). */
function findCommand(positionals: readonly string[]): { command: Command; args: string[] } | undefined {
  const two = positionals.slice(0, 2).join(' ');
  const byTwo = commands.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, args: positionals.slice(2) };
  const byOne = commands.find((c) => c.name === positionals[0]);
  return byOne ? { command: byOne, args: positionals.slice(1) } : undefined;
}

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      config: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: true },
      watch: { type: 'boolean', default: true },
      follow: { type: 'boolean', short: 'f', default: false },
      limit: { type: 'string' },
      write: { type: 'string' },
      reference: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });

async function main(argv: string[], json: boolean): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CliError('USAGE', `${(error as Error).message}; see docker-watcher help`, 2);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    out(json ? JSON.stringify({ version: version() }) : version());
    return 0;
  }
  if (positionals[0] === 'help' || positionals.length === 0) {
    const topic = positionals.length > 1 ? findCommand(positionals.slice(1)) : undefined;
    if (positionals.length > 1 && !topic)
      throw new CliError('USAGE', `no command ${positionals.slice(1).join(' ')}; see docker-watcher help`, 2);
    out(topic ? commandHelp(topic.command) : overview());
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const found = findCommand(positionals);
  if (!found) throw new CliError('USAGE', `no command ${positionals[0]}; see docker-watcher help`, 2);
  const { command, args } = found;
  if (values.help) {
    out(commandHelp(command));
    return 0;
  }
  if (args.length < command.arity[0] || args.length > command.arity[1])
    throw new CliError(
      'USAGE',
      `usage: ${usageLine(command)} (docker-watcher help ${command.name} shows examples)`,
      2,
    );
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new CliError('USAGE', '--limit takes a whole number above 0', 2);
  let api: ReturnType<typeof serverApi> | undefined;
  const context: CommandContext = {
    args,
    options: {
      json,
      wait: values.wait,
      follow: values.follow,
      ...(limit === undefined ? {} : { limit }),
      config: values.config ?? process.env.DOCKER_WATCHER_CONFIG ?? 'docker-watcher.yml',
      watch: values.watch,
      ...(values.write === undefined ? {} : { write: values.write }),
      reference: values.reference,
    },
    api: () => {
      api ??= serverApi(
        values.url ?? process.env.DOCKER_WATCHER_URL ?? 'http://127.0.0.1:8080',
        values.token ?? process.env.DOCKER_WATCHER_TOKEN,
      );
      return api;
    },
    progress: json ? () => undefined : err,
    print: json ? () => undefined : out,
  };
  const result = await command.run(context);
  if (json) {
    if (result.json !== undefined) out(JSON.stringify(result.json));
  } else if (result.text !== undefined) out(result.text);
  return result.code ?? 0;
}

/** A `CoreError` (of `serve` or `check`) without loading the core to recognise it. */
const isCoded = (error: unknown): error is Error & { code: string } =>
  error instanceof Error &&
  typeof (error as { code?: unknown }).code === 'string' &&
  /^[A-Z_]+$/.test((error as unknown as { code: string }).code);

/** A failure as the caller asked for it: one JSON value on stdout, or a line on stderr. */
function report(error: unknown, json: boolean): number {
  const failure =
    error instanceof CliError
      ? error
      : isCoded(error)
        ? new CliError(error.code, error.message)
        : new CliError('INTERNAL', error instanceof Error ? error.message : String(error));
  if (json) out(JSON.stringify({ error: { code: failure.code, message: failure.message } }));
  else
    err(
      failure.plain
        ? failure.message
        : `${failure.code === 'INTERNAL' ? 'error' : failure.code}: ${failure.message}`,
    );
  return failure.exitCode;
}

const argv = process.argv.slice(2);
const json = argv.includes('--json');
main(argv, json).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error, json);
  },
);
