#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, isCoreError } from '@docker-watcher/core';
import { type DeploySummary, followDeploy } from './cli-follow.ts';
import { configJsonSchemaText } from './config/json-schema.ts';
import { loadConfigFile } from './config/load.ts';
import { hashPassword, passwordProblem, readPassword } from './http/passwords.ts';
import { notifyCommand, notifyUsage } from './notify/notify-command.ts';
import { handleSignals, startServer } from './serve.ts';

const usage = `Usage: docker-watcher <command> [options]

Commands:
  serve                         run the server (--config)
  check                         validate the config file and print every problem (--config)
  schema [--write <file>]       print (or write) the config file's JSON Schema
  hash-password                 read a dashboard password from stdin, print its bcrypt hash
  plan [project] [stage]        what each stage would do now, and why
  tags <project> <stage>        what the stage's policy selects from its repository
  deploy <project> <stage> [tag]
  promote <project> <stage> [digest]
  rollback <project> <stage>
${notifyUsage}

Options:
  --config <file>   config file (default: docker-watcher.yml, or $DOCKER_WATCHER_CONFIG)
  --url <url>       running server for plan/tags/deploy/promote/rollback (default: http://127.0.0.1:8080, or $DOCKER_WATCHER_URL)
  --token <token>   API token (default: $DOCKER_WATCHER_TOKEN)
  --json            machine-readable output
  --no-wait         deploy/promote/rollback: return once the deploy is queued instead of following it
  --no-watch        serve: reload on SIGHUP only, not when the config file changes
`;

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
      write: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    out(usage);
    return command || values.help ? 0 : 2;
  }
  const configFile = values.config ?? process.env.DOCKER_WATCHER_CONFIG ?? 'docker-watcher.yml';
  const json = values.json;

  switch (command) {
    case 'check': {
      try {
        const config = loadConfigFile(configFile);
        const stages = config.projects.reduce((n, p) => n + Object.keys(p.stages).length, 0);
        const summary = {
          valid: true,
          file: configFile,
          registries: Object.keys(config.registries).length,
          projects: config.projects.length,
          stages,
          store: config.store.type,
          target: config.target.type,
        };
        out(
          json
            ? JSON.stringify(summary)
            : `${configFile} is valid: ${summary.registries} registries, ${summary.projects} projects, ${stages} stages (store ${summary.store}, target ${summary.target})`,
        );
        return 0;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (json) out(JSON.stringify({ valid: false, file: configFile, problems: error.problems }));
        else {
          err(`${configFile} has ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}:`);
          for (const p of error.problems) err(p.path ? `${p.path}: ${p.message}` : p.message);
        }
        return 1;
      }
    }
    case 'hash-password': {
      const password = await readPassword(process.stdin, process.stderr);
      const problem = passwordProblem(password);
      if (problem) {
        err(problem);
        return 1;
      }
      const hash = await hashPassword(password);
      out(json ? JSON.stringify({ hash }) : hash);
      return 0;
    }
    case 'schema': {
      if (values.write) writeFileSync(values.write, configJsonSchemaText());
      else process.stdout.write(configJsonSchemaText());
      return 0;
    }
    case 'notify':
      return notifyCommand(args, { configFile, json, out, err });
    case 'serve': {
      handleSignals(await startServer({ configFile, watch: values.watch }));
      return new Promise<number>(() => undefined);
    }
    default:
      return remote(command, args, values);
  }
}

