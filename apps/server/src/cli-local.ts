import { writeFileSync } from 'node:fs';
import type { ConfigProblem } from '@docker-watcher/core';
import { CliError } from './cli-api.ts';
import type { Command } from './cli-commands.ts';

// Each command loads what it needs when it runs: the commands that only ask a server start fast.

const line = (p: ConfigProblem) => (p.path ? `${p.path}: ${p.message}` : p.message);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The commands that work on this machine: the server itself, the config file, passwords. */
export const localCommands: readonly Command[] = [
  {
    name: 'serve',
    args: '',
    summary: 'run the server (reloads when the config file changes; SIGHUP too)',
    details:
      'SIGTERM/SIGINT: stop intake, bring running deploys to a safe state, close the store, exit 0. A broken config file starts nothing. DOCKER_WATCHER_LISTEN, _STORE, _LOG_LEVEL and _POLL_INTERVAL win over the file.',
    examples: [
      'docker-watcher serve --config /etc/docker-watcher/config.yml',
      'DOCKER_WATCHER_LISTEN=127.0.0.1:9090 docker-watcher serve',
    ],
    options: ['--config <file>', '--no-watch'],
    arity: [0, 0],
    remote: false,
    async run(context) {
      const { handleSignals, startServer } = await import('./serve.ts');
      handleSignals(await startServer({ configFile: context.options.config, watch: context.options.watch }));
      return new Promise<never>(() => undefined);
    },
  },
  {
    name: 'check',
    args: '',
    summary: 'validate the config file: every problem and warning at once, with its path',
    details:
      'Exit 0 when the file is valid (warnings are only said), 1 when not. --json: { valid, problems, warnings, … } for editors and CI.',
    examples: ['docker-watcher check --config docker-watcher.yml', 'docker-watcher check --json'],
    options: ['--config <file>'],
    arity: [0, 0],
    remote: false,
    async run(context) {
      const file = context.options.config;
      const { inspectConfigFile } = await import('./config/load.ts');
      const report = await inspectConfigFile(file);
      const config = report.config;
      const summary = config
        ? {
            registries: Object.keys(config.registries).length,
            projects: config.projects.length,
            stages: config.projects.reduce((n, p) => n + Object.keys(p.stages).length, 0),
            store: config.store.type,
            target: config.target.type,
          }
        : undefined;
      if (report.warnings.length > 0) {
        context.progress(`${file}: ${plural(report.warnings.length, 'warning')}:`);
        for (const w of report.warnings) context.progress(`  ${line(w)}`);
      }
      if (!summary) {
        context.progress(`${file} has ${plural(report.problems.length, 'problem')}:`);
        for (const p of report.problems) context.progress(line(p));
      }
      return {
        json: {
          valid: summary !== undefined,
          file,
          ...summary,
          problems: report.problems,
          warnings: report.warnings,
        },
        ...(summary
          ? {
              text: `${file} is valid: ${summary.registries} registries, ${summary.projects} projects, ${summary.stages} stages (store ${summary.store}, target ${summary.target})`,
            }
          : {}),
        code: summary ? 0 : 1,
      };
    },
  },
  {
    name: 'schema',
    args: '',
    summary: "print the config file's JSON Schema (--reference: the Markdown reference)",
    examples: ['docker-watcher schema --write config.schema.json', 'docker-watcher schema --reference'],
    options: ['--write <file>', '--reference'],
    arity: [0, 0],
    remote: false,
    async run(context) {
      const text = context.options.reference
        ? await (await import('./config/reference.ts')).configReferenceText()
        : await (await import('./config/json-schema.ts')).configJsonSchemaText();
      if (context.options.write) {
        writeFileSync(context.options.write, text);
        return { json: { written: context.options.write }, text: `wrote ${context.options.write}` };
      }
      process.stdout.write(text);
      return { json: undefined };
    },
  },
  {
    name: 'hash-password',
    args: '',
    summary: 'read a dashboard password from stdin, print its bcrypt hash',
    examples: ['docker-watcher hash-password', 'printf %s "$PASSWORD" | docker-watcher hash-password --json'],
    arity: [0, 0],
    remote: false,
    async run() {
      const { hashPassword, passwordProblem, readPassword } = await import('./http/passwords.ts');
      const password = await readPassword(process.stdin, process.stderr);
      const problem = passwordProblem(password);
      if (problem) throw new CliError('BAD_REQUEST', problem, 1, { plain: true });
      const hash = await hashPassword(password);
      return { json: { hash }, text: hash };
    },
  },
];
