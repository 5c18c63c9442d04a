import { CliError } from '../cli-api.ts';
import type { Command } from '../cli-commands.ts';

/** One container's migration, as `--json` gives it. */
export interface ContainerMigration {
  readonly container: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly notes: readonly string[];
}

/** Compose-style `labels:` lines; values quoted as YAML strings (JSON strings are valid YAML). */
export function formatMigrations(migrations: readonly ContainerMigration[]): string {
  if (migrations.length === 0) return 'No container has Watchtower or What’s Up Docker labels.';
  return migrations
    .map((m) =>
      [
        `${m.container}:`,
        '  labels:',
        ...Object.entries(m.labels).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}`),
        ...m.notes.map((note) => `  # ${note}`),
      ].join('\n'),
    )
    .join('\n\n');
}

/**
 * `docker-watcher migrate-labels [container…]`: reads the containers of the local Docker Engine
 * (`DOCKER_HOST`, else its socket) and prints the native labels equivalent to their Watchtower and
 * What's Up Docker labels. Changes nothing.
 */
export const migrateLabelsCommand: Command = {
  name: 'migrate-labels',
  args: '[container...]',
  summary: 'print the docker-watcher labels equivalent to Watchtower and What’s Up Docker labels',
  details:
    'Reads the containers of the Docker Engine at DOCKER_HOST (else /var/run/docker.sock), all of them or those named, and prints for each one with Watchtower or What’s Up Docker labels the native labels to put in its place, as compose `labels:`. Changes nothing. --json: { containers: [{ container, labels, notes }] }.',
  examples: ['docker-watcher migrate-labels', 'docker-watcher migrate-labels web api --json'],
  arity: [0, 64],
  remote: false,
  async run(context) {
    const { createDockerTarget, migrateLabels } = await import('@docker-watcher/target-docker');
    const target = createDockerTarget();
    try {
      const wanted = new Set(context.args);
      const containers = await target.docker.listContainers({ all: true });
      const migrations: ContainerMigration[] = [];
      const missing = new Set(wanted);
      for (const info of containers) {
        const container = (info.Names?.[0] ?? info.Id).replace(/^\//, '');
        missing.delete(container);
        if (wanted.size > 0 && !wanted.has(container)) continue;
        const migration = migrateLabels(info.Labels ?? {});
        if (migration) migrations.push({ container, ...migration });
      }
      if (missing.size > 0) {
        const names = [...missing].map((name) => JSON.stringify(name)).join(', ');
        throw new CliError('NOT_FOUND', `no container named ${names} on the Docker Engine`);
      }
      migrations.sort((a, b) => a.container.localeCompare(b.container));
      return { json: { containers: migrations }, text: formatMigrations(migrations) };
    } finally {
      await target.dispose();
    }
  },
};
