import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigProblem, legacyStageOptionsNote } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { inspectConfigText } from '../src/config/load.ts';

const planDir = join(import.meta.dirname, 'fixtures/plan');
const planText = readFileSync(join(planDir, 'docker-watcher.yml'), 'utf8');
const planEnv = { NPM_PASSWORD: 'npm-password-0123', GITEA_TOKEN: 'gitea-token-0123456789' };

const lines = (problems: readonly ConfigProblem[]) =>
  problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
const inspect = (text: string, env: Record<string, string> = planEnv, baseDir = planDir) =>
  inspectConfigText(text, env, { baseDir });

/** The plan's file with one value replaced (a YAML path as keys). */
function planWith(path: readonly (string | number)[], value: unknown): string {
  const document = parseDocument(planText);
  document.setIn(path, value);
  return document.toString();
}

/** Every scalar, list and mapping path of the plan's file. */
function planPaths(): Array<{ path: (string | number)[]; value: unknown }> {
  const out: Array<{ path: (string | number)[]; value: unknown }> = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (path.length > 0) out.push({ path, value });
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(parseDocument(planText).toJS(), []);
  return out;
}

const wrongValue = (value: unknown): unknown =>
  typeof value === 'string'
    ? 42
    : typeof value === 'number'
      ? 'forty-two'
      : typeof value === 'boolean'
        ? 'yes'
        : Array.isArray(value)
          ? 'a list'
          : 7;