/** The operational commands talk to a running server's API, so they see its live state. */
async function remote(
  command: string,
  args: string[],
  values: {
    url?: string | undefined;
    token?: string | undefined;
    json?: boolean | undefined;
    wait?: boolean | undefined;
  },
): Promise<number> {
  const base = (values.url ?? process.env.DOCKER_WATCHER_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const token = values.token ?? process.env.DOCKER_WATCHER_TOKEN;
  const [project, stage, extra] = args;
  const need = (count: number) => {
    if (args.length < count) throw new UsageError(`${command} needs <project> <stage>`);
  };
  const stagePath = () =>
    `/api/projects/${encodeURIComponent(project!)}/stages/${encodeURIComponent(stage!)}`;
  let request: { method: string; path: string; body?: unknown };
  switch (command) {
    case 'plan': {
      const query = new URLSearchParams({ ...(project ? { project } : {}), ...(stage ? { stage } : {}) });
      request = { method: 'GET', path: `/api/plan${query.size > 0 ? `?${query}` : ''}` };
      break;
    }
    case 'tags':
      need(2);
      request = { method: 'GET', path: `${stagePath()}/tags` };
      break;
    case 'deploy':
      need(2);
      request = { method: 'POST', path: `${stagePath()}/deploy`, body: extra ? { tag: extra } : {} };
      break;
    case 'promote':
      need(2);
      request = { method: 'POST', path: `${stagePath()}/promote`, body: extra ? { digest: extra } : {} };
      break;
    case 'rollback':
      need(2);
      request = { method: 'POST', path: `${stagePath()}/rollback`, body: {} };
      break;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
  const response = await fetch(`${base}${request.path}`, {
    method: request.method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(request.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(request.body ? { body: JSON.stringify(request.body) } : {}),
  });
  const data = (await response.json()) as Record<string, unknown>;
  const queued = response.ok ? (data.deploy as DeploySummary | undefined) : undefined;
  if (queued && values.wait !== false) return follow(base, token, queued, values.json === true);
  if (values.json) out(JSON.stringify(data));
  if (!response.ok) {
    const error = data.error as { code: string; message: string } | undefined;
    if (!values.json) err(`${error?.code ?? response.status}: ${error?.message ?? 'request failed'}`);
    return 1;
  }
  if (values.json) return 0;
  out(human(command, data));
  return 0;
}

/**
 * Follows a deploy to its end: progress (states and log lines) on stderr, the outcome on stdout
 * (with `--json`, only the final record, and no progress), exit 1 unless it succeeded.
 */
async function follow(base: string, token: string | undefined, queued: DeploySummary, json: boolean) {
  const progress = json ? () => undefined : err;
  progress(
    `deploy ${queued.id}: ${queued.release.tag} (${queued.release.digest}) to ${queued.project}/${queued.stage}`,
  );
  const deploy = await followDeploy({
    base,
    token,
    deployId: queued.id,
    onState: (state, note) => progress(`  ${state}${note ? `: ${note}` : ''}`),
    onLog: (line) => progress(`    ${line.level === 'info' ? '' : `${line.level}: `}${line.line}`),
  });
  if (json) out(JSON.stringify({ deploy }));
  else {
    out(`deploy ${deploy.id}: ${deploy.release.tag} (${deploy.release.digest}) ${deploy.state}`);
    if (deploy.error) err(`${deploy.error.code}: ${deploy.error.message}`);
  }
  return deploy.state === 'succeeded' ? 0 : 1;
}

function human(command: string, data: Record<string, unknown>): string {
  if (command === 'plan') {
    const plan = data.plan as Array<{
      project: string;
      stage: string;
      decision: { action: string; reason: string };
    }>;
    return plan.map((p) => `${p.project}/${p.stage}: ${p.decision.action} (${p.decision.reason})`).join('\n');
  }
  if (command === 'tags') {
    const t = data as { allowed: string[]; tags: string[]; selected?: string; reason: string };
    return `${t.allowed.length} of ${t.tags.length} tags allowed: ${t.allowed.join(', ')}\nselected: ${t.selected ?? 'none'} (${t.reason})`;
  }
  const deploy = data.deploy as { id: string; release: { tag: string; digest: string }; state: string };
  return `deploy ${deploy.id}: ${deploy.release.tag} (${deploy.release.digest}) ${deploy.state}`;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`${error.message}\n\n${usage}`);
      process.exitCode = 2;
    } else if (isCoreError(error)) {
      err(error.message);
      process.exitCode = 1;
    } else {
      err(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    }
  },
);
