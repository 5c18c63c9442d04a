import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { loadAllAdapters } from '../src/adapters.ts';
import { configJsonSchemaText } from '../src/config/json-schema.ts';
import { loadConfigText, repositoryOf } from '../src/config/load.ts';
import { configReferenceText } from '../src/config/reference.ts';
import { configText, env } from './support.ts';

const root = join(import.meta.dirname, '../../..');

async function problemsOf(text: string, environment: Record<string, string> = env): Promise<string[]> {
  try {
    await loadConfigText(text, environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n').slice(1);
    throw error;
  }
  return [];
}

const base = (projects: string, extra = '') => `
${extra}
registries:
  local: { type: memory }
projects:
${projects}
`;

describe('config', () => {
  it('accepts every example config', async () => {
    const dir = join(root, 'examples/configs');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    // Each variable a value of its own (one token value under two names is refused); none of the
    // server's DOCKER_WATCHER_* settings.
    const exampleEnv = new Proxy({} as Record<string, string>, {
      get: (_, key) =>
        String(key).startsWith('DOCKER_WATCHER_') ? undefined : `example-${String(key)}-secret-value`,
    });
    for (const file of files) {
      await expect(
        loadConfigText(readFileSync(join(dir, file), 'utf8'), exampleEnv),
        file,
      ).resolves.toBeDefined();
    }
  });

  it("composes Gitea and GHCR registries and a PostgreSQL store from the plan's keys", async () => {
    const text = `
global:
  store: postgres://watcher@127.0.0.1:5432/watcher
registries:
  gitea: { url: https://git.example.test, type: gitea, username: ci, token_env: GITEA_TOKEN, webhook_secret_env: GITEA_HOOK }
  ghcr: { type: ghcr, username: ci, token_env: GHCR_TOKEN }
projects:
  web-app:
    registry: gitea
    image: git.example.test/team/web-app
    stages:
      dev: { tag_pattern: "dev-*", auto_deploy: true }
  api:
    registry: ghcr
    image: ghcr.io/team/api
    stages:
      prod: { tag_pattern: "v*" }
`;
    expect(
      await problemsOf(text, {
        GITEA_TOKEN: 'gitea-token-1234567890',
        GITEA_HOOK: 'hook-secret-1234',
        GHCR_TOKEN: 'ghp_1234567890',
      }),
    ).toEqual([]);
    const missing = await problemsOf(text, {});
    expect(missing.join('\n')).toContain('registries.gitea.token_env');
    expect(missing.join('\n')).not.toContain('gitea-token');
  });

  it("composes the plan's Nginx Proxy Manager block and a Caddy proxy", async () => {
    const npm = base(
      '  web:\n    registry: local\n    image: web\n    stages:\n      dev: { tag_pattern: "dev-*" }',
      'global:\n  npm: { url: http://npm:81, email: watcher@example.test, password_env: NPM_PASSWORD }',
    );
    expect(await problemsOf(npm, { NPM_PASSWORD: 'npm-password-123' })).toEqual([]);
    expect((await problemsOf(npm, {})).join('\n')).toContain('global.npm.password_env');
    const caddy = base(
      '  web:\n    registry: local\n    image: web\n    stages:\n      dev: { tag_pattern: "dev-*" }',
      'global:\n  proxy: { type: caddy, admin_url: http://127.0.0.1:2019 }',
    );
    expect(await problemsOf(caddy)).toEqual([]);
  });

  it('resolves stages into engine projects with hosts, policies and defaults', async () => {
    const config = await loadConfigText(configText, env);
    const project = config.projects[0]!;
    expect(project.repository).toBe('team/web-app');
    expect(project.stages.dev!.deploy.host).toBe('stage-dev-web-app.example.test');
    expect(project.stages.prod!.deploy.host).toBe('app.example.test');
    expect(project.stages.prod!.promoteFrom).toBe('rel');
    expect(project.stages.dev!.policy.allows('dev-1')).toBe(true);
    expect(project.stages.dev!.policy.allows('v1.0.0')).toBe(false);
    expect(config.tokens.map((t) => t.name)).toEqual(['reader', 'deployer', 'admin']);
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it("gives a project's step deadlines to each of its stages' deploys, and refuses one too short", async () => {
    const config = await loadConfigText(
      base(
        `  api:\n    registry: local\n    image: api\n    deadlines: { pull_ms: 5000, rollback_ms: 20000 }\n    stages:\n      dev: { tag_pattern: 'dev-*' }\n      prod: {}`,
      ),
      env,
    );
    for (const stage of Object.values(config.projects[0]!.stages))
      expect(stage.deploy.deadlines).toEqual({ pullMs: 5000, rollbackMs: 20000 });
    expect(
      (
        await problemsOf(
          base(
            `  api:\n    registry: local\n    image: api\n    deadlines: { pull_ms: 5 }\n    stages:\n      dev: {}`,
          ),
        )
      ).join('\n'),
    ).toContain('projects.api.deadlines.pull_ms: must be at least 100 ms');
  });

  it('takes the webhook coalescing window from global.webhook_coalesce_ms, 250 ms by default, and refuses one out of range', async () => {
    const projects = `  api:\n    registry: local\n    image: api\n    stages:\n      dev: {}`;
    expect((await loadConfigText(base(projects), env)).webhookCoalesceMs).toBe(250);
    expect(
      (await loadConfigText(base(projects, 'global:\n  webhook_coalesce_ms: 0'), env)).webhookCoalesceMs,
    ).toBe(0);
    expect((await problemsOf(base(projects, 'global:\n  webhook_coalesce_ms: 60000'))).join('\n')).toContain(
      'global.webhook_coalesce_ms: must be at most 10000 ms',
    );
  });

  it("takes the retry pause from global.retry_pause_ms, a project's own winning, and refuses one out of range", async () => {
    const projects = `  api:\n    registry: local\n    image: api\n    retry_pause_ms: 5000\n    stages:\n      dev: {}\n      prod: {}\n  web:\n    registry: local\n    image: web\n    stages:\n      dev: {}`;
    const defaults = await loadConfigText(base(projects), env);
    expect(defaults.deployRetryBaseMs).toBe(30_000);
    const config = await loadConfigText(base(projects, 'global:\n  retry_pause_ms: 120000'), env);
    expect(config.deployRetryBaseMs).toBe(120_000);
    const [api, web] = config.projects;
    for (const stage of Object.values(api!.stages)) expect(stage.deployRetryBaseMs).toBe(5_000);
    expect(web!.stages.dev!.deployRetryBaseMs).toBeUndefined();
    const refused = async (global: string, project: string) =>
      (
        await problemsOf(
          base(
            `  api:\n    registry: local\n    image: api\n    retry_pause_ms: ${project}\n    stages:\n      dev: {}`,
            `global:\n  retry_pause_ms: ${global}`,
          ),
        )
      ).join('\n');
    expect(await refused('0', '-5')).toMatch(
      /global\.retry_pause_ms: must be at least 100 ms[\s\S]*projects\.api\.retry_pause_ms: must be at least 100 ms/,
    );
    expect(await refused('2000000', '1.5')).toMatch(
      /global\.retry_pause_ms: must be at most 1800000 ms \(30 min[\s\S]*projects\.api\.retry_pause_ms: /,
    );
    expect(await refused('"30s"', '1000')).toMatch(/global\.retry_pause_ms: /);
  });

  it('follows the newest vX.Y.Z without a pattern, like registrywatcher, and keeps pins', async () => {
    const config = await loadConfigText(
      base(
        `  api:\n    registry: local\n    image: api\n    stages:\n      prod: { pinned_tag: v1.2.3-hotfix }`,
      ),
      env,
    );
    const stage = config.projects[0]!.stages.prod!;
    expect(stage.pin).toBe('v1.2.3-hotfix');
    expect(stage.policy.select({ tags: ['v1.2.0', 'v1.10.0', 'v2.0.0-rc.1', 'latest'] })?.tag).toBe(
      'v1.10.0',
    );
  });

  it.each([
    [
      'promote_from a missing stage',
      base(`  web-app:\n    registry: local\n    image: x\n    stages:\n      prod: { promote_from: qa }`),
      'projects.web-app.stages.prod.promote_from: no stage "qa" in project web-app',
    ],
    [
      'promote_from itself',
      base(`  web-app:\n    registry: local\n    image: x\n    stages:\n      prod: { promote_from: prod }`),
      'projects.web-app.stages.prod.promote_from: a stage cannot promote from itself',
    ],
    [
      'promotion circle',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: { promote_from: b }\n      b: { promote_from: a }`,
      ),
      'projects.w.stages.a.promote_from: promotions must not go round in a circle',
    ],
    [
      'unknown registry',
      base(`  w:\n    registry: nope\n    image: x\n    stages:\n      a: {}`),
      'projects.w.registry: no registry named "nope"; known: local',
    ],
    [
      'bad regex in a policy',
      base(`  w:\n    registry: local\n    image: x\n    stages:\n      a: { policy: { include: "(" } }`),
      'projects.w.stages.a.policy.include: Invalid regular expression: /(/: Unterminated group',
    ],
    [
      'bad semver range',
      base(`  w:\n    registry: local\n    image: x\n    stages:\n      a: { policy: { semver: "^^1" } }`),
      'projects.w.stages.a.policy.semver:',
    ],
    [
      'tag_pattern and policy',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: { tag_pattern: "v*", policy: { pattern: "v*" } }`,
      ),
      'projects.w.stages.a.policy: set tag_pattern or policy, not both',
    ],
    [
      'unknown key',
      base(`  w:\n    registry: local\n    image: x\n    stages:\n      a: { tag_patern: "v*" }`),
      'projects.w.stages.a.tag_patern: unknown key; did you mean tag_pattern?',
    ],
    [
      'wrong type',
      base(`  w:\n    registry: local\n    image: x\n    port: "80"\n    stages:\n      a: {}`),
      'projects.w.port: must be a number, not the text "80"',
    ],
    [
      'no stages',
      base(`  w:\n    registry: local\n    image: x\n    stages: {}`),
      'projects.w.stages: a project needs at least one stage',
    ],
    [
      'missing env var',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: {}`,
        `global:\n  server:\n    tokens: [{ name: ci, token_env: MISSING_TOKEN, scopes: [deploy] }]`,
      ),
      'global.server.tokens.0.token_env: environment variable MISSING_TOKEN is not set',
    ],
    [
      'bad scope',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: {}`,
        `global:\n  server:\n    tokens: [{ name: ci, token_env: DW_ADMIN, scopes: [root] }]`,
      ),
      'global.server.tokens.0.scopes.0: must be one of read, deploy, admin, not the text "root"',
    ],
    [
      'bad proxy option',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: {}`,
        `global:\n  proxy: { type: caddy, tls: maybe }`,
      ),
      'global.proxy.tls: ',
    ],
    [
      'bad adapter option',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: {}`,
        `global:\n  target: { type: memory, base_port: -1 }`,
      ),
      'global.target.base_port: must be at least 1, not -1',
    ],
    [
      'bad store',
      base(
        `  w:\n    registry: local\n    image: x\n    stages:\n      a: {}`,
        `global:\n  store: mysql://x`,
      ),
      'global.store: must be sqlite:<file>, a postgres:// URL or memory:',
    ],
    ['YAML syntax', 'projects: {\n  a: [', 'line '],
  ])('reports %s with its path', async (_name, text, expected) => {
    const problems = await problemsOf(text);
    expect(
      problems.some((line) => line.startsWith(expected)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('reports every cross-field problem at once (after the shape of the file is right)', async () => {
    const problems = await problemsOf(
      base(
        `  w:\n    registry: nope\n    image: x\n    stages:\n      a: { promote_from: qa }\n      b: { tag_pattern: "v*", policy: { pattern: "v*" } }`,
      ),
    );
    expect(problems).toEqual([
      'projects.w.registry: no registry named "nope"; known: local',
      'projects.w.stages.a.promote_from: no stage "qa" in project w; its stages: b',
      'projects.w.stages.b.policy: set tag_pattern or policy, not both',
    ]);
  });

  it('reports every shape problem at once', async () => {
    const problems = await problemsOf(
      base(
        `  w:\n    registry: 1\n    image: x\n    port: 0\n    stages:\n      a: { policy: { include: "(" } }`,
      ),
    );
    expect(problems).toHaveLength(3);
  });

  it('never puts a secret value into a message', async () => {
    const text = base(
      `  w:\n    registry: local\n    image: x\n    stages:\n      a: {}`,
      `global:\n  server:\n    tokens: [{ name: ci, token_env: SHORT, scopes: [deploy] }]`,
    );
    const problems = await problemsOf(text, { SHORT: 'tiny-secret' });
    expect(problems).toEqual([
      'global.server.tokens.0.token_env: the value of SHORT: is too short (at least 16 characters)',
    ]);
    expect(problems.join('\n')).not.toContain('tiny-secret');
  });

  it('reads repositories from images', async () => {
    expect(repositoryOf('git.example.com/team/web-app')).toBe('team/web-app');
    expect(repositoryOf('localhost:5000/app')).toBe('app');
    expect(repositoryOf('team/web-app')).toBe('team/web-app');
  });

  it('publishes the JSON Schema in config.schema.json', async () => {
    const file = join(import.meta.dirname, '../config.schema.json');
    const published = readFileSync(file, 'utf8');
    // Compared as JSON: Biome may format the file.
    expect(
      JSON.stringify(JSON.parse(published)) === JSON.stringify(JSON.parse(await configJsonSchemaText())),
      'apps/server/config.schema.json is stale: run `pnpm --filter @docker-watcher/server schema` to regenerate it',
    ).toBe(true);
    const schema = JSON.parse(published) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(['global', 'registries', 'targets', 'projects', 'notify']);
  });

  it('publishes the complete config reference in docs/config-reference.md', async () => {
    const published = readFileSync(join(root, 'docs/config-reference.md'), 'utf8');
    expect(
      published === (await configReferenceText()),
      'docs/config-reference.md is stale: run `pnpm --filter @docker-watcher/server schema` to regenerate it',
    ).toBe(true);
  });

  it('lists the stage options of each target type under the stage target section of the reference', async () => {
    const reference = await configReferenceText();
    const section = (type: string) => {
      const start = reference.indexOf(`On a target of \`type: ${type}\`: the options a stage gives it`);
      return start === -1 ? '' : reference.slice(start, reference.indexOf('\n## ', start));
    };
    for (const key of ['env_files', 'restart_policy', 'publish'])
      expect(section('docker')).toContain(`| \`${key}\` |`);
    for (const key of ['job', 'group', 'task', 'promote'])
      expect(section('nomad')).toContain(`| \`${key}\` |`);
    // A target without stage options gets no such section.
    expect(section('memory')).toBe('');
  });

  it("covers every adapter's options in the JSON Schema and the reference, in the file's spelling", async () => {
    const schema = JSON.parse(await configJsonSchemaText()) as Record<string, unknown>;
    const reference = await configReferenceText();
    const adapters = await loadAllAdapters();
    const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    type Json = {
      properties?: Record<string, Json>;
      oneOf?: Json[];
      anyOf?: Json[];
      additionalProperties?: Json;
    };
    const at = (value: Json, ...keys: string[]) => keys.reduce<Json>((v, k) => v.properties![k]!, value);
    const variants = (section: Json) => [
      ...(section.oneOf ?? []),
      ...(section.anyOf ?? []).flatMap((s) => s.oneOf ?? []),
    ];
    const sections: Array<
      [ReadonlyMap<string, { definition: { options: unknown; secrets: readonly string[] } }>, Json[]]
    > = [
      [adapters.registry, variants(at(schema as Json, 'registries').additionalProperties!)],
      [adapters.target, variants(at(schema as Json, 'global', 'target'))],
      [adapters.proxy, variants(at(schema as Json, 'global', 'proxy'))],
      [adapters.store, variants(at(schema as Json, 'global', 'store'))],
    ];
    let checked = 0;
    for (const [table, options] of sections) {
      for (const [type, { definition }] of table) {
        const variant = options.find(
          (o) => (o.properties?.type as { const?: string } | undefined)?.const === type,
        );
        expect(variant, type).toBeDefined();
        const entries = definition.options as {
          entries?: Record<string, unknown>;
          pipe?: Array<{ entries?: Record<string, unknown> }>;
        };
        const keys = Object.keys(entries.entries ?? entries.pipe?.[0]?.entries ?? {});
        for (const key of keys) {
          const name = snake(key);
          // Secret lists (`previous_keys`) stay lists: only single values come from a variable or a file.
          const secret =
            definition.secrets.includes(key) &&
            (variant!.properties![name] as { type?: string } | undefined)?.type !== 'array';
          expect(Object.keys(variant!.properties!), `${type}.${name}`).toContain(name);
          if (secret)
            expect(Object.keys(variant!.properties!), `${type}.${name}_env`).toContain(`${name}_env`);
          expect(reference, `${type}.${name}`).toContain(
            `| \`${secret && reference.includes(`\`${name}_env\``) ? `${name}_env` : name}\` |`,
          );
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
  });
});