describe('bad input: every problem in one run, with its path, in plain words', () => {
  it.each(
    planPaths()
      // Names of projects, stages and registries are keys: a wrong type there is a wrong mapping below.
      .filter(({ value }) => value === null || typeof value !== 'object' || Array.isArray(value)),
  )("reports $path of the plan's format in a wrong type", async ({ path, value }) => {
    const report = await inspect(planWith(path, wrongValue(value)));
    const at = path.join('.');
    expect(report.config).toBeUndefined();
    expect(
      report.problems.some((p) => p.path === at || p.path === `${at}_env`),
      lines(report.problems).join('\n'),
    ).toBe(true);
    for (const p of report.problems) expect(p.message).not.toMatch(/Invalid (type|key)|Expected never/);
  });

  it('reports an unknown key at every depth at once, with "did you mean" for near misses', async () => {
    const document = parseDocument(planText);
    document.setIn(['global', 'domian'], 'x');
    document.setIn(['global', 'npm', 'pasword_env'], 'X');
    document.setIn(['registries', 'gitea', 'tokn_env'], 'X');
    document.setIn(['projects', 'web-app-launcher', 'helthcheck'], '/x');
    document.setIn(['projects', 'web-app-launcher', 'stages', 'dev', 'auto_deplyo'], true);
    document.setIn(['projects', 'web-app-launcher', 'stages', 'prod', 'zzz'], 1);
    document.setIn(['colour'], 'blue');
    const report = await inspect(document.toString());
    // In the order of the file.
    expect(lines(report.problems)).toEqual([
      'global.npm.pasword_env: unknown key; did you mean password_env?',
      'global.domian: unknown key; did you mean domain?',
      'registries.gitea.tokn_env: unknown key; did you mean token_env?',
      'projects.web-app-launcher.stages.dev.auto_deplyo: unknown key; did you mean auto_deploy?',
      expect.stringMatching(
        /^projects\.web-app-launcher\.stages\.prod\.zzz: unknown key; known here: tag_pattern, policy/,
      ),
      'projects.web-app-launcher.helthcheck: unknown key; did you mean healthcheck?',
      'colour: unknown key; known here: global, registries, targets, projects, notify',
    ]);
  });

  it('says where a key of another level belongs', async () => {
    const document = parseDocument(planText);
    document.setIn(['store'], 'sqlite:./x.db');
    document.setIn(['projects', 'web-app-launcher', 'auto_deploy'], true);
    document.setIn(['projects', 'web-app-launcher', 'stages', 'dev', 'image'], 'x');
    document.setIn(['global', 'listen'], '0.0.0.0:8080');
    expect(lines((await inspect(document.toString())).problems)).toEqual([
      'global.listen: unknown key here; it belongs at global.server.listen',
      'projects.web-app-launcher.stages.dev.image: unknown key here; it belongs at projects.<project>.image',
      'projects.web-app-launcher.auto_deploy: unknown key here; it belongs at projects.<project>.stages.<stage>.auto_deploy',
      'store: unknown key here; it belongs at global.store',
    ]);
  });

  it('names a missing environment variable, and an unreadable or empty *_file, never a value', async () => {
    const missing = await inspect(planText, { GITEA_TOKEN: planEnv.GITEA_TOKEN });
    expect(lines(missing.problems)).toEqual([
      'global.npm.password_env: environment variable NPM_PASSWORD is not set',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'dw-secret-file-'));
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'token'), `${planEnv.GITEA_TOKEN}\n`);
    writeFileSync(join(dir, 'locked'), 'x');
    chmodSync(join(dir, 'locked'), 0o000);
    const viaFiles = (npm: string) =>
      inspect(
        planText
          .replace('password_env: NPM_PASSWORD', `password_file: ${npm}`)
          .replace('token_env: GITEA_TOKEN', `token_file: ${join(dir, 'token')}`),
        {},
        dir,
      );
    expect(lines((await viaFiles('./nope')).problems)).toEqual([
      `global.npm.password_file: cannot read ./nope (ENOENT)`,
    ]);
    expect(lines((await viaFiles('empty')).problems)).toEqual(['global.npm.password_file: empty is empty']);
    // Root reads any file: only a non-root user sees EACCES.
    if (process.getuid?.() !== 0)
      expect(lines((await viaFiles('locked')).problems)).toEqual([
        'global.npm.password_file: cannot read locked (EACCES)',
      ]);
    writeFileSync(join(dir, 'npm'), 'npm-password-from-a-file\n');
    const good = await viaFiles('npm');
    expect(good.problems).toEqual([]);
    // The final newline of a mounted secret is not part of it.
    expect(good.config!.proxy!.options.password).toBe('npm-password-from-a-file');
    expect(good.config!.registries.gitea!.options.token).toBe(planEnv.GITEA_TOKEN);
    expect(good.config!.secrets).toContain('npm-password-from-a-file');
  });

  it('warns about a secret written in plain text, naming the key and never the value', async () => {
    const report = await inspect(
      planText
        .replace('password_env: NPM_PASSWORD', 'password: plain-npm-secret-77')
        .replace('token_env: GITEA_TOKEN', 'token: plain-gitea-secret-88'),
    );
    expect(report.problems).toEqual([]);
    expect(lines(report.warnings)).toEqual([
      'global.npm.password: a secret written in the config file: put it in an environment variable (password_env) or a file (password_file)',
      'registries.gitea.token: a secret written in the config file: put it in an environment variable (token_env) or a file (token_file)',
    ]);
    expect(JSON.stringify(report.warnings)).not.toMatch(/plain-(npm|gitea)-secret/);
    expect(report.config!.secrets).toEqual(
      expect.arrayContaining(['plain-npm-secret-77', 'plain-gitea-secret-88']),
    );
  });

  it('reads *_env at any depth, Docker registry credentials included, and refuses two spellings at once', async () => {
    const text = planText.replace(
      '  notification_url',
      [
        '  target:',
        '    type: docker',
        '    auth:',
        '      ghcr.io: { username: bot, password_env: GHCR_PULL }',
        '      quay.io: { username: bot, password: a, password_env: QUAY_PULL }',
        '  notification_url',
      ].join('\n'),
    );
    const report = await inspect(text, {
      ...planEnv,
      GHCR_PULL: 'ghcr-pull-token',
      QUAY_PULL: 'quay-pull-token',
    });
    expect(lines(report.problems)).toEqual([
      'global.target.auth.quay.io.password_env: set only one of password, password_env',
    ]);
    const fixed = await inspect(text.replace('password: a, ', ''), {
      ...planEnv,
      GHCR_PULL: 'ghcr-pull-token',
      QUAY_PULL: 'quay-pull-token',
    });
    expect((fixed.config!.target.options as { auth: unknown }).auth).toMatchObject({
      'ghcr.io': { username: 'bot', password: 'ghcr-pull-token' },
      'quay.io': { username: 'bot', password: 'quay-pull-token' },
    });
  });

  it('accepts camelCase where it worked before, with a deprecation warning, and the old `options` block', async () => {
    const text = `
global:
  target: { type: docker, stopTimeoutSeconds: 3, stages: { web/dev: { envFiles: [/etc/a.env] } } }
registries:
  hub: { type: oci, url: https://registry-1.docker.io, options: { defaultNamespace: library, pageSize: 100 } }
projects:
  web: { registry: hub, image: nginx, stages: { dev: { policy: { semver: "^1", sameShape: false } } } }
`;
    const report = await inspect(text, {});
    expect(report.problems).toEqual([]);
    expect(lines(report.warnings)).toEqual([
      'registries.hub.options: is deprecated: write its keys on the registry itself, in snake_case',
      'global.target.stopTimeoutSeconds: camelCase keys are deprecated: write stop_timeout_seconds',
      'global.target.stages.web/dev.envFiles: camelCase keys are deprecated: write env_files',
      'registries.hub.defaultNamespace: camelCase keys are deprecated: write default_namespace',
      'registries.hub.pageSize: camelCase keys are deprecated: write page_size',
      'projects.web.stages.dev.policy.sameShape: camelCase keys are deprecated: write same_shape',
      `global.target.stages: ${legacyStageOptionsNote}`,
    ]);
    expect(report.config!.target.options).toMatchObject({
      stopTimeoutSeconds: 3,
      stages: { 'web/dev': { envFiles: ['/etc/a.env'] } },
    });
    expect(report.config!.registries.hub!.options).toMatchObject({
      defaultNamespace: 'library',
      pageSize: 100,
    });
  });

  it.each([
    [
      'promote_from naming itself',
      'promote_from: rel',
      'promote_from: prod',
      'projects.web-app-launcher.stages.prod.promote_from: a stage cannot promote from itself',
    ],
    [
      'promote_from a missing stage',
      'promote_from: rel',
      'promote_from: qa',
      'projects.web-app-launcher.stages.prod.promote_from: no stage "qa" in project web-app-launcher; its stages: dev, rel',
    ],
    [
      'a promotion cycle',
      'rel: { tag_pattern: "v*", auto_deploy: false }',
      'rel: { tag_pattern: "v*", promote_from: prod }',
      'projects.web-app-launcher.stages.prod.promote_from: promotions must not go round in a circle',
    ],
    [
      'an invalid glob',
      '"dev-*"',
      '"dev-[*"',
      'projects.web-app-launcher.stages.dev.tag_pattern: Invalid glob: "[" at position 5 is never closed (escape it with \\ to match it literally)',
    ],
    [
      'an invalid semver range',
      'dev: { tag_pattern: "dev-*"',
      'dev: { policy: { semver: "^^1" }',
      'projects.web-app-launcher.stages.dev.policy.semver: Invalid semver range',
    ],
    [
      'an invalid regex',
      'dev: { tag_pattern: "dev-*"',
      'dev: { policy: { include: "(" }',
      'projects.web-app-launcher.stages.dev.policy.include: Invalid regular expression',
    ],
    [
      'a catastrophic regex',
      'dev: { tag_pattern: "dev-*"',
      'dev: { policy: { include: "^(a+)+$" }',
      'projects.web-app-launcher.stages.dev.policy.include: can take exponential time on a crafted tag',
    ],
    [
      'an image with spaces and empty parts',
      'git.example.com/alexei/web-app-launcher',
      '"REG TEST//web::"',
      'projects.web-app-launcher.image: must be an image name',
    ],
    [
      'an image with a tag',
      'git.example.com/alexei/web-app-launcher',
      'git.example.com/alexei/web-app-launcher:v1',
      "projects.web-app-launcher.image: must not carry a tag or digest: the stage's policy picks the tag",
    ],
  ])('refuses %s', async (_name, from, to, expected) => {
    expect(planText).toContain(from);
    const problems = lines((await inspect(planText.replace(from, to))).problems);
    expect(
      problems.some((p) => p.startsWith(expected)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('refuses one host for two stages: the same subdomain in two projects, or a subdomain equal to a default host', async () => {
    const second = `
  other:
    registry: gitea
    image: git.example.com/alexei/other
    stages:
      prod: { tag_pattern: "v*", subdomain: launcher }
      dev: { tag_pattern: "dev-*", subdomain: stage-dev-web-app-launcher }
`;
    expect(lines((await inspect(planText + second)).problems)).toEqual([
      "projects.other.stages.prod.subdomain: the host launcher.example.com is projects.web-app-launcher.stages.prod's already; each stage needs its own",
      "projects.other.stages.dev.subdomain: the host stage-dev-web-app-launcher.example.com is projects.web-app-launcher.stages.dev's already; each stage needs its own",
    ]);
  });

  it('refuses one token value under two names, never showing it', async () => {
    const text = `${planText.replace('global:', 'global:\n  server:\n    tokens:\n      - { name: ci, token_env: T1, scopes: [deploy] }\n      - { name: ops, token_env: T2, scopes: [admin] }')}`;
    const report = await inspect(text, {
      ...planEnv,
      T1: 'same-token-value-0123',
      T2: 'same-token-value-0123',
    });
    expect(lines(report.problems)).toEqual([
      'global.server.tokens.1.token_env: the same token value as tokens.0 (ci): each token needs its own',
    ]);
    expect(JSON.stringify(report)).not.toContain('same-token-value');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype'])(
    'refuses %s as a project, stage or registry name instead of dropping it',
    async (reserved) => {
      const text = `
registries:
  ${reserved}: { type: memory }
  local: { type: memory }
projects:
  ${reserved}: { registry: local, image: a, stages: { dev: {} } }
  web:
    registry: local
    image: web
    stages:
      ${reserved}: { tag_pattern: "v*" }
      dev: { tag_pattern: "dev-*" }
`;
      const problems = lines((await inspect(text, {})).problems);
      const message = `"${reserved}" cannot be used as a name: JavaScript gives it a meaning of its own; choose another`;
      expect(problems).toEqual([
        `registries.${reserved}: ${message}`,
        `projects.${reserved}: ${message}`,
        `projects.web.stages.${reserved}: ${message}`,
      ]);
    },
  );

  it('refuses a reference to a prototype name instead of finding a function', async () => {
    const text = planText.replace('registry: gitea', 'registry: toString');
    expect(lines((await inspect(text)).problems)).toEqual([
      'projects.web-app-launcher.registry: no registry named "toString"; known: gitea',
    ]);
  });

  it('warns about settings that do nothing', async () => {
    const text = `
global:
  subdomain_pattern: "{stage}-{project}"
  target: { type: memory }
  notification_secret_env: HOOK_KEY
  poll_interval_seconds: 0
  server: { session: { idle_timeout_seconds: 600 } }
  network: apps
registries:
  local: { type: memory }
projects:
  web:
    registry: local
    image: web
    volumes: ["./data:/data"]
    stages:
      dev: { tag_pattern: "dev-*", subdomain: dev }
      prod: { tag_pattern: "v*", promote_from: dev, confirm: true, pinned_tag: v1 }
`;
    const report = await inspect(text, { HOOK_KEY: 'hook-key-value' });
    expect(report.problems).toEqual([]);
    expect(lines(report.warnings)).toEqual([
      'projects.web: volumes do nothing with the memory target',
      'projects.web.stages.prod.tag_pattern: nothing can be deployed here: dev takes dev-* tags, which v* never allows',
      'projects.web.stages.prod.pinned_tag: does nothing on a stage that promotes from dev',
      'global.network: does nothing with the memory target (it applies to the docker target)',
      'global.subdomain_pattern: does nothing without global.domain (stages get no host)',
      'projects.web.stages.dev.subdomain: does nothing without global.domain (the stage gets no host)',
      'global.notification_secret: does nothing without global.notification_url',
      'global.poll_interval_seconds: is 0 (webhooks only), but no registry takes webhooks (webhook_secret_env): new tags are never noticed',
      'global.server.session: does nothing without global.server.users (there is no dashboard login)',
    ]);
  });

  it('refuses env_file and volumes where no Docker target applies them', async () => {
    const text = planText.replace(
      '  notification_url',
      '  target: { type: nomad, jobs: { "*": { job: "{project}-{stage}" } } }\n  notification_url',
    );
    expect(lines((await inspect(text)).problems)).toContain(
      'projects.web-app-launcher: env_file and volumes need the docker target (global.target.type is nomad)',
    );
  });

  it('checks each stage against its own target: a name not in targets, settings that target cannot apply', async () => {
    const withTargets = planText
      .replace(
        'projects:',
        'targets:\n  nomad: { type: nomad, jobs: { "*": { job: "{project}-{stage}" } } }\nprojects:',
      )
      .replace('    env_file: ./envs/web-app-launcher.env\n    volumes: []\n', '');
    const valid = await inspect(withTargets.replace('confirm: true,', 'confirm: true, target: nomad,'));
    expect(lines(valid.problems)).toEqual([]);
    expect([...valid.config!.stageTargets]).toEqual([['web-app-launcher/prod', 'nomad']]);
    expect([...valid.config!.targets.keys()]).toEqual(['nomad']);
    expect(
      lines(
        (await inspect(withTargets.replace('confirm: true,', 'confirm: true, target: nomadd,'))).problems,
      ),
    ).toEqual(['projects.web-app-launcher.stages.prod.target: no target named "nomadd"; known: nomad']);
    const onNomad = withTargets.replace(
      'confirm: true,',
      'confirm: true, target: nomad, env_file: ./envs/web-app-launcher.env,',
    );
    expect(lines((await inspect(onNomad)).problems)).toEqual([
      'projects.web-app-launcher.stages.prod: env_file need the docker target (targets.nomad.type is nomad)',
    ]);
  });

  it("checks the options a stage gives its target with that target's stage options, at the stage's path", async () => {
    const withTargets = planText.replace(
      'projects:',
      'targets:\n  nomad: { type: nomad }\n  mem: { type: memory }\nprojects:',
    );
    const given = (target: string) =>
      inspect(withTargets.replace('confirm: true,', `confirm: true, target: ${target},`));
    const valid = await given('{ publish: 8080, restart_policy: always, env: { MODE: prod } }');
    expect(lines(valid.problems)).toEqual([]);
    expect(valid.config!.stageOptions.get('web-app-launcher/prod')).toEqual({
      publish: 8080,
      restartPolicy: 'always',
      env: { MODE: 'prod' },
      // The project's env_file and volumes join the stage's own options.
      envFiles: [expect.stringMatching(/web-app-launcher\.env$/)],
      volumes: [],
    });
    // A fixed host port rules out two releases at once: this stage recreates, and asking it for blue-green is refused.
    expect(valid.config!.projects[0]!.stages.prod!.deploy.strategy).toBe('recreate');
    expect(valid.config!.projects[0]!.stages.dev!.deploy.strategy).toBeUndefined();
    const blueGreen = await inspect(
      withTargets
        .replace('port: 3000', 'port: 3000\n    strategy: blue-green')
        .replace('confirm: true,', 'confirm: true, target: { publish: 8080 },'),
    );
    expect(lines(blueGreen.problems)).toEqual([
      'projects.web-app-launcher.stages.prod.target: blue-green runs two releases at once, but this stage publishes the fixed host port 8080: use strategy recreate',
    ]);
    // The project's env_file goes into the stage's own options: a stage that sets them there too keeps one.
    expect(lines((await given('{ env_files: [/etc/own.env] }')).problems)).toEqual([
      'projects.web-app-launcher.env_file: projects.web-app-launcher.stages.prod.target.env_files sets it too: keep one',
    ]);
    expect(lines((await given('{ publish: "eighty" }')).problems)).toEqual([
      expect.stringMatching(/^projects\.web-app-launcher\.stages\.prod\.target\.publish: /),
    ]);
    expect(lines((await given('{ publsh: 8080 }')).problems)).toEqual([
      expect.stringMatching(
        /^projects\.web-app-launcher\.stages\.prod\.target\.publsh: unknown key; the docker target's stage options are: env, env_files, /,
      ),
    ]);
    expect(lines((await given('{ name: nomad, publish: 8080 }')).problems)).toEqual([
      "projects.web-app-launcher.stages.prod.target.publish: unknown key; the nomad target's stage options are: job, group, task, promote, endpoint",
      'projects.web-app-launcher.stages.prod.target.job: is required',
    ]);
    expect(lines((await given('{ name: mem, publish: 8080 }')).problems)).toEqual([
      'projects.web-app-launcher.stages.prod.target.publish: unknown key; the memory target takes no stage options',
    ]);
    expect(lines((await given('{ name: nomadd }')).problems)).toEqual([
      'projects.web-app-launcher.stages.prod.target.name: no target named "nomadd"; known: nomad, mem',
    ]);
    // The old keyed form still loads, with a warning that names the new place.
    const old = await inspect(
      planText.replace(
        '  notification_url',
        '  target: { type: docker, stages: { prod: { publish: 8080 } } }\n  notification_url',
      ),
    );
    expect(lines(old.problems)).toEqual([]);
    expect(lines(old.warnings)).toContain(`global.target.stages: ${legacyStageOptionsNote}`);
  });

  it('reports a missing registries section once, and a wrong registry name beside a broken registry', async () => {
    const withoutSection = planText.replace(/registries:\n.*\n/, '');
    expect(lines((await inspect(withoutSection)).problems)).toEqual(['registries: is required']);
    expect(
      lines((await inspect(withoutSection.replace('projects:', 'registries: 7\nprojects:'))).problems),
    ).toEqual(['registries: must be a mapping (key: value), not 7']);
    const text = planText
      .replace('url: https://git.example.com', 'url: 5')
      .replace('registry: gitea', 'registry: giteaa');
    expect(lines((await inspect(text)).problems)).toEqual([
      'registries.gitea.url: must be text, not 5',
      'projects.web-app-launcher.registry: no registry named "giteaa"; known: gitea',
    ]);
  });

  it('reports shape and cross-field problems of different sections together', async () => {
    const text = planText.replace('port: 3000', 'port: "3000"').replace('registry: gitea', 'registry: nope');
    expect(lines((await inspect(text)).problems)).toEqual([
      'projects.web-app-launcher.port: must be a number, not the text "3000"',
      'projects.web-app-launcher.registry: no registry named "nope"; known: gitea',
    ]);
  });
});
